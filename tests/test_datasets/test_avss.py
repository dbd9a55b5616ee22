"""AVSSDataset on a generated tree in the released layout (avss.md §1-4)."""
import csv
import json
import os
import os.path as osp

import numpy as np
import pytest
from mmengine.registry import init_default_scope
from PIL import Image

from conftest import MINI_AVSS_SIZE
from mmavs.data_tools.synthetic_avss import (load_synthetic_avss_meta,
                                             render_avss_clip)
from mmavs.datasets import AVSSDataset, DatasetLayoutError
from mmavs.datasets.avss import (DEFAULT_CLASSES, ColorToIndex, avss_palette,
                                 frame_flags)
from mmavs.datasets.transforms.loading import ClipFileError, MEAN_BGR

PIPELINE = [
    dict(type='LoadAVSFrames'),
    dict(type='LoadAVSSColorMask'),
    dict(type='LoadAVSSAudio'),
    dict(type='PackAVSInputs')
]


@pytest.fixture(autouse=True)
def scope():
    init_default_scope('mmseg')


def build(root, **kwargs):
    kwargs.setdefault('pipeline', PIPELINE)
    return AVSSDataset(data_root=root, **kwargs)


def by_name(dataset, name):
    return next(i for i in range(len(dataset))
                if dataset.get_data_info(i)['clip_name'] == name)


def test_palette_is_the_pascal_voc_colour_map():
    palette = avss_palette()
    assert palette.shape == (71, 3)
    expected = {0: (0, 0, 0), 1: (128, 0, 0), 2: (0, 128, 0),
                3: (128, 128, 0), 4: (0, 0, 128), 7: (128, 128, 128),
                8: (64, 0, 0), 9: (192, 0, 0)}
    for index, colour in expected.items():
        assert tuple(palette[index]) == colour
    assert len({tuple(c) for c in palette}) == 71


def test_colour_lookup_maps_every_entry_and_counts_strangers():
    lookup = ColorToIndex()
    rgb = avss_palette()[None]  # (1, 71, 3)
    index, unmatched = lookup(rgb)
    assert index.tolist() == [list(range(71))] and unmatched == 0
    rgb = rgb.copy()
    rgb[0, 5] = (1, 2, 3)
    rgb[0, 9] = (255, 255, 255)
    index, unmatched = lookup(rgb)
    assert unmatched == 2 and index[0, 5] == 0 and index[0, 9] == 0


def test_flags_per_subset_and_split():
    valid, annotated = frame_flags('v1s', 'train')
    assert valid == [True] * 5 + [False] * 5
    assert annotated == [True] + [False] * 9
    assert frame_flags('v1s', 'test')[1] == [True] * 5 + [False] * 5
    assert frame_flags('v1m', 'train')[1] == [True] * 5 + [False] * 5
    assert frame_flags('v2', 'val') == ([True] * 10, [True] * 10)


def test_reads_the_released_layout(avss_root):
    dataset = build(avss_root, split='test', test_mode=True)
    assert len(dataset) == 3
    # Class names come from the tree's label2idx.json (the synthetic one
    # renames the classes it uses), the palette has 71 colours.
    assert dataset.metainfo['classes'][3] == 'red_disc'
    assert dataset.metainfo['classes'][0] == 'background'
    assert len(dataset.metainfo['palette']) == 71
    meta = load_synthetic_avss_meta(avss_root)
    for index in range(len(dataset)):
        item = dataset[index]
        info = dataset.get_data_info(index)
        clip = next(c for c in meta['videos'] if c['uid'] == info['clip_name'])
        real = 5 if info['subset'] != 'v2' else 10
        assert item['inputs'].shape == (10, 3, MINI_AVSS_SIZE, MINI_AVSS_SIZE)
        assert item['audio'].shape == (10, 1, 96, 64)
        labels = render_avss_clip(clip, MINI_AVSS_SIZE)['labels']
        for t, sample in enumerate(item['data_samples']):
            assert sample.frame_valid == (t < real)
            assert sample.annotated == (t < real)
            assert sample.subset == info['subset'] and sample.num_frames == 10
            assert sample.clip_index == index and sample.frame_index == t
            gt = sample.gt_sem_seg.data[0].numpy()
            if t < real:
                np.testing.assert_array_equal(gt, labels[t])
                assert sample.img_path.endswith(f'frames/{t}.jpg')
            else:
                # Padding: background mask, mean-colour frame, zero log-mel.
                assert (gt == 0).all() and sample.img_path is None
                frame = item['inputs'][t].numpy()
                assert (frame == np.asarray(MEAN_BGR)[:, None, None]).all()
                assert (item['audio'][t] == 0).all()


def test_v1s_training_clips_are_supervised_on_frame_zero(avss_root):
    dataset = build(avss_root, split='train', subsets=('v1s', ))
    samples = dataset[0]['data_samples']
    assert [s.annotated for s in samples] == [True] + [False] * 9
    assert [s.frame_valid for s in samples] == [True] * 5 + [False] * 5
    # Real frames without a mask are ignored, padded ones are background.
    assert (samples[1].gt_sem_seg.data == 255).all()
    assert (samples[7].gt_sem_seg.data == 0).all()


def test_one_annotated_frame_per_clip(avss_root):
    dataset = build(avss_root, split='train', sample_frames='one_annotated')
    full = build(avss_root, split='train')
    v1s, v2 = by_name(dataset, 'v1s_train_0000'), by_name(dataset,
                                                          'v2_train_0000')
    np.random.seed(0)
    for _ in range(3):
        item = dataset[v1s]
        assert item['inputs'].shape[0] == 1 and item['audio'].shape[0] == 1
        assert item['data_samples'][0].frame_index == 0
    drawn = set()
    full_audio = full[v2]['audio']
    for _ in range(12):
        item = dataset[v2]
        sample = item['data_samples'][0]
        assert sample.annotated and sample.frame_valid
        assert sample.num_frames == 1
        assert sample.img_path.endswith(f'frames/{sample.frame_index}.jpg')
        np.testing.assert_array_equal(item['audio'][0],
                                      full_audio[sample.frame_index])
        drawn.add(sample.frame_index)
    assert len(drawn) > 1


def test_columns_are_read_by_name_and_kept(avss_copy):
    # Another column order, an extra column and a byte-order mark.
    path = osp.join(avss_copy, 'metadata.csv')
    with open(path) as f:
        rows = list(csv.DictReader(f))
    header = ['split', 'extra', 'label', 'uid', 'a_obj']
    with open(path, 'w', newline='', encoding='utf-8-sig') as f:
        writer = csv.DictWriter(f, header, extrasaction='ignore')
        writer.writeheader()
        for row in rows:
            writer.writerow(dict(row, extra='x'))
    dataset = build(avss_copy, split='test')
    info = dataset.get_data_info(0)
    assert len(dataset) == 3 and info['extra'] == 'x' and 'a_obj' in info


def test_csv_without_the_columns(avss_copy):
    with open(osp.join(avss_copy, 'metadata.csv'), 'w') as f:
        f.write('uid,split\nv2_test_0000,test\n')
    with pytest.raises(DatasetLayoutError, match=r"metadata.csv.*\['label'\]"):
        build(avss_copy, split='test')


def test_empty_split(avss_root):
    with pytest.raises(DatasetLayoutError, match='no clip of split "train"'):
        build(avss_root, split='train', subsets=('v1m', ))


def test_missing_and_gapped_frames(avss_copy):
    frames = osp.join(avss_copy, 'v2', 'v2_test_0000', 'frames')
    os.remove(osp.join(frames, '3.jpg'))
    with pytest.raises(DatasetLayoutError,
                       match=r'gap in file numbers: .*frames/3\.jpg'):
        build(avss_copy, split='test')
    os.rename(osp.join(frames, '9.jpg'), osp.join(frames, '3.jpg'))
    with pytest.raises(DatasetLayoutError, match=r'frames: 9 frames, a v2'):
        build(avss_copy, split='test')


def test_missing_mask(avss_copy):
    os.remove(osp.join(avss_copy, 'v1m', 'v1m_test_0000', 'labels_rgb',
                       '4.png'))
    with pytest.raises(DatasetLayoutError,
                       match=r'missing mask .*labels_rgb/4\.png'):
        build(avss_copy, split='test')


def test_mask_size_differs_from_its_frame(avss_copy):
    path = osp.join(avss_copy, 'v2', 'v2_test_0000', 'labels_rgb', '2.png')
    Image.new('RGB', (16, 16)).save(path)
    dataset = build(avss_copy, split='test')
    with pytest.raises(ClipFileError, match=r'labels_rgb/2\.png: mask is 16x16'):
        dataset[by_name(dataset, 'v2_test_0000')]


def test_unknown_colours_are_counted_and_warned(avss_copy, monkeypatch):
    import mmavs.datasets.transforms.avss_loading as loading
    logged = []
    monkeypatch.setattr(loading, 'print_log',
                        lambda msg, **kwargs: logged.append(msg))
    path = osp.join(avss_copy, 'v1m', 'v1m_test_0000', 'labels_rgb', '1.png')
    rgb = np.asarray(Image.open(path).convert('RGB')).copy()
    rgb[:2, :3] = (7, 7, 7)
    Image.fromarray(rgb).save(path)
    transform = loading.LoadAVSSColorMask()
    dataset = build(avss_copy, split='test', pipeline=[])
    info = dataset.get_data_info(by_name(dataset, 'v1m_test_0000'))
    info['img_shape'] = (MINI_AVSS_SIZE, MINI_AVSS_SIZE)
    out = transform(info)
    assert out['unmatched_pixels'] == [0, 6, 0, 0, 0, 0, 0, 0, 0, 0]
    assert (out['gt_masks'][1][:2, :3] == 0).all()
    assert len(logged) == 1 and path in logged[0] and '6 pixels' in logged[0]


def test_class_names_prefer_the_tree_file(avss_copy):
    path = osp.join(avss_copy, 'label2idx.json')
    os.remove(path)
    assert build(avss_copy, split='test').metainfo['classes'] == \
        DEFAULT_CLASSES
    with open(path, 'w') as f:
        json.dump({f'c{i}': i for i in range(70)}, f)
    with pytest.raises(DatasetLayoutError,
                       match=r'label2idx.json: expected .* 71 .* found 70'):
        build(avss_copy, split='test')


def test_index_masks_from_labels_semantic(avss_copy):
    clip = osp.join(avss_copy, 'v2', 'v2_test_0000')
    os.makedirs(osp.join(clip, 'labels_semantic'))
    lookup = ColorToIndex()
    for t in range(10):
        rgb = np.asarray(Image.open(osp.join(clip, 'labels_rgb', f'{t}.png'))
                         .convert('RGB'))
        Image.fromarray(lookup(rgb)[0], mode='L').save(
            osp.join(clip, 'labels_semantic', f'{t}.png'))
    pipeline = [PIPELINE[0], dict(type='LoadAVSSColorMask',
                                  mask_format='index')] + PIPELINE[2:]
    semantic = build(avss_copy, split='test', subsets=('v2', ),
                     mask_dir='labels_semantic', pipeline=pipeline)
    rgb = build(avss_copy, split='test', subsets=('v2', ))
    for a, b in zip(semantic[0]['data_samples'], rgb[0]['data_samples']):
        assert (a.gt_sem_seg.data == b.gt_sem_seg.data).all()


def test_shuffled_audio_is_a_derangement(avss_root):
    plain = build(avss_root, split='test')
    shuffled = build(avss_root, split='test', shuffle_audio=True)
    audio = [plain.get_data_info(i)['audio_path'] for i in range(3)]
    moved = [shuffled.get_data_info(i)['audio_path'] for i in range(3)]
    assert sorted(moved) == sorted(audio)
    assert all(a != b for a, b in zip(audio, moved))


def test_bad_arguments(avss_root):
    with pytest.raises(ValueError, match='sample_frames'):
        build(avss_root, sample_frames='two')
    with pytest.raises(ValueError, match='unknown AVSS subsets'):
        build(avss_root, subsets=('s4', ))
    with pytest.raises(FileNotFoundError, match='AVSS data root not found'):
        build(osp.join(avss_root, 'nothing'))


def test_batches_unroll_into_frames(avss_root):
    from torch.utils.data import DataLoader

    from mmavs.datasets import avs_collate
    for mode, frames in (('all', 10), ('one_annotated', 1)):
        dataset = build(avss_root, split='test', sample_frames=mode)
        batch = next(iter(DataLoader(dataset, batch_size=2,
                                     collate_fn=avs_collate)))
        assert len(batch['inputs']) == 2
        assert len(batch['data_samples']) == 2 * frames
        assert [s.clip_index for s in batch['data_samples']] == \
            [0] * frames + [1] * frames
