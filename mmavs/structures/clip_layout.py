"""Which frame of a batch belongs to which clip (``docs/en/architecture.md``).

A batch of B clips holds ``N = Σ_b T_b`` frames, clip by clip: frame ``t`` of
clip ``b`` sits at ``offsets[b] + t``. Clips of one batch may differ in T (5-
and 10-frame AVSS clips, single frames). :class:`ClipLayout` is built once by
the data preprocessor and handed to every module that needs clips; nothing
infers T from a tensor's shape.
"""
from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Tuple

import torch
from torch import Tensor


@dataclass(frozen=True)
class ClipLayout:
    """The clip structure of N frames.

    Attributes:
        num_frames: ``(B,)`` long, T_b of each clip of the batch.
        clip_index: ``(N,)`` long, the dataset index of each frame's clip
            (used to seed test-time noise and to tell clips apart in
            contrastive losses; -1 when unknown).
        frame_index: ``(N,)`` long, the frame's index in its clip.
        frame_valid: ``(N,)`` bool, False for padding frames.
        annotated: ``(N,)`` bool, the frame has a mask the losses use.
    """

    num_frames: Tensor
    clip_index: Tensor
    frame_index: Tensor
    frame_valid: Tensor
    annotated: Tensor
    # T_b as Python ints (read without a device sync).
    lengths: Tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        lengths = tuple(int(t) for t in self.num_frames.cpu().tolist())
        object.__setattr__(self, 'lengths', lengths)
        if any(t < 1 for t in lengths):
            raise ValueError(f'every clip needs a frame, got {lengths}')
        total = sum(lengths)
        for name in ('clip_index', 'frame_index', 'frame_valid', 'annotated'):
            value = getattr(self, name)
            if value.shape != (total, ):
                raise ValueError(f'ClipLayout.{name} has shape '
                                 f'{tuple(value.shape)}, expected ({total},) '
                                 f'for clips of {lengths} frames')

    # ------------------------------------------------------------ building
    @classmethod
    def uniform(cls, num_clips: int, num_frames: int,
                device: Optional[torch.device] = None,
                annotated: bool = False,
                first_clip_index: int = 0) -> 'ClipLayout':
        """B clips of T valid frames, clip indices ``first..first+B-1``,
        for callers without data samples (tests, benchmarks, inference)."""
        return cls.from_lengths([num_frames] * num_clips, device=device,
                                annotated=annotated,
                                first_clip_index=first_clip_index)

    @classmethod
    def from_lengths(cls, lengths: Sequence[int],
                     device: Optional[torch.device] = None,
                     annotated: bool = False,
                     first_clip_index: int = 0) -> 'ClipLayout':
        """Clips of ``lengths`` valid frames, numbered from
        ``first_clip_index``."""
        clip = torch.cat([
            torch.full((t, ), first_clip_index + b, dtype=torch.long)
            for b, t in enumerate(lengths)
        ]) if lengths else torch.zeros(0, dtype=torch.long)
        frame = torch.cat([torch.arange(t) for t in lengths]) \
            if lengths else torch.zeros(0, dtype=torch.long)
        total = int(sum(lengths))
        return cls(
            num_frames=torch.tensor(list(lengths), dtype=torch.long),
            clip_index=clip, frame_index=frame,
            frame_valid=torch.ones(total, dtype=torch.bool),
            annotated=torch.full((total, ), annotated,
                                 dtype=torch.bool)).to(device)

    @classmethod
    def from_data_samples(cls, data_samples: Sequence,
                          lengths: Optional[Sequence[int]] = None,
                          device: Optional[torch.device] = None
                          ) -> 'ClipLayout':
        """Read the layout from the frames' metainfo.

        Args:
            data_samples: N frame samples, clip by clip.
            lengths: T_b of each clip (the collated clip tensors know it);
                default: walk the samples using each clip's first
                ``num_frames`` metainfo (1 where it is missing).

        Missing keys default to: ``clip_index`` the clip's position in the
        batch, ``frame_index`` the frame's position in its clip,
        ``frame_valid`` True, ``annotated`` True if the sample has
        ``gt_sem_seg``.
        """
        if lengths is None:
            lengths, i = [], 0
            while i < len(data_samples):
                t = int(data_samples[i].metainfo.get('num_frames', 1))
                lengths.append(t)
                i += t
            if i != len(data_samples):
                raise ValueError(
                    f'the num_frames of the data samples ({lengths}) do not '
                    f'add up to the {len(data_samples)} samples')
        if sum(lengths) != len(data_samples):
            raise ValueError(f'{len(data_samples)} data samples for clips of '
                             f'{list(lengths)} frames')
        clip, frame, valid, annotated = [], [], [], []
        i = 0
        for b, t in enumerate(lengths):
            for k in range(t):
                meta = data_samples[i].metainfo
                clip.append(int(meta.get('clip_index', b)))
                frame.append(int(meta.get('frame_index', k)))
                valid.append(bool(meta.get('frame_valid', True)))
                annotated.append(bool(meta.get(
                    'annotated', 'gt_sem_seg' in data_samples[i])))
                i += 1
        return cls(
            num_frames=torch.tensor(list(lengths), dtype=torch.long),
            clip_index=torch.tensor(clip, dtype=torch.long),
            frame_index=torch.tensor(frame, dtype=torch.long),
            frame_valid=torch.tensor(valid, dtype=torch.bool),
            annotated=torch.tensor(annotated, dtype=torch.bool)).to(device)

    def to(self, device: Optional[torch.device]) -> 'ClipLayout':
        """The same layout with its tensors on ``device`` (None: unchanged)."""
        if device is None:
            return self
        return ClipLayout(*(getattr(self, name).to(device)
                            for name in self._tensor_fields()))

    @staticmethod
    def _tensor_fields() -> Tuple[str, ...]:
        return ('num_frames', 'clip_index', 'frame_index', 'frame_valid',
                'annotated')

    # ------------------------------------------------------------ reading
    def __len__(self) -> int:
        """N, the number of frames."""
        return sum(self.lengths)

    @property
    def num_clips(self) -> int:
        return len(self.lengths)

    @property
    def device(self) -> torch.device:
        return self.clip_index.device

    @property
    def offsets(self) -> Tensor:
        """``(B,)`` long, index of each clip's first frame."""
        return torch.cumsum(self.num_frames, 0) - self.num_frames

    @property
    def batch_clip(self) -> Tensor:
        """``(N,)`` long, each frame's clip position in the batch (0..B-1)."""
        return torch.repeat_interleave(
            torch.arange(self.num_clips, device=self.device),
            self.num_frames.to(self.device))

    @property
    def is_uniform(self) -> bool:
        """All clips have the same T."""
        return len(set(self.lengths)) <= 1

    def split(self, x: Tensor) -> List[Tensor]:
        """``(N, ...)`` → B views ``(T_b, ...)``, one per clip."""
        self._check(x)
        return list(torch.split(x, list(self.lengths)))

    def groups(self) -> List[Tuple[int, Optional[Tensor]]]:
        """Clips of equal length: ``[(T, index), ...]``.

        ``x[index].view(-1, T, ...)`` holds the group's clips, in batch order.
        ``index`` is None when every clip has the same T (then ``x`` itself
        reshapes, no copy is needed).
        """
        if self.is_uniform:
            return [(self.lengths[0], None)] if self.lengths else []
        starts = [0]
        for t in self.lengths[:-1]:
            starts.append(starts[-1] + t)
        by_length: dict = {}
        for start, t in zip(starts, self.lengths):
            by_length.setdefault(t, []).extend(range(start, start + t))
        return [(t, torch.tensor(frames, device=self.device))
                for t, frames in sorted(by_length.items())]

    def apply_per_clip(self, fn, *inputs: Tensor) -> Tuple[Tensor, ...]:
        """Run ``fn`` on clip-shaped groups, return frame-ordered outputs.

        ``fn(T, *xs)`` gets each group's inputs as ``(B_T, T, ...)`` (one call
        per distinct T) and returns a tuple of ``(B_T, T, ...)`` tensors; the
        outputs come back as ``(N, ...)`` in frame order.
        """
        for x in inputs:
            self._check(x)
        pieces, order = [], []
        for t, index in self.groups():
            xs = [x if index is None else x[index] for x in inputs]
            outs = fn(t, *(x.reshape(-1, t, *x.shape[1:]) for x in xs))
            pieces.append([o.flatten(0, 1) for o in outs])
            if index is not None:
                order.append(index)
        if not order:
            return tuple(pieces[0])
        inverse = torch.argsort(torch.cat(order))
        return tuple(torch.cat(parts)[inverse] for parts in zip(*pieces))

    def repeat(self, times: int) -> 'ClipLayout':
        """The layout of ``times`` stacked copies of the N frames
        (``(S·N, ...)``, copy-major, as latent samples are stacked)."""
        if times == 1:
            return self
        return ClipLayout(*(getattr(self, name).repeat(times)
                            for name in self._tensor_fields()))

    def _check(self, x: Tensor) -> None:
        if x.shape[0] != len(self):
            raise ValueError(f'a tensor of {x.shape[0]} frames does not fit '
                             f'clips of {list(self.lengths)} frames')
