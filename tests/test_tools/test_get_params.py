"""get_params.py counts every parameter once, per top-level module."""
import os.path as osp
import subprocess
import sys

import torch
from mmseg.registry import MODELS

from conftest import load_tool

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = 'configs/tpavi/tpavi_r18-w32_1xb4-13e_synthetic-ms3-512clips-64x64.py'


def test_rows_add_up_to_the_model():
    result = subprocess.run(
        [sys.executable, 'tools/analysis_tools/get_params.py', CONFIG],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = {line.split()[0]: [int(v.replace(',', ''))
                              for v in line.split()[1:]]
            for line in result.stdout.splitlines()
            if line.startswith(('backbone', 'neck', 'decode_head', 'total'))}
    assert list(rows) == ['backbone.visual', 'backbone.audio',
                          'backbone.audio_norm', 'neck', 'decode_head',
                          'total']
    assert rows['backbone.audio'][0] == 0  # frozen VGGish
    assert rows['backbone.audio_norm'] == [256, 256]

    get_params = load_tool('tools/analysis_tools/get_params.py')
    torch.manual_seed(0)
    model = MODELS.build(get_params.load_model_cfg(osp.join(ROOT, CONFIG)))
    params = list(model.parameters())
    assert rows['total'] == [
        sum(p.numel() for p in params if p.requires_grad),
        sum(p.numel() for p in params)]
