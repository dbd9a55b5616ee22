"""Tests of the VGGish audio backbone and its strict weight loader."""
from typing import Dict, List, Tuple

import pytest
import torch
from mmengine.model import BaseModule
from mmengine.registry import DefaultScope
from torch import Tensor

# mmavs/__init__.py may not import the models yet; this registers VGGish.
import mmavs.models.backbones  # noqa: F401
from mmavs.models.backbones import VGGish, load_vggish_weights

CONV_CFG = [64, 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M']
FC_WIDTHS = [512 * 6 * 4, 4096, 4096, 128]
DOC = 'docs/en/pretrained_weights.md'


def expected_layout() -> List[Tuple[str, Tuple[int, ...]]]:
    """The torchvggish state dict, derived from the architecture facts.

    Each conv is followed by a ReLU and each 'M' is one max-pool, so the
    Sequential index advances by 2 per conv and by 1 per pool; the Linear
    layers alternate with ReLUs.
    """
    layout, index, in_ch = [], 0, 1
    for item in CONV_CFG:
        if item == 'M':
            index += 1
            continue
        layout.append((f'features.{index}.weight', (item, in_ch, 3, 3)))
        layout.append((f'features.{index}.bias', (item, )))
        index, in_ch = index + 2, item
    for i, (fan_in, fan_out) in enumerate(zip(FC_WIDTHS, FC_WIDTHS[1:])):
        layout.append((f'embeddings.{2 * i}.weight', (fan_out, fan_in)))
        layout.append((f'embeddings.{2 * i}.bias', (fan_out, )))
    return layout


def constant_state(scale: float = 1.0) -> Dict[str, Tensor]:
    """A valid state dict whose tensors are distinct constants.

    Expanded scalars keep the saved file a few KB instead of 289 MB.
    """
    return {
        name: torch.tensor(scale * (i + 1)).expand(shape)
        for i, (name, shape) in enumerate(expected_layout())
    }


@pytest.fixture(autouse=True)
def mmseg_scope():
    """VGGish's weights load through the strict loader registered in mmseg's
    ``WEIGHT_INITIALIZERS``, which the Runner finds under
    ``default_scope='mmseg'``."""
    with DefaultScope.overwrite_default_scope('mmseg'):
        yield


@pytest.fixture(scope='module')
def model() -> VGGish:
    """One frozen VGGish shared by tests that do not change its weights."""
    return VGGish()


def test_output_shape_and_nonnegative(model):
    out = model(torch.randn(2, 1, 96, 64))
    assert out.shape == (2, 128)
    assert (out >= 0).all()


def test_state_dict_layout_and_param_count(model):
    layout = expected_layout()
    got = [(k, tuple(v.shape)) for k, v in model.state_dict().items()]
    assert got == layout
    assert len(got) == 18
    expected_count = sum(torch.Size(s).numel() for _, s in layout)
    assert expected_count == 72_141_184
    assert sum(p.numel() for p in model.parameters()) == 72_141_184


def test_frozen(model):
    assert all(not p.requires_grad for p in model.parameters())
    model.train()
    assert not any(m.training for m in model.modules())
    out = model(torch.randn(1, 1, 96, 64))
    assert not out.requires_grad and out.grad_fn is None


def test_not_frozen_trains():
    model = VGGish(frozen=False)
    model.train()
    assert model.training
    assert all(p.requires_grad for p in model.parameters())
    # A graph is built; a backward pass through 72M weights would be slow.
    assert model(torch.randn(1, 1, 96, 64)).grad_fn is not None


@pytest.mark.parametrize('shape', [(2, 96, 64), (2, 1, 64, 96),
                                   (2, 3, 96, 64), (1, 1, 96, 64, 1)])
def test_bad_input_shape(model, shape):
    with pytest.raises(ValueError, match=r'\(N, 1, 96, 64\)'):
        model(torch.zeros(shape))


def test_flatten_is_nhwc(model):
    """The first FC layer must see the conv map flattened as (H, W, C)."""
    seen = {}
    hooks = [
        model.features.register_forward_hook(
            lambda m, i, o: seen.__setitem__('feat', o.clone())),
        model.embeddings[0].register_forward_pre_hook(
            lambda m, i: seen.__setitem__('fc_in', i[0].clone())),
    ]
    try:
        model(torch.randn(2, 1, 96, 64))
    finally:
        for hook in hooks:
            hook.remove()
    feat, fc_in = seen['feat'], seen['fc_in']  # (2, 512, 6, 4), (2, 12288)
    assert feat.shape == (2, 512, 6, 4)
    assert torch.equal(fc_in, feat.permute(0, 2, 3, 1).reshape(2, -1))
    # Index arithmetic of the TF layout: position (h, w, c) -> (h*4 + w)*512+c.
    for c, h, w in [(0, 0, 1), (1, 0, 0), (511, 5, 3), (7, 2, 1)]:
        assert torch.equal(fc_in[:, (h * 4 + w) * 512 + c], feat[:, c, h, w])
    # An NCHW flatten would be a different vector, so the check has teeth.
    assert not torch.equal(fc_in, feat.reshape(2, -1))


def test_build_from_config():
    from mmseg.registry import MODELS
    model = MODELS.build(dict(type='VGGish'))
    assert isinstance(model, VGGish)
    assert model.frozen and not model.training


def random_state() -> Dict[str, Tensor]:
    """A random state dict in the torchvggish layout, small on disk.

    The two large FC weights get one random value per row, expanded along
    the row, so the file is ~20 MB rather than 289 MB while every tensor
    is still random.
    """
    state = {}
    for name, shape in expected_layout():
        if torch.Size(shape).numel() > 10_000_000:
            state[name] = torch.randn(shape[0], 1).expand(shape)
        else:
            state[name] = torch.randn(shape)
    return state


def test_pretrained_init_loads_strictly(tmp_path):
    path = tmp_path / 'vggish-10086976.pth'
    state = random_state()
    torch.save(state, path)
    model = VGGish(init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    # A legacy mmengine 'Pretrained' gets the registered strict loader.
    assert model.init_cfg == dict(type='PretrainedVGGish',
                                  checkpoint=str(path))
    model.init_weights()
    assert model.is_init
    for name, value in model.state_dict().items():
        assert torch.equal(value, state[name]), name
    assert all(not p.requires_grad for p in model.parameters())


def test_pretrained_init_as_submodule_with_prefix(tmp_path):
    """A parent's init_weights reaches the strict loader; prefix works."""
    path = tmp_path / 'avsegformer.pth'
    state = {'vggish.' + k: v for k, v in constant_state().items()}
    state['head.weight'] = torch.zeros(3)  # other parts of a full model
    torch.save(dict(state_dict=state), path)

    class Parent(BaseModule):

        def __init__(self):
            super().__init__()
            self.vggish = VGGish(init_cfg=dict(
                type='Pretrained', checkpoint=str(path), prefix='vggish.'))

    parent = Parent()
    parent.init_weights()
    for i, (name, _) in enumerate(expected_layout()):
        assert (parent.vggish.state_dict()[name] == i + 1).all(), name


@pytest.mark.parametrize('damage', ['missing', 'shape', 'unexpected'])
def test_mismatched_file_raises(model, tmp_path, damage):
    state = constant_state()
    if damage == 'missing':
        del state['embeddings.4.bias']
        key = 'embeddings.4.bias'
    elif damage == 'shape':
        state['features.3.weight'] = torch.zeros(128, 64, 1, 1)
        key = 'features.3.weight'
    else:
        state['pproc.pca_means'] = torch.zeros(128, 1)
        key = 'pproc.pca_means'
    path = tmp_path / 'bad.pth'
    torch.save(state, path)
    before = model.features[3].weight.clone()
    with pytest.raises(ValueError) as info:
        load_vggish_weights(model, str(path))
    message = str(info.value)
    assert str(path) in message and key in message and DOC in message
    # The check runs before any copy, so the model is untouched.
    assert torch.equal(model.features[3].weight, before)


def test_mismatched_file_raises_through_init_weights(tmp_path):
    state = constant_state()
    del state['features.0.bias']
    path = tmp_path / 'bad.pth'
    torch.save(state, path)
    model = VGGish(init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    with pytest.raises(ValueError, match='features.0.bias') as info:
        model.init_weights()
    assert str(path) in str(info.value)


def test_missing_file_raises(model, tmp_path):
    path = tmp_path / 'pretrained' / 'vggish-10086976.pth'
    model.init_cfg = dict(type='PretrainedVGGish', checkpoint=str(path))
    try:
        with pytest.raises(FileNotFoundError) as info:
            model.init_weights()
    finally:
        model.init_cfg = None
    assert str(path) in str(info.value) and DOC in str(info.value)


def test_non_state_dict_file_raises(model, tmp_path):
    path = tmp_path / 'list.pth'
    torch.save([torch.zeros(1)], path)
    with pytest.raises(ValueError, match='not a state dict'):
        load_vggish_weights(model, str(path))


def test_cavp_width_last_layer_is_new_and_the_rest_loads(tmp_path):
    """CAVP's 1-s audio net (cavp.md §4): VGGish with its last Linear
    4096 → 304 re-initialised (Kaiming normal, bias 0), ReLU kept, trained;
    every other tensor of the released file loads strictly."""
    path = tmp_path / 'vggish-10086976.pth'
    state = random_state()
    torch.save(state, path)
    torch.manual_seed(0)
    model = VGGish(frozen=False, out_channels=304, init_cfg=dict(
        type='PretrainedVGGish', checkpoint=str(path),
        drop_prefixes=['embeddings.4.'], keep_missing=['embeddings.4.']))
    last = model.embeddings[4]
    assert tuple(last.weight.shape) == (304, 4096)
    assert torch.count_nonzero(last.bias) == 0
    # Kaiming normal (fan in, gain sqrt(2)): std sqrt(2 / 4096).
    assert last.weight.std().item() == pytest.approx((2 / 4096)**0.5,
                                                     rel=0.05)
    fresh = last.weight.detach().clone()
    model.init_weights()
    for name, value in model.state_dict().items():
        if name.startswith('embeddings.4.'):
            continue
        assert torch.equal(value, state[name]), name
    assert torch.equal(last.weight, fresh)
    assert all(p.requires_grad for p in model.parameters())
    out = model(torch.randn(2, 1, 96, 64))
    assert out.shape == (2, 304) and bool((out >= 0).all())
    out.sum().backward()
    assert model.features[0].weight.grad is not None
