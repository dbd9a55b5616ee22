"""tools/model_converters/avsegformer2mmavs.py on reference-layout files.

The reference checkpoints are random state dicts with the names and shapes of
the AVSegFormer listing; the converted file must load strictly into the
AVSegFormer config's model with every tensor in its place. (The PVT mapping
is checked numerically in test_ckpt_convert.py, the channel mixer against
torch's attention in test_avsegformer_layers.py.)"""
import json
import os.path as osp

import pytest
import torch

from conftest import load_tool
from mmavs.utils import safe_torch_load
from reference_keys import (derive_avsegformer_r50_avss, listing_state,
                            load_listing, resnet50_entries)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(ROOT, 'tools', 'model_converters', 'avsegformer2mmavs.py')


@pytest.fixture(scope='module')
def tool():
    return load_tool(TOOL)


@pytest.fixture(scope='module')
def converted(tool, tmp_path_factory):
    folder = tmp_path_factory.mktemp('avsegformer')
    src = str(folder / 'AVSegFormer_pvt2_s4_best.pth')
    torch.save(listing_state('avsegformer_pvt_s4'), src)
    dst = str(folder / 'converted.pth')
    assert tool.main([src, dst]) == 0
    return src, dst


def test_pvt_checkpoint_loads_strictly(tool, converted, capsys):
    src, dst = converted
    saved = safe_torch_load(dst)
    assert saved['meta']['config'] == tool.DEFAULT_CONFIGS['pvtv2-b5']
    assert saved['meta']['dropped_unused'] == {
        'head.fpn.': [6, 1770240], 'head.attn_fc.': [5, 331968]}
    model = tool.build_model_without_weights(
        osp.join(ROOT, tool.DEFAULT_CONFIGS['pvtv2-b5']))
    model.load_state_dict(saved['state_dict'], strict=True)
    source = safe_torch_load(src)
    state = saved['state_dict']
    pairs = {
        'vggish.embeddings.4.weight': 'backbone.audio.embeddings.4.weight',
        'audio_proj.bias': 'decode_head.audio_proj.bias',
        'head.learnable_query.weight': 'decode_head.query_embed.weight',
        'head.fusion_block.kv_proj.weight':
        'decode_head.channel_mixer.kv_proj.weight',
        'head.fc.4.weight': 'decode_head.conv_seg.weight',
        'head.transformer.encoder.layers.5.self_attn.sampling_offsets.bias':
        'decode_head.encoder.layers.5.self_attn.sampling_offsets.bias',
        'head.query_generator.layers.2.ffn.2.weight':
        'decode_head.query_generator.layers.2.ffn.2.weight',
    }
    for ref, ours in pairs.items():
        assert torch.equal(source[ref], state[ours]), ref


def test_ms3_config_takes_the_same_file(tool, converted, tmp_path):
    src, _ = converted
    config = osp.join(ROOT, 'configs', 'avsegformer',
                      'avsegformer_pvtv2-b5_1xb2-60e_ms3-512x512.py')
    meta = tool.convert(src, str(tmp_path / 'ms3.pth'), config=config)
    assert meta['config'].endswith('ms3-512x512.py')


# The R50 listing is derived, not dumped (tests/checkpoint_keys/README.md).
AVSS_PAIRS = {
    'pvtv2-b5': {'head.fc.4.weight': 'decode_head.conv_seg.weight',
                 'head.in_proj.3.0.weight': 'decode_head.in_proj.3.0.weight'},
    'r50': {'head.fc.4.weight': 'decode_head.conv_seg.weight',
            'head.in_proj.3.0.weight': 'decode_head.in_proj.3.0.weight',
            'backbone.layer4.2.bn3.running_var':
            'backbone.visual.layer4.2.bn3.running_var',
            'backbone.layer3.0.downsample.0.weight':
            'backbone.visual.layer3.0.downsample.0.weight'},
}


@pytest.mark.parametrize('backbone, listing', [
    ('pvtv2-b5', 'avsegformer_pvt_avss'), ('r50', 'avsegformer_r50_avss')])
def test_avss_checkpoint_loads_strictly_into_the_avss_config(
        tool, tmp_path, backbone, listing):
    src = str(tmp_path / f'{listing}_best.pth')
    torch.save(listing_state(listing), src)
    dst = str(tmp_path / 'avss.pth')
    assert tool.main([src, dst]) == 0
    saved = safe_torch_load(dst)
    assert saved['meta']['config'] == tool.AVSS_CONFIGS[backbone]
    model = tool.build_model_without_weights(
        osp.join(ROOT, tool.AVSS_CONFIGS[backbone]))
    model.load_state_dict(saved['state_dict'], strict=True)
    assert model.decode_head.conv_seg.out_channels == 71
    source, state = safe_torch_load(src), saved['state_dict']
    for ref, ours in AVSS_PAIRS[backbone].items():
        assert torch.equal(source[ref], state[ours]), ref


def test_avss_checkpoint_with_an_s4_config_is_refused(tool, tmp_path, capsys):
    src = tmp_path / 'avss.pth'
    torch.save(listing_state('avsegformer_pvt_avss'), src)
    config = osp.join(ROOT, tool.DEFAULT_CONFIGS['pvtv2-b5'])
    assert tool.main([str(src), str(tmp_path / 'out.pth'), '--config',
                      config]) == 1
    err = capsys.readouterr().err
    assert 'AVSBench-Semantic (AVSS)' in err and 'head.fc.4' in err
    assert '_avss-224x224.py' in err
    assert not osp.exists(tmp_path / 'out.pth')


def test_foreign_or_damaged_checkpoints_are_refused(tool, tmp_path, capsys):
    state = listing_state('avsegformer_pvt_s4')
    state['head.extra.weight'] = torch.zeros(1)
    src = tmp_path / 'extra.pth'
    torch.save(state, src)
    assert tool.main([str(src), str(tmp_path / 'o.pth')]) == 1
    assert 'head.extra.weight' in capsys.readouterr().err
    del state['head.extra.weight']
    state['head.mlp.layers.0.weight'] = torch.zeros(2048, 100, 1, 1)
    torch.save(state, src)
    assert tool.main([str(src), str(tmp_path / 'o.pth')]) == 1
    err = capsys.readouterr().err
    assert 'decode_head.mlp.layers.0.weight' in err
    assert not osp.exists(tmp_path / 'o.pth')


# ------------------------------------- the ResNet-50 AVSS layout (derived)
def test_derived_r50_avss_listing_is_current():
    """The stored listing is what tests/reference_keys.py derives."""
    assert load_listing('avsegformer_r50_avss') == json.loads(
        json.dumps(derive_avsegformer_r50_avss()))


def test_resnet50_entries_match_the_dumped_tpavi_r50_listing():
    """The derivation's backbone part equals the ResNet-50 that the dumped
    TPAVI R50 listing holds (its first branch: layer3_1 / layer4_1)."""
    tpavi = load_listing('tpavi_r50_avss')

    def first_branch(entries):
        return [[n[len('resnet.'):].replace('layer3_1', 'layer3')
                 .replace('layer4_1', 'layer4'), s] for n, s in entries
                if n.startswith('resnet.') and '_2.' not in n]

    params, buffers = resnet50_entries()
    assert [list(e) for e in params] == first_branch(tpavi['params'])
    assert [list(e) for e in buffers] == first_branch(tpavi['buffers'])
