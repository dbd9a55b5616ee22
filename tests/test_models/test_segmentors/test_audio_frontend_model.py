"""A tiny TPAVI model on waveforms: LoadAudioWaveform in the pipeline, a
spectrogram front end and a trainable ResNet-18 audio encoder in the model."""
import os.path as osp

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS, MODELS

import mmavs  # noqa: F401
from conftest import MINI_FRAMES, REPO_ROOT, TINY_TPAVI_CONFIG, \
    TINY_TPAVI_OPTIONS
from mmavs.datasets import avs_collate

WAVEFORM_OPTIONS = {
    'model.backbone.cache_audio': False,
    'model.backbone.audio_frontend': dict(type='SpectrogramFrontEnd',
                                          num_frames=96),
    'model.backbone.audio': dict(_delete_=True, type='AudioResNet',
                                 base_channels=8),
    'model.backbone.audio_channels': 64,
    'model.neck.audio_channels': 64,
}
PIPELINE = [
    dict(type='LoadAVSFrames'), dict(type='LoadAVSMasks'),
    dict(type='LoadAudioWaveform'), dict(type='PackAVSInputs')
]


def test_tiny_tpavi_trains_on_waveforms(avsbench_root):
    init_default_scope('mmseg')
    cfg = Config.fromfile(osp.join(REPO_ROOT, TINY_TPAVI_CONFIG))
    cfg.merge_from_dict(dict(TINY_TPAVI_OPTIONS, **WAVEFORM_OPTIONS))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    assert all(p.requires_grad for p in model.backbone.audio.parameters())
    dataset = DATASETS.build(dict(
        type='AVSBenchMS3Dataset', data_root=avsbench_root, split='train',
        num_frames=MINI_FRAMES, pipeline=PIPELINE))
    batch = avs_collate([dataset[0], dataset[1]])
    assert batch['audio'][0].shape == (MINI_FRAMES, 1, 16000)
    model.train()
    data = model.data_preprocessor(batch, training=True)
    losses = model(**data, mode='loss')
    assert losses and all(torch.isfinite(v) for v in losses.values())
    sum(losses.values()).backward()
    grad = model.backbone.audio.conv1.weight.grad
    assert grad is not None and grad.abs().sum() > 0
    model.eval()
    with torch.no_grad():
        out = model(**model.data_preprocessor(batch), mode='predict')
    assert len(out) == 2 * MINI_FRAMES
