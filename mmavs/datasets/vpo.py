"""The VPO benchmarks of CAVP (VPO-SS, VPO-MS, VPO-MSMI) in their released
layout (``cavp.md`` §1)::

    <data_root>/VPO-SS/vpo_ss_data_stereo.csv
    <data_root>/VPO-SS/data/<cateName>/<img:012d>.jpg
    <data_root>/VPO-SS/mask/<cateName>/<img:012d>_<ann:012d>.png
    <data_root>/VPO-MS/vpo_ms_data_stereo.csv
    <data_root>/VPO-MS/data/<img:012d>.jpg, mask/<img:012d>_<ann:012d>.png
    <data_root>/VPO-MSMI/vpo_msmi_data_stereo.csv   (rows with
        multi_instance == 0 point into VPO-MS/)
    <audio_root>/audios/<vgg_file>.wav               VGGSound clips

One item is one image: a clip with T = 1 (``docs/en/architecture.md``), its
mask (COCO category ids in the PNG, remapped to the 22 VPO indices by one
lookup table) and the sum of its sounding objects' 3-s clips, stereo-panned
by ``audio_pos`` or mono. The CSV is read by column name; ``split`` ``val``
is the test split (VPO has no validation split), and ``split='val'`` of the
datasets is a seeded 5 % hold-out of the training images (``cavp.md`` §7).

Bugs of the reference loaders that are absent here (``cavp.md`` §10): the
id remap is one table lookup (never sequential in place, §10.3), and a
horizontal flip mirrors the stereo position in every subset, SS included
(§10.2; :class:`~mmavs.datasets.transforms.VPORandomFlip`).
"""
import csv
import logging
import math
import os.path as osp
from collections import OrderedDict
from contextlib import nullcontext
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.dataset import BaseDataset
from mmengine.logging import print_log
from mmengine.registry import DefaultScope
from mmseg.registry import DATASETS

from .avsbench import DatasetLayoutError, derangement

IGNORE_INDEX = 255
# (name, COCO id) of the 22 VPO classes, in index order (cavp.md §1); male /
# female / baby use the non-COCO ids 92 / 93 / 94.
VPO_CLASS_IDS = (
    ('background', 0), ('airplane', 5), ('baby', 94), ('bird', 16),
    ('bus', 6), ('car', 3), ('cat', 17), ('cell phone', 77), ('cow', 21),
    ('dog', 18), ('elephant', 22), ('female', 93), ('horse', 19),
    ('keyboard', 76), ('male', 92), ('motorcycle', 4), ('mouse', 74),
    ('sheep', 20), ('skateboard', 41), ('sports ball', 37),
    ('tennis racket', 43), ('zebra', 24))
VPO_CLASSES = tuple(name for name, _ in VPO_CLASS_IDS)
NUM_VPO_CLASSES = len(VPO_CLASSES)
COCO_ID_OF = {name: coco for name, coco in VPO_CLASS_IDS}
CLASS_INDEX = {name: index for index, name in enumerate(VPO_CLASSES)}

# The splits of the datasets: 'train' and 'val' share the CSV's train rows
# (val = the seeded 5 % hold-out, train = the rest), 'trainval' is all of
# them (the published recipe), 'test' is the CSV's 'val'.
SPLITS = ('train', 'val', 'trainval', 'test')
CSV_SPLIT = dict(train='train', val='train', trainval='train', test='val')
HOLDOUT_FRACTION = 0.05
COLUMNS = ('cateName', 'img_Id', 'ann_Ids', 'cateId', 'vgg_file', 'split')


def vpo_lookup_table() -> np.ndarray:
    """The 256-entry table COCO id → VPO index (unknown ids → 255).

    One table lookup remaps every pixel at once, so a remapped value is never
    remapped again (the reference's sequential in-place loop turns car
    (3 → 5) into airplane (5 → 1), ``cavp.md`` §10.3).
    """
    table = np.full(256, IGNORE_INDEX, dtype=np.uint8)
    for index, (_, coco) in enumerate(VPO_CLASS_IDS):
        table[coco] = index
    return table


VPO_LUT = vpo_lookup_table()


def remap_mask(mask: np.ndarray) -> Tuple[np.ndarray, int]:
    """``(H, W)`` uint8 COCO ids → VPO indices, and the number of pixels
    with an id outside the table (set to 255; 255 itself, crop padding,
    stays 255 and is not counted)."""
    mask = np.asarray(mask, dtype=np.uint8)
    out = VPO_LUT[mask]
    unknown = int(((out == IGNORE_INDEX) & (mask != IGNORE_INDEX)).sum())
    return out, unknown


def vpo_palette() -> List[List[int]]:
    """Display colours: the Pascal-VOC colour map of the 22 indices."""
    from .avss import avss_palette
    return avss_palette(NUM_VPO_CLASSES).tolist()


def read_vpo_csv(path: str, need_position: bool,
                 need_multi_instance: bool = False) -> List[Dict[str, str]]:
    """Rows of a VPO CSV as dicts (columns by name), with their line number.

    Raises:
        FileNotFoundError: The CSV does not exist.
        DatasetLayoutError: A needed column is missing, or a row has a split
            other than ``train`` / ``val`` or a bad number.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'VPO CSV not found: {path} (see '
                                'docs/en/dataset_prepare.md)')
    needed = list(COLUMNS)
    if need_position:
        needed.append('audio_pos')
    if need_multi_instance:
        needed.append('multi_instance')
    with open(path, newline='', encoding='utf-8-sig') as f:
        reader = csv.DictReader(f)
        header = [name.strip() for name in (reader.fieldnames or [])]
        missing = [c for c in needed if c not in header]
        if missing:
            hint = ' (a mono CSV has no audio_pos: use audio_channels=1)' \
                if missing == ['audio_pos'] else ''
            raise DatasetLayoutError(
                f'{path}: no column(s) {missing} in header {header}; this '
                f'VPO subset needs {needed}{hint}')
        reader.fieldnames = header
        rows = []
        for line, row in enumerate(reader, start=2):
            row = {k: (v or '').strip() for k, v in row.items() if k}
            row['line'] = line
            if row['split'] not in ('train', 'val'):
                raise DatasetLayoutError(
                    f'{path} line {line}: split "{row["split"]}" is not '
                    '"train" or "val"')
            rows.append(row)
    return rows


def _integer(row: dict, column: str, path: str) -> int:
    try:
        return int(float(row[column]))
    except ValueError:
        raise DatasetLayoutError(
            f'{path} line {row["line"]}: column {column} is '
            f'"{row[column]}", not an integer') from None


def _position(row: dict, path: str) -> float:
    try:
        pos = float(row['audio_pos'])
    except ValueError:
        raise DatasetLayoutError(
            f'{path} line {row["line"]}: audio_pos "{row["audio_pos"]}" is '
            'not a number') from None
    if not 0.0 <= pos <= 1.0:
        raise DatasetLayoutError(
            f'{path} line {row["line"]}: audio_pos {pos} is outside [0, 1]')
    return pos


def holdout_ids(ids: Sequence[int], fraction: float = HOLDOUT_FRACTION,
                seed: int = 0) -> set:
    """The seeded validation hold-out: ``ceil(fraction * n)`` of the distinct
    image ids (at least 1 when there are 2 or more), drawn by a permutation
    of the sorted ids, so it depends only on the ids and the seed."""
    unique = sorted(set(ids))
    if len(unique) < 2:
        return set()
    count = max(1, int(math.ceil(fraction * len(unique))))
    order = np.random.default_rng(seed).permutation(len(unique))
    return {unique[i] for i in order[:count]}


class VPODataset(BaseDataset):
    """Common part of the three VPO datasets.

    Args:
        data_root: The VPO root holding ``VPO-SS/``, ``VPO-MS/``,
            ``VPO-MSMI/``.
        split: ``'train'`` (the CSV's train rows minus the hold-out),
            ``'val'`` (the hold-out: ``holdout_fraction`` of the training
            images, seed ``holdout_seed``), ``'trainval'`` (all train rows,
            as CAVP trained) or ``'test'`` (the CSV's ``val`` rows).
        audio_root: Folder holding ``audios/<vgg_file>.wav``; default
            ``<data_root>/vggsound`` (where ``build_vpo.py`` writes them).
        audio_channels: 2 (stereo, the CSV needs ``audio_pos``) or 1 (mono).
        ann_file: CSV path relative to ``data_root``; default the stereo CSV
            of the subset.
        shuffle_audio: Pair each image with the sound (its clips and
            positions) of another image, a seeded derangement: every image
            gets another image's sound.
        shuffle_audio_seed: Seed of that pairing.
        holdout_fraction, holdout_seed: The validation hold-out.
        check_files: Check at build time that every image, mask and WAV
            exists (one ``stat`` each), so a broken tree fails at once.
        **kwargs: Passed to :class:`mmengine.dataset.BaseDataset`
            (``pipeline``, ``test_mode``, ...).

    Each data info holds ``clip_name`` (``<img_Id>`` or, for SS,
    ``<img_Id>_<ann_Ids>``), ``img_id``, ``frame_paths`` and ``mask_paths``
    (one each), ``sources`` (one ``dict(wav_path, audio_pos, class_name)``
    per sounding row), ``sounding_classes`` (VPO indices of the image-level
    label without background), ``audio_path`` (the first source's WAV),
    ``num_frames`` = 1, ``frame_indices`` = [0], ``annotated``,
    ``frame_valid``.
    """

    METAINFO = dict(classes=VPO_CLASSES, palette=vpo_palette())
    SUBSET = ''
    SUBSET_DIR = ''
    CSV_NAME = ''
    MULTI_INSTANCE = False

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 audio_root: Optional[str] = None,
                 audio_channels: int = 2,
                 ann_file: Optional[str] = None,
                 shuffle_audio: bool = False,
                 shuffle_audio_seed: int = 0,
                 holdout_fraction: float = HOLDOUT_FRACTION,
                 holdout_seed: int = 0,
                 check_files: bool = True,
                 **kwargs) -> None:
        if split not in SPLITS:
            raise ValueError(f'unknown split "{split}"; expected one of '
                             f'{SPLITS}')
        if audio_channels not in (1, 2):
            raise ValueError('audio_channels must be 1 (mono) or 2 (stereo), '
                             f'not {audio_channels}')
        if not osp.isdir(data_root):
            raise FileNotFoundError(
                f'VPO data root not found: {data_root} (see '
                'docs/en/dataset_prepare.md)')
        self.split = split
        self.audio_root = audio_root or osp.join(data_root, 'vggsound')
        self.audio_channels = audio_channels
        self.shuffle_audio = shuffle_audio
        self.shuffle_audio_seed = shuffle_audio_seed
        self.holdout_fraction = holdout_fraction
        self.holdout_seed = holdout_seed
        self.check_files = check_files
        ann_file = ann_file or osp.join(self.SUBSET_DIR, self.CSV_NAME)
        scope = nullcontext() if DefaultScope.get_current_instance() else \
            DefaultScope.overwrite_default_scope('mmseg')
        with scope:
            super().__init__(ann_file=ann_file, data_root=data_root, **kwargs)

    # -- paths ------------------------------------------------------------
    def subset_dir(self, row: dict) -> str:
        """The folder an image's files live in."""
        return osp.join(self.data_root, self.SUBSET_DIR)

    def image_path(self, row: dict, img_id: int) -> str:
        return osp.join(self.subset_dir(row), 'data', f'{img_id:012d}.jpg')

    def mask_path(self, row: dict, img_id: int, ann_id: int) -> str:
        return osp.join(self.subset_dir(row), 'mask',
                        f'{img_id:012d}_{ann_id:012d}.png')

    def wav_path(self, vgg_file: str) -> str:
        name = vgg_file if vgg_file.endswith('.wav') else vgg_file + '.wav'
        return osp.join(self.audio_root, 'audios', name)

    # -- rows to samples ----------------------------------------------------
    def sample_key(self, row: dict, img_id: int, ann_id: int):
        """Rows with the same key form one sample (MS/MSMI: the image)."""
        return img_id

    def load_data_list(self) -> List[dict]:
        path = self.ann_file
        rows = read_vpo_csv(path, self.audio_channels == 2,
                            self.MULTI_INSTANCE)
        groups: 'OrderedDict[object, list]' = OrderedDict()
        for row in rows:
            if row['split'] != CSV_SPLIT[self.split]:
                continue
            img_id = _integer(row, 'img_Id', path)
            ann_id = _integer(row, 'ann_Ids', path)
            if row['cateName'] not in CLASS_INDEX or \
                    row['cateName'] == 'background':
                raise DatasetLayoutError(
                    f'{path} line {row["line"]}: cateName '
                    f'"{row["cateName"]}" is not a VPO class')
            row.update(img_id=img_id, ann_id=ann_id)
            groups.setdefault(self.sample_key(row, img_id, ann_id),
                              []).append(row)
        if self.split in ('train', 'val'):
            held = holdout_ids([rows[0]['img_id'] for rows in groups.values()],
                               self.holdout_fraction, self.holdout_seed)
            keep = (lambda i: i in held) if self.split == 'val' else \
                (lambda i: i not in held)
            groups = OrderedDict((k, v) for k, v in groups.items()
                                 if keep(v[0]['img_id']))
        if not groups:
            raise DatasetLayoutError(
                f'{path}: no sample of split "{self.split}" (CSV split '
                f'"{CSV_SPLIT[self.split]}")')
        data_list = [self.parse_group(key, members)
                     for key, members in groups.items()]
        if self.check_files:
            self._check_files(data_list)
        if self.shuffle_audio:
            if len(data_list) < 2:
                raise ValueError('shuffle_audio needs at least two images')
            sources = [(info['sources'], info['audio_path'])
                       for info in data_list]
            partner = derangement(len(data_list), self.shuffle_audio_seed)
            for info, other in zip(data_list, partner):
                info['sources'], info['audio_path'] = sources[other]
        print_log(f'{self.SUBSET} {self.split}: {len(data_list)} samples '
                  f'from {path}', logger='current')
        return data_list

    def parse_group(self, key, rows: List[dict]) -> dict:
        path = self.ann_file
        first = rows[0]
        img_id = first['img_id']
        masks = sorted({self.mask_path(r, img_id, r['ann_id']) for r in rows})
        if len(masks) != 1:
            raise DatasetLayoutError(
                f'{path}: image {img_id} (lines '
                f'{[r["line"] for r in rows]}) names {len(masks)} mask files '
                f'{masks}; a VPO image needs exactly one mask file for all '
                'its rows')
        images = sorted({self.image_path(r, img_id) for r in rows})
        if len(images) != 1:
            raise DatasetLayoutError(
                f'{path}: image {img_id} has rows pointing at {images}')
        sources = [
            dict(wav_path=self.wav_path(r['vgg_file']),
                 audio_pos=_position(r, path) if self.audio_channels == 2
                 else None,
                 class_name=r['cateName']) for r in rows
        ]
        classes = sorted({CLASS_INDEX[r['cateName']] for r in rows})
        name = str(key) if not isinstance(key, tuple) else \
            '_'.join(str(k) for k in key)
        return dict(
            clip_name=name,
            img_id=img_id,
            vpo_subset=self.SUBSET,
            frame_paths=images,
            mask_paths=masks,
            sources=sources,
            sounding_classes=classes,
            audio_path=sources[0]['wav_path'],
            num_frames=1,
            frame_indices=[0],
            annotated=[True],
            frame_valid=[True])

    def _check_files(self, data_list: List[dict]) -> None:
        for info in data_list:
            for what, paths in (('image', info['frame_paths']),
                                ('mask', info['mask_paths']),
                                ('audio', [s['wav_path']
                                           for s in info['sources']])):
                for file in paths:
                    if not osp.isfile(file):
                        raise FileNotFoundError(
                            f'missing VPO {what} {file} (sample '
                            f'{info["clip_name"]} of {self.ann_file})')


@DATASETS.register_module()
class VPOSSDataset(VPODataset):
    """VPO-SS: one sounding object per sample; one sample per CSV row
    (``<img_Id>_<ann_Ids>``); files under ``data/<cateName>/`` and
    ``mask/<cateName>/``."""

    SUBSET = 'VPO-SS'
    SUBSET_DIR = 'VPO-SS'
    CSV_NAME = 'vpo_ss_data_stereo.csv'

    def sample_key(self, row: dict, img_id: int, ann_id: int):
        return (img_id, ann_id)

    def image_path(self, row: dict, img_id: int) -> str:
        return osp.join(self.subset_dir(row), 'data', row['cateName'],
                        f'{img_id:012d}.jpg')

    def mask_path(self, row: dict, img_id: int, ann_id: int) -> str:
        return osp.join(self.subset_dir(row), 'mask', row['cateName'],
                        f'{img_id:012d}_{ann_id:012d}.png')


@DATASETS.register_module()
class VPOMSDataset(VPODataset):
    """VPO-MS: several sounding classes per image; the rows of an image are
    its sounding objects, their clips are summed."""

    SUBSET = 'VPO-MS'
    SUBSET_DIR = 'VPO-MS'
    CSV_NAME = 'vpo_ms_data_stereo.csv'


@DATASETS.register_module()
class VPOMSMIDataset(VPODataset):
    """VPO-MSMI: VPO-MS plus images with several instances of one class,
    some silent (stereo tells them apart). Rows with ``multi_instance`` 0
    point into ``VPO-MS/``, the others into ``VPO-MSMI/``."""

    SUBSET = 'VPO-MSMI'
    SUBSET_DIR = 'VPO-MSMI'
    CSV_NAME = 'vpo_msmi_data_stereo.csv'
    MULTI_INSTANCE = True

    def subset_dir(self, row: dict) -> str:
        try:
            multi = int(float(row['multi_instance']))
        except ValueError:
            raise DatasetLayoutError(
                f'{self.ann_file} line {row["line"]}: multi_instance '
                f'"{row["multi_instance"]}" is not 0 or 1') from None
        folder = 'VPO-MSMI' if multi else 'VPO-MS'
        return osp.join(self.data_root, folder)


def warn_unknown_ids(path: str, count: int) -> None:
    """One warning per mask with COCO ids outside the VPO table."""
    print_log(f'{path}: {count} pixels hold a COCO id that is not a VPO '
              f'class; set to ignore ({IGNORE_INDEX})', logger='current',
              level=logging.WARNING)
