"""Transforms that read a VPO sample's mask and sound (``cavp.md`` §1-2).

A VPO sample is one image, i.e. a clip with T = 1 (``docs/en/architecture.md``):
``gt_masks`` is one ``(H, W)`` map of VPO indices 0..21 (255 = ignore) and
``audio`` is ``(1, A, 48000)``: the sum of the sounding objects' 3-s clips at
16 kHz, stereo-panned (A = 2) or mono (A = 1).
"""
import os.path as osp
from typing import List, Optional

import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS
from PIL import Image, UnidentifiedImageError

from mmavs.datasets.vpo import remap_mask, warn_unknown_ids
from mmavs.media import (MediaError, fit_length, read_wav, resample,
                         select_channels, to_float)

from .avss_loading import check_mask_size
from .loading import ClipFileError

VPO_SAMPLE_RATE = 16000
VPO_SECONDS = 3.0


def read_id_mask(path: str) -> np.ndarray:
    """A single-channel PNG of COCO ids as ``(H, W)`` uint8.

    Raises:
        FileNotFoundError: No such file.
        ClipFileError: Unreadable, or not a single-channel (L / P) PNG.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'missing mask: {path}')
    try:
        with Image.open(path) as image:
            if image.mode not in ('L', 'P'):
                raise ClipFileError(
                    path, f'VPO mask has mode {image.mode}; expected a '
                    'single-channel PNG of COCO category ids')
            return np.asarray(image).astype(np.uint8)
    except (UnidentifiedImageError, OSError, SyntaxError) as err:
        raise ClipFileError(path, f'corrupt or unreadable mask: {err}') \
            from err


@TRANSFORMS.register_module()
class LoadVPOMask(BaseTransform):
    """Read a VPO mask and remap COCO ids to the 22 VPO indices with one
    256-entry lookup table (``cavp.md`` §1, §10.3).

    Ids outside the table become 255 (ignore) and a warning names the file
    and the pixel count.

    Required keys: ``mask_paths`` (one path), ``img_shape``.
    Added keys: ``gt_masks`` (one ``(H, W)`` uint8 map), ``annotated``,
    ``unknown_id_pixels``.

    Raises:
        ClipFileError: The mask's size differs from its image's.
    """

    def transform(self, results: dict) -> dict:
        height, width = results['img_shape']
        masks, unknown = [], []
        for path in results['mask_paths']:
            mask, count = remap_mask(read_id_mask(path))
            check_mask_size(mask, path, height, width)
            if count:
                warn_unknown_ids(path, count)
            masks.append(mask)
            unknown.append(count)
        results['gt_masks'] = masks
        results['annotated'] = [True] * len(masks)
        results['unknown_id_pixels'] = unknown
        return results


def load_clip(path: str, sample_rate: int = VPO_SAMPLE_RATE,
              seconds: float = VPO_SECONDS) -> np.ndarray:
    """One source clip as CAVP reads it: mono mix, ``sample_rate``, centre
    crop of ``seconds`` (start = middle - half the window; shorter clips are
    tiled and cut). Returns ``(S,)`` float64, ``S = seconds * rate``.

    Raises:
        MediaError: naming the file (missing, unreadable, empty).
    """
    data, rate = read_wav(path)
    wave = resample(select_channels(to_float(data), 1, path), rate,
                    sample_rate)
    length = int(round(seconds * sample_rate))
    return fit_length(wave, length, crop='centre', pad='tile',
                      path=path)[:, 0]


def mix_sources(waves: List[np.ndarray], positions: Optional[List[float]],
                channels: int) -> np.ndarray:
    """Sum the sources into ``(A, S)``: stereo ``L = w (1 - pos)``,
    ``R = w pos`` per source; mono: the plain sum."""
    if channels == 1:
        return np.sum(waves, axis=0)[None]
    if positions is None or any(p is None for p in positions):
        raise ValueError('stereo audio needs an audio_pos per source')
    out = np.zeros((2, waves[0].shape[0]))
    for wave, pos in zip(waves, positions):
        out[0] += wave * (1.0 - pos)
        out[1] += wave * pos
    return out


@TRANSFORMS.register_module()
class LoadVPOAudio(BaseTransform):
    """The sound of a VPO image: its sources' clips, centre-cropped to 3 s at
    16 kHz, panned by ``audio_pos`` and summed (``cavp.md`` §2).

    The positions read are ``results['audio_pos']`` when present (the ones
    :class:`VPORandomFlip` mirrored), else the sources' own; so the flip may
    come before or after this transform with the same result.

    Required keys: ``sources`` (``wav_path``, ``audio_pos`` each).
    Added keys: ``audio`` ``(1, A, S)`` float32, ``audio_pos`` (list),
    ``audio_sample_rate``.

    Args:
        channels: 2 (stereo panning) or 1 (mono sum).
        sample_rate: Output rate in Hz.
        seconds: Window length.
    """

    def __init__(self, channels: int = 2,
                 sample_rate: int = VPO_SAMPLE_RATE,
                 seconds: float = VPO_SECONDS) -> None:
        if channels not in (1, 2):
            raise ValueError(f'channels must be 1 or 2, not {channels}')
        self.channels = channels
        self.sample_rate = sample_rate
        self.seconds = seconds

    def transform(self, results: dict) -> dict:
        sources = results['sources']
        if not sources:
            raise MediaError(results.get('clip_name'), 'no sounding source')
        waves = [load_clip(s['wav_path'], self.sample_rate, self.seconds)
                 for s in sources]
        positions = results.get('audio_pos')
        if positions is None:
            positions = [s.get('audio_pos') for s in sources]
        if self.channels == 2 and any(p is None for p in positions):
            raise MediaError(
                sources[0]['wav_path'], 'stereo VPO audio needs audio_pos '
                'for every source (mono CSV? set channels=1)')
        audio = mix_sources(waves, positions, self.channels)
        results['audio'] = audio[None].astype(np.float32)
        results['audio_pos'] = list(positions)
        results['audio_sample_rate'] = self.sample_rate
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(channels={self.channels}, '
                f'sample_rate={self.sample_rate}, seconds={self.seconds})')
