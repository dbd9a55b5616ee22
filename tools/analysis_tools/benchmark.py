"""Time a model against a baseline variant of itself, in one run.

Measures per-clip inference latency (batch 1, T frames) and the time of one
training step (forward, backward, optimiser) of the config's model and of a
baseline built from the same config, alternating the two, then prints both,
their ratios, and peak memory. Random weights; no data. Baselines:

- ``ed`` (default): the latent neck replaced by the fusion neck it wraps
  (DiffusionAVS or the CVAE baseline against its E-D model).
- ``fpn-head``: the decode head replaced by the Panoptic-FPN head on the same
  neck outputs (Table VII: the AVSegFormer head against the FPN head); the
  head alone is timed too.
- ``one-sample``: the same model sampling one latent at test time (the cost
  of ``model.neck.num_samples`` > 1, which reuses the backbone and fusion).

Examples::

    python tools/analysis_tools/benchmark.py configs/diffavs/pvt_ms3.py
    python tools/analysis_tools/benchmark.py \
        configs/diffavs/pvt_ms3_avsegformer-head.py --baseline fpn-head
    python tools/analysis_tools/benchmark.py configs/diffavs/pvt_ms3.py \
        --baseline one-sample --cfg-options model.neck.num_samples=5
"""
import argparse
import copy
import functools
import resource
import time
from typing import Callable, Dict, Sequence

import torch
from mmengine.config import DictAction
from mmengine.structures import PixelData

import mmavs  # noqa: F401
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from get_params import load_model_cfg


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('--size', type=int, default=224)
    parser.add_argument('--frames', type=int, default=5)
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--baseline', choices=sorted(BASELINES), default='ed')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args()


def ed_counterpart(model_cfg: dict) -> dict:
    """The same model with a latent neck (diffusion or CVAE) replaced by
    the fusion neck it wraps."""
    cfg = copy.deepcopy(model_cfg)
    neck = cfg.get('neck') or {}
    if 'fusion' in neck:
        cfg['neck'] = neck['fusion']
    return cfg


def fpn_head_counterpart(model_cfg: dict) -> dict:
    """The same model with the Panoptic-FPN head on the same inputs."""
    cfg = copy.deepcopy(model_cfg)
    in_channels = cfg['decode_head']['in_channels']
    if len(set(in_channels)) != 1:
        raise SystemExit(
            f'the Panoptic-FPN head needs levels of equal width (a fusion '
            f'neck), but this head reads {in_channels}; compare heads on a '
            f'config with a neck, e.g. '
            f'configs/diffavs/pvt_ms3_avsegformer-head.py')
    cfg['decode_head'] = dict(type='AVSFPNHead', in_channels=in_channels,
                              channels=in_channels[0])
    return cfg


def one_sample_counterpart(model_cfg: dict) -> dict:
    """The same model sampling one latent per frame at test time."""
    cfg = copy.deepcopy(model_cfg)
    neck = cfg.get('neck') or {}
    if 'num_samples' not in neck:
        raise SystemExit('--baseline one-sample needs a latent neck '
                         '(model.neck.num_samples), e.g. '
                         'configs/diffavs/pvt_ms3.py')
    neck['num_samples'] = 1
    return cfg


BASELINES = {'ed': ('E-D', ed_counterpart),
             'fpn-head': ('FPN head', fpn_head_counterpart),
             'one-sample': ('S = 1', one_sample_counterpart)}


def clip_batch(frames: int, size: int) -> dict:
    samples = [SegDataSample(
        gt_sem_seg=PixelData(data=torch.randint(0, 2, (1, size, size))),
        metainfo=dict(annotated=True, clip_index=0, frame_index=t,
                      img_shape=(size, size), ori_shape=(size, size)))
               for t in range(frames)]
    return dict(
        inputs=[torch.randint(0, 256, (frames, 3, size, size),
                              dtype=torch.uint8)],
        audio=[torch.randn(frames, 1, 96, 64)], data_samples=samples)


def steps_of(model_cfg: dict, args) -> Dict[str, Callable[[], None]]:
    """Inference and training-step closures of a freshly built model."""
    torch.manual_seed(0)
    model = MODELS.build(model_cfg).to(args.device)
    batch = clip_batch(args.frames, args.size)
    optimizer = torch.optim.Adam(
        [p for p in model.parameters() if p.requires_grad], lr=1e-4)

    def infer():
        model.eval()
        with torch.no_grad():
            model(**model.data_preprocessor(batch, False), mode='predict')

    def train():
        model.train()
        losses = model(**model.data_preprocessor(batch, True), mode='loss')
        optimizer.zero_grad()
        sum(losses.values()).backward()
        optimizer.step()

    @functools.cache  # the neck's outputs, made at the first head() call
    def head_inputs():
        data = model.data_preprocessor(batch, False)
        out, audio_feat = model.extract_feat(data['inputs'], data['audio'],
                                             data['layout'])
        num = out.extras.get('num_samples', 1)
        return out.fused, audio_feat.repeat(num, 1), \
            data['layout'].repeat(num)

    def head():
        model.eval()
        with torch.no_grad():
            model.decode_head(*head_inputs())

    return dict(infer=infer, train=train, head=head)


def timed(step: Callable[[], None], device: str) -> float:
    if device.startswith('cuda'):
        torch.cuda.synchronize()
    start = time.perf_counter()
    step()
    if device.startswith('cuda'):
        torch.cuda.synchronize()
    return time.perf_counter() - start


def compare(ours: dict, base: dict, keys: Sequence[str], repeats: int,
            device: str) -> Dict[str, Dict[str, float]]:
    """Best-of-``repeats`` times, the two models alternating so that load
    drift on a shared machine hits both alike."""
    best = {name: {key: float('inf') for key in keys}
            for name in ('ours', 'base')}
    for key in keys:
        ours[key](), base[key]()  # warm-up
        for _ in range(repeats):
            for name, steps in (('ours', ours), ('base', base)):
                best[name][key] = min(best[name][key],
                                      timed(steps[key], device))
    return best


def peak_memory_mib(device: str) -> float:
    if device.startswith('cuda'):
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main():
    args = parse_args()
    model_cfg = load_model_cfg(args.config, args.cfg_options)
    label, counterpart = BASELINES[args.baseline]
    rows = dict(infer='inference s/clip', train='training step s')
    if args.baseline == 'one-sample':
        del rows['train']  # num_samples only changes inference
    if args.baseline == 'fpn-head':
        rows['head'] = 'head inference s/clip'
    base_cfg = counterpart(model_cfg)
    times = compare(steps_of(model_cfg, args), steps_of(base_cfg, args),
                    list(rows), args.repeats, args.device)
    ours, base = times['ours'], times['base']
    print(f'{args.config}: batch 1 clip of {args.frames} frames at '
          f'{args.size}x{args.size} on {args.device}, best of '
          f'{args.repeats}')
    print(f'{"":<24}{"model":>10}{label:>10}{"ratio":>8}')
    for key, name in rows.items():
        print(f'{name:<24}{ours[key]:>10.3f}{base[key]:>10.3f}'
              f'{ours[key] / base[key]:>8.3f}')
    print(f'peak memory (process, both models, MiB): '
          f'{peak_memory_mib(args.device):.0f}')


if __name__ == '__main__':
    main()
