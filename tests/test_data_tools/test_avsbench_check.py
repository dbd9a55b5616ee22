"""check_avsbench on a miniature tree, intact and damaged."""
import os

import numpy as np
from PIL import Image

from mmavs.data_tools.avsbench_check import (PROBLEM, WARNING,
                                             check_avsbench, format_report)

S4 = os.path.join('Single-source', 's4_data')
MS3 = os.path.join('Multi-sources', 'ms3_data')


def check(root, **kwargs):
    kwargs.setdefault('num_frames', 2)
    kwargs.setdefault('frame_size', 64)
    return check_avsbench(root, **kwargs)


def kinds(report, severity):
    return {f.kind for f in report.of(severity)}


def test_intact_tree_has_only_count_warnings(avsbench_root):
    report = check(avsbench_root)
    assert report.ok
    assert kinds(report, WARNING) == {
        'split size differs from the published one'}
    s4_train = report.splits[0]
    assert (s4_train.subset, s4_train.split, s4_train.clips,
            s4_train.published) == ('s4', 'train', 3, 3452)
    assert s4_train.masks == 3  # frame 1 only in S4 train
    assert 'OK: 0 problems, 6 warnings' in format_report(report)


def test_damage_is_found_and_named(avsbench_copy):
    root = avsbench_copy
    frame = os.path.join(root, S4, 'visual_frames', 'val')
    # Pick the first val clip of each damaged kind from the tree itself.
    clips = sorted(os.listdir(os.path.join(root, MS3, 'gt_masks', 'test')))
    ms3_mask = os.path.join(root, MS3, 'gt_masks', 'test', clips[0],
                            f'{clips[0]}_2.png')
    with open(ms3_mask, 'wb') as f:
        f.write(b'not a png')
    ms3_audio = os.path.join(root, MS3, 'audio_log_mel', 'test', clips[1])
    np.save(ms3_audio + '.npy', np.zeros((3, 1, 96, 64), np.float32))
    category = sorted(os.listdir(frame))[0]
    name = sorted(os.listdir(os.path.join(frame, category)))[0]
    os.remove(os.path.join(frame, category, name, f'{name}_2.png'))
    mask = os.path.join(root, S4, 'gt_masks', 'val', category, name,
                        f'{name}_1.png')
    Image.fromarray(np.full((64, 64), 128, np.uint8)).save(mask)
    nan = np.full((2, 1, 96, 64), np.nan, np.float32)
    train = os.path.join(root, S4, 'audio_log_mel', 'train')
    category_t = sorted(os.listdir(train))[0]
    stem = os.path.splitext(sorted(os.listdir(
        os.path.join(train, category_t)))[0])[0]
    np.save(os.path.join(train, category_t, stem + '.npy'), nan)

    report = check(root)
    assert not report.ok
    assert kinds(report, PROBLEM) == {
        'unreadable mask', 'audio features of wrong shape', 'missing frame',
        'S4 mask not binary (0/255)', 'audio features with NaN or inf'}
    where = {f.kind: f.where for f in report.of(PROBLEM)}
    assert where['missing frame'] == f'S4 val {name}'
    assert where['unreadable mask'] == f'MS3 test {clips[0]}'
    assert where['audio features of wrong shape'] == f'MS3 test {clips[1]}'
    text = format_report(report)
    assert 'FAILED: 5 problems' in text and f'{name}_2.png' in text
    rows = {(s.subset, s.split): s.problems for s in report.splits}
    assert rows[('s4', 'val')] == 2 and rows[('ms3', 'test')] == 2


def test_wrong_frame_size_and_mask_size(avsbench_copy):
    root = avsbench_copy
    masks = os.path.join(root, MS3, 'gt_masks', 'val')
    clip = sorted(os.listdir(masks))[0]
    Image.fromarray(np.zeros((32, 32), np.uint8)).save(
        os.path.join(masks, clip, f'{clip}_1.png'))
    report = check(root, subsets=['ms3'], frame_size=224)
    assert kinds(report, PROBLEM) == {'mask size differs from its frames'}
    assert 'frames not 224x224' in kinds(report, WARNING)


def test_missing_subset_and_root(tmp_path, avsbench_root):
    only_s4 = check(avsbench_root, subsets=['s4'])
    assert only_s4.ok
    report = check(str(tmp_path))
    assert kinds(report, PROBLEM) == {'subset not found'}
    assert not check(str(tmp_path / 'nowhere')).ok
