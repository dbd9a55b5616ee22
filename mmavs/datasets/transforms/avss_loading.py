"""Transforms that read the masks and the sound of an AVSS clip.

Masks are colour-coded (``labels_rgb``) and mapped to the 71 class indices by
one palette lookup (``avss.md`` §3); sound is the clip's ``audio.wav``, either
as ten VGGish log-mel seconds (AVSBench / TPAVI, ``avss.md`` §4) or as ten
1-s waveform pieces (CAVP). Clip layout: ``docs/en/architecture.md``.
"""
import logging
import os
import os.path as osp
from typing import Optional, Tuple

import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.logging import print_log
from mmseg.registry import TRANSFORMS
from PIL import Image, UnidentifiedImageError
from scipy.io import wavfile

from mmavs.datasets.avss import CLIP_FRAMES, NUM_CLASSES, ColorToIndex
from mmavs.media import (EXAMPLE_SHAPE, SAMPLE_RATE, to_mono_16k,
                         waveform_to_examples)
from mmavs.utils.atomic_file import atomic_output

from .audio import LoadAudioWaveform
from .loading import ClipFileError, read_image

MASK_FORMATS = ('rgb', 'index')


def read_avss_mask(path: str, mask_format: str = 'rgb',
                   lookup: Optional[ColorToIndex] = None
                   ) -> Tuple[np.ndarray, int]:
    """A mask file as ``(H, W)`` uint8 class indices, and how many pixels
    matched no class (set to background).

    Args:
        path: ``labels_rgb/<t>.png`` (``'rgb'``) or an index PNG
            (``'index'``, e.g. ``labels_semantic/<t>.png``).
        mask_format: ``'rgb'`` or ``'index'``.
        lookup: The colour table (built once by the caller).
    """
    if mask_format == 'rgb':
        lookup = lookup or ColorToIndex()
        return lookup(read_image(path, 'RGB', 'mask'))
    if not osp.isfile(path):
        raise FileNotFoundError(f'missing mask: {path}')
    try:
        with Image.open(path) as image:
            if image.mode not in ('P', 'L'):
                raise ClipFileError(
                    path, f'index mask has mode {image.mode}; expected a '
                    'single-channel (P or L) PNG of class indices')
            index = np.asarray(image).astype(np.uint8)
    except (UnidentifiedImageError, OSError, SyntaxError) as err:
        raise ClipFileError(path, f'corrupt or unreadable mask: {err}') \
            from err
    unknown = index >= NUM_CLASSES
    return np.where(unknown, 0, index).astype(np.uint8), int(unknown.sum())


def check_mask_size(mask: np.ndarray, path: str, height: int,
                    width: int) -> None:
    """Raise :class:`ClipFileError` when a mask is not the frames' size."""
    if mask.shape != (height, width):
        raise ClipFileError(
            path, f'mask is {mask.shape[1]}x{mask.shape[0]} but its '
            f'frames are {width}x{height}')


@TRANSFORMS.register_module()
class LoadAVSSColorMask(BaseTransform):
    """Read the masks of an AVSS clip as class indices 0..70.

    Annotated frames read their mask (one palette lookup; colours outside the
    palette become background, are counted, and a warning names the file).
    Padded frames (``frame_valid`` False) get an all-background mask, as the
    reference pads them; real frames without a mask (v1s training frames
    1-4) get ``ignore_index`` everywhere.

    Required keys: ``mask_paths``, ``annotated``, ``frame_valid``,
    ``img_shape`` (the frames' size before any resize).
    Added keys: ``gt_masks`` (T ``(H, W)`` uint8), ``unmatched_pixels``
    (T ints).

    Args:
        mask_format: ``'rgb'`` (``labels_rgb``) or ``'index'``
            (``labels_semantic``).
        ignore_index: Value of unannotated pixels.
    """

    def __init__(self, mask_format: str = 'rgb',
                 ignore_index: int = 255) -> None:
        if mask_format not in MASK_FORMATS:
            raise ValueError(f'mask_format must be one of {MASK_FORMATS}')
        self.mask_format = mask_format
        self.ignore_index = ignore_index
        self.lookup = ColorToIndex()

    def transform(self, results: dict) -> dict:
        height, width = results['img_shape']
        masks, unmatched = [], []
        for path, valid, annotated in zip(results['mask_paths'],
                                          results['frame_valid'],
                                          results['annotated']):
            if not annotated or path is None:
                fill = 0 if not valid else self.ignore_index
                masks.append(np.full((height, width), fill, dtype=np.uint8))
                unmatched.append(0)
                continue
            mask, count = read_avss_mask(path, self.mask_format, self.lookup)
            check_mask_size(mask, path, height, width)
            if count:
                print_log(
                    f'{path}: {count} pixels have a colour outside the AVSS '
                    'palette; set to background (0)', logger='current',
                    level=logging.WARNING)
            masks.append(mask)
            unmatched.append(count)
        results['gt_masks'] = masks
        results['unmatched_pixels'] = unmatched
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(mask_format={self.mask_format!r}, '
                f'ignore_index={self.ignore_index})')


def read_wav(path: str) -> Tuple[np.ndarray, int]:
    """``(samples, rate)`` of a WAV file; errors name the file."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'missing audio: {path}')
    try:
        rate, data = wavfile.read(path)
    except (ValueError, OSError) as err:
        raise ClipFileError(path, f'corrupt or unreadable audio: {err}') \
            from err
    if data.size == 0:
        raise ClipFileError(path, 'audio holds no samples')
    return data, rate


def count_examples(num_samples: int, rate: int) -> int:
    """VGGish examples (0.96 s) in ``num_samples`` samples at ``rate`` Hz."""
    samples = int(np.ceil(num_samples * SAMPLE_RATE / rate))
    window, hop = 400, 160  # 25 ms and 10 ms at 16 kHz
    frames = max(0, 1 + (samples - window) // hop)
    return frames // EXAMPLE_SHAPE[1]


def wav_log_mel(path: str, seconds: int = CLIP_FRAMES) -> np.ndarray:
    """``audio.wav`` as ``(seconds, 1, 96, 64)`` float32 VGGish examples.

    As AVSBench (``avss.md`` §4): int PCM / 32768, channel mean, 16 kHz,
    non-overlapping 0.96-s examples; the first ``seconds`` are kept and a
    shorter clip is zero-filled (a 5-s v1 clip: 5 real + 5 zero examples).
    """
    data, rate = read_wav(path)
    out = np.zeros((seconds, ) + EXAMPLE_SHAPE, dtype=np.float32)
    try:
        examples = waveform_to_examples(data, rate)[:seconds]
    except ValueError:  # shorter than one example: all zero
        examples = out[:0]
    out[:len(examples)] = examples
    if not np.isfinite(out).all():
        raise ClipFileError(path, 'audio gives NaN or inf log-mel')
    return out


def cache_path(audio_path: str, cache_dir: Optional[str]) -> str:
    """Where the log-mel of ``<label>/<uid>/audio.wav`` is cached."""
    stem = osp.splitext(audio_path)[0] + '.vggish.npy'
    if cache_dir is None:
        return stem
    parts = osp.normpath(stem).split(os.sep)
    return osp.join(cache_dir, *parts[-3:])


def save_npy_atomic(path: str, array: np.ndarray) -> None:
    """Write ``array`` as ``.npy`` through a temporary file and a rename, so
    a concurrent reader never sees half a file."""
    with atomic_output(path) as tmp, open(tmp, 'wb') as f:
        np.save(f, array, allow_pickle=False)


@TRANSFORMS.register_module()
class LoadAVSSAudio(BaseTransform):
    """Ten VGGish log-mel seconds of ``audio.wav``, one per frame.

    Computed once per audio file and cached as ``.npy`` (never pickled),
    next to the WAV (``audio.vggish.npy``) or under ``cache_dir``; a cache
    older than its WAV is recomputed. If the cache cannot be written (a
    read-only tree), the features are computed each time and a warning says
    so once.

    Required keys: ``audio_path``; ``frame_indices`` (the seconds to return,
    default all ten).
    Added keys: ``audio`` ``(T, 1, 96, 64)`` float32.

    Args:
        cache: Cache the features.
        cache_dir: Cache folder; ``None`` caches next to the WAV.
    """

    def __init__(self, cache: bool = True,
                 cache_dir: Optional[str] = None) -> None:
        self.cache = cache
        self.cache_dir = cache_dir
        self._warned = False

    def _load(self, path: str) -> np.ndarray:
        if not self.cache:
            return wav_log_mel(path)
        cached = cache_path(path, self.cache_dir)
        expected = (CLIP_FRAMES, ) + EXAMPLE_SHAPE
        if osp.isfile(cached) and osp.isfile(path) and \
                osp.getmtime(cached) >= osp.getmtime(path):
            try:
                features = np.load(cached, allow_pickle=False)
                if features.shape == expected and \
                        np.isfinite(features).all():
                    return features.astype(np.float32)
            except (ValueError, OSError):
                pass  # a broken cache is recomputed
        features = wav_log_mel(path)
        try:
            save_npy_atomic(cached, features)
        except OSError as err:
            if not self._warned:
                print_log(f'cannot cache audio features at {cached} ({err}); '
                          'computing them on every read (set cache_dir)',
                          logger='current', level=logging.WARNING)
                self._warned = True
        return features

    def transform(self, results: dict) -> dict:
        features = self._load(results['audio_path'])
        frames = results.get('frame_indices', range(len(features)))
        results['audio'] = features[list(frames)]
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(cache={self.cache}, '
                f'cache_dir={self.cache_dir!r})')


@TRANSFORMS.register_module()
class LoadAVSSWaveform(LoadAudioWaveform):
    """Ten 1-s waveform pieces of ``audio.wav`` (CAVP's AVSS audio).

    :class:`LoadAudioWaveform` with CAVP's AVSS settings: 16 kHz, channel
    mean, centre crop of ``seconds`` seconds; a shorter clip is repeated
    until long enough (a 5-s v1 clip plays twice). Piece t goes with frame
    t, and only the pieces of the clip's ``frame_indices`` are kept (one
    for a sampled annotated frame).

    Required keys: ``audio_path``; ``frame_indices`` (default all).
    Added keys: ``audio`` ``(T, 1, 16000)`` float32.
    """

    def __init__(self, seconds: int = CLIP_FRAMES) -> None:
        super().__init__(window=1.0, clip_seconds=float(seconds),
                         crop='centre', pad='tile', min_seconds=0.0,
                         path_key='audio_path')
        self.seconds = seconds

    def transform(self, results: dict) -> dict:
        pieces = super().transform(dict(results, num_frames=self.seconds))
        frames = results.get('frame_indices', range(self.seconds))
        results['audio'] = pieces['audio'][list(frames)]
        return results
