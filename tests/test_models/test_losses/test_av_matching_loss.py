import math

import pytest
import torch

from mmavs.models.losses import AVMatchingLoss


def test_matches_hand_computation_on_one_level():
    # One frame, 2x2 map, C=2; logits pooled from 4x4 to 2x2.
    logits = torch.zeros(1, 1, 4, 4)  # sigmoid = 0.5 everywhere
    v_map = torch.tensor([[[[1., 3.], [5., 7.]], [[0., 0.], [0., 4.]]]])
    audio = torch.tensor([[0.0, math.log(3.0)]])  # softmax = [0.25, 0.75]
    loss = AVMatchingLoss(loss_weight=1.0)(logits, [v_map],
                                           dict(level_audio=[audio]))
    pooled = torch.tensor([4.0, 1.0])  # mean of each channel (uniform mask)
    log_q = pooled - torch.logsumexp(pooled, 0)
    p = torch.tensor([0.25, 0.75])
    expected = (p * (p.log() - log_q)).sum()
    assert torch.allclose(loss, expected, atol=1e-5)


def test_levels_are_averaged_and_unfused_levels_skipped():
    logits = torch.randn(2, 1, 16, 16)
    maps = [torch.randn(2, 4, 8, 8), torch.randn(2, 4, 4, 4)]
    audio = [torch.randn(2, 4), torch.randn(2, 4)]
    loss_fn = AVMatchingLoss(loss_weight=0.5)
    both = loss_fn(logits, maps, dict(level_audio=audio))
    each = [loss_fn(logits, [m], dict(level_audio=[a]))
            for m, a in zip(maps, audio)]
    assert torch.allclose(both, (each[0] + each[1]) / 2)
    assert torch.allclose(
        loss_fn(logits, maps, dict(level_audio=[audio[0], None])), each[0])
    with pytest.raises(ValueError, match='at least one fused level'):
        loss_fn(logits, maps, dict(level_audio=[None, None]))
    with pytest.raises(ValueError, match='needs a neck that returns'):
        loss_fn(logits, maps, dict(level_audio=None))
