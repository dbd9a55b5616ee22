"""Synthetic AVSBench-style data that cannot be segmented without sound.

:func:`make_synthetic_avsbench` writes an S4-style and an MS3-style tree in the
exact AVSBench layout (PNG frames, PNG masks, WAV audio with its VGGish log-mel,
the meta CSVs) from a seed. Every frame shows several objects of distinct
classes; a class is a shape with its own colour and texture, and has its own
sound (a harmonic tone with a class-specific pitch and tremolo). In each second
a subset of the objects sounds (in MS3-style clips one or two objects; the
subset persists from second to second but changes with probability 0.25, and a
second is silent with probability 0.05): the audio of that second is the mix
of their sounds and the mask marks those objects only. Visual cues alone cannot tell
which objects sound, so "segment every visible object" scores poorly.

The clip descriptions (classes, object tracks, which object sounds when) are
saved as ``synthetic_meta.json`` at the root, and :func:`render_clip` re-renders
any clip from them, including the mask of every visible object.
"""
import csv
import json
import os
import os.path as osp
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from PIL import Image
from scipy.io import wavfile

from mmavs.media import SAMPLE_RATE, waveform_to_examples

META_FILE = 'synthetic_meta.json'


@dataclass(frozen=True)
class SoundingClass:
    """A visual class (shape, BGR-free RGB colour, texture) and its sound."""
    name: str
    shape: str
    color: Tuple[int, int, int]
    texture: str
    pitch_hz: float
    tremolo_hz: float


CLASSES = (
    SoundingClass('red_disc', 'disc', (220, 50, 40), 'solid', 262.0, 3.0),
    SoundingClass('green_square', 'square', (40, 200, 70), 'solid', 392.0,
                  5.0),
    SoundingClass('blue_triangle', 'triangle', (50, 90, 230), 'solid', 587.0,
                  7.0),
    SoundingClass('yellow_diamond', 'diamond', (230, 210, 40), 'solid', 880.0,
                  4.0),
    SoundingClass('purple_disc', 'disc', (160, 60, 200), 'stripes', 1319.0,
                  6.0),
    SoundingClass('cyan_square', 'square', (40, 200, 210), 'stripes', 1976.0,
                  2.0),
    SoundingClass('orange_triangle', 'triangle', (240, 140, 30), 'checker',
                  2960.0, 8.0),
    SoundingClass('white_diamond', 'diamond', (235, 235, 235), 'checker',
                  4435.0, 3.5),
)
CLASS_BY_NAME = {c.name: c for c in CLASSES}


def shape_mask(shape: str, size: int, cx: float, cy: float,
               radius: float) -> np.ndarray:
    """Boolean ``(size, size)`` mask of a shape centred at (cx, cy)."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64) + 0.5
    dx, dy = xx - cx, yy - cy
    if shape == 'disc':
        return dx**2 + dy**2 <= radius**2
    if shape == 'square':
        half = radius * 0.85
        return (np.abs(dx) <= half) & (np.abs(dy) <= half)
    if shape == 'diamond':
        return np.abs(dx) + np.abs(dy) <= radius * 1.15
    if shape == 'triangle':
        # Upward triangle inscribed in the circle of the given radius.
        top, bottom = -radius, radius * 0.5
        inside_y = (dy >= top) & (dy <= bottom)
        half_width = (dy - top) / (bottom - top) * radius * 0.866
        return inside_y & (np.abs(dx) <= half_width)
    raise ValueError(f'unknown shape {shape}')


def texture_pattern(texture: str, size: int, period: int) -> np.ndarray:
    """Float ``(size, size)`` brightness multiplier of a texture."""
    yy, xx = np.mgrid[0:size, 0:size]
    if texture == 'solid':
        return np.ones((size, size))
    if texture == 'stripes':
        return np.where((xx + yy) // period % 2 == 0, 1.0, 0.45)
    if texture == 'checker':
        return np.where((xx // period + yy // period) % 2 == 0, 1.0, 0.45)
    raise ValueError(f'unknown texture {texture}')


def render_frame(objects: Sequence[dict], frame: int, size: int,
                 background_seed: int) -> Tuple[np.ndarray, List[np.ndarray]]:
    """Draw the objects of one frame in list order (later ones in front).

    Returns:
        tuple: ``(size, size, 3)`` uint8 RGB image and, per object, its
        visible (unoccluded) boolean mask.
    """
    rng = np.random.default_rng(background_seed)
    base = rng.uniform(20, 70, size=3)
    ramp = np.linspace(0, 1, size)
    image = (base[None, None] + 40 * ramp[:, None, None] *
             rng.uniform(0.2, 1.0, size=3)[None, None])
    image = image + rng.normal(0, 4, size=(size, size, 3))
    owner = np.full((size, size), -1)
    period = max(2, size // 24)
    for index, obj in enumerate(objects):
        cls = CLASS_BY_NAME[obj['class']]
        cx, cy = obj['track'][frame]
        mask = shape_mask(cls.shape, size, cx, cy, obj['radius'])
        shade = texture_pattern(cls.texture, size, period)
        image[mask] = np.asarray(cls.color)[None] * shade[mask][:, None]
        owner[mask] = index
    visible = [owner == i for i in range(len(objects))]
    return np.clip(image, 0, 255).astype(np.uint8), visible


def class_sound(cls: SoundingClass, num_samples: int,
                phase: float) -> np.ndarray:
    """One second of a class's sound: a two-harmonic tone with tremolo."""
    t = np.arange(num_samples) / SAMPLE_RATE
    tone = (np.sin(2 * np.pi * cls.pitch_hz * t + phase) +
            0.5 * np.sin(4 * np.pi * cls.pitch_hz * t + 2 * phase))
    tremolo = 0.6 + 0.4 * np.sin(2 * np.pi * cls.tremolo_hz * t)
    return tone * tremolo


def render_audio(clip: dict, seed: int) -> np.ndarray:
    """The clip's waveform: per second, the mix of its sounding objects."""
    rng = np.random.default_rng(seed)
    seconds = []
    for sounding in clip['sounding']:
        wave = rng.normal(0, 0.01, SAMPLE_RATE)
        for index in sounding:
            cls = CLASS_BY_NAME[clip['objects'][index]['class']]
            wave += 0.3 * class_sound(cls, SAMPLE_RATE,
                                      rng.uniform(0, 2 * np.pi))
        seconds.append(wave)
    return np.clip(np.concatenate(seconds), -1.0, 1.0)


def render_clip(clip: dict, size: int) -> Dict[str, list]:
    """Frames, sounding masks and all-object masks of a described clip.

    Returns:
        dict: ``frames`` (T RGB arrays), ``masks`` (T uint8 0/255 arrays of the
        sounding objects) and ``visible`` (T boolean arrays of every object).
    """
    out: Dict[str, list] = dict(frames=[], masks=[], visible=[])
    for t, sounding in enumerate(clip['sounding']):
        image, visible = render_frame(clip['objects'], t, size,
                                      clip['background_seed'])
        mask = np.zeros((size, size), dtype=bool)
        for index in sounding:
            mask |= visible[index]
        out['frames'].append(image)
        out['masks'].append(mask.astype(np.uint8) * 255)
        out['visible'].append(np.any(visible, axis=0))
    return out


SWITCH_PROBABILITY = 0.25
SILENCE_PROBABILITY = 0.05


def draw_sounding_subset(rng: np.random.Generator,
                         num_objects: int) -> List[int]:
    """One or two of the clip's objects, in index order."""
    count = int(rng.integers(1, 3))
    return sorted(rng.choice(num_objects, size=count, replace=False).tolist())


def describe_clip(rng: np.random.Generator, name: str, multi_source: bool,
                  num_frames: int, size: int) -> dict:
    """Draw the objects, their tracks and the sounding schedule of a clip."""
    num_objects = int(rng.integers(3, 5)) if multi_source else int(
        rng.integers(2, 4))
    classes = rng.choice(len(CLASSES), size=num_objects, replace=False)
    objects = []
    for cls in classes:
        radius = float(rng.uniform(0.11, 0.17) * size)
        start = rng.uniform(radius, size - radius, size=2)
        step = rng.uniform(-0.03, 0.03, size=2) * size
        track = [np.clip(start + t * step, radius, size - radius).tolist()
                 for t in range(num_frames)]
        objects.append({'class': CLASSES[cls].name, 'radius': radius,
                        'track': track})
    if multi_source:
        sounding = []
        current = draw_sounding_subset(rng, num_objects)
        for t in range(num_frames):
            # Sources persist, as in real clips, but may change any second.
            if t > 0 and rng.random() < SWITCH_PROBABILITY:
                current = draw_sounding_subset(rng, num_objects)
            silent = rng.random() < SILENCE_PROBABILITY
            sounding.append([] if silent else current)
    else:
        source = int(rng.integers(num_objects))
        sounding = [[source] for _ in range(num_frames)]
    return dict(
        name=name,
        objects=objects,
        sounding=sounding,
        background_seed=int(rng.integers(2**31)),
        audio_seed=int(rng.integers(2**31)))


def save_png(array: np.ndarray, path: str) -> None:
    os.makedirs(osp.dirname(path), exist_ok=True)
    Image.fromarray(array).save(path)


def save_audio(clip: dict, wav_path: str, feat_stem: str, num_frames: int,
               audio_format: str) -> None:
    """Write the WAV and its log-mel as ``.npy`` or AVSBench-style ``.pkl``."""
    wave = render_audio(clip, clip['audio_seed'])
    os.makedirs(osp.dirname(wav_path), exist_ok=True)
    wavfile.write(wav_path, SAMPLE_RATE, (wave * 32767).astype(np.int16))
    log_mel = waveform_to_examples(wave, SAMPLE_RATE, num_frames)
    os.makedirs(osp.dirname(feat_stem), exist_ok=True)
    if audio_format == 'npy':
        np.save(feat_stem + '.npy', log_mel)
    elif audio_format == 'pkl':
        import pickle

        import torch
        with open(feat_stem + '.pkl', 'wb') as f:
            pickle.dump(torch.from_numpy(log_mel), f)
    else:
        raise ValueError(f'audio_format must be "npy" or "pkl", not '
                         f'{audio_format}')


def write_s4_clip(root: str, clip: dict, split: str, size: int,
                  audio_format: str) -> None:
    name, category = clip['name'], clip['category']
    base = osp.join(root, 'Single-source', 's4_data')
    rel = osp.join(split, category, name)
    rendered = render_clip(clip, size)
    for t, (frame, mask) in enumerate(zip(rendered['frames'],
                                          rendered['masks'])):
        save_png(frame, osp.join(base, 'visual_frames', rel,
                                 f'{name}_{t + 1}.png'))
        if split != 'train' or t == 0:
            save_png(mask, osp.join(base, 'gt_masks', rel,
                                    f'{name}_{t + 1}.png'))
    save_audio(clip, osp.join(base, 'audio_wav', rel + '.wav'),
               osp.join(base, 'audio_log_mel', rel), len(clip['sounding']),
               audio_format)


def write_ms3_clip(root: str, clip: dict, split: str, size: int,
                   audio_format: str) -> None:
    name = clip['name']
    base = osp.join(root, 'Multi-sources', 'ms3_data')
    rendered = render_clip(clip, size)
    for t, (frame, mask) in enumerate(zip(rendered['frames'],
                                          rendered['masks'])):
        save_png(frame, osp.join(base, 'visual_frames', name,
                                 f'{name}.mp4_{t + 1}.png'))
        save_png(mask, osp.join(base, 'gt_masks', split, name,
                                f'{name}_{t + 1}.png'))
    save_audio(clip, osp.join(base, 'audio_wav', split, name + '.wav'),
               osp.join(base, 'audio_log_mel', split, name),
               len(clip['sounding']), audio_format)


def write_csv(path: str, header: Sequence[str], rows: List[Sequence]) -> None:
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)


def make_synthetic_avsbench(root: str,
                            seed: int = 0,
                            size: int = 64,
                            num_frames: int = 5,
                            s4_clips: Optional[Dict[str, int]] = None,
                            ms3_clips: Optional[Dict[str, int]] = None,
                            audio_format: str = 'npy') -> dict:
    """Write synthetic S4 and MS3 trees in the AVSBench layout under ``root``.

    Args:
        root: Output AVSBench root (``Single-source/`` and ``Multi-sources/``
            are created in it).
        seed: Everything written is a function of the seed and the options.
        size: Frame and mask side in pixels.
        num_frames: Frames (seconds) per clip.
        s4_clips: Clips per split, e.g. ``dict(train=64, val=16, test=16)``;
            an empty dict skips S4.
        ms3_clips: The same for MS3.
        audio_format: ``'npy'`` (mmavs' safe format) or ``'pkl'`` (a pickled
            tensor, as AVSBench released it).

    Returns:
        dict: The description saved in ``synthetic_meta.json``.
    """
    s4_clips = dict(train=64, val=16, test=16) if s4_clips is None else s4_clips
    ms3_clips = dict(train=64, val=16, test=16) if ms3_clips is None \
        else ms3_clips
    rng = np.random.default_rng(seed)
    meta = dict(seed=seed, size=size, num_frames=num_frames,
                classes=[c.__dict__ for c in CLASSES], s4={}, ms3={})
    s4_rows, ms3_rows = [], []
    for split, count in s4_clips.items():
        meta['s4'][split] = []
        for i in range(count):
            clip = describe_clip(rng, f's4_{split}_{i:04d}', False,
                                 num_frames, size)
            source = clip['objects'][clip['sounding'][0][0]]
            clip['category'] = source['class']
            write_s4_clip(root, clip, split, size, audio_format)
            s4_rows.append([clip['name'], 0, clip['category'], split])
            meta['s4'][split].append(clip)
    for split, count in ms3_clips.items():
        meta['ms3'][split] = []
        for i in range(count):
            clip = describe_clip(rng, f'ms3_{split}_{i:04d}', True,
                                 num_frames, size)
            write_ms3_clip(root, clip, split, size, audio_format)
            ms3_rows.append([clip['name'], split])
            meta['ms3'][split].append(clip)
    if s4_rows:
        write_csv(osp.join(root, 'Single-source', 's4_meta_data.csv'),
                  ['name', 'start', 'category', 'split'], s4_rows)
    if ms3_rows:
        write_csv(osp.join(root, 'Multi-sources', 'ms3_meta_data.csv'),
                  ['name', 'split'], ms3_rows)
    with open(osp.join(root, META_FILE), 'w') as f:
        json.dump(meta, f)
    return meta


def load_synthetic_meta(root: str) -> dict:
    """Read the description written by :func:`make_synthetic_avsbench`."""
    with open(osp.join(root, META_FILE)) as f:
        return json.load(f)
