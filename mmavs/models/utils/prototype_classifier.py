"""Learnable class prototypes (CPM Tab. 5 "Point Rep.")."""
from typing import Optional

import torch
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import Tensor, nn

from .query_classifier import QueryClassifier


@MODELS.register_module()
class PrototypeClassifier(QueryClassifier):
    """One learnable prototype ``P_c ∈ R^D`` per label; logits are scaled
    cosine similarities ``scale · cos(e, P_c)``; prompts are the prototypes.

    Cosine rather than the raw dot product ``e · P_c``: the dot product is a
    linear classifier without bias (Tab. 5 contrasts a *point* representation
    with a distribution, not a linear head), and it would let the loss grow
    the prototypes' norm, whereas the prototypes are also fed to the decoder
    as prompts and should stay on the scale of the embeddings. Prototypes
    start as ``N(0, 1)`` so their norm (``≈ √D``) matches that of
    layer-normalised embeddings; ``scale = 10`` (temperature 0.1) lets the
    softmax become confident.

    Args:
        num_labels: ``L = K + 1`` (∅ = ``K``, it has a prototype too).
        embed_dims: ``D``.
        scale: Multiplier of the cosine similarities.
        init_cfg: mmengine init config.
    """

    provides_prompts = True

    def __init__(self, num_labels: int, embed_dims: int = 256,
                 scale: float = 10.0,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(num_labels, embed_dims, init_cfg)
        self.scale = scale
        self.prototypes = nn.Parameter(torch.randn(num_labels, embed_dims))

    def forward(self, embeds: Tensor) -> Tensor:
        """``(..., D)`` → ``(..., L)``."""
        return self.scale * F.normalize(embeds, dim=-1) @ F.normalize(
            self.prototypes, dim=-1).t()

    def sample(self, labels: Tensor,
               generator: Optional[torch.Generator] = None) -> Tensor:
        """``(P,)`` labels → ``(P, D)``: the prototypes (with gradient;
        ``generator`` is unused)."""
        return self.prototypes[labels.to(self.prototypes.device)]
