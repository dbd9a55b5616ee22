"""AVSBench-Semantic (AVSS): the released layout, its labels and its clips.

Reads the tree the AVSS authors release, unchanged (``avss.md`` §1-4)::

    <root>/metadata.csv                          uid, label (v1s|v1m|v2), split
    <root>/label2idx.json                        71 class names, index order
    <root>/<label>/<uid>/frames/{0..N-1}.jpg     N = 5 (v1s, v1m), 10 (v2)
    <root>/<label>/<uid>/labels_rgb/{0..M-1}.png Pascal-VOC colour classes
    <root>/<label>/<uid>/audio.wav

One item is one clip padded to ``CLIP_FRAMES`` = 10 frames (``sample_frames=
'all'``, TPAVI style) or one annotated frame drawn at random per iteration
(``sample_frames='one_annotated'``, CAVP / CPM style, T = 1). Per-frame flags
``frame_valid`` (the frame exists) and ``annotated`` (it has a ground-truth
mask) follow the clip contract of ``docs/en/architecture.md``.

The layout rules (file numbering, frame and mask counts, the palette, the CSV
columns, ``label2idx.json``) are written once here and used both by the dataset
(which raises :class:`DatasetLayoutError`) and by the checker
(``mmavs/datasets/avss_check.py``, which collects them).
"""
import csv
import json
import os
import os.path as osp
import re
from contextlib import nullcontext
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.dataset import BaseDataset
from mmengine.logging import print_log
from mmengine.registry import DefaultScope
from mmseg.registry import DATASETS

from .avsbench import SPLITS, DatasetLayoutError, derangement

CLIP_FRAMES = 10
NUM_CLASSES = 71
SUBSET_FRAMES = dict(v1s=5, v1m=5, v2=10)
REQUIRED_COLUMNS = ('uid', 'label', 'split')
METADATA_FILE = 'metadata.csv'
LABEL_FILE = 'label2idx.json'
SAMPLE_MODES = ('all', 'one_annotated')

# Default class names (avss.md §3, a third-party copy of label2idx.json): used
# only when the tree has no label2idx.json of its own.
DEFAULT_CLASSES = (
    'background', 'accordion', 'airplane', 'axe', 'baby', 'bassoon', 'bell',
    'bird', 'boat', 'boy', 'bus', 'car', 'cat', 'cello', 'clarinet', 'clipper',
    'clock', 'dog', 'donkey', 'drum', 'duck', 'elephant', 'emergency-car',
    'erhu', 'flute', 'frying-food', 'girl', 'goose', 'guitar', 'gun',
    'guzheng', 'hair-dryer', 'handpan', 'harmonica', 'harp', 'helicopter',
    'hen', 'horse', 'keyboard', 'leopard', 'lion', 'man', 'marimba',
    'missile-rocket', 'motorcycle', 'mower', 'parrot', 'piano', 'pig', 'pipa',
    'saw', 'saxophone', 'sheep', 'sitar', 'sorna', 'squirrel', 'tabla', 'tank',
    'tiger', 'tractor', 'train', 'trombone', 'truck', 'trumpet', 'tuba',
    'ukulele', 'utv', 'vacuum-cleaner', 'violin', 'wolf', 'woman')


def layout_error(kind: str, message: str) -> DatasetLayoutError:
    """A :class:`DatasetLayoutError` that carries the rule it breaks
    (``kind``), for the checker's grouping."""
    error = DatasetLayoutError(message)
    error.kind = kind
    return error


# --------------------------------------------------------------------------
# Colours
# --------------------------------------------------------------------------
def avss_palette(num_classes: int = NUM_CLASSES) -> np.ndarray:
    """The Pascal-VOC colour map of AVSS, ``(num_classes, 3)`` uint8 RGB.

    Bit ``3i + k`` of the class index sets bit ``7 - i`` of channel ``k``.
    """
    palette = np.zeros((num_classes, 3), dtype=np.uint8)
    for index in range(num_classes):
        label, bit = index, 0
        while label > 0:
            for channel in range(3):
                bit_value = (label >> channel) & 1
                palette[index, channel] |= bit_value << (7 - bit)
            label >>= 3
            bit += 1
    return palette


def pack_rgb(rgb: np.ndarray) -> np.ndarray:
    """``(..., 3)`` uint8 RGB to ``(...)`` int64 ``R << 16 | G << 8 | B``."""
    rgb = rgb.astype(np.int64)
    return (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]


class ColorToIndex:
    """Map colour-coded masks to class indices with one sorted lookup.

    A pixel whose colour is in the palette gets that entry's index; any
    other colour gets ``unmatched_index`` (0, background, as the reference's
    argmax over 71 all-false maps gives) and is counted.
    """

    def __init__(self, palette: Optional[np.ndarray] = None,
                 unmatched_index: int = 0) -> None:
        palette = avss_palette() if palette is None else np.asarray(palette)
        codes = pack_rgb(palette)
        self.order = np.argsort(codes, kind='stable')
        self.codes = codes[self.order]
        self.unmatched_index = unmatched_index

    def __call__(self, rgb: np.ndarray) -> Tuple[np.ndarray, int]:
        """``(H, W, 3)`` RGB → ``(H, W)`` uint8 indices, unmatched count."""
        codes = pack_rgb(rgb)
        slot = np.clip(np.searchsorted(self.codes, codes), 0,
                       len(self.codes) - 1)
        matched = self.codes[slot] == codes
        index = np.where(matched, self.order[slot], self.unmatched_index)
        return index.astype(np.uint8), int(matched.size - matched.sum())


# --------------------------------------------------------------------------
# Metadata, class names, clip folders
# --------------------------------------------------------------------------
def read_metadata(csv_path: str) -> List[Dict[str, str]]:
    """Every row of ``metadata.csv`` as a dict, columns read by name.

    Raises:
        FileNotFoundError: The CSV does not exist.
        DatasetLayoutError: It lacks a column of ``REQUIRED_COLUMNS`` or a row
            has a subset (``label``) or split that AVSS does not have.
    """
    if not osp.isfile(csv_path):
        raise FileNotFoundError(f'AVSS metadata not found: {csv_path}')
    # utf-8-sig: a byte-order mark would otherwise hide the first column.
    with open(csv_path, newline='', encoding='utf-8-sig') as f:
        reader = csv.DictReader(f)
        header = [name.strip() for name in (reader.fieldnames or [])]
        missing = [c for c in REQUIRED_COLUMNS if c not in header]
        if missing:
            raise layout_error(
                'CSV without the needed columns',
                f'{csv_path}: no column(s) {missing} in header {header}; '
                f'AVSS metadata needs {list(REQUIRED_COLUMNS)}')
        reader.fieldnames = header
        rows = [{k: (v or '').strip() for k, v in row.items() if k}
                for row in reader]
    for line, row in enumerate(rows, start=2):
        if row['label'] not in SUBSET_FRAMES or row['split'] not in SPLITS:
            raise layout_error(
                'unknown subset or split in the CSV',
                f'{csv_path} line {line}: label "{row["label"]}" / split '
                f'"{row["split"]}" is not one of {list(SUBSET_FRAMES)} / '
                f'{list(SPLITS)}')
    return rows


def read_class_names(json_path: str) -> Tuple[str, ...]:
    """Class names from ``label2idx.json``: the j-th key names index j.

    Raises:
        DatasetLayoutError: Unreadable, or not ``NUM_CLASSES`` entries.
    """
    try:
        with open(json_path) as f:
            names = json.load(f)
    except (OSError, ValueError) as err:
        raise layout_error('unreadable label2idx.json',
                           f'unreadable class file {json_path}: {err}') \
            from err
    if not isinstance(names, dict) or len(names) != NUM_CLASSES:
        count = len(names) if isinstance(names, (dict, list)) else '?'
        raise layout_error(
            'label2idx.json without 71 classes',
            f'{json_path}: expected a JSON object of {NUM_CLASSES} class '
            f'names (background first), found {count} entries')
    return tuple(names)


def class_names(root: str) -> Tuple[str, ...]:
    """The tree's own class names when it has ``label2idx.json``, else the
    default list."""
    path = osp.join(root, LABEL_FILE)
    return read_class_names(path) if osp.isfile(path) else DEFAULT_CLASSES


def count_numbered(folder: str, ext: str) -> int:
    """How many files ``0.ext, 1.ext, ...`` a folder holds, contiguous from 0.

    Raises:
        DatasetLayoutError: The folder is missing, or the numbers have a gap
            (the first missing file is named).
    """
    if not osp.isdir(folder):
        raise layout_error('missing folder', f'missing folder {folder}')
    pattern = re.compile(r'^(\d+)\.' + re.escape(ext) + '$')
    numbers = sorted(int(m.group(1)) for m in map(pattern.match,
                                                   os.listdir(folder)) if m)
    for expected, number in enumerate(numbers):
        if number != expected:
            missing = osp.join(folder, f'{expected}.{ext}')
            raise layout_error(
                'gap in file numbers',
                f'gap in file numbers: {missing} is missing but '
                f'{number}.{ext} exists (files must be numbered 0..N-1)')
    return len(numbers)


def frame_flags(subset: str, split: str) -> Tuple[List[bool], List[bool]]:
    """``frame_valid`` and ``annotated`` of the 10 frames of a clip.

    v1s training clips are annotated on frame 0 only; v1s val/test clips on
    their 5 frames (the masks are on disk; CAVP's choice); v1m on its 5, v2 on
    its 10. Padded frames are never annotated.
    """
    real = SUBSET_FRAMES[subset]
    labelled = 1 if (subset == 'v1s' and split == 'train') else real
    valid = [t < real for t in range(CLIP_FRAMES)]
    annotated = [t < labelled for t in range(CLIP_FRAMES)]
    return valid, annotated


def clip_files(root: str, row: Dict[str, str], mask_dir: str = 'labels_rgb',
               frame_ext: str = 'jpg') -> dict:
    """Paths and flags of one clip, checked against the layout rules.

    Returns:
        dict: ``clip_name``, ``subset``, ``split``, ``frame_paths`` and
        ``mask_paths`` (``CLIP_FRAMES`` entries, ``None`` for a padded or
        unannotated frame), ``frame_valid``, ``annotated``, ``audio_path``,
        ``num_frames`` and every other CSV column.

    Raises:
        DatasetLayoutError: A folder is missing, the numbering has a gap, or
            the clip has too few frames or masks for its subset.
    """
    subset, split, uid = row['label'], row['split'], row['uid']
    clip_dir = osp.join(root, subset, uid)
    valid, annotated = frame_flags(subset, split)
    frames_dir = osp.join(clip_dir, 'frames')
    found = count_numbered(frames_dir, frame_ext)
    real = SUBSET_FRAMES[subset]
    if found != real:
        raise layout_error(
            'wrong number of frames',
            f'{frames_dir}: {found} frames, a {subset} clip has {real} '
            f'(0.{frame_ext}..{real - 1}.{frame_ext})')
    masks_dir = osp.join(clip_dir, mask_dir)
    masks = count_numbered(masks_dir, 'png')
    needed = sum(annotated)
    if masks < needed:
        missing = osp.join(masks_dir, f'{masks}.png')
        raise layout_error(
            'missing mask',
            f'missing mask {missing}: a {subset} {split} clip needs '
            f'{needed} masks, found {masks}')
    info = {k: v for k, v in row.items() if k not in ('uid', 'label')}
    info.update(
        clip_name=uid,
        subset=subset,
        split=split,
        frame_paths=[osp.join(frames_dir, f'{t}.{frame_ext}') if valid[t]
                     else None for t in range(CLIP_FRAMES)],
        mask_paths=[osp.join(masks_dir, f'{t}.png') if annotated[t] else None
                    for t in range(CLIP_FRAMES)],
        frame_valid=valid,
        annotated=annotated,
        audio_path=osp.join(clip_dir, 'audio.wav'),
        num_frames=CLIP_FRAMES)
    return info


def select_frames(info: dict, frames: Sequence[int]) -> dict:
    """A data info restricted to ``frames`` (their original numbers kept in
    ``frame_indices`` for the audio and the metainfo)."""
    out = dict(info)
    for key in ('frame_paths', 'mask_paths', 'frame_valid', 'annotated'):
        out[key] = [info[key][t] for t in frames]
    out['frame_indices'] = list(frames)
    out['num_frames'] = len(frames)
    return out


@DATASETS.register_module()
class AVSSDataset(BaseDataset):
    """AVSBench-Semantic in its released layout.

    Args:
        data_root: The AVSS root (``metadata.csv``, ``v1s/``, ``v1m/``,
            ``v2/``).
        split: ``'train'``, ``'val'`` or ``'test'``.
        subsets: Subsets (CSV ``label``) to keep, default all three.
        sample_frames: ``'all'``: one item is the whole clip padded to 10
            frames; ``'one_annotated'``: one annotated frame drawn at random
            each time the clip is read (T = 1).
        mask_dir: ``'labels_rgb'`` (colour masks, the canonical input) or
            ``'labels_semantic'`` (index PNGs, as CAVP reads them).
        shuffle_audio: Pair each clip with the audio of another clip (a
            seeded derangement).
        shuffle_audio_seed: Seed of that pairing.
        **kwargs: Passed to :class:`mmengine.dataset.BaseDataset`.

    Each data info holds ``clip_name``, ``subset``, ``split``,
    ``frame_paths``, ``mask_paths``, ``frame_valid``, ``annotated``,
    ``frame_indices``, ``audio_path``, ``num_frames`` and the other CSV
    columns; ``metainfo`` has ``classes`` (from ``label2idx.json`` when the
    tree has one) and ``palette``.
    """

    METAINFO = dict(classes=DEFAULT_CLASSES,
                    palette=avss_palette().tolist())

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 subsets: Sequence[str] = tuple(SUBSET_FRAMES),
                 sample_frames: str = 'all',
                 mask_dir: str = 'labels_rgb',
                 shuffle_audio: bool = False,
                 shuffle_audio_seed: int = 0,
                 metainfo: Optional[dict] = None,
                 **kwargs) -> None:
        if split not in SPLITS:
            raise ValueError(f'unknown split "{split}"; expected one of '
                             f'{SPLITS}')
        unknown = set(subsets) - set(SUBSET_FRAMES)
        if unknown:
            raise ValueError(f'unknown AVSS subsets {sorted(unknown)}; '
                             f'expected some of {list(SUBSET_FRAMES)}')
        if sample_frames not in SAMPLE_MODES:
            raise ValueError(f'sample_frames must be one of {SAMPLE_MODES}, '
                             f'not "{sample_frames}"')
        if mask_dir not in ('labels_rgb', 'labels_semantic'):
            raise ValueError('mask_dir must be "labels_rgb" or '
                             f'"labels_semantic", not "{mask_dir}"')
        if not osp.isdir(data_root):
            raise FileNotFoundError(
                f'AVSS data root not found: {data_root} (see '
                'docs/en/dataset_prepare.md)')
        self.split = split
        self.subsets = tuple(subsets)
        self.sample_frames = sample_frames
        self.mask_dir = mask_dir
        self.shuffle_audio = shuffle_audio
        self.shuffle_audio_seed = shuffle_audio_seed
        metainfo = dict(metainfo or {})
        metainfo.setdefault('classes', class_names(data_root))
        scope = nullcontext() if DefaultScope.get_current_instance() else \
            DefaultScope.overwrite_default_scope('mmseg')
        with scope:
            super().__init__(ann_file=METADATA_FILE, data_root=data_root,
                             metainfo=metainfo, **kwargs)

    def load_data_list(self) -> List[dict]:
        rows = read_metadata(self.ann_file)
        in_split = [r for r in rows if r['split'] == self.split]
        chosen = [r for r in in_split if r['label'] in self.subsets]
        if not chosen:
            raise layout_error(
                'empty split',
                f'{self.ann_file}: no clip of split "{self.split}" in '
                f'subsets {list(self.subsets)}')
        print_log(f'AVSS {self.split}: {len(chosen)}/{len(rows)} videos '
                  f'(subsets {list(self.subsets)})', logger='current')
        data_list = [clip_files(self.data_root, r, self.mask_dir)
                     for r in chosen]
        for info in data_list:
            info['frame_indices'] = list(range(CLIP_FRAMES))
        if self.shuffle_audio:
            if len(data_list) < 2:
                raise ValueError('shuffle_audio needs at least two clips')
            audio = [info['audio_path'] for info in data_list]
            partner = derangement(len(data_list), self.shuffle_audio_seed)
            for info, other in zip(data_list, partner):
                info['audio_path'] = audio[other]
        return data_list

    def get_data_info(self, idx: int) -> dict:
        info = super().get_data_info(idx)
        if self.sample_frames == 'one_annotated':
            # np.random: mmengine seeds it per worker, so runs repeat.
            choices = [t for t, a in enumerate(info['annotated']) if a]
            info = select_frames(info, [int(np.random.choice(choices))])
        return info
