import logging
from types import SimpleNamespace

import pytest
import torch
from mmseg.registry import HOOKS
from torch import nn

import mmavs.engine  # noqa: F401


def make_runner(epoch):
    model = nn.Module()
    model.backbone = nn.Module()
    model.backbone.visual = nn.Linear(2, 2)
    model.backbone.audio = nn.Linear(2, 2)
    model.head = nn.Linear(2, 1)
    return SimpleNamespace(model=model, epoch=epoch,
                           logger=logging.getLogger('test'))


@pytest.mark.parametrize('epoch, frozen', [(0, True), (4, True), (5, False)])
def test_freezes_only_the_submodule_during_the_first_epochs(epoch, frozen):
    hook = HOOKS.build(dict(type='FreezeModuleHook', epochs=5))
    runner = make_runner(epoch)
    hook.before_train_epoch(runner)
    model = runner.model
    assert all(p.requires_grad != frozen
               for p in model.backbone.visual.parameters())
    assert all(p.requires_grad for p in model.backbone.audio.parameters())
    assert all(p.requires_grad for p in model.head.parameters())


def test_frozen_parameters_are_not_stepped():
    runner = make_runner(0)
    model = runner.model
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.1,
                                  weight_decay=0.01)
    HOOKS.build(dict(type='FreezeModuleHook', epochs=1)).before_train_epoch(
        runner)
    before = model.backbone.visual.weight.detach().clone()
    head_before = model.head.weight.detach().clone()
    x = torch.randn(4, 2)
    model.head(model.backbone.visual(x)).sum().backward()
    optimizer.step()
    assert torch.equal(model.backbone.visual.weight, before)
    assert not torch.equal(model.head.weight, head_before)
    # Unfrozen at epoch 2: the same optimiser now steps it.
    runner.epoch = 1
    HOOKS.build(dict(type='FreezeModuleHook', epochs=1)).before_train_epoch(
        runner)
    optimizer.zero_grad()
    model.head(model.backbone.visual(x)).sum().backward()
    optimizer.step()
    assert not torch.equal(model.backbone.visual.weight, before)


def test_unknown_module_is_named():
    hook = HOOKS.build(dict(type='FreezeModuleHook', epochs=1,
                            module='backbone.nothing'))
    with pytest.raises(AttributeError, match='backbone.nothing'):
        hook.before_train_epoch(make_runner(0))
