"""Segment the sounding objects of your own video.

Usage::

    python demo/video_demo.py VIDEO CONFIG CHECKPOINT --out OUT.mp4
        [--device cpu|cuda] [--fps 1] [--frame-size S] [--clip-length T]
        [--batch-size B] [--alpha 0.5] [--non-strict] [--cfg-options k=v ...]

Decodes VIDEO (any container and codec FFmpeg reads, any audio sample rate)
with PyAV, samples ``--fps`` frames per second (1, as AVSBench), pairs each
with the second of sound that starts with it (VGGish log-mel), runs the model
``T`` frames at a time (the last clip padded) and writes:

- ``OUT.mp4``: each sampled frame at the source resolution with its mask
  tinted and outlined, at ``--fps`` frames per second (one output frame per
  sampled frame, so the video lasts as long as the source);
- ``OUT_masks/frame_{i:05d}.png``: the binary masks (0 / 255).

The checkpoint must fit the config's model (any missing, unexpected or
mismatched key stops the demo) unless ``--non-strict``. When the audio ends
before the last frame's second, the demo says which frames hear the last
second of sound instead of their own. PyAV, which decodes and writes the
videos, is part of mmavs' base install.
"""
import argparse
import os
import os.path as osp
import sys
import time
import warnings
from typing import List, Optional

import mmavs  # noqa: F401  (registers mmavs' modules)
from mmengine.config import DictAction
from mmengine.utils import ProgressBar
from PIL import Image

from mmavs.apis import (AudioShorterThanVideoWarning, AVSInferencer,
                        VideoReadError, VideoWriter, probe_video)
from mmavs.utils import CheckpointMismatchError
from mmavs.visualization import draw_overlay


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Segment the sounding objects of a video')
    parser.add_argument('video', help='input video with an audio track')
    parser.add_argument('config', help='model config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out', required=True,
                        help='output overlay video, e.g. out.mp4')
    parser.add_argument('--device', default='cpu',
                        help='cpu, cuda or cuda:N')
    parser.add_argument('--fps', type=float, default=1.0,
                        help='frames sampled per second (AVSBench: 1)')
    parser.add_argument('--frame-size', type=int,
                        help='side the model\'s frames are resized to '
                        '(default: the config\'s test frame size, else 224)')
    parser.add_argument('--clip-length', type=int,
                        help='frames per model clip (default: the config\'s '
                        'test num_frames, else 5)')
    parser.add_argument('--batch-size', type=int, default=1,
                        help='clips per forward pass')
    parser.add_argument('--alpha', type=float, default=0.5,
                        help='opacity of the mask tint')
    parser.add_argument('--non-strict', action='store_true',
                        help='load a checkpoint that does not fully fit the '
                        'model (its other weights stay random)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries, key=value')
    return parser.parse_args(argv)


def check_args(args: argparse.Namespace) -> None:
    """Reject missing inputs and impossible options before any work.

    Raises:
        SystemExit: With a message naming the file or option.
    """
    for what, path in (('video', args.video), ('config', args.config),
                       ('checkpoint', args.checkpoint)):
        if not osp.isfile(path):
            raise SystemExit(f'error: {what} file not found: {path}')
    if args.fps <= 0:
        raise SystemExit(f'error: --fps must be positive, got {args.fps}')
    if not osp.splitext(args.out)[1]:
        raise SystemExit(f'error: --out needs a video file extension such as '
                         f'.mp4, got {args.out}')
    if osp.abspath(args.out) == osp.abspath(args.video):
        raise SystemExit('error: --out would overwrite the input video')
    for path in (osp.dirname(osp.abspath(args.out)),
                 mask_dir_of(osp.abspath(args.out))):
        try:
            os.makedirs(path, exist_ok=True)
        except OSError as err:
            raise SystemExit(f'error: --out: cannot create {path}: '
                             f'{err.strerror}') from None
        if not os.access(path, os.W_OK):
            raise SystemExit(f'error: --out: {path} is not writable')
    if args.device.startswith('cuda'):
        import torch
        if not torch.cuda.is_available():
            raise SystemExit(f'error: --device {args.device} but CUDA is not '
                             'available; use --device cpu')


def mask_dir_of(out: str) -> str:
    """``OUT_masks/`` next to ``OUT.mp4``."""
    return osp.splitext(out)[0] + '_masks'


def run(args: argparse.Namespace) -> int:
    """Segment the video and write the outputs; return the frame count."""
    try:
        info = probe_video(args.video)
        inferencer = AVSInferencer(
            args.config, args.checkpoint, device=args.device,
            frame_size=args.frame_size, clip_length=args.clip_length,
            fps=args.fps, batch_size=args.batch_size,
            cfg_options=args.cfg_options, strict=not args.non_strict)
        # Decodes the audio now, so that its problems show before writing.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always', AudioShorterThanVideoWarning)
            predictions = inferencer.iter_video(args.video)
    except (VideoReadError, CheckpointMismatchError) as err:
        raise SystemExit(f'error: {err}') from None
    for warning in caught:
        print(f'warning: {warning.message}')
    total = info.num_sampled_frames(args.fps) or 0
    print(f'{args.video}: {info.width}x{info.height}, '
          f'{info.duration or 0:.1f} s, audio {info.sample_rate} Hz; '
          f'{total} frames at {args.fps:g} per second, clips of '
          f'{inferencer.clip_length}, model input {inferencer.frame_size}')
    mask_dir = mask_dir_of(args.out)
    os.makedirs(mask_dir, exist_ok=True)
    progress = ProgressBar(total)
    count = 0
    try:
        with VideoWriter(args.out, args.fps) as writer:
            for pred in predictions:
                writer.write(draw_overlay(pred.image, pred.mask,
                                          alpha=args.alpha))
                Image.fromarray(pred.mask * 255).save(
                    osp.join(mask_dir, f'frame_{pred.index:05d}.png'))
                progress.update()
                count += 1
    except VideoReadError as err:  # a stream that breaks mid-way
        raise SystemExit(f'\nerror: {err}') from None
    return count


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    check_args(args)
    start = time.perf_counter()
    count = run(args)
    seconds = time.perf_counter() - start
    print(f'\nwrote {count} overlay frames to {args.out} and their masks to '
          f'{mask_dir_of(args.out)}/ in {seconds:.1f} s')
    sys.stdout.flush()


if __name__ == '__main__':
    main()
