"""tools/model_converters/tpavi2mmavs.py on reference-layout checkpoints.

The reference checkpoints are random state dicts with the names and shapes of
the AVSBench listings; the converted file must load into the TPAVI config's
model strictly and run under ``tools/test.py``.
"""
import os.path as osp
import subprocess
import sys

import pytest
import torch

from conftest import data_options, load_tool
from mmavs.utils import safe_torch_load
from reference_keys import listing_state, load_listing, random_state

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(ROOT, 'tools', 'model_converters', 'tpavi2mmavs.py')


@pytest.fixture(scope='module')
def tool():
    return load_tool(TOOL)


@pytest.fixture(scope='module')
def vggish_file(tmp_path_factory):
    path = tmp_path_factory.mktemp('weights') / 'vggish-10086976.pth'
    torch.save(random_state(load_listing('vggish')['params'], seed=3), path)
    return str(path)


def save_reference(tmp_path, listing):
    path = tmp_path / f'{listing}_best.pth'
    torch.save(listing_state(listing), path)
    return str(path)


def test_pvt_s4_without_vggish(tool, tmp_path, capsys):
    src = save_reference(tmp_path, 'tpavi_pvt_s4')
    dst = str(tmp_path / 'converted.pth')
    assert tool.main([src, dst, '--no-vggish']) == 0
    out = capsys.readouterr().out
    assert 'dropped unused path4.resConfUnit1.*: 4 tensors' in out
    saved = safe_torch_load(dst)
    assert saved['meta']['vggish'] is None
    assert saved['meta']['config'] == tool.DEFAULT_CONFIGS['pvtv2-b5']
    keys = saved['state_dict'].keys()
    assert not any(k.startswith('backbone.audio.') for k in keys)
    # Reference entries - 4 unused; each block's q and kv (weight and bias)
    # become one in_proj weight and bias.
    num_blocks = sum(name.endswith('attn.q.weight')
                     for name, _ in load_listing('pvt_v2_b5')['params'])
    assert len(keys) == 1190 - 4 - 2 * num_blocks


def test_r50_ms3_with_vggish_runs_under_test_tool(tool, tmp_path, vggish_file,
                                                  avsbench_root):
    src = save_reference(tmp_path, 'tpavi_r50_ms3')
    dst = str(tmp_path / 'converted.pth')
    config = osp.join(ROOT, 'configs', 'tpavi',
                      'tpavi_r50_1xb4-30e_ms3-224x224.py')
    meta = tool.convert(src, dst, config=config, vggish=vggish_file)
    assert set(meta['dropped_unused']) == {
        'resnet.layer3_2.', 'resnet.layer4_2.', 'path4.resConfUnit1.'}
    saved = safe_torch_load(dst)['state_dict']
    vggish = safe_torch_load(vggish_file)
    assert torch.equal(saved['backbone.audio.embeddings.4.weight'],
                       vggish['embeddings.4.weight'])
    # The user's test command on the miniature tree (no pretrained files:
    # every weight comes from the converted checkpoint).
    options = data_options(avsbench_root) + [
        'model.backbone.visual.init_cfg=None',
        'model.backbone.audio.init_cfg=None'
    ]
    result = subprocess.run(
        [sys.executable, 'tools/test.py', config, dst, '--work-dir',
         str(tmp_path / 'work'), '--cfg-options', *options],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-3000:]
    assert 'missing keys' not in log and 'unexpected key' not in log
    assert 'mIoU' in log


@pytest.mark.parametrize('listing,backbone', [('tpavi_pvt_avss', 'pvtv2-b5'),
                                              ('tpavi_r50_avss', 'r50')])
def test_avss_checkpoints_load_strictly_into_the_avss_config(
        tool, tmp_path, listing, backbone):
    src = save_reference(tmp_path, listing)
    dst = str(tmp_path / 'converted.pth')
    assert tool.main([src, dst, '--no-vggish']) == 0
    saved = safe_torch_load(dst)
    assert saved['meta']['config'] == tool.AVSS_CONFIGS[backbone]
    model = tool.build_model_without_weights(
        osp.join(ROOT, tool.AVSS_CONFIGS[backbone]))
    missing, unexpected = model.load_state_dict(saved['state_dict'],
                                                strict=False)
    assert unexpected == []
    assert missing and all(k.startswith('backbone.audio.') for k in missing)
    source = safe_torch_load(src)
    state = saved['state_dict']
    # The 71-class classifier and the bias-free audio alignment.
    assert torch.equal(source['output_conv.4.weight'],
                       state['decode_head.conv_seg.weight'])
    assert torch.equal(source['tpavi_b3.align_channel.weight'],
                       state['neck.tpavi.2.align_channel.weight'])
    assert 'neck.tpavi.2.align_channel.bias' not in state


@pytest.mark.parametrize('config,listing', [
    ('tpavi_pvtv2-b5_1xb4-15e_s4-224x224.py', 'tpavi_pvt_avss'),
    ('tpavi_r50_1xb4-60e_avss-224x224.py', 'tpavi_r50_s4'),
])
def test_a_checkpoint_of_the_other_task_is_refused_clearly(
        tool, tmp_path, capsys, config, listing):
    src = save_reference(tmp_path, listing)
    assert tool.main([src, str(tmp_path / 'out.pth'), '--no-vggish',
                      '--config', osp.join(ROOT, 'configs', 'tpavi',
                                           config)]) == 1
    err = capsys.readouterr().err
    if 'avss' in listing:
        assert 'AVSBench-Semantic (AVSS)' in err and '71' in err
        assert '_avss-224x224.py' in err
    else:
        assert '1 channels' in err and 'predicts 71' in err
    assert not osp.exists(tmp_path / 'out.pth')


def test_missing_vggish_file_is_explained(tool, tmp_path, capsys):
    src = save_reference(tmp_path, 'tpavi_r50_s4')
    missing = str(tmp_path / 'vggish-10086976.pth')
    assert tool.main([src, str(tmp_path / 'out.pth'), '--vggish',
                      missing]) == 1
    err = capsys.readouterr().err
    assert missing in err and '--no-vggish' in err


def test_foreign_checkpoint_is_refused(tool, tmp_path, capsys):
    src = tmp_path / 'other.pth'
    torch.save({'encoder_backbone.patch_embed1.proj.weight':
                torch.zeros(64, 3, 7, 7), 'decoder.weight': torch.zeros(1)},
               src)
    assert tool.main([str(src), str(tmp_path / 'o.pth'), '--no-vggish']) == 1
    assert 'decoder.weight' in capsys.readouterr().err
