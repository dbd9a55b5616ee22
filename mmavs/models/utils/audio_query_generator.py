"""Audio-conditioned queries (AVSegFormer's query generator)."""
from typing import Optional

from torch import Tensor, nn


class AudioQueryLayer(nn.Module):
    """Post-norm layer: query self-attention, cross-attention to the audio
    token, GELU FFN. Attention projections have no bias.

    Args:
        embed_dims: Channels C.
        num_heads: Attention heads.
        ffn_dims: Hidden width of the FFN.
        dropout: Dropout after each block.
    """

    def __init__(self, embed_dims: int = 256, num_heads: int = 8,
                 ffn_dims: int = 1024, dropout: float = 0.0) -> None:
        super().__init__()
        self.self_attn = nn.MultiheadAttention(
            embed_dims, num_heads, dropout=dropout, bias=False,
            batch_first=True)
        self.cross_attn = nn.MultiheadAttention(
            embed_dims, num_heads, dropout=dropout, bias=False,
            batch_first=True)
        self.ffn = nn.Sequential(
            nn.Linear(embed_dims, ffn_dims), nn.GELU(),
            nn.Linear(ffn_dims, embed_dims))
        self.norm1 = nn.LayerNorm(embed_dims)
        self.norm2 = nn.LayerNorm(embed_dims)
        self.norm3 = nn.LayerNorm(embed_dims)
        self.dropout = nn.Dropout(dropout)

    def forward(self, query: Tensor, audio: Tensor,
                query_pos: Optional[Tensor] = None,
                audio_pos: Optional[Tensor] = None,
                query_padding_mask: Optional[Tensor] = None) -> Tensor:
        """``query`` ``(N, Q, C)``, ``audio`` ``(N, L, C)`` (AVSegFormer: one
        token, L = 1); returns ``(N, Q, C)``.

        Optional (CPM's TD-A, ``cpm.md`` §2): ``query_pos`` ``(N or 1, Q,
        C)`` added to the queries and keys of self-attention and to the
        queries of cross-attention, ``audio_pos`` ``(N, L, C)`` added to the
        audio keys, ``query_padding_mask`` ``(N, Q)`` True at padding slots
        (not attended to).
        """
        q = query if query_pos is None else query + query_pos
        out = self.self_attn(q, q, query, need_weights=False,
                             key_padding_mask=query_padding_mask)[0]
        query = self.norm1(query + self.dropout(out))
        q = query if query_pos is None else query + query_pos
        k = audio if audio_pos is None else audio + audio_pos
        out = self.cross_attn(q, k, audio, need_weights=False)[0]
        query = self.norm2(query + self.dropout(out))
        return self.norm3(query + self.dropout(self.ffn(query)))


class AudioQueryGenerator(nn.Module):
    """Learned queries that read the audio token of their frame.

    Call graph::

        forward(audio (N, L, C), query=None, ...)
          query.weight (Q, C) repeated N times (or the given queries)
          layers[i](query, audio, ...)  × num_layers   → (N, Q, C)

    Args:
        num_queries: Q.
        num_layers: Number of :class:`AudioQueryLayer`.
        **layer_kwargs: Passed to each layer (``embed_dims`` etc.).
    """

    def __init__(self, num_queries: int = 300, num_layers: int = 6,
                 embed_dims: int = 256, **layer_kwargs) -> None:
        super().__init__()
        self.query = nn.Embedding(num_queries, embed_dims)
        self.layers = nn.ModuleList([
            AudioQueryLayer(embed_dims, **layer_kwargs)
            for _ in range(num_layers)
        ])

    def forward(self, audio: Tensor, query: Optional[Tensor] = None,
                query_pos: Optional[Tensor] = None,
                audio_pos: Optional[Tensor] = None,
                query_padding_mask: Optional[Tensor] = None) -> Tensor:
        """Run the layers from the learned queries, or from ``query``
        ``(N, P, C)`` (CPM's class-conditional prompts); the optional
        arguments are :class:`AudioQueryLayer`'s."""
        if query is None:
            query = self.query.weight[None].expand(audio.shape[0], -1, -1)
        for layer in self.layers:
            query = layer(query, audio, query_pos, audio_pos,
                          query_padding_mask)
        return query
