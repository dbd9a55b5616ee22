"""Synthetic VPO data made by the VPO builder from synthetic images and sounds.

:func:`make_synthetic_vpo` writes, from a seed, a small COCO-format source
set (``<root>/source/``: images of coloured shapes, ``instances_<split>.json``
with one RLE annotation per visible object, a class map and class-labelled
WAV clips with their index CSV) and runs :func:`~.vpo_builder.build_vpo` on it,
so the VPO datasets read the result as they read the released data.

- Each of the 8 shape classes of the synthetic AVSBench generator is one VPO
  class (``SYNTHETIC_VPO_CLASS``) with its own sound: a two-harmonic tone at
  a class pitch with a class tremolo (a spectrogram tells them apart), clips
  of 2-5 s (short ones are tiled by the loader), some of them stereo files.
- Images are 64x64 by default: three quarters show 3-5 objects of distinct
  classes (MS candidates), a quarter 2-3 instances of one class plus 0-2
  other objects (MSMI candidates).
- MS silencing for the synthetic tree: one object always sounds and every
  other one sounds with probability 0.4 (``ms_min_sounding=1``,
  ``silence_prob=0.6``), so about half the visible objects are silent and
  "segment every visible object" is far below the oracle
  (``tools/misc/synthetic_baselines.py --vpo``).
"""
import csv
import json
import os
import os.path as osp
from typing import Dict, Optional

import numpy as np
from PIL import Image
from scipy.io import wavfile

from mmavs.media import SAMPLE_RATE
from .synthetic_avsbench import CLASSES, class_sound, render_frame
from .vpo_builder import build_vpo, mask_to_rle

META_FILE = 'synthetic_vpo_meta.json'
SOURCE_DIR = 'source'
SYNTHETIC_VPO_CLASS = {
    cls.name: name
    for cls, name in zip(CLASSES, ('dog', 'car', 'bird', 'horse', 'cat',
                                   'bus', 'airplane', 'sheep'))
}
DEFAULT_IMAGES = dict(train=400, val=64)
CLIPS_PER_CLASS = 4
BUILD_OPTIONS = dict(ms_min_sounding=1, silence_prob=0.6, max_sounding=5)


def describe_image(rng: np.random.Generator, size: int) -> dict:
    """Objects (class, centre, radius) of one synthetic image."""
    if rng.random() < 0.75:
        count = int(rng.integers(3, 6))
        classes = rng.choice(len(CLASSES), size=count, replace=False).tolist()
    else:
        repeated = int(rng.integers(len(CLASSES)))
        others = [c for c in range(len(CLASSES)) if c != repeated]
        extra = rng.choice(others, size=int(rng.integers(0, 3)),
                           replace=False).tolist()
        classes = [repeated] * int(rng.integers(2, 4)) + extra
        classes = [classes[i] for i in rng.permutation(len(classes))]
    objects = []
    for cls in classes:
        radius = float(rng.uniform(0.10, 0.16) * size)
        centre = rng.uniform(radius, size - radius, size=2).tolist()
        objects.append({'class': CLASSES[cls].name, 'radius': radius,
                        'track': [centre]})
    return dict(objects=objects, background_seed=int(rng.integers(2**31)))


def write_clip(path: str, cls, rng: np.random.Generator) -> None:
    """A 2-5 s clip of a class's sound (about a third stereo files)."""
    seconds = float(rng.choice([2.0, 3.5, 4.0, 5.0]))
    num = int(seconds * SAMPLE_RATE)
    wave = 0.3 * class_sound(cls, num, rng.uniform(0, 2 * np.pi))
    wave = wave * rng.uniform(0.7, 1.0) + rng.normal(0, 0.01, num)
    data = (np.clip(wave, -1, 1) * 32767).astype(np.int16)
    if rng.random() < 0.3:
        data = np.stack([data, data], axis=1)
    wavfile.write(path, SAMPLE_RATE, data)


def make_source(source: str, seed: int, size: int,
                images: Dict[str, int]) -> dict:
    """The COCO-format source set, its class map and audio index."""
    rng = np.random.default_rng(seed)
    categories = [dict(id=i + 1, name=cls.name, supercategory='shape')
                  for i, cls in enumerate(CLASSES)]
    category_id = {c['name']: c['id'] for c in categories}
    os.makedirs(osp.join(source, 'audio'), exist_ok=True)
    index_rows = []
    for split in ('train', 'val'):
        for cls in CLASSES:
            for k in range(CLIPS_PER_CLASS):
                name = f'{cls.name}_{split}_{k}.wav'
                write_clip(osp.join(source, 'audio', name), cls, rng)
                index_rows.append(['audio/' + name,
                                   SYNTHETIC_VPO_CLASS[cls.name], split])
    with open(osp.join(source, 'audio_index.csv'), 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(['file', 'class', 'split'])
        writer.writerows(index_rows)
    with open(osp.join(source, 'class_map.json'), 'w') as f:
        json.dump(SYNTHETIC_VPO_CLASS, f, indent=1)
    sets = []
    image_id, ann_id = 1, 1
    for split, count in images.items():
        img_dir = osp.join(source, 'images', split)
        os.makedirs(img_dir, exist_ok=True)
        coco = dict(images=[], annotations=[], categories=categories)
        for _ in range(count):
            scene = describe_image(rng, size)
            image, visible = render_frame(scene['objects'], 0, size,
                                          scene['background_seed'])
            file_name = f'{image_id:06d}.jpg'
            Image.fromarray(image).save(osp.join(img_dir, file_name),
                                        quality=95)
            coco['images'].append(dict(id=image_id, file_name=file_name,
                                       height=size, width=size))
            for obj, mask in zip(scene['objects'], visible):
                if not mask.any():
                    continue  # fully hidden by later objects
                ys, xs = np.nonzero(mask)
                coco['annotations'].append(dict(
                    id=ann_id, image_id=image_id,
                    category_id=category_id[obj['class']],
                    segmentation=mask_to_rle(mask), iscrowd=0,
                    area=int(mask.sum()),
                    bbox=[int(xs.min()), int(ys.min()),
                          int(xs.max() - xs.min() + 1),
                          int(ys.max() - ys.min() + 1)]))
                ann_id += 1
            image_id += 1
        ann_file = osp.join(source, f'instances_{split}.json')
        with open(ann_file, 'w') as f:
            json.dump(coco, f)
        sets.append(dict(ann_file=ann_file, img_dir=img_dir, split=split))
    return dict(coco_sets=sets,
                class_map=osp.join(source, 'class_map.json'),
                audio_index=osp.join(source, 'audio_index.csv'))


def make_synthetic_vpo(root: str, seed: int = 0, size: int = 64,
                       images: Optional[Dict[str, int]] = None) -> dict:
    """Write a synthetic VPO tree (all three subsets) under ``root``.

    Args:
        root: Output VPO root; the source set goes to ``root/source``.
        seed: Everything written is a function of the seed and the options.
        size: Image side in pixels.
        images: Source images per VPO split (``train``, ``val`` = test),
            default ``DEFAULT_IMAGES``.

    Returns:
        dict: The description saved as ``synthetic_vpo_meta.json``.
    """
    images = dict(DEFAULT_IMAGES if images is None else images)
    source = osp.join(root, SOURCE_DIR)
    inputs = make_source(source, seed, size, images)
    counts = build_vpo(root, seed=seed, **inputs, **BUILD_OPTIONS)
    meta = dict(seed=seed, size=size, images=images, counts=counts,
                build_options=BUILD_OPTIONS,
                coco_sets=[dict(s, ann_file=osp.relpath(s['ann_file'], root),
                                img_dir=osp.relpath(s['img_dir'], root))
                           for s in inputs['coco_sets']])
    with open(osp.join(root, META_FILE), 'w') as f:
        json.dump(meta, f, indent=1)
    return meta


def load_synthetic_vpo_meta(root: str) -> dict:
    """Read the description written by :func:`make_synthetic_vpo`."""
    with open(osp.join(root, META_FILE)) as f:
        return json.load(f)
