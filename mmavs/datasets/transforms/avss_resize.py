"""The two image protocols of AVSS (``avss.md`` §4), clip-wise.

Every frame of a clip gets the same geometry (one draw per clip). Frames are
T ``(H, W, 3)`` uint8 BGR arrays, masks T ``(H, W)`` uint8 class maps; see
``docs/en/architecture.md``.

- **224 protocol** (AVSBench / TPAVI): :class:`AVSSResize224`.
- **original-resolution protocol** (CAVP, CPM Table 2):
  :class:`AVSSRandomScaleCrop` for training; testing uses the full frame
  (no transform).
"""
import random
from typing import Sequence, Tuple

import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS
from PIL import Image

from .loading import MEAN_BGR


def resize(array: np.ndarray, size: Tuple[int, int],
           resample: int) -> np.ndarray:
    """PIL resize of an ``(H, W[, 3])`` uint8 array to ``size = (w, h)``."""
    if array.shape[1::-1] == tuple(size):
        return array
    return np.asarray(Image.fromarray(array).resize(size, resample))


@TRANSFORMS.register_module()
class AVSSResize224(BaseTransform):
    """The AVSBench 224 protocol.

    ``mode='train'``: resize the short side to ``size`` (frames bilinear,
    masks nearest; long side ``int(long * size / short)``), then centre crop
    ``size`` x ``size`` with offsets ``int(round((w - size) / 2))``.
    ``mode='test'``: resize frames and masks to ``size`` x ``size`` (aspect
    ratio lost) and set ``ori_shape`` to it, because the official protocol
    scores at 224 x 224: predictions are resized to ``ori_shape``.

    Masks are resized as class maps with nearest neighbour, which picks the
    same pixels as resizing the colour PNG before the lookup.

    Required keys: ``imgs``; optional ``gt_masks``.
    Modified keys: ``imgs``, ``gt_masks``, ``img_shape``; ``ori_shape``
    (test).
    """

    def __init__(self, size: int = 224, mode: str = 'train') -> None:
        if mode not in ('train', 'test'):
            raise ValueError(f'mode must be "train" or "test", not {mode}')
        self.size = size
        self.mode = mode

    def _geometry(self, height: int, width: int):
        size = self.size
        if self.mode == 'test':
            return (size, size), None
        if width <= height:
            new = (size, int(height * size / width))
        else:
            new = (int(width * size / height), size)
        left = int(round((new[0] - size) / 2.0))
        top = int(round((new[1] - size) / 2.0))
        return new, (top, left)

    def transform(self, results: dict) -> dict:
        height, width = results['imgs'][0].shape[:2]
        new, offset = self._geometry(height, width)

        def apply(array, resample):
            array = resize(array, new, resample)
            if offset is not None:
                top, left = offset
                array = array[top:top + self.size, left:left + self.size]
            return np.ascontiguousarray(array)

        results['imgs'] = [apply(i, Image.BILINEAR) for i in results['imgs']]
        if 'gt_masks' in results:
            results['gt_masks'] = [apply(m, Image.NEAREST)
                                   for m in results['gt_masks']]
        results['img_shape'] = results['imgs'][0].shape[:2]
        if self.mode == 'test':
            results['ori_shape'] = results['img_shape']
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(size={self.size}, '
                f'mode={self.mode!r})')


@TRANSFORMS.register_module()
class AVSSRandomScaleCrop(BaseTransform):
    """Training augmentation of the original-resolution protocol.

    Horizontal flip with ``flip_prob``, a scale drawn from ``scales`` (frames
    bicubic, masks nearest), then a random ``crop_size`` crop; a side shorter
    than the crop is first padded (frames with ``img_pad_val``, the mean
    colour; masks with ``seg_pad_val``, ignore). No colour jitter.

    Required keys: ``imgs``; optional ``gt_masks``.
    Modified keys: ``imgs``, ``gt_masks``, ``img_shape``; added ``flip``,
    ``scale_factor``.

    Args:
        scales: Scale factors to draw from.
        crop_size: ``(h, w)`` of the crop.
        flip_prob: Probability of a horizontal flip.
        img_pad_val: BGR padding colour of frames.
        seg_pad_val: Padding value of masks.
    """

    def __init__(self,
                 scales: Sequence[float] = (0.5, 0.75, 1.0),
                 crop_size: Tuple[int, int] = (512, 512),
                 flip_prob: float = 0.5,
                 img_pad_val: Sequence[int] = MEAN_BGR,
                 seg_pad_val: int = 255) -> None:
        self.scales = tuple(scales)
        self.crop_size = tuple(crop_size)
        self.flip_prob = flip_prob
        self.img_pad_val = tuple(img_pad_val)
        self.seg_pad_val = seg_pad_val

    def transform(self, results: dict) -> dict:
        # Python's random: mmengine seeds it per worker.
        flip = random.random() < self.flip_prob
        scale = random.choice(self.scales)
        height, width = results['imgs'][0].shape[:2]
        new = (max(1, int(round(width * scale))),
               max(1, int(round(height * scale))))
        crop_h, crop_w = self.crop_size
        pad_h, pad_w = max(crop_h - new[1], 0), max(crop_w - new[0], 0)
        top = random.randint(0, new[1] + pad_h - crop_h)
        left = random.randint(0, new[0] + pad_w - crop_w)

        def apply(array, resample, pad_val):
            if flip:
                array = array[:, ::-1]
            array = resize(np.ascontiguousarray(array), new, resample)
            if pad_h or pad_w:
                padded = np.empty((new[1] + pad_h, new[0] + pad_w) +
                                  array.shape[2:], dtype=array.dtype)
                padded[...] = np.asarray(pad_val, dtype=array.dtype)
                padded[:new[1], :new[0]] = array
                array = padded
            return np.ascontiguousarray(
                array[top:top + crop_h, left:left + crop_w])

        results['imgs'] = [apply(i, Image.BICUBIC, self.img_pad_val)
                           for i in results['imgs']]
        if 'gt_masks' in results:
            results['gt_masks'] = [apply(m, Image.NEAREST, self.seg_pad_val)
                                   for m in results['gt_masks']]
        results['img_shape'] = results['imgs'][0].shape[:2]
        # An earlier flip (VPORandomFlip) and this one compose.
        results['flip'] = bool(results.get('flip', False)) ^ flip
        results['scale_factor'] = scale
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(scales={self.scales}, '
                f'crop_size={self.crop_size}, flip_prob={self.flip_prob})')
