"""tools/dataset_converters/prepare_avsbench.py on a miniature release.

The miniature root has the two CSVs and ``raw_videos`` in the release layout;
the outputs must land where the AVSBench datasets read them.
"""
import csv
import os
import os.path as osp

import numpy as np
import pytest

pytest.importorskip('av')

from conftest import load_tool  # noqa: E402
from mmavs.datasets import AVSBenchMS3Dataset, AVSBenchS4Dataset  # noqa
from video_fixtures import make_video  # noqa: E402

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(ROOT, 'tools', 'dataset_converters', 'prepare_avsbench.py')
S4_ROWS = [('clipA', '0', 'dog_barking', 'train'),
           ('clipB', '3', 'lawn_mowing', 'test')]
MS3_ROWS = [('clipC', 'val')]


@pytest.fixture(scope='module')
def tool():
    return load_tool(TOOL)


def write_csv(path, header, rows):
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w', newline='') as f:
        csv.writer(f).writerows([header] + list(rows))


@pytest.fixture
def release(tmp_path):
    """CSVs and raw videos; clipB's video is still missing."""
    s4 = tmp_path / 'Single-source'
    write_csv(str(s4 / 's4_meta_data.csv'),
              ['name', 'start', 'category', 'split'], S4_ROWS)
    write_csv(str(tmp_path / 'Multi-sources' / 'ms3_meta_data.csv'),
              ['name', 'split'], MS3_ROWS)
    video = s4 / 's4_data' / 'raw_videos' / 'train' / 'dog_barking'
    os.makedirs(video)
    make_video(str(video / 'clipA.mp4'), seconds=5.0)
    ms3 = tmp_path / 'Multi-sources' / 'ms3_data' / 'raw_videos'
    os.makedirs(ms3)
    make_video(str(ms3 / 'clipC.mp4'), seconds=5.0)
    return tmp_path


def audio_and_frames(dataset_cls, root, split):
    dataset = dataset_cls(
        data_root=str(root), split=split,
        pipeline=[dict(type='LoadAVSFrames'), dict(type='LoadAVSAudio')])
    return dataset[0]


def test_missing_video_fails_then_rerun_completes(tool, release, capsys):
    assert tool.main([str(release)]) == 1
    captured = capsys.readouterr()
    assert 'no video for clipB' in captured.err
    # The clips that had a video are done and readable by the datasets.
    s4 = audio_and_frames(AVSBenchS4Dataset, release, 'train')
    assert s4['audio_path'].endswith('clipA.npy')
    assert s4['audio'].shape == (5, 1, 96, 64)
    assert [img.shape for img in s4['imgs']] == [(224, 224, 3)] * 5
    ms3 = audio_and_frames(AVSBenchMS3Dataset, release, 'val')
    assert ms3['frame_paths'][0].endswith(
        osp.join('visual_frames', 'clipC', 'clipC.mp4_1.png'))
    assert osp.isfile(release / 'Multi-sources' / 'ms3_data' / 'audio_wav' /
                      'val' / 'clipC.wav')
    # A flat video folder works too; finished clips are not redone.
    flat = release / 'videos'
    os.makedirs(flat)
    make_video(str(flat / 'clipB.mp4'), seconds=5.0)
    assert tool.main([str(release), '--subsets', 's4', '--video-dir',
                      str(flat)]) == 0
    out = capsys.readouterr().out
    assert 's4 test' in out and 'converted     1' in out
    clip_b = audio_and_frames(AVSBenchS4Dataset, release, 'test')
    assert np.isfinite(clip_b['audio']).all()


def test_untrimmed_s4_starts_at_csv_time(tool, release):
    src = release / 'Single-source' / 's4_data' / 'raw_videos'
    os.makedirs(src / 'test' / 'lawn_mowing')
    make_video(str(src / 'test' / 'lawn_mowing' / 'clipB.mp4'), seconds=8.0)
    assert tool.main([str(release), '--subsets', 's4', '--splits', 'test',
                      '--untrimmed', '--no-wav']) == 0
    mel = np.load(release / 'Single-source' / 's4_data' / 'audio_log_mel' /
                  'test' / 'lawn_mowing' / 'clipB.npy')
    # 8 s video from 3 s: exactly 5 seconds left, no repeated example.
    assert mel.shape == (5, 1, 96, 64)
    assert not np.array_equal(mel[3], mel[4])
    assert not (release / 'Single-source' / 's4_data' / 'audio_wav').exists()


def test_nothing_listed_is_an_error(tool, tmp_path, capsys):
    assert tool.main([str(tmp_path)]) == 1
    assert 'no clip listed' in capsys.readouterr().err
