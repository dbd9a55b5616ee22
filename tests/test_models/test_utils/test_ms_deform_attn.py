"""Multi-scale deformable attention against a per-point computation."""
import pytest
import torch

from mmavs.models.utils.deformable_encoder import DeformableEncoder
from mmavs.models.utils.ms_deform_attn import (
    MultiScaleDeformableAttention, multi_scale_deformable_attention)

SHAPES = [(5, 7), (3, 4), (2, 2)]


def bilinear_sample(level, x, y):
    """One bilinear sample of ``level`` ``(D, H, W)`` at normalised ``(x, y)``
    (pixel centres at (i + 0.5) / size), reading zeros outside."""
    dims, height, width = level.shape
    px, py = x * width - 0.5, y * height - 0.5
    x0, y0 = int(torch.floor(px)), int(torch.floor(py))
    out = torch.zeros(dims, dtype=level.dtype)
    for xi in (x0, x0 + 1):
        for yi in (y0, y0 + 1):
            weight = (1 - abs(px - xi)) * (1 - abs(py - yi))
            if 0 <= xi < width and 0 <= yi < height:
                out += weight * level[:, yi, xi]
    return out


def reference_attention(value, shapes, locations, weights):
    """The loops of the definition: Σ_l Σ_p A · V_l(loc)."""
    batch, _, heads, dims = value.shape
    _, queries, _, levels, points, _ = locations.shape
    starts = [0]
    for h, w in shapes:
        starts.append(starts[-1] + h * w)
    out = torch.zeros(batch, queries, heads, dims, dtype=value.dtype)
    for b in range(batch):
        for m in range(heads):
            maps = [value[b, starts[lv]:starts[lv + 1], m].T.reshape(dims, h, w)
                    for lv, (h, w) in enumerate(shapes)]
            for q in range(queries):
                for lv in range(levels):
                    for p in range(points):
                        x, y = locations[b, q, m, lv, p]
                        out[b, q, m] += weights[b, q, m, lv, p] * \
                            bilinear_sample(maps[lv], x, y)
    return out.flatten(2)


def test_function_matches_per_point_reference():
    torch.manual_seed(0)
    total = sum(h * w for h, w in SHAPES)
    value = torch.randn(2, total, 2, 3, dtype=torch.float64)
    # Locations include points outside [0, 1] (zero padding).
    locations = torch.rand(2, 4, 2, 3, 2, 2, dtype=torch.float64) * 1.4 - 0.2
    weights = torch.rand(2, 4, 2, 3, 2, dtype=torch.float64)
    shapes = torch.tensor(SHAPES)
    out = multi_scale_deformable_attention(value, shapes, locations, weights)
    expected = reference_attention(value, SHAPES, locations, weights)
    assert out.shape == (2, 4, 6)
    torch.testing.assert_close(out, expected, rtol=1e-10, atol=1e-10)


def test_module_gradients_and_init():
    torch.manual_seed(0)
    attn = MultiScaleDeformableAttention(16, num_levels=3, num_heads=4,
                                         num_points=2)
    # Initial offsets: head m points along direction m at radius 1..P.
    bias = attn.sampling_offsets.bias.view(4, 3, 2, 2)
    torch.testing.assert_close(bias[0, :, 1], torch.tensor([[2.0, 0.0]] * 3))
    # Zero-initialised query projections pass no gradient to the query yet.
    for layer in (attn.sampling_offsets, attn.attention_weights):
        torch.nn.init.normal_(layer.weight, std=0.1)
    total = sum(h * w for h, w in SHAPES)
    query = torch.randn(2, 5, 16, requires_grad=True)
    value = torch.randn(2, total, 16, requires_grad=True)
    reference = torch.rand(2, 5, 3, 2)
    out = attn(query, reference, value, torch.tensor(SHAPES))
    assert out.shape == (2, 5, 16)
    out.square().sum().backward()
    for name, param in attn.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name
    assert query.grad.abs().sum() > 0 and value.grad.abs().sum() > 0


def test_module_rejects_wrong_level_count():
    attn = MultiScaleDeformableAttention(16, num_levels=2, num_heads=4)
    with pytest.raises(ValueError, match='3 levels'):
        attn(torch.randn(1, 2, 16), torch.rand(1, 2, 2, 2),
             torch.randn(1, 39, 16), torch.tensor(SHAPES))


def flatten(maps):
    return torch.cat([m.flatten(2).transpose(1, 2) for m in maps], 1)


def test_encoder_padding_mask_matches_unpadded_input():
    """A map padded on the right / bottom, with its padding mask and valid
    ratios, encodes its valid part exactly like the unpadded map."""
    torch.manual_seed(0)
    encoder = DeformableEncoder(2, embed_dims=16, num_levels=2, num_heads=4,
                                num_points=2, ffn_dims=32, dropout=0.0).eval()
    valid_shapes, padded_shapes = [(4, 6), (2, 3)], [(6, 8), (3, 4)]
    src = [torch.randn(1, 16, h, w) for h, w in valid_shapes]
    pos = [torch.randn(1, 16, h, w) for h, w in valid_shapes]
    padded_src, padded_pos, masks = [], [], []
    for s, p, (h, w) in zip(src, pos, padded_shapes):
        pad = (0, w - s.shape[-1], 0, h - s.shape[-2])
        padded_src.append(torch.nn.functional.pad(s, pad, value=3.0))
        padded_pos.append(torch.nn.functional.pad(p, pad, value=-1.0))
        mask = torch.ones(1, h, w, dtype=torch.bool)
        mask[:, :s.shape[-2], :s.shape[-1]] = False
        masks.append(mask)
    ratios = torch.tensor([[[vw / w, vh / h] for (vh, vw), (h, w) in zip(
        valid_shapes, padded_shapes)]])
    with torch.no_grad():
        plain = encoder(flatten(src), flatten(pos), torch.tensor(valid_shapes),
                        torch.ones(1, 2, 2))
        padded = encoder(flatten(padded_src), flatten(padded_pos),
                         torch.tensor(padded_shapes), ratios,
                         torch.cat([m.flatten(1) for m in masks], 1))
    keep = ~torch.cat([m.flatten(1) for m in masks], 1)[0]
    torch.testing.assert_close(padded[0, keep], plain[0], rtol=1e-5,
                               atol=1e-5)


def test_reference_points_are_pixel_centres():
    points = DeformableEncoder.reference_points([(2, 4), (1, 2)],
                                                torch.ones(1, 2, 2))
    assert points.shape == (1, 10, 2, 2)
    torch.testing.assert_close(points[0, 0, 0], torch.tensor([0.125, 0.25]))
    torch.testing.assert_close(points[0, 9, 1], torch.tensor([0.75, 0.5]))
