"""Unrolling a batch of clips into frames, with their audio and layout."""
from typing import Dict, List, Optional, Sequence

import torch
from mmengine.model import BaseDataPreprocessor
from mmseg.registry import MODELS

from mmavs.structures import ClipLayout


@MODELS.register_module()
class AVSDataPreprocessor(BaseDataPreprocessor):
    """Concatenate B clips into N normalised frames and record their layout.

    Frame ``t`` of clip ``b`` lands at ``T_0 + ... + T_{b-1} + t``; clips may
    differ in T. The :class:`~mmavs.structures.ClipLayout` built here is the
    one place modules learn which frame belongs to which clip
    (``docs/en/architecture.md``).

    Input (from :func:`avs_collate`): ``inputs``, B tensors ``(T_b, 3, H, W)``
    uint8 (BGR); ``audio``, B tensors ``(T_b, ...)`` (any per-frame audio
    input: log-mel ``(T_b, 1, 96, 64)``, waveform ``(T_b, A, S)``, embedding
    ``(T_b, D)``); ``data_samples``, N frame samples (optional).

    Output: ``inputs`` ``(N, 3, H, W)`` float; ``audio`` ``(N, ...)`` float;
    ``data_samples`` with ``batch_input_shape`` set; ``layout``.

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
        clips, audio = list(data['inputs']), list(data['audio'])
        samples: Optional[list] = data.get('data_samples')
        lengths = [len(clip) for clip in clips]
        self._check(clips, audio, samples, lengths)
        frames = torch.cat(clips).float()
        if self.bgr_to_rgb:
            frames = frames[:, [2, 1, 0]]
        frames = (frames - self.mean) / self.std
        audio = torch.cat(audio).float()
        if samples is not None:
            layout = ClipLayout.from_data_samples(samples, lengths,
                                                  device=frames.device)
            for sample in samples:
                sample.set_metainfo(
                    dict(batch_input_shape=tuple(frames.shape[-2:])))
        else:
            layout = ClipLayout.from_lengths(lengths, device=frames.device)
        return dict(inputs=frames, audio=audio, data_samples=samples,
                    layout=layout)

    @staticmethod
    def _check(clips: List, audio: List, samples: Optional[list],
               lengths: List[int]) -> None:
        """Raise ValueError, naming the clips, on a batch that cannot be
        concatenated."""
        if len(audio) != len(clips):
            raise ValueError(f'{len(clips)} clips but {len(audio)} audio '
                             f'inputs')
        names = _clip_names(samples, lengths)
        sizes = {tuple(clip.shape[1:]) for clip in clips}
        if len(sizes) > 1:
            described = ', '.join(f'{name}: {tuple(clip.shape[-2:])}'
                                  for name, clip in zip(names, clips))
            raise ValueError(
                f'frames of one batch must share their size (resize or crop '
                f'them in the pipeline, or use batch_size=1): {described}')
        for name, clip, sound in zip(names, clips, audio):
            if len(sound) != len(clip):
                raise ValueError(f'{name}: {len(clip)} frames but '
                                 f'{len(sound)} audio inputs')
        shapes = {tuple(sound.shape[1:]) for sound in audio}
        if len(shapes) > 1:
            described = ', '.join(f'{name}: {tuple(sound.shape[1:])}'
                                  for name, sound in zip(names, audio))
            raise ValueError(f'per-frame audio inputs of one batch differ in '
                             f'shape: {described}')
        if samples is not None and len(samples) != sum(lengths):
            raise ValueError(f'{len(samples)} data samples for '
                             f'{sum(lengths)} frames')


def _clip_names(samples: Optional[list], lengths: List[int]) -> List[str]:
    """A readable name per clip: its ``clip_name`` or first frame's path."""
    names, start = [], 0
    for b, t in enumerate(lengths):
        meta = samples[start].metainfo \
            if samples is not None and start < len(samples) else {}
        names.append(str(meta.get('clip_name') or meta.get('img_path')
                         or f'clip {b}'))
        start += t
    return names
