"""How stable is the bipartite matching during training? (CPM, ``cpm.md``
§4, Fig. 4; logging only).

A fixed batch is evaluated every ``interval`` training iterations; the head
says which class each query is matched to (``query_assignments``), and the
hook logs

- ``stability/flip_rate``: the fraction of (frame, query) pairs whose matched
  label (a class, or ∅) changed since the previous evaluation;
- ``stability/sts`` at the end of each epoch: the STS of Fig. 4 over that
  epoch's evaluations of the fixed batch. For class ``c``, ``s_c(n)`` is the
  share of the epoch's class-``c`` assignments that went to query ``n``;
  STS is the mean, over classes with at least one assignment (∅ excluded),
  of the entropy of ``s_c`` (natural log). 0 = each class always goes to
  the same query.

The paper computes STS over every training image of an epoch; evaluating
the whole training set with the model of the moment would cost an extra
epoch, so this reading uses the fixed batch at the evaluations of the epoch
(with an iteration-based loop, "the epoch" is the whole run: mmengine calls
``after_train_epoch`` once at its end).
"""
from typing import List, Optional, Sequence

import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmseg.registry import HOOKS
from torch import Tensor


def flip_rate(previous: Tensor, current: Tensor) -> float:
    """Fraction of entries of two ``(N, Q)`` label tensors that differ."""
    if previous.shape != current.shape:
        raise ValueError(f'assignments changed shape: {tuple(previous.shape)}'
                         f' → {tuple(current.shape)}')
    return (previous != current).float().mean().item()


def stability_score(assignments: Sequence[Tensor], num_classes: int) -> float:
    """STS of Fig. 4 over ``(N, Q)`` label tensors (labels ``>= num_classes``,
    i.e. ∅, and negative ones are left out).

    Returns:
        The mean entropy (nats) over classes with an assignment; NaN if no
        class was ever assigned.
    """
    if not assignments:
        return float('nan')
    num_queries = assignments[0].shape[-1]
    counts = torch.zeros(num_classes * num_queries, dtype=torch.float64)
    for labels in assignments:
        labels = labels.detach().cpu().long()
        query = torch.arange(num_queries).expand_as(labels)
        keep = (labels >= 0) & (labels < num_classes)
        counts += torch.bincount(labels[keep] * num_queries + query[keep],
                                 minlength=counts.numel()).double()
    counts = counts.view(num_classes, num_queries)
    totals = counts.sum(1)
    used = totals > 0
    if not used.any():
        return float('nan')
    share = counts[used] / totals[used, None]
    entropy = -(share * share.clamp_min(1e-300).log()).sum(1)
    return entropy.mean().item()


@HOOKS.register_module()
class MatchingStabilityHook(Hook):
    """Log the matching flip rate of a fixed batch and the per-epoch STS.

    Before training, the first ``num_samples`` items (default: the loader's
    batch size) of the training dataset are loaded once and collated with
    the train loader's ``collate_fn``: that batch (with whatever random
    augmentation it drew then) stays fixed. A separate read, so the training
    loop's own iterator is not touched. Every ``interval`` iterations, in
    eval mode without gradients (the previous mode is restored)::

        data = model.data_preprocessor(batch, False)
        out, audio_feat = model.extract_feat(data['inputs'], data['audio'],
                                             data['layout'],
                                             data['data_samples'])
        labels = model.decode_head.query_assignments(
            out.fused, audio_feat, data['layout'], data['data_samples'])
        # (N, Q) long: matched class per query of the last prediction set,
        # num_classes (K) for ∅

    The values go to the logger and the visualizer (``stability/flip_rate``
    at the iteration, ``stability/sts`` at the epoch's last iteration); they
    are kept in ``flip_rates`` and ``sts`` as ``(step, value)`` lists.

    Args:
        interval: Iterations between evaluations (50).
        num_samples: Items of the fixed batch (default: the train loader's
            batch size).
        num_classes: ``K`` (∅ = K); default the head's ``num_classes``.
    """

    priority = 'LOW'

    def __init__(self, interval: int = 50, num_samples: Optional[int] = None,
                 num_classes: Optional[int] = None) -> None:
        if interval < 1:
            raise ValueError('interval must be >= 1')
        self.interval = interval
        self.num_samples = num_samples
        self.num_classes = num_classes
        self.batch = None
        self.previous: Optional[Tensor] = None
        self.epoch_assignments: List[Tensor] = []
        self.flip_rates: List[tuple] = []
        self.sts: List[tuple] = []

    @staticmethod
    def _model(runner):
        model = runner.model
        return model.module if is_model_wrapper(model) else model

    def before_train(self, runner) -> None:
        loop = getattr(runner, 'train_loop', None)
        loader = getattr(loop, 'dataloader', None)
        if loader is None:
            loader = runner.train_dataloader
        dataset = loader.dataset
        num = self.num_samples or loader.batch_size or 1
        num = min(num, len(dataset))
        self.batch = loader.collate_fn([dataset[i] for i in range(num)])
        if self.num_classes is None:
            head = self._model(runner).decode_head
            if not hasattr(head, 'num_classes'):
                raise AttributeError(
                    'MatchingStabilityHook: set num_classes (the head has no '
                    'num_classes attribute)')
            self.num_classes = int(head.num_classes)

    def assignments(self, runner) -> Tensor:
        """The ``(N, Q)`` matched labels of the fixed batch now."""
        model = self._model(runner)
        was_training = model.training
        model.eval()
        try:
            with torch.no_grad():
                data = model.data_preprocessor(self.batch, False)
                out, audio_feat = model.extract_feat(data['inputs'],
                                                     data['audio'],
                                                     data['layout'],
                                                     data['data_samples'])
                labels = model.decode_head.query_assignments(
                    out.fused, audio_feat, data['layout'],
                    data['data_samples'])
        finally:
            model.train(was_training)
        return labels.detach().cpu().long()

    def _log(self, runner, name: str, value: float, step: int) -> None:
        runner.logger.info(f'{name}: {value:.4f} (iter {step})')
        visualizer = getattr(runner, 'visualizer', None)
        if visualizer is not None:
            visualizer.add_scalars({name: value}, step=step)

    def after_train_iter(self, runner, batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        if self.batch is None or not self.every_n_train_iters(
                runner, self.interval):
            return
        labels = self.assignments(runner)
        step = runner.iter + 1
        if self.previous is not None:
            rate = flip_rate(self.previous, labels)
            self.flip_rates.append((step, rate))
            self._log(runner, 'stability/flip_rate', rate, step)
        self.previous = labels
        self.epoch_assignments.append(labels)

    def after_train_epoch(self, runner) -> None:
        if not self.epoch_assignments:
            return
        score = stability_score(self.epoch_assignments, self.num_classes)
        self.epoch_assignments = []
        self.sts.append((runner.epoch + 1, score))
        self._log(runner, 'stability/sts', score, runner.iter)
