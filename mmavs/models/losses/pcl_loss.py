"""Prompting-based contrastive learning (CPM's PCL, ``cpm.md`` §7)."""
from typing import Optional

import torch
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import Tensor, nn


@MODELS.register_module()
class PCLLoss(nn.Module):
    """Supervised InfoNCE between class-wise audio anchors and visual pixels.

    1. Per prompt ``k`` (class ``c_k``): ``s = σ(m^a_k)``, binary mask
       ``s̃ = 1(s > mean(s))`` (no gradient; all ones if no bin exceeds the
       mean, i.e. a constant map); anchor ``f(k) = Σ s̃ ũ_a / Σ s̃`` over
       the ``T × F`` bins of the dense audio map, L2-normalised.
    2. Pixels: the ``(B, D, h, w)`` visual embeddings, L2-normalised, with
       the labels nearest-resized to ``h × w``; ``ignore_index`` pixels are
       dropped; per class present at most ``max_pixels`` random pixels
       (background is a class like the others).
    3. Eq. 9, per anchor: positives = sampled pixels of its class (any frame
       of the batch), negatives = sampled pixels of any other class;
       ``ℓ(f) = mean_p −log[e^{f·p/τ} / (e^{f·p/τ} + Σ_n e^{f·n/τ})]``,
       each positive with its own denominator over all negatives; the loss
       is the mean over anchors that have at least one positive. With none
       it is a zero that keeps the graph.

    Gradients reach both the dense audio map and the pixel embeddings.

    Args:
        temperature: ``τ`` (0.1).
        max_pixels: Pixels sampled per class (512).
        loss_weight: Weight of the loss.
        ignore_index: Label of ignored pixels.
        loss_name: Key in a loss dict.
    """

    def __init__(self,
                 temperature: float = 0.1,
                 max_pixels: int = 512,
                 loss_weight: float = 1.0,
                 ignore_index: int = 255,
                 loss_name: str = 'loss_pcl') -> None:
        super().__init__()
        self.temperature = temperature
        self.max_pixels = max_pixels
        self.loss_weight = loss_weight
        self.ignore_index = ignore_index
        self._loss_name = loss_name

    @property
    def loss_name(self) -> str:
        return self._loss_name

    @staticmethod
    def anchors(audio_mask_logits: Tensor, dense_audio: Tensor) -> Tensor:
        """``(P, T, F)`` logits and ``(P, D, T, F)`` maps → ``(P, D)``
        normalised anchors (Eq. 7)."""
        with torch.no_grad():
            prob = audio_mask_logits.float().sigmoid().flatten(1)
            binary = (prob > prob.mean(1, keepdim=True)).float()
            empty = binary.sum(1) == 0
            binary[empty] = 1.0
        feats = dense_audio.float().flatten(2)  # (P, D, TF)
        anchor = (feats * binary[:, None]).sum(-1) / binary.sum(
            1, keepdim=True)
        return F.normalize(anchor, dim=-1)

    def sample_pixels(self, pixel_embeds: Tensor, pixel_labels: Tensor,
                      generator: Optional[torch.Generator] = None) -> tuple:
        """``(B, D, h, w)`` embeddings and ``(B, h', w')`` labels →
        ``(S, D)`` normalised pixels and their ``(S,)`` labels."""
        h, w = pixel_embeds.shape[-2:]
        labels = F.interpolate(pixel_labels[:, None].float(), size=(h, w),
                               mode='nearest')[:, 0].long().flatten()
        embeds = pixel_embeds.float().permute(0, 2, 3, 1).flatten(0, 2)
        keep = []
        for label in labels.unique().tolist():
            if label == self.ignore_index:
                continue
            idx = (labels == label).nonzero().flatten()
            if len(idx) > self.max_pixels:
                perm = torch.randperm(len(idx), generator=generator)
                idx = idx[perm[:self.max_pixels].to(idx.device)]
            keep.append(idx)
        if not keep:
            return embeds[:0], labels[:0]
        keep = torch.cat(keep)
        return F.normalize(embeds[keep], dim=-1), labels[keep]

    def forward(self,
                audio_mask_logits: Tensor,
                dense_audio: Tensor,
                prompt_labels: Tensor,
                pixel_embeds: Tensor,
                pixel_labels: Tensor,
                generator: Optional[torch.Generator] = None) -> Tensor:
        """Args:
            audio_mask_logits: ``(P, T, F)`` audio mask logits ``m^a_k`` of
                the ``P`` prompts (one map shared by stereo channels).
            dense_audio: ``(P, D, T, F)`` the dense audio map ``ũ_a`` of
                each prompt's frame (mixed audio).
            prompt_labels: ``(P,)`` long, the class of each prompt.
            pixel_embeds: ``(B, D, h, w)`` visual pixel embeddings ``ũ_v``.
            pixel_labels: ``(B, h', w')`` long ground truth, ``ignore_index``
                ignored.
            generator: Optional CPU generator for the pixel sampling.

        Returns:
            Scalar loss.
        """
        zero = dense_audio.sum() * 0.0 + pixel_embeds.sum() * 0.0
        if len(prompt_labels) == 0:
            return zero
        anchors = self.anchors(audio_mask_logits, dense_audio)
        pixels, labels = self.sample_pixels(pixel_embeds, pixel_labels,
                                            generator)
        if len(labels) == 0:
            return zero
        sim = anchors @ pixels.t() / self.temperature  # (P, S)
        positive = labels[None] == prompt_labels.to(labels.device)[:, None]
        # A finite fill keeps the gradient finite when an anchor has no
        # negative (its terms are then 0: -log(e^s / e^s)).
        neg_lse = sim.masked_fill(positive, -1e9).logsumexp(1)
        per_pair = torch.logaddexp(sim, neg_lse[:, None]) - sim
        num_pos = positive.sum(1)
        has_pos = num_pos > 0
        if not has_pos.any():
            return zero
        per_anchor = (per_pair * positive).sum(1)[has_pos] / num_pos[has_pos]
        return self.loss_weight * per_anchor.mean()
