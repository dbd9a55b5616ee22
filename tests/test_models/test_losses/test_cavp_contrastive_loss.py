"""CAVPContrastiveLoss (cavp.md §5–6) on hand-made batches."""
import math

import pytest
import torch
from mmengine.logging import MessageHub
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from torch.nn import functional as F

import mmavs  # noqa: F401
from mmavs.models.losses import (CAVPContrastiveLoss, ShuffledAudio,
                                 SoundBank, supervised_info_nce)
from mmavs.structures import ClipLayout


def samples_from(gts):
    out = []
    for gt in gts:
        s = SegDataSample()
        s.gt_sem_seg = PixelData(data=torch.as_tensor(gt)[None].long())
        out.append(s)
    return out


def set_epoch(epoch):
    MessageHub.get_current_instance().update_info('epoch', epoch)


@pytest.fixture(autouse=True)
def epoch_zero():
    set_epoch(0)
    yield
    set_epoch(0)


def test_registered_with_every_hyper_parameter():
    loss = MODELS.build(dict(type='CAVPContrastiveLoss', num_classes=5,
                             temperature=0.2, num_samples=7, embed_level=1,
                             loss_weight=0.5, bank_size=3, ow_rate=0.25,
                             ow_start_epoch=2, use_bank=False))
    assert (loss.temperature, loss.num_samples, loss.embed_level,
            loss.loss_weight, loss.bank.size, loss.ow_rate,
            loss.ow_start_epoch, loss.use_bank) == (0.2, 7, 1, 0.5, 3, 0.25,
                                                    2, False)
    assert loss.needs_shuffled_audio and loss.loss_name == 'loss_cavp'


def test_info_nce_hand_computed():
    """Four vectors, labels (0, 0, 1, 2): anchors 0 and 1 have one
    positive, 2 and 3 none (they add 0 and still count)."""
    z = F.normalize(torch.tensor([[1.0, 0.2], [0.8, 0.5], [0.9, 0.4],
                                  [0.6, 0.7]], dtype=torch.float64), dim=1)
    labels = torch.tensor([0, 0, 1, 2])
    tau = 0.1
    dots = [[float(z[i] @ z[j]) / tau for j in range(4)] for i in range(4)]
    total = 0.0
    for i in range(4):
        row_max = max(dots[i])
        s = [d - row_max for d in dots[i]]
        neg = sum(math.exp(s[k]) for k in range(4)
                  if labels[k] != labels[i])
        pos = [j for j in range(4) if j != i and labels[j] == labels[i]]
        log_p = [s[j] - math.log(math.exp(s[j]) + neg) for j in pos]
        total += -sum(log_p) / (len(pos) + 1e-12)
    expected = total / 4
    assert expected > 0.1
    assert supervised_info_nce(z, labels, tau).item() == pytest.approx(
        expected, rel=1e-9)


def one_hot_pixels(num_frames, size):
    """Embeddings whose vector at pixel p is the p-th unit vector, so a
    mined vector tells which pixel (and pass) it came from."""
    pixels = num_frames * size * size
    eye = torch.eye(2 * pixels)
    matched = eye[:pixels].view(num_frames, size, size, -1)
    shuffled = eye[pixels:].view(num_frames, size, size, -1)
    return (matched.permute(0, 3, 1, 2), shuffled.permute(0, 3, 1, 2),
            pixels)


def test_mining_counts_and_shuffled_labels():
    """Frame 0: 5 pixels of class 1; frame 1: 2 pixels of class 2 (under
    num_samples = 3: no anchors) and one ignored pixel. n = min(3, #bg = 24,
    #fg = 7) = 3. Frame 0's audio matches, frame 1's does not."""
    torch.manual_seed(0)
    loss = CAVPContrastiveLoss(num_classes=3, num_samples=3)
    gt = torch.zeros(2, 4, 4, dtype=torch.long)
    gt[0].view(-1)[:5] = 1
    gt[1].view(-1)[:2] = 2
    gt[1, 3, 3] = 255
    match = torch.tensor([True, False])
    gt_shuf = torch.where(match[:, None, None], gt, torch.zeros_like(gt))
    z, z_shuf, pixels = one_hot_pixels(2, 4)
    flat = lambda t: t.permute(0, 2, 3, 1).flatten(0, 2)  # noqa: E731
    feats, labels = loss.mine(flat(z), flat(z_shuf), gt.flatten(),
                              gt_shuf.flatten(),
                              torch.ones(32, dtype=torch.bool))
    where = feats.argmax(1)
    from_matched = where < pixels
    assert len(labels) == 3 + 3 + 3
    # 3 anchors of class 1 from the matched pass, at class-1 pixels.
    anchors = from_matched & (labels == 1)
    assert int(anchors.sum()) == 3
    assert bool((gt.flatten()[where[anchors]] == 1).all())
    assert not bool((labels == 2).any())  # class 2 has too few pixels
    # 3 matched background pixels, never the ignored one.
    background = from_matched & (labels == 0)
    assert int(background.sum()) == 3
    assert bool((gt.flatten()[where[background]] == 0).all())
    # 3 shuffled-pass pixels at foreground positions: the true class in the
    # matched frame 0, background in the mismatched frame 1.
    shuffled = ~from_matched
    assert int(shuffled.sum()) == 3
    position = where[shuffled] - pixels
    assert bool((gt.flatten()[position] > 0).all())
    assert bool((gt.flatten()[position] != 255).all())
    frame = position // 16
    assert torch.equal(labels[shuffled], torch.where(
        frame == 0, torch.ones_like(frame), torch.zeros_like(frame)))


def test_no_class_with_enough_pixels_gives_zero():
    loss = CAVPContrastiveLoss(num_classes=3, num_samples=100)
    emb = torch.randn(1, 4, 4, 4, requires_grad=True)
    gt = torch.zeros(1, 8, 8, dtype=torch.long)
    gt[0, :2] = 1
    plan = ShuffledAudio(torch.zeros(1, 1), torch.zeros(1).long(),
                         torch.ones(1, dtype=torch.bool),
                         torch.ones(1, dtype=torch.bool))
    out = loss(None, [emb], dict(shuffle=plan, shuffled_maps=[emb * 2]),
               ClipLayout.from_lengths([1], annotated=True),
               samples_from(gt))
    assert out.item() == 0
    out.backward()  # still in the graph


def test_image_labels_and_match_of_the_shuffle():
    """Labels from the masks (background bit included, 255 excluded); a
    pair matches when the label vectors are equal."""
    loss = CAVPContrastiveLoss(num_classes=4, use_bank=False)
    gts = torch.zeros(3, 4, 4, dtype=torch.long)
    gts[0, 0, 0] = 1
    gts[1, 1, 1] = 1
    gts[1, 3, 3] = 255  # padding does not change the label vector
    gts[2, 0, 0] = 2
    layout = ClipLayout.from_lengths([1, 1, 1], annotated=True)
    labels, known = loss.image_labels(samples_from(gts), layout)
    assert labels.tolist() == [[True, True, False, False]] * 2 + [
        [True, False, True, False]]
    assert bool(known.all())
    audio = torch.arange(3.)[:, None, None].expand(3, 2, 5)
    loss._sources = lambda layout: [1, 2, 0]
    plan = loss.shuffle_audio(audio, layout, samples_from(gts))
    assert plan.source.tolist() == [1, 2, 0]
    assert plan.match.tolist() == [True, False, False]
    assert torch.equal(plan.audio, audio[[1, 2, 0]])


def test_sources_permute_clips_of_equal_length():
    torch.manual_seed(3)
    loss = CAVPContrastiveLoss(num_classes=2)
    layout = ClipLayout.from_lengths([2, 1, 2, 1])
    for _ in range(5):
        source = loss._sources(layout)
        # Frame t of a 2-frame clip takes frame t of a 2-frame clip.
        assert sorted(source) == list(range(6))
        for clip_start in (0, 3):
            a, b = source[clip_start], source[clip_start + 1]
            assert a in (0, 3) and b == a + 1
        assert source[2] in (2, 5) and source[5] in (2, 5)


def test_batch_of_one():
    """Bug §10.10 absent: one image, the permutation is the identity, the
    pair matches and the loss is finite."""
    torch.manual_seed(0)
    loss = CAVPContrastiveLoss(num_classes=3, num_samples=4)
    gt = torch.zeros(1, 8, 8, dtype=torch.long)
    gt[0, 2:6, 2:6] = 2
    layout = ClipLayout.from_lengths([1], annotated=True)
    plan = loss.shuffle_audio(torch.randn(1, 1, 10), layout, samples_from(gt))
    assert plan.match.tolist() == [True]
    emb = torch.randn(1, 6, 8, 8, requires_grad=True)
    out = loss(None, [emb], dict(shuffle=plan, shuffled_maps=[emb + 1]),
               layout, samples_from(gt))
    assert torch.isfinite(out) and out.item() > 0
    out.backward()
    assert emb.grad is not None


def make_batch(values, classes, size=4):
    """Frames with one square of ``classes[i]`` each and constant audio
    ``values[i]``."""
    gts = torch.zeros(len(classes), size, size, dtype=torch.long)
    for i, c in enumerate(classes):
        gts[i, :2, :2] = c
    audio = torch.tensor(values, dtype=torch.float)[:, None, None].expand(
        len(values), 1, 6).clone()
    return audio, samples_from(gts)


def test_overwrite_from_the_bank():
    """From ow_start_epoch on, mismatched single-source frames get a real
    bank clip of their class (never zeros), match becomes True and the
    target is the true mask."""
    torch.manual_seed(0)
    loss = CAVPContrastiveLoss(num_classes=4, ow_rate=1.0, bank_size=2,
                               num_samples=2)
    loss.train()
    layout = ClipLayout.from_lengths([1, 1, 1], annotated=True)
    loss._sources = lambda layout: [1, 2, 0]
    # Epoch 0: no overwrite; single-source frames fill the bank.
    audio, samples = make_batch([1., 2., 3.], [1, 2, 1])
    plan = loss.shuffle_audio(audio, layout, samples)
    assert plan.match.tolist() == [False, False, True]  # 1 ← 1 matches
    assert torch.equal(plan.audio, audio[[1, 2, 0]])
    assert [loss.bank.filled(c) for c in range(4)] == [0, 2, 1, 0]
    # Epoch 1: frames of classes 1, 3, 2; class 3 has no bank clip yet.
    set_epoch(1)
    audio, samples = make_batch([5., 6., 7.], [1, 3, 2])
    plan = loss.shuffle_audio(audio, layout, samples)
    assert plan.match.tolist() == [True, False, True]
    assert plan.source.tolist() == [-1, 2, -1]
    assert plan.audio[0, 0, 0].item() in (1., 3.)  # a class-1 clip
    assert plan.audio[2, 0, 0].item() == 2.  # the class-2 clip
    assert torch.equal(plan.audio[1], audio[2])  # no silent positive
    assert bool((plan.audio.abs().sum((1, 2)) > 0).all())
    # The shuffled targets follow the new match flags.
    emb = torch.randn(3, 5, 4, 4)
    feats, labels = loss.mine(
        *(t.permute(0, 2, 3, 1).flatten(0, 2) for t in (emb, emb)),
        torch.stack([s.gt_sem_seg.data[0] for s in samples]).flatten(),
        torch.stack([
            s.gt_sem_seg.data[0] * int(m)
            for s, m in zip(samples, plan.match.tolist())
        ]).flatten(), torch.ones(48, dtype=torch.bool))
    assert feats is not None
    # Now frame 1 (class 3) pushed too: the bank holds it for next time.
    assert loss.bank.filled(3) == 1


def test_overwrite_off_before_start_epoch_and_in_eval():
    loss = CAVPContrastiveLoss(num_classes=3, ow_rate=1.0, ow_start_epoch=1)
    layout = ClipLayout.from_lengths([1, 1], annotated=True)
    loss._sources = lambda layout: [1, 0]
    audio, samples = make_batch([1., 2.], [1, 2])
    loss.train()
    loss.shuffle_audio(audio, layout, samples)  # fills the bank
    loss.eval()
    set_epoch(3)
    plan = loss.shuffle_audio(audio, layout, samples)
    assert plan.match.tolist() == [False, False]
    assert [loss.bank.filled(c) for c in range(3)] == [0, 1, 1]


def test_bank_fifo_and_random_filled_slot():
    bank = SoundBank(num_classes=2, size=2)
    with pytest.raises(LookupError):
        bank.draw(0)
    for value in (1., 2., 3.):
        bank.push(1, torch.full((2, ), value))
    assert bank.filled(1) == 2
    drawn = {bank.draw(1)[0].item() for _ in range(50)}
    assert drawn == {2., 3.}
