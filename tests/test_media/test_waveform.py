"""Waveform helpers and the one error type of mmavs.media."""
import pickle

import numpy as np
import pytest

from mmavs.media import (MediaError, fit_length, resample, select_channels,
                         split_windows, to_float)


def test_media_error_names_the_file_and_survives_pickling():
    err = MediaError('a/b.wav', 'has no audio track')
    assert str(err) == 'a/b.wav: has no audio track'
    assert isinstance(err, ValueError)
    again = pickle.loads(pickle.dumps(err))
    assert (again.path, again.problem, str(again)) == \
        (err.path, err.problem, str(err))
    assert str(MediaError(None, 'too short')) == 'too short'


def test_sample_formats_to_float():
    assert to_float(np.array([-32768, 16384], np.int16)).tolist() == \
        [-1.0, 0.5]
    assert to_float(np.array([0, 128, 255], np.uint8)).tolist() == \
        [-1.0, 0.0, 127 / 128]
    assert to_float(np.array([0.25], np.float32)).dtype == np.float64


def test_channels_resampling_and_windows():
    stereo = np.stack([np.ones(8), np.zeros(8)], axis=1)
    assert select_channels(stereo, 1).tolist() == [[0.5]] * 8
    assert select_channels(stereo, 2) is stereo
    with pytest.raises(MediaError, match='x.wav: has 2 audio channel'):
        select_channels(stereo, 3, 'x.wav')
    tone = np.sin(2 * np.pi * 100 * np.arange(4410) / 44100)[:, None]
    assert resample(tone, 44100, 16000).shape == (1600, 1)
    assert resample(tone, 16000, 16000) is tone
    data = np.arange(10)[:, None]
    windows = split_windows(data, 3, window=4, hop=3)  # overlapping
    assert windows.shape == (3, 1, 4)
    assert windows[:, 0].tolist() == [[0, 1, 2, 3], [3, 4, 5, 6],
                                      [6, 7, 8, 9]]
    assert fit_length(data, 4, crop='centre')[:, 0].tolist() == [3, 4, 5, 6]
    assert fit_length(data[:3], 7)[:, 0].tolist() == [0, 1, 2, 0, 1, 2, 0]
