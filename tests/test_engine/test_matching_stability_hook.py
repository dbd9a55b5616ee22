import logging
import math
from types import SimpleNamespace

import pytest
import torch
from mmengine.model import BaseModel
from mmseg.registry import HOOKS
from torch import nn
from torch.utils.data import DataLoader

import mmavs.engine  # noqa: F401
from mmavs.engine.hooks.matching_stability_hook import (
    MatchingStabilityHook, flip_rate, stability_score)


class FakeHead(nn.Module):
    num_classes = 3  # ∅ = 3

    def __init__(self, script):
        super().__init__()
        self.script = list(script)
        self.calls = []

    def query_assignments(self, fused, audio_feat, layout, data_samples):
        self.calls.append((fused, audio_feat, layout, data_samples))
        return torch.tensor(self.script.pop(0))


class FakePreprocessor(nn.Module):

    def forward(self, data, training=False):
        assert training is False
        inputs = torch.stack(data['inputs']).float()
        return dict(inputs=inputs, audio=inputs * 2, layout='layout',
                    data_samples=['s'] * len(inputs))


class FakeModel(nn.Module):

    def __init__(self, script):
        super().__init__()
        self.data_preprocessor = FakePreprocessor()
        self.decode_head = FakeHead(script)
        self.modes = []

    def extract_feat(self, inputs, audio, layout, data_samples):
        assert not torch.is_grad_enabled()
        self.modes.append(self.training)
        return SimpleNamespace(fused=inputs + 1), audio


def collate(items):
    return dict(inputs=[torch.tensor([float(i)]) for i in items])


def make_runner(script):
    model = FakeModel(script)
    loader = DataLoader(list(range(10)), batch_size=2, collate_fn=collate,
                        shuffle=True)
    logged = []
    visualizer = SimpleNamespace(
        add_scalars=lambda values, step: logged.append((step, values)))
    return SimpleNamespace(model=model, iter=0, epoch=0,
                           train_loop=SimpleNamespace(dataloader=loader),
                           logger=logging.getLogger('test'),
                           visualizer=visualizer, logged=logged)


def test_flip_rate_and_sts_over_an_epoch():
    # 2 frames x 3 queries; ∅ = 3.
    script = [[[0, 1, 3], [0, 3, 3]],
              [[0, 1, 3], [3, 0, 3]],   # frame 1: 2 of 3 queries flip
              [[1, 0, 3], [3, 0, 3]]]   # frame 0: 2 of 3 queries flip
    runner = make_runner(script)
    hook = HOOKS.build(dict(type='MatchingStabilityHook', interval=2))
    runner.model.train()
    hook.before_train(runner)
    assert hook.num_classes == 3
    for it in range(6):
        runner.iter = it
        hook.after_train_iter(runner, it)
    hook.after_train_epoch(runner)
    # Evaluated at iterations 2, 4, 6, always on the same fixed batch (the
    # first two dataset items, not the shuffled loader's), in eval mode.
    calls = runner.model.decode_head.calls
    assert len(calls) == 3
    for fused, audio, layout, samples in calls:
        torch.testing.assert_close(fused, torch.tensor([[1.0], [2.0]]))
        assert layout == 'layout' and samples == ['s', 's']
    assert runner.model.modes == [False] * 3 and runner.model.training
    assert hook.flip_rates == [(4, pytest.approx(2 / 6)),
                               (6, pytest.approx(2 / 6))]
    # Class 0 went to query 0 three times and to query 1 three times:
    # entropy log 2; class 1 to query 1 twice and to query 0 once.
    h1 = -(2 / 3 * math.log(2 / 3) + 1 / 3 * math.log(1 / 3))
    assert hook.sts == [(1, pytest.approx((math.log(2) + h1) / 2))]
    names = [list(values)[0] for _, values in runner.logged]
    assert names == ['stability/flip_rate'] * 2 + ['stability/sts']
    # The next epoch starts a new STS window.
    assert hook.epoch_assignments == []


def test_restores_eval_mode_and_needs_num_classes():
    runner = make_runner([[[0, 3]]])
    runner.model.eval()
    hook = HOOKS.build(dict(type='MatchingStabilityHook', interval=1,
                            num_samples=1))
    hook.before_train(runner)
    hook.after_train_iter(runner, 0)
    assert not runner.model.training
    assert hook.flip_rates == []  # nothing to compare with yet
    del FakeHead.num_classes
    try:
        with pytest.raises(AttributeError, match='num_classes'):
            HOOKS.build(dict(type='MatchingStabilityHook')).before_train(
                make_runner([]))
    finally:
        FakeHead.num_classes = 3


def test_sts_function():
    # Each class always on one query: 0; uniform over 4 queries: log 4.
    stable = [torch.tensor([[0, 1, 2, 2]])] * 3
    assert stability_score(stable, num_classes=2) == pytest.approx(0.0)
    spread = [torch.tensor([[0, 2, 2, 2]]), torch.tensor([[2, 0, 2, 2]]),
              torch.tensor([[2, 2, 0, 2]]), torch.tensor([[2, 2, 2, 0]])]
    assert stability_score(spread, 2) == pytest.approx(math.log(4))
    assert math.isnan(stability_score([torch.tensor([[2, 2]])], 2))
    assert flip_rate(torch.tensor([[0, 1]]), torch.tensor([[0, 2]])) == 0.5
    with pytest.raises(ValueError):
        flip_rate(torch.zeros(1, 2), torch.zeros(2, 2))


class ToyPreprocessor(nn.Module):

    def forward(self, data, training=False):
        inputs = torch.stack(data['inputs']).float()
        return dict(inputs=inputs, audio=inputs, layout=None,
                    data_samples=None)


class ToyHead(nn.Module):
    num_classes = 2

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(1, 4)

    def query_assignments(self, fused, audio_feat, layout, data_samples):
        # Query labels flip with the sign of the (trained) weights.
        return (self.fc(fused) > 0).long() * 2  # class 0 or ∅ (= 2)


class ToyModel(BaseModel):

    def __init__(self):
        super().__init__(data_preprocessor=ToyPreprocessor())
        self.decode_head = ToyHead()

    def extract_feat(self, inputs, audio, layout, data_samples):
        return SimpleNamespace(fused=inputs), audio

    def forward(self, inputs, audio=None, layout=None, data_samples=None,
                mode='loss'):
        return dict(loss=self.decode_head.fc(inputs).pow(2).mean())


def test_in_a_real_runner(tmp_path):
    from mmengine.runner import Runner
    hook = MatchingStabilityHook(interval=2)
    runner = Runner(
        # mmseg scope: the runner's scope stays current for later tests.
        model=ToyModel(), work_dir=str(tmp_path), default_scope='mmseg',
        train_dataloader=dict(
            dataset=[dict(inputs=torch.tensor([float(i)]))
                     for i in range(8)],
            sampler=dict(type='DefaultSampler', shuffle=True),
            collate_fn=dict(type='pseudo_collate'), batch_size=4),
        train_cfg=dict(by_epoch=True, max_epochs=2),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.5)),
        custom_hooks=[hook], default_hooks=dict(checkpoint=None),
        visualizer=dict(type='Visualizer',
                        vis_backends=[dict(type='LocalVisBackend')]))
    runner.train()
    # 2 iterations per epoch: one evaluation each, a flip rate from the
    # second on, an STS per epoch.
    assert [step for step, _ in hook.flip_rates] == [4]
    assert [epoch for epoch, _ in hook.sts] == [1, 2]
    assert all(0 <= v <= 1 for _, v in hook.flip_rates)
    scalars = list(tmp_path.glob('*/vis_data/scalars.json'))
    assert scalars and 'stability/sts' in scalars[0].read_text()
