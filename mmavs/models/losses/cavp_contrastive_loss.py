"""CAVP's informative-sample-mining contrastive loss (``cavp.md`` §5–6)."""
import math
from typing import Dict, List, NamedTuple, Optional, Tuple

import torch
from mmengine.logging import MessageHub
from mmseg.registry import MODELS
from torch import Tensor, nn
from torch.nn import functional as F

from mmavs.structures import ClipLayout

from .sound_bank import SoundBank


class ShuffledAudio(NamedTuple):
    """The plan of a shuffled-audio pass (what the segmentor runs and the
    loss reads back in ``extras['shuffle']``).

    Attributes:
        audio: ``(N, ...)`` raw per-frame audio for the pass: frame i gets
            the audio of frame ``source[i]``, or a sound-bank clip.
        source: ``(N,)`` long, the frame whose audio frame i got; -1 where
            the sound bank supplied it.
        match: ``(N,)`` bool, the image-level label vectors of i and of its
            audio's frame are equal (True after a bank overwrite).
        known: ``(N,)`` bool, i and its audio's frame both have masks (only
            then is ``match`` meaningful; frames without are not mined in
            the shuffled pass).
    """

    audio: Tensor
    source: Tensor
    match: Tensor
    known: Tensor


def supervised_info_nce(feats: Tensor, labels: Tensor,
                        temperature: float) -> Tensor:
    """Supervised InfoNCE of ``cavp.md`` §5 item 5.

    Every row is an anchor and part of the contrast set. For anchor i,
    ``s_ij = z_i·z_j/τ − max_j z_i·z_j/τ``; positives: same label, j ≠ i;
    negatives: another label; ``log p_ij = s_ij − log(exp(s_ij) +
    Σ_neg exp(s_ik))``; ``ℓ_i = −Σ_pos log p_ij / (|pos| + 1e-12)``; the
    mean over all anchors (one without positives adds 0 and counts).

    Args:
        feats: ``(M, C)`` L2-normalised vectors.
        labels: ``(M,)`` their labels.
        temperature: τ.

    Returns:
        Scalar tensor.
    """
    logits = feats @ feats.T / temperature
    logits = logits - logits.max(dim=1, keepdim=True).values.detach()
    same = labels[:, None] == labels[None, :]
    eye = torch.eye(len(labels), dtype=torch.bool, device=labels.device)
    positive = (same & ~eye).to(logits.dtype)
    negative = (~same).to(logits.dtype)
    exp = logits.exp()
    neg_sum = (exp * negative).sum(dim=1, keepdim=True)
    log_prob = logits - torch.log(exp + neg_sum)
    per_anchor = -(log_prob * positive).sum(1) / (positive.sum(1) + 1e-12)
    return per_anchor.mean()


@MODELS.register_module()
class CAVPContrastiveLoss(nn.Module):
    """Pixel-level supervised InfoNCE over mined samples of a matched and a
    shuffled-audio pass (CAVP, ``cavp.md`` §5–6).

    An auxiliary loss of :class:`AVSSegmentor` that asks for a shuffled
    pass (``needs_shuffled_audio``)::

        segmentor.loss
          plan = loss.shuffle_audio(audio, layout, data_samples)
                 clips permuted within clips of equal T (T = 1: images);
                 match = image-level label vectors equal (background bit
                 included, 255 excluded); from ow_start_epoch on, a random
                 ow_rate share of the mismatched single-source frames get a
                 sound-bank clip of their class (match = True); then every
                 single-source frame pushes its own audio into the bank
          backbone.audio_features(plan.audio) → neck fusion on the cached
          visual maps → decode_head.aux_maps → extras['shuffled_maps'],
          extras['shuffle'] = plan
          loss(logits, aux_maps, extras, layout, data_samples)

    Mining at the embedding's resolution over the annotated frames
    (``embed_level`` of the maps, labels nearest-resized, vectors
    L2-normalised, pixels labelled ``ignore_index`` skipped):

    - for each class c > 0 with at least ``num_samples`` pixels,
      ``num_samples`` random matched-pass pixels of c (no class qualifies:
      the loss is 0);
    - ``n = min(num_samples, #background pixels, #foreground pixels)``
      random matched-pass background pixels (label 0) and n random
      shuffled-pass pixels at foreground positions, labelled with the
      true class where the audio matches and background where it does not
      ("a visible object whose sound is absent").

    The loss is :func:`supervised_info_nce` over all of them, times
    ``loss_weight``. Works at batch size 1 (the permutation is then the
    identity and every pair matches).

    Args:
        num_classes: K, including background.
        temperature: τ (0.1).
        num_samples: Per-class anchors and the cap of n (512).
        embed_level: Which of the maps is the embedding (CAVP: its one
            fused map, 0; TPAVI: 0 is the stride-4 level).
        loss_weight: w (1.0, ``cavp.md`` §5 [decision]).
        loss_name: Key in the loss dict.
        ignore_index: Label of pixels to skip (255).
        background_index: The background class (0).
        use_bank: Use the sound-bank overwrite.
        bank_size: Slots per class (the reference: its batch size, 16).
        ow_rate: Share of the mismatched pairs considered for overwrite.
        ow_start_epoch: First epoch (0-based, from mmengine's
            ``MessageHub`` info ``'epoch'``; 0 when there is none) that
            overwrites.
    """

    needs_shuffled_audio = True

    def __init__(self,
                 num_classes: int,
                 temperature: float = 0.1,
                 num_samples: int = 512,
                 embed_level: int = 0,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_cavp',
                 ignore_index: int = 255,
                 background_index: int = 0,
                 use_bank: bool = True,
                 bank_size: int = 16,
                 ow_rate: float = 0.5,
                 ow_start_epoch: int = 1) -> None:
        super().__init__()
        if temperature <= 0:
            raise ValueError('temperature must be positive')
        if not 0 <= ow_rate <= 1:
            raise ValueError(f'ow_rate must be in [0, 1], got {ow_rate}')
        if num_samples < 1:
            raise ValueError('num_samples must be >= 1')
        self.num_classes = num_classes
        self.temperature = temperature
        self.num_samples = num_samples
        self.embed_level = embed_level
        self.loss_weight = loss_weight
        self._loss_name = loss_name
        self.ignore_index = ignore_index
        self.background_index = background_index
        self.use_bank = use_bank
        self.ow_rate = ow_rate
        self.ow_start_epoch = ow_start_epoch
        self.bank = SoundBank(num_classes, bank_size)

    @property
    def loss_name(self) -> str:
        return self._loss_name

    # ------------------------------------------------------------ labels
    def image_labels(self, data_samples: Optional[list],
                     layout: ClipLayout) -> Tuple[Tensor, Tensor]:
        """Image-level label vectors ``(N, K)`` bool from the masks
        (background bit included, ``ignore_index`` excluded) and which
        frames have one ``(N,)`` bool (annotated frames)."""
        num = len(layout)
        labels = torch.zeros(num, self.num_classes, dtype=torch.bool)
        known = layout.annotated.detach().cpu().clone()
        for i in known.nonzero()[:, 0].tolist():
            values = data_samples[i].gt_sem_seg.data.unique().cpu()
            values = values[(values != self.ignore_index)
                            & (values >= 0) & (values < self.num_classes)]
            labels[i, values.long()] = True
        return labels, known

    def _sources(self, layout: ClipLayout) -> List[int]:
        """Frame i's audio source: clips permuted at random among the clips
        of the same length, frame t of one clip to frame t of another."""
        offsets = layout.offsets.tolist()
        source = list(range(len(layout)))
        by_length: Dict[int, List[int]] = {}
        for clip, t in enumerate(layout.lengths):
            by_length.setdefault(t, []).append(clip)
        for t, clips in by_length.items():
            perm = torch.randperm(len(clips)).tolist()
            for clip, other in zip(clips, (clips[p] for p in perm)):
                for k in range(t):
                    source[offsets[clip] + k] = offsets[other] + k
        return source

    @staticmethod
    def current_epoch() -> int:
        """The training epoch (0-based) mmengine's ``RuntimeInfoHook``
        records in the ``MessageHub``; 0 outside a runner."""
        epoch = MessageHub.get_current_instance().get_info('epoch')
        return int(epoch) if epoch is not None else 0

    def shuffle_audio(self, audio: Tensor, layout: ClipLayout,
                      data_samples: Optional[list]) -> ShuffledAudio:
        """Plan the shuffled pass (and, in training, update the bank).

        Args:
            audio: ``(N, ...)`` raw per-frame audio as the backbone reads it.
            layout: The clip layout.
            data_samples: The N frame samples with ``gt_sem_seg``.
        """
        labels, known = self.image_labels(data_samples, layout)
        source = torch.tensor(self._sources(layout), dtype=torch.long)
        match = (labels == labels[source]).all(1) & known & known[source]
        pair_known = known & known[source]
        shuffled = audio[source.to(audio.device)]
        fg = labels.clone()
        fg[:, self.background_index] = False
        single = fg.sum(1) == 1
        if self.training and self.use_bank and \
                self.current_epoch() >= self.ow_start_epoch:
            mismatched = (pair_known & ~match).nonzero()[:, 0]
            take = int(math.floor(self.ow_rate * len(mismatched) + 0.5))
            chosen = mismatched[torch.randperm(len(mismatched))[:take]]
            overwrite = []
            for i in chosen.tolist():
                if not single[i]:
                    continue  # multi-source or background-only
                cls = int(fg[i].nonzero()[0, 0])
                if self.bank.filled(cls) == 0:
                    continue  # never a silent (zero) positive
                overwrite.append((i, self.bank.draw(cls)))
            if overwrite:
                shuffled = shuffled.clone()
                for i, clip in overwrite:
                    shuffled[i] = clip.to(shuffled.device, shuffled.dtype)
                    match[i] = True
                    source[i] = -1
        if self.training and self.use_bank:
            for i in (single & known).nonzero()[:, 0].tolist():
                self.bank.push(int(fg[i].nonzero()[0, 0]), audio[i])
        device = audio.device
        return ShuffledAudio(shuffled, source.to(device), match.to(device),
                             pair_known.to(device))

    # ------------------------------------------------------------- loss
    def forward(self, seg_logits: Tensor, maps: List[Tensor], extras: Dict,
                layout: Optional[ClipLayout] = None,
                data_samples: Optional[list] = None) -> Tensor:
        """The loss (the auxiliary-loss interface of :class:`AVSSegmentor`,
        ``docs/en/architecture.md``).

        Args:
            seg_logits: Logits of the true-audio pass (only for a zero that
                keeps the graph when nothing is mined).
            maps: The fused maps as the head leaves them (true audio).
            extras: The neck's extras plus ``shuffle`` (a
                :class:`ShuffledAudio`) and ``shuffled_maps`` (the maps of
                the shuffled pass), which the segmentor adds.
            layout: The clip layout (its ``annotated`` frames are mined).
            data_samples: The N frame samples with ``gt_sem_seg``.
        """
        if 'shuffled_maps' not in extras or 'shuffle' not in extras:
            raise ValueError(
                'CAVPContrastiveLoss needs the shuffled-audio pass: run it '
                'as an auxiliary loss of AVSSegmentor, which adds '
                "extras['shuffle'] and extras['shuffled_maps']")
        plan: ShuffledAudio = extras['shuffle']
        emb = maps[self.embed_level]
        emb_shuf = extras['shuffled_maps'][self.embed_level]
        zero = emb.sum() * 0 + emb_shuf.sum() * 0
        if layout is None:
            layout = ClipLayout.from_data_samples(data_samples,
                                                  device=emb.device)
        keep = layout.annotated.nonzero()[:, 0].to(emb.device)
        if len(keep) == 0:
            return zero
        size = emb.shape[-2:]
        gt = torch.stack([
            data_samples[i].gt_sem_seg.data for i in keep.tolist()
        ]).to(emb.device)  # (N_a, 1, H, W)
        gt = F.interpolate(gt.float(), size=size,
                           mode='nearest').long()[:, 0]
        match = plan.match.to(emb.device)[keep]
        known = plan.known.to(emb.device)[keep]
        gt_shuf = torch.where(match[:, None, None], gt, torch.zeros_like(gt))
        z = F.normalize(emb[keep].float(), dim=1).permute(0, 2, 3, 1)
        z_shuf = F.normalize(emb_shuf[keep].float(), dim=1).permute(0, 2, 3, 1)
        feats, labels = self.mine(z.flatten(0, 2), z_shuf.flatten(0, 2),
                                  gt.flatten(), gt_shuf.flatten(),
                                  known[:, None, None].expand_as(gt).flatten())
        if feats is None:
            return zero
        loss = supervised_info_nce(feats, labels, self.temperature)
        return self.loss_weight * loss + zero

    def mine(self, z: Tensor, z_shuf: Tensor, label: Tensor,
             label_shuf: Tensor, shuf_ok: Tensor
             ) -> Tuple[Optional[Tensor], Optional[Tensor]]:
        """Mined vectors and labels (see the class docstring).

        Args:
            z: ``(P, C)`` matched-pass vectors of all mined pixels.
            z_shuf: ``(P, C)`` shuffled-pass vectors of the same pixels.
            label: ``(P,)`` true labels.
            label_shuf: ``(P,)`` shuffled-pass labels (true class where the
                audio matches, else background).
            shuf_ok: ``(P,)`` bool, the pixel's frame may be mined in the
                shuffled pass (its audio's frame has a mask).

        Returns:
            ``(M, C)`` and ``(M,)``, or ``(None, None)`` when no foreground
            class has ``num_samples`` pixels.
        """
        bg = self.background_index
        valid = label != self.ignore_index
        foreground = valid & (label != bg)
        feats, labels = [], []
        for cls in torch.unique(label[foreground]).tolist():
            index = (label == cls).nonzero()[:, 0]
            if len(index) < self.num_samples:
                continue
            pick = index[torch.randperm(len(index),
                                        device=index.device)
                         [:self.num_samples]]
            feats.append(z[pick])
            labels.append(label[pick])
        if not feats:
            return None, None
        background = (valid & (label == bg)).nonzero()[:, 0]
        num = min(self.num_samples, len(background),
                  int(foreground.sum()))
        pick = background[torch.randperm(len(background),
                                         device=background.device)[:num]]
        feats.append(z[pick])
        labels.append(label[pick])
        candidates = (foreground & shuf_ok).nonzero()[:, 0]
        pick = candidates[torch.randperm(len(candidates),
                                         device=candidates.device)[:num]]
        feats.append(z_shuf[pick])
        labels.append(label_shuf[pick])
        return torch.cat(feats), torch.cat(labels)
