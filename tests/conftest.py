"""Shared fixtures: a miniature AVSBench tree in the released layout, and
--cfg-options that shrink a real config to run on it in seconds."""
import os.path as osp

import pytest

from mmavs.datasets.synthetic_avsbench import make_synthetic_avsbench

MINI_SPLITS = dict(train=3, val=2, test=2)
MINI_FRAMES = 2
MINI_SIZE = 64


def make_mini_tree(root, audio_format='pkl'):
    """Two-frame 64x64 S4 and MS3 trees; audio as AVSBench's pickled tensors."""
    return make_synthetic_avsbench(
        str(root), seed=1, size=MINI_SIZE, num_frames=MINI_FRAMES,
        s4_clips=MINI_SPLITS, ms3_clips=MINI_SPLITS, audio_format=audio_format)


@pytest.fixture(scope='session')
def avsbench_root(tmp_path_factory):
    """A read-only miniature AVSBench root shared by the session's tests."""
    root = tmp_path_factory.mktemp('avsbench')
    make_mini_tree(root)
    return str(root)


@pytest.fixture
def avsbench_copy(tmp_path):
    """A fresh miniature AVSBench root that a test may damage."""
    make_mini_tree(tmp_path)
    return str(tmp_path)


# Heavy visual backbones, shrunk (channels of each level follow).
SHRINK = {
    'pvtv2-b5': [
        'model.backbone.visual.embed_dims=8',
        'model.backbone.visual.num_layers=[1,1,1,1]',
        'model.neck.in_channels=[8,16,40,64]',
    ],
    'r50': [
        'model.backbone.visual.depth=18',
        'model.backbone.visual.base_channels=8',
        'model.neck.in_channels=[8,16,32,64]',
    ],
}


def data_options(root):
    """Point every dataloader of a config at the miniature tree."""
    options = []
    for loader in ('train', 'val', 'test'):
        prefix = f'{loader}_dataloader'
        options += [
            f'{prefix}.dataset.data_root={root}',
            f'{prefix}.dataset.num_frames={MINI_FRAMES}',
            f'{prefix}.batch_size=2', f'{prefix}.num_workers=0',
            f'{prefix}.persistent_workers=False'
        ]
    return options


def small_model_options(config):
    """Shrink a TPAVI / DiffusionAVS config's model to a few thousand weights."""
    backbone = 'r50' if 'r50' in osp.basename(config) else 'pvtv2-b5'
    options = SHRINK[backbone] + [
        'model.backbone.visual.init_cfg=None',
        'model.backbone.audio.init_cfg=None',
        'model.neck.channels=16', 'model.decode_head.channels=16',
        'model.decode_head.in_channels=[16,16,16,16]'
    ]
    if 'diffavs' in config:
        # The fusion neck sits inside the latent neck.
        options = [o.replace('model.neck.in_channels',
                             'model.neck.fusion.in_channels')
                   for o in options] + ['model.neck.fusion.channels=16']
    return options


# Inference tests: the synthetic TPAVI config with a narrow ResNet-18, random
# weights saved as a checkpoint (VGGish keeps its size: ~290 MB on disk).
TINY_TPAVI_CONFIG = 'configs/tpavi/tpavi_r18_1xb4-20e_synthetic-ms3-64x64.py'
TINY_TPAVI_OPTIONS = {
    'model.backbone.visual.base_channels': 8,
    'model.neck.in_channels': [8, 16, 32, 64],
}


@pytest.fixture(scope='session')
def tiny_tpavi(tmp_path_factory):
    """``dict(config, options, checkpoint)`` of a tiny random TPAVI model."""
    import os.path as osp

    import torch
    from mmengine.config import Config

    from mmavs.apis import init_avs_model
    root = osp.dirname(osp.dirname(osp.abspath(__file__)))
    config = osp.join(root, TINY_TPAVI_CONFIG)
    cfg = Config.fromfile(config)
    cfg.merge_from_dict(TINY_TPAVI_OPTIONS)
    torch.manual_seed(0)
    model = init_avs_model(cfg)
    # Random logits stay within 0.05 of zero: spread them so that masks hold
    # both values and comparisons of masks mean something.
    model.decode_head.conv_seg.weight.data.mul_(100)
    checkpoint = str(tmp_path_factory.mktemp('tiny_tpavi') / 'tiny.pth')
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, checkpoint)
    return dict(config=config, options=dict(TINY_TPAVI_OPTIONS),
                checkpoint=checkpoint)
