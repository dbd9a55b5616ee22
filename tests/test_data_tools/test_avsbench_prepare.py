"""Frames and log-mel from a video, as AVSBench extracted them.

The videos are generated: a red square whose position encodes the frame
index, over a 1 kHz tone (``video_fixtures.py``).
"""
import os.path as osp

import numpy as np
import pytest

pytest.importorskip('av')

from mmavs.data_tools.avsbench_prepare import (  # noqa: E402
    clip_log_mel, convert_video)
from mmavs.media import (REFERENCE_CLIP, read_reference_audio,  # noqa: E402
                         read_reference_frames, reference_frame_index)
from mmavs.media.vggish_logmel import hertz_to_mel  # noqa: E402
from video_fixtures import (HEIGHT, WIDTH, make_video, red_centroid,  # noqa
                            square_centre)

SIZE = 224


@pytest.fixture(scope='module')
def videos(tmp_path_factory):
    root = tmp_path_factory.mktemp('videos')
    paths = dict(long=str(root / 'long.mp4'), short=str(root / 'short.mp4'))
    make_video(paths['long'], seconds=6.0)
    make_video(paths['short'], seconds=3.0)
    return paths


def squashed_centre(index):
    x, y = square_centre(index)
    return x * SIZE / WIDTH, y * SIZE / HEIGHT


def band_nearest(hz):
    """Index of the VGGish mel band whose centre is nearest ``hz``."""
    edges = np.linspace(hertz_to_mel(125.0), hertz_to_mel(7500.0), 66)
    centres = 700.0 * (np.exp(edges[1:-1] / 1127.0) - 1.0)
    return int(np.abs(centres - hz).argmin())


def test_reference_frame_index():
    assert [reference_frame_index(s, 30) for s in range(5)] == \
        [28, 58, 88, 118, 148]
    # 15/16 of a 25-frame second is 23.4: frame 23; 29.97 fps rounds to 30.
    assert [reference_frame_index(s, 25) for s in range(3)] == [23, 48, 73]
    assert reference_frame_index(1, 29.97) == 58


def test_one_frame_near_the_end_of_each_second(videos):
    frames = read_reference_frames(videos['long'], num_frames=5)
    assert len(frames) == 5
    for second, frame in enumerate(frames):
        assert frame.shape == (SIZE, SIZE, 3) and frame.dtype == np.uint8
        expected = squashed_centre(30 * second + 28)
        assert np.allclose(red_centroid(frame), expected, atol=1.5), second


def test_short_video_repeats_its_last_frame(videos):
    frames = read_reference_frames(videos['short'], num_frames=5)
    last = squashed_centre(89)  # the 3 s video's last frame
    assert np.allclose(red_centroid(frames[2]), squashed_centre(88),
                       atol=1.5)
    for frame in frames[3:]:
        assert np.allclose(red_centroid(frame), last, atol=1.5)


def test_untrimmed_video_starts_at_the_given_time(videos):
    frames = read_reference_frames(videos['long'], num_frames=2, start=2.0)
    assert np.allclose(red_centroid(frames[0]), squashed_centre(60 + 28),
                       atol=1.5)


@pytest.mark.parametrize('mode', ['reference', 'resample'])
def test_log_mel_of_a_tone(videos, mode):
    wave = read_reference_audio(videos['long'], mode)
    assert wave.dtype == np.int16
    assert abs(len(wave) / 16000 - 6.0) < 0.05
    log_mel = clip_log_mel(wave, 5)
    assert log_mel.shape == (5, 1, 96, 64) and log_mel.dtype == np.float32
    peak = log_mel.mean(axis=(1, 2)).argmax(axis=-1)
    assert (peak == band_nearest(1000.0)).all()


def test_reference_audio_picks_nearest_44k_samples(videos):
    from mmavs.media import decode_audio
    full = decode_audio(videos['long'], 44100, 'stereo')
    wave = read_reference_audio(videos['long'], 'reference')
    assert wave.shape[1] == 2  # moviepy reads stereo
    for k in (0, 1, 2, 1000, 77777):
        expected = np.clip(full[int(np.round(44100 * k / 16000))],
                           -REFERENCE_CLIP, REFERENCE_CLIP)
        assert (wave[k] == expected).all(), k


def test_short_clip_repeats_its_last_example(videos):
    log_mel = clip_log_mel(read_reference_audio(videos['short']), 5)
    assert log_mel.shape == (5, 1, 96, 64)
    assert np.array_equal(log_mel[3], log_mel[2])
    assert np.array_equal(log_mel[4], log_mel[2])
    assert not np.array_equal(log_mel[1], log_mel[2])


def test_convert_video_writes_the_files(videos, tmp_path):
    frames = [str(tmp_path / 'f' / f'clip_{i + 1}.png') for i in range(5)]
    feat = str(tmp_path / 'mel' / 'clip.npy')
    wav = str(tmp_path / 'wav' / 'clip.wav')
    convert_video(videos['long'], frames, feat, wav)
    assert all(osp.isfile(p) for p in frames)
    assert np.load(feat).shape == (5, 1, 96, 64)
    from scipy.io import wavfile
    rate, data = wavfile.read(wav)
    assert rate == 16000 and data.dtype == np.int16 and data.shape[1] == 2


def test_missing_audio_stream_is_an_error(tmp_path):
    import av
    path = str(tmp_path / 'silent.mp4')
    with av.open(path, 'w') as container:
        stream = container.add_stream('mpeg4', rate=10)
        stream.width, stream.height, stream.pix_fmt = 32, 32, 'yuv420p'
        frame = av.VideoFrame.from_ndarray(
            np.zeros((32, 32, 3), np.uint8), format='rgb24')
        container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    with pytest.raises(ValueError, match='no audio stream'):
        read_reference_audio(path)
