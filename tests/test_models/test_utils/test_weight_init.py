"""Strict loading of the backbone weight files through ``init_cfg``.

Weight files are written to ``tmp_path`` with the reference names and random
values; a mismatched or missing file must fail when the model is built, with
a message naming the file and ``docs/en/pretrained_weights.md``.
"""
import pytest
import torch
from mmengine.registry import DefaultScope
from mmseg.registry import MODELS

from mmavs.models.utils import (PretrainedPVTv2Init, StrictPretrainedInit,
                                WeightFileError, pvtv2_to_mit)
from reference_keys import load_listing, pvtv2_entries, random_state

DOC = 'docs/en/pretrained_weights.md'
TINY_PVT = dict(embed_dims=[8, 16, 24, 32], depths=[1, 1, 1, 1],
                sr_ratios=[8, 4, 2, 1])
NO_AUDIO_WEIGHTS = dict(type='VGGish', init_cfg=None)


def tiny_mit_cfg(init_cfg=None):
    return dict(type='MixVisionTransformer', embed_dims=8,
                num_layers=[1, 1, 1, 1], num_heads=[1, 2, 3, 4],
                init_cfg=init_cfg)


def build(cfg):
    with DefaultScope.overwrite_default_scope('mmseg'):
        return MODELS.build(cfg)


def init(model):
    # The Runner builds and initialises under default_scope='mmseg'.
    with DefaultScope.overwrite_default_scope('mmseg'):
        model.init_weights()


def av_backbone(visual, audio=NO_AUDIO_WEIGHTS):
    return build(dict(type='AudioVisualBackbone', visual=visual, audio=audio))


@pytest.fixture
def pvt_file(tmp_path):
    """A tiny official-layout PVTv2 file, classifier included."""
    state = random_state(pvtv2_entries(**TINY_PVT, num_classes=10))
    path = tmp_path / 'pvt_v2_tiny.pth'
    torch.save(state, path)
    return str(path), state


def test_pvtv2_file_loads_through_init_cfg(pvt_file):
    path, state = pvt_file
    backbone = av_backbone(tiny_mit_cfg(
        dict(type='PretrainedPVTv2', checkpoint=path)))
    init(backbone)
    expected = pvtv2_to_mit(state).state_dict
    loaded = backbone.visual.state_dict()
    assert loaded.keys() == expected.keys()
    for key, value in expected.items():
        assert torch.equal(loaded[key], value), key


def test_mismatched_pvtv2_file_fails_at_build(tmp_path):
    # A file of another size (a PVTv2-b0-like width) for the tiny MiT.
    wrong = tmp_path / 'pvt_v2_b0.pth'
    torch.save(random_state(pvtv2_entries([16, 32, 48, 64], [1, 1, 1, 1],
                                          [8, 4, 2, 1])), wrong)
    with pytest.raises(WeightFileError) as err:
        av_backbone(tiny_mit_cfg(
            dict(type='PretrainedPVTv2', checkpoint=str(wrong))))
    message = str(err.value)
    assert str(wrong) in message and DOC in message
    assert 'shape mismatches' in message and 'pvt_v2_b5.pth' in message
    assert 'model.backbone.visual' in message


def test_file_of_another_model_fails_at_build(tmp_path):
    path = tmp_path / 'resnet.pth'
    torch.save({'conv1.weight': torch.zeros(8, 3, 7, 7)}, path)
    with pytest.raises(WeightFileError, match='keys no conversion rule'):
        av_backbone(tiny_mit_cfg(
            dict(type='PretrainedPVTv2', checkpoint=str(path))))


def test_missing_file_fails_at_build_naming_it(tmp_path):
    path = str(tmp_path / 'pretrained' / 'pvt_v2_b5.pth')
    with pytest.raises(FileNotFoundError) as err:
        av_backbone(tiny_mit_cfg(
            dict(type='PretrainedPVTv2', checkpoint=path)))
    assert path in str(err.value) and DOC in str(err.value)


def test_missing_file_at_init_names_doc(tmp_path):
    initializer = PretrainedPVTv2Init(checkpoint=str(tmp_path / 'x.pth'))
    with pytest.raises(FileNotFoundError, match='pretrained_weights.md'):
        initializer(build(tiny_mit_cfg()))


# ---------------------------------------------------------- torchvision R50
RESNET50 = dict(type='ResNet', depth=50, num_stages=4,
                out_indices=(0, 1, 2, 3), style='pytorch')


@pytest.fixture(scope='module')
def torchvision_r50_state():
    """torchvision's ResNet-50 file: mmseg ResNet's names plus ``fc``.

    ``resnet50-19c8e357.pth`` dates from 2017 and so has no BatchNorm
    ``num_batches_tracked`` buffers.
    """
    names = build(dict(RESNET50)).state_dict()
    state = random_state([(k, list(v.shape)) for k, v in names.items()
                          if not k.endswith('num_batches_tracked')])
    state['fc.weight'] = torch.randn(1000, 2048)
    state['fc.bias'] = torch.randn(1000)
    return state


def r50_with(path, **init):
    return av_backbone(dict(RESNET50, init_cfg=dict(
        type='StrictPretrained', checkpoint=str(path), **init)))


def test_torchvision_r50_loads_with_fc_dropped(tmp_path,
                                               torchvision_r50_state):
    path = tmp_path / 'resnet50-19c8e357.pth'
    torch.save(torchvision_r50_state, path)
    backbone = r50_with(path, drop_prefixes=['fc.'])
    init(backbone)
    loaded = backbone.visual.state_dict()
    counters = [k for k in loaded if k.endswith('num_batches_tracked')]
    assert len(counters) == 53
    assert len(loaded) == len(torchvision_r50_state) - 2 + len(counters)
    for key, value in torchvision_r50_state.items():
        if not key.startswith('fc.'):
            assert torch.equal(loaded[key], value), key


def test_r50_file_with_batch_counters_loads_them(tmp_path,
                                                 torchvision_r50_state):
    state = dict(torchvision_r50_state, **{'bn1.num_batches_tracked':
                                           torch.tensor(11)})
    path = tmp_path / 'resnet50-new.pth'
    torch.save(state, path)
    backbone = r50_with(path, drop_prefixes=['fc.'])
    init(backbone)
    assert backbone.visual.bn1.num_batches_tracked.item() == 11


def test_r50_missing_and_extra_keys_are_reported(tmp_path,
                                                 torchvision_r50_state):
    state = dict(torchvision_r50_state)
    del state['layer4.2.bn3.running_var']
    path = tmp_path / 'resnet50.pth'
    torch.save(state, path)
    with pytest.raises(WeightFileError,
                       match=r'1 missing keys: layer4\.2\.bn3\.running_var'):
        r50_with(path, drop_prefixes=['fc.'])
    # Without dropping the classifier, fc.* are unexpected.
    torch.save(torchvision_r50_state, path)
    with pytest.raises(WeightFileError,
                       match=r'2 unexpected keys: fc\.bias, fc\.weight'):
        r50_with(path)


def test_strict_initializer_selects_prefix(tmp_path):
    mit = build(tiny_mit_cfg())
    state = {'backbone.' + k: v.clone() + 1 for k, v in
             mit.state_dict().items()}
    state['decode_head.conv.weight'] = torch.zeros(1)
    path = tmp_path / 'segformer.pth'
    torch.save(dict(state_dict=state, meta=dict(epoch=3)), path)
    StrictPretrainedInit(str(path), prefix='backbone.')(mit)
    for key, value in mit.state_dict().items():
        assert torch.equal(value, state['backbone.' + key]), key


# -------------------------------------------------------------------- VGGish
def test_mismatched_vggish_file_fails_at_build(tmp_path):
    entries = [tuple(e) for e in load_listing('vggish')['params']]
    entries[-1] = ('embeddings.4.bias', [64])  # a 64-d variant
    path = tmp_path / 'vggish-10086976.pth'
    torch.save(random_state(entries), path)
    with pytest.raises(ValueError) as err:
        av_backbone(tiny_mit_cfg(), dict(
            type='VGGish', init_cfg=dict(type='Pretrained',
                                         checkpoint=str(path))))
    assert 'embeddings.4.bias' in str(err.value)
    assert str(path) in str(err.value) and DOC in str(err.value)
