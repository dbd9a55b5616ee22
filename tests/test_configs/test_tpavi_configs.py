"""Every TPAVI config trains one iteration through tools/train.py.

Heavy backbones are shrunk with --cfg-options, as a user would to try a
config on a laptop; the data is the miniature AVSBench tree.
"""
import glob
import os.path as osp
import subprocess
import sys

import pytest
from mmengine.config import Config

from conftest import data_options, small_model_options

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# The mmpretrain-backbone configs (optional dependency) are tested in
# tests/test_models/test_backbones/test_mmpretrain_backbones.py.
MMPRETRAIN_BACKBONES = ('_convnext-', '_swin-')
TPAVI_CONFIGS = sorted(
    c for c in glob.glob(
        osp.join(ROOT, 'configs', 'tpavi', 'tpavi_*224x224.py'))
    if not any(k in osp.basename(c) for k in MMPRETRAIN_BACKBONES))


def test_four_tpavi_configs_exist():
    names = [osp.basename(c) for c in TPAVI_CONFIGS]
    assert names == [
        'tpavi_pvtv2-b5_1xb4-15e_s4-224x224.py',
        'tpavi_pvtv2-b5_1xb4-30e_ms3-224x224.py',
        'tpavi_r50_1xb4-15e_s4-224x224.py',
        'tpavi_r50_1xb4-30e_ms3-224x224.py',
    ]


@pytest.mark.parametrize('config', TPAVI_CONFIGS, ids=osp.basename)
def test_recipe(config):
    cfg = Config.fromfile(config)
    assert cfg.optim_wrapper.optimizer == dict(
        type='Adam', lr=1e-4, weight_decay=0.0)
    assert cfg.train_dataloader.batch_size == 4
    assert cfg.train_cfg.max_epochs == (15 if '_s4-' in config else 30)
    assert cfg.train_cfg.val_interval == 1
    assert cfg.default_hooks.checkpoint.save_best == 'mIoU'
    assert cfg.model.neck.channels == 256
    has_matching_loss = cfg.model.get('auxiliary_loss') is not None
    assert has_matching_loss == ('_ms3-' in config)


@pytest.mark.parametrize('config', TPAVI_CONFIGS, ids=osp.basename)
def test_one_training_iteration(config, avsbench_root, tmp_path):
    options = data_options(avsbench_root) + small_model_options(config) + [
        'train_cfg.max_epochs=1', 'default_hooks.logger.interval=1'
    ]
    result = subprocess.run(
        [sys.executable, 'tools/train.py', config, '--work-dir',
         str(tmp_path), '--cfg-options', *options],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-3000:]
    assert 'Epoch(train) [1][1/2]' in log or 'Epoch(train)  [1][1/2]' in log
    assert 'mIoU' in log
    assert glob.glob(str(tmp_path / 'best_mIoU_epoch_1.pth'))


def test_missing_pretrained_weights_fail_early(avsbench_root, tmp_path):
    config = TPAVI_CONFIGS[0]
    result = subprocess.run(
        [sys.executable, 'tools/train.py', config, '--work-dir',
         str(tmp_path), '--cfg-options', *data_options(avsbench_root)],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert 'pretrained weights not found: pretrained/pvt_v2_b5.pth' in \
        result.stderr
    assert 'docs/en/pretrained_weights.md' in result.stderr
    assert 'model.backbone.visual.init_cfg=None' in result.stderr


@pytest.mark.parametrize('config', [
    'tpavi/tpavi_r18-w32_1xb4-13e_synthetic-ms3-512clips-64x64.py',
    'diffavs/diffavs_r18-w32_1xb4-13e_synthetic-ms3-512clips-64x64.py'
])
def test_main_job_configs_build(config):
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    cfg = Config.fromfile(osp.join(ROOT, 'configs', config))
    synthetic = cfg.train_dataloader.dataset.synthetic
    assert synthetic.ms3_clips.train == 512 and synthetic.s4_clips == {}
    assert cfg.train_dataloader.dataset.data_root != \
        'data/synthetic_avsbench'
    init_default_scope('mmseg')
    model = MODELS.build(cfg.model)
    tpavi = getattr(model.neck, 'fusion', model.neck)
    assert tpavi.convs[0].convs[0].dilation == (1, 1)
    assert model.backbone.audio_norm is not None
    assert len(model.decode_head.loss_decode) == 2
    assert len(model.auxiliary_loss) == 0
    # The TPAVI learning-rate multiplier reaches the blocks in either model.
    key, = cfg.optim_wrapper.paramwise_cfg.custom_keys
    names = [n for n, _ in model.named_parameters() if '.tpavi.' in n]
    assert names and all(key in n for n in names)
