"""AVSInferencer: defaults from configs, frame and video inputs, clip
padding, and the same masks as tools/test.py on the same clips."""
import os
import os.path as osp
import pickle
import subprocess
import sys

import numpy as np
import pytest
from mmengine.config import Config

from mmavs.apis import (AVSInferencer, default_clip_length,
                        default_frame_size, frame_audio_examples)
from mmavs.data_tools.synthetic_avsbench import make_synthetic_avsbench
from mmavs.data_tools.synthetic_video import make_synthetic_video
from mmavs.media import MediaError, to_mono_16k, waveform_to_examples

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG_512 = 'configs/avsegformer/avsegformer_r50_1xb2-30e_s4-512x512.py'


@pytest.fixture(scope='module')
def inferencer(tiny_tpavi):
    return AVSInferencer(tiny_tpavi['config'], tiny_tpavi['checkpoint'],
                         clip_length=2, cfg_options=tiny_tpavi['options'])


@pytest.fixture(scope='module')
def frames_and_wave():
    """Three non-square 40x56 RGB frames and 3.2 s of 22.05 kHz stereo."""
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 256, (40, 56, 3), dtype=np.uint8)
              for _ in range(3)]
    t = np.arange(int(3.2 * 22050)) / 22050
    wave = np.stack([np.sin(2 * np.pi * 440 * t), np.sin(2 * np.pi * 660 * t)],
                    axis=1) * 0.3
    return frames, wave, 22050


def test_defaults_from_configs():
    synthetic = Config.fromfile(osp.join(
        ROOT, 'configs/tpavi/tpavi_r18_1xb4-20e_synthetic-ms3-64x64.py'))
    assert default_frame_size(synthetic) == (64, 64)
    assert default_clip_length(synthetic) == 5
    real = Config.fromfile(
        osp.join(ROOT, 'configs/tpavi/tpavi_r50_1xb4-30e_ms3-224x224.py'))
    assert default_frame_size(real) == (224, 224)
    real.test_dataloader.dataset.num_frames = 3
    assert default_clip_length(real) == 3
    # A real config that resizes: its ResizeAVSClip sets the size.
    assert default_frame_size(Config.fromfile(osp.join(ROOT, CONFIG_512))) \
        == (512, 512)


def test_frame_audio_examples_align_and_clamp():
    rng = np.random.default_rng(1)
    samples = rng.normal(0, 0.1, 3 * 16000)
    examples = frame_audio_examples(samples, [0.0, 1.0, 2.9])
    assert examples.shape == (3, 1, 96, 64) and examples.dtype == np.float32
    # Frame 0 hears what AVSBench's first example hears.
    np.testing.assert_array_equal(examples[0],
                                  waveform_to_examples(samples, 16000)[0])
    np.testing.assert_array_equal(
        examples[1], waveform_to_examples(samples[16000:], 16000)[0])
    # A window past the end is moved back to end with the audio.
    np.testing.assert_array_equal(
        examples[2], waveform_to_examples(samples[-15600:], 16000)[0])
    with pytest.raises(MediaError, match='shorter than one second'):
        frame_audio_examples(samples[:15000], [0.0])


def test_frames_with_waveform_or_log_mel(inferencer, frames_and_wave):
    frames, wave, rate = frames_and_wave
    result = inferencer(frames, audio=wave, sample_rate=rate)
    assert result['probs'].shape == (3, 40, 56)  # each frame's own size
    assert result['probs'].dtype == np.float32
    assert result['masks'].dtype == np.uint8
    np.testing.assert_array_equal(result['masks'], result['probs'] > 0.5)
    assert result['times'].tolist() == [0.0, 1.0, 2.0]
    # The waveform is cut into one example per frame second.
    examples = frame_audio_examples(to_mono_16k(wave, rate), [0, 1, 2])
    same = inferencer(frames, audio=examples)
    np.testing.assert_array_equal(same['probs'], result['probs'])
    bgr = inferencer([f[..., ::-1] for f in frames], audio=examples,
                     channel_order='bgr')
    np.testing.assert_array_equal(bgr['probs'], result['probs'])


def test_last_clip_is_padded_flagged_and_dropped(inferencer,
                                                 frames_and_wave):
    frames, wave, rate = frames_and_wave
    examples = frame_audio_examples(to_mono_16k(wave, rate), [0, 1, 2])
    layouts = []
    hook = inferencer.model.backbone.register_forward_pre_hook(
        lambda module, args: layouts.append(args[2]))
    try:
        three = inferencer(frames, audio=examples)['probs']
        # Clips of 2: frames 0-1 form a clip; frame 2 is alone, padded with
        # a copy of itself flagged as padding (zero audio feature).
        assert [v for layout in layouts
                for v in layout.frame_valid.tolist()] == [True] * 3 + [False]
        two = inferencer(frames[:2], audio=examples[:2])['probs']
    finally:
        hook.remove()
    assert len(three) == 3
    np.testing.assert_array_equal(three[:2], two)


def test_input_errors(inferencer, frames_and_wave):
    frames, wave, rate = frames_and_wave
    with pytest.raises(ValueError, match='need their audio'):
        inferencer(frames)
    with pytest.raises(ValueError, match=r'\(3, 1, 96, 64\)'):
        inferencer(frames, audio=np.zeros((2, 1, 96, 64), np.float32))
    with pytest.raises(ValueError, match='sample_rate'):
        inferencer(frames, audio=wave)
    with pytest.raises(ValueError, match='one size'):
        inferencer(frames[:1] + [frames[1][:20]], audio=wave,
                   sample_rate=rate)


def test_video_input(inferencer, tmp_path):
    path = str(tmp_path / 'clip.mkv')
    make_synthetic_video(path, seconds=3, fps=10, size=48,
                         sample_rate=32000, channels=2)
    result = inferencer(path)
    assert result['probs'].shape == (3, 48, 48)
    assert result['times'] == pytest.approx([0.5, 1.5, 2.5])
    with pytest.raises(ValueError, match='own audio'):
        inferencer(path, audio=np.zeros((3, 1, 96, 64)))


def test_same_masks_as_test_tool(tiny_tpavi, tmp_path):
    """tools/test.py --out and the inferencer agree on the same clips."""
    data_root = str(tmp_path / 'data')
    make_synthetic_avsbench(data_root, seed=7, size=64, num_frames=2,
                            s4_clips={}, ms3_clips=dict(test=2))
    out, show_dir = tmp_path / 'preds.pkl', tmp_path / 'show'
    options = [f'{k}={v}'.replace(' ', '')
               for k, v in tiny_tpavi['options'].items()]
    options += [
        f'test_dataloader.dataset.data_root={data_root}',
        'test_dataloader.dataset.num_frames=2',
        # The tree exists: no generation, hence no options to check.
        'test_dataloader.dataset.synthetic=None',
        'test_dataloader.batch_size=2',
    ]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [ROOT] + [p for p in [os.environ.get('PYTHONPATH')] if p]))
    result = subprocess.run(
        [sys.executable, 'tools/test.py', tiny_tpavi['config'],
         tiny_tpavi['checkpoint'], '--work-dir', str(tmp_path / 'work'),
         '--out', str(out), '--show-dir', str(show_dir),
         '--cfg-options', *options],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    with open(out, 'rb') as f:  # our own dump, written just above
        dumped = pickle.load(f)
    assert len(dumped) == 4  # 2 clips x 2 frames

    # Clips of 2 frames, batches of 2 clips and 64x64 frames, as test.py.
    inferencer = AVSInferencer(
        tiny_tpavi['config'], tiny_tpavi['checkpoint'], batch_size=2,
        cfg_options=dict(tiny_tpavi['options'],
                         **{'test_dataloader.dataset.num_frames': 2}))
    assert (inferencer.clip_length, inferencer.frame_size) == (2, (64, 64))
    audio = np.concatenate([np.load(dumped[i]['audio_path'])
                            for i in (0, 2)])
    result = inferencer([frame['img_path'] for frame in dumped], audio=audio)
    expected_masks = np.stack(
        [f['pred_sem_seg']['data'][0].numpy() for f in dumped])
    expected_probs = np.stack(
        [f['seg_logits']['data'][0].numpy() for f in dumped])
    assert 0.05 < expected_masks.mean() < 0.95  # not a trivial mask
    np.testing.assert_array_equal(result['masks'], expected_masks)
    np.testing.assert_allclose(result['probs'], expected_probs, atol=1e-6)

    # --show-dir still writes one overlay per frame with the real model.
    vis = sorted(p.name for p in (show_dir / 'vis_data' / 'vis_image')
                 .iterdir())
    assert vis == sorted(f'test_{osp.basename(f["img_path"])}_0.png'
                         for f in dumped)


def test_frame_probability_of_binary_and_multi_class_models():
    import torch

    from mmavs.apis.inferencer import frame_probability
    binary = torch.rand(1, 4, 5)  # mmseg stores the sigmoid already
    np.testing.assert_array_equal(frame_probability(binary), binary[0])
    logits = torch.randn(71, 4, 5)
    prob = frame_probability(logits)
    assert prob.shape == (4, 5) and prob.dtype == np.float32
    np.testing.assert_allclose(prob, logits.softmax(0).max(0).values,
                               rtol=1e-6)
