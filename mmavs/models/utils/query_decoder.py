"""A transformer decoder whose queries read the encoder memory."""
from typing import Optional

from torch import Tensor, nn


class QueryDecoderLayer(nn.Module):
    """Post-norm layer: self-attention, cross-attention to the memory, FFN.

    The memory is attended without positional embedding (AVSegFormer's
    decoder; its encoder output already carries position).

    Args:
        embed_dims: Channels C.
        num_heads: Attention heads.
        ffn_dims: Hidden width of the GELU FFN.
        dropout: Dropout after each block.
    """

    def __init__(self, embed_dims: int = 256, num_heads: int = 8,
                 ffn_dims: int = 2048, dropout: float = 0.1) -> None:
        super().__init__()
        self.self_attn = nn.MultiheadAttention(
            embed_dims, num_heads, dropout=dropout, batch_first=True)
        self.norm1 = nn.LayerNorm(embed_dims)
        self.cross_attn = nn.MultiheadAttention(
            embed_dims, num_heads, dropout=dropout, batch_first=True)
        self.norm2 = nn.LayerNorm(embed_dims)
        self.linear1 = nn.Linear(embed_dims, ffn_dims)
        self.linear2 = nn.Linear(ffn_dims, embed_dims)
        self.norm3 = nn.LayerNorm(embed_dims)
        self.activation = nn.GELU()
        self.dropout = nn.Dropout(dropout)

    def forward(self, query: Tensor, memory: Tensor,
                padding_mask: Optional[Tensor] = None) -> Tensor:
        """``query`` ``(B, Q, C)``, ``memory`` ``(B, S, C)``, ``padding_mask``
        ``(B, S)`` (True at padding); returns ``(B, Q, C)``."""
        out = self.self_attn(query, query, query, need_weights=False)[0]
        query = self.norm1(query + self.dropout(out))
        out = self.cross_attn(query, memory, memory,
                              key_padding_mask=padding_mask,
                              need_weights=False)[0]
        query = self.norm2(query + self.dropout(out))
        out = self.linear2(self.dropout(self.activation(self.linear1(query))))
        return self.norm3(query + self.dropout(out))


class QueryDecoder(nn.Module):
    """A stack of :class:`QueryDecoderLayer`; returns the last output.

    Args:
        num_layers: Number of layers.
        **layer_kwargs: Passed to each :class:`QueryDecoderLayer`.
    """

    def __init__(self, num_layers: int = 6, **layer_kwargs) -> None:
        super().__init__()
        self.layers = nn.ModuleList(
            [QueryDecoderLayer(**layer_kwargs) for _ in range(num_layers)])

    def forward(self, query: Tensor, memory: Tensor,
                padding_mask: Optional[Tensor] = None) -> Tensor:
        for layer in self.layers:
            query = layer(query, memory, padding_mask)
        return query
