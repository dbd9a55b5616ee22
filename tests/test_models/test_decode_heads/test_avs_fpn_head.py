import pytest
import torch
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

import mmavs.models  # noqa: F401


def build(channels=16, **kwargs):
    return MODELS.build(dict(type='AVSFPNHead', in_channels=[channels] * 4,
                             channels=channels, **kwargs))


def pyramid(n=4, channels=16, size=64):
    return [torch.randn(n, channels, size // s, size // s)
            for s in (4, 8, 16, 32)]


def test_output_is_full_resolution_single_channel():
    logits = build()(pyramid())
    assert logits.shape == (4, 1, 64, 64)


def test_parameter_counts_match_avsbench_at_256_channels():
    head = build(256)
    count = {name: sum(p.numel() for p in module.parameters())
             for name, module in head.named_children()}
    # AVSBench keeps an unused RCU in path4 (1,180,160 params); we do not.
    assert count['path4'] == 2360320 - 1180160
    assert count['path3'] == count['path2'] == count['path1'] == 2360320
    assert count['output_conv'] + count['conv_seg'] == 331969


def sample(annotated, label):
    return SegDataSample(
        gt_sem_seg=PixelData(data=label[None]),
        metainfo=dict(annotated=annotated, img_shape=(64, 64)))


def test_loss_uses_annotated_frames_only():
    head = build()
    logits = torch.randn(4, 1, 64, 64, requires_grad=True)
    ones = torch.ones(64, 64, dtype=torch.long)
    ignore = torch.full((64, 64), 255, dtype=torch.long)
    samples = [sample(True, ones), sample(False, ignore),
               sample(False, ignore), sample(True, ones * 0)]
    loss = head.loss_by_feat(logits, samples)['loss_ce']
    expected = torch.nn.functional.binary_cross_entropy_with_logits(
        logits[[0, 3], 0], torch.stack([ones, ones * 0]).float())
    assert torch.allclose(loss, expected, atol=1e-6)
    loss.backward()
    assert logits.grad[[1, 2]].abs().sum() == 0


def test_loss_without_annotated_frames_is_zero_but_connected():
    head = build()
    logits = torch.randn(2, 1, 64, 64, requires_grad=True)
    ignore = torch.full((64, 64), 255, dtype=torch.long)
    loss = head.loss_by_feat(logits, [sample(False, ignore)] * 2)['loss_ce']
    assert loss.item() == 0
    loss.backward()
    assert logits.grad is not None


def test_rejects_mismatched_channels():
    with pytest.raises(ValueError, match='in_channels all equal'):
        MODELS.build(dict(type='AVSFPNHead', in_channels=[8, 16, 16, 16],
                          channels=16))


def semantic_head(classes=5):
    return MODELS.build(dict(
        type='AVSFPNHead', in_channels=[16] * 4, channels=16,
        num_classes=classes, out_channels=classes,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False,
                         avg_non_ignore=True, loss_weight=1.0)))


def test_semantic_head_loss_is_the_avss_reference_cross_entropy():
    # AVSS: per-frame mean of 71-way (here 5-way) cross-entropy, times the
    # supervision flag, summed, divided by the number of supervised frames.
    head = semantic_head()
    assert head(pyramid())[0].shape == (5, 64, 64)
    torch.manual_seed(0)
    logits = torch.randn(4, 5, 64, 64, requires_grad=True)
    labels = torch.randint(0, 5, (4, 64, 64))
    flags = torch.tensor([1., 0., 1., 1.])
    samples = [sample(bool(f), lab) for f, lab in zip(flags, labels)]
    loss = head.loss_by_feat(logits, samples)['loss_ce']
    per_frame = torch.nn.functional.cross_entropy(
        logits, labels, reduction='none').mean((-2, -1))
    expected = (per_frame * flags).sum() / flags.sum()
    assert torch.allclose(loss, expected, atol=1e-6)


# The reference decoder computed by hand: explicit conv2d calls with the
# module's weights, written from the reference's description
# (shared/spec/references.md §1), independently of the head's code.
def conv(x, layer, padding=1):
    return torch.nn.functional.conv2d(x, layer.weight, layer.bias,
                                      padding=padding)


def hand_rcu(x, unit):
    """The reference unit: its first ReLU is in place, so the residual it
    adds is ReLU(x)."""
    relu = torch.nn.functional.relu
    return conv(relu(conv(relu(x), unit.conv1)), unit.conv2) + relu(x)


def hand_decoder(head, g1, g2, g3, g4):
    up2 = dict(scale_factor=2, mode='bilinear', align_corners=True)
    interp = torch.nn.functional.interpolate
    x = interp(hand_rcu(g4, head.path4.resConfUnit2), **up2)
    for path, skip in ((head.path3, g3), (head.path2, g2), (head.path1, g1)):
        x = x + hand_rcu(skip, path.resConfUnit1)
        x = interp(hand_rcu(x, path.resConfUnit2), **up2)
    x = conv(x, head.output_conv[0])
    x = interp(x, scale_factor=2, mode='bilinear', align_corners=False)
    x = torch.relu(conv(x, head.output_conv[2]))
    return conv(x, head.conv_seg, padding=0)


def test_residual_conv_unit_matches_hand_computation():
    from mmavs.models.decode_heads.avs_fpn_head import ResidualConvUnit
    torch.manual_seed(0)
    unit = ResidualConvUnit(8)
    x = torch.randn(2, 8, 6, 6)
    before = x.clone()
    with torch.no_grad():
        out = unit(x)
        assert torch.allclose(out, hand_rcu(x, unit), atol=1e-5)
        assert torch.equal(x, before)  # the caller's tensor is untouched
        # the textbook unit adds x itself; x has negative values, so the two
        # differ wherever x < 0
        textbook = ResidualConvUnit(8, relu_residual=False)
        textbook.load_state_dict(unit.state_dict())
        assert torch.allclose(textbook(x), out - x.relu() + x, atol=1e-5)


def test_decoder_matches_hand_computation():
    torch.manual_seed(0)
    head = build(8).eval()
    inputs = pyramid(n=2, channels=8, size=32)
    with torch.no_grad():
        logits = head(inputs)
        expected = hand_decoder(head, *inputs)
        assert logits.shape == expected.shape == (2, 1, 32, 32)
        assert (logits - expected).abs().max() <= 1e-5
        # the pre-correction decoder (residual x) is measurably different
        old = build(8, reference_inplace_relu=False).eval()
        old.load_state_dict(head.state_dict())
        assert (old(inputs) - expected).abs().max() > 1e-3


def test_aux_maps_are_what_the_reference_leaves_in_its_list():
    """Run the reference's control flow with in-place ReLUs on copies of the
    fused maps: afterwards its list holds ReLU(G_i) at all four levels (G4
    through path4's unit, G1-G3 through the skip units), which is what
    ``aux_maps`` hands to the matching loss."""
    torch.manual_seed(0)
    head = build(8).eval()
    inputs = pyramid(n=2, channels=8, size=32)
    ref_list = [g.clone() for g in inputs]

    def inplace_rcu(x, unit):
        out = torch.relu_(x)  # rewrites x, as nn.ReLU(inplace=True) does
        out = conv(torch.relu(conv(out, unit.conv1)), unit.conv2)
        return out + x

    up2 = dict(scale_factor=2, mode='bilinear', align_corners=True)
    interp = torch.nn.functional.interpolate
    with torch.no_grad():
        output = ref_list[3]  # path4: `output = xs[0]`, then its unit
        x = interp(inplace_rcu(output, head.path4.resConfUnit2), **up2)
        for path, level in ((head.path3, 2), (head.path2, 1),
                            (head.path1, 0)):
            x = x + inplace_rcu(ref_list[level], path.resConfUnit1)
            x = interp(inplace_rcu(x, path.resConfUnit2), **up2)
        for got, ref, g in zip(head.aux_maps(inputs), ref_list, inputs):
            assert (g < 0).any()
            assert torch.equal(got, ref)
            assert torch.equal(ref, g.relu())
    old = build(8, reference_inplace_relu=False)
    assert all(a is g for a, g in zip(old.aux_maps(inputs), inputs))


# ------------------------------------------------ several latent samples
@pytest.mark.parametrize('reference_inplace_relu', [True, False])
def test_forward_samples_equals_decoding_each_sample(reference_inplace_relu):
    """G1..G3 shared (N rows), G4 per sample (S·N rows): the shared skip
    units change nothing."""
    from mmavs.structures import ClipLayout
    torch.manual_seed(0)
    head = build(reference_inplace_relu=reference_inplace_relu).eval()
    frames, num = 4, 3
    g1, g2, g3, g4 = pyramid(frames)
    deep = torch.randn(num * frames, *g4.shape[1:])
    layout = ClipLayout.uniform(2, 2)
    with torch.no_grad():
        stacked = head.forward_samples([g1, g2, g3, deep], None, layout, num)
        alone = torch.cat([head([g1, g2, g3, deep[s * frames:(s + 1) *
                                                  frames]])
                           for s in range(num)])
        # The default (one call per sample) agrees, and every level may be
        # per sample.
        default = super(type(head), head).forward_samples(
            [g1, g2, g3, deep], None, layout, num)
        full = head.forward_samples([torch.cat([g] * num) for g in
                                     (g1, g2, g3)] + [deep], None, layout,
                                    num)
    assert stacked.shape == (num * frames, 1, 64, 64)
    torch.testing.assert_close(stacked, alone, atol=1e-5, rtol=0)
    torch.testing.assert_close(default, alone, atol=1e-5, rtol=0)
    torch.testing.assert_close(full, alone, atol=1e-5, rtol=0)
    with torch.no_grad():
        single = head.forward_samples([g1, g2, g3, g4], None, layout, 1)
    torch.testing.assert_close(single, head([g1, g2, g3, g4]), atol=0,
                               rtol=0)
    with pytest.raises(ValueError, match='expected N or S·N'):
        head.forward_samples([g1, g2, g3, deep[:5]], None, layout, num)
