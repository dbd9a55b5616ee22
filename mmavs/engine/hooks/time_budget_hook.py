"""Stop epoch-based training at the end of the last epoch that fits a
wall-clock budget."""
import time
from typing import List, Optional

from mmengine.hooks import Hook
from mmseg.registry import HOOKS


@HOOKS.register_module()
class TimeBudgetHook(Hook):
    """Give a training run a wall-clock budget, spent in whole epochs.

    After every training epoch the hook projects the cost of one more
    epoch (the mean training-epoch time so far, plus the mean validation
    time where the loop validates) and, if finishing the current epoch's
    validation and one more epoch would overrun ``minutes``, makes the
    current epoch the last one (it lowers the loop's ``max_epochs``). The
    loop then validates that epoch (mmengine validates the last epoch
    whatever the interval) and the checkpoint hook saves it as the last, so
    a budgeted run ends like a shorter schedule: no epoch is cut, every
    checkpoint and validation is whole. The learning-rate schedule is the
    config's (it is not compressed into the budget).

    Before the first validation has been timed, its cost is estimated
    from the training iterations: ``len(val loader) / len(train loader)``
    of a training epoch, an over-estimate (a validation step does no
    backward pass), so the first decision errs towards stopping.

    The clock starts at ``before_train`` in this process: a resumed run
    gets the whole budget again. Only epoch-based loops are supported.

    Args:
        minutes: The budget for training and its validations, in minutes.
    """

    priority = 'NORMAL'  # before the checkpoint hook (VERY_LOW)

    def __init__(self, minutes: float) -> None:
        if not minutes > 0:
            raise ValueError(f'minutes must be > 0, got {minutes}')
        self.budget = float(minutes) * 60
        self._start: Optional[float] = None
        self._mark = 0.0
        self.train_times: List[float] = []
        self.val_times: List[float] = []
        self.stopped_at: Optional[int] = None

    @staticmethod
    def _validates_after(runner, epoch: int) -> bool:
        """Whether the loop validates after ``epoch`` (1-based) epochs."""
        loop = runner.train_loop
        if runner.val_loop is None:
            return False
        interval = getattr(loop, 'val_interval', 1) or 0
        return (epoch >= getattr(loop, 'val_begin', 1) and interval > 0
                and (epoch % interval == 0 or epoch == loop.max_epochs))

    def before_train(self, runner) -> None:
        if not hasattr(runner.train_loop, '_max_epochs'):
            raise TypeError('TimeBudgetHook needs an epoch-based training '
                            f'loop, got {type(runner.train_loop).__name__}')
        self._start = time.perf_counter()

    def before_train_epoch(self, runner) -> None:
        self._mark = time.perf_counter()

    def before_val_epoch(self, runner) -> None:
        self._mark = time.perf_counter()

    def after_val_epoch(self, runner, metrics=None) -> None:
        if self._start is not None:  # not a validation outside training
            self.val_times.append(time.perf_counter() - self._mark)

    def _val_cost(self, runner) -> float:
        if self.val_times:
            return sum(self.val_times) / len(self.val_times)
        loop = runner.train_loop
        epoch = sum(self.train_times) / len(self.train_times)
        return epoch * len(runner.val_loop.dataloader) / max(
            1, len(loop.dataloader))

    def after_train_epoch(self, runner) -> None:
        now = time.perf_counter()
        self.train_times.append(now - self._mark)
        loop = runner.train_loop
        done = runner.epoch + 1  # the loop counts this epoch after the hooks
        if done >= loop.max_epochs:
            return
        validates = self._validates_after
        cost = self._val_cost(runner) if validates(runner, done) else 0.0
        cost += sum(self.train_times) / len(self.train_times)
        if validates(runner, done + 1):
            cost += self._val_cost(runner)
        elapsed = now - self._start
        if elapsed + cost <= self.budget:
            return
        runner.logger.info(
            f'TimeBudgetHook: stopping after epoch {done} of '
            f'{loop.max_epochs}: {elapsed / 60:.2f} min spent, one more epoch '
            f'would end at about {(elapsed + cost) / 60:.2f} min, over the '
            f'{self.budget / 60:g}-minute budget')
        loop._max_epochs = done  # the loop then validates this epoch
        self.stopped_at = done
