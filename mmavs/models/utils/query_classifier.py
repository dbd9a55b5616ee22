"""Common interface of the query classifiers of Mask2Former-style heads.

A query classifier turns query embeddings ``e = LN(q)`` into logits over
``L = K + 1`` labels (``K`` classes including background, ∅ = ``K``: "no
object"), and for CPM (``cpm.md`` §3) may also hold class representations
that can be *sampled* as class-conditional prompts. Three kinds, one file
each: :class:`~.linear_query_classifier.LinearQueryClassifier` (the
AVSegFormer* baseline), :class:`~.prototype_classifier.PrototypeClassifier`
(Tab. 5 "Point Rep.") and :class:`~.gmm_classifier.GMMClassifier` (CCDM).
"""
from typing import Optional

import torch
from mmengine.model import BaseModule
from torch import Tensor


class QueryClassifier(BaseModule):
    """Base class: ``forward(e (..., D)) -> logits (..., L)``, ``update``,
    ``sample``.

    Args:
        num_labels: ``L = K + 1`` (∅ is label ``L - 1``).
        embed_dims: ``D``.
        init_cfg: mmengine init config.
    """

    #: Whether :meth:`sample` gives prompts (VCP / ACP / PCL need them).
    provides_prompts = False

    def __init__(self, num_labels: int, embed_dims: int,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if num_labels < 2:
            raise ValueError('num_labels counts the classes and ∅: >= 2')
        self.num_labels = num_labels
        self.embed_dims = embed_dims

    @property
    def no_object(self) -> int:
        """Index of ∅ (``L - 1``)."""
        return self.num_labels - 1

    def forward(self, embeds: Tensor) -> Tensor:
        """``(..., D)`` embeddings → ``(..., L)`` logits."""
        raise NotImplementedError

    def update(self, embeds: Tensor, labels: Tensor) -> None:
        """Feed ``(S, D)`` detached embeddings with their ``(S,)`` labels
        (matched class or ∅) after matching. No-op here."""

    def sample(self, labels: Tensor,
               generator: Optional[torch.Generator] = None) -> Tensor:
        """``(P,)`` labels → ``(P, D)`` prompts."""
        raise NotImplementedError(
            f'{type(self).__name__} cannot give class-conditional prompts: '
            "prompts (VCP / ACP / PCL) need classifier='gmm' or "
            "'prototype'")
