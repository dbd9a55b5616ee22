"""Build VPO-style data from a COCO-format segmentation set and class-labelled
audio clips (``cavp.md`` §3), in exactly the released layout the VPO datasets
read (``cavp.md`` §1, :mod:`mmavs.datasets.vpo`).

Inputs:

- one or more COCO instance files, each with its image folder and the VPO
  split it becomes (``train`` or ``val``; ``val`` is VPO's test split);
- a class map: COCO category (id or name) → VPO class name (several
  categories may share a name; ids 92-94 stand for male / female / baby);
- an audio index CSV with columns ``file`` (relative to the audio folder),
  ``class`` (VPO class name) and ``split`` (``train`` / ``val``).

Choices (``cavp.md`` §3; the instance-level ones are ours, the paper defers
them to its supplement): crowd annotations and unmapped categories are
dropped, as are classes without audio in the image's split;

- SS: every image with a mapped object gives one sample, images with two or
  more mapped classes first; one random annotation sounds, the mask holds its
  pixels only;
- MS: images with ≥ 2 mapped classes, none repeated; the first
  ``ms_min_sounding`` objects of a random order sound, every further one
  sounds with probability ``1 - silence_prob`` (silenced ones are
  background), at most ``max_sounding``;
- MSMI: images with ≥ 2 instances of one class (one such class drawn);
  between 1 and (instances - 1) of them sound (at most ``max_sounding``),
  the other instances and every other object are background. The MSMI CSV
  also lists every MS row with ``multi_instance`` 0.

Each sounding object gets a random clip of its class from the audio split of
the image's split and ``audio_pos`` = x of its mask's centre of mass / W.
Masks hold the VPO COCO ids (``COCO_ID_OF``) of the sounding objects, 0
elsewhere. Clips are copied (or linked) to ``<out>/vggsound/audios/``.
Everything is a function of the inputs and ``seed``.

pycocotools is not needed: polygons are rasterised with PIL, RLE (counts
lists and compressed strings) is decoded here.
"""
import csv
import json
import os
import os.path as osp
import shutil
from collections import defaultdict
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from PIL import Image, ImageDraw

from mmavs.datasets.vpo import COCO_ID_OF, VPO_CLASSES

SUBSETS = ('SS', 'MS', 'MSMI')
CSV_NAMES = dict(SS='VPO-SS/vpo_ss_data_stereo.csv',
                 MS='VPO-MS/vpo_ms_data_stereo.csv',
                 MSMI='VPO-MSMI/vpo_msmi_data_stereo.csv')
CSV_COLUMNS = ('cateName', 'img_Id', 'ann_Ids', 'cateId', 'vgg_file',
               'split', 'audio_pos')
AUDIO_DIR = osp.join('vggsound', 'audios')


class VPOBuildError(ValueError):
    """The builder's inputs are inconsistent; the message names the file."""


# --------------------------------------------------------------------------
# COCO masks without pycocotools
# --------------------------------------------------------------------------
def decode_rle_string(counts: str) -> List[int]:
    """COCO's compressed RLE string to run lengths (the LEB128-like code of
    ``maskApi.c``: 5 bits per character, offset 48, bit 0x20 = more, bit
    0x10 on the last character = negative; runs after the second are coded
    as differences to the run two before)."""
    runs: List[int] = []
    pos = 0
    data = counts.encode('ascii') if isinstance(counts, str) else counts
    while pos < len(data):
        value, shift, more = 0, 0, True
        while more:
            char = data[pos] - 48
            value |= (char & 0x1f) << (5 * shift)
            more = bool(char & 0x20)
            pos += 1
            shift += 1
            if not more and (char & 0x10):
                value |= -1 << (5 * shift)
        if len(runs) > 2:
            value += runs[-2]
        runs.append(value)
    return runs


def rle_to_mask(rle: dict) -> np.ndarray:
    """``{'size': [h, w], 'counts': list or str}`` → ``(h, w)`` bool
    (runs alternate 0 / 1 starting with 0, column-major)."""
    height, width = rle['size']
    counts = rle['counts']
    runs = decode_rle_string(counts) if isinstance(counts, (str, bytes)) \
        else list(counts)
    flat = np.zeros(height * width, dtype=bool)
    start, value = 0, False
    for run in runs:
        if value:
            flat[start:start + run] = True
        start += run
        value = not value
    if start != height * width:
        raise VPOBuildError(f'RLE covers {start} pixels, the image has '
                            f'{height * width}')
    return flat.reshape(width, height).T


def mask_to_rle(mask: np.ndarray) -> dict:
    """``(h, w)`` bool → uncompressed COCO RLE (column-major runs)."""
    flat = np.asarray(mask, dtype=bool).T.ravel()
    runs, value, count = [], False, 0
    for pixel in flat:
        if pixel == value:
            count += 1
        else:
            runs.append(count)
            value, count = pixel, 1
    runs.append(count)
    return dict(size=list(mask.shape), counts=runs)


def annotation_mask(ann: dict, height: int, width: int) -> np.ndarray:
    """The ``(height, width)`` bool mask of a COCO annotation (polygons
    filled with PIL, RLE decoded)."""
    seg = ann.get('segmentation')
    if isinstance(seg, list):
        canvas = Image.new('L', (width, height), 0)
        draw = ImageDraw.Draw(canvas)
        for poly in seg:
            points = list(zip(poly[0::2], poly[1::2]))
            if len(points) >= 3:
                draw.polygon(points, fill=1, outline=1)
        return np.asarray(canvas, dtype=bool)
    if isinstance(seg, dict):
        mask = rle_to_mask(seg)
        if mask.shape != (height, width):
            raise VPOBuildError(
                f'annotation {ann.get("id")}: RLE size {mask.shape} differs '
                f'from its image ({height}, {width})')
        return mask
    raise VPOBuildError(f'annotation {ann.get("id")} has no segmentation')


# --------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------
def read_class_map(class_map) -> Dict[str, str]:
    """A dict or a JSON file: COCO category id or name → VPO class name."""
    if isinstance(class_map, str):
        with open(class_map) as f:
            class_map = json.load(f)
    out = {}
    for key, name in class_map.items():
        if name not in VPO_CLASSES or name == 'background':
            raise VPOBuildError(f'class map: "{name}" (for {key}) is not one '
                                f'of the VPO classes {list(VPO_CLASSES[1:])}')
        out[str(key)] = name
    return out


def read_audio_index(path: str) -> Dict[Tuple[str, str], List[str]]:
    """``(class, split)`` → sorted clip files of the audio index CSV."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'audio index not found: {path}')
    index: Dict[Tuple[str, str], List[str]] = defaultdict(list)
    with open(path, newline='', encoding='utf-8-sig') as f:
        reader = csv.DictReader(f)
        header = [h.strip() for h in reader.fieldnames or []]
        missing = [c for c in ('file', 'class', 'split') if c not in header]
        if missing:
            raise VPOBuildError(f'{path}: no column(s) {missing} in header '
                                f'{header}')
        reader.fieldnames = header
        for line, row in enumerate(reader, start=2):
            cls, split = row['class'].strip(), row['split'].strip()
            if cls not in VPO_CLASSES:
                raise VPOBuildError(f'{path} line {line}: class "{cls}" is '
                                    'not a VPO class')
            if split not in ('train', 'val'):
                raise VPOBuildError(f'{path} line {line}: split "{split}" '
                                    'is not train or val')
            index[(cls, split)].append(row['file'].strip())
    return {k: sorted(v) for k, v in index.items()}


def load_coco(ann_file: str) -> dict:
    if not osp.isfile(ann_file):
        raise FileNotFoundError(f'COCO annotation file not found: {ann_file}')
    with open(ann_file) as f:
        coco = json.load(f)
    for key in ('images', 'annotations', 'categories'):
        if key not in coco:
            raise VPOBuildError(f'{ann_file}: no "{key}" list (not a COCO '
                                'instances file)')
    return coco


def mapped_objects(coco: dict, class_map: Dict[str, str],
                   audio_classes: set) -> Dict[int, List[dict]]:
    """Image id → its usable annotations, each with ``vpo_class``."""
    category_name = {c['id']: c['name'] for c in coco['categories']}
    per_image: Dict[int, List[dict]] = defaultdict(list)
    for ann in sorted(coco['annotations'], key=lambda a: a['id']):
        if ann.get('iscrowd', 0):
            continue
        cat = ann['category_id']
        name = class_map.get(str(cat),
                             class_map.get(category_name.get(cat, '')))
        if name is None or name not in audio_classes:
            continue
        per_image[ann['image_id']].append(dict(ann, vpo_class=name))
    return per_image


# --------------------------------------------------------------------------
# Choosing samples
# --------------------------------------------------------------------------
def choose_ss(objects: List[dict], rng) -> List[dict]:
    return [objects[int(rng.integers(len(objects)))]]


def choose_ms(objects: List[dict], rng, min_sounding: int,
              silence_prob: float, max_sounding: int) -> List[dict]:
    order = [objects[i] for i in rng.permutation(len(objects))]
    chosen = []
    for rank, obj in enumerate(order):
        keep = rank < min_sounding or rng.random() >= silence_prob
        if keep and len(chosen) < max_sounding:
            chosen.append(obj)
    return chosen


def choose_msmi(objects: List[dict], rng, max_sounding: int) -> List[dict]:
    by_class = defaultdict(list)
    for obj in objects:
        by_class[obj['vpo_class']].append(obj)
    repeated = sorted(c for c, objs in by_class.items() if len(objs) >= 2)
    cls = repeated[int(rng.integers(len(repeated)))]
    instances = by_class[cls]
    count = int(rng.integers(1, min(len(instances) - 1, max_sounding) + 1))
    picked = sorted(rng.choice(len(instances), size=count, replace=False))
    return [instances[i] for i in picked]


# --------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------
def centre_x(mask: np.ndarray) -> float:
    """x of the mask's centre of mass / W (0.5 for an empty mask)."""
    cols = np.nonzero(mask)[1]
    return float(cols.mean() / mask.shape[1]) if cols.size else 0.5


class _Writer:
    """Writes images, masks and audio, remembering what is already there."""

    def __init__(self, out_root: str, audio_dir: str, link_audio: bool):
        self.out_root = out_root
        self.audio_dir = audio_dir
        self.link_audio = link_audio
        self.audio_stems: Dict[str, str] = {}

    def image(self, src: str, dst: str, size: Tuple[int, int]) -> None:
        if osp.isfile(dst):
            return
        if not osp.isfile(src):
            raise FileNotFoundError(f'COCO image not found: {src}')
        os.makedirs(osp.dirname(dst), exist_ok=True)
        with Image.open(src) as image:
            if image.size != size:
                raise VPOBuildError(
                    f'image {src} is {image.size[0]}x{image.size[1]}, its '
                    f'annotation file says {size[0]}x{size[1]}')
            if image.format == 'JPEG' and image.mode == 'RGB':
                shutil.copyfile(src, dst)
            else:
                image.convert('RGB').save(dst, quality=95)

    def mask(self, dst: str, label: np.ndarray) -> None:
        os.makedirs(osp.dirname(dst), exist_ok=True)
        Image.fromarray(label.astype(np.uint8), 'L').save(dst)

    def audio(self, rel: str) -> str:
        """Copy (or link) a clip; return its ``vgg_file`` stem."""
        stem = osp.splitext(osp.basename(rel))[0]
        known = self.audio_stems.get(stem)
        if known is not None and known != rel:
            raise VPOBuildError(f'audio clips {known} and {rel} share the '
                                f'name {stem}; vgg_file stems must be unique')
        if known is None:
            src = osp.join(self.audio_dir, rel)
            if not osp.isfile(src):
                raise FileNotFoundError(f'audio clip not found: {src}')
            dst = osp.join(self.out_root, AUDIO_DIR, stem + '.wav')
            os.makedirs(osp.dirname(dst), exist_ok=True)
            if self.link_audio:
                os.symlink(osp.abspath(src), dst)
            else:
                shutil.copyfile(src, dst)
            self.audio_stems[stem] = rel
        return stem


def build_vpo(out_root: str,
              coco_sets: Sequence[dict],
              class_map,
              audio_index: str,
              audio_dir: Optional[str] = None,
              subsets: Sequence[str] = SUBSETS,
              seed: int = 0,
              ms_min_sounding: int = 2,
              silence_prob: float = 0.5,
              max_sounding: int = 5,
              max_images: Optional[Dict[str, int]] = None,
              link_audio: bool = False) -> Dict[str, Dict[str, int]]:
    """Write a VPO tree under ``out_root``.

    Args:
        out_root: Output VPO root (``VPO-SS/``, ``VPO-MS/``, ``VPO-MSMI/``,
            ``vggsound/audios/``).
        coco_sets: ``dict(ann_file, img_dir, split)`` per COCO file;
            ``split`` is ``'train'`` or ``'val'`` (VPO's test split).
        class_map: Dict or JSON file, COCO category id or name → VPO name.
        audio_index: CSV ``file, class, split``.
        audio_dir: Folder the index's files are relative to (default: the
            index's folder).
        subsets: Which of ``'SS'``, ``'MS'``, ``'MSMI'`` to write.
        seed: Every random choice comes from this seed.
        ms_min_sounding, silence_prob, max_sounding: The MS silencing rule
            (spec: 2, 0.5, 5).
        max_images: Optional cap per subset, e.g. ``dict(SS=1000)``, applied
            per split in priority order.
        link_audio: Symlink the clips instead of copying them.

    Returns:
        dict: Samples written per subset and split.
    """
    unknown = set(subsets) - set(SUBSETS)
    if unknown:
        raise ValueError(f'unknown VPO subsets {sorted(unknown)}; expected '
                         f'some of {SUBSETS}')
    if 'MSMI' in subsets and 'MS' not in subsets:
        raise ValueError('MSMI lists the MS images too: build MS with it')
    class_map = read_class_map(class_map)
    audio = read_audio_index(audio_index)
    audio_dir = audio_dir or osp.dirname(osp.abspath(audio_index))
    rng = np.random.default_rng(seed)
    writer = _Writer(out_root, audio_dir, link_audio)
    rows: Dict[str, List[list]] = {s: [] for s in subsets}
    counts: Dict[str, Dict[str, int]] = {s: defaultdict(int) for s in subsets}
    caps = dict(max_images or {})
    for coco_set in coco_sets:
        split = coco_set['split']
        if split not in ('train', 'val'):
            raise ValueError(f'COCO set split must be train or val, not '
                             f'{split}')
        coco = load_coco(coco_set['ann_file'])
        audio_classes = {c for (c, s) in audio if s == split}
        per_image = mapped_objects(coco, class_map, audio_classes)
        images = {im['id']: im for im in coco['images']}
        for image_id in sorted(per_image):
            if image_id not in images:
                raise VPOBuildError(f'{coco_set["ann_file"]}: annotation of '
                                    f'unknown image {image_id}')

        def pick_clip(cls: str) -> str:
            files = audio[(cls, split)]
            return writer.audio(files[int(rng.integers(len(files)))])

        def objects_of(image_id: int) -> List[dict]:
            return per_image[image_id]

        def classes_of(image_id: int) -> List[str]:
            return [o['vpo_class'] for o in objects_of(image_id)]

        # Candidates of each subset, in priority order.
        ids = sorted(per_image)
        multi_class = [i for i in ids if len(set(classes_of(i))) >= 2]
        candidates = dict(
            SS=multi_class + [i for i in ids if i not in set(multi_class)],
            MS=[i for i in multi_class
                if len(set(classes_of(i))) == len(classes_of(i))],
            MSMI=[i for i in ids if len(set(classes_of(i))) <
                  len(classes_of(i))])
        for subset in subsets:
            chosen_ids = candidates[subset]
            if subset in caps:
                chosen_ids = chosen_ids[:caps[subset]]
            for image_id in chosen_ids:
                image = images[image_id]
                height, width = image['height'], image['width']
                objects = objects_of(image_id)
                if subset == 'SS':
                    sounding = choose_ss(objects, rng)
                elif subset == 'MS':
                    sounding = choose_ms(objects, rng, ms_min_sounding,
                                         silence_prob, max_sounding)
                else:
                    sounding = choose_msmi(objects, rng, max_sounding)
                label = np.zeros((height, width), dtype=np.uint8)
                positions = []
                for obj in sounding:
                    mask = annotation_mask(obj, height, width)
                    label[mask] = COCO_ID_OF[obj['vpo_class']]
                for obj in sounding:
                    # Position of the visible (not overdrawn) pixels.
                    mask = annotation_mask(obj, height, width) & \
                        (label == COCO_ID_OF[obj['vpo_class']])
                    positions.append(centre_x(mask))
                src = osp.join(coco_set['img_dir'], image['file_name'])
                mask_ann = sounding[0]['id']
                folder = osp.join(out_root, f'VPO-{subset}')
                if subset == 'SS':
                    cls = sounding[0]['vpo_class']
                    img_dst = osp.join(folder, 'data', cls,
                                       f'{image_id:012d}.jpg')
                    mask_dst = osp.join(folder, 'mask', cls,
                                        f'{image_id:012d}_{mask_ann:012d}.png')
                else:
                    img_dst = osp.join(folder, 'data', f'{image_id:012d}.jpg')
                    mask_dst = osp.join(folder, 'mask',
                                        f'{image_id:012d}_{mask_ann:012d}.png')
                writer.image(src, img_dst, (width, height))
                writer.mask(mask_dst, label)
                for obj, pos in zip(sounding, positions):
                    cls = obj['vpo_class']
                    row = [cls, image_id, mask_ann, COCO_ID_OF[cls],
                           pick_clip(cls), split, f'{pos:.6f}']
                    rows[subset].append(row)
                    if subset == 'MS' and 'MSMI' in subsets:
                        rows['MSMI'].append(row + [0])
                    elif subset == 'MSMI':
                        row.append(1)
                counts[subset][split] += 1
    for subset in subsets:
        path = osp.join(out_root, CSV_NAMES[subset])
        os.makedirs(osp.dirname(path), exist_ok=True)
        header = list(CSV_COLUMNS) + (['multi_instance']
                                      if subset == 'MSMI' else [])
        with open(path, 'w', newline='') as f:
            out = csv.writer(f)
            out.writerow(header)
            out.writerows(rows[subset])
    result = {s: dict(c) for s, c in counts.items()}
    if 'MSMI' in result and 'MS' in result:
        for split, n in result['MS'].items():
            result['MSMI'][split] = result['MSMI'].get(split, 0) + n
    return result
