import os
import pickle

import numpy as np
import pytest
import torch
from mmseg.registry import DATASETS, TRANSFORMS
from PIL import Image

from conftest import MINI_FRAMES
from mmavs.datasets.transforms import ClipFileError

PIPELINE = [
    dict(type='LoadAVSFrames'),
    dict(type='LoadAVSMasks'),
    dict(type='LoadAVSAudio'),
    dict(type='PackAVSInputs')
]


def load(root, index=0, split='val'):
    dataset = DATASETS.build(
        dict(type='AVSBenchMS3Dataset', data_root=root, split=split,
             num_frames=MINI_FRAMES, pipeline=PIPELINE))
    return dataset.get_data_info(index), lambda: dataset[index]


@pytest.mark.parametrize('name', [t['type'] for t in PIPELINE])
def test_transforms_are_registered(name):
    assert TRANSFORMS.build(dict(type=name)).__class__.__name__ == name


def test_frames_are_bgr_like_mmseg(avsbench_root):
    info, sample = load(avsbench_root)
    rgb = np.asarray(Image.open(info['frame_paths'][0]).convert('RGB'))
    frames = sample()['inputs']
    assert torch.equal(frames[0].permute(1, 2, 0),
                       torch.from_numpy(rgb[..., ::-1].copy()))


def test_palette_mask_values_are_binarised(avsbench_copy):
    info, sample = load(avsbench_copy)
    palette_mask = Image.new('P', (64, 64), 0)
    palette_mask.putpalette([0, 0, 0, 128, 0, 0, 10, 10, 10] + [0] * 759)
    pixels = np.zeros((64, 64), np.uint8)
    pixels[:10] = 1
    pixels[10:20] = 2
    palette_mask.putdata(pixels.flatten().tolist())
    palette_mask.save(info['mask_paths'][0])
    gt = sample()['data_samples'][0].gt_sem_seg.data[0]
    assert gt[:20].eq(1).all() and gt[20:].eq(0).all()


def test_missing_frame_is_named(avsbench_copy):
    info, sample = load(avsbench_copy)
    os.remove(info['frame_paths'][1])
    with pytest.raises(FileNotFoundError, match='missing frame: .*mp4_2.png'):
        sample()


def test_corrupt_frame_is_named(avsbench_copy):
    info, sample = load(avsbench_copy)
    with open(info['frame_paths'][0], 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\n garbage')
    with pytest.raises(ClipFileError, match='mp4_1.png: corrupt or unreadable '
                       'frame'):
        sample()


def test_truncated_frame_is_named(avsbench_copy):
    info, sample = load(avsbench_copy)
    data = open(info['frame_paths'][0], 'rb').read()
    with open(info['frame_paths'][0], 'wb') as f:
        f.write(data[:len(data) // 2])
    with pytest.raises(ClipFileError, match='mp4_1.png'):
        sample()


def test_frames_of_different_sizes(avsbench_copy):
    info, sample = load(avsbench_copy)
    Image.new('RGB', (32, 32)).save(info['frame_paths'][1])
    with pytest.raises(ClipFileError, match='mp4_2.png: frame is 32x32'):
        sample()


def test_missing_and_corrupt_masks(avsbench_copy):
    info, sample = load(avsbench_copy)
    os.remove(info['mask_paths'][1])
    with pytest.raises(FileNotFoundError, match='missing mask: .*_2.png'):
        sample()
    with open(info['mask_paths'][1], 'wb') as f:
        f.write(b'not an image')
    with pytest.raises(ClipFileError, match='corrupt or unreadable mask'):
        sample()
    Image.new('L', (10, 64)).save(info['mask_paths'][1])
    with pytest.raises(ClipFileError,
                       match='_2.png: mask is 10x64 but its frames'):
        sample()


@pytest.mark.parametrize('array, message', [
    (np.zeros((MINI_FRAMES + 1, 1, 96, 64), np.float32), r'have shape \(3, '),
    (np.zeros((MINI_FRAMES, 96, 64), np.float32), r'expected \(2, 1, 96, 64'),
    (np.full((MINI_FRAMES, 1, 96, 64), np.nan, np.float32), 'NaN or inf'),
])
def test_bad_audio_arrays(avsbench_copy, array, message):
    info, sample = load(avsbench_copy)
    with open(info['audio_path'], 'wb') as f:
        pickle.dump(torch.from_numpy(array), f)
    with pytest.raises(ClipFileError, match=message):
        sample()


def test_missing_corrupt_and_malicious_audio(avsbench_copy, tmp_path):
    info, sample = load(avsbench_copy)
    os.remove(info['audio_path'])
    with pytest.raises(FileNotFoundError, match='missing audio features'):
        sample()
    with open(info['audio_path'], 'wb') as f:
        f.write(b'\x80\x04 truncated')
    with pytest.raises(ClipFileError, match='corrupt or unreadable audio'):
        sample()
    marker = tmp_path / 'pwned'

    class RunsCode:

        def __reduce__(self):
            return (os.mkdir, (str(marker), ))

    with open(info['audio_path'], 'wb') as f:
        pickle.dump(RunsCode(), f)
    with pytest.raises(ClipFileError, match='refused to unpickle audio'):
        sample()
    assert not marker.exists()


def test_npy_audio_with_objects_is_refused(avsbench_copy):
    info, sample = load(avsbench_copy)
    npy = info['audio_path'][:-4] + '.npy'
    np.save(npy, np.array([{'a': 1}], dtype=object), allow_pickle=True)
    _, sample = load(avsbench_copy)
    with pytest.raises(ClipFileError, match='.npy'):
        sample()


@pytest.mark.parametrize('resize_masks', [True, False])
def test_resize_clip(avsbench_root, resize_masks):
    pipeline = PIPELINE[:3] + [
        dict(type='ResizeAVSClip', scale=(96, 80), resize_masks=resize_masks),
        PIPELINE[-1]
    ]
    dataset = DATASETS.build(
        dict(type='AVSBenchMS3Dataset', data_root=avsbench_root, split='val',
             num_frames=MINI_FRAMES, pipeline=pipeline))
    packed = dataset[0]
    original = load(avsbench_root)[1]()
    assert packed['inputs'].shape[-2:] == (80, 96)
    meta = packed['data_samples'][0].metainfo
    assert meta['img_shape'] == (80, 96) and meta['ori_shape'] == (64, 64)
    mask = packed['data_samples'][0].gt_sem_seg.data[0]
    original_mask = original['data_samples'][0].gt_sem_seg.data[0]
    if resize_masks:
        assert mask.shape == (80, 96)
        assert set(mask.unique().tolist()) <= {0, 1}
        # Nearest neighbour: the corner pixels keep their labels.
        assert mask[0, 0] == original_mask[0, 0]
        assert mask[-1, -1] == original_mask[-1, -1]
    else:
        assert torch.equal(mask, original_mask)


def test_clip_file_errors_are_media_errors():
    """One error type: the transforms' errors are MediaErrors of the same
    (path, problem) form, and survive pickling (dataloader workers)."""
    import pickle

    from mmavs.datasets.transforms.loading import AudioFeatureError
    from mmavs.media import MediaError
    error = ClipFileError('a/b.png', 'corrupt or unreadable frame: x')
    assert isinstance(error, MediaError) and isinstance(error, ValueError)
    assert str(error) == 'a/b.png: corrupt or unreadable frame: x'
    assert (error.path, error.problem) == ('a/b.png',
                                           'corrupt or unreadable frame: x')
    audio = AudioFeatureError('c.npy', 'audio features contain NaN or inf',
                              'audio features with NaN or inf')
    copy = pickle.loads(pickle.dumps(audio))
    assert type(copy) is AudioFeatureError and str(copy) == str(audio)
    assert copy.kind == audio.kind
