"""Mask2Former's masked-attention transformer decoder (CPM's TD-V)."""
from typing import Callable, List, Optional, Tuple

import torch
from torch import Tensor, nn
from torch.nn import functional as F


def attention_mask(mask_logits: Tensor, size: Tuple[int, int],
                   num_heads: int) -> Tensor:
    """Where each query may not look at a level: its previous mask < 0.5.

    Args:
        mask_logits: ``(N, Q, h, w)`` mask logits of the previous
            prediction set.
        size: ``(H_l, W_l)`` of the level the next layer attends to.
        num_heads: Attention heads (the mask is repeated per head).

    Returns:
        ``(N * num_heads, Q, H_l * W_l)`` bool, True = not attended. Rows
        that would be fully masked are unmasked (Mask2Former), so a query
        whose mask vanished still reads the whole level. No gradient.
    """
    with torch.no_grad():
        resized = F.interpolate(mask_logits.float(), size=size,
                                mode='bilinear', align_corners=False)
        masked = resized.flatten(2).sigmoid() < 0.5
        masked[masked.all(-1)] = False
        return masked.repeat_interleave(num_heads, 0)


class MaskedAttentionLayer(nn.Module):
    """Post-norm: masked cross-attention → self-attention → ReLU FFN.

    Positional embeddings are added to the queries of both attentions, the
    keys of self-attention and the memory keys (Mask2Former).

    Args:
        embed_dims: Channels C (256).
        num_heads: Heads (8).
        ffn_dims: FFN width (2048).
        dropout: Dropout (0).
    """

    def __init__(self, embed_dims: int = 256, num_heads: int = 8,
                 ffn_dims: int = 2048, dropout: float = 0.0) -> None:
        super().__init__()
        self.cross_attn = nn.MultiheadAttention(
            embed_dims, num_heads, dropout=dropout, batch_first=True)
        self.self_attn = nn.MultiheadAttention(
            embed_dims, num_heads, dropout=dropout, batch_first=True)
        self.ffn = nn.Sequential(
            nn.Linear(embed_dims, ffn_dims), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(ffn_dims, embed_dims))
        self.norm1 = nn.LayerNorm(embed_dims)
        self.norm2 = nn.LayerNorm(embed_dims)
        self.norm3 = nn.LayerNorm(embed_dims)
        self.dropout = nn.Dropout(dropout)

    @staticmethod
    def _with_pos(x: Tensor, pos: Optional[Tensor]) -> Tensor:
        return x if pos is None else x + pos

    def forward(self, query: Tensor, memory: Tensor, memory_pos: Tensor,
                attn_mask: Tensor, query_pos: Optional[Tensor] = None,
                query_padding_mask: Optional[Tensor] = None) -> Tensor:
        """One layer.

        Args:
            query: ``(N, Q, C)``.
            memory, memory_pos: ``(N, S, C)``, one visual level flattened.
            attn_mask: ``(N * heads, Q, S)`` bool, True = not attended.
            query_pos: ``(N or 1, Q, C)`` or None (prompts have none).
            query_padding_mask: ``(N, Q)`` True at padding slots, which
                self-attention ignores.

        Returns:
            ``(N, Q, C)``.
        """
        out = self.cross_attn(self._with_pos(query, query_pos),
                              memory + memory_pos, memory,
                              attn_mask=attn_mask, need_weights=False)[0]
        query = self.norm1(query + self.dropout(out))
        q = self._with_pos(query, query_pos)
        out = self.self_attn(q, q, query, need_weights=False,
                             key_padding_mask=query_padding_mask)[0]
        query = self.norm2(query + self.dropout(out))
        return self.norm3(query + self.dropout(self.ffn(query)))


class MaskedAttentionDecoder(nn.Module):
    """Queries refined by masked attention, cycling over visual levels.

    Call graph (L = ``num_layers``, levels P5, P4, P3)::

        forward(query (N, Q, C), levels, level_pos, mask_head)
          e_0 = norm(query); m_0 = mask_head(e_0)             set 0
          for i in 0..L-1:
            level = i mod 3
            query = layer_i(query, level, mask(m_i) at the level)
            e_{i+1} = norm(query); m_{i+1} = mask_head(e_{i+1})  set i+1
          → L + 1 prediction sets [(e_j (N, Q, C), m_j (N, Q, h, w))]

    The shared LayerNorm gives the embeddings e on which the class head
    (applied by the caller) and ``mask_head`` run (``cpm.md`` §2).

    Args:
        num_layers: L (9).
        num_levels: Visual levels cycled through (3).
        embed_dims, num_heads, ffn_dims, dropout: See
            :class:`MaskedAttentionLayer`.
    """

    def __init__(self, num_layers: int = 9, num_levels: int = 3,
                 embed_dims: int = 256, num_heads: int = 8,
                 ffn_dims: int = 2048, dropout: float = 0.0) -> None:
        super().__init__()
        self.num_levels = num_levels
        self.num_heads = num_heads
        self.layers = nn.ModuleList(
            MaskedAttentionLayer(embed_dims, num_heads, ffn_dims, dropout)
            for _ in range(num_layers))
        self.norm = nn.LayerNorm(embed_dims)

    def forward(self, query: Tensor, levels: List[Tensor],
                level_pos: List[Tensor], mask_head: Callable[[Tensor], Tensor],
                query_pos: Optional[Tensor] = None,
                query_padding_mask: Optional[Tensor] = None
                ) -> List[Tuple[Tensor, Tensor]]:
        """Decode.

        Args:
            query: ``(N, Q, C)`` initial queries (TD-A's output).
            levels, level_pos: ``num_levels`` maps ``(N, C, H_l, W_l)`` and
                their positional encodings, in the order cycled through.
            mask_head: Maps embeddings ``(N, Q, C)`` to mask logits
                ``(N, Q, h, w)``.
            query_pos: ``(N or 1, Q, C)`` or None.
            query_padding_mask: ``(N, Q)`` True at padding slots.

        Returns:
            ``num_layers + 1`` pairs (embeddings ``(N, Q, C)``, mask logits
            ``(N, Q, h, w)``).
        """
        if len(levels) != self.num_levels:
            raise ValueError(f'got {len(levels)} levels, the decoder was '
                             f'built for {self.num_levels}')
        memories = [x.flatten(2).transpose(1, 2) for x in levels]
        positions = [p.flatten(2).transpose(1, 2) for p in level_pos]
        sizes = [tuple(x.shape[-2:]) for x in levels]
        embeds = self.norm(query)
        outputs = [(embeds, mask_head(embeds))]
        for i, layer in enumerate(self.layers):
            level = i % self.num_levels
            mask = attention_mask(outputs[-1][1], sizes[level],
                                  self.num_heads)
            query = layer(query, memories[level], positions[level], mask,
                          query_pos, query_padding_mask)
            embeds = self.norm(query)
            outputs.append((embeds, mask_head(embeds)))
        return outputs
