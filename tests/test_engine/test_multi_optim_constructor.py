"""AVSMultiOptimWrapperConstructor and module_lr_mult (cavp.md §7)."""
import pytest
from mmengine.optim import OptimWrapperDict
from mmseg.registry import OPTIM_WRAPPER_CONSTRUCTORS
from torch import nn

import mmavs  # noqa: F401


class Model(nn.Module):

    def __init__(self):
        super().__init__()
        self.backbone = nn.Module()
        self.backbone.visual = nn.Sequential(nn.Conv2d(2, 2, 1),
                                             nn.BatchNorm2d(2))
        self.backbone.audio = nn.Linear(2, 2)
        self.backbone.frozen = nn.Linear(2, 2)
        self.backbone.frozen.requires_grad_(False)
        self.neck = nn.Module()
        self.neck.decoder = nn.Conv2d(2, 2, 1)
        self.neck.fusion = nn.LayerNorm(2)
        self.decode_head = nn.Conv2d(2, 2, 1)


CFG = dict(
    main=dict(optimizer=dict(type='SGD', lr=1e-3, momentum=0.9,
                             weight_decay=5e-4),
              paramwise_cfg=dict(bias_decay_mult=0., norm_decay_mult=0.,
                                 module_lr_mult={'neck.decoder': 10.,
                                                 'decode_head': 10.})),
    audio=dict(optimizer=dict(type='Adam', lr=1e-3, weight_decay=0.),
               modules=['backbone.audio']))


def build(cfg=CFG, **kwargs):
    return OPTIM_WRAPPER_CONSTRUCTORS.build(dict(
        type='AVSMultiOptimWrapperConstructor', optim_wrapper_cfg=cfg,
        **kwargs))


def groups_by_name(model, wrapper):
    names = {id(p): n for n, p in model.named_parameters()}
    return {names[id(p)]: g for g in wrapper.optimizer.param_groups
            for p in g['params']}


def test_two_optimisers_own_disjoint_parameters():
    model = Model()
    wrappers = build()(model)
    assert isinstance(wrappers, OptimWrapperDict)
    main = groups_by_name(model, wrappers['main'])
    audio = groups_by_name(model, wrappers['audio'])
    assert set(audio) == {'backbone.audio.weight', 'backbone.audio.bias'}
    assert not set(main) & set(audio)
    assert not [n for n in main if 'frozen' in n]
    assert set(main) | set(audio) == {
        n for n, p in model.named_parameters() if p.requires_grad}
    assert type(wrappers['audio'].optimizer).__name__ == 'Adam'
    assert type(wrappers['main'].optimizer).__name__ == 'SGD'
    # 10x for the ASPP / low-level reduction and the head.
    assert main['neck.decoder.weight']['lr'] == pytest.approx(1e-2)
    assert main['decode_head.bias']['lr'] == pytest.approx(1e-2)
    assert main['backbone.visual.0.weight']['lr'] == pytest.approx(1e-3)
    assert main['neck.fusion.weight']['lr'] == pytest.approx(1e-3)
    # Weights decayed, biases and norms not (also under the 10x prefixes).
    assert main['decode_head.weight']['weight_decay'] == 5e-4
    assert main['decode_head.bias']['weight_decay'] == 0
    assert main['backbone.visual.1.weight']['weight_decay'] == 0
    assert main['neck.fusion.weight']['weight_decay'] == 0


def test_amp_type_applies_to_every_wrapper():
    cfg = {name: dict(sub, type='OptimWrapper') for name, sub in CFG.items()}
    wrappers = build(dict(cfg, type='BF16OptimWrapper'))(Model())
    assert {type(w).__name__ for w in wrappers.values()} == {
        'BF16OptimWrapper'}


def test_errors():
    with pytest.raises(ValueError, match='exactly one'):
        build(dict(a=dict(optimizer=dict(type='SGD', lr=1.)),
                   b=dict(optimizer=dict(type='SGD', lr=1.))))
    with pytest.raises(ValueError, match='also owned'):
        build(dict(CFG, other=dict(optimizer=dict(type='SGD', lr=1.),
                                   modules=['backbone'])))(Model())
    with pytest.raises(AttributeError):
        build(dict(CFG, other=dict(optimizer=dict(type='SGD', lr=1.),
                                   modules=['nowhere'])))(Model())
    with pytest.raises(ValueError, match='paramwise_cfg'):
        build(paramwise_cfg=dict(bias_decay_mult=0.))
