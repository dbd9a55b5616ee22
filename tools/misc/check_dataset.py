"""Check an AVSBench tree: clip counts, missing or broken files, shapes.

Usage::

    python tools/misc/check_dataset.py CONFIG_OR_ROOT [--subsets s4 ms3]
        [--splits train val test] [--num-frames 5] [--frame-size 224]
        [--jobs 4] [--max-listed 10] [--strict]

Given a config, the AVSBench and AVSS datasets of its train / val / test
dataloaders are checked (their ``data_root``, subset, split and
``num_frames``); given a directory, it is checked as an AVSS root when it
holds ``metadata.csv`` (subsets ``v1s v1m v2``), else as an AVSBench-Object
root (``s4 ms3``). Prints a per-split table and the problems and warnings
found (see ``mmavs/datasets/avsbench_check.py`` and ``avss_check.py``).
``--num-frames`` and ``--frame-size`` apply to AVSBench-Object only (AVSS
clips have 5 or 10 frames by subset, at their original resolution).

Exit status: 0 when there is no problem (warnings, such as split sizes that
differ from the published ones, do not count unless ``--strict``), 1 when
there are problems, 2 on a usage error.
"""
import argparse
import os.path as osp
import sys
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple

import mmavs  # noqa: F401  (registers the datasets)
from mmavs.datasets.avsbench import SPLITS
from mmavs.datasets.avsbench_check import (SUBSETS, CheckReport,
                                           check_avsbench, format_report)
from mmavs.datasets.avss import METADATA_FILE, SUBSET_FRAMES, AVSSDataset
from mmavs.datasets.avss_check import check_avss

AVSS_SUBSETS = tuple(SUBSET_FRAMES)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('target', help='config file or AVSBench root')
    parser.add_argument('--subsets', nargs='+',
                        choices=list(SUBSETS) + list(AVSS_SUBSETS),
                        default=None,
                        help='subsets to check (root only; default s4 ms3, '
                        'or v1s v1m v2 for an AVSS root)')
    parser.add_argument('--splits', nargs='+', choices=list(SPLITS),
                        default=list(SPLITS), help='splits (root only)')
    parser.add_argument('--num-frames', type=int, default=None,
                        help='frames per clip (default: the config\'s, '
                        'else 5)')
    parser.add_argument('--frame-size', type=int, default=224,
                        help='expected frame side, 0 to skip (default 224)')
    parser.add_argument('--jobs', type=int, default=4,
                        help='threads reading files')
    parser.add_argument('--max-listed', type=int, default=10,
                        help='places listed per kind of finding')
    parser.add_argument('--strict', action='store_true',
                        help='exit 1 on warnings too')
    return parser.parse_args(argv)


Target = Tuple[str, str, int]  # (data_root, subset, num_frames)


def subset_of(dataset_type: object) -> Optional[str]:
    """``'s4'`` / ``'ms3'`` for an AVSBench dataset type (or subclass),
    ``'avss'`` for an AVSS one."""
    from mmseg.registry import DATASETS
    cls = DATASETS.get(dataset_type) if isinstance(dataset_type, str) \
        else dataset_type
    if isinstance(cls, type) and issubclass(cls, AVSSDataset):
        return 'avss'
    for subset, base in SUBSETS.items():
        if isinstance(cls, type) and issubclass(cls, base):
            return subset
    return None


def targets_from_config(path: str,
                        num_frames: Optional[int]) -> Dict[Target, List[str]]:
    """``{(data_root, subset, num_frames): [splits]}`` of a config."""
    from mmengine.config import Config
    cfg = Config.fromfile(path)
    targets: Dict[Target, List[str]] = OrderedDict()
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dataset = (cfg.get(loader) or {}).get('dataset') or {}
        subset = subset_of(dataset.get('type'))
        if subset is None:
            continue
        key = (dataset['data_root'], subset,
               10 if subset == 'avss' else
               num_frames or dataset.get('num_frames', 5))
        split = dataset.get('split', 'train')
        if split not in targets.setdefault(key, []):
            targets[key].append(split)
    return targets


def merge(reports: Sequence[CheckReport]) -> CheckReport:
    """One report of several roots / subsets (for the exit status)."""
    merged = CheckReport(root=', '.join(r.root for r in reports),
                         num_frames=reports[0].num_frames)
    for report in reports:
        merged.splits += report.splits
        merged.findings += report.findings
    return merged


def check_target(root: str, subset: str, splits: Sequence[str],
                 num_frames: int, args: argparse.Namespace,
                 avss_subsets: Sequence[str] = AVSS_SUBSETS) -> CheckReport:
    if subset == 'avss':
        return check_avss(root, avss_subsets, splits, args.jobs)
    return check_avsbench(root, [subset], splits, num_frames,
                          args.frame_size, args.jobs)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    if osp.isdir(args.target) and \
            osp.isfile(osp.join(args.target, METADATA_FILE)):
        subsets = args.subsets or list(AVSS_SUBSETS)
        wrong = [s for s in subsets if s not in AVSS_SUBSETS]
        if wrong:
            print(f'error: {args.target} is an AVSS root; subsets {wrong} '
                  f'are not AVSS subsets {list(AVSS_SUBSETS)}',
                  file=sys.stderr)
            return 2
        reports = [check_avss(args.target, subsets, args.splits, args.jobs)]
    elif osp.isdir(args.target):
        subsets = args.subsets or list(SUBSETS)
        wrong = [s for s in subsets if s not in SUBSETS]
        if wrong:
            print(f'error: {args.target} has no {METADATA_FILE}, so it is '
                  f'not an AVSS root (subsets {wrong})', file=sys.stderr)
            return 2
        reports = [check_avsbench(args.target, subsets, args.splits,
                                  args.num_frames or 5, args.frame_size,
                                  args.jobs)]
    elif osp.isfile(args.target):
        targets = targets_from_config(args.target, args.num_frames)
        if not targets:
            print(f'error: {args.target} has no AVSBench dataset (S4, MS3 '
                  'or AVSS) in its dataloaders', file=sys.stderr)
            return 2
        reports = [
            check_target(root, subset, splits, frames, args)
            for (root, subset, frames), splits in targets.items()
        ]
    else:
        print(f'error: no such config or directory: {args.target}',
              file=sys.stderr)
        return 2
    for report in reports:
        print(format_report(report, args.max_listed))
        print()
    report = merge(reports)
    if not report.ok or (args.strict and report.findings):
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
