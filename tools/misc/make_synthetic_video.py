"""Write a synthetic video with sound, to try the video demo without data.

Usage::

    python tools/misc/make_synthetic_video.py OUT.mp4 [--seconds 8] [--fps 25]
        [--size 128] [--sample-rate 44100] [--channels 2] [--no-audio]
        [--seed 0]

Moving objects of the synthetic AVSBench-style classes; one or two of them
sound each second (see :mod:`mmavs.data_tools.synthetic_video`).
"""
import argparse
from typing import List, Optional

from mmavs.data_tools.synthetic_video import make_synthetic_video


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('out', help='output video, e.g. synthetic.mp4')
    parser.add_argument('--seconds', type=float, default=8.0)
    parser.add_argument('--fps', type=float, default=25.0)
    parser.add_argument('--size', type=int, default=128,
                        help='frame side in pixels')
    parser.add_argument('--sample-rate', type=int, default=44100)
    parser.add_argument('--channels', type=int, choices=(1, 2), default=2)
    parser.add_argument('--no-audio', action='store_true',
                        help='write no audio track')
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    clip = make_synthetic_video(
        args.out, seconds=args.seconds, fps=args.fps, size=args.size,
        sample_rate=None if args.no_audio else args.sample_rate,
        channels=args.channels, seed=args.seed)
    names = [obj['class'] for obj in clip['objects']]
    print(f'wrote {args.out}: {args.seconds:g} s, {clip["num_frames"]} '
          f'frames; sounding per second:')
    for second, sounding in enumerate(clip['sounding']):
        print(f'  {second}: ' + (', '.join(names[i] for i in sounding)
                                 or 'silence'))


if __name__ == '__main__':
    main()
