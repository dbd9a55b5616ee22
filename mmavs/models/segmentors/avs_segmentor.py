"""The audio-visual segmentor: backbone, fusion neck, decode head."""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmengine.structures import PixelData
from mmseg.models.segmentors.base import BaseSegmentor
from mmseg.registry import MODELS
from mmseg.utils import OptSampleList, SampleList
from torch import Tensor, nn
from torch.nn import functional as F


@MODELS.register_module()
class AVSSegmentor(BaseSegmentor):
    """Segment the sounding objects of clips, frame by frame.

    Follows mmseg's ``loss / predict / _forward`` contract, with the audio as
    an extra input, so mmengine's loops, hooks, evaluators and mmseg's
    visualiser work unchanged on the B*T frame samples.

    Call graph::

        forward(inputs (B*T,3,H,W), audio (B,T,1,96,64), data_samples, mode)
          ├─ 'loss'    → loss()
          ├─ 'predict' → predict()
          └─ 'tensor'  → _forward()
        extract_feat(inputs, audio)
          ├─ backbone(inputs, audio)        → visual [L×(B*T,C_l,H_l,W_l)],
          │                                   audio_feat (B*T, D_a)
          └─ neck(visual, audio_feat, T)    → fused [L×(B*T,C,H_l,W_l)],
                                              level_audio [L×(B*T,C) | None]
             (no neck: fused = visual, level_audio = None)
        loss():    decode_head.loss_and_logits(fused, audio_feat, samples)
                     → head losses (annotated frames only), logits
                   + auxiliary losses(logits, fused, level_audio)
        predict(): decode_head(...) → predict_by_feat → postprocess_result

    Args:
        backbone: Config of an :class:`AudioVisualBackbone`.
        decode_head: Config of an ``AVSDecodeHead`` subclass.
        neck: Config of the fusion neck (e.g. ``TPAVINeck``); ``None``
            feeds the backbone's maps to the head (AVSegFormer, whose head
            does the fusion).
        auxiliary_loss: Configs of extra losses on (logits, fused maps,
            level audio), e.g. ``AVMatchingLoss`` for MS3.
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
        self.neck = MODELS.build(neck) if neck is not None else None
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
                mode: str = 'tensor'):
        if audio is None:
            raise ValueError('AVSSegmentor needs the audio of the frames')
        if mode == 'loss':
            return self.loss(inputs, data_samples, audio)
        if mode == 'predict':
            return self.predict(inputs, data_samples, audio)
        if mode == 'tensor':
            return self._forward(inputs, data_samples, audio)
        raise RuntimeError(f'Invalid mode "{mode}"')

    def extract_feat(self, inputs: Tensor, audio: Tensor,
                     data_samples: OptSampleList = None,
                     sample_index: int = 0) -> Tuple[List[Tensor], list,
                                                     Tensor]:
        """Fused features, per-level aligned audio and audio features.

        A latent neck (one with a ``loss`` method, e.g.
        ``LatentDiffusionNeck``) also sees the frames and samples its latent
        with noise seeded by each frame's clip and frame index.
        """
        visual, audio_feat = self.backbone(inputs, audio)
        if not self.with_neck:
            return list(visual), None, audio_feat
        if not self.with_latent_neck:
            fused, level_audio = self.neck(visual, audio_feat, audio.shape[1])
            return fused, level_audio, audio_feat
        fused, level_audio = self.neck.predict(
            visual, audio_feat, audio.shape[1], inputs,
            self._noise_seeds(data_samples, inputs.shape[0]), sample_index)
        return fused, level_audio, audio_feat

    @property
    def with_latent_neck(self) -> bool:
        return self.with_neck and hasattr(self.neck, 'loss')

    @staticmethod
    def _noise_seeds(data_samples: OptSampleList, num: int) -> List[int]:
        """Per-frame seeds that do not depend on how frames are batched."""
        if not data_samples:
            return list(range(num))
        return [
            int(s.metainfo.get('clip_index', i)) * 1000 +
            int(s.metainfo.get('frame_index', 0))
            for i, s in enumerate(data_samples)
        ]

    def encode_decode(self, inputs: Tensor, batch_img_metas: List[dict],
                      audio: Tensor, data_samples: OptSampleList = None,
                      sample_index: int = 0) -> Tensor:
        """Logits resized to the input size, ``(B*T, 1, H, W)``."""
        fused, _, audio_feat = self.extract_feat(inputs, audio, data_samples,
                                                 sample_index)
        logits = self.decode_head(fused, audio_feat)
        return self.decode_head.predict_by_feat(logits, batch_img_metas)

    def loss(self, inputs: Tensor, data_samples: SampleList,
             audio: Tensor) -> Dict[str, Tensor]:
        if self.with_latent_neck:
            visual, audio_feat = self.backbone(inputs, audio)
            fused, level_audio, losses = self.neck.loss(
                visual, audio_feat, audio.shape[1], inputs, data_samples)
        else:
            fused, level_audio, audio_feat = self.extract_feat(inputs, audio)
            losses = {}
        head_losses, logits = self.decode_head.loss_and_logits(
            fused, audio_feat, data_samples)
        losses.update(head_losses)
        # The maps as the head leaves them (ReLU'd by the reference TPAVI
        # decoder), so the matching loss sees what the reference's sees.
        aux_maps = self.decode_head.aux_maps(fused)
        for aux in self.auxiliary_loss:
            losses[aux.loss_name] = aux(logits, aux_maps, level_audio)
        return losses

    def predict(self, inputs: Tensor, data_samples: OptSampleList,
                audio: Tensor) -> SampleList:
        """Per-frame predictions; with a latent neck sampling several
        latents, their probabilities are averaged and their standard
        deviation is stored as ``uncertainty`` in each data sample."""
        metas = [s.metainfo for s in data_samples] if data_samples else [
            dict(img_shape=inputs.shape[2:], ori_shape=inputs.shape[2:])
        ] * inputs.shape[0]
        num_samples = getattr(self.neck, 'num_samples', None) or 1
        if num_samples == 1:
            logits = self.encode_decode(inputs, metas, audio, data_samples)
            return self.postprocess_result(logits, data_samples)
        probs = torch.stack([
            self.encode_decode(inputs, metas, audio, data_samples, s).sigmoid()
            for s in range(num_samples)
        ])
        results = self.postprocess_result(
            torch.logit(probs.mean(0), eps=1e-6), data_samples)
        for result, meta, std in zip(results, metas, probs.std(0)):
            std = F.interpolate(std[None], size=meta['ori_shape'],
                                mode='bilinear', align_corners=False)
            result.set_data(dict(uncertainty=PixelData(data=std[0])))
        return results

    def _forward(self, inputs: Tensor, data_samples: OptSampleList,
                 audio: Tensor) -> Tensor:
        fused, _, audio_feat = self.extract_feat(inputs, audio, data_samples)
        return self.decode_head(fused, audio_feat)
