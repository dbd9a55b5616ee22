"""Unrolling a batch of clips into frames, with their audio."""
from typing import Dict, Optional, Sequence

import torch
from mmengine.model import BaseDataPreprocessor
from mmseg.registry import MODELS


@MODELS.register_module()
class AVSDataPreprocessor(BaseDataPreprocessor):
    """Stack B clips of T frames into B*T normalised frames, clip by clip.

    Frame ``t`` of clip ``b`` lands at index ``b * T + t``, so modules recover
    ``(B, T, ...)`` with a reshape. The audio keeps its clip axis, which is
    how the model learns T.

    Input (from :func:`avs_collate`): ``inputs``, B tensors ``(T, 3, H, W)``
    uint8 (BGR); ``audio``, B tensors ``(T, 1, 96, 64)``; ``data_samples``,
    B*T frame samples.

    Output: ``inputs`` ``(B*T, 3, H, W)`` float; ``audio``
    ``(B, T, 1, 96, 64)``; ``data_samples`` with ``batch_input_shape`` set.

    Args:
        mean: Per-channel mean, in the output channel order.
        std: Per-channel standard deviation.
        bgr_to_rgb: Convert frames to RGB (the loaders read BGR, as mmseg).
    """

    def __init__(self,
                 mean: Sequence[float] = (123.675, 116.28, 103.53),
                 std: Sequence[float] = (58.395, 57.12, 57.375),
                 bgr_to_rgb: bool = True,
                 non_blocking: bool = False) -> None:
        super().__init__(non_blocking)
        self.register_buffer('mean', torch.tensor(mean).view(1, -1, 1, 1),
                             False)
        self.register_buffer('std', torch.tensor(std).view(1, -1, 1, 1), False)
        self.bgr_to_rgb = bgr_to_rgb

    def forward(self, data: dict, training: bool = False) -> Dict:
        data = self.cast_data(data)
        clips, audio = data['inputs'], data['audio']
        shapes = {tuple(clip.shape) for clip in clips}
        if len(shapes) != 1:
            raise ValueError(f'clips of one batch differ in shape: {shapes}')
        frames = torch.cat(list(clips)).float()
        if self.bgr_to_rgb:
            frames = frames[:, [2, 1, 0]]
        frames = (frames - self.mean) / self.std
        audio = torch.stack(list(audio)).float()
        samples: Optional[list] = data.get('data_samples')
        if samples is not None:
            if len(samples) != frames.shape[0]:
                raise ValueError(f'{len(samples)} data samples for '
                                 f'{frames.shape[0]} frames')
            for sample in samples:
                sample.set_metainfo(
                    dict(batch_input_shape=tuple(frames.shape[-2:])))
        return dict(inputs=frames, audio=audio, data_samples=samples)
