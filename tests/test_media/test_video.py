"""PyAV decoding and encoding: sampling, audio, clear errors."""
import numpy as np
import pytest

from mmavs.data_tools.synthetic_avsbench import CLASS_BY_NAME, render_frame
from mmavs.data_tools.synthetic_video import make_synthetic_video
from mmavs.media import (MIN_AUDIO_SECONDS, MediaError, VideoWriter,
                         count_intervals, count_video_frames,
                         iter_sampled_frames, probe_video, read_audio)


@pytest.fixture(scope='module')
def video(tmp_path_factory):
    """3 s, 25 fps, 96x96 H.264 with 44.1 kHz stereo AAC."""
    path = str(tmp_path_factory.mktemp('video') / 'moving.mp4')
    clip = make_synthetic_video(path, seconds=3, fps=25, size=96, seed=3)
    return path, clip


def test_probe(video):
    info = probe_video(video[0])
    assert (info.width, info.height, info.fps) == (96, 96, 25.0)
    assert info.duration == pytest.approx(3.0, abs=0.05)
    assert (info.sample_rate, info.channels) == (44100, 2)
    assert info.num_sampled_frames(1.0) == 3
    assert info.num_sampled_frames(2.0) == 6


def test_count_intervals():
    # An interval counts when its middle lies inside the video.
    assert count_intervals(3.0, 1) == 3
    assert count_intervals(3.4, 1) == 3
    assert count_intervals(3.6, 1) == 4
    assert count_intervals(0.4, 1) == 0
    assert count_intervals(2.0, 2.5) == 5


def test_sampled_frames_are_the_frames_on_screen_mid_interval(video):
    path, clip = video
    frames = list(iter_sampled_frames(path, rate=1.0))
    assert [f.index for f in frames] == [0, 1, 2]
    assert [f.start for f in frames] == [0.0, 1.0, 2.0]
    # 25 fps: the frame shown at k + 0.5 s is the one at k + 0.48 s.
    assert [f.time for f in frames] == pytest.approx([0.48, 1.48, 2.48])
    for frame in frames:
        expected, _ = render_frame(clip['objects'], round(frame.time * 25),
                                   96, clip['background_seed'])
        assert frame.image.shape == (96, 96, 3)
        diff = np.abs(frame.image.astype(int) - expected).mean()
        assert diff < 6, diff  # lossy codec, same picture
    assert len(list(iter_sampled_frames(path, rate=2.0))) == 6


def test_read_audio_keeps_rate_and_pitch(video):
    path, clip = video
    wave, rate, offset = read_audio(path)
    assert rate == 44100 and wave.shape[1] == 2 and offset == 0.0
    assert wave.dtype == np.float32
    assert wave.shape[0] / rate == pytest.approx(3.0, abs=0.05)
    # The loudest frequency of each second is the sounding object's pitch.
    for second, sounding in enumerate(clip['sounding']):
        if len(sounding) != 1:
            continue
        pitch = CLASS_BY_NAME[clip['objects'][sounding[0]]['class']].pitch_hz
        part = wave[second * rate:(second + 1) * rate, 0]
        peak = np.argmax(np.abs(np.fft.rfft(part))) * rate / len(part)
        assert peak == pytest.approx(pitch, abs=2)


def test_mono_other_rate(tmp_path):
    path = str(tmp_path / 'mono.mkv')
    make_synthetic_video(path, seconds=1.5, sample_rate=22050, channels=1)
    wave, rate, _ = read_audio(path)
    assert rate == 22050 and wave.shape[1] == 1
    assert len(list(iter_sampled_frames(path))) == 2  # 1.5 s: middles 0.5, 1.5


def test_clear_errors(tmp_path):
    mute = str(tmp_path / 'mute.mp4')
    make_synthetic_video(mute, seconds=2, sample_rate=None)
    short = str(tmp_path / 'short.mp4')
    make_synthetic_video(short, seconds=0.5)
    garbage = tmp_path / 'garbage.mp4'
    garbage.write_bytes(b'not a video' * 20)
    cases = [(mute, 'has no audio track'),
             (short, 'shorter than one second'),
             (str(garbage), 'cannot read video'),
             (str(tmp_path / 'missing.mp4'), 'video file not found')]
    for path, message in cases:
        with pytest.raises(MediaError, match=message) as err:
            probe_video(path)
        assert path in str(err.value)
    with pytest.raises(MediaError, match='shorter than one second'):
        read_audio(short)
    assert MIN_AUDIO_SECONDS == pytest.approx(0.975)


def test_writer_pads_odd_sizes(tmp_path):
    path = str(tmp_path / 'odd.mp4')
    with VideoWriter(path, fps=1) as writer:
        for value in (0, 120, 240):
            writer.write(np.full((33, 47, 3), value, np.uint8))
    assert count_video_frames(path) == 3
    frames = list(iter_sampled_frames(path, rate=1.0))
    assert frames[0].image.shape == (34, 48, 3)
    assert [int(f.image.mean()) for f in frames] == pytest.approx(
        [0, 120, 240], abs=3)
