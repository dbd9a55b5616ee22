"""Does DiffusionAVS's decoder use its latent? Test metrics per latent.

Tests a checkpoint of a model with a latent neck on the config's test split
once per row, changing only the latent fused into the deepest level
(``LatentNeck.latent_source``) or how it is sampled:

- ``sampled``: the latent model's sample (the config's DDIM steps, one
  sample): the model as tested;
- ``oracle``: E_phi of the true mask (what the latent would be if the
  sampler were perfect): an upper bound on what the latent can add;
- ``zero``, ``noise`` (the sampler's normalised starting noise) and
  ``other clip`` (the sampled latent of another clip of the batch): a
  decoder that uses its latent loses mIoU here;
- ``sampled`` with 1 / 5 / 10 / 20 DDIM steps (steps above the training
  steps K are left out) and with 5 samples averaged.

Protocol-A mIoU and F-score (``AVSMetric``), independent of the batch size.

Example::

    python tools/analysis_tools/latent_ablation.py \
        configs/diffavs/diffavs_r18-w32_1xb4-13e_synthetic-ms3-512clips-64x64.py \
        work_dirs/main_job/.../best_mIoU_epoch_13.pth --json ablation.json
"""
import argparse
import contextlib
import json
from typing import List, Optional, Sequence

import torch

import mmavs  # noqa: F401
from mmengine.config import Config, DictAction
from mmengine.evaluator import Evaluator
from mmengine.runner import Runner

from mmavs.apis import init_avs_model

ROW_TITLES = dict(sampled='sampled', oracle='oracle: E_phi(true mask)',
                  zero='zero', noise='noise (z_K, normalised)',
                  other_clip='another clip\'s')


def parse_args(argv: Optional[Sequence[str]] = None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--steps', type=int, nargs='+', default=[1, 5, 10, 20],
                        help='DDIM step counts to test')
    parser.add_argument('--samples', type=int, nargs='+', default=[1, 5],
                        help='latent samples averaged per frame')
    parser.add_argument('--device', default=None,
                        help='default: cuda if available, else cpu')
    parser.add_argument('--json', help='also write the rows here')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(argv)


def batch_size_for(num_clips: int, wanted: int) -> int:
    """At least two clips per batch, and no batch of one clip (another
    clip's latent needs a second clip in every batch)."""
    size = max(2, wanted)
    while num_clips % size == 1:
        size += 1
    return size


def oracle_masks(data: dict) -> torch.Tensor:
    """``(N, 1, H, W)`` true masks of the batch's frames."""
    return torch.stack([s.gt_sem_seg.data for s in data['data_samples']])


def test_metrics(model, loader, evaluator_cfg, source: str) -> dict:
    """Protocol-A metrics of one pass over the test split."""
    evaluator = Evaluator(evaluator_cfg)
    evaluator.dataset_meta = loader.dataset.metainfo
    for data in loader:
        masks = oracle_masks(data) if source == 'oracle' else None
        with torch.no_grad(), model.neck.latent_source(source, masks):
            outputs = model.test_step(data)
        evaluator.process(outputs, data)
    metrics = evaluator.evaluate(len(loader.dataset))
    return dict(mIoU=metrics['mIoU'], Fscore=metrics['Fscore'])


@contextlib.contextmanager
def sampling(neck, steps: int, samples: int):
    latent_model = neck.latent_model
    has_steps = hasattr(latent_model, 'num_inference_steps')
    old = (getattr(latent_model, 'num_inference_steps', None),
           neck.num_samples)
    if has_steps:
        latent_model.num_inference_steps = steps
    neck.num_samples = samples
    try:
        yield
    finally:
        if has_steps:
            latent_model.num_inference_steps = old[0]
        neck.num_samples = old[1]


def plan(neck, steps: List[int], samples: List[int]) -> List[dict]:
    """The rows: (latent source, DDIM steps, samples)."""
    latent_model = neck.latent_model
    default = getattr(latent_model, 'num_inference_steps', None)
    limit = getattr(latent_model, 'num_train_steps', None)
    rows = [dict(source=s, steps=default, samples=1)
            for s in ('sampled', 'oracle', 'zero', 'noise', 'other_clip')]
    if default is not None:  # a diffusion latent model
        rows += [dict(source='sampled', steps=k, samples=1) for k in steps
                 if k != default and (limit is None or k <= limit)]
    rows += [dict(source='sampled', steps=default, samples=s)
             for s in samples if s != 1]
    return rows


def print_rows(rows: List[dict]) -> None:
    print(f'{"latent":<28}{"steps":>6}{"samples":>8}{"mIoU":>9}{"F":>9}')
    for r in rows:
        steps = '-' if r['source'] in ('oracle', 'zero', 'noise') or \
            r['steps'] is None else r['steps']
        print(f'{ROW_TITLES[r["source"]]:<28}{steps:>6}{r["samples"]:>8}'
              f'{r["mIoU"]:>9.4f}{r["Fscore"]:>9.4f}')


def main(argv: Optional[Sequence[str]] = None) -> List[dict]:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    if 'fusion' not in (cfg.model.get('neck') or {}):
        raise SystemExit(f'{args.config} has no latent neck')
    device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    model = init_avs_model(cfg, args.checkpoint, device)
    loader_cfg = cfg.test_dataloader.copy()
    loader = Runner.build_dataloader(loader_cfg)
    loader_cfg.batch_size = batch_size_for(len(loader.dataset),
                                           loader_cfg.batch_size)
    loader = Runner.build_dataloader(loader_cfg)
    rows = plan(model.neck, args.steps, args.samples)
    for row in rows:
        with sampling(model.neck, row['steps'], row['samples']):
            row.update(test_metrics(model, loader, cfg.test_evaluator,
                                    row['source']))
    print(f'{args.config}: test metrics per latent ({args.checkpoint})')
    print_rows(rows)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(dict(config=args.config, checkpoint=args.checkpoint,
                           rows=rows), f, indent=1)
    return rows


if __name__ == '__main__':
    main()
