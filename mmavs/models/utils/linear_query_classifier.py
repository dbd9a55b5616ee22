"""Linear softmax classifier of queries (the AVSegFormer* baseline)."""
from typing import Optional

from mmseg.registry import MODELS
from torch import Tensor, nn

from .query_classifier import QueryClassifier


@MODELS.register_module()
class LinearQueryClassifier(QueryClassifier):
    """``logits = W e + b`` (Mask2Former's class head; ``cpm.md`` §3
    ``classifier='linear'``, Tab. 4 row 1). It has no class representation
    to sample: :meth:`sample` raises.

    Args:
        num_labels: ``L = K + 1`` (∅ = ``K``).
        embed_dims: ``D``.
        init_cfg: mmengine init config.
    """

    def __init__(self, num_labels: int, embed_dims: int = 256,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(num_labels, embed_dims, init_cfg)
        self.fc = nn.Linear(embed_dims, num_labels)

    def forward(self, embeds: Tensor) -> Tensor:
        """``(..., D)`` → ``(..., L)``."""
        return self.fc(embeds)
