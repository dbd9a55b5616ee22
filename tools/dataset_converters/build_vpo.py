"""Build a VPO-style tree from a COCO-format segmentation set and class-labelled
audio clips (cavp.md §3), in the released VPO layout.

Example (COCO 2017 train / val as VPO train / test)::

    python tools/dataset_converters/build_vpo.py data/VPO_coco \
        --coco train:data/coco/annotations/instances_train2017.json:data/coco/train2017 \
        --coco val:data/coco/annotations/instances_val2017.json:data/coco/val2017 \
        --class-map class_map.json --audio-index data/vggsound/index.csv \
        --seed 0

``--class-map`` is a JSON object COCO category (id or name) → VPO class
name; ``--audio-index`` a CSV ``file, class, split`` (files relative to
``--audio-dir``, default the CSV's folder). The clips are copied (or, with
``--link-audio``, linked) to ``<out>/vggsound/audios/``, which is where the
VPO datasets look by default. The same code is importable as
``mmavs.data_tools.vpo_builder.build_vpo``; pycocotools is not needed.
"""
import argparse

from mmavs.data_tools.vpo_builder import SUBSETS, build_vpo


def coco_set(text: str) -> dict:
    split, sep, rest = text.partition(':')
    ann_file, sep2, img_dir = rest.partition(':')
    if not (sep and sep2) or split not in ('train', 'val'):
        raise argparse.ArgumentTypeError(
            f'expected SPLIT:ANN_FILE:IMG_DIR with SPLIT train or val, got '
            f'{text!r}')
    return dict(split=split, ann_file=ann_file, img_dir=img_dir)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('out_dir', help='VPO root to write')
    parser.add_argument('--coco', type=coco_set, action='append',
                        required=True, metavar='SPLIT:ANN_FILE:IMG_DIR',
                        help='a COCO instances file, its images and the VPO '
                        'split it becomes (val = test); repeat per file')
    parser.add_argument('--class-map', required=True,
                        help='JSON: COCO category id or name -> VPO class')
    parser.add_argument('--audio-index', required=True,
                        help='CSV with columns file, class, split')
    parser.add_argument('--audio-dir', help='folder of the index\'s files')
    parser.add_argument('--subsets', nargs='+', default=list(SUBSETS),
                        choices=SUBSETS)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--ms-min-sounding', type=int, default=2)
    parser.add_argument('--silence-prob', type=float, default=0.5)
    parser.add_argument('--max-sounding', type=int, default=5)
    parser.add_argument('--link-audio', action='store_true',
                        help='symlink the clips instead of copying them')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    counts = build_vpo(
        args.out_dir, args.coco, args.class_map, args.audio_index,
        audio_dir=args.audio_dir, subsets=args.subsets, seed=args.seed,
        ms_min_sounding=args.ms_min_sounding, silence_prob=args.silence_prob,
        max_sounding=args.max_sounding, link_audio=args.link_audio)
    for subset, splits in counts.items():
        print(f'VPO-{subset}: ' + ', '.join(
            f'{n} {"test (val)" if s == "val" else s}'
            for s, n in sorted(splits.items())))
    print(f'wrote a VPO tree to {args.out_dir}')


if __name__ == '__main__':
    main()
