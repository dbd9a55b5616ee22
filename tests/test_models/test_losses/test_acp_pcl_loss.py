import math

import pytest
import torch
from mmseg.registry import MODELS

import mmavs.models  # noqa: F401


def test_acp_loss_mse_and_broadcast():
    loss = MODELS.build(dict(type='ACPLoss', loss_weight=2.0))
    logits = torch.tensor([[[[0.0, 100.0]]]])  # σ = 0.5, 1
    target = torch.tensor([[[[1.0, 1.0]], [[0.0, 0.5]]]])  # (1, 2, 1, 2)
    # Shared map broadcast over the 2 channels.
    expected = 2.0 * (0.25 + 0 + 0.25 + 0.25) / 4
    assert loss(logits, target).item() == pytest.approx(expected)
    empty = torch.zeros(0, 1, 3, 4, requires_grad=True)
    out = loss(empty, torch.zeros(0, 1, 3, 4))
    assert out.item() == 0
    out.backward()
    assert loss.loss_name == 'loss_acp'


def test_pcl_hand_computed_on_four_vectors():
    loss = MODELS.build(dict(type='PCLLoss', temperature=0.1))
    # One prompt of class 1; its audio mask is above its mean in bin 0 only,
    # so the anchor is the dense feature of bin 0: (3, 4) → (0.6, 0.8).
    audio_logits = torch.tensor([[[5.0, -5.0]]])  # (P=1, T=1, F=2)
    dense = torch.tensor([[3.0, -1.0], [4.0, 0.0]]).view(1, 2, 1, 2)
    dense.requires_grad_(True)
    # Four pixels (2x2): p1 = (1, 0), p2 = (0, 2) of class 1,
    # n1 = (-1, 0) of class 0, n2 = (3, 4) of class 2.
    pixels = torch.tensor([[[1.0, 0.0], [-1.0, 3.0]],
                           [[0.0, 2.0], [0.0, 4.0]]])[None]
    pixels.requires_grad_(True)
    labels = torch.tensor([[[1, 1], [0, 2]]])
    value = loss(audio_logits, dense, torch.tensor([1]), pixels, labels)
    s_p1, s_p2, s_n1, s_n2 = 6.0, 8.0, -6.0, 10.0

    def term(s):
        return -math.log(
            math.exp(s) / (math.exp(s) + math.exp(s_n1) + math.exp(s_n2)))

    assert value.item() == pytest.approx((term(s_p1) + term(s_p2)) / 2,
                                         rel=1e-5)
    value.backward()
    assert dense.grad[0, :, 0, 0].abs().sum() > 0
    assert dense.grad[0, :, 0, 1].abs().sum() == 0  # below the mean
    assert pixels.grad.abs().sum() > 0


def reference(anchors, pixels, pix_labels, prompt_labels, tau):
    losses = []
    for f, c in zip(anchors, prompt_labels):
        pos = pixels[pix_labels == c]
        neg = pixels[pix_labels != c]
        if not len(pos):
            continue
        neg_sum = torch.exp(neg @ f / tau).sum()
        terms = [-(torch.exp(p @ f / tau) /
                   (torch.exp(p @ f / tau) + neg_sum)).log() for p in pos]
        losses.append(torch.stack(terms).mean())
    return torch.stack(losses).mean()


def test_pcl_against_a_loop_reference_with_ignore_and_resize():
    torch.manual_seed(0)
    loss = MODELS.build(dict(type='PCLLoss', temperature=0.5,
                             max_pixels=10000))
    audio_logits = torch.randn(3, 4, 5)
    dense = torch.randn(3, 6, 4, 5)
    pixels = torch.randn(2, 6, 3, 3)
    labels = torch.randint(0, 3, (2, 6, 6))
    labels[0, :2] = 255
    prompts = torch.tensor([1, 2, 5])  # class 5 has no pixel: skipped
    value = loss(audio_logits, dense, prompts, pixels, labels)
    anchors = loss.anchors(audio_logits, dense)
    small = labels[:, ::2, ::2].flatten()  # nearest 6 → 3
    flat = torch.nn.functional.normalize(
        pixels.permute(0, 2, 3, 1).reshape(-1, 6), dim=-1)
    keep = small != 255
    expected = reference(anchors, flat[keep], small[keep], prompts, 0.5)
    torch.testing.assert_close(value, expected, rtol=1e-5, atol=1e-5)


def test_pcl_pixel_cap_and_degenerate_cases():
    loss = MODELS.build(dict(type='PCLLoss', max_pixels=3))
    pixels = torch.randn(1, 4, 8, 8)
    labels = torch.zeros(1, 8, 8, dtype=torch.long)
    labels[0, :2] = 1
    feats, kept = loss.sample_pixels(pixels, labels,
                                     torch.Generator().manual_seed(0))
    assert feats.shape == (6, 4) and kept.tolist().count(1) == 3
    torch.testing.assert_close(feats.norm(dim=-1), torch.ones(6))
    # A constant audio mask: every bin is used.
    anchor = loss.anchors(torch.zeros(1, 2, 2), torch.arange(
        8.0).view(1, 2, 2, 2))
    torch.testing.assert_close(
        anchor, torch.nn.functional.normalize(torch.tensor([[1.5, 5.5]])))
    # Only positives (no negative): every term is -log 1 = 0, finite grads.
    pixels.requires_grad_(True)
    dense = torch.randn(1, 4, 2, 2, requires_grad=True)
    value = loss(torch.randn(1, 2, 2), dense, torch.tensor([0]), pixels,
                 torch.zeros(1, 8, 8, dtype=torch.long))
    assert value.item() == pytest.approx(0, abs=1e-6)
    value.backward()
    assert torch.isfinite(dense.grad).all()
    # No prompt, or only ignored pixels: a zero that keeps the graph.
    empty = loss(torch.zeros(0, 2, 2), torch.zeros(0, 4, 2, 2),
                 torch.zeros(0, dtype=torch.long), pixels, labels)
    assert empty.item() == 0 and empty.requires_grad
    ignored = loss(torch.randn(1, 2, 2), dense, torch.tensor([0]), pixels,
                   torch.full((1, 8, 8), 255))
    assert ignored.item() == 0
