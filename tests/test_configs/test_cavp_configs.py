"""Every CAVP config keeps the recipe of cavp.md §4–7 and trains one
iteration through tools/train.py on a miniature tree with a shrunk model
(VPO, AVSS and AVSBench trees)."""
import glob
import os.path as osp
import subprocess
import sys

import pytest
from mmengine.config import Config

from conftest import avss_data_options, data_options

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CAVP_CONFIGS = sorted(glob.glob(osp.join(ROOT, 'configs', 'cavp', '*.py')))
NAMES = [osp.basename(c) for c in CAVP_CONFIGS]

# A CAVP of a few thousand weights: ResNetV1c-18 of width 8, a 24-channel
# fused map, a tiny audio ResNet in place of the audio net (the VGGish-shaped
# net would make 0.9 GB checkpoints; it is tested in test_vggish.py).
TINY_CAVP = [
    'model.backbone.visual.depth=18',
    'model.backbone.visual.base_channels=8',
    'model.backbone.visual.stem_channels=8',
    'model.backbone.visual.multi_grid=(2,4)',
    'model.backbone.visual.init_cfg=None',
    'model.backbone.audio.init_cfg=None',
    'model.backbone.audio.out_channels=24',
    'model.backbone.audio_channels=24',
    'model.neck.decoder.in_channels=(8,64)',
    'model.neck.decoder.aspp_channels=16',
    'model.neck.decoder.low_level_channels=8',
    'model.neck.fusion.channels=24',
    'model.neck.fusion.audio_channels=24',
    'model.neck.fusion.projector_channels=16',
    'model.decode_head.in_channels=24',
    'model.decode_head.channels=16',
    'model.auxiliary_loss.num_samples=4',
]
# Replaces the VGGish-shaped net (keys type, frozen, out_channels, init_cfg
# all fit AudioResNet).
TINY_AUDIO_RESNET = [
    'model.backbone.audio.type=AudioResNet',
    'model.backbone.audio.base_channels=4',
    'model.backbone.audio.stem_channels=4',
]
RUN_OPTIONS = ['train_cfg.max_epochs=1', 'train_cfg.val_begin=1',
               'train_cfg.val_interval=1', 'default_hooks.logger.interval=1',
               'randomness.seed=0']


def test_config_names():
    assert NAMES == [
        'cavp_r18-w16_1xb8-20e_synthetic-vpo-64x64.py',
        'cavp_r50_1xb16-60e_ms3-224x224.py',
        'cavp_r50_1xb16-60e_s4-224x224.py',
        'cavp_r50_1xb16-80e_avss-512x512.py',
        'cavp_r50_1xb16-80e_vpo-ms-512x512.py',
        'cavp_r50_1xb16-80e_vpo-msmi-512x512.py',
        'cavp_r50_1xb16-80e_vpo-msmi-mono-512x512.py',
        'cavp_r50_1xb16-80e_vpo-ss-512x512.py',
        'tpavi-cavp-loss_r18-w32_1xb8-20e_synthetic-vpo-64x64.py',
        'tpavi-cavp-loss_r50_1xb4-60e_vpo-ms-512x512.py',
    ]


def _load(name):
    return Config.fromfile(osp.join(ROOT, 'configs', 'cavp', name))


@pytest.mark.parametrize('name', [n for n in NAMES
                                  if n.startswith('cavp_r50')])
def test_cavp_recipe(name):
    cfg = _load(name)
    model = cfg.model
    visual = model.backbone.visual
    assert visual.type == 'ResNetV1c' and visual.depth == 50
    assert visual.multi_grid == (2, 4, 8)
    vpo = 'vpo' in name
    # Output stride 8 on VPO, 16 on AVSS / AVSBench.
    assert visual.strides == ((1, 2, 1, 1) if vpo else (1, 2, 2, 1))
    assert model.neck.type == 'CAVPNeck'
    assert model.neck.fusion.channels == 304
    assert model.neck.fusion.num_heads == 4
    assert model.neck.decoder.dilations == (6, 12, 18)
    classes = 22 if vpo else 71 if 'avss' in name else 2
    head = model.decode_head
    assert head.type == 'CAVPHead'
    assert head.num_classes == head.out_channels == classes
    assert head.loss_decode.use_sigmoid is False
    loss = model.auxiliary_loss
    assert loss.type == 'CAVPContrastiveLoss'
    assert (loss.num_classes, loss.temperature, loss.num_samples,
            loss.loss_weight) == (classes, 0.1, 512, 1.0)
    audio = model.backbone.audio
    if vpo:
        assert audio.type == 'AudioResNet' and audio.pool == 'max'
        assert audio.in_channels == (1 if 'mono' in name else 2)
        assert model.backbone.audio_frontend.num_frames == 300
    else:
        assert audio.type == 'VGGish' and audio.frozen is False
        assert audio.out_channels == 304
        assert model.backbone.audio_frontend.num_frames == 96
    assert audio.out_channels == 304
    main = cfg.optim_wrapper.main
    assert cfg.optim_wrapper.constructor == 'AVSMultiOptimWrapperConstructor'
    assert main.optimizer.type == 'SGD' and main.optimizer.lr == 1e-3
    assert main.optimizer.momentum == 0.9
    assert main.optimizer.weight_decay == (5e-4 if vpo else 1e-4)
    assert main.paramwise_cfg.module_lr_mult == {'neck.decoder': 10.0,
                                                 'decode_head': 10.0}
    assert main.paramwise_cfg.bias_decay_mult == 0.0
    assert main.paramwise_cfg.norm_decay_mult == 0.0
    assert cfg.optim_wrapper.audio.optimizer == dict(
        type='Adam', lr=1e-3, weight_decay=0.0)
    assert cfg.optim_wrapper.audio.modules == ['backbone.audio']
    epochs = 60 if ('s4' in name or 'ms3' in name) else 80
    assert cfg.train_cfg.max_epochs == epochs
    poly, = cfg.param_scheduler.main
    assert (poly.type, poly.power, poly.eta_min, poly.end) == (
        'PolyLR', 0.9, 1e-8, epochs)
    assert poly.convert_to_iter_based
    assert cfg.param_scheduler.audio == []
    assert cfg.train_dataloader.batch_size == 16
    if not vpo:
        assert cfg.train_dataloader.dataset.sample_frames == 'one_annotated'


def test_tpavi_plus_cavp_loss_is_a_config():
    cfg = _load('tpavi-cavp-loss_r50_1xb4-60e_vpo-ms-512x512.py')
    base = Config.fromfile(
        osp.join(ROOT, 'configs', 'tpavi',
                 'tpavi_r50_1xb4-60e_vpo-ms-512x512.py'))
    assert cfg.model.neck == base.model.neck
    assert cfg.model.auxiliary_loss.type == 'CAVPContrastiveLoss'
    assert cfg.model.auxiliary_loss.embed_level == 0


def _train_one_iteration(config, options, tmp_path):
    result = subprocess.run(
        [sys.executable, 'tools/train.py', config, '--work-dir',
         str(tmp_path), '--cfg-options', *options, *RUN_OPTIONS],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-3000:]
    assert 'loss_cavp' in log
    if osp.basename(config).startswith('cavp'):
        # Two optimisers, each with its learning rate in the log.
        assert 'main.lr' in log and 'audio.lr' in log
    return log


def test_avss_one_training_iteration(avss_root, tmp_path):
    config = osp.join(ROOT, 'configs', 'cavp',
                      'cavp_r50_1xb16-80e_avss-512x512.py')
    options = [o for o in avss_data_options(avss_root)
               if '.pipeline.2.size' not in o]
    options += ['train_dataloader.dataset.pipeline.2.crop_size=(32,32)',
                'train_dataloader.batch_size=2',
                'model.decode_head.num_classes=71'] + TINY_CAVP + \
        TINY_AUDIO_RESNET
    log = _train_one_iteration(config, options, tmp_path)
    assert 'mIoU_protoB' in log


@pytest.mark.parametrize('name', ['cavp_r50_1xb16-60e_s4-224x224.py',
                                  'cavp_r50_1xb16-60e_ms3-224x224.py'])
def test_avsbench_one_training_iteration(name, avsbench_root, tmp_path):
    config = osp.join(ROOT, 'configs', 'cavp', name)
    options = data_options(avsbench_root) + TINY_CAVP + TINY_AUDIO_RESNET
    log = _train_one_iteration(config, options, tmp_path)
    assert 'mIoU_protoB' in log


def _loaders(options):
    for loader in ('train', 'val', 'test'):
        prefix = f'{loader}_dataloader'
        options += [f'{prefix}.num_workers=0',
                    f'{prefix}.persistent_workers=False']
    # Two images per batch, none left alone (a batch of one trips the BN1d
    # audio norm of the TPAVI VPO configs).
    return options + ['train_dataloader.batch_size=2',
                      'train_dataloader.drop_last=True']


# The TPAVI R50 VPO baseline, shrunk (ResNet-18 of width 8, 16 channels).
TINY_TPAVI = [
    'model.backbone.visual.depth=18', 'model.backbone.visual.base_channels=8',
    'model.backbone.visual.init_cfg=None',
    'model.neck.in_channels=[8,16,32,64]', 'model.neck.channels=16',
    'model.decode_head.in_channels=[16,16,16,16]',
    'model.decode_head.channels=16',
    'model.backbone.audio.base_channels=4',
    'model.backbone.audio.stem_channels=4',
    'model.auxiliary_loss.num_samples=4',
]


@pytest.mark.parametrize('name', [n for n in NAMES if 'vpo' in n])
def test_vpo_one_training_iteration(name, tmp_path, vpo_config_root):
    config = osp.join(ROOT, 'configs', 'cavp', name)
    options = _loaders([])
    if 'synthetic' in name:
        data = str(tmp_path / 'data')
        for loader in ('train', 'val', 'test'):
            options += [
                f'{loader}_dataloader.dataset.data_root={data}',
                f'{loader}_dataloader.dataset.synthetic.images.train=8',
                f'{loader}_dataloader.dataset.synthetic.images.val=2',
            ]
        options += ['model.auxiliary_loss.num_samples=4']
        if name.startswith('tpavi'):
            options += ['model.backbone.visual.base_channels=8',
                        'model.neck.in_channels=[8,16,32,64]']
    else:
        # The released layout, as the VPO builder writes it; 32x32 images,
        # a 32 crop.
        for loader in ('train', 'val', 'test'):
            options.append(
                f'{loader}_dataloader.dataset.data_root={vpo_config_root}')
        options.append('train_dataloader.dataset.pipeline.5.crop_size=(32,32)')
        options += TINY_TPAVI if name.startswith('tpavi') else \
            TINY_CAVP + ['model.backbone.audio.base_channels=4',
                         'model.backbone.audio.stem_channels=4']
    log = _train_one_iteration(config, options, tmp_path / 'work')
    assert 'mIoU_protoB' in log and 'FDR_protoB' in log
