"""mmpretrain backbones (ConvNeXt, Swin) inside ``AudioVisualBackbone``.

Tiny widths and depths, 64x64 frames; the two configs are built with their
backbone shrunk as a user would with ``--cfg-options`` and run a loss and a
prediction. mmpretrain is an optional dependency: CI installs it with the
``tests`` extra (see ``mmpretrain_import.py`` for torchvision).
"""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

import mmavs.models  # noqa: F401
from mmavs.models.backbones.visual_backbones import (as_feature_maps,
                                                     build_visual_backbone)
from mmavs.models.utils import WeightFileError

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))
NO_AUDIO_WEIGHTS = dict(type='VGGish', init_cfg=None)
WIDTHS = [8, 16, 32, 64]
TINY = {
    'mmpretrain.ConvNeXt': dict(
        arch=dict(depths=[1, 1, 1, 1], channels=WIDTHS),
        out_indices=(0, 1, 2, 3), gap_before_final_norm=False),
    # A 64 input gives 16..2 maps: window 2 tiles them all.
    'mmpretrain.SwinTransformer': dict(
        arch=dict(embed_dims=8, depths=[1, 1, 1, 1], num_heads=[1, 1, 2, 2]),
        img_size=64, window_size=2, out_indices=(0, 1, 2, 3)),
}
CONFIGS = {
    'mmpretrain.ConvNeXt': 'configs/tpavi/'
    'tpavi_convnext-t_1xb4-30e_ms3-224x224.py',
    'mmpretrain.SwinTransformer': 'configs/tpavi/'
    'tpavi_swin-t_1xb4-30e_ms3-224x224.py',
}


def test_missing_scope_says_what_to_install():
    """Runs without mmpretrain: a scope whose package is absent."""
    with pytest.raises(ImportError, match="no_such_pkg_xyz.*install the "
                       "package 'no_such_pkg_xyz'"):
        build_visual_backbone(dict(type='no_such_pkg_xyz.Net'))


def test_pooled_outputs_are_refused():
    with pytest.raises(ValueError, match='gap_before_final_norm=False'):
        as_feature_maps((torch.zeros(2, 8), ), 'mmpretrain.ConvNeXt')


@pytest.fixture(scope='module')
def mmpretrain():
    from mmpretrain_import import import_mmpretrain
    return import_mmpretrain()


def av_backbone(visual):
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmseg'):
        return MODELS.build(dict(type='AudioVisualBackbone', visual=visual,
                                 audio=NO_AUDIO_WEIGHTS))


@pytest.mark.parametrize('type_name', sorted(TINY))
def test_four_nchw_maps_through_the_wrapper(mmpretrain, type_name):
    backbone = av_backbone(dict(type=type_name, **TINY[type_name]))
    assert type(backbone.visual).__module__.startswith('mmpretrain.')
    visual, audio = backbone(torch.randn(4, 3, 64, 64),
                             torch.randn(4, 1, 96, 64))
    assert [tuple(v.shape) for v in visual] == [
        (4, c, 64 // s, 64 // s) for c, s in zip(WIDTHS, (4, 8, 16, 32))]
    assert audio.shape == (4, 128)


def test_pooled_convnext_is_refused_at_forward(mmpretrain):
    cfg = dict(TINY['mmpretrain.ConvNeXt'], gap_before_final_norm=True)
    backbone = av_backbone(dict(type='mmpretrain.ConvNeXt', **cfg))
    with pytest.raises(ValueError, match='gap_before_final_norm=False'):
        backbone(torch.randn(2, 3, 64, 64), torch.randn(2, 1, 96, 64))


def classifier_file(tmp_path, type_name):
    """An mmpretrain ImageNet classifier's checkpoint, tiny: ``backbone.*``
    of a backbone with the default out_indices (norm3 only), ``head.*``."""
    cfg = dict(TINY[type_name], out_indices=(3, ))
    cfg.pop('gap_before_final_norm', None)
    with DefaultScope.overwrite_default_scope('mmseg'):
        net = MODELS.build(dict(type=type_name, **cfg))
    state = {'backbone.' + k: v for k, v in net.state_dict().items()}
    state['head.fc.weight'] = torch.zeros(10, WIDTHS[-1])
    path = tmp_path / 'in1k.pth'
    torch.save(dict(state_dict=state, meta=dict()), path)
    return str(path), net.state_dict()


@pytest.mark.parametrize('type_name', sorted(TINY))
def test_imagenet_file_loads_strictly_but_for_new_norms(
        mmpretrain, tmp_path, type_name):
    path, expected = classifier_file(tmp_path, type_name)
    init = dict(type='StrictPretrained', checkpoint=path, prefix='backbone.',
                keep_missing=['norm0.', 'norm1.', 'norm2.'])
    backbone = av_backbone(dict(type=type_name, **TINY[type_name],
                                init_cfg=init))
    norm0 = backbone.visual.norm0.weight.clone()
    with DefaultScope.overwrite_default_scope('mmseg'):
        backbone.init_weights()
    loaded = backbone.visual.state_dict()
    for key, value in expected.items():
        assert torch.equal(loaded[key], value), key
    assert torch.equal(backbone.visual.norm0.weight, norm0)
    # Without keep_missing the extra norms are reported as missing.
    init.pop('keep_missing')
    with pytest.raises(WeightFileError, match='missing keys: norm0'):
        av_backbone(dict(type=type_name, **TINY[type_name], init_cfg=init))


def tiny_config(type_name):
    """The config with its backbone shrunk and no weight files."""
    cfg = Config.fromfile(osp.join(ROOT, CONFIGS[type_name]))
    visual = cfg.model.backbone.visual
    assert visual.type == type_name and visual.out_indices == (0, 1, 2, 3)
    assert visual.init_cfg.checkpoint.startswith('pretrained/')
    # Replace (not merge) the arch: --cfg-options model.backbone.visual.arch=
    visual.update(TINY[type_name], init_cfg=None)
    cfg.merge_from_dict({
        'model.backbone.audio.init_cfg': None,
        'model.neck.in_channels': WIDTHS,
        'model.neck.channels': 16,
        'model.decode_head.in_channels': [16] * 4,
        'model.decode_head.channels': 16,
    })
    return cfg


def clip_batch(num_clips=2, frames=2, size=64):
    """Two 2-frame clips as the collate function hands them over."""
    samples = [
        SegDataSample(
            gt_sem_seg=PixelData(data=torch.randint(0, 2, (1, size, size))),
            metainfo=dict(annotated=True, frame_valid=True, clip_index=b,
                          frame_index=t, num_frames=frames,
                          img_shape=(size, size), ori_shape=(size, size)))
        for b in range(num_clips) for t in range(frames)
    ]
    return dict(
        inputs=[torch.randint(0, 256, (frames, 3, size, size),
                              dtype=torch.uint8) for _ in range(num_clips)],
        audio=[torch.randn(frames, 1, 96, 64) for _ in range(num_clips)],
        data_samples=samples)


@pytest.mark.parametrize('type_name', sorted(CONFIGS))
def test_config_trains_and_predicts(mmpretrain, type_name):
    cfg = tiny_config(type_name)
    assert cfg.model.neck.type == 'TPAVINeck'
    assert cfg.model.auxiliary_loss.type == 'AVMatchingLoss'
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = MODELS.build(cfg.model)
    data = model.data_preprocessor(clip_batch(), training=True)
    losses = model(**data, mode='loss')
    assert set(losses) == {'loss_ce', 'loss_av_match'}
    sum(losses.values()).backward()
    assert all(p.grad is not None for p in model.backbone.visual.parameters()
               if p.requires_grad)
    model.eval()
    with torch.no_grad():
        out = model(**model.data_preprocessor(clip_batch()), mode='predict')
    assert len(out) == 4 and out[0].pred_sem_seg.data.shape == (1, 64, 64)
