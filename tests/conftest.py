"""Shared fixtures: a miniature AVSBench tree in the released layout, and
--cfg-options that shrink a real config to run on it in seconds."""
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
    backbone = 'pvtv2-b5' if 'pvtv2-b5' in config else 'r50'
    return SHRINK[backbone] + [
        'model.backbone.visual.init_cfg=None',
        'model.backbone.audio.init_cfg=None',
        'model.neck.channels=16', 'model.decode_head.channels=16',
        'model.decode_head.in_channels=[16,16,16,16]'
    ]
