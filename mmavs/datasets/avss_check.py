"""Check an AVSBench-Semantic tree before training on it.

:func:`check_avss` applies the rules of :mod:`mmavs.datasets.avss` and the
AVSS transforms (the same functions, so each rule is written once) to every
clip ``metadata.csv`` lists, and reads every file the pipeline would read:

- **problems**: a missing or malformed ``metadata.csv`` (file, columns,
  unknown subset or split) or ``label2idx.json`` (not 71 entries); a missing
  clip folder; a gap in the file numbers; a clip with the wrong number of
  frames for its subset or too few masks; a missing or unreadable frame,
  mask or ``audio.wav``; frames of different sizes; a mask of another size
  than its frames;
- **warnings**: colours outside the 71-entry palette (the loader maps them to
  background; the count is given), audio with fewer VGGish seconds than the
  clip has frames (zero-filled) or more than 10 (truncated), split sizes
  that differ from the published ones, no ``label2idx.json`` (the default
  names are used), a clip listed twice.

The report is the one of :mod:`mmavs.datasets.avsbench_check`.
"""
import os.path as osp
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Iterable, List

from .avsbench import SPLITS, DatasetLayoutError
from .avsbench_check import (PROBLEM, WARNING, CheckReport, Finding,
                             SplitSummary)
from .avss import (CLIP_FRAMES, LABEL_FILE, METADATA_FILE, SUBSET_FRAMES,
                   ColorToIndex, clip_files, frame_flags, read_class_names,
                   read_metadata)
from .transforms.avss_loading import (check_mask_size, count_examples,
                                      read_avss_mask, read_wav)
from .transforms.loading import LoadAVSFrames


def _kind(error: Exception, default: str) -> str:
    return getattr(error, 'kind', default)


def check_avss_clip(root: str, row: dict, lookup: ColorToIndex,
                    mask_format: str = 'rgb') -> List[Finding]:
    """Everything wrong with one clip (a ``metadata.csv`` row)."""
    where = f'{row["label"]} {row["split"]} {row["uid"]}'
    found: List[Finding] = []
    mask_dir = 'labels_rgb' if mask_format == 'rgb' else 'labels_semantic'
    try:
        info = clip_files(root, row, mask_dir)
    except DatasetLayoutError as err:
        return [Finding(PROBLEM, _kind(err, 'layout'), where, str(err))]
    try:
        frames = LoadAVSFrames().transform(dict(info))
        height, width = frames['img_shape']
    except FileNotFoundError as err:
        found.append(Finding(PROBLEM, 'missing frame', where, str(err)))
        height = width = None
    except ValueError as err:
        found.append(Finding(PROBLEM, 'unreadable frame or frames of '
                             'different sizes', where, str(err)))
        height = width = None
    unmatched = 0
    for path in info['mask_paths']:
        if path is None:
            continue
        try:
            mask, count = read_avss_mask(path, mask_format, lookup)
            unmatched += count
            if height is not None:
                check_mask_size(mask, path, height, width)
        except FileNotFoundError as err:
            found.append(Finding(PROBLEM, 'missing mask', where, str(err)))
        except ValueError as err:
            kind = 'mask size differs from its frames' if 'but its frames' \
                in str(err) else 'unreadable mask'
            found.append(Finding(PROBLEM, kind, where, str(err)))
    if unmatched:
        found.append(Finding(WARNING, 'colours outside the palette', where,
                             f'{unmatched} pixels (read as background)'))
    try:
        data, rate = read_wav(info['audio_path'])
        seconds = count_examples(len(data), rate)
        real = SUBSET_FRAMES[row['label']]
        if seconds < real:
            found.append(Finding(
                WARNING, 'audio shorter than the clip', where,
                f'{info["audio_path"]}: {seconds} VGGish seconds for {real} '
                'frames (zero-filled)'))
        elif seconds > CLIP_FRAMES:
            found.append(Finding(
                WARNING, 'audio longer than 10 s', where,
                f'{info["audio_path"]}: {seconds} VGGish seconds, the first '
                f'{CLIP_FRAMES} are used'))
    except FileNotFoundError as err:
        found.append(Finding(PROBLEM, 'missing audio', where, str(err)))
    except ValueError as err:
        found.append(Finding(PROBLEM, 'unreadable audio', where, str(err)))
    return found


def check_avss(root: str,
               subsets: Iterable[str] = tuple(SUBSET_FRAMES),
               splits: Iterable[str] = SPLITS,
               jobs: int = 4,
               mask_format: str = 'rgb') -> CheckReport:
    """Check an AVSS root (``metadata.csv``, ``label2idx.json``, clips).

    Returns:
        CheckReport: Per subset and split counts, and every finding.
    """
    report = CheckReport(root=root, num_frames=CLIP_FRAMES)
    csv_path = osp.join(root, METADATA_FILE)
    try:
        rows = read_metadata(csv_path)
    except FileNotFoundError as err:
        report.findings.append(Finding(PROBLEM, 'missing metadata.csv', root,
                                       str(err)))
        return report
    except DatasetLayoutError as err:
        report.findings.append(Finding(PROBLEM, _kind(err, 'bad CSV'),
                                       csv_path, str(err)))
        return report
    label_path = osp.join(root, LABEL_FILE)
    if osp.isfile(label_path):
        try:
            read_class_names(label_path)
        except DatasetLayoutError as err:
            report.findings.append(Finding(PROBLEM, _kind(err, 'bad JSON'),
                                           label_path, str(err)))
    else:
        report.findings.append(Finding(
            WARNING, 'no label2idx.json', root,
            'the default class names of avss.md are used'))
    lookup = ColorToIndex()
    for subset in subsets:
        for split in splits:
            chosen = [r for r in rows
                      if r['label'] == subset and r['split'] == split]
            summary = SplitSummary(subset, split, clips=len(chosen),
                                   audio=len(chosen))
            summary.frames = len(chosen) * SUBSET_FRAMES[subset]
            summary.masks = len(chosen) * sum(frame_flags(subset, split)[1])
            report.splits.append(summary)
            names = Counter(r['uid'] for r in chosen)
            for name in sorted(n for n, c in names.items() if c > 1):
                report.findings.append(Finding(
                    WARNING, 'clip listed more than once',
                    f'{subset} {split} {name}', f'{names[name]} rows'))
            with ThreadPoolExecutor(max(1, jobs)) as pool:
                for clip_findings in pool.map(
                        lambda r: check_avss_clip(root, r, lookup,
                                                  mask_format), chosen):
                    summary.problems += sum(f.severity == PROBLEM
                                            for f in clip_findings)
                    report.findings += clip_findings
            if summary.published is not None and \
                    summary.clips != summary.published:
                report.findings.append(Finding(
                    WARNING, 'split size differs from the published one',
                    f'{subset} {split}',
                    f'{summary.clips} clips, the AVSS paper has '
                    f'{summary.published}'))
    if not any(s.clips for s in report.splits):
        report.findings.append(Finding(
            PROBLEM, 'empty split', csv_path,
            f'no clip of splits {list(splits)} in subsets {list(subsets)}'))
    return report
