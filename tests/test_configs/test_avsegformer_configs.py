"""The AVSegFormer baseline configs and the Table VII head swap: recipe, one
training run through tools/train.py (shrunk backbones, tiny head)."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from conftest import data_options, small_model_options
from mmavs.utils.checkpoint import safe_torch_load
from test_diffavs_configs import train_one_epoch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# The AVSS configs are tested in test_avss_configs.py, the VPO ones in
# test_vpo_configs.py.
CONFIGS = sorted(c for c in glob.glob(osp.join(ROOT, 'configs', 'avsegformer',
                                               'avsegformer_*.py'))
                 if '_avss-' not in c and '_vpo-' not in c)
SWAPS = ['pvt_ms3_avsegformer-head.py', 'pvt_s4_avsegformer-head.py']


def test_eight_configs():
    names = [osp.basename(c) for c in CONFIGS]
    assert names == [
        f'avsegformer_{b}_1xb2-{r}-{s}.py' for b in ('pvtv2-b5', 'r50')
        for r in ('30e_s4', '60e_ms3') for s in ('224x224', '512x512')
    ]


@pytest.mark.parametrize('config', CONFIGS, ids=osp.basename)
def test_recipe(config):
    cfg = Config.fromfile(config)
    s4 = '_s4-' in config
    assert cfg.optim_wrapper.optimizer == dict(type='AdamW', lr=2e-5,
                                               weight_decay=0.01)
    assert cfg.train_dataloader.batch_size == 2
    assert cfg.train_cfg.max_epochs == (30 if s4 else 60)
    assert cfg.custom_hooks == [dict(type='FreezeModuleHook',
                                     epochs=5 if s4 else 10,
                                     module='backbone.visual')]
    assert cfg.find_unused_parameters
    assert cfg.model.neck is None
    assert cfg.model.decode_head.type == 'AVSegFormerHead'
    assert 'auxiliary_loss' not in cfg.model
    assert cfg.train_dataloader.dataset.type == (
        'AVSBenchS4Dataset' if s4 else 'AVSBenchMS3Dataset')
    resizes = {
        loader: [t for t in cfg[f'{loader}_dataloader'].dataset.pipeline
                 if t['type'] == 'ResizeAVSClip']
        for loader in ('train', 'val', 'test')
    }
    if config.endswith('224x224.py'):
        assert not any(resizes.values())
        return
    assert resizes['train'] == [dict(type='ResizeAVSClip', scale=(512, 512),
                                     resize_masks=True)]
    for loader in ('val', 'test'):
        assert resizes[loader] == [dict(type='ResizeAVSClip',
                                        scale=(512, 512),
                                        resize_masks=False)]
        assert cfg[f'{loader}_dataloader'].dataset.split == loader


@pytest.mark.parametrize('swap', SWAPS)
def test_head_swap_differs_in_the_head_only(swap):
    base = Config.fromfile(osp.join(ROOT, 'configs', 'diffavs',
                                    swap.replace('_avsegformer-head', '')))
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'diffavs', swap))
    base_dict, cfg_dict = base.to_dict(), cfg.to_dict()
    base_head = base_dict['model'].pop('decode_head')
    head = cfg_dict['model'].pop('decode_head')
    assert cfg_dict == base_dict
    assert base_head['type'] == 'AVSFPNHead'
    assert head == dict(type='AVSegFormerHead', in_channels=[128] * 4)


def run(path, avsbench_root, tmp_path, extra=()):
    options = data_options(avsbench_root) + small_model_options(path) + [
        'train_cfg.max_epochs=1', 'default_hooks.logger.interval=1', *extra
    ]
    log = train_one_epoch(path, tmp_path, options)
    assert 'loss_dice' in log and 'loss_mix' in log
    return log


@pytest.mark.parametrize('config', CONFIGS, ids=osp.basename)
def test_one_training_epoch(config, avsbench_root, tmp_path):
    # The 512 configs resize the 64x64 miniature frames to 96x96 here (the
    # recipe test checks their 512).
    resize = [f'{loader}_dataloader.dataset.pipeline.3.scale=(96,96)'
              for loader in ('train', 'val', 'test')
              ] if '512x512' in config else []
    log = run(osp.relpath(config, ROOT), avsbench_root, tmp_path, resize)
    assert 'Freezing backbone.visual' in log
    assert osp.isfile(tmp_path / 'best_mIoU_epoch_1.pth')


def test_backbone_is_frozen_then_trained(avsbench_root, tmp_path):
    """Three epochs, the backbone frozen for two: its weights do not move in
    epoch 2 (nor, by the same path, in epoch 1) and move in epoch 3, while
    the head trains throughout."""
    path = 'configs/avsegformer/avsegformer_r50_1xb2-60e_ms3-224x224.py'
    log = run(path, avsbench_root, tmp_path, [
        'train_cfg.max_epochs=3', 'custom_hooks.0.epochs=2',
        'default_hooks.checkpoint.max_keep_ckpts=3',
        'default_hooks.checkpoint.save_best=None'
    ])
    assert 'Unfreezing backbone.visual' in log

    def weights(epoch, prefix):
        state = safe_torch_load(str(tmp_path / f'epoch_{epoch}.pth'))[
            'state_dict']
        # BatchNorm statistics update in train mode, frozen or not.
        return {k: v for k, v in state.items() if k.startswith(prefix)
                and 'running_' not in k and 'num_batches' not in k}

    def changed(prefix, a, b):
        first, second = weights(a, prefix), weights(b, prefix)
        return [k for k in first if not torch.equal(first[k], second[k])]

    assert not changed('backbone.visual', 1, 2)
    assert changed('backbone.visual', 2, 3)
    assert changed('decode_head', 1, 2)


@pytest.mark.parametrize('swap', SWAPS)
def test_head_swap_trains(swap, avsbench_root, tmp_path):
    log = run(osp.join('configs', 'diffavs', swap), avsbench_root, tmp_path)
    assert 'loss_diff' in log and 'loss_contrastive' in log
