"""The VPO datasets on hand-made trees in the released layout (cavp.md §1-2),
including the published loader bugs of cavp.md §10 (2: the VPO-SS flip kept
the stereo position; 3: the sequential in-place id remap) asserted absent."""
import csv
import os
import os.path as osp

import numpy as np
import pytest
from mmengine.registry import init_default_scope
from PIL import Image
from scipy.io import wavfile

import mmavs  # noqa: F401
from mmavs.datasets import DatasetLayoutError
from mmavs.datasets.transforms import ClipFileError
from mmavs.datasets.vpo import (CLASS_INDEX, VPO_CLASSES, VPO_LUT, holdout_ids,
                                remap_mask)
from mmseg.registry import DATASETS, TRANSFORMS

init_default_scope('mmseg')
RATE = 16000
H, W = 6, 10
CAR, AIRPLANE, DOG = 3, 5, 18  # COCO ids; VPO indices 5, 1, 9
COLUMNS = ['cateName', 'img_Id', 'ann_Ids', 'cateId', 'vgg_file', 'split',
           'audio_pos']


def write_wav(path, samples, rate=RATE, channels=1):
    os.makedirs(osp.dirname(path), exist_ok=True)
    data = np.asarray(samples, dtype=np.float32)
    if channels == 2:
        data = np.stack([data, data], axis=1)
    wavfile.write(path, rate, data)


def write_image(path, seed=0, size=(H, W)):
    os.makedirs(osp.dirname(path), exist_ok=True)
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 255, size + (3, ), dtype=np.uint8)
                    ).save(path, quality=95)


def write_mask(path, mask):
    os.makedirs(osp.dirname(path), exist_ok=True)
    Image.fromarray(np.asarray(mask, dtype=np.uint8), 'L').save(path)


def write_csv(path, rows, columns=COLUMNS):
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        writer.writerows(rows)


def car_airplane_mask():
    """Car (COCO 3) on the left, airplane (COCO 5) on the right: the pair
    the sequential remap confuses (car 3 → 5 → airplane 1)."""
    mask = np.zeros((H, W), dtype=np.uint8)
    mask[1:5, 1:4] = CAR
    mask[1:5, 6:9] = AIRPLANE
    return mask


def ramp(seconds, scale=1.0):
    """Samples whose values tell where a crop starts."""
    return (np.arange(int(seconds * RATE)) / (seconds * RATE) * scale
            ).astype(np.float32)


def make_tree(root):
    """Hand-made VPO-SS / MS / MSMI trees and four clips.

    MS: image 7 (car left, airplane right, both sound), image 9 (a dog);
    test image 11 (a dog). MSMI: the MS rows plus image 13 (two dogs, one
    sounding).
    """
    root = str(root)
    audio = osp.join(root, 'vggsound', 'audios')
    write_wav(osp.join(audio, 'car.wav'), ramp(4.0))            # 4 s
    write_wav(osp.join(audio, 'plane.wav'), ramp(1.0, -1.0))    # 1 s: tiled
    write_wav(osp.join(audio, 'dog.wav'), ramp(6.0, 0.5), rate=8000,
              channels=2)                                       # resampled
    write_wav(osp.join(audio, 'dog2.wav'), np.full(RATE * 3, 0.1))
    # VPO-SS: image 7 twice (car, airplane) and image 9 (dog); test: 11.
    ss = osp.join(root, 'VPO-SS')
    mask = car_airplane_mask()
    for name, ann, coco in (('car', 100, CAR), ('airplane', 101, AIRPLANE)):
        write_image(osp.join(ss, 'data', name, '000000000007.jpg'))
        write_mask(osp.join(ss, 'mask', name, f'000000000007_{ann:012d}.png'),
                   np.where(mask == coco, coco, 0))
    dog = np.zeros((H, W), np.uint8)
    dog[2:4, 2:5] = DOG
    for img, split in ((9, 'train'), (11, 'val')):
        write_image(osp.join(ss, 'data', 'dog', f'{img:012d}.jpg'), img)
        write_mask(osp.join(ss, 'mask', 'dog', f'{img:012d}_{200 + img:012d}'
                            '.png'), dog)
    write_csv(osp.join(ss, 'vpo_ss_data_stereo.csv'), [
        ['car', 7, 100, CAR, 'car', 'train', 0.2],
        ['airplane', 7, 101, AIRPLANE, 'plane', 'train', 0.75],
        ['dog', 9, 209, DOG, 'dog', 'train', 0.35],
        ['dog', 11, 211, DOG, 'dog2', 'val', 0.35],
    ])
    # VPO-MS
    ms = osp.join(root, 'VPO-MS')
    write_image(osp.join(ms, 'data', '000000000007.jpg'))
    write_mask(osp.join(ms, 'mask', '000000000007_000000000100.png'), mask)
    for img in (9, 11):
        write_image(osp.join(ms, 'data', f'{img:012d}.jpg'), img)
        write_mask(osp.join(ms, 'mask', f'{img:012d}_{200 + img:012d}.png'),
                   dog)
    ms_rows = [
        ['car', 7, 100, CAR, 'car', 'train', 0.2],
        ['airplane', 7, 100, AIRPLANE, 'plane', 'train', 0.75],
        ['dog', 9, 209, DOG, 'dog', 'train', 0.35],
        ['dog', 11, 211, DOG, 'dog2', 'val', 0.35],
    ]
    write_csv(osp.join(ms, 'vpo_ms_data_stereo.csv'), ms_rows)
    # VPO-MSMI: MS rows (multi_instance 0) + image 13 under VPO-MSMI/.
    msmi = osp.join(root, 'VPO-MSMI')
    two_dogs = np.zeros((H, W), np.uint8)
    two_dogs[1:3, 1:3] = DOG  # the sounding one; the other is background
    write_image(osp.join(msmi, 'data', '000000000013.jpg'), 13)
    write_mask(osp.join(msmi, 'mask', '000000000013_000000000300.png'),
               two_dogs)
    write_csv(osp.join(msmi, 'vpo_msmi_data_stereo.csv'),
              [r + [0] for r in ms_rows] +
              [['dog', 13, 300, DOG, 'dog2', 'train', 0.15, 1]],
              COLUMNS + ['multi_instance'])
    return root


@pytest.fixture
def vpo_root(tmp_path):
    return make_tree(tmp_path)


def load_pipeline(channels=2, flip=None, flip_first=False):
    steps = [dict(type='LoadAVSFrames'), dict(type='LoadVPOMask')]
    audio = [dict(type='LoadVPOAudio', channels=channels)]
    flips = [dict(type='VPORandomFlip', prob=1.0 if flip else 0.0)] \
        if flip is not None else []
    steps += flips + audio if flip_first else audio + flips
    return steps + [dict(type='PackAVSInputs')]


def build(root, subset='MS', pipeline=None, **kwargs):
    kwargs.setdefault('split', 'trainval')
    return DATASETS.build(dict(
        type=f'VPO{subset}Dataset', data_root=root,
        pipeline=load_pipeline() if pipeline is None else pipeline,
        **kwargs))


def by_name(dataset, name):
    index = [dataset.get_data_info(i)['clip_name']
             for i in range(len(dataset))].index(name)
    return dataset[index]


def expected_clip(name):
    """The 3-s window CAVP takes of each hand-made clip."""
    if name == 'car':  # 4 s: centre crop starts at 2 s - 1.5 s
        return ramp(4.0)[32000 - 24000:32000 + 24000]
    if name == 'plane':  # 1 s: tiled three times
        return np.tile(ramp(1.0, -1.0), 3)
    raise KeyError(name)


# -- the lookup table ------------------------------------------------------
def test_lookup_table_maps_the_22_classes_and_nothing_else():
    assert len(VPO_CLASSES) == 22 and VPO_LUT.shape == (256, )
    assert VPO_LUT[0] == 0 and VPO_LUT[3] == 5 and VPO_LUT[5] == 1
    assert VPO_LUT[92] == CLASS_INDEX['male'] == 14
    assert VPO_LUT[94] == CLASS_INDEX['baby'] == 2
    assert VPO_LUT[24] == 21 and VPO_LUT[255] == 255
    assert (VPO_LUT != 255).sum() == 22


def test_in_place_remap_bug_is_absent(vpo_root):
    """cavp.md §10.3: car (3 → 5) next to airplane (5 → 1) must stay car."""
    mask, unknown = remap_mask(car_airplane_mask())
    assert unknown == 0
    assert (mask[1:5, 1:4] == CLASS_INDEX['car']).all()
    assert (mask[1:5, 6:9] == CLASS_INDEX['airplane']).all()
    sample = by_name(build(vpo_root), '7')['data_samples'][0]
    gt = sample.gt_sem_seg.data[0].numpy()
    assert (gt[1:5, 1:4] == 5).all() and (gt[1:5, 6:9] == 1).all()
    assert set(np.unique(gt)) == {0, 1, 5}


def test_unknown_ids_become_ignore_with_a_warning(vpo_root, monkeypatch):
    path = osp.join(vpo_root, 'VPO-MS', 'mask', '000000000007_000000000100.png')
    mask = car_airplane_mask()
    mask[0, :3] = 200  # not a VPO id
    write_mask(path, mask)
    import mmavs.datasets.vpo as vpo
    logged = []
    monkeypatch.setattr(vpo, 'print_log',
                        lambda msg, **kwargs: logged.append(msg))
    gt = by_name(build(vpo_root), '7')['data_samples'][0].gt_sem_seg
    assert (gt.data[0, 0, :3] == 255).all()
    assert any(f'{path}: 3 pixels hold a COCO id that is not a VPO class'
               in message for message in logged)


# -- samples and audio -----------------------------------------------------
def test_ms_sample_is_one_image_with_its_summed_panned_sources(vpo_root):
    dataset = build(vpo_root)
    assert len(dataset) == 2  # the train images 7 and 9
    item = by_name(dataset, '7')
    assert tuple(item['inputs'].shape) == (1, 3, H, W)
    audio = item['audio'].numpy()
    assert audio.shape == (1, 2, 48000) and audio.dtype == np.float32
    car, plane = expected_clip('car'), expected_clip('plane')
    np.testing.assert_allclose(audio[0, 0], car * 0.8 + plane * 0.25,
                               atol=1e-6)
    np.testing.assert_allclose(audio[0, 1], car * 0.2 + plane * 0.75,
                               atol=1e-6)
    sample = item['data_samples'][0]
    assert sample.sounding_classes == [1, 5]
    assert sample.num_frames == 1 and sample.annotated


def test_resampled_stereo_file_and_mono_option(vpo_root):
    item = by_name(build(vpo_root, pipeline=load_pipeline(channels=1),
                         audio_channels=1), '9')
    audio = item['audio'].numpy()
    assert audio.shape == (1, 1, 48000)
    # 96,000 samples written at 8 kHz: a 12-s 0..0.5 ramp, resampled to
    # 16 kHz; the centre 3 s (from 4.5 s) run from 0.1875 to 0.3125.
    assert abs(audio[0, 0, 24000] - 0.25) < 2e-3
    assert abs(audio[0, 0, 100] - 0.1875) < 2e-3


def test_mono_reads_a_csv_without_audio_pos(vpo_root):
    path = osp.join(vpo_root, 'VPO-MS', 'vpo_ms_data_stereo.csv')
    with open(path) as f:
        rows = list(csv.reader(f))
    write_csv(path, [r[:6] for r in rows[1:]], COLUMNS[:6])
    with pytest.raises(DatasetLayoutError, match='audio_pos'):
        build(vpo_root)
    mono = build(vpo_root, pipeline=load_pipeline(channels=1),
                 audio_channels=1)
    audio = by_name(mono, '7')['audio'].numpy()
    np.testing.assert_allclose(
        audio[0, 0], expected_clip('car') + expected_clip('plane'), atol=1e-6)


@pytest.mark.parametrize('subset', ['SS', 'MS', 'MSMI'])
@pytest.mark.parametrize('flip_first', [False, True])
def test_flip_mirrors_image_mask_and_stereo_in_every_subset(
        vpo_root, subset, flip_first):
    """cavp.md §10.2 absent: the flipped sample's audio is the audio of the
    mirrored positions (1 - pos), i.e. its channels swapped, in SS too;
    flipping before or after loading the audio gives the same result."""
    plain = build(vpo_root, subset, load_pipeline(flip=False))
    flipped = build(vpo_root, subset,
                    load_pipeline(flip=True, flip_first=flip_first))
    for i in range(len(plain)):
        a, b = plain[i], flipped[i]
        assert b['data_samples'][0].flip
        np.testing.assert_array_equal(b['inputs'].numpy(),
                                      a['inputs'].numpy()[..., ::-1])
        np.testing.assert_array_equal(
            b['data_samples'][0].gt_sem_seg.data.numpy(),
            a['data_samples'][0].gt_sem_seg.data.numpy()[..., ::-1])
        np.testing.assert_allclose(b['audio'].numpy(),
                                   a['audio'].numpy()[:, ::-1], atol=1e-7)
    # SS car sample at pos 0.2: flipped, the left channel is 0.2 w.
    info = [plain.get_data_info(i)['clip_name'] for i in range(len(plain))]
    if subset == 'SS':
        item = flipped[info.index('7_100')]
        np.testing.assert_allclose(item['audio'][0, 0].numpy(),
                                   0.2 * expected_clip('car'), atol=1e-6)


def test_flip_transform_keeps_mono_audio():
    flip = TRANSFORMS.build(dict(type='VPORandomFlip', prob=1.0))
    audio = np.arange(6, dtype=np.float32).reshape(1, 1, 6)
    out = flip(dict(imgs=[np.zeros((2, 3, 3), np.uint8)], audio=audio,
                    audio_pos=[0.3]))
    np.testing.assert_array_equal(out['audio'], audio)
    assert out['audio_pos'] == [pytest.approx(0.7)]


def test_ss_sample_per_row_with_its_class_folder(vpo_root):
    dataset = build(vpo_root, 'SS')
    names = [dataset.get_data_info(i)['clip_name'] for i in range(len(dataset))]
    assert names == ['7_100', '7_101', '9_209']
    info = dataset.get_data_info(1)
    assert info['frame_paths'][0].endswith(
        osp.join('VPO-SS', 'data', 'airplane', '000000000007.jpg'))
    assert info['sounding_classes'] == [CLASS_INDEX['airplane']]
    gt = dataset[1]['data_samples'][0].gt_sem_seg.data[0].numpy()
    assert set(np.unique(gt)) == {0, 1}


def test_msmi_rows_point_into_ms_or_msmi(vpo_root):
    dataset = build(vpo_root, 'MSMI')
    paths = {dataset.get_data_info(i)['clip_name']:
             dataset.get_data_info(i)['frame_paths'][0]
             for i in range(len(dataset))}
    assert set(paths) == {'7', '9', '13'}
    assert osp.join('VPO-MS', 'data') in paths['7']
    assert osp.join('VPO-MSMI', 'data') in paths['13']
    gt = by_name(dataset, '13')['data_samples'][0].gt_sem_seg.data[0]
    assert int((gt == CLASS_INDEX['dog']).sum()) == 4


# -- splits ---------------------------------------------------------------
def test_val_in_the_csv_is_the_test_split(vpo_root):
    test = build(vpo_root, split='test')
    assert [test.get_data_info(i)['clip_name'] for i in range(len(test))] \
        == ['11']


def test_holdout_is_seeded_disjoint_and_five_percent():
    ids = list(range(1000, 1100))
    held = holdout_ids(ids)
    assert len(held) == 5 and held == holdout_ids(list(reversed(ids)))
    assert held != holdout_ids(ids, seed=1)
    assert holdout_ids([3]) == set() and len(holdout_ids([3, 4])) == 1


def test_train_and_val_partition_trainval(vpo_root):
    names = {}
    for split in ('train', 'val', 'trainval'):
        dataset = build(vpo_root, split=split)
        names[split] = {dataset.get_data_info(i)['clip_name']
                        for i in range(len(dataset))}
    assert len(names['val']) == 1
    assert names['train'] | names['val'] == names['trainval']
    assert not names['train'] & names['val']


def test_shuffled_audio_is_a_derangement_of_whole_sounds(vpo_root):
    plain = build(vpo_root, 'SS')
    shuffled = build(vpo_root, 'SS', shuffle_audio=True)
    again = build(vpo_root, 'SS', shuffle_audio=True)
    own = [plain.get_data_info(i)['sources'] for i in range(len(plain))]
    got = [shuffled.get_data_info(i)['sources'] for i in range(len(plain))]
    assert got == [again.get_data_info(i)['sources']
                   for i in range(len(plain))]
    assert sorted(map(str, got)) == sorted(map(str, own))
    assert all(g != o for g, o in zip(got, own))


# -- errors name the file and the problem ----------------------------------
def test_missing_column(vpo_root):
    path = osp.join(vpo_root, 'VPO-MS', 'vpo_ms_data_stereo.csv')
    write_csv(path, [['car', 7, 100, 3, 'car', 'train', 0.2]],
              ['cateName', 'img_Id', 'ann_Ids', 'cateId', 'vgg', 'split',
               'audio_pos'])
    with pytest.raises(DatasetLayoutError, match=r"vgg_file"):
        build(vpo_root)


@pytest.mark.parametrize('what,path', [
    ('image', 'VPO-MS/data/000000000009.jpg'),
    ('mask', 'VPO-MS/mask/000000000009_000000000209.png'),
    ('audio', 'vggsound/audios/dog.wav'),
])
def test_missing_file(vpo_root, what, path):
    os.remove(osp.join(vpo_root, path))
    with pytest.raises(FileNotFoundError, match=f'missing VPO {what} .*'
                       + osp.basename(path)):
        build(vpo_root)


def test_mask_of_another_size(vpo_root):
    path = osp.join(vpo_root, 'VPO-MS', 'mask', '000000000009_000000000209.png')
    write_mask(path, np.zeros((H + 1, W), np.uint8))
    with pytest.raises(ClipFileError, match=f'{path}: mask is {W}x{H + 1}'):
        by_name(build(vpo_root), '9')


def test_several_mask_paths_for_one_image(vpo_root):
    path = osp.join(vpo_root, 'VPO-MS', 'vpo_ms_data_stereo.csv')
    write_csv(path, [['car', 7, 100, 3, 'car', 'train', 0.2],
                     ['airplane', 7, 101, 5, 'plane', 'train', 0.7]])
    with pytest.raises(DatasetLayoutError, match='image 7 .* 2 mask files'):
        build(vpo_root, check_files=False)


def test_empty_split_and_bad_values(vpo_root):
    path = osp.join(vpo_root, 'VPO-MS', 'vpo_ms_data_stereo.csv')
    write_csv(path, [['dog', 9, 209, 18, 'dog', 'train', 0.35]])
    with pytest.raises(DatasetLayoutError, match='no sample of split "test"'):
        build(vpo_root, split='test')
    write_csv(path, [['dog', 9, 209, 18, 'dog', 'train', 1.5]])
    with pytest.raises(DatasetLayoutError, match='line 2: audio_pos 1.5'):
        build(vpo_root)
    write_csv(path, [['wolf', 9, 209, 18, 'dog', 'train', 0.5]])
    with pytest.raises(DatasetLayoutError, match='"wolf" is not a VPO class'):
        build(vpo_root)
    with pytest.raises(ValueError, match='unknown split'):
        build(vpo_root, split='dev')


# -- augmentation ----------------------------------------------------------
def test_training_pipeline_crops_and_jitters(vpo_root):
    pipeline = load_pipeline(flip=True)[:-1] + [
        dict(type='AVSColorJitter'),
        dict(type='AVSSRandomScaleCrop', scales=(0.5, 2.0), crop_size=(8, 8),
             flip_prob=0.0),
        dict(type='PackAVSInputs')
    ]
    item = by_name(build(vpo_root, pipeline=pipeline), '7')
    assert tuple(item['inputs'].shape) == (1, 3, 8, 8)
    assert item['data_samples'][0].flip  # kept through the crop
    gt = item['data_samples'][0].gt_sem_seg.data
    assert set(gt.unique().tolist()) <= {0, 1, 5, 255}


def test_colour_jitter_identity_and_hue():
    jitter = TRANSFORMS.build(dict(type='AVSColorJitter', brightness=0,
                                   contrast=0, saturation=0, hue=0))
    img = np.random.default_rng(0).integers(0, 255, (4, 5, 3), np.uint8)
    out = jitter(dict(imgs=[img.copy()]))
    np.testing.assert_array_equal(out['imgs'][0], img)
    from mmavs.datasets.transforms.vpo_augment import adjust_hue
    red = Image.fromarray(np.full((2, 2, 3), (255, 0, 0), np.uint8))
    # A third of a turn takes pure red to (about) pure green.
    green = np.asarray(adjust_hue(red, 1 / 3))[0, 0]
    assert green[1] > 240 and green[0] < 20 and green[2] < 20
