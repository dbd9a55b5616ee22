"""CAVP's VPO training augmentation (``cavp.md`` §7) on clip-layout keys.

The pipeline is ``VPORandomFlip`` → ``AVSColorJitter`` →
``AVSSRandomScaleCrop(scales=(0.5, ..., 2.0), flip_prob=0)``: h-flip with the
stereo image mirrored, colour jitter, a random scale (bicubic) and a random
512 crop padded with the mean colour (masks: 255). The jitter runs before the
scale and crop so that the padding keeps the exact mean colour; its
adjustments are per pixel (contrast reads the image mean, which a resize
barely moves), so the order changes only rounding. Frames are T
``(H, W, 3)`` uint8 BGR arrays, masks T ``(H, W)`` maps
(``docs/en/architecture.md``); mmseg's own transforms read ``img`` /
``gt_seg_map`` and cannot see them.

Why swapping the channels is the exact stereo flip: every source is panned
``L = w (1 - pos)``, ``R = w pos`` and the sources are summed. Mirroring the
image moves each source to ``pos' = 1 - pos``, so ``L' = w pos = R`` and
``R' = w (1 - pos) = L`` for every source, hence for the sum: the mirrored
sound is the original with its channels swapped. The reference's VPO-SS
loader flips the image and keeps ``pos`` (``cavp.md`` §10.2); here the flip
is one transform for every subset.
"""
import random
from typing import Sequence

import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS
from PIL import Image, ImageEnhance


@TRANSFORMS.register_module()
class VPORandomFlip(BaseTransform):
    """Horizontal flip of frames, masks and the stereo image together.

    With probability ``prob``: every frame and mask is mirrored, every
    ``audio_pos`` becomes ``1 - pos`` and, when the audio is already loaded
    with 2 channels, its left and right channels are swapped (exact, see the
    module docstring). Mono audio is unchanged. Placed before or after
    :class:`LoadVPOAudio` the result is the same.

    Required keys: ``imgs``; optional ``gt_masks``, ``audio`` ``(T, A, S)``,
    ``audio_pos`` or ``sources``.
    Modified keys: those; added ``flip``.
    """

    def __init__(self, prob: float = 0.5) -> None:
        self.prob = prob

    def transform(self, results: dict) -> dict:
        # Python's random: mmengine seeds it per worker.
        flip = random.random() < self.prob
        results['flip'] = flip
        if not flip:
            return results
        results['imgs'] = [np.ascontiguousarray(i[:, ::-1])
                           for i in results['imgs']]
        if 'gt_masks' in results:
            results['gt_masks'] = [np.ascontiguousarray(m[:, ::-1])
                                   for m in results['gt_masks']]
        positions = results.get('audio_pos')
        if positions is None and 'sources' in results:
            positions = [s.get('audio_pos') for s in results['sources']]
        if positions is not None:
            results['audio_pos'] = [None if p is None else 1.0 - p
                                    for p in positions]
        audio = results.get('audio')
        if audio is not None and audio.ndim == 3 and audio.shape[1] == 2:
            results['audio'] = np.ascontiguousarray(audio[:, ::-1])
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(prob={self.prob})'


def adjust_hue(image: Image.Image, shift: float) -> Image.Image:
    """Rotate the hue of an RGB image by ``shift`` turns (in [-0.5, 0.5]),
    through PIL's 8-bit HSV as torchvision's PIL path does."""
    if shift == 0:
        return image
    h, s, v = image.convert('HSV').split()
    hue = np.asarray(h, dtype=np.uint8)
    with np.errstate(over='ignore'):
        hue = (hue + np.uint8(int(shift * 255) % 256)).astype(np.uint8)
    return Image.merge('HSV', (Image.fromarray(hue, 'L'), s, v)).convert(
        'RGB')


@TRANSFORMS.register_module()
class AVSColorJitter(BaseTransform):
    """Colour jitter with torchvision ``ColorJitter``'s meaning, on PIL.

    Brightness, contrast and saturation factors are drawn uniformly from
    ``[max(0, 1 - x), 1 + x]``, the hue shift from ``[-hue, hue]``; the four
    adjustments run in a random order (PIL ``ImageEnhance`` and an HSV hue
    rotation, the operations torchvision applies to PIL images). One draw
    per clip: every frame gets the same jitter.

    Required keys: ``imgs`` (T ``(H, W, 3)`` uint8 BGR).
    Modified keys: ``imgs``.

    Args:
        brightness, contrast, saturation, hue: CAVP: 0.5, 0.5, 0.5, 0.25.
    """

    def __init__(self, brightness: float = 0.5, contrast: float = 0.5,
                 saturation: float = 0.5, hue: float = 0.25) -> None:
        if not 0 <= hue <= 0.5:
            raise ValueError(f'hue must be in [0, 0.5], got {hue}')
        self.brightness, self.contrast = brightness, contrast
        self.saturation, self.hue = saturation, hue

    @staticmethod
    def _factor(amount: float) -> float:
        return random.uniform(max(0.0, 1 - amount), 1 + amount)

    def transform(self, results: dict) -> dict:
        ops = [
            (ImageEnhance.Brightness, self._factor(self.brightness)),
            (ImageEnhance.Contrast, self._factor(self.contrast)),
            (ImageEnhance.Color, self._factor(self.saturation)),
            (None, random.uniform(-self.hue, self.hue)),
        ]
        order = list(range(4))
        random.shuffle(order)

        def jitter(bgr: np.ndarray) -> np.ndarray:
            image = Image.fromarray(np.ascontiguousarray(bgr[..., ::-1]))
            for index in order:
                enhancer, value = ops[index]
                image = adjust_hue(image, value) if enhancer is None \
                    else enhancer(image).enhance(value)
            return np.ascontiguousarray(np.asarray(image)[..., ::-1])

        results['imgs'] = [jitter(i) for i in results['imgs']]
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(brightness={self.brightness}, '
                f'contrast={self.contrast}, saturation={self.saturation}, '
                f'hue={self.hue})')


VPO_SCALES: Sequence[float] = (0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0)
