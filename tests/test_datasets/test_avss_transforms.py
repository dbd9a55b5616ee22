"""AVSS transforms: audio from audio.wav (VGGish log-mel with its .npy cache,
waveform pieces), the two resize policies, padding frames."""
import os
import os.path as osp
import random

import numpy as np
import pytest
from PIL import Image
from scipy.io import wavfile

import mmavs.datasets.transforms.avss_loading as loading
from mmavs.datasets.avss import ColorToIndex, avss_palette
from mmavs.datasets.transforms import (AVSSRandomScaleCrop, AVSSResize224,
                                       LoadAVSFrames, LoadAVSSAudio,
                                       LoadAVSSWaveform, PackAVSInputs)
from mmavs.datasets.transforms.loading import MEAN_BGR
from mmavs.media import waveform_to_examples


def write_wav(path, seconds, rate=16000, seed=0):
    os.makedirs(osp.dirname(path), exist_ok=True)
    wave = np.random.default_rng(seed).uniform(-0.5, 0.5, int(seconds * rate))
    wavfile.write(path, rate, (wave * 32767).astype(np.int16))
    return wave


def test_log_mel_zero_fills_short_and_truncates_long_audio(tmp_path):
    short = str(tmp_path / 'v1s' / 'a' / 'audio.wav')
    write_wav(short, 5.2)
    features = loading.wav_log_mel(short)
    rate, data = wavfile.read(short)
    reference = waveform_to_examples(data, rate)
    assert features.shape == (10, 1, 96, 64) and len(reference) == 5
    np.testing.assert_array_equal(features[:5], reference)
    assert (features[5:] == 0).all()
    long = str(tmp_path / 'v2' / 'b' / 'audio.wav')
    write_wav(long, 12.5, rate=22050)
    rate, data = wavfile.read(long)
    np.testing.assert_array_equal(loading.wav_log_mel(long),
                                  waveform_to_examples(data, rate)[:10])
    assert loading.count_examples(len(data), rate) == 13


def test_audio_is_cached_as_npy_and_refreshed(tmp_path, monkeypatch):
    wav = str(tmp_path / 'v2' / 'clip' / 'audio.wav')
    write_wav(wav, 10)
    transform = LoadAVSSAudio()
    first = transform(dict(audio_path=wav))['audio']
    cache = str(tmp_path / 'v2' / 'clip' / 'audio.vggish.npy')
    np.testing.assert_array_equal(np.load(cache, allow_pickle=False), first)
    calls = []
    real = loading.wav_log_mel
    monkeypatch.setattr(loading, 'wav_log_mel',
                        lambda p: calls.append(p) or real(p))
    again = transform(dict(audio_path=wav, frame_indices=[4]))['audio']
    assert calls == [] and again.shape == (1, 1, 96, 64)
    np.testing.assert_array_equal(again[0], first[4])
    # A WAV newer than its cache is read again.
    os.utime(wav, (osp.getmtime(cache) + 10, ) * 2)
    transform(dict(audio_path=wav))
    assert calls == [wav]
    # cache_dir keeps <label>/<uid>/ and writes nothing next to the WAV.
    other = LoadAVSSAudio(cache_dir=str(tmp_path / 'cache'))
    other(dict(audio_path=wav))
    assert osp.isfile(tmp_path / 'cache' / 'v2' / 'clip' / 'audio.vggish.npy')
    assert not any(n.endswith('.tmp') or '.tmp-' in n
                   for n in os.listdir(tmp_path / 'v2' / 'clip'))


def test_audio_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='missing audio: .*x.wav'):
        LoadAVSSAudio(cache=False)(dict(audio_path=str(tmp_path / 'x.wav')))
    bad = tmp_path / 'bad.wav'
    bad.write_bytes(b'not a wav')
    with pytest.raises(ValueError, match='bad.wav: corrupt or unreadable audio'):
        LoadAVSSAudio(cache=False)(dict(audio_path=str(bad)))


def test_waveform_pieces_repeat_a_short_clip(tmp_path):
    wav = str(tmp_path / 'audio.wav')
    wave = write_wav(wav, 5)
    audio = LoadAVSSWaveform()(dict(audio_path=wav))['audio']
    assert audio.shape == (10, 1, 16000)
    np.testing.assert_allclose(audio[0, 0], wave[:16000], atol=1e-4)
    np.testing.assert_array_equal(audio[5], audio[0])
    piece = LoadAVSSWaveform()(dict(audio_path=wav, frame_indices=[7]))
    np.testing.assert_array_equal(piece['audio'][0], audio[7])


def test_padding_frames_take_the_mean_colour(tmp_path):
    path = str(tmp_path / '0.jpg')
    Image.new('RGB', (6, 4), (10, 20, 30)).save(path)
    out = LoadAVSFrames()(dict(frame_paths=[path, None]))
    assert out['imgs'][1].shape == (4, 6, 3)
    assert (out['imgs'][1] == np.asarray(MEAN_BGR)).all()


def clip(height, width, frames=2, seed=0):
    rng = np.random.default_rng(seed)
    imgs = [rng.integers(0, 255, (height, width, 3), dtype=np.uint8)] * frames
    masks = [rng.integers(0, 71, (height, width), dtype=np.uint8)] * frames
    return dict(imgs=list(imgs), gt_masks=list(masks),
                img_shape=(height, width), ori_shape=(height, width))


def test_224_protocol_train_resizes_the_short_side_and_centre_crops():
    results = clip(40, 60)
    image, mask = results['imgs'][0], results['gt_masks'][0]
    out = AVSSResize224(size=20, mode='train')(dict(results))
    # Short side 40 -> 20, long side int(60 * 20 / 40) = 30; left offset 5.
    expected = np.asarray(Image.fromarray(image).resize(
        (30, 20), Image.BILINEAR))[:, 5:25]
    np.testing.assert_array_equal(out['imgs'][0], expected)
    assert out['gt_masks'][0].shape == (20, 20)
    assert out['ori_shape'] == (40, 60) and out['img_shape'] == (20, 20)
    # Nearest resizing of class maps equals resizing the colour PNG first.
    colours = avss_palette()[mask]
    resized = np.asarray(Image.fromarray(colours).resize((30, 20),
                                                         Image.NEAREST))
    np.testing.assert_array_equal(ColorToIndex()(resized[:, 5:25])[0],
                                  out['gt_masks'][0])
    tall = AVSSResize224(size=20, mode='train')(clip(60, 40))
    assert tall['imgs'][0].shape == (20, 20, 3)


def test_224_protocol_test_squashes_and_scores_at_224():
    out = AVSSResize224(mode='test')(clip(40, 60))
    assert out['imgs'][0].shape == (224, 224, 3)
    assert out['gt_masks'][0].shape == (224, 224)
    assert out['ori_shape'] == (224, 224)


def test_original_resolution_training_crop():
    random.seed(0)
    transform = AVSSRandomScaleCrop(scales=(0.5, ), crop_size=(32, 32),
                                    flip_prob=1.0)
    out = transform(clip(40, 50, frames=3))
    # 40x50 at 0.5 is 20x25: padded to 32x32 (frames mean colour, masks 255).
    assert out['img_shape'] == (32, 32) and out['flip']
    assert all((m == out['gt_masks'][0]).all() for m in out['gt_masks'])
    assert all((i == out['imgs'][0]).all() for i in out['imgs'])
    assert (out['gt_masks'][0] == 255).sum() == 32 * 32 - 20 * 25
    assert (out['imgs'][0] == np.asarray(MEAN_BGR)).all(-1).sum() >= \
        32 * 32 - 20 * 25
    big = AVSSRandomScaleCrop(crop_size=(16, 16))(clip(40, 50))
    assert big['imgs'][0].shape == (16, 16, 3) and \
        (big['gt_masks'][0] != 255).all()


def test_pack_emits_the_clip_contract_keys():
    results = dict(clip(4, 4, frames=3), audio=np.zeros((3, 1, 96, 64),
                                                        np.float32),
                   frame_paths=['a', 'b', None], frame_valid=[1, 1, 0],
                   annotated=[1, 0, 0], frame_indices=[0, 1, 2],
                   subset='v1s', split='train', sample_idx=7, num_frames=3)
    samples = PackAVSInputs()(results)['data_samples']
    assert [s.frame_valid for s in samples] == [True, True, False]
    assert [s.annotated for s in samples] == [True, False, False]
    assert {s.subset for s in samples} == {'v1s'}
    assert [s.frame_index for s in samples] == [0, 1, 2]
    assert {s.clip_index for s in samples} == {7}
    assert {s.num_frames for s in samples} == {3}
