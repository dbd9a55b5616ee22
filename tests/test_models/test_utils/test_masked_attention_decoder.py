"""TD-V: masked attention, fully masked rows, prediction sets."""
import torch

from mmavs.models.utils.masked_attention_decoder import (
    MaskedAttentionDecoder, MaskedAttentionLayer, attention_mask)


def test_attention_mask_unmasks_fully_masked_rows():
    logits = torch.full((1, 3, 4, 4), -5.0)
    logits[0, 0, :2] = 5.0  # query 0 sees the top half
    logits[0, 1] = 5.0  # query 1 sees everything
    # query 2 sees nothing -> unmasked entirely
    mask = attention_mask(logits, (2, 2), num_heads=2)
    assert mask.shape == (2, 3, 4)
    assert mask[0, 0].tolist() == [False, False, True, True]
    assert not mask[0, 1].any()
    assert not mask[0, 2].any()
    assert torch.equal(mask[0], mask[1])  # repeated per head


def test_masked_cross_attention_ignores_masked_pixels():
    torch.manual_seed(0)
    layer = MaskedAttentionLayer(8, num_heads=2, ffn_dims=16).eval()
    query = torch.randn(1, 2, 8)
    memory = torch.randn(1, 4, 8)
    pos = torch.randn(1, 4, 8)
    mask = torch.tensor([[False, False, True, True]] * 2)[None].repeat(
        2, 1, 1)
    out = layer(query, memory, pos, mask)
    changed = memory.clone()
    changed[0, 2:] = torch.randn(2, 8) * 10
    # The masked pixels change nothing.
    torch.testing.assert_close(layer(query, changed, pos, mask), out)
    assert not torch.allclose(
        layer(query, changed, pos, torch.zeros_like(mask)), out)


def test_decoder_sets_levels_and_padding():
    torch.manual_seed(0)
    decoder = MaskedAttentionDecoder(num_layers=4, num_levels=3,
                                     embed_dims=8, num_heads=2, ffn_dims=16)
    feature = torch.randn(2, 8, 8, 8)
    levels = [torch.randn(2, 8, s, s) for s in (1, 2, 4)]
    pos = [torch.randn_like(x) for x in levels]
    seen = []

    def mask_head(e):
        seen.append(e.shape)
        return torch.einsum('nqc,nchw->nqhw', e, feature)

    query = torch.randn(2, 3, 8, requires_grad=True)
    sets = decoder(query, levels, pos, mask_head,
                   query_pos=torch.randn(1, 3, 8))
    assert len(sets) == 5 and len(seen) == 5
    for e, m in sets:
        assert e.shape == (2, 3, 8) and m.shape == (2, 3, 8, 8)
    sum(m.sum() for _, m in sets).backward()
    for name, param in decoder.named_parameters():
        assert param.grad is not None, name
    # A padding slot does not change the real queries' outputs.
    padding = torch.tensor([[False, False, True]] * 2)
    other = query.detach().clone()
    other[:, 2] = torch.randn(2, 8) * 5
    a = decoder(query.detach(), levels, pos, mask_head,
                query_padding_mask=padding)[-1][0][:, :2]
    b = decoder(other, levels, pos, mask_head,
                query_padding_mask=padding)[-1][0][:, :2]
    torch.testing.assert_close(a, b)
