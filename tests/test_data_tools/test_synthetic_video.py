import numpy as np

from mmavs.data_tools.synthetic_video import (describe_video,
                                              sounding_mask, video_audio)


def test_description_moves_smoothly_and_is_seeded():
    clip = describe_video(seconds=2.5, fps=10, size=64, seed=4)
    assert clip == describe_video(seconds=2.5, fps=10, size=64, seed=4)
    assert clip['num_frames'] == 25 and len(clip['sounding']) == 3
    for obj in clip['objects']:
        track = np.asarray(obj['track'])
        assert track.shape == (25, 2)
        steps = np.abs(np.diff(track, axis=0)).max()
        assert steps <= 0.15 * 64 / 10 + 1e-9  # at most 15 % a second
    moved = [np.abs(np.asarray(o['track'][-1]) - o['track'][0]).sum()
             for o in clip['objects']]
    assert max(moved) > 1  # pixels: the scene is not still


def test_masks_and_audio_follow_the_schedule():
    clip = describe_video(seconds=2, fps=5, size=48, seed=1)
    mask = sounding_mask(clip, 7)  # second 1
    assert mask.shape == (48, 48) and mask.dtype == bool
    assert mask.any() == bool(clip['sounding'][1])
    audio = video_audio(clip, 44100, 2)
    assert audio.shape == (2, 88200) and audio.dtype == np.float32
    assert np.abs(audio).max() <= 1
    np.testing.assert_allclose(audio[1], audio[0] * 0.8, atol=1e-6)
