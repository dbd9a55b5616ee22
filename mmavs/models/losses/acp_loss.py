"""ACP's ratio-mask regression (CPM, ``cpm.md`` §5)."""
from mmseg.registry import MODELS
from torch import Tensor, nn


@MODELS.register_module()
class ACPLoss(nn.Module):
    """``mean (σ(Σ_k m^a_k) − r)²`` over frames, channels, time and mel bands.

    The paper writes an L2 norm and calls it MSE; the mean is scale-free
    (``cpm.md`` §5). Frames without a sounding foreground class are left out
    by the caller; with no frame at all the loss is a zero that keeps the
    graph.

    Args:
        loss_weight: Weight of the loss.
        loss_name: Key in a loss dict.
    """

    def __init__(self, loss_weight: float = 1.0,
                 loss_name: str = 'loss_acp') -> None:
        super().__init__()
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    @property
    def loss_name(self) -> str:
        return self._loss_name

    def forward(self, summed_mask_logits: Tensor, target: Tensor) -> Tensor:
        """Args:
            summed_mask_logits: ``(B', 1 or C, T, F)``: per frame the sum of
                its prompts' audio mask logits (one map shared by the
                stereo channels broadcasts over ``C``).
            target: ``(B', C, T, F)`` ratio masks in ``[0, 1]``
                (:func:`~mmavs.models.utils.offscreen_noise.mix_magnitudes`).
        """
        if summed_mask_logits.shape[0] == 0:
            return summed_mask_logits.sum() * 0.0
        pred = summed_mask_logits.float().sigmoid().expand_as(target)
        return self.loss_weight * (pred - target.float()).pow(2).mean()
