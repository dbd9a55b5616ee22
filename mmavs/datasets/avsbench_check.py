"""Check an AVSBench-Object tree before training on it.

:func:`check_avsbench` walks every clip that the CSVs list, with the same
path logic as the datasets, and reads every file the pipeline would read. It
sorts what it finds into

- **problems**, which would stop or corrupt training: a missing CSV, a CSV
  without a ``split`` column or a split without clips, a missing or
  unreadable frame, mask or feature file, a 16-bit frame, frames of different
  sizes in a clip, a mask of another size than its frames, an S4 mask with
  values other than 0 and 255, audio features of the wrong shape, of an
  integer type or with NaN / inf;
- **warnings**, which deserve a look but are legal: split sizes that differ
  from the published ones (3452 / 740 / 740 S4, 296 / 64 / 64 MS3), frames that
  are not 224x224, frames converted to RGB (grayscale, RGBA, palette), MS3
  masks with more than two grey levels (the loader binarises them with
  ``> 0``), a clip listed twice.

The rules shared with the datasets are not restated here: the split rule is
:func:`read_split_rows`, the frame rule :func:`read_frame` and the audio rule
:func:`check_log_mel`, the very functions the datasets' pipeline calls.

:func:`format_report` prints a per-split table and the findings, grouped by
kind.
"""
import os.path as osp
from collections import Counter, OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from .avsbench import (SPLITS, AVSBenchMS3Dataset, AVSBenchS4Dataset,
                       DatasetLayoutError, read_split_rows)
from .transforms.loading import (AudioFeatureError, FrameBitDepthError,
                                 check_log_mel, load_log_mel, read_frame,
                                 read_image)

SUBSETS = OrderedDict(s4=AVSBenchS4Dataset, ms3=AVSBenchMS3Dataset)
# Clips per split in the AVSBench paper.
PUBLISHED_CLIPS = {
    's4': dict(train=3452, val=740, test=740),
    'ms3': dict(train=296, val=64, test=64),
    # AVSS (avss.md §6, recalled from the AVSS paper; v2 by subtraction).
    'v1s': dict(train=3452, val=740, test=740),
    'v1m': dict(train=296, val=64, test=64),
    'v2': dict(train=4750, val=500, test=750),
}
PROBLEM, WARNING = 'problem', 'warning'


@dataclass
class Finding:
    """One thing found: its severity, kind, where, and the details."""
    severity: str
    kind: str
    where: str
    detail: str = ''


@dataclass
class SplitSummary:
    """Counts of one split: clips, files read, problems found."""
    subset: str
    split: str
    clips: int = 0
    frames: int = 0
    masks: int = 0
    audio: int = 0
    problems: int = 0

    @property
    def published(self) -> Optional[int]:
        return PUBLISHED_CLIPS[self.subset].get(self.split)


@dataclass
class CheckReport:
    """Everything :func:`check_avsbench` found under one root."""
    root: str
    num_frames: int
    splits: List[SplitSummary] = field(default_factory=list)
    findings: List[Finding] = field(default_factory=list)

    def of(self, severity: str) -> List[Finding]:
        return [f for f in self.findings if f.severity == severity]

    @property
    def ok(self) -> bool:
        return not self.of(PROBLEM)


def _check_frames(paths: Sequence[str], where: str, frame_size: int,
                  out: List[Finding]) -> Optional[Tuple[int, int]]:
    """Read a clip's frames; the common (H, W), or None if unusable."""
    shapes = []
    for path in paths:
        try:
            frame, note = read_frame(path)
            shapes.append(frame.shape[:2])
            if note:
                out.append(Finding(WARNING, 'frame converted to RGB', where,
                                   note))
        except FileNotFoundError:
            out.append(Finding(PROBLEM, 'missing frame', where, path))
        except FrameBitDepthError as err:
            out.append(Finding(PROBLEM, '16-bit frame', where, str(err)))
        except ValueError as err:
            out.append(Finding(PROBLEM, 'unreadable frame', where, str(err)))
    if not shapes:
        return None
    if len(set(shapes)) > 1:
        out.append(Finding(PROBLEM, 'frames of different sizes', where,
                           ', '.join(f'{w}x{h}' for h, w in shapes)))
        return None
    height, width = shapes[0]
    if frame_size and (height, width) != (frame_size, frame_size):
        out.append(Finding(WARNING, f'frames not {frame_size}x{frame_size}',
                           where, f'{width}x{height}'))
    return shapes[0]


def _check_mask(path: str, size: Optional[Tuple[int, int]], subset: str,
                where: str, out: List[Finding]) -> None:
    try:
        mask = read_image(path, 'L', 'mask')
    except FileNotFoundError:
        out.append(Finding(PROBLEM, 'missing mask', where, path))
        return
    except ValueError as err:
        out.append(Finding(PROBLEM, 'unreadable mask', where, str(err)))
        return
    if size is not None and mask.shape != size:
        out.append(Finding(
            PROBLEM, 'mask size differs from its frames', where,
            f'{path}: {mask.shape[1]}x{mask.shape[0]}, frames '
            f'{size[1]}x{size[0]}'))
    levels = np.unique(mask)
    if subset == 's4' and not set(levels.tolist()) <= {0, 255}:
        out.append(Finding(PROBLEM, 'S4 mask not binary (0/255)', where,
                           f'{path}: values {levels[:6].tolist()}'))
    elif subset == 'ms3' and len(levels) > 2:
        out.append(Finding(WARNING, 'MS3 mask with more than two levels',
                           where, f'{path}: {len(levels)} grey levels'))


def _check_audio(path: str, num_frames: int, where: str,
                 out: List[Finding]) -> None:
    try:
        audio = load_log_mel(path)
    except FileNotFoundError as err:
        out.append(Finding(PROBLEM, 'missing audio features', where,
                           str(err).replace('missing audio features: ', '')))
        return
    except ValueError as err:
        out.append(Finding(PROBLEM, 'unreadable audio features', where,
                           str(err)))
        return
    try:
        check_log_mel(audio, num_frames, path)
    except AudioFeatureError as err:
        out.append(Finding(PROBLEM, err.kind, where, str(err)))


def check_clip(info: dict, subset: str, split: str,
               frame_size: int) -> List[Finding]:
    """Everything wrong with one clip (a data info of the datasets)."""
    where = f'{subset.upper()} {split} {info["clip_name"]}'
    found: List[Finding] = []
    size = _check_frames(info['frame_paths'], where, frame_size, found)
    for path in info['mask_paths']:
        if path is not None:
            _check_mask(path, size, subset, where, found)
    _check_audio(info['audio_path'], info['num_frames'], where, found)
    return found


def _check_split(root: str, subset: str, split: str, num_frames: int,
                 frame_size: int, jobs: int,
                 report: CheckReport) -> None:
    dataset = SUBSETS[subset](data_root=root, split=split,
                              num_frames=num_frames, lazy_init=True)
    summary = SplitSummary(subset, split)
    report.splits.append(summary)
    try:
        rows = read_split_rows(dataset.ann_file, split)
    except DatasetLayoutError as err:
        # The datasets refuse such a split: so does the check.
        report.findings.append(Finding(
            PROBLEM, 'split unusable', f'{subset.upper()} {split}', str(err)))
        summary.problems += 1
        rows = []
    infos = [dataset.parse_row(row) for row in rows]
    summary.clips = len(infos)
    summary.frames = len(infos) * num_frames
    summary.masks = sum(p is not None for i in infos for p in i['mask_paths'])
    summary.audio = len(infos)
    names = Counter(i['clip_name'] for i in infos)
    for name in sorted(n for n, c in names.items() if c > 1):
        report.findings.append(Finding(
            WARNING, 'clip listed more than once',
            f'{subset.upper()} {split} {name}', f'{names[name]} rows'))
    with ThreadPoolExecutor(max(1, jobs)) as pool:
        found = pool.map(lambda i: check_clip(i, subset, split, frame_size),
                         infos)
        for clip_findings in found:
            summary.problems += sum(f.severity == PROBLEM
                                    for f in clip_findings)
            report.findings += clip_findings
    if summary.published is not None and summary.clips != summary.published:
        report.findings.append(Finding(
            WARNING, 'split size differs from the published one',
            f'{subset.upper()} {split}',
            f'{summary.clips} clips, the AVSBench paper has '
            f'{summary.published}'))


def check_avsbench(root: str,
                   subsets: Iterable[str] = ('s4', 'ms3'),
                   splits: Iterable[str] = SPLITS,
                   num_frames: int = 5,
                   frame_size: int = 224,
                   jobs: int = 4) -> CheckReport:
    """Check an AVSBench-Object root.

    Args:
        root: The AVSBench root (``Single-source/``, ``Multi-sources/``).
        subsets: ``'s4'`` and / or ``'ms3'``. A subset whose CSV is absent
            is a warning when another subset is present, a problem when
            none is.
        splits: Splits to check.
        num_frames: Frames per clip the datasets are configured with.
        frame_size: Expected frame side (a warning otherwise); 0 to skip.
        jobs: Threads reading files.

    Returns:
        CheckReport: Per-split counts and every finding.
    """
    report = CheckReport(root=root, num_frames=num_frames)
    if not osp.isdir(root):
        report.findings.append(Finding(PROBLEM, 'missing data root', root))
        return report
    present = []
    for subset in subsets:
        cls = SUBSETS[subset]
        csv_path = osp.join(root, cls.SUBSET_DIR, cls.CSV_NAME)
        if osp.isfile(csv_path):
            present.append(subset)
        else:
            report.findings.append(Finding(
                WARNING, 'subset not found', subset.upper(),
                f'no {csv_path}'))
    if not present:
        for finding in report.findings:
            finding.severity = PROBLEM
        return report
    for subset in present:
        for split in splits:
            _check_split(root, subset, split, num_frames, frame_size, jobs,
                         report)
    return report


def _group(findings: Sequence[Finding],
           max_listed: int) -> List[str]:
    """Lines grouped by kind: a count, then the first few places."""
    by_kind: Dict[str, List[Finding]] = OrderedDict()
    for finding in findings:
        by_kind.setdefault(finding.kind, []).append(finding)
    lines = []
    for kind, items in by_kind.items():
        lines.append(f'  {kind} ({len(items)}):')
        for item in items[:max_listed]:
            detail = f': {item.detail}' if item.detail else ''
            lines.append(f'    {item.where}{detail}')
        if len(items) > max_listed:
            lines.append(f'    ... and {len(items) - max_listed} more')
    return lines


def format_report(report: CheckReport, max_listed: int = 10) -> str:
    """A readable summary: the per-split table, problems, warnings."""
    lines = [f'AVSBench check of {report.root} '
             f'({report.num_frames} frames per clip)', '']
    if report.splits:
        header = ('subset', 'split', 'clips', 'published', 'frames', 'masks',
                  'audio', 'problems')
        lines.append('{:<7}{:<7}{:>7}{:>11}{:>8}{:>7}{:>7}{:>10}'.format(
            *header))
        for s in report.splits:
            lines.append('{:<7}{:<7}{:>7}{:>11}{:>8}{:>7}{:>7}{:>10}'.format(
                s.subset.upper(), s.split, s.clips, s.published or '-',
                s.frames, s.masks, s.audio, s.problems))
        lines.append('')
    problems, warnings = report.of(PROBLEM), report.of(WARNING)
    if problems:
        lines.append(f'problems ({len(problems)}):')
        lines += _group(problems, max_listed)
    if warnings:
        lines.append(f'warnings ({len(warnings)}):')
        lines += _group(warnings, max_listed)
    verdict = 'FAILED' if problems else 'OK'
    lines += ['', f'{verdict}: {len(problems)} problems, '
              f'{len(warnings)} warnings']
    return '\n'.join(lines)
