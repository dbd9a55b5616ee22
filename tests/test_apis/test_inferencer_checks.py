"""AVSInferencer: the config's test pipeline applies (a real 512 config),
strict checkpoint loading, and input checks that name what they got."""
import argparse
import os.path as osp
import warnings

import numpy as np
import pytest
import torch
from mmengine.config import Config, DictAction

from conftest import REPO_ROOT, small_model_options
from mmavs.apis import (AudioShorterThanVideoWarning, AVSInferencer,
                        inference_pipeline)
from mmavs.apis.inferencer import warn_short_audio
from mmavs.utils import CheckpointMismatchError

CONFIG_512 = 'configs/avsegformer/avsegformer_r50_1xb2-30e_s4-512x512.py'


def options_dict(options):
    parser = argparse.ArgumentParser()
    parser.add_argument('--o', nargs='+', action=DictAction)
    return parser.parse_args(['--o', *options]).o


@pytest.fixture(scope='module')
def inferencer(tiny_tpavi):
    return AVSInferencer(tiny_tpavi['config'], tiny_tpavi['checkpoint'],
                         clip_length=2, cfg_options=tiny_tpavi['options'])


@pytest.fixture(scope='module')
def frames():
    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, (40, 56, 3), dtype=np.uint8)
            for _ in range(2)]


@pytest.fixture(scope='module')
def examples():
    return np.random.default_rng(1).normal(
        size=(2, 1, 96, 64)).astype(np.float32)


def test_512_config_feeds_512_frames():
    """The AVSegFormer 512 config resizes in its test pipeline (not with
    mmcv's Resize): the model must get 512x512 frames, not 224."""
    config = osp.join(REPO_ROOT, CONFIG_512)
    options = options_dict(small_model_options(CONFIG_512) +
                           ['model.backbone.audio.init_cfg=None'])
    steps = inference_pipeline(Config.fromfile(config))
    assert [s['type'] for s in steps] == ['ResizeAVSClip', 'PackAVSInputs']
    assert steps[0]['scale'] == (512, 512)
    inferencer = AVSInferencer(config, clip_length=1, cfg_options=options)
    assert inferencer.frame_size == (512, 512)
    seen = []
    inferencer.model.backbone.register_forward_pre_hook(
        lambda module, args: seen.append(tuple(args[0].shape)))
    frame = np.zeros((60, 80, 3), np.uint8)
    result = inferencer([frame], audio=np.zeros((1, 1, 96, 64), np.float32))
    assert seen == [(1, 3, 512, 512)]
    assert result['probs'].shape == (1, 60, 80)  # back at the frame's size


def test_strict_checkpoint_loading(tiny_tpavi, tmp_path):
    state = torch.load(tiny_tpavi['checkpoint'], weights_only=True)
    weights = state['state_dict']
    weights['decode_head.foreign.weight'] = torch.zeros(3)
    key = 'decode_head.conv_seg.weight'
    weights[key] = torch.zeros(2, *weights[key].shape[1:])
    del weights['decode_head.conv_seg.bias']
    state['meta'] = dict(config='configs/diffavs/pvt_s4.py')
    path = str(tmp_path / 'other.pth')
    torch.save(state, path)
    with pytest.raises(CheckpointMismatchError) as info:
        AVSInferencer(tiny_tpavi['config'], path,
                      cfg_options=tiny_tpavi['options'])
    message = str(info.value)
    for part in ('1 missing keys', 'decode_head.conv_seg.bias',
                 '1 unexpected keys', 'decode_head.foreign.weight',
                 '1 keys of another shape', key,
                 'made for configs/diffavs/pvt_s4.py', '--non-strict'):
        assert part in message
    loose = AVSInferencer(tiny_tpavi['config'], path, strict=False,
                          cfg_options=tiny_tpavi['options'])
    assert loose.model is not None


def test_non_finite_audio_is_refused(inferencer, frames, examples):
    wave = np.zeros(3 * 16000)
    wave[100] = np.nan
    with pytest.raises(ValueError, match='1 NaN or inf values among 48000'):
        inferencer(frames, audio=wave, sample_rate=16000)
    bad = examples.copy()
    bad[0, 0, 0, 0] = np.inf
    with pytest.raises(ValueError, match='NaN or inf'):
        inferencer(frames, audio=bad)


def test_audio_shapes_are_named(inferencer, frames, examples):
    with pytest.raises(ValueError, match=r'must be \(2, 1, 96, 64\).*got '
                       r'\(2, 96, 64\)'):
        inferencer(frames, audio=examples[:, 0])
    with pytest.raises(ValueError, match=r'needs \.T'):
        inferencer(frames, audio=np.zeros((2, 48000)), sample_rate=16000)
    with pytest.raises(ValueError, match='floating point'):
        inferencer(frames, audio=examples.astype(np.int32))
    with pytest.raises(ValueError, match=r'waveform \(here \(48000,\)\) '
                       'needs its sample_rate'):
        inferencer(frames, audio=np.zeros(48000))


def test_rgba_and_grey_frames_as_rgb(inferencer, frames, examples):
    rgb = inferencer(frames, audio=examples)['probs']
    rgba = [np.concatenate([f, np.full(f.shape[:2] + (1, ), 7, np.uint8)],
                           axis=2) for f in frames]
    np.testing.assert_array_equal(inferencer(rgba, audio=examples)['probs'],
                                  rgb)
    grey = [f[..., 0] for f in frames]
    as_rgb = [np.repeat(g[..., None], 3, axis=2) for g in grey]
    np.testing.assert_array_equal(
        inferencer(grey, audio=examples)['probs'],
        inferencer(as_rgb, audio=examples)['probs'])
    with pytest.raises(ValueError, match='frame 1 is uint16'):
        inferencer([frames[0], frames[1].astype(np.uint16)], audio=examples)
    with pytest.raises(ValueError, match=r'frame 0 has shape \(40, 56, 2\)'):
        inferencer([frames[0][..., :2]] * 2, audio=examples)


def test_short_audio_warning():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        warn_short_audio(5, 1.0, 5.0)  # enough: the last frame needs 4.975
        warn_short_audio(5, 1.0, 3.2)
    assert len(caught) == 1
    assert caught[0].category is AudioShorterThanVideoWarning
    assert 'frames 3 to 4 (from 3.0 s)' in str(caught[0].message)
