"""The audio-visual segmentor: backbone, fusion neck, decode head."""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
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
                   + auxiliary losses(logits, fused, extras, layout,
                                      data_samples)
        predict(): decode_head(fused, audio_feat, layout) → predict_by_feat
                   (S > 1: once per sample's N maps; the backbone and the
                    fusion ran once)
                   → S > 1: probabilities averaged, spread → uncertainty
                   → postprocess_result

    Args:
        backbone: Config of an :class:`AudioVisualBackbone`.
        decode_head: Config of an ``AVSDecodeHead`` subclass.
        neck: Config of the neck (e.g. ``TPAVINeck``, ``LatentNeck``);
            ``None`` builds an :class:`IdentityNeck` (AVSegFormer, whose
            head does the fusion).
        auxiliary_loss: Configs of extra losses called with (logits, fused
            maps, neck extras, layout, data samples), e.g.
            ``AVMatchingLoss`` for MS3.
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
        out, audio_feat = self.extract_feat(inputs, audio, layout,
                                            data_samples)
        losses = dict(out.losses)
        head_losses, logits = self.decode_head.loss_and_logits(
            out.fused, audio_feat, layout, data_samples)
        losses.update(head_losses)
        # The maps as the head leaves them (ReLU'd by the reference TPAVI
        # decoder), so the matching loss sees what the reference's sees.
        aux_maps = self.decode_head.aux_maps(out.fused)
        for aux in self.auxiliary_loss:
            losses[aux.loss_name] = aux(logits, aux_maps, out.extras, layout,
                                        data_samples)
        return losses

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
        if samples == 1:
            return self.postprocess_result(logits, data_samples)
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
