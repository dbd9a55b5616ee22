"""Key conversion of reference weight files (PVTv2 → MiT, TPAVI → mmavs).

State dicts are random, with exactly the names and shapes of the reference
files (``tests/checkpoint_keys``), and must load with ``strict=True``.
"""
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmseg.registry import MODELS

from mmavs.models.utils import (TPAVI_UNUSED_PREFIXES, detect_tpavi_backbone,
                                pvtv2_to_mit, strip_prefix, tpavi_to_mmavs)
from reference_keys import (listing_state, load_listing, pvtv2_entries,
                            random_state)

PVT_CONFIG = 'configs/_base_/models/tpavi_pvtv2-b5.py'
TPAVI_CONFIGS = {
    'pvt': 'configs/tpavi/tpavi_pvtv2-b5_1xb4-15e_s4-224x224.py',
    'r50': 'configs/tpavi/tpavi_r50_1xb4-15e_s4-224x224.py',
}
TINY = dict(embed_dims=[8, 16, 24, 32], depths=[1, 2, 1, 1],
            heads=[1, 2, 3, 4], sr_ratios=[8, 4, 2, 1])


def build_without_weights(cfg: dict):
    with DefaultScope.overwrite_default_scope('mmseg'):
        return MODELS.build(cfg)


def tiny_mit():
    return build_without_weights(dict(
        type='MixVisionTransformer', embed_dims=TINY['embed_dims'][0],
        num_layers=TINY['depths'], num_heads=TINY['heads'],
        sr_ratios=TINY['sr_ratios'], mlp_ratio=4, qkv_bias=True,
        drop_path_rate=0.0)).eval()


def tiny_pvt_state(seed=0):
    return random_state(pvtv2_entries(
        TINY['embed_dims'], TINY['depths'], TINY['sr_ratios'],
        num_classes=10), seed)


# ------------------------------------------------------------- PVTv2 → MiT
def test_entry_helper_reproduces_the_b5_listing():
    listing = load_listing('pvt_v2_b5')
    entries = pvtv2_entries([64, 128, 320, 512], [3, 6, 40, 3], [8, 4, 2, 1])
    assert entries == [tuple(e) for e in listing['params']]


def test_official_b5_layout_loads_strictly_into_config_mit():
    state = listing_state('pvt_v2_b5', with_extra=True)  # + head.*
    cfg = Config.fromfile(PVT_CONFIG).model.backbone.visual.to_dict()
    cfg['init_cfg'] = None
    mit = build_without_weights(cfg)
    result = pvtv2_to_mit(state)
    assert result.unknown == []
    assert sorted(result.dropped) == ['head.bias', 'head.weight']
    mit.load_state_dict(result.state_dict, strict=True)
    assert sum(p.numel() for p in mit.parameters()) == \
        load_listing('pvt_v2_b5')['num_params']
    # q and kv are packed in that order into MultiheadAttention's in_proj.
    in_proj = mit.state_dict()['layers.2.1.17.attn.attn.in_proj_weight']
    assert torch.equal(in_proj[:320], state['block3.17.attn.q.weight'])
    assert torch.equal(in_proj[320:], state['block3.17.attn.kv.weight'])


def pvtv2_attention(x, hw, w, p, num_heads, sr_ratio):
    """PVTv2's spatial-reduction attention, written from its definition."""
    b, n, c = x.shape
    d = c // num_heads
    q = F.linear(x, w[p + 'q.weight'], w[p + 'q.bias'])
    q = q.reshape(b, n, num_heads, d).transpose(1, 2)
    kv_in = x
    if sr_ratio > 1:
        grid = x.transpose(1, 2).reshape(b, c, *hw)
        grid = F.conv2d(grid, w[p + 'sr.weight'], w[p + 'sr.bias'],
                        stride=sr_ratio)
        # PVTv2 uses LayerNorm's default eps 1e-5 here, MiT 1e-6: a model
        # difference far below float32 noise, left out of this check.
        kv_in = F.layer_norm(grid.flatten(2).transpose(1, 2), (c, ),
                             w[p + 'norm.weight'], w[p + 'norm.bias'],
                             eps=1e-6)
    kv = F.linear(kv_in, w[p + 'kv.weight'], w[p + 'kv.bias'])
    k, v = kv.reshape(b, -1, 2, num_heads, d).permute(2, 0, 3, 1, 4)
    attn = (q @ k.transpose(-2, -1) * d**-0.5).softmax(-1)
    out = (attn @ v).transpose(1, 2).reshape(b, n, c)
    return F.linear(out, w[p + 'proj.weight'], w[p + 'proj.bias'])


def pvtv2_mlp(x, hw, w, p):
    """fc1 → depthwise 3x3 conv → GELU → fc2, on (B, N, C) tokens."""
    h = F.linear(x, w[p + 'fc1.weight'], w[p + 'fc1.bias'])
    grid = h.transpose(1, 2).reshape(h.shape[0], h.shape[2], *hw)
    grid = F.conv2d(grid, w[p + 'dwconv.dwconv.weight'],
                    w[p + 'dwconv.dwconv.bias'], padding=1,
                    groups=grid.shape[1])
    h = F.gelu(grid.flatten(2).transpose(1, 2))
    return F.linear(h, w[p + 'fc2.weight'], w[p + 'fc2.bias'])


@pytest.mark.parametrize('stage', [0, 3])  # with and without reduction
def test_converted_block_computes_pvtv2(stage):
    # float64, so that only a wrong mapping (not rounding) can fail.
    state = {k: v.double() for k, v in tiny_pvt_state().items()}
    mit = tiny_mit().double()
    mit.load_state_dict(pvtv2_to_mit(state).state_dict, strict=True)
    c, sr = TINY['embed_dims'][stage], TINY['sr_ratios'][stage]
    heads = TINY['heads'][stage]
    hw = (16, 16)
    x = torch.randn(2, hw[0] * hw[1], c, dtype=torch.float64)
    block = mit.layers[stage][1][0]
    p = f'block{stage + 1}.0.'
    w = state

    def ln(t, name, eps):
        return F.layer_norm(t, (c, ), w[p + name + '.weight'],
                            w[p + name + '.bias'], eps=eps)

    with torch.no_grad():
        ref_attn = pvtv2_attention(ln(x, 'norm1', 1e-6), hw, w, p + 'attn.',
                                   heads, sr)
        got_attn = block.attn(block.norm1(x), hw,
                              identity=torch.zeros_like(x))
        torch.testing.assert_close(got_attn, ref_attn, atol=1e-6, rtol=1e-6)
        y = x + ref_attn
        ref = y + pvtv2_mlp(ln(y, 'norm2', 1e-6), hw, w, p + 'mlp.')
        torch.testing.assert_close(block(x, hw), ref, atol=1e-6, rtol=1e-6)


def test_half_qkv_pair_and_foreign_keys_are_reported():
    state = tiny_pvt_state()
    del state['block2.1.attn.kv.bias']
    state['pos_embed'] = torch.zeros(1)
    result = pvtv2_to_mit(state)
    assert sorted(result.unknown) == ['block2.1.attn.q.bias', 'pos_embed']
    assert 'layers.1.1.1.attn.attn.in_proj_bias' not in result.state_dict


def test_data_parallel_prefix_is_stripped():
    state = {'module.' + k: v for k, v in tiny_pvt_state().items()}
    result = pvtv2_to_mit(state)
    assert result.unknown == []
    tiny_mit().load_state_dict(result.state_dict, strict=True)


# --------------------------------------------------------- TPAVI → mmavs
@pytest.fixture(scope='module')
def tpavi_models():
    """The two TPAVI models, built once (PVTv2-b5 takes a few seconds)."""
    models = {}
    for name, path in TPAVI_CONFIGS.items():
        cfg = Config.fromfile(path).model
        cfg.backbone.visual.init_cfg = None
        cfg.backbone.audio.init_cfg = None
        models[name] = build_without_weights(cfg)
    return models


@pytest.mark.parametrize('listing', ['tpavi_pvt_s4', 'tpavi_pvt_ms3',
                                     'tpavi_r50_s4', 'tpavi_r50_ms3'])
def test_reference_tpavi_loads_strictly_but_for_vggish(listing, tpavi_models):
    state = listing_state(listing)
    backbone = listing.split('_')[1]
    result = tpavi_to_mmavs(state)
    assert result.unknown == []
    assert result.info == dict(
        backbone='pvtv2-b5' if backbone == 'pvt' else 'r50', num_classes=1)
    model = tpavi_models[backbone]
    missing, unexpected = model.load_state_dict(result.state_dict,
                                                strict=False)
    # The reference saves no audio encoder; nothing else may be missing.
    assert unexpected == []
    assert missing and all(k.startswith('backbone.audio.') for k in missing)
    assert len(missing) == len(load_listing('vggish')['params'])
    # Every dropped tensor is one the reference never uses.
    assert all(k.startswith(TPAVI_UNUSED_PREFIXES) for k in result.dropped)
    unused = load_listing(listing)['unused_params_in_forward']
    assert {p for p in TPAVI_UNUSED_PREFIXES if any(
        k.startswith(p) for k in result.dropped)} == {p + '.' for p in unused}


def test_converted_decoder_computes_the_reference_decoder(tpavi_models):
    """The converted head's logits equal the reference decoder computed by
    hand from the reference checkpoint's own tensors (its RCU adds ReLU(x):
    the in-place ReLU of shared/spec/references.md §1)."""
    state = listing_state('tpavi_r50_s4')
    head = tpavi_models['r50'].decode_head.eval()
    head.load_state_dict(strip_prefix(tpavi_to_mmavs(state).state_dict,
                                      'decode_head.'))

    def conv(x, name, padding=1):
        return F.conv2d(x, state[name + '.weight'], state[name + '.bias'],
                        padding=padding)

    def rcu(x, name):
        return conv(F.relu(conv(F.relu(x), name + '.conv1')),
                    name + '.conv2') + F.relu(x)

    torch.manual_seed(0)
    g1, g2, g3, g4 = [torch.randn(1, 256, s, s) for s in (8, 4, 2, 1)]
    up = dict(scale_factor=2, mode='bilinear', align_corners=True)
    x = F.interpolate(rcu(g4, 'path4.resConfUnit2'), **up)
    for level, skip in ((3, g3), (2, g2), (1, g1)):
        x = x + rcu(skip, f'path{level}.resConfUnit1')
        x = F.interpolate(rcu(x, f'path{level}.resConfUnit2'), **up)
    x = F.interpolate(conv(x, 'output_conv.0'), scale_factor=2,
                      mode='bilinear', align_corners=False)
    expected = conv(F.relu(conv(x, 'output_conv.2')), 'output_conv.4', 0)
    with torch.no_grad():
        logits = head([g1, g2, g3, g4])
    assert logits.shape == expected.shape == (1, 1, 32, 32)
    assert (logits - expected).abs().max() <= 1e-4 * expected.abs().max()


def test_tpavi_names_land_where_expected():
    state = listing_state('tpavi_r50_s4')
    out = tpavi_to_mmavs(state).state_dict
    pairs = {
        'conv1.conv2d_list.3.weight': 'neck.convs.0.convs.3.weight',
        'conv4.conv2d_list.0.bias': 'neck.convs.3.convs.0.bias',
        'tpavi_b1.theta.weight': 'neck.tpavi.0.theta.weight',
        'tpavi_b4.W_z.1.running_var': 'neck.tpavi.3.W_z.1.running_var',
        'path3.resConfUnit1.conv2.weight':
        'decode_head.path3.resConfUnit1.conv2.weight',
        'output_conv.2.weight': 'decode_head.output_conv.2.weight',
        'output_conv.4.bias': 'decode_head.conv_seg.bias',
        'resnet.layer3_1.5.bn3.weight': 'backbone.visual.layer3.5.bn3.weight',
        'resnet.layer4_1.0.downsample.0.weight':
        'backbone.visual.layer4.0.downsample.0.weight',
        'resnet.bn1.running_mean': 'backbone.visual.bn1.running_mean',
    }
    for src, dst in pairs.items():
        assert out[dst] is state[src], src


@pytest.mark.parametrize('listing', ['tpavi_pvt_avss', 'tpavi_r50_avss'])
def test_avss_layouts_map_but_are_71_class(listing):
    result = tpavi_to_mmavs(listing_state(listing))
    assert result.unknown == []
    assert result.info['num_classes'] == 71
    # AVSS's align_channel Linear has no bias.
    assert 'neck.tpavi.0.align_channel.bias' not in result.state_dict


def test_unknown_layout_is_refused():
    with pytest.raises(ValueError, match='not an AVSBench TPAVI checkpoint'):
        detect_tpavi_backbone({'backbone.conv1.weight': torch.zeros(1)})
