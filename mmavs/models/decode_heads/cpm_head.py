"""AVSegFormer* (a Mask2Former-style AVS head) and CPM's class-conditional
prompting (``cpm.md``; decisions: ``docs/en/cpm.md``)."""
from functools import partial
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

import torch
from mmengine import dist
from mmseg.registry import MODELS
from torch import Tensor, nn
from torch.nn import functional as F

from mmavs.structures import ClipLayout

from ..losses.mask_set_loss import MaskSetLoss
from ..utils.audio_channel_mixer import AudioChannelMixer
from ..utils.audio_query_generator import AudioQueryGenerator
from ..utils.hungarian_matcher import HungarianMatcher, semantic_to_targets
from ..utils.masked_attention_decoder import MaskedAttentionDecoder
from ..utils.ms_deform_pixel_decoder import (MSDeformPixelDecoder,
                                             PixelDecoderOutput)
from ..utils.offscreen_noise import (NoiseList, mix_magnitudes,
                                     pick_offscreen_partners)
from .avs_decode_head import AVSDecodeHead

CLASSIFIERS = dict(linear='LinearQueryClassifier',
                   prototype='PrototypeClassifier', gmm='GMMClassifier')
INFERENCE_MODES = ('paper', 'semantic')
NOISE_SOURCES = ('dataset', 'list')


def gather_across_ranks(embeds: Tensor, labels: Tensor
                        ) -> Tuple[Tensor, Tensor]:
    """Every process's classifier training set, concatenated in rank order,
    so that all processes run the same EM update (DDP would otherwise
    overwrite the others' buffers with rank 0's). Unchanged when not
    distributed."""
    if dist.get_world_size() == 1:
        return embeds, labels
    parts = dist.all_gather_object((embeds.cpu(), labels.cpu()))
    return (torch.cat([e for e, _ in parts]).to(embeds.device),
            torch.cat([lb for _, lb in parts]).to(labels.device))


class QueryMLP(nn.Module):
    """``num_layers`` linear layers of width ``dims`` with ReLU between."""

    def __init__(self, dims: int, num_layers: int = 3) -> None:
        super().__init__()
        self.layers = nn.ModuleList(
            nn.Linear(dims, dims) for _ in range(num_layers))

    def forward(self, x: Tensor) -> Tensor:
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = F.relu(x)
        return x


class Decoded(NamedTuple):
    """The class-agnostic path of a batch of frames.

    Attributes:
        embeds: Prediction sets' embeddings e, each ``(N, Q, E)``.
        masks: Their mask logits, each ``(N, Q, h, w)`` (stride 4).
        cls: Their class logits, each ``(N, Q, K + 1)`` (∅ = K).
        pixels: The pixel decoder's output.
        mask_feature: ũ_v after the audio channel mixer ``(N, E, h, w)``.
    """
    embeds: List[Tensor]
    masks: List[Tensor]
    cls: List[Tensor]
    pixels: PixelDecoderOutput
    mask_feature: Tensor


@MODELS.register_module()
class CPMHead(AVSDecodeHead):
    """AVSegFormer* with CPM's class-conditional prompting.

    The class-agnostic path (training and test; N frames, Q queries, E =
    ``embed_dims``, K = ``num_classes`` with background = 0, ∅ = K)::

        forward(inputs [C2..C5], audio_feat = magnitudes S (N, Ca, T, F))
          pixel_decoder(C2..C5)         → ũ_v (N, E, H/4, W/4), P5, P4, P3
          audio_encoder(log(S + 1e-5))  → tokens A (N, L, E) + pos, ũ_a
          channel_mixer(ũ_v, mean(A))   → mask feature
          TD-A: query_generator(A; learned queries + query_pos)  (N, Q, E)
          TD-V: decoder(P5, P4, P3 ×3, masked attention)  10 sets of
                e = LN(q̃) → classifier(e) (N, Q, K+1),
                            ⟨mask_embed(e), mask feature⟩ (N, Q, h, w)
          inference on the last set ('paper' | 'semantic') → logits

    Training (:meth:`loss_and_logits`, annotated frames): Hungarian matching
    and the class / focal / dice losses on each of the 10 sets; with the
    switches, on frames with a sounding foreground class, prompts z^k ~
    classifier.sample(k) run TD-A over the tokens of the audio mixed with an
    off-screen partner's (``use_acp``: audio masks vs the ratio target;
    ``use_pcl``: contrast of class-wise audio features with pixels;
    ``use_vcp``: the prompts continue through TD-V with a fixed assignment).
    The classifier's ``update`` is called once per iteration with the
    matched last-set embeddings (+ up to ``null_per_image`` ∅ ones per
    frame) and the VCP prompts' last-set embeddings.

    Outputs (:meth:`forward`): logits at 4× the mask feature's size; binary
    data (``out_channels=1``): ``log S_fg − log S_bg`` (its sigmoid is
    ``S_fg / (S_fg + S_bg)``, ``cpm.md`` §8); semantic data: log of the
    class probabilities (``S_c / Σ S``). S: the semantic sum Σ_q p_q(c)
    σ(m_q) (``'semantic'``) or, per class, the largest p_i(c_i) σ(m_i) of
    the queries predicting it (``'paper'``; argmax = the paper's rule,
    pixels without a non-∅ query are background).

    Args:
        in_channels: Channels of C2..C5.
        num_classes: K, background included (2 for AVSBench-object).
        embed_dims: E (256).
        num_queries: Q (100).
        num_heads: Heads of every attention (8).
        pixel_decoder: Extra arguments of :class:`MSDeformPixelDecoder`.
        audio_encoder: Config of the audio encoder in ``MODELS``
            (``CPMAudioEncoder``); its ``in_channels`` is set to
            ``audio_channels`` and its ``embed_dims`` to E.
        audio_channels: Ca, channels of the spectrogram (1 mono, 2 stereo).
        num_tda_layers, tda_ffn_dims: TD-A depth and FFN width (6, 1024).
        num_tdv_layers, tdv_ffn_dims: TD-V depth and FFN width (9, 2048).
        use_channel_mixer: AVSegFormer's audio channel mixer on ũ_v.
        classifier: ``'linear'`` (AVSegFormer*), ``'prototype'`` or
            ``'gmm'`` (CCDM), or a full config dict.
        num_components: M of the GMM classifier (3).
        classifier_cfg: Extra arguments of the classifier.
        matcher, set_loss: Arguments of :class:`HungarianMatcher` and
            :class:`MaskSetLoss` (``num_labels`` is set here).
        use_acp, use_vcp, use_pcl: CPM's three prompting tasks.
        cpm_weight: λ, the weight of ACP + VCP + PCL (1.0).
        acp_loss, pcl_loss: Configs of ``ACPLoss`` and ``PCLLoss``.
        noise_source: ``'dataset'`` (another frame of the batch whose
            classes are disjoint) or ``'list'`` (``noise_list``).
        noise_list: Arguments of :class:`NoiseList` (``noise_list``: WAV
            paths or a text file of them; ``channels`` defaults to
            ``audio_channels``; ``num_samples`` to 16,000).
        noise_frontend: Front end turning the list's waveforms into
            magnitudes (the backbone's: power 1, no log).
        null_per_image: ∅ embeddings per frame given to the classifier's
            update (4).
        inference: ``'paper'`` or ``'semantic'``.
        log_offset: ε of the network input log(S + ε) (1e-5).
        **kwargs: See :class:`AVSDecodeHead`.
    """

    def __init__(self,
                 in_channels: Sequence[int],
                 num_classes: int = 2,
                 embed_dims: int = 256,
                 num_queries: int = 100,
                 num_heads: int = 8,
                 pixel_decoder: Optional[dict] = None,
                 audio_encoder: dict = dict(type='CPMAudioEncoder'),
                 audio_channels: int = 1,
                 num_tda_layers: int = 6,
                 tda_ffn_dims: int = 1024,
                 num_tdv_layers: int = 9,
                 tdv_ffn_dims: int = 2048,
                 use_channel_mixer: bool = True,
                 classifier='linear',
                 num_components: int = 3,
                 classifier_cfg: Optional[dict] = None,
                 matcher: Optional[dict] = None,
                 set_loss: Optional[dict] = None,
                 use_acp: bool = False,
                 use_vcp: bool = False,
                 use_pcl: bool = False,
                 cpm_weight: float = 1.0,
                 acp_loss: dict = dict(type='ACPLoss', loss_weight=1.0),
                 pcl_loss: dict = dict(type='PCLLoss', loss_weight=1.0),
                 noise_source: str = 'dataset',
                 noise_list: Optional[dict] = None,
                 noise_frontend: dict = dict(type='SpectrogramFrontEnd',
                                             power=1.0, log=None, scale=1.0),
                 null_per_image: int = 4,
                 inference: str = 'semantic',
                 log_offset: float = 1e-5,
                 init_cfg=None,
                 **kwargs) -> None:
        if len(in_channels) != 4:
            raise ValueError(f'CPMHead takes C2..C5, got in_channels='
                             f'{list(in_channels)}')
        if inference not in INFERENCE_MODES:
            raise ValueError(f'inference must be one of {INFERENCE_MODES}, '
                             f'got {inference!r}')
        if noise_source not in NOISE_SOURCES:
            raise ValueError(f'noise_source must be one of {NOISE_SOURCES}, '
                             f'got {noise_source!r}')
        if noise_source == 'list' and noise_list is None:
            raise ValueError("noise_source='list' needs a noise_list config")
        kwargs.setdefault('out_channels', 1 if num_classes == 2
                          else num_classes)
        super().__init__(in_channels=list(in_channels), channels=embed_dims,
                         num_classes=num_classes,
                         input_transform='multiple_select',
                         in_index=list(range(4)), init_cfg=init_cfg,
                         **kwargs)
        # BaseDecodeHead's 1x1 classifier has no place in a query head.
        del self.conv_seg
        self.embed_dims = embed_dims
        self.num_queries = num_queries
        self.num_labels = num_classes + 1
        self.audio_channels = audio_channels
        self.inference = inference
        self.log_offset = log_offset
        self.null_per_image = null_per_image
        self.use_acp, self.use_vcp, self.use_pcl = use_acp, use_vcp, use_pcl
        self.cpm_weight = cpm_weight
        self.noise_source = noise_source

        self.pixel_decoder = MSDeformPixelDecoder(
            in_channels, embed_dims=embed_dims, num_heads=num_heads,
            **(pixel_decoder or {}))
        self.audio_encoder = MODELS.build(
            dict(audio_encoder, in_channels=audio_channels,
                 embed_dims=embed_dims))
        self.channel_mixer = AudioChannelMixer(embed_dims, num_heads) \
            if use_channel_mixer else None
        self.query_generator = AudioQueryGenerator(
            num_queries, num_tda_layers, embed_dims, num_heads=num_heads,
            ffn_dims=tda_ffn_dims)
        self.query_pos = nn.Embedding(num_queries, embed_dims)
        self.decoder = MaskedAttentionDecoder(
            num_tdv_layers, num_levels=3, embed_dims=embed_dims,
            num_heads=num_heads, ffn_dims=tdv_ffn_dims)
        self.mask_embed = QueryMLP(embed_dims, 3)
        if isinstance(classifier, str):
            if classifier not in CLASSIFIERS:
                raise ValueError(f'classifier must be one of '
                                 f'{list(CLASSIFIERS)} or a config, got '
                                 f'{classifier!r}')
            extra = dict(num_components=num_components) \
                if classifier == 'gmm' else {}
            classifier = dict(type=CLASSIFIERS[classifier], **extra)
        self.classifier = MODELS.build(
            dict(classifier, num_labels=self.num_labels,
                 embed_dims=embed_dims, **(classifier_cfg or {})))
        if self.uses_prompts and not getattr(self.classifier,
                                             'provides_prompts', False):
            raise ValueError(
                f'ACP / VCP / PCL sample class-conditional prompts: '
                f'{type(self.classifier).__name__} gives none (use '
                f"classifier='gmm' or 'prototype')")
        self.matcher = HungarianMatcher(**(matcher or {}))
        self.set_loss = MaskSetLoss(num_labels=self.num_labels,
                                    **(set_loss or {}))
        self.audio_mask_embed = QueryMLP(embed_dims, 3) \
            if use_acp or use_pcl else None
        # A config may give only some arguments (e.g. max_pixels).
        self.acp_loss = MODELS.build(dict(dict(type='ACPLoss'), **acp_loss)) \
            if use_acp else None
        self.pcl_loss = MODELS.build(dict(dict(type='PCLLoss'), **pcl_loss)) \
            if use_pcl else None
        # Off-screen noise from files: NoiseList gives waveforms, turned
        # into magnitudes by the backbone's kind of front end.
        self.noise_list = NoiseList(**dict(
            dict(channels=audio_channels), **noise_list)) \
            if noise_source == 'list' else None
        self.noise_frontend = MODELS.build(noise_frontend) \
            if noise_source == 'list' else None
        self._frame_fields: Dict[str, list] = {}

    @property
    def uses_prompts(self) -> bool:
        return self.use_acp or self.use_vcp or self.use_pcl

    # ------------------------------------------------------------------
    # The class-agnostic path
    # ------------------------------------------------------------------
    def encode_audio(self, magnitudes: Tensor):
        """Magnitude spectrograms ``(N, Ca, T, F)`` → ``CPMAudioFeatures``
        (tokens, token_pos, dense) of ``log(S + ε)``."""
        if magnitudes.dim() != 4 or magnitudes.shape[1] != \
                self.audio_channels:
            raise ValueError(
                f'CPMHead expects magnitude spectrograms (N, '
                f'{self.audio_channels}, T, F) as audio features (backbone '
                f'audio=None with a SpectrogramFrontEnd(power=1, log=None)), '
                f'got {tuple(magnitudes.shape)}')
        return self.audio_encoder(
            torch.log(magnitudes.float().clamp_min(0) + self.log_offset).to(
                magnitudes.dtype))

    def mix_feature(self, mask_feature: Tensor, tokens: Tensor) -> Tensor:
        """The audio channel mixer with the pooled audio token."""
        if self.channel_mixer is None:
            return mask_feature
        return self.channel_mixer(mask_feature, tokens.mean(1, keepdim=True))

    def mask_head(self, embeds: Tensor, mask_feature: Tensor) -> Tensor:
        """``(N, Q, E)`` embeddings → mask logits ``(N, Q, h, w)``."""
        return torch.einsum('nqc,nchw->nqhw', self.mask_embed(embeds),
                            mask_feature)

    def decode(self, inputs: List[Tensor], magnitudes: Tensor) -> tuple:
        """The class-agnostic path on every frame: ``Decoded`` and the
        audio encoder's output (``CPMAudioFeatures``, for the prompts)."""
        feats = self._transform_inputs(inputs)
        pixels = self.pixel_decoder(feats)
        audio = self.encode_audio(magnitudes)
        mask_feature = self.mix_feature(pixels.mask_feature, audio.tokens)
        num = mask_feature.shape[0]
        query_pos = self.query_pos.weight[None].expand(num, -1, -1)
        queries = self.query_generator(audio.tokens, query_pos=query_pos,
                                       audio_pos=audio.token_pos)
        sets = self.decoder(queries, pixels.levels, pixels.level_pos,
                            partial(self.mask_head,
                                    mask_feature=mask_feature),
                            query_pos=query_pos)
        embeds = [e for e, _ in sets]
        return Decoded(embeds, [m for _, m in sets],
                       [self.classifier(e) for e in embeds], pixels,
                       mask_feature), audio

    def scores(self, cls_logits: Tensor, mask_logits: Tensor) -> Tensor:
        """Per-class scores S ``(N, K, h, w)`` of one prediction set
        (``inference``; background gets a tiny floor so that pixels no
        query covers are background)."""
        probs = cls_logits.float().softmax(-1)
        masks = mask_logits.float().sigmoid()
        num_classes = self.num_classes
        if self.inference == 'semantic':
            scores = torch.einsum('nqk,nqhw->nkhw', probs[..., :num_classes],
                                  masks)
        else:
            best, label = probs.max(-1)  # (N, Q)
            real = label != num_classes
            per_query = masks * (best * real)[..., None, None]
            index = label.clamp(max=num_classes - 1)[..., None, None].expand(
                -1, -1, *masks.shape[-2:])
            scores = masks.new_zeros(masks.shape[0], num_classes,
                                     *masks.shape[-2:]).scatter_reduce(
                                         1, index, per_query, 'amax')
        floor = torch.zeros_like(scores[:1, :, :1, :1])
        floor[:, 0] = 1e-12
        return scores + floor

    def scores_to_logits(self, scores: Tensor) -> Tensor:
        """S ``(N, K, h, w)`` → binary logits ``(N, 1, h, w)`` or class
        log-probabilities ``(N, K, h, w)``."""
        probs = scores / scores.sum(1, keepdim=True)
        if self.out_channels == 1:
            if self.num_classes != 2:
                raise ValueError('out_channels=1 needs num_classes=2')
            return (probs[:, 1:].clamp_min(1e-12).log() -
                    probs[:, :1].clamp_min(1e-12).log())
        return probs.clamp_min(1e-12).log()

    def forward(self, inputs: List[Tensor],
                audio_feat: Optional[Tensor] = None,
                layout: Optional[ClipLayout] = None) -> Tensor:
        """Logits at 4× the mask feature's size (the input size for inputs
        divisible by 32): the last set's mask logits are upsampled
        bilinearly before the inference rule (``cpm.md`` §8). In eval mode
        also records each frame's ``tda_classes`` (the non-∅ argmax classes
        of the TD-A outputs, set 0), which the segmentor stores in the
        predictions (:meth:`pop_frame_fields`)."""
        if audio_feat is None:
            raise ValueError('CPMHead needs the audio (magnitude '
                             'spectrograms)')
        decoded, _ = self.decode(inputs, audio_feat)
        if not self.training:
            self._frame_fields = dict(
                tda_classes=self.tda_classes(decoded.cls[0]))
        # Frame by frame: Q full-resolution masks of a 10-frame AVSS clip
        # at 720p would take ~4 GB at once.
        return torch.cat([
            self.scores_to_logits(
                self.scores(cls[None],
                            F.interpolate(masks[None].float(), scale_factor=4,
                                          mode='bilinear',
                                          align_corners=False)))
            for cls, masks in zip(decoded.cls[-1], decoded.masks[-1])
        ])

    def tda_classes(self, cls_logits: Tensor) -> List[Tensor]:
        """Per frame, the sorted classes ≠ ∅ that the TD-A outputs
        ``(N, Q, K + 1)`` predict (argmax)."""
        labels = cls_logits.argmax(-1)
        return [torch.unique(row[row != self.num_classes]).cpu()
                for row in labels]

    def pop_frame_fields(self) -> Dict[str, list]:
        """Per-frame prediction fields of the last eval forward (cleared)."""
        fields, self._frame_fields = self._frame_fields, {}
        return fields

    # ------------------------------------------------------------------
    # Targets and matching
    # ------------------------------------------------------------------
    def frame_targets(self, data_samples: list, keep: List[int]
                      ) -> Tuple[Tensor, List[Tuple[Tensor, Tensor, Tensor]]]:
        """Semantic maps ``(B, H, W)`` of the kept frames and their GT sets
        ``(labels (G,), masks (G, H, W) bool, valid (H, W) bool)``: pixels
        at ``ignore_index`` (crop padding, unlabelled) count in no mask cost
        or loss."""
        gts = torch.stack([
            data_samples[i].gt_sem_seg.data.squeeze(0).long() for i in keep
        ])
        targets = [
            semantic_to_targets(gt, self.num_classes, self.ignore_index) +
            (gt != self.ignore_index, ) for gt in gts
        ]
        return gts, targets

    def match(self, cls_logits: Tensor, mask_logits: Tensor,
              targets: List[Tuple[Tensor, Tensor]]
              ) -> List[Tuple[Tensor, Tensor]]:
        """Hungarian matching of one prediction set, frame by frame."""
        with torch.no_grad():
            return [
                self.matcher(c.detach().float(), m.detach().float(),
                             labels, masks, gt_valid=valid)
                for c, m, (labels, masks, valid) in zip(
                    cls_logits, mask_logits, targets)
            ]

    def query_assignments(self, inputs: List[Tensor], audio_feat: Tensor,
                          layout: ClipLayout, data_samples: list) -> Tensor:
        """The matched class of each query in the last prediction set,
        ``(N, Q)`` long, K (∅) where unmatched or the frame has no mask
        (``MatchingStabilityHook``)."""
        with torch.no_grad():
            decoded, _ = self.decode(inputs, audio_feat)
            out = torch.full(decoded.cls[-1].shape[:2], self.num_classes,
                             dtype=torch.long,
                             device=decoded.cls[-1].device)
            keep = layout.annotated.nonzero()[:, 0].tolist()
            if not keep:
                return out
            _, targets = self.frame_targets(data_samples, keep)
            indices = self.match(decoded.cls[-1][keep],
                                 decoded.masks[-1][keep], targets)
            for frame, (labels, *_), (pred, gt) in zip(keep, targets,
                                                       indices):
                out[frame, pred.to(out.device)] = labels.to(out.device)[
                    gt.to(out.device)]
            return out

    # ------------------------------------------------------------------
    # Training
    # ------------------------------------------------------------------
    def loss_and_logits(self, inputs: List[Tensor],
                        audio_feat: Optional[Tensor], layout: ClipLayout,
                        batch_data_samples: list
                        ) -> Tuple[Dict[str, Tensor], Tensor]:
        """Losses of the annotated frames and the (detached) stride-4
        logits of every frame."""
        if audio_feat is None:
            raise ValueError('CPMHead needs the audio (magnitude '
                             'spectrograms)')
        decoded, audio = self.decode(inputs, audio_feat)
        with torch.no_grad():
            logits = self.scores_to_logits(
                self.scores(decoded.cls[-1], decoded.masks[-1]))
        keep = layout.annotated.nonzero()[:, 0].tolist()
        if not keep:
            zero = self._zero()
            return dict(loss_cls=zero, loss_focal=zero.clone(),
                        loss_dice=zero.clone()), logits
        gts, targets = self.frame_targets(batch_data_samples, keep)
        losses: Dict[str, Tensor] = {}
        last_indices = None
        for cls, masks in zip(decoded.cls, decoded.masks):
            cls, masks = cls[keep], masks[keep]
            last_indices = self.match(cls, masks, targets)
            self._add(losses, self.set_loss(cls, masks, targets,
                                            last_indices))
        if not (self.use_acp or self.use_pcl):
            # The dense audio map serves ACP / PCL only; keep the layers
            # that make it in the graph (DDP) at no cost.
            losses['loss_cls'] = losses['loss_cls'] + audio.dense.sum() * 0
        update_embeds, update_labels = self.matched_embeddings(
            decoded.embeds[-1][keep], targets, last_indices)
        if self.uses_prompts:
            prompt_losses, extra = self.prompt_losses(
                decoded, audio, audio_feat, keep, gts, targets)
            for name, value in prompt_losses.items():
                losses[name] = value * self.cpm_weight
            if extra is not None:
                update_embeds = torch.cat([update_embeds, extra[0]])
                update_labels = torch.cat([update_labels, extra[1]])
        # After every loss term: the classifier's buffers may change here.
        self.classifier.update(*gather_across_ranks(update_embeds.detach(),
                                                    update_labels))
        return losses, logits

    @staticmethod
    def _add(total: Dict[str, Tensor], terms: Dict[str, Tensor],
             prefix: str = '') -> None:
        for name, value in terms.items():
            key = name.replace('loss_', 'loss_' + prefix, 1)
            total[key] = total[key] + value if key in total else value

    def _zero(self) -> Tensor:
        """A zero that keeps every parameter in the graph (DDP)."""
        return sum(p.sum() for p in self.parameters()
                   if p.requires_grad) * 0.0

    def matched_embeddings(self, embeds: Tensor,
                           targets: List[Tuple[Tensor, Tensor]],
                           indices: List[Tuple[Tensor, Tensor]]
                           ) -> Tuple[Tensor, Tensor]:
        """The classifier's training set from the last set: matched
        embeddings with their class, plus up to ``null_per_image`` random
        unmatched ones per frame labelled ∅ (``cpm.md`` §3)."""
        out_embeds, out_labels = [], []
        for e, (labels, *_), (pred, gt) in zip(embeds, targets, indices):
            pred, gt = pred.to(e.device), gt.to(e.device)
            out_embeds.append(e[pred])
            out_labels.append(labels.to(e.device)[gt])
            free = torch.ones(e.shape[0], dtype=torch.bool, device=e.device)
            free[pred] = False
            free = free.nonzero()[:, 0]
            pick = free[torch.randperm(len(free), device=e.device)
                        [:self.null_per_image]]
            out_embeds.append(e[pick])
            out_labels.append(torch.full((len(pick), ), self.num_classes,
                                         dtype=torch.long, device=e.device))
        return torch.cat(out_embeds).detach(), torch.cat(out_labels).long()

    # ------------------------------------------------------------------
    # CPM: class-conditional prompts (ACP, VCP, PCL)
    # ------------------------------------------------------------------
    def sounding_classes(self, gts: Tensor) -> List[Tensor]:
        """Per frame, the foreground classes in its mask (background 0 and
        the ignore index excluded): AVS masks label sounding objects only."""
        out = []
        for gt in gts:
            classes = torch.unique(gt)
            out.append(classes[(classes != 0) & (classes != self.ignore_index)
                               & (classes < self.num_classes)])
        return out

    def off_screen_noise(self, magnitudes: Tensor, classes: List[Tensor]
                         ) -> Tensor:
        """Noise magnitudes ``(B, Ca, T, F)`` for the kept frames: another
        frame's audio whose classes are disjoint (``'dataset'``), or the
        noise list's; zero where there is no partner."""
        if self.noise_list is not None:
            return self.list_noise(magnitudes)
        partners = pick_offscreen_partners(
            [set(c.tolist()) for c in classes])
        partners = torch.as_tensor(partners, device=magnitudes.device).long()
        noise = magnitudes[partners.clamp_min(0)]
        return noise * (partners >= 0).to(noise.dtype)[:, None, None, None]

    def list_noise(self, magnitudes: Tensor) -> Tensor:
        """One random window of the noise list per frame, as magnitudes of
        the frames' ``(T, F)`` (cut, or zero-padded when shorter)."""
        waves = torch.stack([
            self.noise_list.draw() for _ in range(magnitudes.shape[0])
        ]).to(magnitudes.device)
        spec = self.noise_frontend(waves)[:, :, :magnitudes.shape[2]]
        missing = magnitudes.shape[2] - spec.shape[2]
        if missing > 0:
            spec = F.pad(spec, (0, 0, 0, missing))
        return spec.to(magnitudes.dtype)

    def prompt_losses(self, decoded: Decoded, audio, magnitudes: Tensor,
                      keep: List[int], gts: Tensor,
                      targets: List[Tuple[Tensor, Tensor]]
                      ) -> Tuple[Dict[str, Tensor], Optional[tuple]]:
        """ACP, VCP and PCL on the kept frames with a sounding class.

        Returns:
            The (unweighted by λ) losses, and the VCP prompts' last-set
            embeddings with their classes for the classifier's update (or
            None).
        """
        classes = self.sounding_classes(gts)
        sounding = [i for i, c in enumerate(classes) if len(c)]
        names = (['loss_acp'] if self.use_acp else []) + \
            (['loss_vcp_cls', 'loss_vcp_focal', 'loss_vcp_dice']
             if self.use_vcp else []) + (['loss_pcl'] if self.use_pcl else [])
        if not sounding:
            zero = self._zero()
            return {name: zero.clone() for name in names}, None
        device = gts.device
        frames = torch.as_tensor([keep[i] for i in sounding], device=device)
        clean = magnitudes[keep]
        noise = self.off_screen_noise(clean, classes)
        mixed, ratio = mix_magnitudes(clean[sounding], noise[sounding])
        mixed_audio = self.encode_audio(mixed)

        # One prompt per sounding class, grouped by frame and padded.
        labels = torch.cat([classes[i] for i in sounding]).to(device).long()
        owner = torch.cat([
            torch.full((len(classes[i]), ), j, dtype=torch.long)
            for j, i in enumerate(sounding)
        ]).to(device)
        slot = torch.cat([torch.arange(len(classes[i])) for i in sounding
                          ]).to(device)
        prompts = self.classifier.sample(labels)
        padded = prompts.new_zeros(len(sounding), int(slot.max()) + 1,
                                   prompts.shape[-1])
        padded[owner, slot] = prompts
        padding = torch.ones(padded.shape[:2], dtype=torch.bool,
                             device=device)
        padding[owner, slot] = False
        # Prompts carry no positional embedding (cpm.md §2).
        queries = self.query_generator(
            mixed_audio.tokens, query=padded, audio_pos=mixed_audio.token_pos,
            query_padding_mask=padding)

        losses: Dict[str, Tensor] = {}
        if self.use_acp or self.use_pcl:
            audio_masks = torch.einsum(
                'pc,pctf->ptf',
                self.audio_mask_embed(queries[owner, slot]),
                mixed_audio.dense[owner])
            if self.use_acp:
                summed = audio_masks.new_zeros(
                    len(sounding), *audio_masks.shape[1:]).index_add(
                        0, owner, audio_masks)
                losses['loss_acp'] = self.acp_loss(summed[:, None], ratio)
            if self.use_pcl:
                losses['loss_pcl'] = self.pcl_loss(
                    audio_masks, mixed_audio.dense[owner], labels,
                    decoded.pixels.mask_feature[keep], gts)
        extra = None
        if self.use_vcp:
            levels = [x[frames] for x in decoded.pixels.levels]
            level_pos = [p[frames] for p in decoded.pixels.level_pos]
            # VCP runs on the mixed audio (cpm.md §6): the mask feature is
            # gated by the mixture's pooled token.
            feature = self.mix_feature(decoded.pixels.mask_feature[frames],
                                       mixed_audio.tokens)
            sets = self.decoder(queries, levels, level_pos,
                                partial(self.mask_head,
                                        mask_feature=feature),
                                query_padding_mask=padding)
            # Fixed assignment: each prompt is its own one-query "image"
            # matched to the mask of its class.
            prompt_targets = []
            for j, label in zip(owner.tolist(), labels.tolist()):
                gt_labels, gt_masks, valid = targets[sounding[j]]
                index = (gt_labels == label).nonzero()[:, 0]
                prompt_targets.append(
                    (gt_labels[index], gt_masks[index], valid))
            first = torch.zeros(1, dtype=torch.long, device=device)
            fixed = [(first, first)] * len(labels)
            vcp: Dict[str, Tensor] = {}
            for embeds, masks in sets:
                cls = self.classifier(embeds[owner, slot])
                self._add(vcp, self.set_loss(cls[:, None],
                                             masks[owner, slot][:, None],
                                             prompt_targets, fixed),
                          prefix='vcp_')
            losses.update(vcp)
            extra = (sets[-1][0][owner, slot].detach(), labels)
        return losses, extra
