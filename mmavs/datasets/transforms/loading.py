"""Transforms that read one AVSBench clip from disk and check what they read.

Every problem (a missing or unreadable file, frames of different sizes, audio
of the wrong shape or type) raises an error that names the file. The rules for
frames (:func:`read_frame`) and audio features (:func:`check_log_mel`) are
written once here and applied by the datasets' pipeline and by
``tools/misc/check_dataset.py`` alike:

- frames are 8-bit: grayscale, palette, RGBA and other 8-bit modes are
  converted to RGB explicitly (grey replicated, alpha dropped, as PIL's
  ``convert('RGB')``); 16-bit frames are refused, because the right scaling
  to 8 bits depends on how they were made (PIL would clip 16-bit grey to
  white) and every AVSBench frame is 8-bit;
- audio features are floating point, finite and ``(T, 1, 96, 64)``;
- a missing feature file is reported with every name tried (``.npy`` and
  ``.pkl``).
"""
import os.path as osp
from typing import List, Optional, Sequence, Tuple

import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS
from PIL import Image, UnidentifiedImageError

from mmavs.media import EXAMPLE_SHAPE, MediaError
from mmavs.utils.safe_pickle import UnsafePickleError, load_tensor_pickle


class ClipFileError(MediaError):
    """A file of a clip is missing, unreadable or malformed: a
    :class:`~mmavs.media.MediaError` (``(path, problem)``, message
    ``'{path}: {problem}'``), so one ``except MediaError`` catches what the
    media decoders and the dataset transforms raise."""


class FrameBitDepthError(ClipFileError):
    """A frame has more than 8 bits per sample."""


class AudioFeatureError(ClipFileError):
    """Audio features break the audio rule; ``kind`` says which part."""

    def __init__(self, path: Optional[str], problem: str, kind: str) -> None:
        super().__init__(path, problem)
        self.kind = kind

    def __reduce__(self):
        return type(self), (self.path, self.problem, self.kind)


def read_image(path: str, mode: str, what: str) -> np.ndarray:
    """Decode ``path`` with PIL in ``mode``; raise naming the file on failure."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'missing {what}: {path}')
    try:
        with Image.open(path) as image:
            return np.asarray(image.convert(mode))
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
        raise ClipFileError(path, f'corrupt or unreadable {what}: {err}') \
            from err


# PIL modes of more than 8 bits per sample.
HIGH_BIT_MODES = ('I;16', 'I;16B', 'I;16L', 'I;16N', 'I', 'F')
RGB_MODE = 'RGB'


def frame_rule(image: Image.Image, path: str) -> Optional[str]:
    """Apply the frame rule to an opened image.

    Returns:
        str or None: A note when the frame is converted to RGB (from
        grayscale, RGBA, ...), None when it is 8-bit RGB already.

    Raises:
        ClipFileError: A 16-bit (or 32-bit) frame.
    """
    raw = ''
    if image.tile and len(image.tile[0]) > 3:
        # PNG decodes 16-bit RGB(A) to 8 bits without a word: its raw mode
        # (e.g. 'RGB;16B') tells.
        raw = str(image.tile[0][3])
    if image.mode in HIGH_BIT_MODES or ';16' in raw:
        raise FrameBitDepthError(
            path,
            f'16-bit frame (PIL mode {image.mode}, raw {raw or "-"}): '
            'mmavs reads 8-bit frames, as AVSBench stores them; convert it '
            'to 8-bit RGB with the scaling your data needs (e.g. '
            '(array >> 8).astype(np.uint8) for full-range 16-bit)')
    if image.mode != RGB_MODE:
        return f'{path}: {image.mode} frame converted to RGB'
    return None


def read_frame(path: str) -> Tuple[np.ndarray, Optional[str]]:
    """Read a frame as ``(H, W, 3)`` uint8 RGB under :func:`frame_rule`.

    Returns:
        tuple: The frame and the conversion note (None if none was needed).

    Raises:
        FileNotFoundError: No such file.
        ClipFileError: Unreadable, or 16-bit.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'missing frame: {path}')
    try:
        with Image.open(path) as image:
            note = frame_rule(image, path)
            return np.asarray(image.convert(RGB_MODE)), note
    except ClipFileError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
        raise ClipFileError(path, f'corrupt or unreadable frame: {err}') \
            from err


def check_same_size(arrays: List[np.ndarray], paths: List[str],
                    what: str) -> None:
    shape = arrays[0].shape[:2]
    for array, path in zip(arrays, paths):
        if array.shape[:2] != shape:
            raise ClipFileError(
                path, f'{what} is {array.shape[1]}x{array.shape[0]} but the '
                f'clip\'s first {what} {paths[0]} is {shape[1]}x{shape[0]}')


# The ImageNet mean colour, BGR, rounded: a padded frame normalises to ~0.
MEAN_BGR = (104, 116, 124)


@TRANSFORMS.register_module()
class LoadAVSFrames(BaseTransform):
    """Read the T frames of a clip.

    A ``None`` path is a padding frame (AVSS pads 5-frame clips to 10): it
    is filled with ``pad_val`` at the size of the clip's real frames.

    Required keys: ``frame_paths``.
    Added keys: ``imgs`` (T arrays ``(H, W, 3)`` uint8 BGR, the mmseg
    convention), ``img_shape``, ``ori_shape``.

    Args:
        pad_val: BGR colour of padding frames (the mean colour, so that they
            are close to zero after normalisation, as in AVSBench).
    """

    def __init__(self, pad_val: Sequence[int] = MEAN_BGR) -> None:
        self.pad_val = tuple(pad_val)

    def transform(self, results: dict) -> dict:
        paths = results['frame_paths']
        real = [p for p in paths if p is not None]
        if not real:
            raise ClipFileError(
                None, f'clip {results.get("clip_name")} has no real frame')
        loaded = [read_frame(p)[0][..., ::-1].copy()
                  for p in real]
        check_same_size(loaded, real, 'frame')
        pad = np.empty_like(loaded[0])
        pad[...] = np.asarray(self.pad_val, dtype=np.uint8)
        frames = iter(loaded)
        imgs = [next(frames) if p is not None else pad.copy() for p in paths]
        results['imgs'] = imgs
        results['img_shape'] = imgs[0].shape[:2]
        results['ori_shape'] = imgs[0].shape[:2]
        return results


@TRANSFORMS.register_module()
class LoadAVSMasks(BaseTransform):
    """Read the ground-truth masks of a clip and binarise them with ``> 0``.

    Frames without a mask (``None`` path, e.g. S4 training frames 2-5) get an
    all-``ignore_index`` map and ``annotated=False``, so no loss or metric
    counts them.

    Required keys: ``mask_paths``, ``img_shape``.
    Added keys: ``gt_masks`` (T arrays ``(H, W)`` uint8 in {0, 1} or
    ``ignore_index``), ``annotated`` (T bools).
    """

    def __init__(self, ignore_index: int = 255) -> None:
        self.ignore_index = ignore_index

    def transform(self, results: dict) -> dict:
        height, width = results['img_shape']
        masks, annotated = [], []
        for path in results['mask_paths']:
            if path is None:
                masks.append(np.full((height, width), self.ignore_index,
                                     dtype=np.uint8))
                annotated.append(False)
                continue
            mask = (read_image(path, 'L', 'mask') > 0).astype(np.uint8)
            if mask.shape != (height, width):
                raise ClipFileError(
                    path, f'mask is {mask.shape[1]}x{mask.shape[0]} but its '
                    f'frames are {width}x{height}')
            masks.append(mask)
            annotated.append(True)
        results['gt_masks'] = masks
        results['annotated'] = annotated
        return results


AUDIO_SUFFIXES = ('.npy', '.pkl')


def audio_candidates(path: str) -> List[str]:
    """Every file name the datasets look for in place of ``path``."""
    stem, ext = osp.splitext(path)
    return [stem + s for s in AUDIO_SUFFIXES] if ext in AUDIO_SUFFIXES \
        else [path]


def load_log_mel(path: str) -> np.ndarray:
    """Read a log-mel feature file (``.npy`` or AVSBench ``.pkl``) safely."""
    if not osp.isfile(path):
        tried = audio_candidates(path)
        raise FileNotFoundError(
            'missing audio features: ' + (path if len(tried) == 1 else
                                          'tried ' + ' and '.join(tried)))
    try:
        if path.endswith('.npy'):
            return np.load(path, allow_pickle=False)
        with open(path, 'rb') as f:
            return load_tensor_pickle(f).numpy()
    except UnsafePickleError as err:
        raise ClipFileError(path, f'refused to unpickle audio: {err}') \
            from err
    except Exception as err:
        raise ClipFileError(
            path, f'corrupt or unreadable audio features: {err}') from err


@TRANSFORMS.register_module()
class LoadAVSAudio(BaseTransform):
    """Read the VGGish log-mel examples of a clip, one per frame (second).

    Required keys: ``audio_path``, ``num_frames``; optional
    ``frame_indices`` and ``clip_num_frames`` (a clip reduced to some of its
    frames: the file holds ``clip_num_frames`` examples, those of
    ``frame_indices`` are kept).
    Added keys: ``audio`` (``(T, 1, 96, 64)`` float32).
    """

    def transform(self, results: dict) -> dict:
        path = results['audio_path']
        audio = load_log_mel(path)
        check_log_mel(audio, results.get('clip_num_frames',
                                         results['num_frames']), path)
        if 'clip_num_frames' in results:
            audio = audio[list(results['frame_indices'])]
        results['audio'] = audio.astype(np.float32)
        return results


def check_log_mel(audio: np.ndarray, num_frames: int, path: str) -> None:
    """The audio-feature rule: ``(T, 1, 96, 64)``, floating point, finite.

    Raises:
        ClipFileError: Naming the file, what it holds and what is expected.
    """
    expected = (num_frames, ) + EXAMPLE_SHAPE
    if tuple(audio.shape) != expected:
        raise AudioFeatureError(
            path, f'audio features have shape {tuple(audio.shape)}, '
            f'expected {expected} (frames, 1, 96, 64)',
            'audio features of wrong shape')
    if not np.issubdtype(audio.dtype, np.floating):
        raise AudioFeatureError(
            path, f'audio features are {audio.dtype}, expected floating '
            'point log-mel values (integers mean the file holds something '
            'else, e.g. quantised values or raw samples)',
            'audio features not floating point')
    if not np.isfinite(audio).all():
        raise AudioFeatureError(path, 'audio features contain NaN or inf',
                                'audio features with NaN or inf')
