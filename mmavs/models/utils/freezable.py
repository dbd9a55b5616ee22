"""One meaning of ``frozen`` for every audio encoder."""
from contextlib import nullcontext

import torch
from torch import nn


class FreezableMixin:
    """Give a module the ``frozen`` option that every audio encoder takes.

    A frozen module has ``requires_grad=False`` on every parameter, stays in
    eval mode whatever ``train()`` is asked (batch norms keep their running
    statistics), and its forward builds no graph (the subclass runs it inside
    :meth:`grad_context`). Subclasses set ``self.frozen`` and call
    :meth:`apply_frozen` at the end of ``__init__``.

    Config: ``audio=dict(type='VGGish', frozen=True)`` (the default, as in
    every reference) or ``audio=dict(type='AudioResNet', frozen=False)``
    (the default of the trainable encoders, CAVP / CPM).
    """

    frozen: bool = False

    def apply_frozen(self) -> None:
        """Freeze the parameters and switch to eval mode if ``frozen``."""
        if self.frozen:
            self.requires_grad_(False)
            self.train(False)

    def train(self, mode: bool = True) -> nn.Module:
        """Set training mode; a frozen module always stays in eval mode."""
        return super().train(mode and not self.frozen)

    def grad_context(self):
        """``torch.no_grad()`` when frozen, else a no-op context."""
        return torch.no_grad() if self.frozen else nullcontext()
