"""Synthetic AVSBench-Semantic data in the released AVSS layout.

:func:`make_synthetic_avss` writes, from a seed, a tree that
:class:`~mmavs.datasets.AVSSDataset` reads as it reads the real data
(``avss.md`` §1): ``metadata.csv``, ``label2idx.json`` (71 names),
``<label>/<uid>/frames/{t}.jpg`` (JPEG), ``labels_rgb/{t}.png`` (Pascal-VOC
colour masks) and ``audio.wav``. The scenes, sounds and schedules are those of
the synthetic AVSBench generator (:mod:`mmavs.datasets.synthetic_avsbench`):
each of its 8 shape classes is one AVSS class (``SYNTHETIC_CLASS_INDEX``), so
masks carry class identities:

- ``v1s``: 5 frames, 2-3 objects, one sounds throughout; training clips have
  the mask of frame 0 only;
- ``v1m``: 5 frames, 3-4 objects, one or two sound each second (the set
  changes with probability 0.25 per second, a second is silent with
  probability 0.05): several sounding classes per clip;
- ``v2``: the same as ``v1m`` with 10 frames.

Every object is visible and drawn with its class's look whether it sounds or
not, so vision alone (segment every visible object with its class) is far
below the oracle; ``tools/misc/synthetic_baselines.py --avss`` prints both.
"""
import csv
import json
import os
import os.path as osp
from typing import Dict, List, Optional

import numpy as np
from PIL import Image
from scipy.io import wavfile

from .avss import DEFAULT_CLASSES, LABEL_FILE, METADATA_FILE, SUBSET_FRAMES
from .avss import avss_palette
from .synthetic_avsbench import (CLASSES, describe_clip, render_audio,
                                 render_frame)
from .vggish_logmel import SAMPLE_RATE

META_FILE = 'synthetic_avss_meta.json'
# AVSS index of each synthetic class, spread over the palette so that the
# colours use all three channels and several bit planes.
SYNTHETIC_CLASS_INDEX = {
    cls.name: index
    for cls, index in zip(CLASSES, (3, 12, 21, 30, 39, 48, 57, 66))
}
# The columns of the released metadata.csv we know of; the loader needs only
# uid, label and split, by name.
CSV_HEADER = ('vid', 'uid', 's_min', 's_max', 'a_obj', 'split', 'label')
DEFAULT_CLIPS = dict(
    v1s=dict(train=16, val=4, test=8),
    v1m=dict(train=16, val=4, test=8),
    v2=dict(train=32, val=8, test=16))


def synthetic_class_names() -> List[str]:
    """71 names: the defaults, with the synthetic classes at their indices."""
    names = list(DEFAULT_CLASSES)
    for name, index in SYNTHETIC_CLASS_INDEX.items():
        names[index] = name
    return names


def render_avss_clip(clip: dict, size: int) -> Dict[str, list]:
    """Frames and class maps of a described clip.

    Returns:
        dict: ``frames`` (T RGB arrays), ``labels`` (T ``(size, size)`` uint8
        class maps of the sounding objects) and ``visible`` (T class maps of
        every visible object).
    """
    out: Dict[str, list] = dict(frames=[], labels=[], visible=[])
    classes = [SYNTHETIC_CLASS_INDEX[o['class']] for o in clip['objects']]
    for t, sounding in enumerate(clip['sounding']):
        image, visible = render_frame(clip['objects'], t, size,
                                      clip['background_seed'])
        label = np.zeros((size, size), dtype=np.uint8)
        everything = np.zeros((size, size), dtype=np.uint8)
        for index, mask in enumerate(visible):
            everything[mask] = classes[index]
            if index in sounding:
                label[mask] = classes[index]
        out['frames'].append(image)
        out['labels'].append(label)
        out['visible'].append(everything)
    return out


def write_avss_clip(root: str, clip: dict, size: int) -> None:
    """Write one clip's frames, colour masks and ``audio.wav``."""
    clip_dir = osp.join(root, clip['label'], clip['uid'])
    os.makedirs(osp.join(clip_dir, 'frames'), exist_ok=True)
    os.makedirs(osp.join(clip_dir, 'labels_rgb'), exist_ok=True)
    palette = avss_palette()
    rendered = render_avss_clip(clip, size)
    annotated = 1 if (clip['label'] == 'v1s' and clip['split'] == 'train') \
        else len(rendered['frames'])
    for t, (frame, label) in enumerate(zip(rendered['frames'],
                                           rendered['labels'])):
        Image.fromarray(frame).save(
            osp.join(clip_dir, 'frames', f'{t}.jpg'), quality=95)
        if t < annotated:
            Image.fromarray(palette[label]).save(
                osp.join(clip_dir, 'labels_rgb', f'{t}.png'))
    wave = render_audio(clip, clip['audio_seed'])
    wavfile.write(osp.join(clip_dir, 'audio.wav'), SAMPLE_RATE,
                  (wave * 32767).astype(np.int16))


def make_synthetic_avss(root: str,
                        seed: int = 0,
                        size: int = 64,
                        clips: Optional[Dict[str, Dict[str, int]]] = None
                        ) -> dict:
    """Write a synthetic AVSS tree under ``root``.

    Args:
        root: Output AVSS root.
        seed: Everything written is a function of the seed and the options.
        size: Frame and mask side in pixels.
        clips: Clips per subset and split, e.g. ``dict(v2=dict(train=4,
            val=1, test=2))``; a subset left out is not generated. Default
            ``DEFAULT_CLIPS``.

    Returns:
        dict: The description saved as ``synthetic_avss_meta.json``.
    """
    clips = DEFAULT_CLIPS if clips is None else clips
    unknown = set(clips) - set(SUBSET_FRAMES)
    if unknown:
        raise ValueError(f'unknown AVSS subsets {sorted(unknown)}')
    rng = np.random.default_rng(seed)
    os.makedirs(root, exist_ok=True)
    meta = dict(seed=seed, size=size, clips=clips, videos=[])
    rows = []
    for subset, splits in clips.items():
        for split, count in splits.items():
            for i in range(count):
                uid = f'{subset}_{split}_{i:04d}'
                clip = describe_clip(rng, uid, subset != 'v1s',
                                     SUBSET_FRAMES[subset], size)
                clip.update(uid=uid, label=subset, split=split)
                write_avss_clip(root, clip, size)
                sounding = sorted({clip['objects'][o]['class']
                                   for second in clip['sounding']
                                   for o in second})
                frames = SUBSET_FRAMES[subset]
                rows.append([len(rows), uid, 0, frames, ';'.join(sounding),
                             split, subset])
                meta['videos'].append(clip)
    with open(osp.join(root, METADATA_FILE), 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(CSV_HEADER)
        writer.writerows(rows)
    with open(osp.join(root, LABEL_FILE), 'w') as f:
        json.dump({name: i + 1 for i, name in
                   enumerate(synthetic_class_names())}, f, indent=1)
    with open(osp.join(root, META_FILE), 'w') as f:
        json.dump(meta, f)
    return meta


def load_synthetic_avss_meta(root: str) -> dict:
    """Read the description written by :func:`make_synthetic_avss`."""
    with open(osp.join(root, META_FILE)) as f:
        return json.load(f)
