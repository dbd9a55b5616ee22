"""Mask2Former's pixel decoder against a per-point computation."""
import math

import torch
from torch.nn import functional as F

from mmavs.models.utils.ms_deform_pixel_decoder import MSDeformPixelDecoder
from mmavs.models.utils.positional_encoding import sine_positional_encoding


def bilinear(level, x, y):
    """Bilinear sample of ``(D, H, W)`` at normalised ``(x, y)`` (pixel
    centres at (i + 0.5) / size), zeros outside."""
    dims, height, width = level.shape
    px, py = float(x) * width - 0.5, float(y) * height - 0.5
    x0, y0 = math.floor(px), math.floor(py)
    out = torch.zeros(dims, dtype=level.dtype)
    for xi in (x0, x0 + 1):
        for yi in (y0, y0 + 1):
            if 0 <= xi < width and 0 <= yi < height:
                out += (1 - abs(px - xi)) * (1 - abs(py - yi)) * \
                    level[:, yi, xi]
    return out


def reference_layer(layer, src, pos, shapes):
    """One encoder layer for one frame, query by query and point by point.

    ``src``, ``pos``: ``(S, C)``; the reference point of a query is its
    pixel centre, the same normalised point in every level."""
    attn = layer.self_attn
    heads, levels, points = attn.num_heads, attn.num_levels, attn.num_points
    dims = src.shape[1] // heads
    value = attn.value_proj(src)
    starts = [0]
    for h, w in shapes:
        starts.append(starts[-1] + h * w)
    maps = [[value[starts[lv]:starts[lv + 1], m * dims:(m + 1) * dims]
             .T.reshape(dims, h, w) for lv, (h, w) in enumerate(shapes)]
            for m in range(heads)]
    centres = []
    for h, w in shapes:
        for i in range(h):
            for j in range(w):
                centres.append(((j + 0.5) / w, (i + 0.5) / h))
    out = []
    query = src + pos
    for q, (cx, cy) in enumerate(centres):
        offsets = attn.sampling_offsets(query[q]).view(heads, levels, points,
                                                       2)
        weights = attn.attention_weights(query[q]).view(
            heads, levels * points).softmax(-1).view(heads, levels, points)
        heads_out = []
        for m in range(heads):
            acc = torch.zeros(dims, dtype=src.dtype)
            for lv, (h, w) in enumerate(shapes):
                for p in range(points):
                    x = cx + offsets[m, lv, p, 0] / w
                    y = cy + offsets[m, lv, p, 1] / h
                    acc += weights[m, lv, p] * bilinear(maps[m][lv], x, y)
            heads_out.append(acc)
        out.append(torch.cat(heads_out))
    attended = attn.output_proj(torch.stack(out))
    x = layer.norm1(src + attended)
    return layer.norm2(x + layer.linear2(torch.relu(layer.linear1(x))))


def test_pixel_decoder_matches_per_point_reference():
    torch.manual_seed(0)
    decoder = MSDeformPixelDecoder([4, 6, 8, 10], embed_dims=8, num_layers=2,
                                   num_heads=2, num_points=2, ffn_dims=16,
                                   num_groups=2).double().eval()
    for layer in decoder.encoder.layers:
        # Non-zero offsets and weights so that every point matters.
        torch.nn.init.normal_(layer.self_attn.sampling_offsets.weight,
                              std=0.5)
        torch.nn.init.normal_(layer.self_attn.attention_weights.weight)
    feats = [torch.randn(2, c, s, s, dtype=torch.float64)
             for c, s in zip([4, 6, 8, 10], [8, 4, 2, 1])]
    out = decoder(feats)
    assert out.mask_feature.shape == (2, 8, 8, 8)
    assert [tuple(x.shape) for x in out.levels] == [(2, 8, 1, 1),
                                                    (2, 8, 2, 2),
                                                    (2, 8, 4, 4)]
    with torch.no_grad():
        for frame in range(2):
            levels = [conv(x[frame:frame + 1]) for conv, x in
                      zip(decoder.input_convs, feats[:0:-1])]
            shapes = [tuple(x.shape[-2:]) for x in levels]
            src = torch.cat([x[0].flatten(1).T for x in levels])
            pos = torch.cat([
                (sine_positional_encoding(
                    torch.zeros((1, ) + s, dtype=torch.bool), 4,
                    normalize=True)[0].double() +
                 decoder.level_embed[lv][:, None, None]).flatten(1).T
                for lv, s in enumerate(shapes)
            ])
            for layer in decoder.encoder.layers:
                src = reference_layer(layer, src, pos, shapes)
            p3 = src[-16:].T.reshape(1, 8, 4, 4)
            torch.testing.assert_close(out.levels[2][frame:frame + 1], p3)
            torch.testing.assert_close(out.levels[0][frame, :, 0, 0],
                                       src[0])
            lateral = decoder.lateral_conv(feats[0][frame:frame + 1])
            fused = decoder.output_conv(lateral + F.interpolate(
                p3, size=(8, 8), mode='bilinear', align_corners=False))
            torch.testing.assert_close(
                out.mask_feature[frame:frame + 1],
                decoder.mask_feature(fused))
    # Positional encodings: normalised sine + the level's embedding.
    assert len(out.level_pos) == 3
    assert out.level_pos[1].shape == (2, 8, 2, 2)


def test_pixel_decoder_gradients():
    torch.manual_seed(0)
    decoder = MSDeformPixelDecoder([4, 6, 8, 10], embed_dims=8, num_layers=1,
                                   num_heads=2, num_points=2, ffn_dims=16,
                                   num_groups=2)
    for layer in decoder.encoder.layers:
        torch.nn.init.normal_(layer.self_attn.sampling_offsets.weight,
                              std=0.1)
        torch.nn.init.normal_(layer.self_attn.attention_weights.weight,
                              std=0.1)
    feats = [torch.randn(2, c, s, s) for c, s in zip([4, 6, 8, 10],
                                                      [8, 4, 2, 1])]
    out = decoder(feats)
    (out.mask_feature.square().sum() +
     sum(x.square().sum() for x in out.levels)).backward()
    for name, param in decoder.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name
