import os
import os.path as osp

import numpy as np
import torch

from mmavs.data_tools.synthetic_avsbench import (CLASS_BY_NAME,
                                                 load_synthetic_meta,
                                                 make_synthetic_avsbench,
                                                 render_clip)
from mmavs.evaluation import frame_statistics, protocol_a
from mmavs.media.vggish_logmel import hertz_to_mel


def list_tree(root):
    return sorted(
        osp.relpath(osp.join(d, f), root) for d, _, files in os.walk(root)
        for f in files)


def test_exact_avsbench_layout(tmp_path):
    meta = make_synthetic_avsbench(
        str(tmp_path), seed=3, size=32, num_frames=2,
        s4_clips=dict(train=1, test=1), ms3_clips=dict(val=1))
    s4_train, s4_test = meta['s4']['train'][0], meta['s4']['test'][0]
    ms3 = meta['ms3']['val'][0]['name']
    a, ca = s4_train['name'], s4_train['category']
    b, cb = s4_test['name'], s4_test['category']
    s4 = 'Single-source/s4_data'
    m3 = 'Multi-sources/ms3_data'
    expected = [
        'Single-source/s4_meta_data.csv',
        f'{s4}/visual_frames/train/{ca}/{a}/{a}_1.png',
        f'{s4}/visual_frames/train/{ca}/{a}/{a}_2.png',
        f'{s4}/gt_masks/train/{ca}/{a}/{a}_1.png',  # train: frame 1 only
        f'{s4}/audio_wav/train/{ca}/{a}.wav',
        f'{s4}/audio_log_mel/train/{ca}/{a}.npy',
        f'{s4}/visual_frames/test/{cb}/{b}/{b}_1.png',
        f'{s4}/visual_frames/test/{cb}/{b}/{b}_2.png',
        f'{s4}/gt_masks/test/{cb}/{b}/{b}_1.png',
        f'{s4}/gt_masks/test/{cb}/{b}/{b}_2.png',
        f'{s4}/audio_wav/test/{cb}/{b}.wav',
        f'{s4}/audio_log_mel/test/{cb}/{b}.npy',
        'Multi-sources/ms3_meta_data.csv',
        f'{m3}/visual_frames/{ms3}/{ms3}.mp4_1.png',
        f'{m3}/visual_frames/{ms3}/{ms3}.mp4_2.png',
        f'{m3}/gt_masks/val/{ms3}/{ms3}_1.png',
        f'{m3}/gt_masks/val/{ms3}/{ms3}_2.png',
        f'{m3}/audio_wav/val/{ms3}.wav',
        f'{m3}/audio_log_mel/val/{ms3}.npy',
        'synthetic_meta.json',
    ]
    assert list_tree(str(tmp_path)) == sorted(expected)
    s4_csv = open(tmp_path / 'Single-source' / 's4_meta_data.csv').read()
    assert s4_csv.splitlines()[:2] == ['name,start,category,split',
                                       f'{a},0,{ca},train']
    ms3_csv = open(tmp_path / 'Multi-sources' / 'ms3_meta_data.csv').read()
    assert ms3_csv.splitlines() == ['name,split', f'{ms3},val']


def test_same_seed_same_bytes(tmp_path):
    options = dict(seed=7, size=32, num_frames=2, s4_clips=dict(val=2),
                   ms3_clips=dict(test=2))
    make_synthetic_avsbench(str(tmp_path / 'a'), **options)
    make_synthetic_avsbench(str(tmp_path / 'b'), **options)
    files = list_tree(str(tmp_path / 'a'))
    assert files == list_tree(str(tmp_path / 'b'))
    for rel in files:
        assert (tmp_path / 'a' / rel).read_bytes() == \
            (tmp_path / 'b' / rel).read_bytes(), rel
    make_synthetic_avsbench(str(tmp_path / 'c'), **dict(options, seed=8))
    rel = [f for f in files if f.endswith('.npy')][0]
    assert (tmp_path / 'c' / rel).read_bytes() != \
        (tmp_path / 'a' / rel).read_bytes()


def test_masks_mark_sounding_objects_only(tmp_path):
    meta = make_synthetic_avsbench(str(tmp_path), seed=0, size=48,
                                   s4_clips={}, ms3_clips=dict(test=4))
    for clip in meta['ms3']['test']:
        rendered = render_clip(clip, 48)
        for t, sounding in enumerate(clip['sounding']):
            mask = rendered['masks'][t] > 0
            visible = rendered['visible'][t]
            assert not (mask & ~visible).any()
            assert mask.any() == bool(sounding)
            silent = set(range(len(clip['objects']))) - set(sounding)
            if silent and sounding:
                assert (visible & ~mask).any()


def test_audio_carries_the_sounding_classes(tmp_path):
    meta = make_synthetic_avsbench(str(tmp_path), seed=0, size=32,
                                   s4_clips={}, ms3_clips=dict(test=8))
    mel_edges = np.linspace(hertz_to_mel(125.0), hertz_to_mel(7500.0), 66)
    louder, total = 0, 0
    for clip in meta['ms3']['test']:
        feats = np.load(tmp_path / 'Multi-sources' / 'ms3_data' /
                        'audio_log_mel' / 'test' / f'{clip["name"]}.npy')
        energy = feats[:, 0].mean(axis=1)  # (T, 64)
        for index, obj in enumerate(clip['objects']):
            pitch = CLASS_BY_NAME[obj['class']].pitch_hz
            band = int(np.argmin(np.abs(mel_edges[1:-1] - hertz_to_mel(pitch))))
            on = [energy[t, band] for t, s in enumerate(clip['sounding'])
                  if index in s]
            off = [energy[t, band] for t, s in enumerate(clip['sounding'])
                   if index not in s]
            if on and off:
                total += 1
                louder += min(on) > max(off)
    assert total > 5 and louder == total


def test_segmenting_every_object_is_not_enough(tmp_path):
    """Vision alone ('every visible object') scores <= 0.6 protocol-A mIoU."""
    make_synthetic_avsbench(str(tmp_path))  # the default data set
    meta = load_synthetic_meta(str(tmp_path))
    batches = []
    for start in range(0, len(meta['ms3']['test']), 4):
        frames = []
        for clip in meta['ms3']['test'][start:start + 4]:
            rendered = render_clip(clip, meta['size'])
            frames += [
                frame_statistics(torch.from_numpy(visible).float(),
                                 torch.from_numpy(mask))
                for visible, mask in zip(rendered['visible'],
                                         rendered['masks'])
            ]
        batches.append(frames)
    miou = protocol_a(batches)['mIoU']
    assert 0.2 < miou <= 0.6
