"""The VPO configs: base datasets (stereo / mono, CAVP augmentation, full
images at test, VPOMetric), the TPAVI and AVSegFormer VPO baselines and the
synthetic TPAVI main-job config; each trains one iteration through
tools/train.py on a tiny VPO tree made by the VPO builder."""
import glob
import os.path as osp
import subprocess
import sys

import pytest
from mmengine.config import Config

from conftest import small_model_options

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
BASE = osp.join(ROOT, 'configs', '_base_', 'datasets')
# The baselines; the CAVP and CPM VPO configs have their own tests.
VPO_CONFIGS = sorted(
    glob.glob(osp.join(ROOT, 'configs', 'tpavi', '*_vpo-*.py')) +
    glob.glob(osp.join(ROOT, 'configs', 'avsegformer', '*_vpo-*.py')))
SYNTHETIC = osp.join(ROOT, 'configs', 'tpavi',
                     'tpavi_r18-w32_1xb8-20e_synthetic-vpo-64x64.py')


def test_vpo_baseline_configs_exist():
    assert [osp.basename(c) for c in VPO_CONFIGS] == [
        f'{m}_vpo-{s}-512x512.py'
        for m in ('avsegformer_r50_1xb4-30e', 'tpavi_r50_1xb4-60e')
        for s in ('ms', 'msmi', 'ss')
    ]


@pytest.mark.parametrize('subset', ['ss', 'ms', 'msmi'])
@pytest.mark.parametrize('mono', [False, True])
def test_base_dataset_configs(subset, mono):
    name = f'vpo_{subset}{"_mono" if mono else ""}.py'
    cfg = Config.fromfile(osp.join(BASE, name))
    channels = 1 if mono else 2
    dataset_type = dict(ss='VPOSSDataset', ms='VPOMSDataset',
                        msmi='VPOMSMIDataset')[subset]
    train = cfg.train_dataloader.dataset
    assert train.type == dataset_type and train.split == 'train'
    assert train.audio_channels == channels
    assert [t.type for t in train.pipeline] == [
        'LoadAVSFrames', 'LoadVPOMask', 'LoadVPOAudio', 'VPORandomFlip',
        'AVSColorJitter', 'AVSSRandomScaleCrop', 'PackAVSInputs']
    audio, flip, jitter, crop = train.pipeline[2:6]
    assert audio.channels == channels and flip.prob == 0.5
    assert (jitter.brightness, jitter.contrast, jitter.saturation,
            jitter.hue) == (0.5, 0.5, 0.5, 0.25)
    assert crop.crop_size == (512, 512) and crop.flip_prob == 0.0
    assert crop.scales == (0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0)
    for loader, split in ((cfg.val_dataloader, 'val'),
                          (cfg.test_dataloader, 'test')):
        assert loader.batch_size == 1
        assert loader.dataset.split == split
        assert loader.dataset.type == dataset_type
        assert [t.type for t in loader.dataset.pipeline] == [
            'LoadAVSFrames', 'LoadVPOMask', 'LoadVPOAudio', 'PackAVSInputs']
        assert loader.dataset.pipeline[2].channels == channels
    assert cfg.test_evaluator == dict(type='VPOMetric', num_classes=22)


@pytest.mark.parametrize('config', VPO_CONFIGS + [SYNTHETIC],
                         ids=osp.basename)
def test_recipe(config):
    cfg = Config.fromfile(config)
    head = cfg.model.decode_head
    assert head.num_classes == head.out_channels == 22
    assert head.loss_decode.type == 'CrossEntropyLoss'
    assert not head.loss_decode.use_sigmoid
    backbone = cfg.model.backbone
    assert backbone.audio_frontend == dict(type='SpectrogramFrontEnd',
                                           num_frames=300)
    assert backbone.audio.type == 'AudioResNet'
    assert backbone.audio.depth == 18 and backbone.audio.in_channels == 2
    assert not backbone.audio.get('frozen', False)
    assert not backbone.get('cache_audio', False)
    assert cfg.test_evaluator.type == 'VPOMetric'
    assert cfg.default_hooks.checkpoint.save_best == 'mIoU_protoB'
    if config == SYNTHETIC:
        return
    assert cfg.train_dataloader.batch_size == 4
    assert backbone.visual.depth == 50
    if 'tpavi' in config:
        assert cfg.optim_wrapper.optimizer.type == 'Adam'
        assert cfg.train_cfg.max_epochs == 60
        assert cfg.model.auxiliary_loss.mode == 'semantic'
    else:
        assert cfg.optim_wrapper.optimizer.type == 'AdamW'
        assert cfg.train_cfg.max_epochs == 30


def vpo_data_options(root):
    options = []
    for loader in ('train', 'val', 'test'):
        prefix = f'{loader}_dataloader'
        options += [
            f'{prefix}.dataset.data_root={root}',
            f'{prefix}.batch_size=2', f'{prefix}.num_workers=0',
            f'{prefix}.persistent_workers=False'
        ]
    return options + ['train_dataloader.dataset.pipeline.5.crop_size=(64,64)']


def train_one_iteration(config, options, work_dir):
    options = options + [
        'model.backbone.audio.base_channels=8', 'train_cfg.max_epochs=1',
        'train_cfg.val_begin=1', 'default_hooks.logger.interval=1'
    ]
    result = subprocess.run(
        [sys.executable, 'tools/train.py', config, '--work-dir',
         str(work_dir), '--cfg-options', *options],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-3000:]
    assert 'mIoU_protoB' in log and 'FDR_protoB' in log
    assert glob.glob(str(work_dir / 'best_mIoU_protoB_epoch_1.pth'))
    return log


@pytest.mark.parametrize('config', VPO_CONFIGS, ids=osp.basename)
def test_one_training_iteration(config, vpo_config_root, tmp_path):
    options = vpo_data_options(vpo_config_root) + small_model_options(config)
    log = train_one_iteration(config, options, tmp_path)
    assert 'Epoch(train) [1][' in log or 'Epoch(train)  [1][' in log


def test_synthetic_config_generates_and_trains(tmp_path):
    data = tmp_path / 'syn'
    options = ['model.backbone.visual.base_channels=8',
               'model.neck.in_channels=[8,16,32,64]']
    for loader in ('train', 'val', 'test'):
        dataset = f'{loader}_dataloader.dataset'
        options += [f'{dataset}.data_root={data}',
                    f'{dataset}.synthetic.size=32',
                    f'{dataset}.synthetic.images.train=12',
                    f'{dataset}.synthetic.images.val=4']
    options.append('train_dataloader.dataset.pipeline.5.crop_size=(64,64)')
    train_one_iteration(SYNTHETIC, options, tmp_path / 'work')
    assert osp.isfile(data / 'synthetic_vpo_meta.json')
