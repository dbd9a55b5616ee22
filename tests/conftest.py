"""Shared fixtures: a miniature AVSBench tree in the released layout, and
--cfg-options that shrink a real config to run on it in seconds."""
import importlib.util
import os.path as osp

import pytest

from mmavs.data_tools.synthetic_avsbench import make_synthetic_avsbench
from mmavs.data_tools.synthetic_avss import make_synthetic_avss
from mmavs.data_tools.synthetic_vpo import make_synthetic_vpo

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
MINI_SPLITS = dict(train=3, val=2, test=2)
MINI_FRAMES = 2
MINI_SIZE = 64


def load_tool(path):
    """Import a repository script (``tools/...py``, ``demo/...py``, or an
    absolute path) as a module, for in-process checks of its functions."""
    name = 'mmavs_tool_' + osp.splitext(osp.basename(path))[0]
    spec = importlib.util.spec_from_file_location(
        name, osp.join(REPO_ROOT, path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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


# A miniature AVSS tree: 5-frame v1s / v1m and 10-frame v2 clips, 32x32.
MINI_AVSS_CLIPS = dict(
    v1s=dict(train=1, test=1), v1m=dict(test=1), v2=dict(train=1, test=1))
MINI_AVSS_SIZE = 32


def make_mini_avss(root):
    return make_synthetic_avss(str(root), seed=3, size=MINI_AVSS_SIZE,
                               clips=MINI_AVSS_CLIPS)


@pytest.fixture(scope='session')
def avss_root(tmp_path_factory):
    """A miniature AVSS root shared by the session's tests (not to damage;
    the audio loader may write its .npy cache into it)."""
    root = tmp_path_factory.mktemp('avss')
    make_mini_avss(root)
    return str(root)


@pytest.fixture
def avss_copy(tmp_path):
    """A fresh miniature AVSS root that a test may damage."""
    make_mini_avss(tmp_path)
    return str(tmp_path)


@pytest.fixture(scope='session')
def vpo_config_root(tmp_path_factory):
    """A read-only miniature VPO tree (all three subsets, stereo, 32x32,
    12 training / 4 validation images), written by the VPO builder from
    synthetic images and sounds; the config tests train on it."""
    root = str(tmp_path_factory.mktemp('vpo'))
    make_synthetic_vpo(root, seed=1, size=32, images=dict(train=12, val=4))
    return root


# Heavy visual backbones, shrunk, and the channels of their four levels.
SHRINK = {
    'pvtv2-b5': [
        'model.backbone.visual.embed_dims=8',
        'model.backbone.visual.num_layers=[1,1,1,1]',
    ],
    'r50': [
        'model.backbone.visual.depth=18',
        'model.backbone.visual.base_channels=8',
    ],
}
SHRUNK_LEVELS = {'pvtv2-b5': '[8,16,40,64]', 'r50': '[8,16,32,64]'}
# The AVSegFormer head at one layer per stack and 32 channels.
TINY_AVSEGFORMER_HEAD_ARGS = dict(
    embed_dims=32, num_queries=4, num_heads=4, num_points=2,
    num_encoder_layers=1, num_decoder_layers=1, num_query_layers=1,
    ffn_dims=32, query_ffn_dims=16, mlp_channels=16, num_groups=8)
TINY_AVSEGFORMER_HEAD = [
    f'model.decode_head.{key}={value}'
    for key, value in TINY_AVSEGFORMER_HEAD_ARGS.items()
]


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
    """Shrink a TPAVI / DiffusionAVS / AVSegFormer config's model to a few
    thousand weights (the frozen VGGish keeps its size)."""
    name = osp.basename(config)
    backbone = 'r50' if 'r50' in name else 'pvtv2-b5'
    levels = SHRUNK_LEVELS[backbone]
    options = SHRINK[backbone] + [
        'model.backbone.visual.init_cfg=None',
        'model.backbone.audio.init_cfg=None',
    ]
    if name.startswith('avsegformer'):
        # No neck: the head reads the backbone's levels.
        return options + [f'model.decode_head.in_channels={levels}'
                          ] + TINY_AVSEGFORMER_HEAD
    # The fusion neck of DiffusionAVS sits inside the latent neck.
    # Judged inside the repository, whatever the checkout's folder is named.
    is_diffavs = osp.relpath(osp.join(REPO_ROOT, config),
                             REPO_ROOT).startswith('configs/diffavs')
    fusion = 'model.neck.fusion' if is_diffavs else 'model.neck'
    options += [f'{fusion}.in_channels={levels}', f'{fusion}.channels=16',
                'model.decode_head.in_channels=[16,16,16,16]']
    if is_diffavs:
        options.append('model.neck.channels=16')
    if 'avsegformer-head' in name:
        return options + TINY_AVSEGFORMER_HEAD
    return options + ['model.decode_head.channels=16']


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


def avss_data_options(root, size=64):
    """Point every dataloader of an AVSS config at the miniature AVSS tree
    (it has no val split: validate on test), with the 224 protocol's
    resize shrunk to ``size``."""
    options = []
    for loader, split in (('train', 'train'), ('val', 'test'),
                          ('test', 'test')):
        prefix = f'{loader}_dataloader'
        options += [
            f'{prefix}.dataset.data_root={root}',
            f'{prefix}.dataset.split={split}',
            f'{prefix}.dataset.pipeline.2.size={size}',
            f'{prefix}.batch_size=2', f'{prefix}.num_workers=0',
            f'{prefix}.persistent_workers=False'
        ]
    return options
