"""Does DiffusionAVS's per-pixel spread mark its errors? Are its averaged
probabilities calibrated?

Tests a checkpoint of a model with a latent neck on the config's test split,
sampling ``--num-samples`` latents per frame (``model.neck.num_samples``):
the prediction is the average of the samples' probabilities and the
uncertainty their standard deviation (``AVSSegmentor.predict``). Over the
annotated pixels it reports

- the AUROC of the uncertainty as a predictor of a pixel's error (the
  prediction, the averaged probability thresholded as the model does,
  differs from the ground truth); 0.5 is chance. For comparison, the AUROC of the predictive entropy of the
  averaged probability, which a single-sample model has too: the spread is
  worth its cost only as far as it beats that;
- a calibration table of the averaged foreground probability (equal-width
  bins: mean probability against observed foreground frequency) and its
  expected calibration error (``mmavs/evaluation/uncertainty.py``).

Example::

    python tools/analysis_tools/uncertainty_eval.py \
        configs/diffavs/diffavs_r18-w32_1xb4-13e_synthetic-ms3-512clips-64x64.py \
        work_dirs/main_job/.../best_mIoU_epoch_13.pth --num-samples 5
"""
import argparse
import json
from typing import Dict, Optional, Sequence

import numpy as np
import torch

import mmavs  # noqa: F401
from mmengine.config import Config, DictAction
from mmengine.runner import Runner

from mmavs.apis import init_avs_model
from mmavs.evaluation.uncertainty import (auroc, calibration_table,
                                          expected_calibration_error)


def parse_args(argv: Optional[Sequence[str]] = None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--num-samples', type=int, default=5)
    parser.add_argument('--bins', type=int, default=10)
    parser.add_argument('--device', default=None,
                        help='default: cuda if available, else cpu')
    parser.add_argument('--json', help='also write the results here')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(argv)


def binary_entropy(prob: np.ndarray) -> np.ndarray:
    p = np.clip(prob, 1e-7, 1 - 1e-7)
    return -(p * np.log(p) + (1 - p) * np.log(1 - p))


def collect(model, loader) -> Dict[str, np.ndarray]:
    """Averaged probability, prediction, uncertainty and label of every
    annotated pixel of the test split (as 1-D arrays)."""
    probs, preds, spreads, labels = [], [], [], []
    for data in loader:
        with torch.no_grad():
            results = model.test_step(data)
        for sample in results:
            if not sample.metainfo.get('annotated', True):
                continue
            gt = sample.gt_sem_seg.data[0].cpu().numpy()
            keep = gt != 255
            # mmseg stores the sigmoid probability as seg_logits for one
            # output channel (here the average of the samples').
            prob = sample.seg_logits.data[0].float().cpu().numpy()
            pred = sample.pred_sem_seg.data[0].cpu().numpy()
            spread = sample.uncertainty.data[0].float().cpu().numpy()
            probs.append(prob[keep])
            preds.append(pred[keep])
            spreads.append(spread[keep])
            labels.append(gt[keep])
    return dict(prob=np.concatenate(probs), pred=np.concatenate(preds),
                uncertainty=np.concatenate(spreads),
                label=np.concatenate(labels).astype(bool))


def evaluate(pixels: Dict[str, np.ndarray], bins: int) -> dict:
    prob, label = pixels['prob'], pixels['label']
    error = pixels['pred'].astype(bool) != label
    table = calibration_table(prob, label, bins)
    return dict(
        pixels=int(label.size), error_rate=float(error.mean()),
        auroc_uncertainty=auroc(pixels['uncertainty'], error),
        auroc_entropy=auroc(binary_entropy(prob), error),
        mean_uncertainty_correct=float(pixels['uncertainty'][~error].mean())
        if (~error).any() else float('nan'),
        mean_uncertainty_wrong=float(pixels['uncertainty'][error].mean())
        if error.any() else float('nan'),
        ece=expected_calibration_error(table), calibration=table)


def print_report(result: dict) -> None:
    print(f'{result["config"]}, {result["num_samples"]} samples per frame, '
          f'{result["pixels"]} annotated test pixels, error rate '
          f'{result["error_rate"]:.4f}')
    print(f'AUROC of the uncertainty (samples\' std) for errors: '
          f'{result["auroc_uncertainty"]:.4f}')
    print(f'AUROC of the predictive entropy for errors:         '
          f'{result["auroc_entropy"]:.4f}')
    print(f'mean uncertainty, correct / wrong pixels: '
          f'{result["mean_uncertainty_correct"]:.4f} / '
          f'{result["mean_uncertainty_wrong"]:.4f}')
    print(f'{"probability bin":<18}{"pixels":>10}{"mean prob":>11}'
          f'{"frequency":>11}')
    for row in result['calibration']:
        print(f'[{row["low"]:.2f}, {row["high"]:.2f}){"":<6}'
              f'{row["count"]:>10}{row["mean_prob"]:>11.4f}'
              f'{row["frequency"]:>11.4f}')
    print(f'expected calibration error: {result["ece"]:.4f}')


def main(argv: Optional[Sequence[str]] = None) -> dict:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    if 'fusion' not in (cfg.model.get('neck') or {}):  # a latent neck
        raise SystemExit(f'{args.config} has no latent neck: nothing is '
                         'sampled, so there is no spread to evaluate')
    if args.num_samples < 2:
        raise SystemExit('--num-samples must be at least 2 (the spread of '
                         'one sample is zero)')
    cfg.model.neck.num_samples = args.num_samples
    device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    model = init_avs_model(cfg, args.checkpoint, device)
    loader = Runner.build_dataloader(cfg.test_dataloader)
    result = dict(config=args.config, checkpoint=args.checkpoint,
                  num_samples=args.num_samples,
                  **evaluate(collect(model, loader), args.bins))
    print_report(result)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(result, f, indent=1)
    return result


if __name__ == '__main__':
    main()
