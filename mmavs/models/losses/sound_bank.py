"""Per-class FIFO of raw audio inputs for CAVP's shuffled-audio overwrite."""
from collections import deque
from typing import Deque, List, Optional

import torch
from torch import Tensor


class SoundBank:
    """Per class, the last ``size`` audio inputs of single-source frames.

    ``cavp.md`` §6 **[decision]**: the bank stores the raw per-frame audio
    inputs the model reads (waveform windows, or log-mel examples), not
    audio features; a class holds only real pushes (no zero-filled slots,
    bug §10.9); :meth:`draw` returns a random filled slot.

    Not saved in checkpoints: a resumed run refills it within a few
    iterations (the overwrite skips classes that are still empty).

    Args:
        num_classes: K.
        size: Slots per class (the reference: the batch size).
    """

    def __init__(self, num_classes: int, size: int) -> None:
        if size < 1:
            raise ValueError(f'bank size must be >= 1, got {size}')
        self.num_classes = num_classes
        self.size = size
        self.slots: List[Deque[Tensor]] = [
            deque(maxlen=size) for _ in range(num_classes)
        ]

    def push(self, class_index: int, audio: Tensor) -> None:
        """Store a detached copy of one frame's audio ``(...)`` for the
        class; the oldest slot goes when the class is full."""
        self.slots[class_index].append(audio.detach().clone())

    def filled(self, class_index: int) -> int:
        """How many slots of the class hold audio."""
        return len(self.slots[class_index])

    def draw(self, class_index: int,
             generator: Optional[torch.Generator] = None) -> Tensor:
        """A uniformly drawn filled slot of the class.

        Raises:
            LookupError: the class has no audio yet.
        """
        slots = self.slots[class_index]
        if not slots:
            raise LookupError(f'the sound bank has no audio of class '
                              f'{class_index} yet')
        pick = int(torch.randint(len(slots), (1, ), generator=generator))
        return slots[pick]
