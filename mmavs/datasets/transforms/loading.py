"""Transforms that read one AVSBench clip from disk and check what they read.

Every problem (a missing or unreadable file, frames of different sizes, audio of
the wrong shape) raises an error that names the file.
"""
import os.path as osp
from typing import List, Sequence

import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS
from PIL import Image, UnidentifiedImageError

from mmavs.media import EXAMPLE_SHAPE
from mmavs.utils.safe_pickle import UnsafePickleError, load_tensor_pickle


class ClipFileError(ValueError):
    """A file of a clip is missing, unreadable or malformed."""


def read_image(path: str, mode: str, what: str) -> np.ndarray:
    """Decode ``path`` with PIL in ``mode``; raise naming the file on failure."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'missing {what}: {path}')
    try:
        with Image.open(path) as image:
            return np.asarray(image.convert(mode))
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
        raise ClipFileError(f'corrupt or unreadable {what} {path}: {err}') \
            from err


def check_same_size(arrays: List[np.ndarray], paths: List[str],
                    what: str) -> None:
    shape = arrays[0].shape[:2]
    for array, path in zip(arrays, paths):
        if array.shape[:2] != shape:
            raise ClipFileError(
                f'{what} {path} is {array.shape[1]}x{array.shape[0]} but the '
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
                f'clip {results.get("clip_name")} has no real frame')
        loaded = [read_image(p, 'RGB', 'frame')[..., ::-1].copy()
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
                    f'mask {path} is {mask.shape[1]}x{mask.shape[0]} but its '
                    f'frames are {width}x{height}')
            masks.append(mask)
            annotated.append(True)
        results['gt_masks'] = masks
        results['annotated'] = annotated
        return results


def load_log_mel(path: str) -> np.ndarray:
    """Read a log-mel feature file (``.npy`` or AVSBench ``.pkl``) safely."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'missing audio features: {path}')
    try:
        if path.endswith('.npy'):
            return np.load(path, allow_pickle=False)
        with open(path, 'rb') as f:
            return load_tensor_pickle(f).numpy()
    except UnsafePickleError as err:
        raise ClipFileError(f'refused to unpickle audio {path}: {err}') from err
    except Exception as err:
        raise ClipFileError(
            f'corrupt or unreadable audio features {path}: {err}') from err


@TRANSFORMS.register_module()
class LoadAVSAudio(BaseTransform):
    """Read the VGGish log-mel examples of a clip, one per frame (second).

    Required keys: ``audio_path``, ``num_frames``.
    Added keys: ``audio`` (``(T, 1, 96, 64)`` float32).
    """

    def transform(self, results: dict) -> dict:
        path = results['audio_path']
        audio = load_log_mel(path)
        expected = (results['num_frames'], ) + EXAMPLE_SHAPE
        if tuple(audio.shape) != expected:
            raise ClipFileError(
                f'audio features {path} have shape {tuple(audio.shape)}, '
                f'expected {expected} (frames, 1, 96, 64)')
        audio = audio.astype(np.float32)
        if not np.isfinite(audio).all():
            raise ClipFileError(f'audio features {path} contain NaN or inf')
        results['audio'] = audio
        return results
