"""Shared fixtures: a miniature AVSBench tree in the released layout."""
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
