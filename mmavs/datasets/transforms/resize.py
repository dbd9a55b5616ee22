"""Resizing every frame of a clip to the network's input size."""
from typing import Tuple

import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS
from PIL import Image


@TRANSFORMS.register_module()
class ResizeAVSClip(BaseTransform):
    """Resize the T frames (bilinear) and, for training, the masks (nearest).

    Evaluation keeps the masks at their annotated size: ``ori_shape`` stays
    the mask size, so predictions are resized back to it and the metrics are
    those of the AVSBench protocol whatever the network input size.

    Required keys: ``imgs``; ``gt_masks`` if ``resize_masks``.
    Modified keys: ``imgs``, ``img_shape``; ``gt_masks`` if ``resize_masks``.

    Args:
        scale: Output ``(width, height)``.
        resize_masks: Resize ``gt_masks`` too (training).
    """

    def __init__(self, scale: Tuple[int, int], resize_masks: bool = True):
        self.scale = tuple(scale)
        self.resize_masks = resize_masks

    def transform(self, results: dict) -> dict:
        results['imgs'] = [self._resize(img, Image.BILINEAR)
                           for img in results['imgs']]
        results['img_shape'] = results['imgs'][0].shape[:2]
        if self.resize_masks and 'gt_masks' in results:
            results['gt_masks'] = [self._resize(mask, Image.NEAREST)
                                   for mask in results['gt_masks']]
        return results

    def _resize(self, array: np.ndarray, resample: int) -> np.ndarray:
        if array.shape[1::-1] == self.scale:
            return array
        return np.asarray(Image.fromarray(array).resize(self.scale, resample))

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(scale={self.scale}, '
                f'resize_masks={self.resize_masks})')
