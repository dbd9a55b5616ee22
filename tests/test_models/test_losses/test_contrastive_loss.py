import math

import pytest
import torch
from mmseg.registry import MODELS

import mmavs.models  # noqa: F401

# Three frames: clips 0, 0, 1. Unit vectors make cosine scores easy.
C = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
Z = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
CLIPS = torch.tensor([0, 0, 1])


def expected(negatives):
    """Hand computation; cos(c_i, z_j) read off the vectors above."""
    cos = [[1, 1, 0], [0, 0, 1], [1, 1, 0]]
    terms = []
    for i, neg in enumerate(negatives):
        pos = math.exp(cos[i][i])
        total = pos + sum(math.exp(cos[i][j]) for j in neg)
        terms.append(-math.log(pos / total))
    return sum(terms) / len(terms)


def test_hand_made_batch_excluding_same_clip():
    loss = MODELS.build(dict(type='ContrastiveLoss', loss_weight=1.0))
    value = loss(C, Z, CLIPS)
    assert value.item() == pytest.approx(expected([[2], [2], [0, 1]]))


def test_hand_made_batch_paper_literal():
    loss = MODELS.build(dict(type='ContrastiveLoss', loss_weight=1.0,
                             exclude_same_clip=False))
    value = loss(C, Z)
    assert value.item() == pytest.approx(
        expected([[1, 2], [0, 2], [0, 1]]))


def test_weight_temperature_and_gradients():
    c = torch.randn(4, 8, requires_grad=True)
    z = torch.randn(4, 8, requires_grad=True)
    clips = torch.tensor([0, 1, 2, 3])
    base = MODELS.build(dict(type='ContrastiveLoss', loss_weight=1.0))(
        c, z, clips)
    weighted = MODELS.build(dict(type='ContrastiveLoss'))(c, z, clips)
    assert weighted.item() == pytest.approx(0.1 * base.item())
    weighted.backward()
    assert c.grad.abs().sum() > 0 and z.grad.abs().sum() > 0


def test_single_clip_batch_has_no_negatives():
    loss = MODELS.build(dict(type='ContrastiveLoss'))
    assert loss(C[:2], Z[:2], CLIPS[:2]).item() == 0


def test_bad_inputs():
    loss = MODELS.build(dict(type='ContrastiveLoss'))
    with pytest.raises(ValueError, match='must both be'):
        loss(C, Z[:, :1], CLIPS)
    with pytest.raises(ValueError, match='needs clip_ids'):
        loss(C, Z)
