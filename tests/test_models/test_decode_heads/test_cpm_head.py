"""CPMHead (AVSegFormer* + CPM) at tiny widths: shapes, inference rules,
training losses with every switch, gradients, padded and empty masks."""
import pytest
import torch
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from torch import nn

import mmavs.models  # noqa: F401
from mmavs.structures import ClipLayout


LEVELS = [8, 16, 32, 64]
E = 16


def tiny_head(num_classes=2, **kwargs):
    cfg = dict(
        type='CPMHead', in_channels=LEVELS, num_classes=num_classes,
        embed_dims=E, num_queries=6, num_heads=2,
        pixel_decoder=dict(num_layers=1, num_points=2, ffn_dims=16,
                           num_groups=4),
        audio_encoder=dict(type='CPMAudioEncoder', num_groups=4,
                           resnet_cfg=dict(base_channels=4)),
        num_tda_layers=1, tda_ffn_dims=16, num_tdv_layers=3,
        tdv_ffn_dims=16, classifier='gmm', num_components=2,
        matcher=dict(num_points=64), set_loss=dict(num_points=64),
        pcl_loss=dict(type='PCLLoss', max_pixels=32))
    cfg.update(kwargs)
    torch.manual_seed(0)
    return MODELS.build(cfg)


def inputs(num=3, size=64):
    torch.manual_seed(1)
    return [torch.randn(num, c, size // s, size // s)
            for c, s in zip(LEVELS, [4, 8, 16, 32])]


def magnitudes(num=3, channels=1):
    return torch.rand(num, channels, 32, 16)


def samples(maps):
    out = []
    for gt in maps:
        s = SegDataSample()
        s.gt_sem_seg = PixelData(data=gt[None].long())
        out.append(s)
    return out


def annotated(num, flags=None):
    """A layout of ``num`` one-frame clips (CPM trains frame by frame)."""
    flags = torch.ones(num, dtype=torch.bool) if flags is None else \
        torch.tensor(flags)
    return ClipLayout(
        num_frames=torch.ones(num, dtype=torch.long),
        clip_index=torch.arange(num), frame_index=torch.zeros(num).long(),
        frame_valid=torch.ones(num, dtype=torch.bool), annotated=flags)


def semantic_maps(num=3, size=64, num_classes=5):
    gts = torch.zeros(num, size, size, dtype=torch.long)
    gts[0, 8:30, 8:30] = 1
    gts[0, 40:60, 30:50] = 3
    if num > 1:
        gts[1, 20:40, 20:40] = 2
    if num > 2:
        gts[2] = 255  # empty: everything ignored
    return gts


def test_binary_logits_are_the_probability_rule():
    head = tiny_head().eval()
    feats, spec = inputs(), magnitudes()
    with torch.no_grad():
        logits = head(feats, spec)
        decoded, _ = head.decode(feats, spec)
    assert logits.shape == (3, 1, 64, 64)
    masks = nn.functional.interpolate(decoded.masks[-1], scale_factor=4,
                                      mode='bilinear', align_corners=False)
    probs = decoded.cls[-1].softmax(-1)
    s = torch.einsum('nqk,nqhw->nkhw', probs[..., :2], masks.sigmoid())
    torch.testing.assert_close(logits.sigmoid()[:, 0],
                               s[:, 1] / s.sum(1), rtol=1e-4, atol=1e-5)
    fields = head.pop_frame_fields()
    assert len(fields['tda_classes']) == 3
    assert all(c.dtype == torch.long and (c < 2).all() and c.dim() == 1
               for c in fields['tda_classes'])
    assert head.pop_frame_fields() == {}


def test_semantic_and_paper_inference():
    head = tiny_head(num_classes=5).eval()
    assert head.out_channels == 5
    feats, spec = inputs(), magnitudes()
    with torch.no_grad():
        semantic = head(feats, spec)
        head.inference = 'paper'
        paper = head(feats, spec)
        decoded, _ = head.decode(feats, spec)
    assert semantic.shape == paper.shape == (3, 5, 64, 64)
    torch.testing.assert_close(semantic.exp().sum(1),
                               torch.ones(3, 64, 64))
    # The paper's rule, pixel by pixel: the class of the query that
    # maximises p_i(c_i) sigma(m_i) among queries with c_i != empty.
    masks = nn.functional.interpolate(decoded.masks[-1], scale_factor=4,
                                      mode='bilinear',
                                      align_corners=False).sigmoid()
    best, label = decoded.cls[-1].softmax(-1).max(-1)
    score = masks * best[..., None, None]
    score[label == 5] = -1
    winner = score.argmax(1)
    expected = label.gather(1, winner.flatten(1)).view_as(winner)
    expected[score.max(1)[0] < 0] = 0
    assert torch.equal(paper.argmax(1), expected)


@pytest.mark.parametrize('switches', [
    dict(),
    dict(use_acp=True, use_vcp=True, use_pcl=True, audio_channels=2),
    dict(use_acp=True, use_vcp=True, use_pcl=True, classifier='prototype'),
])
def test_training_losses_and_every_parameter_gets_a_gradient(switches):
    head = tiny_head(num_classes=5, **switches).train()
    channels = switches.get('audio_channels', 1)
    feats = [x.requires_grad_() for x in inputs()]
    gts = semantic_maps()
    layout = annotated(3)
    losses, logits = head.loss_and_logits(feats, magnitudes(3, channels),
                                          layout, samples(gts))
    assert logits.shape == (3, 5, 16, 16)
    expected = {'loss_cls', 'loss_focal', 'loss_dice'}
    if 'use_acp' in switches:
        expected |= {'loss_acp', 'loss_pcl', 'loss_vcp_cls',
                     'loss_vcp_focal', 'loss_vcp_dice'}
    assert set(losses) == expected
    assert all(torch.isfinite(v) for v in losses.values())
    sum(losses.values()).backward()
    for name, param in head.named_parameters():
        assert param.grad is not None, name
    # The GMM's banks got the matched embeddings (+ ∅ and VCP prompts).
    if switches.get('classifier', 'gmm') == 'gmm':
        assert head.classifier.bank_len.sum() > 0


def test_frames_without_sounding_classes_skip_the_prompts():
    head = tiny_head(num_classes=5, use_acp=True, use_vcp=True,
                     use_pcl=True).train()
    gts = torch.zeros(2, 64, 64, dtype=torch.long)
    gts[1] = 255
    losses, _ = head.loss_and_logits(inputs(2), magnitudes(2),
                                     annotated(2), samples(gts))
    for name in ('loss_acp', 'loss_pcl', 'loss_vcp_cls'):
        assert losses[name] == 0 and losses[name].requires_grad
    sum(losses.values()).backward()


def test_unannotated_frames_and_query_assignments():
    head = tiny_head(num_classes=5).train()
    gts = semantic_maps()
    layout = annotated(3, [True, False, False])
    losses, _ = head.loss_and_logits(inputs(), magnitudes(), layout,
                                     samples(gts))
    assert all(torch.isfinite(v) for v in losses.values())
    none = annotated(3, [False] * 3)
    losses, _ = head.loss_and_logits(inputs(), magnitudes(), none,
                                     samples(gts))
    assert all(v == 0 for v in losses.values())
    head.eval()
    assign = head.query_assignments(inputs(), magnitudes(), layout,
                                    samples(gts))
    assert assign.shape == (3, 6) and assign.dtype == torch.long
    # Frame 0 has background, 1 and 3: each matched by one query.
    assert sorted(assign[0][assign[0] != 5].tolist()) == [0, 1, 3]
    assert (assign[1:] == 5).all()


def test_prompts_need_a_class_conditional_classifier():
    with pytest.raises(ValueError, match='prompts'):
        tiny_head(classifier='linear', use_vcp=True)
    with pytest.raises(ValueError, match='inference'):
        tiny_head(inference='argmax')


def test_noise_from_a_list_of_files(tmp_path):
    """noise_source='list': off-screen noise from local WAV files, turned
    into magnitudes of the frames' length (here 32 of them)."""
    import numpy as np
    from scipy.io import wavfile
    path = str(tmp_path / 'noise.wav')
    wavfile.write(path, 16000,
                  (np.random.RandomState(0).randn(8000) * 3000).astype(
                      np.int16))
    head = tiny_head(num_classes=5, use_acp=True, noise_source='list',
                     noise_list=dict(noise_list=[path], num_samples=8000))
    spec = torch.rand(2, 1, 32, 64)  # 64 mel bands, as the front end's
    noise = head.list_noise(spec)
    assert noise.shape == (2, 1, 32, 64) and (noise > 0).any()
    head.train()
    gts = semantic_maps(2)
    losses, _ = head.loss_and_logits(inputs(2), spec, annotated(2),
                                     samples(gts))
    assert torch.isfinite(losses['loss_acp'])
    with pytest.raises(ValueError, match='noise_list'):
        tiny_head(noise_source='list')


def test_bfloat16_autocast():
    """architecture.md: every model family trains and predicts under CPU
    bfloat16 autocast."""
    head = tiny_head(num_classes=5, use_acp=True, use_vcp=True,
                     use_pcl=True).train()
    gts = semantic_maps(2)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        losses, _ = head.loss_and_logits(inputs(2), magnitudes(2),
                                         annotated(2), samples(gts))
    assert all(torch.isfinite(v) for v in losses.values())
    sum(losses.values()).backward()
    head.eval()
    with torch.no_grad(), torch.autocast('cpu', dtype=torch.bfloat16):
        logits = head(inputs(2), magnitudes(2))
    assert logits.shape == (2, 5, 64, 64) and torch.isfinite(logits).all()
