import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.registry import FUNCTIONS
from mmseg.registry import DATASETS
from torch.utils.data import DataLoader

from conftest import MINI_FRAMES, MINI_SIZE, MINI_SPLITS
from mmavs.datasets import DatasetLayoutError, avs_collate

PIPELINE = [
    dict(type='LoadAVSFrames'),
    dict(type='LoadAVSMasks'),
    dict(type='LoadAVSAudio'),
    dict(type='PackAVSInputs')
]


def build(root, subset='S4', split='train', **kwargs):
    return DATASETS.build(
        dict(type=f'AVSBench{subset}Dataset', data_root=root, split=split,
             num_frames=MINI_FRAMES, pipeline=PIPELINE, **kwargs))


@pytest.mark.parametrize('subset', ['S4', 'MS3'])
@pytest.mark.parametrize('split', ['train', 'val', 'test'])
def test_clip_counts_and_sample_layout(avsbench_root, subset, split):
    dataset = build(avsbench_root, subset, split)
    assert len(dataset) == MINI_SPLITS[split]
    sample = dataset[1]
    assert sample['inputs'].shape == (MINI_FRAMES, 3, MINI_SIZE, MINI_SIZE)
    assert sample['inputs'].dtype == torch.uint8
    assert sample['audio'].shape == (MINI_FRAMES, 1, 96, 64)
    frames = sample['data_samples']
    assert [f.frame_index for f in frames] == list(range(MINI_FRAMES))
    assert all(f.clip_index == 1 for f in frames)
    assert all(osp.isfile(f.img_path) for f in frames)
    labelled = [f.annotated for f in frames]
    if subset == 'S4' and split == 'train':
        assert labelled == [True] + [False] * (MINI_FRAMES - 1)
    else:
        assert all(labelled)
    for frame in frames:
        values = set(frame.gt_sem_seg.data.unique().tolist())
        assert values <= ({0, 1} if frame.annotated else {255})


def test_s4_and_ms3_paths_follow_released_layout(avsbench_root):
    s4 = build(avsbench_root, 'S4', 'val').get_data_info(0)
    name, category = s4['clip_name'], s4['category']
    base = osp.join(avsbench_root, 'Single-source', 's4_data')
    assert s4['frame_paths'][1] == osp.join(
        base, 'visual_frames', 'val', category, name, f'{name}_2.png')
    assert s4['mask_paths'][0] == osp.join(base, 'gt_masks', 'val', category,
                                           name, f'{name}_1.png')
    assert s4['audio_path'] == osp.join(base, 'audio_log_mel', 'val',
                                        category, name + '.pkl')
    ms3 = build(avsbench_root, 'MS3', 'test').get_data_info(0)
    name = ms3['clip_name']
    base = osp.join(avsbench_root, 'Multi-sources', 'ms3_data')
    assert ms3['frame_paths'][0] == osp.join(base, 'visual_frames', name,
                                             f'{name}.mp4_1.png')
    assert ms3['mask_paths'][1] == osp.join(base, 'gt_masks', 'test', name,
                                            f'{name}_2.png')


def test_npy_audio_preferred_over_pkl(avsbench_copy):
    dataset = build(avsbench_copy, 'MS3', 'val')
    pkl = dataset.get_data_info(0)['audio_path']
    np.save(pkl[:-4] + '.npy', np.zeros((MINI_FRAMES, 1, 96, 64), np.float32))
    dataset = build(avsbench_copy, 'MS3', 'val')
    assert dataset.get_data_info(0)['audio_path'].endswith('.npy')
    assert dataset[0]['audio'].abs().sum() == 0
    assert dataset[1]['audio'].abs().sum() > 0  # still the .pkl


def test_shuffle_audio_pairs_every_clip_with_another(avsbench_root):
    plain = build(avsbench_root, 'S4', 'train')
    shuffled = build(avsbench_root, 'S4', 'train', shuffle_audio=True)
    again = build(avsbench_root, 'S4', 'train', shuffle_audio=True)
    original = [plain.get_data_info(i)['audio_path'] for i in range(3)]
    paired = [shuffled.get_data_info(i)['audio_path'] for i in range(3)]
    assert sorted(paired) == sorted(original)
    assert all(a != b for a, b in zip(paired, original))
    assert paired == [again.get_data_info(i)['audio_path'] for i in range(3)]


def test_collate_keeps_frames_of_a_clip_contiguous(avsbench_root):
    dataset = build(avsbench_root, 'MS3', 'train')
    collate = FUNCTIONS.get('avs_collate')
    assert collate is avs_collate
    batch = next(iter(DataLoader(dataset, batch_size=2, collate_fn=collate)))
    assert len(batch['inputs']) == len(batch['audio']) == 2
    samples = batch['data_samples']
    assert [(s.clip_index, s.frame_index) for s in samples] == [
        (b, t) for b in range(2) for t in range(MINI_FRAMES)]


def test_bad_roots_splits_and_csvs(avsbench_copy, tmp_path):
    with pytest.raises(FileNotFoundError, match='nowhere'):
        build(str(tmp_path / 'nowhere'))
    with pytest.raises(ValueError, match='unknown split "dev"'):
        build(avsbench_copy, split='dev')
    csv_path = osp.join(avsbench_copy, 'Multi-sources', 'ms3_meta_data.csv')
    with open(csv_path, 'w') as f:
        f.write('name,split\nclip_a,train\n')
    with pytest.raises(DatasetLayoutError,
                       match=r'ms3_meta_data.csv: no clip has split "test"'):
        build(avsbench_copy, 'MS3', 'test')
    with open(csv_path, 'w') as f:
        f.write('name,subset\nclip_a,train\n')
    with pytest.raises(DatasetLayoutError, match='no "split" column'):
        build(avsbench_copy, 'MS3', 'train')
    with open(csv_path, 'w') as f:
        f.write('')
    with pytest.raises(DatasetLayoutError, match='the CSV is empty'):
        build(avsbench_copy, 'MS3', 'train')
    empty_root = tmp_path / 'empty_root'
    empty_root.mkdir()
    with pytest.raises(FileNotFoundError, match='s4_meta_data.csv'):
        build(str(empty_root), 'S4', 'train')


@pytest.mark.parametrize('subset', ['S4', 'MS3'])
def test_cache_decoded_gives_the_same_items_without_reading(avsbench_copy,
                                                            subset):
    """With ``cache_decoded`` every clip is read once when the dataset is
    built; items equal the uncached ones even after the files are gone."""
    import shutil
    plain = build(avsbench_copy, subset, 'train')
    expected = [plain[i] for i in range(len(plain))]
    cached = build(avsbench_copy, subset, 'train', cache_decoded=True)
    shutil.rmtree(osp.join(avsbench_copy, cached.SUBSET_DIR))
    for _ in range(2):  # a second epoch sees the same, unchanged, items
        for i, want in enumerate(expected):
            got = cached[i]
            assert torch.equal(got['inputs'], want['inputs'])
            assert torch.equal(got['audio'], want['audio'])
            for g, w in zip(got['data_samples'], want['data_samples']):
                assert torch.equal(g.gt_sem_seg.data, w.gt_sem_seg.data)
                assert g.metainfo == w.metainfo


def test_cache_decoded_keeps_only_the_loading_transforms(avsbench_root):
    dataset = build(avsbench_root, 'MS3', 'val', cache_decoded=True)
    assert dataset._num_loading() == 3
    assert set(dataset._decoded[0]) >= {'imgs', 'gt_masks', 'audio'}
    assert 'inputs' not in dataset._decoded[0]
    assert build(avsbench_root, 'MS3', 'val')._decoded == []


def test_cache_decoded_is_shared_with_persistent_workers(avsbench_copy):
    """The AVSBench configs' loader settings (workers, persistent, pinned)
    with a cached dataset: forked workers serve the cached clips."""
    import shutil

    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(osp.dirname(osp.dirname(osp.dirname(
        osp.abspath(__file__)))), 'configs/_base_/datasets/avsbench_ms3.py'))
    for loader in (cfg.train_dataloader, cfg.val_dataloader,
                   cfg.test_dataloader):
        assert loader.num_workers >= 8
        assert loader.persistent_workers and loader.pin_memory
        assert not loader.dataset.get('cache_decoded', False)  # default off
    dataset = build(avsbench_copy, 'MS3', 'train', cache_decoded=True)
    shutil.rmtree(osp.join(avsbench_copy, dataset.SUBSET_DIR))
    loader = DataLoader(dataset, batch_size=2, num_workers=2,
                        persistent_workers=True, collate_fn=avs_collate)
    for _ in range(2):
        clips = sum(len(batch['inputs']) for batch in loader)
        assert clips == len(dataset)


WAVE_PIPELINE = [
    dict(type='LoadAVSFrames'),
    dict(type='LoadAVSMasks'),
    dict(type='LoadAudioWaveform'),
    dict(type='PackAVSInputs')
]
LOG_MEL_FROM_WAVE = [
    dict(type='LoadAVSFrames'),
    dict(type='LoadAVSMasks'),
    dict(type='LoadAudioWaveform'),
    dict(type='WaveformToLogMel'),
    dict(type='PackAVSInputs')
]


@pytest.mark.parametrize('pipeline', [PIPELINE, WAVE_PIPELINE,
                                      LOG_MEL_FROM_WAVE])
def test_one_annotated_frame_per_clip(avsbench_root, pipeline):
    """CAVP / CPM training on S4 / MS3: one random annotated frame per clip
    and iteration (T = 1) with its own second of audio."""
    np.random.seed(0)
    s4 = DATASETS.build(dict(
        type='AVSBenchS4Dataset', data_root=avsbench_root, split='train',
        num_frames=MINI_FRAMES, pipeline=pipeline,
        sample_frames='one_annotated'))
    for _ in range(3):  # S4 training clips: frame 0 is the only mask
        item = s4[0]
        assert item['inputs'].shape[0] == 1 and item['audio'].shape[0] == 1
        sample = item['data_samples'][0]
        assert sample.frame_index == 0 and sample.annotated
        assert sample.num_frames == 1
    full = DATASETS.build(dict(
        type='AVSBenchMS3Dataset', data_root=avsbench_root, split='test',
        num_frames=MINI_FRAMES, pipeline=pipeline))[0]
    ms3 = DATASETS.build(dict(
        type='AVSBenchMS3Dataset', data_root=avsbench_root, split='test',
        num_frames=MINI_FRAMES, pipeline=pipeline,
        sample_frames='one_annotated'))
    drawn = set()
    for _ in range(12):
        item = ms3[0]
        t = item['data_samples'][0].frame_index
        drawn.add(t)
        assert item['data_samples'][0].img_path == \
            full['data_samples'][t].img_path
        torch.testing.assert_close(item['inputs'][0], full['inputs'][t])
        torch.testing.assert_close(item['audio'][0], full['audio'][t])
        torch.testing.assert_close(item['data_samples'][0].gt_sem_seg.data,
                                   full['data_samples'][t].gt_sem_seg.data)
    assert drawn == set(range(MINI_FRAMES))


def test_one_annotated_option_checks(avsbench_root):
    with pytest.raises(ValueError, match='sample_frames'):
        build(avsbench_root, sample_frames='two')
    with pytest.raises(ValueError, match='cache_decoded'):
        build(avsbench_root, sample_frames='one_annotated',
              cache_decoded=True)
