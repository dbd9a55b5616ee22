"""The AVSegFormer decoder as a decode head."""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from mmseg.registry import MODELS
from torch import Tensor, nn
from torch.nn import functional as F

from mmavs.structures import ClipLayout

from ..utils.audio_channel_mixer import AudioChannelMixer
from ..utils.audio_query_generator import AudioQueryGenerator
from ..utils.deformable_encoder import DeformableEncoder
from ..utils.positional_encoding import sine_positional_encoding
from ..utils.query_decoder import QueryDecoder
from .avs_decode_head import AVSDecodeHead


def conv_gn(in_channels: int, out_channels: int, kernel_size: int,
            num_groups: int) -> nn.Sequential:
    """``kernel_size`` conv (same padding) + GroupNorm."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size,
                  padding=kernel_size // 2),
        nn.GroupNorm(num_groups, out_channels))


class PixelMLP(nn.Module):
    """1×1 convs with ReLU between them (not after the last)."""

    def __init__(self, channels: Sequence[int]) -> None:
        super().__init__()
        self.layers = nn.ModuleList(
            nn.Conv2d(c_in, c_out, 1)
            for c_in, c_out in zip(channels[:-1], channels[1:]))

    def forward(self, x: Tensor) -> Tensor:
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = F.relu(x)
        return x


@MODELS.register_module()
class AVSegFormerHead(AVSDecodeHead):
    """AVSegFormer's head: deformable encoder, audio queries, channel mixer.

    Sizes for a 224 input with levels at 1/4 .. 1/32 (PVTv2: 56², 28², 14²,
    7²); N = B*T frames, E = ``embed_dims``, Q = ``num_queries``::

        forward(inputs [4×(N, C_l, H_l, W_l)], audio_feat (N, 128), layout)
          audio = audio_proj(audio_feat)                    (N, 1, E)
          in_proj[l]: 1×1 conv + GN                          4×(N, E, H_l, W_l)
          encoder(levels 1..3, sine pos + level_embed)      memory (N, S, E)
          query_generator(audio) + query_embed               (N, Q, E)
          decoder(queries, memory)                           (N, Q, E)
          out_conv(lateral_conv(level 0) + up(memory 1/8))  mask feature
          channel_mixer(mask feature, audio)                 (N, E, 56²)
          mlp(queries · mask feature) + mask feature         (N, E, 56²)
          fc: conv3×3 E→128, ×4, conv3×3 →32, ReLU; conv_seg  (N, 1, 224²)

    Losses (annotated frames): ``loss_decode`` on the logits (Dice, weight
    1) and ``mix_loss`` on the channel mean of the mixed mask feature,
    upsampled to the mask (Dice, weight 0.1).

    Choices the description leaves open: the decoder attends to the memory
    without positional embedding; frames are never padded in this package,
    so the encoder runs with all-valid masks (it supports padding masks).

    Args:
        in_channels: Channels of the four input levels (1/4 .. 1/32).
        embed_dims: E (256).
        audio_channels: Channels of ``audio_feat`` (VGGish: 128).
        num_queries: Q (300).
        num_heads: Heads of every attention (8).
        num_points: Deformable sampling points per head and level (4).
        num_encoder_layers, num_decoder_layers, num_query_layers: Depths (6).
        ffn_dims: Encoder / decoder FFN width (2048).
        query_ffn_dims: Query-generator FFN width (1024).
        mlp_channels: Hidden width of the query-map MLP (2048).
        dropout: Encoder / decoder dropout (0.1).
        num_groups: GroupNorm groups (32).
        mix_loss: Config of the loss on the mixed mask feature, or None.
        **kwargs: See :class:`AVSDecodeHead`; ``loss_decode`` defaults to
            :class:`BinaryDiceLoss`.
    """

    def __init__(self,
                 in_channels: List[int],
                 embed_dims: int = 256,
                 audio_channels: int = 128,
                 num_queries: int = 300,
                 num_heads: int = 8,
                 num_points: int = 4,
                 num_encoder_layers: int = 6,
                 num_decoder_layers: int = 6,
                 num_query_layers: int = 6,
                 ffn_dims: int = 2048,
                 query_ffn_dims: int = 1024,
                 mlp_channels: int = 2048,
                 dropout: float = 0.1,
                 num_groups: int = 32,
                 loss_decode: dict = dict(type='BinaryDiceLoss',
                                          loss_weight=1.0),
                 mix_loss: Optional[dict] = dict(type='BinaryDiceLoss',
                                                 loss_weight=0.1,
                                                 loss_name='loss_mix'),
                 **kwargs) -> None:
        if len(in_channels) != 4:
            raise ValueError(f'AVSegFormerHead takes four levels (1/4 to '
                             f'1/32), got in_channels={in_channels}')
        super().__init__(in_channels=in_channels, channels=embed_dims,
                         input_transform='multiple_select',
                         in_index=list(range(4)), loss_decode=loss_decode,
                         **kwargs)
        num_levels = 3
        self.audio_proj = nn.Linear(audio_channels, embed_dims)
        self.in_proj = nn.ModuleList(
            conv_gn(c, embed_dims, 1, num_groups) for c in in_channels)
        self.level_embed = nn.Parameter(torch.empty(num_levels, embed_dims))
        self.encoder = DeformableEncoder(
            num_encoder_layers, embed_dims=embed_dims, num_levels=num_levels,
            num_heads=num_heads, num_points=num_points, ffn_dims=ffn_dims,
            dropout=dropout)
        self.query_generator = AudioQueryGenerator(
            num_queries, num_query_layers, embed_dims, num_heads=num_heads,
            ffn_dims=query_ffn_dims)
        self.query_embed = nn.Embedding(num_queries, embed_dims)
        self.decoder = QueryDecoder(
            num_decoder_layers, embed_dims=embed_dims, num_heads=num_heads,
            ffn_dims=ffn_dims, dropout=dropout)
        self.lateral_conv = conv_gn(embed_dims, embed_dims, 1, num_groups)
        self.out_conv = nn.Sequential(
            *conv_gn(embed_dims, embed_dims, 3, num_groups), nn.ReLU())
        self.channel_mixer = AudioChannelMixer(embed_dims, num_heads)
        self.mlp = PixelMLP([num_queries, mlp_channels, mlp_channels,
                             embed_dims])
        self.fc = nn.Sequential(
            nn.Conv2d(embed_dims, 128, 3, padding=1),
            nn.Upsample(scale_factor=4, mode='bilinear', align_corners=False),
            nn.Conv2d(128, 32, 3, padding=1), nn.ReLU())
        self.conv_seg = nn.Conv2d(32, self.out_channels, 1, bias=False)
        self.mix_loss = MODELS.build(mix_loss) if mix_loss else None
        nn.init.normal_(self.level_embed)

    def forward(self, inputs: List[Tensor],
                audio_feat: Optional[Tensor] = None,
                layout: Optional[ClipLayout] = None) -> Tensor:
        """Logits ``(N, 1, H, W)`` at 4× the first level's size (per frame:
        the clip layout is not used)."""
        return self.forward_with_mask_feature(inputs, audio_feat)[0]

    def forward_with_mask_feature(self, inputs: List[Tensor],
                                  audio_feat: Optional[Tensor]
                                  ) -> Tuple[Tensor, Tensor]:
        """Logits ``(N, 1, H, W)`` and the mixed mask feature
        ``(N, E, H/4, W/4)``."""
        if audio_feat is None:
            raise ValueError('AVSegFormerHead needs the audio features')
        feats = [proj(x) for proj, x in
                 zip(self.in_proj, self._transform_inputs(inputs))]
        audio = self.audio_proj(audio_feat)[:, None]
        memory = self.encode(feats[1:])
        queries = self.query_generator(audio) + self.query_embed.weight[None]
        queries = self.decoder(queries, memory)
        mask_feature = self.mask_feature(feats[0], memory, feats[1].shape)
        mask_feature = self.channel_mixer(mask_feature, audio)
        pred = torch.einsum('nqc,nchw->nqhw', queries, mask_feature)
        pred = self.mlp(pred) + mask_feature
        return self.conv_seg(self.fc(pred)), mask_feature

    def encode(self, levels: List[Tensor]) -> Tensor:
        """Deformable encoder over the 1/8 .. 1/32 maps ``(N, E, H_l, W_l)``;
        returns the memory ``(N, Σ H_l W_l, E)``."""
        num = levels[0].shape[0]
        shapes = [tuple(x.shape[-2:]) for x in levels]
        src = torch.cat([x.flatten(2).transpose(1, 2) for x in levels], 1)
        pos = torch.cat([
            sine_positional_encoding(
                x.new_zeros((num, ) + shape, dtype=torch.bool),
                num_feats=x.shape[1] // 2).to(x.dtype).flatten(2).transpose(
                    1, 2) + self.level_embed[level]
            for level, (x, shape) in enumerate(zip(levels, shapes))
        ], 1)
        spatial_shapes = torch.as_tensor(shapes, dtype=torch.long,
                                         device=src.device)
        valid_ratios = src.new_ones(num, len(levels), 2)
        return self.encoder(src, pos, spatial_shapes, valid_ratios)

    def mask_feature(self, quarter: Tensor, memory: Tensor,
                     eighth_shape: torch.Size) -> Tensor:
        """``out_conv(lateral_conv(quarter) + up(memory's 1/8 part))``."""
        num, channels, height, width = eighth_shape
        eighth = memory[:, :height * width].transpose(1, 2).reshape(
            num, channels, height, width)
        lateral = self.lateral_conv(quarter)
        eighth = F.interpolate(eighth, size=lateral.shape[-2:],
                               mode='bilinear', align_corners=False)
        return self.out_conv(lateral + eighth)

    def loss_and_logits(self, inputs: List[Tensor],
                        audio_feat: Optional[Tensor], layout: ClipLayout,
                        batch_data_samples: list
                        ) -> Tuple[Dict[str, Tensor], Tensor]:
        logits, mask_feature = self.forward_with_mask_feature(
            inputs, audio_feat)
        losses = self.loss_by_feat(logits, batch_data_samples, layout)
        if self.mix_loss is not None:
            losses.update(self.annotated_losses(
                mask_feature.mean(1, keepdim=True), batch_data_samples,
                [self.mix_loss], layout))
        return losses, logits
