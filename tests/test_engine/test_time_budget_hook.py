"""TimeBudgetHook: whole epochs within a wall-clock budget."""
import logging
from types import SimpleNamespace

import pytest
from mmseg.registry import HOOKS

import mmavs.engine  # noqa: F401
from mmavs.engine.hooks import time_budget_hook


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def perf_counter(self):
        return self.now


class FakeLoop:
    """The attributes of mmengine's EpochBasedTrainLoop the hook reads."""

    def __init__(self, max_epochs, val_interval, train_iters):
        self._max_epochs = max_epochs
        self.val_begin = 1
        self.val_interval = val_interval
        self.dataloader = [None] * train_iters

    @property
    def max_epochs(self):
        return self._max_epochs


def make_runner(max_epochs=10, val_interval=1, train_iters=10, val_iters=5):
    loop = FakeLoop(max_epochs, val_interval, train_iters)
    runner = SimpleNamespace(train_loop=loop, epoch=0,
                             val_loop=SimpleNamespace(
                                 dataloader=[None] * val_iters),
                             logger=logging.getLogger('test'))
    return runner


def train(hook, runner, clock, epoch_s, val_s):
    """Drive the hook like mmengine's EpochBasedTrainLoop; the epochs
    run."""
    loop = runner.train_loop
    hook.before_train(runner)
    done = 0
    while done < loop._max_epochs:
        runner.epoch = done
        hook.before_train_epoch(runner)
        clock.now += epoch_s
        hook.after_train_epoch(runner)
        done += 1
        if done % loop.val_interval == 0 or done == loop._max_epochs:
            hook.before_val_epoch(runner)
            clock.now += val_s
            hook.after_val_epoch(runner, {})
    return done


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(time_budget_hook, 'time', fake)
    return fake


@pytest.mark.parametrize('minutes, epochs', [
    (10, 9),    # 9 x 65 s = 585 s; a tenth would end at 650 s
    (10.85, 10),  # 10 epochs fit: the config's schedule, not cut
    (1.1, 1),   # 65 s done; the second would end at 130 s
    (0.5, 1),   # never fewer than one epoch
])
def test_stops_after_the_last_epoch_that_fits(clock, minutes, epochs):
    hook = HOOKS.build(dict(type='TimeBudgetHook', minutes=minutes))
    runner = make_runner(max_epochs=10)
    assert train(hook, runner, clock, epoch_s=60, val_s=5) == epochs
    assert clock.now <= max(minutes * 60, 65)
    assert hook.stopped_at == (epochs if epochs < 10 else None)


def test_first_validation_is_estimated_from_training_iterations(clock):
    """Before any validation is timed, it counts as val_iters / train_iters
    of a training epoch (here 60 s x 5 / 10 = 30 s): after epoch 1 the
    projection is 60 + 30 (its validation) + 60 + 30 = 180 s."""
    runner = make_runner(max_epochs=10)
    hook = HOOKS.build(dict(type='TimeBudgetHook', minutes=2.9))
    hook.before_train(runner)
    hook.before_train_epoch(runner)
    clock.now = 60
    hook.after_train_epoch(runner)
    assert runner.train_loop._max_epochs == 1
    hook = HOOKS.build(dict(type='TimeBudgetHook', minutes=3.0))
    runner = make_runner(max_epochs=10)
    clock.now = 0
    hook.before_train(runner)
    hook.before_train_epoch(runner)
    clock.now = 60
    hook.after_train_epoch(runner)
    assert runner.train_loop._max_epochs == 10


def test_validation_every_second_epoch(clock):
    """Only validated epochs cost a validation; the stopping epoch is
    validated by the loop (max_epochs lowered to it)."""
    hook = HOOKS.build(dict(type='TimeBudgetHook', minutes=5))
    runner = make_runner(max_epochs=10, val_interval=2)
    # 60 s epochs, 30 s validations after epochs 2, 4, ...: epoch 4 ends
    # at 240 + 60 = 300 s with its validation; epoch 5 (+ its forced
    # validation) would not fit after epoch 4.
    assert train(hook, runner, clock, epoch_s=60, val_s=30) == 4
    assert clock.now == 300


def test_budget_must_be_positive():
    with pytest.raises(ValueError, match='minutes must be > 0'):
        HOOKS.build(dict(type='TimeBudgetHook', minutes=0))
