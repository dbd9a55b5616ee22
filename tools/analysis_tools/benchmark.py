"""Time a model against a baseline variant of itself, in one run.

Measures inference (a batch of ``--batch`` clips of T frames) and one
training step (forward, backward, optimiser) of the config's model and of a
baseline built from the same config, alternating the two, then prints the
times, their ratios, clips per second and peak memory. Random weights and
random clips; no data is read. Baselines:

- ``ed`` (default): the latent neck replaced by the fusion neck it wraps
  (DiffusionAVS or the CVAE baseline against its E-D model).
- ``fpn-head``: the decode head replaced by the Panoptic-FPN head on the same
  neck outputs (Table VII: the AVSegFormer head against the FPN head); the
  head alone is timed too.
- ``one-sample``: the same model sampling one latent at test time (the cost
  of ``model.neck.num_samples`` > 1, which reuses the backbone and fusion).

Speed options: ``--amp bf16|fp16`` (autocast; fp16 training with a gradient
scaler), ``--channels-last`` (weights and frames in NHWC),
``--compile`` (``torch.compile`` of the visual backbone, the fusion neck and
the decode head; ``--compile-backend`` picks the backend). Peak memory: on
CUDA, per model and step, the bytes of its weights, gradients and optimiser
state plus the step's peak of ``torch.cuda.max_memory_allocated`` above what
was allocated before it; on CPU only the process's peak resident size (both
models together) can be told.

Examples::

    python tools/analysis_tools/benchmark.py configs/diffavs/pvt_ms3.py
    python tools/analysis_tools/benchmark.py configs/diffavs/pvt_ms3.py \
        --device cuda --batch 16 --amp bf16 --channels-last --json out.json
    python tools/analysis_tools/benchmark.py \
        configs/diffavs/pvt_ms3_avsegformer-head.py --baseline fpn-head
    python tools/analysis_tools/benchmark.py configs/diffavs/pvt_ms3.py \
        --baseline one-sample --cfg-options model.neck.num_samples=5
"""
import argparse
import contextlib
import copy
import functools
import json
import resource
import time
from typing import Callable, Dict, Optional, Sequence

import torch
from mmengine.config import DictAction
from mmengine.structures import PixelData

import mmavs  # noqa: F401
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from get_params import load_model_cfg

AMP_DTYPES = {'bf16': torch.bfloat16, 'fp16': torch.float16}


def parse_args(argv: Optional[Sequence[str]] = None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('--size', type=int, default=224)
    parser.add_argument('--frames', type=int, default=5)
    parser.add_argument('--batch', type=int, default=1,
                        help='clips per batch (each of --frames frames)')
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--warmup', type=int, default=1,
                        help='untimed calls per step before timing '
                        '(compilation, cuDNN autotuning)')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--amp', choices=sorted(AMP_DTYPES),
                        help='autocast dtype (off by default)')
    parser.add_argument('--channels-last', action='store_true')
    parser.add_argument('--compile', action='store_true')
    parser.add_argument('--compile-backend', default='inductor')
    parser.add_argument('--baseline', choices=sorted(BASELINES), default='ed')
    parser.add_argument('--only', choices=('infer', 'train'),
                        help='time only inference or only training')
    parser.add_argument('--json', help='also write the results to this file')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(argv)


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


def clip_batch(frames: int, size: int, batch: int = 1,
               pin: bool = False) -> dict:
    """``batch`` random clips as :func:`avs_collate` gives them."""
    samples = [SegDataSample(
        gt_sem_seg=PixelData(data=torch.randint(0, 2, (1, size, size))),
        metainfo=dict(annotated=True, clip_index=b, frame_index=t,
                      num_frames=frames, img_shape=(size, size),
                      ori_shape=(size, size)))
               for b in range(batch) for t in range(frames)]
    inputs = [torch.randint(0, 256, (frames, 3, size, size),
                            dtype=torch.uint8) for _ in range(batch)]
    audio = [torch.randn(frames, 1, 96, 64) for _ in range(batch)]
    if pin:  # what a DataLoader with pin_memory=True hands over
        inputs = [x.pin_memory() for x in inputs]
        audio = [x.pin_memory() for x in audio]
    return dict(inputs=inputs, audio=audio, data_samples=samples)


def compile_parts(model: torch.nn.Module, backend: str) -> None:
    """``torch.compile`` in place (state-dict keys unchanged) the parts that
    hold the model's convolutions: the visual backbone, the fusion neck
    (inside a latent neck, the one it wraps) and the decode head."""
    parts = [getattr(model.backbone, 'visual', model.backbone),
             model.decode_head]
    neck = getattr(model, 'neck', None)
    if neck is not None:
        parts.append(getattr(neck, 'fusion', neck))
    for part in parts:
        part.compile(backend=backend)


def to_channels_last(model: torch.nn.Module) -> None:
    """NHWC strides for the 4-D weights (``Module.to(memory_format=...)``
    refuses modules that also hold other tensors)."""
    for param in model.parameters():
        if param.dim() == 4:
            param.data = param.data.contiguous(
                memory_format=torch.channels_last)


def state_bytes(model: torch.nn.Module, optimizer) -> int:
    """Bytes of the weights, buffers, gradients and optimiser state."""
    tensors = list(model.parameters()) + list(model.buffers())
    tensors += [p.grad for p in model.parameters() if p.grad is not None]
    tensors += [v for state in optimizer.state.values()
                for v in state.values() if torch.is_tensor(v)]
    return sum(t.numel() * t.element_size() for t in tensors)


def steps_of(model_cfg: dict, args) -> Dict[str, Callable[[], None]]:
    """Inference and training-step closures of a freshly built model."""
    torch.manual_seed(0)
    model = MODELS.build(model_cfg).to(args.device)
    cuda = args.device.startswith('cuda')
    if args.channels_last:
        to_channels_last(model)
    if args.compile:
        compile_parts(model, args.compile_backend)
    batch = clip_batch(args.frames, args.size, args.batch, pin=cuda)
    optimizer = torch.optim.Adam(
        [p for p in model.parameters() if p.requires_grad], lr=1e-4)
    device_type = torch.device(args.device).type
    amp_dtype = AMP_DTYPES.get(args.amp)
    scaler = torch.amp.GradScaler(device_type) \
        if amp_dtype is torch.float16 else None

    def autocast():
        if amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type, dtype=amp_dtype)

    def preprocess(training: bool) -> dict:
        data = model.data_preprocessor(batch, training)
        if args.channels_last:
            data['inputs'] = data['inputs'].contiguous(
                memory_format=torch.channels_last)
        return data

    def infer():
        model.eval()
        with torch.no_grad(), autocast():
            model(**preprocess(False), mode='predict')

    def train():
        model.train()
        with autocast():
            losses = model(**preprocess(True), mode='loss')
            loss = sum(losses.values())
        optimizer.zero_grad()
        if scaler is None:
            loss.backward()
            optimizer.step()
        else:
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()

    @functools.cache  # the neck's outputs, made at the first head() call
    def head_inputs():
        data = preprocess(False)
        with torch.no_grad(), autocast():
            out, audio_feat = model.extract_feat(
                data['inputs'], data['audio'], data['layout'])
        return out, audio_feat, data['layout']

    def head():
        model.eval()
        with torch.no_grad(), autocast():
            model._decode(*head_inputs())

    steps = dict(infer=infer, train=train, head=head)
    steps['state_bytes'] = lambda: state_bytes(model, optimizer)
    return steps


def synchronize(device: str) -> None:
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def timed(step: Callable[[], None], device: str) -> float:
    synchronize(device)
    start = time.perf_counter()
    step()
    synchronize(device)
    return time.perf_counter() - start


def compare(ours: dict, base: dict, keys: Sequence[str], repeats: int,
            device: str, warmup: int = 1) -> Dict[str, Dict[str, float]]:
    """Best-of-``repeats`` times, the two models alternating so that load
    drift on a shared machine hits both alike."""
    best = {name: {key: float('inf') for key in keys}
            for name in ('ours', 'base')}
    for key in keys:
        for _ in range(warmup):
            ours[key](), base[key]()
        for _ in range(repeats):
            for name, steps in (('ours', ours), ('base', base)):
                best[name][key] = min(best[name][key],
                                      timed(steps[key], device))
    return best


def step_peak_mib(steps: dict, key: str, device: str) -> float:
    """CUDA: the model's state plus the step's peak allocation above what
    was allocated before it, in MiB."""
    synchronize(device)
    torch.cuda.reset_peak_memory_stats(device)
    before = torch.cuda.memory_allocated(device)
    steps[key]()
    synchronize(device)
    transient = torch.cuda.max_memory_allocated(device) - before
    return (steps['state_bytes']() + transient) / 2**20


def process_peak_mib() -> float:
    """Peak resident size of this process (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def settings_line(args) -> str:
    options = [f'amp {args.amp or "off"}',
               f'channels-last {"on" if args.channels_last else "off"}',
               f'compile {args.compile_backend if args.compile else "off"}']
    return (f'{args.config}: batch {args.batch} clip(s) of {args.frames} '
            f'frames at {args.size}x{args.size} on {args.device}; '
            f'{", ".join(options)}; best of {args.repeats}')


def run(args) -> dict:
    """Time both models; return the results as a JSON-ready dict."""
    if args.device.startswith('cuda'):
        torch.backends.cudnn.benchmark = True
    model_cfg = load_model_cfg(args.config, args.cfg_options)
    label, counterpart = BASELINES[args.baseline]
    keys = [args.only] if args.only else ['infer', 'train']
    if args.baseline == 'one-sample' and 'train' in keys:
        keys.remove('train')  # num_samples only changes inference
    if args.baseline == 'fpn-head':
        keys.append('head')
    ours = steps_of(model_cfg, args)
    base = steps_of(counterpart(model_cfg), args)
    times = compare(ours, base, keys, args.repeats, args.device, args.warmup)
    result = dict(config=args.config, baseline=label, batch=args.batch,
                  frames=args.frames, size=args.size, device=args.device,
                  amp=args.amp, channels_last=args.channels_last,
                  compile=args.compile_backend if args.compile else None,
                  cuda_graph=bool(((model_cfg.get('neck') or {}).get(
                      'latent_model') or {}).get('cuda_graph')),
                  repeats=args.repeats, seconds=times,
                  clips_per_s={name: {k: args.batch / t for k, t in
                                      times[name].items()}
                               for name in times},
                  ratio={k: times['ours'][k] / times['base'][k]
                         for k in keys})
    if args.device.startswith('cuda'):
        result['peak_mib'] = {
            name: {k: step_peak_mib(steps, k, args.device) for k in keys}
            for name, steps in (('ours', ours), ('base', base))}
        result['gpu'] = torch.cuda.get_device_name(args.device)
    else:
        result['process_peak_rss_mib'] = process_peak_mib()
    return result


ROW_NAMES = dict(infer='inference', train='training', head='head')
TIME_UNITS = dict(infer='s/batch', train='s/step', head='s/batch')


def print_result(result: dict, args) -> None:
    ours, base = result['seconds']['ours'], result['seconds']['base']
    label = result['baseline']
    print(settings_line(args))
    print(f'{"":<26}{"model":>10}{label:>10}{"ratio":>8}')
    for key in ours:
        name = f'{ROW_NAMES[key]} {TIME_UNITS[key]}'
        print(f'{name:<26}{ours[key]:>10.3f}{base[key]:>10.3f}'
              f'{result["ratio"][key]:>8.3f}')
    rates = result['clips_per_s']
    for key in ours:
        name = f'{ROW_NAMES[key]} clips/s'
        print(f'{name:<26}{rates["ours"][key]:>10.1f}'
              f'{rates["base"][key]:>10.1f}')
    if 'peak_mib' in result:
        peaks = result['peak_mib']
        for key in ours:
            name = f'{ROW_NAMES[key]} peak MiB'
            print(f'{name:<26}{peaks["ours"][key]:>10.0f}'
                  f'{peaks["base"][key]:>10.0f}')
    else:
        print(f'peak memory per model: n/a on CPU; process peak RSS (both '
              f'models): {result["process_peak_rss_mib"]:.0f} MiB')


def main(argv: Optional[Sequence[str]] = None) -> dict:
    args = parse_args(argv)
    result = run(args)
    print_result(result, args)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(result, f, indent=1)
    return result


if __name__ == '__main__':
    main()
