"""Write synthetic S4 and MS3 data in the AVSBench layout.

Example::

    python tools/dataset_converters/make_synthetic_avsbench.py \
        data/synthetic_avsbench --seed 0 --size 64 --clips 64 16 16

The same code is importable as
``mmavs.data_tools.synthetic_avsbench.make_synthetic_avsbench``.
"""
import argparse

from mmavs.data_tools.synthetic_avsbench import make_synthetic_avsbench


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('out_dir', help='AVSBench root to write')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--size', type=int, default=64,
                        help='frame side in pixels')
    parser.add_argument('--num-frames', type=int, default=5)
    parser.add_argument('--clips', type=int, nargs=3, default=[64, 16, 16],
                        metavar=('TRAIN', 'VAL', 'TEST'),
                        help='clips per split, for each subset')
    parser.add_argument('--subsets', nargs='+', default=['s4', 'ms3'],
                        choices=['s4', 'ms3'])
    parser.add_argument('--audio-format', default='npy', choices=['npy', 'pkl'],
                        help='npy (safe, default) or pkl (pickled tensor, as '
                        'AVSBench released it)')
    return parser.parse_args()


def main():
    args = parse_args()
    clips = dict(zip(('train', 'val', 'test'), args.clips))
    make_synthetic_avsbench(
        args.out_dir, seed=args.seed, size=args.size,
        num_frames=args.num_frames,
        s4_clips=clips if 's4' in args.subsets else {},
        ms3_clips=clips if 'ms3' in args.subsets else {},
        audio_format=args.audio_format)
    print(f'wrote synthetic AVSBench data to {args.out_dir}')


if __name__ == '__main__':
    main()
