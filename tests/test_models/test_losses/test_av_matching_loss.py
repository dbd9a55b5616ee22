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


def test_semantic_mode_is_the_avss_reference_arithmetic():
    # Two frames, 3 classes; foreground = argmax != 0 (hard, pooled); the
    # visual map times the pooled mask, averaged over all positions; KL
    # summed over channels, averaged over the annotated frames.
    from mmavs.structures import ClipLayout
    logits = torch.zeros(2, 3, 4, 4)
    logits[0, 2, :2] = 5.0   # frame 0: top half is class 2
    logits[1, 0] = 5.0       # frame 1: all background
    v_map = torch.randn(2, 4, 2, 2)
    audio = torch.randn(2, 4)
    layout = ClipLayout.uniform(1, 2, annotated=True)
    loss = AVMatchingLoss(loss_weight=0.5, mode='semantic')(
        logits, [v_map], dict(level_audio=[audio]), layout)
    mask = torch.tensor([[1., 1.], [0., 0.]])
    pooled = torch.stack([(v_map[0] * mask).mean((-2, -1)),
                          torch.zeros(4)])
    kl = (audio.softmax(-1) * (audio.log_softmax(-1) -
                               pooled.log_softmax(-1))).sum(-1)
    assert torch.allclose(loss, 0.5 * kl.mean(), atol=1e-5)
    # Frames without supervision do not count; none at all gives zero.
    only_first = ClipLayout(layout.num_frames, layout.clip_index,
                            layout.frame_index, layout.frame_valid,
                            torch.tensor([True, False]))
    loss = AVMatchingLoss(loss_weight=1.0, mode='semantic')(
        logits, [v_map], dict(level_audio=[audio]), only_first)
    assert torch.allclose(loss, kl[0], atol=1e-5)
    nobody = ClipLayout.uniform(1, 2, annotated=False)
    assert AVMatchingLoss(mode='semantic')(
        logits, [v_map], dict(level_audio=[audio]), nobody) == 0


def test_semantic_mode_options():
    with pytest.raises(ValueError, match='mode must be'):
        AVMatchingLoss(mode='multi')
    with pytest.raises(ValueError, match='C > 1'):
        AVMatchingLoss(mode='semantic')(
            torch.zeros(1, 1, 4, 4), [torch.zeros(1, 2, 2, 2)],
            dict(level_audio=[torch.zeros(1, 2)]))
    # The published reference compares with C - 1: available, not default.
    logits = torch.zeros(1, 3, 2, 2)
    logits[0, 0] = 1.0  # all class 0
    v_map, audio = torch.randn(1, 2, 2, 2), torch.randn(1, 2)
    ours = AVMatchingLoss(mode='semantic')(
        logits, [v_map], dict(level_audio=[audio]))
    literal = AVMatchingLoss(mode='semantic', background_index=2)(
        logits, [v_map], dict(level_audio=[audio]))
    assert not torch.allclose(ours, literal)
