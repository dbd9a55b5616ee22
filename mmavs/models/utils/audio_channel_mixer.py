"""AVSegFormer's audio-visual channel mixer."""
from torch import Tensor, nn


class AudioChannelMixer(nn.Module):
    """Gate the channels of a feature map by what the audio finds in it.

    The audio token attends over the map's pixels (multi-head, scaled
    dot-product); the projected result, through a sigmoid, scales each
    channel of the map.

    Args:
        embed_dims: Channels C of the map and of the audio token.
        num_heads: Attention heads.
    """

    def __init__(self, embed_dims: int = 256, num_heads: int = 8) -> None:
        super().__init__()
        if embed_dims % num_heads:
            raise ValueError(f'embed_dims={embed_dims} is not divisible by '
                             f'num_heads={num_heads}')
        self.num_heads = num_heads
        self.scale = (embed_dims // num_heads)**-0.5
        self.q_proj = nn.Linear(embed_dims, embed_dims, bias=False)
        self.kv_proj = nn.Linear(embed_dims, embed_dims * 2, bias=False)
        self.proj = nn.Linear(embed_dims, embed_dims)

    def forward(self, feature: Tensor, audio: Tensor) -> Tensor:
        """``feature`` ``(N, C, H, W)``, ``audio`` ``(N, 1, C)``; returns the
        gated map ``(N, C, H, W)``."""
        batch, channels = feature.shape[:2]
        heads = self.num_heads
        pixels = feature.flatten(2).transpose(1, 2)  # (N, HW, C)
        query = self.q_proj(audio).view(batch, 1, heads, -1).transpose(1, 2)
        key, value = self.kv_proj(pixels).view(
            batch, -1, 2, heads, channels // heads).permute(2, 0, 3, 1, 4)
        attn = (query @ key.transpose(-2, -1) * self.scale).softmax(-1)
        mixed = (attn @ value).transpose(1, 2).reshape(batch, channels)
        gate = self.proj(mixed).sigmoid()
        return feature * gate[:, :, None, None]
