import math

import pytest
import torch
from mmseg.registry import MODELS

import mmavs.models  # noqa: F401
from mmavs.models.utils import GMMClassifier


def two_gaussians(n, generator):
    """Label 0: 30 % around -4, 70 % around +4 in 3-D, std 0.5 / 1.0."""
    first = int(0.3 * n)
    a = torch.randn(first, 3, generator=generator) * 0.5 - 4
    b = torch.randn(n - first, 3, generator=generator) * 1.0 + 4
    return torch.cat((a, b))


def test_em_recovers_two_separated_gaussians():
    torch.manual_seed(0)
    gmm = GMMClassifier(num_labels=2, embed_dims=3, num_components=2,
                        momentum=0.5, bank_size=1000)
    gen = torch.Generator().manual_seed(1)
    data = two_gaussians(1000, gen)
    gmm.update(data, torch.zeros(1000, dtype=torch.long))
    for _ in range(60):
        gmm.update(torch.empty(0, 3), torch.empty(0, dtype=torch.long))
    order = gmm.means[0, :, 0].argsort()
    means, variances = gmm.means[0, order], gmm.variances[0, order]
    weights = gmm.weights[0, order]
    torch.testing.assert_close(means[0], torch.full((3, ), -4.0), atol=0.15,
                               rtol=0)
    torch.testing.assert_close(means[1], torch.full((3, ), 4.0), atol=0.15,
                               rtol=0)
    torch.testing.assert_close(variances[0], torch.full((3, ), 0.25),
                               atol=0.06, rtol=0)
    torch.testing.assert_close(variances[1], torch.full((3, ), 1.0),
                               atol=0.2, rtol=0)
    torch.testing.assert_close(weights, torch.tensor([0.3, 0.7]), atol=0.01,
                               rtol=0)
    assert gmm.weights.sum(-1).sub(1).abs().max() < 1e-5
    # Label 1 never saw a sample: untouched.
    assert not gmm.fitted[1] and gmm.fitted[0]
    assert (gmm.variances[1] == 1).all()


def test_first_update_ignores_momentum_then_momentum_applies():
    torch.manual_seed(0)
    slow = GMMClassifier(2, embed_dims=4, num_components=2, momentum=0.999)
    torch.manual_seed(0)
    plain = GMMClassifier(2, embed_dims=4, num_components=2, momentum=0.0)
    x = torch.randn(10, 4) + 3
    labels = torch.zeros(10, dtype=torch.long)
    slow.update(x, labels)
    plain.update(x, labels)
    torch.testing.assert_close(slow.means, plain.means)
    before = slow.means.clone()
    plain.update(x, labels)
    slow.update(x, labels)
    expected = 0.999 * before + 0.001 * plain.means
    torch.testing.assert_close(slow.means, expected)


def test_min_samples_and_fifo_bank():
    gmm = GMMClassifier(3, embed_dims=2, num_components=3, bank_size=8)
    assert gmm.min_samples == 6
    gmm.update(torch.ones(5, 2), torch.full((5, ), 2))
    assert not gmm.fitted.any()  # 5 < 2M
    gmm.update(torch.arange(10.0).view(5, 2), torch.full((5, ), 2))
    assert gmm.fitted.tolist() == [False, False, True]
    assert gmm.bank_len[2] == 8
    # 10 pushed, 8 kept: the two oldest (ones) are overwritten.
    assert (gmm.bank[2] == 1).all(-1).sum() == 3
    assert gmm.bank_ptr[2] == 2


def test_logits_equal_an_independent_log_likelihood():
    torch.manual_seed(0)
    gmm = GMMClassifier(3, embed_dims=5, num_components=2)
    gmm.means.normal_()
    gmm.variances.uniform_(0.2, 2.0)
    gmm.weights.copy_(torch.tensor([[0.2, 0.8], [0.5, 0.5], [0.9, 0.1]]))
    e = torch.randn(2, 4, 5, requires_grad=True)
    logits = gmm(e)
    assert logits.shape == (2, 4, 3)
    ref = torch.empty(2, 4, 3)
    for c in range(3):
        parts = []
        for m in range(2):
            dist = torch.distributions.Independent(
                torch.distributions.Normal(gmm.means[c, m],
                                           gmm.variances[c, m].sqrt()), 1)
            parts.append(dist.log_prob(e.detach()) + math.log(gmm.weights[c,
                                                                        m]))
        ref[..., c] = torch.stack(parts, -1).logsumexp(-1)
    torch.testing.assert_close(logits, ref, rtol=1e-5, atol=1e-4)
    logits.sum().backward()
    assert e.grad is not None and gmm.means.grad is None


def test_sampling_is_reproducible_and_class_conditional():
    gmm = GMMClassifier(3, embed_dims=4, num_components=2)
    gmm.means.zero_()
    gmm.means[1] += 100
    gmm.variances.fill_(1e-4)
    labels = torch.tensor([1, 0, 1, 2])
    a = gmm.sample(labels, torch.Generator().manual_seed(3))
    b = gmm.sample(labels, torch.Generator().manual_seed(3))
    c = gmm.sample(labels, torch.Generator().manual_seed(4))
    torch.testing.assert_close(a, b)
    assert not torch.equal(a, c)
    assert a.shape == (4, 4) and not a.requires_grad
    assert (a[[0, 2]] - 100).abs().max() < 0.1 and a[[1, 3]].abs().max() < 0.1
    assert gmm.sample(torch.empty(0, dtype=torch.long)).shape == (0, 4)


def test_component_choice_follows_the_weights():
    gmm = GMMClassifier(2, embed_dims=1, num_components=2)
    gmm.means[0, :, 0] = torch.tensor([-10.0, 10.0])
    gmm.variances.fill_(1e-4)
    gmm.weights[0] = torch.tensor([0.25, 0.75])
    z = gmm.sample(torch.zeros(4000, dtype=torch.long),
                   torch.Generator().manual_seed(0))
    assert (z > 0).float().mean().item() == pytest.approx(0.75, abs=0.03)


def test_checkpoint_round_trip_of_the_buffers():
    torch.manual_seed(0)
    gmm = GMMClassifier(3, embed_dims=4, num_components=2)
    gmm.update(torch.randn(20, 4), torch.randint(0, 3, (20, )))
    state = gmm.state_dict()
    assert set(state) == {'means', 'variances', 'weights', 'fitted'}
    other = GMMClassifier(3, embed_dims=4, num_components=2)
    other.load_state_dict(state)
    for key in state:
        torch.testing.assert_close(getattr(other, key), getattr(gmm, key))
    e = torch.randn(5, 4)
    torch.testing.assert_close(other(e), gmm(e))
    with_bank = GMMClassifier(3, embed_dims=4, num_components=2,
                              save_bank=True)
    assert {'bank', 'bank_len', 'bank_ptr'} <= set(with_bank.state_dict())


def test_autocast_keeps_float32():
    gmm = GMMClassifier(3, embed_dims=4, num_components=2)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        out = gmm(torch.randn(2, 4).bfloat16())
    assert out.dtype == torch.float32


def test_linear_and_prototype_classifiers():
    linear = MODELS.build(dict(type='LinearQueryClassifier', num_labels=4,
                               embed_dims=8))
    assert linear(torch.randn(2, 3, 8)).shape == (2, 3, 4)
    assert linear.no_object == 3 and not linear.provides_prompts
    linear.update(torch.randn(2, 8), torch.tensor([0, 1]))  # no-op
    with pytest.raises(NotImplementedError, match="'gmm' or 'prototype'"):
        linear.sample(torch.tensor([0]))
    proto = MODELS.build(dict(type='PrototypeClassifier', num_labels=4,
                              embed_dims=8))
    e = proto.prototypes.detach()[2:3] * 3  # same direction as label 2
    logits = proto(e)
    assert logits.argmax(-1).item() == 2
    assert logits[0, 2].item() == pytest.approx(10.0, rel=1e-5)
    prompts = proto.sample(torch.tensor([2, 0]))
    torch.testing.assert_close(prompts, proto.prototypes[[2, 0]])
    prompts.sum().backward()
    assert proto.prototypes.grad is not None
    gmm = MODELS.build(dict(type='GMMClassifier', num_labels=4,
                            embed_dims=8))
    assert gmm(torch.randn(7, 8)).shape == (7, 4) and gmm.provides_prompts
