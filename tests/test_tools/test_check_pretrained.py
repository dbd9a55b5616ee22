"""tools/misc/check_pretrained.py on a config with a tiny PVTv2 file."""
import os.path as osp

import pytest
import torch

from conftest import load_tool
from reference_keys import pvtv2_entries, random_state

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(ROOT, 'tools', 'misc', 'check_pretrained.py')
CONFIG = '''
model = dict(
    type='AudioVisualBackbone',
    visual=dict(type='MixVisionTransformer', embed_dims=8,
                num_layers=[1, 1, 1, 1], num_heads=[1, 2, 3, 4],
                init_cfg=dict(type='PretrainedPVTv2', checkpoint={path!r})),
    audio=dict(type='VGGish', init_cfg=None))
'''


@pytest.fixture(scope='module')
def tool():
    return load_tool(TOOL)


def write(tmp_path, dims):
    weights = tmp_path / 'pvt_v2_tiny.pth'
    torch.save(random_state(pvtv2_entries(dims, [1, 1, 1, 1], [8, 4, 2, 1],
                                          num_classes=10)), weights)
    config = tmp_path / 'config.py'
    config.write_text(CONFIG.format(path=str(weights)))
    return str(config), str(weights)


def test_fitting_file_is_listed(tool, tmp_path, capsys):
    config, weights = write(tmp_path, [8, 16, 24, 32])
    assert tool.main([config]) == 0
    out = capsys.readouterr().out
    assert f'OK  {weights}  ->  model.visual (MixVisionTransformer' in out


def test_wrong_file_fails(tool, tmp_path, capsys):
    config, weights = write(tmp_path, [16, 32, 48, 64])
    assert tool.main([config]) == 1
    err = capsys.readouterr().err
    assert weights in err and 'shape mismatches' in err
