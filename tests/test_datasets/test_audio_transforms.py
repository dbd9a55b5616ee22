"""On-the-fly audio: LoadAudioWaveform and WaveformToLogMel on generated WAVs."""
import numpy as np
import pytest
from scipy.io import wavfile

from mmavs.data_tools.avsbench_prepare import clip_log_mel
from mmavs.datasets import AVSBenchS4Dataset
from mmavs.datasets.transforms import LoadAudioWaveform, WaveformToLogMel
from mmavs.media import MediaError, waveform_to_examples


def write_wav(path, seconds, rate=16000, channels=2, seed=0):
    """int16 PCM whose channels differ (a tone left, noise right)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    left = 0.4 * np.sin(2 * np.pi * 440 * t)
    right = rng.normal(0, 0.1, t.shape)
    data = np.stack([left, right], axis=1)[:, :channels]
    pcm = (data * 32767).astype(np.int16)
    wavfile.write(str(path), rate, pcm)
    return pcm


def load(path, num_frames=5, **kwargs):
    return LoadAudioWaveform(**kwargs)(
        dict(wav_path=str(path), num_frames=num_frames))


def test_mono_windows_of_one_second(tmp_path):
    pcm = write_wav(tmp_path / 'a.wav', 5.2)
    results = load(tmp_path / 'a.wav')
    audio = results['audio']
    assert audio.shape == (5, 1, 16000) and audio.dtype == np.float32
    mono = pcm.astype(np.float64).mean(axis=1) / 32768
    np.testing.assert_array_equal(audio[3, 0], mono[48000:64000])
    assert results['waveform'].shape == (len(pcm), 1)


def test_stereo_keeps_the_channels_and_resamples(tmp_path):
    pcm = write_wav(tmp_path / 'b.wav', 2.0, rate=44100)
    audio = load(tmp_path / 'b.wav', num_frames=2, channels=2)['audio']
    assert audio.shape == (2, 2, 16000)
    # Left is the 440 Hz tone, right the noise, after resampling.
    spectrum = np.abs(np.fft.rfft(audio[0, 0]))
    assert np.argmax(spectrum) == 440
    assert np.abs(audio[:, 0]).max() == pytest.approx(0.4, abs=0.02)
    assert not np.allclose(audio[:, 0], audio[:, 1])


def test_centre_crop_and_tiling(tmp_path):
    write_wav(tmp_path / 'long.wav', 10.0, channels=1)
    whole = load(tmp_path / 'long.wav', num_frames=1)['waveform'][:, 0]
    crop = load(tmp_path / 'long.wav', num_frames=1, window=3.0,
                clip_seconds=3.0, crop='centre')['audio']
    assert crop.shape == (1, 1, 48000)
    np.testing.assert_array_equal(crop[0, 0], whole[56000:104000])
    write_wav(tmp_path / 'short.wav', 1.25, channels=1)
    short = load(tmp_path / 'short.wav', num_frames=1)['waveform'][:, 0]
    tiled = load(tmp_path / 'short.wav', num_frames=1, window=3.0,
                 clip_seconds=3.0)['audio'][0, 0]
    np.testing.assert_array_equal(tiled, np.tile(short, 3)[:48000])
    zero = load(tmp_path / 'short.wav', num_frames=2, pad='zero')['audio']
    np.testing.assert_array_equal(zero[1, 0, 4000:], 0)


def test_log_mel_equals_the_precomputed_features(tmp_path):
    # What the preparation tool writes: a 16 kHz int16 stereo WAV and the
    # log-mel of the same samples.
    pcm = write_wav(tmp_path / 'clip.wav', 4.6)
    precomputed = clip_log_mel(pcm, 5)  # short clip: last example repeated
    results = WaveformToLogMel()(load(tmp_path / 'clip.wav'))
    assert results['audio'].shape == (5, 1, 96, 64)
    np.testing.assert_array_equal(results['audio'], precomputed)
    # At another rate: the same as the numpy path on the file's samples.
    pcm = write_wav(tmp_path / 'clip44.wav', 3.0, rate=44100)
    results = WaveformToLogMel()(load(tmp_path / 'clip44.wav', num_frames=3))
    np.testing.assert_allclose(results['audio'],
                               waveform_to_examples(pcm, 44100, 3),
                               atol=1e-4)
    zero = WaveformToLogMel(pad='zero')(load(tmp_path / 'clip.wav',
                                             num_frames=6))['audio']
    np.testing.assert_array_equal(zero[:4], precomputed[:4])
    assert (zero[4:] == 0).all()


def test_errors_name_the_file_and_the_problem(tmp_path):
    garbage = tmp_path / 'garbage.wav'
    garbage.write_bytes(b'not a wav file' * 10)
    write_wav(tmp_path / 'short.wav', 0.5)
    write_wav(tmp_path / 'mono.wav', 2.0, channels=1)
    write_wav(tmp_path / 'stereo.wav', 2.0)
    cases = [
        (dict(path=tmp_path / 'missing.wav'), 'audio file not found'),
        (dict(path=garbage), 'cannot read WAV audio'),
        (dict(path=tmp_path / 'short.wav'), 'too short'),
        (dict(path=tmp_path / 'mono.wav', channels=2),
         r'has 1 audio channel\(s\), 2 requested'),
        (dict(path=tmp_path / 'stereo.wav', pad='error'),
         'shorter than the 80000 needed'),
    ]
    for kwargs, message in cases:
        path = kwargs.pop('path')
        with pytest.raises(MediaError, match=message) as err:
            load(path, **kwargs)
        assert str(path) in str(err.value) and err.value.path == str(path)
    results = load(tmp_path / 'short.wav', min_seconds=0.1)
    with pytest.raises(MediaError, match='short.wav: audio of 0.500 s'):
        WaveformToLogMel()(results)


def test_datasets_name_the_wav_next_to_the_features(avsbench_root):
    dataset = AVSBenchS4Dataset(data_root=avsbench_root, split='val',
                                num_frames=2)
    info = dataset.get_data_info(0)
    assert info['wav_path'].endswith(
        f'audio_wav/val/{info["category"]}/{info["clip_name"]}.wav')
    results = LoadAudioWaveform()(dict(info))
    assert results['audio'].shape == (2, 1, 16000)
