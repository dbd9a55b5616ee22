import torch
from mmseg.registry import OPTIM_WRAPPER_CONSTRUCTORS
from torch import nn

import mmavs  # noqa: F401


class TwoParts(nn.Module):

    def __init__(self):
        super().__init__()
        self.trained = nn.Linear(2, 2)
        self.frozen = nn.Linear(2, 2)
        self.frozen.requires_grad_(False)


def optimizer_params(paramwise_cfg=None):
    constructor = OPTIM_WRAPPER_CONSTRUCTORS.build(
        dict(type='AVSOptimWrapperConstructor',
             optim_wrapper_cfg=dict(
                 type='OptimWrapper',
                 optimizer=dict(type='Adam', lr=1e-4, weight_decay=1e-4)),
             paramwise_cfg=paramwise_cfg))
    model = TwoParts()
    wrapper = constructor(model)
    params = [p for g in wrapper.optimizer.param_groups for p in g['params']]
    return model, params


def test_frozen_parameters_are_left_out():
    model, params = optimizer_params()
    assert {id(p) for p in params} == {id(p) for p in model.trained.parameters()}


def test_frozen_parameters_left_out_with_paramwise_cfg():
    model, params = optimizer_params(dict(bias_decay_mult=0.0))
    assert {id(p) for p in params} == {id(p) for p in model.trained.parameters()}
    assert all(p.requires_grad for p in params)
    assert isinstance(params[0], torch.nn.Parameter)
