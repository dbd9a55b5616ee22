"""The audio-visual segmentor: backbone, fusion neck, decode head."""
from contextlib import ExitStack
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmengine.optim import AmpOptimWrapper, OptimWrapperDict
from mmengine.structures import PixelData
from mmseg.models.segmentors.base import BaseSegmentor
from mmseg.registry import MODELS
from mmseg.utils import OptSampleList, SampleList
from torch import Tensor, nn
from torch.nn import functional as F

from mmavs.structures import ClipLayout

from ..necks.neck_output import NeckOutput


@MODELS.register_module()
class AVSSegmentor(BaseSegmentor):
    """Segment the sounding objects of clips, frame by frame.

    Follows mmseg's ``loss / predict / _forward`` contract, with the audio
    and the clip layout as extra inputs, so mmengine's loops, hooks,
    evaluators and mmseg's visualiser work unchanged on the N frame samples.
    One path for every model; shapes and the clip layout are in
    ``docs/en/architecture.md``::

        forward(inputs (N,3,H,W), audio (N,...), data_samples, mode, layout)
          ├─ 'loss'    → loss()
          ├─ 'predict' → predict()
          └─ 'tensor'  → _forward()
        extract_feat(inputs, audio, layout, data_samples)
          ├─ backbone(inputs, audio, layout)  → visual L×(N,C_l,H_l,W_l),
          │                                     audio_feat (N, D_a)
          └─ neck(visual, audio_feat, layout, inputs, data_samples)
               → NeckOutput(fused, extras, losses)
                 (data_samples only in the loss path; a latent neck then
                  returns its losses, at test time S·N maps for S samples)
        loss():    neck losses
                   + decode_head.loss_and_logits(fused, audio_feat, layout,
                                                 data_samples)
                   + auxiliary losses(logits, aux_maps(fused), extras,
                                      layout, data_samples)
                     a loss with ``needs_shuffled_audio`` (CAVP) first gets
                     a shuffled-audio pass: plan = loss.shuffle_audio(...),
                     backbone.audio_features(plan.audio) → neck.fuse on
                     the cached visual maps (or the whole neck) →
                     extras + {shuffle, shuffled_maps}
        train_step(): mmengine's, or with several optimisers
                   (OptimWrapperDict) one backward and a step of each
        predict(): decode_head(fused, audio_feat, layout) → predict_by_feat
                   (S > 1: once per sample's N maps; the backbone and the
                    fusion ran once)
                   → S > 1: probabilities averaged, spread → uncertainty
                   → postprocess_result
                   + decode_head.pop_frame_fields() (S = 1; e.g. CPM's
                     tda_classes) set on each frame's prediction

    Args:
        backbone: Config of an :class:`AudioVisualBackbone`.
        decode_head: Config of an ``AVSDecodeHead`` subclass.
        neck: Config of the neck (e.g. ``TPAVINeck``, ``LatentNeck``);
            ``None`` builds an :class:`IdentityNeck` (AVSegFormer, whose
            head does the fusion).
        auxiliary_loss: Configs of extra losses called with (logits, fused
            maps, neck extras, layout, data samples), e.g.
            ``AVMatchingLoss`` for MS3; one that declares
            ``needs_shuffled_audio`` (``CAVPContrastiveLoss``) also gets a
            shuffled-audio pass in its extras.
        data_preprocessor: Config of the :class:`AVSDataPreprocessor`.
        train_cfg, test_cfg: Kept for mmseg compatibility.
        init_cfg: Initialisation config.
    """

    def __init__(self,
                 backbone: dict,
                 decode_head: dict,
                 neck: Optional[dict] = None,
                 auxiliary_loss: Optional[Union[dict, Sequence[dict]]] = None,
                 data_preprocessor: Optional[dict] = None,
                 train_cfg: Optional[dict] = None,
                 test_cfg: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.neck = MODELS.build(neck or dict(type='IdentityNeck'))
        self.decode_head = MODELS.build(decode_head)
        self.align_corners = self.decode_head.align_corners
        self.num_classes = self.decode_head.num_classes
        self.out_channels = self.decode_head.out_channels
        if isinstance(auxiliary_loss, dict):
            auxiliary_loss = [auxiliary_loss]
        self.auxiliary_loss = nn.ModuleList(
            [MODELS.build(cfg) for cfg in auxiliary_loss or []])
        self.train_cfg = train_cfg
        self.test_cfg = test_cfg

    def forward(self,
                inputs: Tensor,
                audio: Optional[Tensor] = None,
                data_samples: OptSampleList = None,
                mode: str = 'tensor',
                layout: Optional[ClipLayout] = None):
        """Run the model; ``layout`` defaults to the one the data samples
        describe (the data preprocessor always passes it)."""
        if audio is None:
            raise ValueError('AVSSegmentor needs the audio of the frames')
        if layout is None:
            if not data_samples:
                raise ValueError(
                    'AVSSegmentor needs the clip layout (a ClipLayout, see '
                    'docs/en/architecture.md) or the frames\' data samples')
            layout = ClipLayout.from_data_samples(data_samples,
                                                  device=inputs.device)
        if len(layout) != inputs.shape[0]:
            raise ValueError(f'{inputs.shape[0]} frames but the clip layout '
                             f'has {len(layout)}')
        if mode == 'loss':
            return self.loss(inputs, data_samples, audio, layout)
        if mode == 'predict':
            return self.predict(inputs, data_samples, audio, layout)
        if mode == 'tensor':
            return self._forward(inputs, data_samples, audio, layout)
        raise RuntimeError(f'Invalid mode "{mode}"')

    def extract_feat(self, inputs: Tensor, audio: Tensor, layout: ClipLayout,
                     data_samples: OptSampleList = None
                     ) -> Tuple[NeckOutput, Tensor]:
        """The neck's output and the audio features ``(N, D_a)``.

        ``data_samples`` (with masks) selects a latent neck's training path;
        without them it samples its latents.
        """
        visual, audio_feat = self.backbone(inputs, audio, layout)
        out = self.neck(visual, audio_feat, layout, inputs, data_samples)
        return out, audio_feat

    def _decode(self, out: NeckOutput, audio_feat: Tensor,
                layout: ClipLayout) -> Tensor:
        """Head logits for the neck's maps: ``(S·N, K, h, w)``, the S
        latent samples stacked copy-major (the head shares what the samples
        share: :meth:`AVSDecodeHead.forward_samples`)."""
        return self.decode_head.forward_samples(
            out.fused, audio_feat, layout, out.extras.get('num_samples', 1))

    def encode_decode(self, inputs: Tensor, batch_img_metas: List[dict],
                      audio: Tensor, layout: ClipLayout) -> Tensor:
        """Logits resized to the input size, ``(S·N, K, H, W)``."""
        out, audio_feat = self.extract_feat(inputs, audio, layout)
        logits = self._decode(out, audio_feat, layout)
        return self.decode_head.predict_by_feat(logits, batch_img_metas)

    def loss(self, inputs: Tensor, data_samples: SampleList, audio: Tensor,
             layout: ClipLayout) -> Dict[str, Tensor]:
        visual, audio_feat = self.backbone(inputs, audio, layout)
        out = self.neck(visual, audio_feat, layout, inputs, data_samples)
        losses = dict(out.losses)
        head_losses, logits = self.decode_head.loss_and_logits(
            out.fused, audio_feat, layout, data_samples)
        losses.update(head_losses)
        # The maps as the head leaves them (ReLU'd by the reference TPAVI
        # decoder), so the matching loss sees what the reference's sees.
        aux_maps = self.decode_head.aux_maps(out.fused)
        for aux in self.auxiliary_loss:
            extras = out.extras
            if getattr(aux, 'needs_shuffled_audio', False):
                extras = self._shuffled_pass(aux, visual, audio, layout,
                                             inputs, data_samples, out)
            losses[aux.loss_name] = aux(logits, aux_maps, extras, layout,
                                        data_samples)
        return losses

    def _shuffled_pass(self, aux: nn.Module, visual: List[Tensor],
                       audio: Tensor, layout: ClipLayout, inputs: Tensor,
                       data_samples: SampleList, out: NeckOutput) -> dict:
        """Fuse the frames with other frames' audio, reusing the visual
        maps: the loss plans the audio (``aux.shuffle_audio``), the backbone
        encodes only that audio, the neck fuses it (only its fusion when it
        offers ``fuse`` and returned ``extras['visual_prepared']``, else the
        whole neck on the cached backbone maps). Returns the first pass's
        extras plus ``shuffle`` (the plan) and ``shuffled_maps``
        (``decode_head.aux_maps`` of the shuffled fusion)."""
        plan = aux.shuffle_audio(audio, layout, data_samples)
        audio_feat = self.backbone.audio_features(plan.audio, layout)
        prepared = out.extras.get('visual_prepared')
        if prepared is not None and hasattr(self.neck, 'fuse'):
            shuffled = self.neck.fuse(prepared, audio_feat, layout)
        else:
            shuffled = self.neck(visual, audio_feat, layout, inputs)
        if shuffled.extras.get('num_samples', 1) != 1:
            raise ValueError('the shuffled-audio pass needs a neck that '
                             'returns one map per frame')
        return dict(out.extras, shuffle=plan,
                    shuffled_maps=self.decode_head.aux_maps(shuffled.fused))

    def train_step(self, data: Union[dict, tuple, list],
                   optim_wrapper) -> Dict[str, Tensor]:
        """mmengine's train step; with an ``OptimWrapperDict`` (several
        optimisers, e.g. CAVP's SGD for the model and Adam for the audio
        encoder, built by ``AVSMultiOptimWrapperConstructor``) one forward
        and one backward, then each optimiser steps on its own parameters.

        mmengine 0.10.7's ``OptimWrapperDict`` deliberately raises on
        ``optim_context`` / ``update_params`` / ``backward`` / ``step``:
        the model must drive its wrappers. Their contexts (autocast,
        gradient accumulation) are all entered; the wrappers must agree on
        ``accumulative_counts``; float16 loss scaling (``AmpOptimWrapper``)
        is refused (its scaler belongs to one optimiser).
        """
        if not isinstance(optim_wrapper, OptimWrapperDict):
            return super().train_step(data, optim_wrapper)
        wrappers = list(optim_wrapper.values())
        if any(isinstance(w, AmpOptimWrapper) for w in wrappers):
            raise TypeError('several optimisers with AmpOptimWrapper (float16 '
                            'loss scaling) are not supported; use '
                            'BF16OptimWrapper or OptimWrapper')
        counts = {w._accumulative_counts for w in wrappers}
        if len(counts) > 1:
            raise ValueError(f'the optimisers accumulate gradients over '
                             f'different counts {sorted(counts)}')
        with ExitStack() as stack:
            for wrapper in wrappers:
                stack.enter_context(wrapper.optim_context(self))
            data = self.data_preprocessor(data, True)
            losses = self._run_forward(data, mode='loss')
        parsed, log_vars = self.parse_losses(losses)
        # One backward through the shared graph; every wrapper counts it.
        wrappers[0].backward(wrappers[0].scale_loss(parsed))
        for wrapper in wrappers[1:]:
            wrapper._inner_count += 1
        for wrapper in wrappers:
            if wrapper.should_update():
                wrapper.step()
                wrapper.zero_grad()
        return log_vars

    def predict(self, inputs: Tensor, data_samples: OptSampleList,
                audio: Tensor, layout: ClipLayout) -> SampleList:
        """Per-frame predictions; with a latent neck sampling S > 1
        latents, their probabilities are averaged and their standard
        deviation is stored as ``uncertainty`` in each data sample
        (binary models: of the foreground probability; multi-class: of the
        probability of the predicted class)."""
        num = inputs.shape[0]
        metas = [s.metainfo for s in data_samples] if data_samples else [
            dict(img_shape=inputs.shape[2:], ori_shape=inputs.shape[2:])
        ] * num
        # float32 for the post-processing and the metrics (autocast may
        # have produced bfloat16 / float16 logits).
        logits = self.encode_decode(inputs, metas, audio, layout).float()
        samples = logits.shape[0] // num
        # Per-frame outputs a head records besides the logits (CPM:
        # tda_classes); popped so that they never outlive this batch.
        fields = self.decode_head.pop_frame_fields()
        if samples == 1:
            results = self.postprocess_result(logits, data_samples)
            for name, values in fields.items():
                for result, value in zip(results, values):
                    setattr(result, name, value)
            return results
        logits = logits.unflatten(0, (samples, num))
        if self.out_channels == 1:
            probs = logits.sigmoid()
            mean = probs.mean(0)
            results = self.postprocess_result(
                torch.logit(mean, eps=1e-6), data_samples)
            spread = probs.std(0)
        else:
            probs = logits.softmax(2)
            mean = probs.mean(0)
            results = self.postprocess_result(mean.clamp_min(1e-12).log(),
                                              data_samples)
            winner = mean.argmax(1, keepdim=True)
            spread = probs.std(0).gather(1, winner)
        for result, meta, std in zip(results, metas, spread):
            std = F.interpolate(std[None].float(), size=meta['ori_shape'],
                                mode='bilinear', align_corners=False)
            result.set_data(dict(uncertainty=PixelData(data=std[0])))
        return results

    def _forward(self, inputs: Tensor, data_samples: OptSampleList,
                 audio: Tensor, layout: ClipLayout) -> Tensor:
        """Head logits ``(S·N, K, h, w)``."""
        out, audio_feat = self.extract_feat(inputs, audio, layout)
        return self._decode(out, audio_feat, layout)
