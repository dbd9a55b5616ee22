"""CAVP's audio-conditioned cross-attention with sigmoid attention (f_CA)."""
from typing import Tuple

from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import Tensor, nn


@MODELS.register_module()
class SigmoidCrossAttentionFusion(BaseModule):
    """Fuse one audio vector into every pixel of a map (``cavp.md`` §4).

    Call graph (N frames, ``docs/en/architecture.md``; C = 304 in CAVP)::

        forward(visual (N, C, H, W), audio (N, D_a))
          tokens v = visual_projector(visual)          (N, HW, C)
                     Linear C→256, GELU, Linear 256→C
          v = embed_visual(v); a = embed_audio(audio)  (N, HW, C), (N, 1, C)
          v, a = norm1(v), norm1(a)                    the SAME LayerNorm
          per head h (4 heads of C/4 = 76):
            gate = sigmoid(q_h(v) · k_h(a) / √76)      (N, HW) one key, so one
                                                       gate per head and pixel
            out_h = gate · v_h(a)
          x = v + proj(cat_h out_h)                    residual on normalised v
          x = x + mlp(norm2(x))                        ratio 4, GELU
          → norm(x) as a map                           (N, C, H, W)

    No positional embedding is added (the reference declares one and never
    uses it), q/k/v have no bias. The reference block also updates the audio
    token from the visual tokens; nothing reads that update, so it is not
    computed.

    Args:
        channels: C, visual channels in and out (304).
        audio_channels: D_a, width of the audio feature (304).
        projector_channels: Hidden width of the visual projector (256).
        num_heads: Attention heads (4).
        mlp_ratio: Hidden width of the MLP over C (4).
        qkv_bias: Bias in q / k / v (False).
        init_cfg: mmengine initialisation config.
    """

    def __init__(self,
                 channels: int = 304,
                 audio_channels: int = 304,
                 projector_channels: int = 256,
                 num_heads: int = 4,
                 mlp_ratio: float = 4.0,
                 qkv_bias: bool = False,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        if channels % num_heads:
            raise ValueError(f'channels {channels} is not a multiple of '
                             f'num_heads {num_heads}')
        self.channels = channels
        self.num_heads = num_heads
        self.head_dim = channels // num_heads
        self.scale = self.head_dim**-0.5
        self.visual_projector = nn.Sequential(
            nn.Linear(channels, projector_channels), nn.GELU(),
            nn.Linear(projector_channels, channels))
        self.embed_visual = nn.Linear(channels, channels)
        self.embed_audio = nn.Linear(audio_channels, channels)
        self.norm1 = nn.LayerNorm(channels)
        self.q = nn.Linear(channels, channels, bias=qkv_bias)
        self.k = nn.Linear(channels, channels, bias=qkv_bias)
        self.v = nn.Linear(channels, channels, bias=qkv_bias)
        self.proj = nn.Linear(channels, channels)
        self.norm2 = nn.LayerNorm(channels)
        hidden = int(channels * mlp_ratio)
        self.mlp = nn.Sequential(
            nn.Linear(channels, hidden), nn.GELU(),
            nn.Linear(hidden, channels))
        self.norm = nn.LayerNorm(channels)

    def tokens(self, visual: Tensor, audio: Tensor) -> Tuple[Tensor, Tensor]:
        """The normalised visual tokens ``(N, HW, C)`` and audio token
        ``(N, C)`` that the attention reads."""
        v = self.visual_projector(visual.flatten(2).transpose(1, 2))
        return self.norm1(self.embed_visual(v)), self.norm1(
            self.embed_audio(audio))

    def gate(self, v: Tensor, a: Tensor) -> Tensor:
        """Sigmoid attention weights ``(N, HW, heads)`` of normalised tokens
        ``v`` ``(N, HW, C)`` on the one audio key ``a`` ``(N, C)``."""
        n, hw, _ = v.shape
        q = self.q(v).view(n, hw, self.num_heads, self.head_dim)
        k = self.k(a).view(n, 1, self.num_heads, self.head_dim)
        return ((q * k).sum(-1) * self.scale).sigmoid()

    def forward(self, visual: Tensor, audio: Tensor) -> Tensor:
        """``(N, C, H, W)`` and ``(N, D_a)`` → fused ``(N, C, H, W)``.

        Raises:
            ValueError: the frame counts differ.
        """
        if visual.shape[0] != audio.shape[0]:
            raise ValueError(f'{visual.shape[0]} visual maps but '
                             f'{audio.shape[0]} audio features')
        n, c, h, w = visual.shape
        v, a = self.tokens(visual, audio)
        gate = self.gate(v, a)  # (N, HW, heads)
        value = self.v(a).view(n, 1, self.num_heads, self.head_dim)
        attended = (gate[..., None] * value).reshape(n, h * w, c)
        x = v + self.proj(attended)
        x = x + self.mlp(self.norm2(x))
        return self.norm(x).transpose(1, 2).reshape(n, c, h, w)
