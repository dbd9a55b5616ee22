"""What every neck returns (``docs/en/architecture.md``)."""
from typing import Dict, List, NamedTuple

from torch import Tensor


class NeckOutput(NamedTuple):
    """The output of a neck.

    Attributes:
        fused: L maps ``(N, C_l, H_l, W_l)``. When a latent neck samples S
            latents at test time, the levels the latent reaches are
            ``(S·N, ...)`` (copy-major: sample ``s`` of frame ``i`` at
            ``s·N + i``) and the others stay ``(N, ...)``, shared by the
            samples.
        extras: Outputs other modules may read: ``level_audio`` (L entries,
            ``(N, C)`` aligned audio or None, for the matching loss; None
            when the neck has none), ``num_samples`` (S, 1 unless sampled).
        losses: The neck's own losses; empty at test time.
    """

    fused: List[Tensor]
    extras: Dict
    losses: Dict[str, Tensor]
