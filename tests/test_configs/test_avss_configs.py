"""Every AVSS config (TPAVI, AVSegFormer, DiffusionAVS; PVTv2-b5 and R50)
keeps its reference recipe and trains one iteration through tools/train.py
on the miniature AVSS tree with shrunk backbones."""
import glob
import os.path as osp
import subprocess
import sys

import pytest
from mmengine.config import Config

from conftest import avss_data_options, small_model_options

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# The CPM family has its own recipe and tests (test_cpm_configs.py).
AVSS_CONFIGS = sorted(
    c for c in glob.glob(osp.join(ROOT, 'configs', '*', '*_avss-224x224.py'))
    if osp.basename(osp.dirname(c)) != 'cpm')


def test_six_avss_configs_exist():
    assert [osp.basename(c) for c in AVSS_CONFIGS] == [
        'avsegformer_pvtv2-b5_1xb4-30e_avss-224x224.py',
        'avsegformer_r50_1xb4-30e_avss-224x224.py',
        'diffavs_pvtv2-b5_1xb4-60e_avss-224x224.py',
        'diffavs_r50_1xb4-60e_avss-224x224.py',
        'tpavi_pvtv2-b5_1xb4-60e_avss-224x224.py',
        'tpavi_r50_1xb4-60e_avss-224x224.py',
    ]


@pytest.mark.parametrize('config', AVSS_CONFIGS, ids=osp.basename)
def test_recipe(config):
    cfg = Config.fromfile(config)
    name = osp.basename(config)
    head = cfg.model.decode_head
    assert head.num_classes == head.out_channels == 71
    assert head.loss_decode == dict(type='CrossEntropyLoss',
                                    use_sigmoid=False, avg_non_ignore=True,
                                    loss_weight=1.0)
    assert cfg.train_dataloader.batch_size == 4
    assert cfg.train_dataloader.dataset.type == 'AVSSDataset'
    assert cfg.train_dataloader.dataset.sample_frames == 'all'
    assert cfg.val_evaluator.type == 'AVSSMetric'
    assert not cfg.get('custom_hooks')  # no backbone freezing
    if name.startswith('avsegformer'):
        assert cfg.optim_wrapper.optimizer == dict(type='AdamW', lr=2e-5,
                                                   weight_decay=0.01)
        assert cfg.train_cfg.max_epochs == 30
        assert head.mix_loss.foreground == 'nonzero'
        assert head.mix_loss.loss_weight == 0.1
        return
    assert cfg.optim_wrapper.optimizer == dict(type='Adam', lr=1e-4,
                                               weight_decay=0.0)
    assert cfg.train_cfg.max_epochs == 60
    if name.startswith('tpavi'):
        assert cfg.model.neck.align_bias is False
        assert cfg.model.auxiliary_loss == dict(
            type='AVMatchingLoss', loss_weight=0.5, mode='semantic')
    else:
        assert cfg.model.neck.fusion.align_bias is False
        assert cfg.model.neck.mask_classes == 71


@pytest.mark.parametrize('config', AVSS_CONFIGS, ids=osp.basename)
def test_one_training_iteration(config, avss_root, tmp_path):
    options = avss_data_options(avss_root) + small_model_options(config) + [
        'train_cfg.max_epochs=1', 'train_cfg.val_begin=1',
        'default_hooks.logger.interval=1'
    ]
    result = subprocess.run(
        [sys.executable, 'tools/train.py', config, '--work-dir',
         str(tmp_path), '--cfg-options', *options],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-3000:]
    assert 'Epoch(train) [1][1/1]' in log or 'Epoch(train)  [1][1/1]' in log
    assert 'mIoU' in log and 'mIoU_protoB' in log
    assert glob.glob(str(tmp_path / 'best_mIoU_epoch_1.pth'))


@pytest.mark.parametrize('config', [
    'tpavi/tpavi_r18-w32_1xb4-13e_synthetic-avss-64x64.py',
    'diffavs/diffavs_r18-w32_1xb4-13e_synthetic-avss-64x64.py'
])
def test_semantic_main_job_configs_build(config):
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    cfg = Config.fromfile(osp.join(ROOT, 'configs', config))
    for loader in ('train', 'val', 'test'):
        dataset = cfg[f'{loader}_dataloader'].dataset
        assert dataset.type == 'SyntheticAVSSDataset'
        assert dataset.split == loader
        assert dataset.synthetic.clips.v2.train == 256
    assert cfg.test_evaluator.type == 'AVSSMetric'
    init_default_scope('mmseg')
    model = MODELS.build(cfg.model)
    assert model.decode_head.conv_seg.out_channels == 71
    tpavi = getattr(model.neck, 'fusion', model.neck)
    assert tpavi.tpavi['0'].align_channel.bias is None
    if 'diffavs' in config:
        assert model.neck.mask_classes == 71


def test_dataset_protocols():
    """The 224 protocol (train crop / test resize) and the original-
    resolution one (one annotated frame, scale + 512 crop; full frames,
    batch 1) of avss.md §4."""
    base = osp.join(ROOT, 'configs', '_base_', 'datasets')
    cfg = Config.fromfile(osp.join(base, 'avss_224x224.py'))
    resize = [t for t in cfg.train_dataloader.dataset.pipeline
              if t.type == 'AVSSResize224']
    assert resize == [dict(type='AVSSResize224', mode='train')]
    assert dict(type='AVSSResize224', mode='test') in \
        cfg.test_dataloader.dataset.pipeline
    cfg = Config.fromfile(osp.join(base, 'avss_original-res.py'))
    train = cfg.train_dataloader.dataset
    assert train.sample_frames == 'one_annotated'
    crop, = [t for t in train.pipeline if t.type == 'AVSSRandomScaleCrop']
    assert crop.crop_size == (512, 512) and crop.scales == (0.5, 0.75, 1.0)
    for loader in (cfg.val_dataloader, cfg.test_dataloader):
        assert loader.batch_size == 1
        assert [t.type for t in loader.dataset.pipeline] == [
            'LoadAVSFrames', 'LoadAVSSColorMask', 'LoadAVSSAudio',
            'PackAVSInputs']
    assert cfg.test_dataloader.dataset.split == 'test'
