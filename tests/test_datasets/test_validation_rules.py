"""Each data rule holds the same in the datasets and in check_avsbench: the
split, the frame mode / bit depth, the audio type, the missing-file message."""
import csv
import os
import os.path as osp

import cv2
import numpy as np
import pytest
from mmseg.registry import DATASETS
from PIL import Image

from conftest import MINI_FRAMES
from mmavs.datasets import DatasetLayoutError
from mmavs.datasets.avsbench_check import PROBLEM, WARNING, check_avsbench
from mmavs.datasets.transforms.loading import ClipFileError

PIPELINE = [
    dict(type='LoadAVSFrames'),
    dict(type='LoadAVSMasks'),
    dict(type='LoadAVSAudio'),
    dict(type='PackAVSInputs')
]
MS3_CSV = osp.join('Multi-sources', 'ms3_meta_data.csv')


def dataset(root, split='val'):
    return DATASETS.build(dict(
        type='AVSBenchMS3Dataset', data_root=root, split=split,
        num_frames=MINI_FRAMES, pipeline=PIPELINE))


def findings(root, split='val'):
    report = check_avsbench(root, subsets=['ms3'], splits=[split],
                            num_frames=MINI_FRAMES, frame_size=64)
    return {(f.severity, f.kind): f.detail for f in report.findings
            if f.kind != 'split size differs from the published one'}


def rewrite_csv(root, rows):
    with open(osp.join(root, MS3_CSV), 'w', newline='') as f:
        csv.writer(f).writerows(rows)


def first_clip(root):
    return dataset(root).get_data_info(0)


def test_csv_without_split_column(avsbench_copy):
    rewrite_csv(avsbench_copy, [['name'], ['clip_a']])
    with pytest.raises(DatasetLayoutError, match='no "split" column'):
        dataset(avsbench_copy)
    found = findings(avsbench_copy)
    assert 'no "split" column' in found[(PROBLEM, 'split unusable')]


def test_split_without_rows(avsbench_copy):
    rows = list(csv.reader(open(osp.join(avsbench_copy, MS3_CSV))))
    rewrite_csv(avsbench_copy, [r for r in rows if r[-1] != 'val'])
    with pytest.raises(DatasetLayoutError, match='no clip has split "val"'):
        dataset(avsbench_copy)
    assert (PROBLEM, 'split unusable') in findings(avsbench_copy)


def test_integer_audio_features(avsbench_copy):
    info = first_clip(avsbench_copy)
    stem = osp.splitext(info['audio_path'])[0]
    np.save(stem + '.npy', np.ones((MINI_FRAMES, 1, 96, 64), np.int16))
    with pytest.raises(ClipFileError, match='int16, expected floating'):
        dataset(avsbench_copy)[0]
    found = findings(avsbench_copy)
    assert 'int16' in found[(PROBLEM, 'audio features not floating point')]


def test_missing_features_name_every_path_tried(avsbench_copy):
    info = first_clip(avsbench_copy)
    stem = osp.splitext(info['audio_path'])[0]
    os.remove(info['audio_path'])
    message = f'tried {stem}.npy and {stem}.pkl'
    with pytest.raises(FileNotFoundError, match=message):
        dataset(avsbench_copy)[0]
    assert message in findings(avsbench_copy)[
        (PROBLEM, 'missing audio features')]


@pytest.mark.parametrize('mode', ['L', 'RGBA'])
def test_grey_and_rgba_frames_are_converted(avsbench_copy, mode):
    info = first_clip(avsbench_copy)
    path = info['frame_paths'][0]
    rgb = np.asarray(Image.open(path).convert('RGB'))
    Image.open(path).convert(mode).save(path)
    frames = dataset(avsbench_copy)[0]['inputs']  # (T, 3, H, W) BGR
    expected = np.asarray(Image.fromarray(rgb).convert(mode).convert('RGB'))
    np.testing.assert_array_equal(
        frames[0].numpy().transpose(1, 2, 0)[..., ::-1], expected)
    found = findings(avsbench_copy)
    assert f'{mode} frame converted to RGB' in found[
        (WARNING, 'frame converted to RGB')]
    assert not [k for k in found if k[0] == PROBLEM]


@pytest.mark.parametrize('channels', [1, 3])
def test_16_bit_frames_are_refused(avsbench_copy, channels):
    info = first_clip(avsbench_copy)
    path = info['frame_paths'][1]
    grey = np.asarray(Image.open(path).convert('L')).astype(np.uint16) * 257
    cv2.imwrite(path, grey if channels == 1 else np.stack([grey] * 3, -1))
    with pytest.raises(ClipFileError, match='16-bit frame'):
        dataset(avsbench_copy)[0]
    assert path in findings(avsbench_copy)[(PROBLEM, '16-bit frame')]


def test_batch_of_different_frame_sizes_names_its_clips(avsbench_copy):
    from mmavs.datasets import avs_collate
    data = dataset(avsbench_copy)
    info = data.get_data_info(1)
    for path in info['frame_paths'] + info['mask_paths']:
        Image.open(path).resize((48, 40)).save(path)
    with pytest.raises(ValueError) as err:
        avs_collate([data[0], data[1]])
    first = data.get_data_info(0)['clip_name']
    assert (f'{first} 64x64, {info["clip_name"]} 48x40') in str(err.value)
