"""Write synthetic AVSBench-Semantic data in the released AVSS layout.

Example::

    python tools/dataset_converters/make_synthetic_avss.py \
        data/synthetic_avss --seed 0 --size 64 --clips 16 4 8

``--clips TRAIN VAL TEST`` is given for v1s and v1m; v2 gets twice as many.
The same code is importable as
``mmavs.datasets.synthetic_avss.make_synthetic_avss``.
"""
import argparse

from mmavs.datasets.synthetic_avss import make_synthetic_avss


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('out_dir', help='AVSS root to write')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--size', type=int, default=64,
                        help='frame side in pixels')
    parser.add_argument('--clips', type=int, nargs=3, default=[16, 4, 8],
                        metavar=('TRAIN', 'VAL', 'TEST'),
                        help='clips per split of v1s and v1m (v2: twice)')
    parser.add_argument('--subsets', nargs='+', default=['v1s', 'v1m', 'v2'],
                        choices=['v1s', 'v1m', 'v2'])
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    clips = {
        subset: {split: count * (2 if subset == 'v2' else 1)
                 for split, count in zip(('train', 'val', 'test'),
                                         args.clips)}
        for subset in args.subsets
    }
    make_synthetic_avss(args.out_dir, seed=args.seed, size=args.size,
                        clips=clips)
    print(f'wrote synthetic AVSS data to {args.out_dir}')


if __name__ == '__main__':
    main()
