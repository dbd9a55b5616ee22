"""The segmentor and its data preprocessor on tiny clips (2 frames, 64x64)."""
import pytest
import torch
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

import mmavs  # noqa: F401
from conftest import TINY_AVSEGFORMER_HEAD_ARGS

T, SIZE, C = 2, 64, 16


def tiny_model(aux=True, **overrides):
    """A tiny TPAVI segmentor; ``overrides`` replace top-level entries."""
    init_default_scope('mmseg')
    cfg = dict(
        type='AVSSegmentor',
        data_preprocessor=dict(type='AVSDataPreprocessor'),
        backbone=dict(
            type='AudioVisualBackbone',
            visual=dict(type='ResNet', depth=18, base_channels=8,
                        out_indices=(0, 1, 2, 3)),
            audio=dict(type='VGGish')),
        neck=dict(type='TPAVINeck', in_channels=[8, 16, 32, 64], channels=C),
        decode_head=dict(type='AVSFPNHead', in_channels=[C] * 4, channels=C),
        auxiliary_loss=dict(type='AVMatchingLoss') if aux else None)
    cfg.update(overrides)
    torch.manual_seed(0)
    return MODELS.build(cfg)


def clip_batch(num_clips=2, annotated=None):
    annotated = annotated or [True] * T
    samples = []
    for b in range(num_clips):
        for t in range(T):
            gt = torch.randint(0, 2, (1, SIZE, SIZE)) if annotated[t] else \
                torch.full((1, SIZE, SIZE), 255)
            samples.append(SegDataSample(
                gt_sem_seg=PixelData(data=gt),
                metainfo=dict(annotated=annotated[t], clip_index=b,
                              frame_index=t, img_shape=(SIZE, SIZE),
                              ori_shape=(SIZE, SIZE))))
    return dict(
        inputs=[torch.randint(0, 256, (T, 3, SIZE, SIZE), dtype=torch.uint8)
                for _ in range(num_clips)],
        audio=[torch.randn(T, 1, 96, 64) for _ in range(num_clips)],
        data_samples=samples)


def test_preprocessor_unrolls_clips_in_order():
    model = tiny_model()
    batch = clip_batch()
    data = model.data_preprocessor(batch, training=True)
    assert data['inputs'].shape == (2 * T, 3, SIZE, SIZE)
    assert data['audio'].shape == (2, T, 1, 96, 64)
    # frame t of clip b is at b*T + t; BGR -> RGB then normalised
    raw = batch['inputs'][1][0].float()
    expected = (raw[[2, 1, 0]] - model.data_preprocessor.mean[0]) / \
        model.data_preprocessor.std[0]
    assert torch.allclose(data['inputs'][T], expected)
    assert data['data_samples'][0].batch_input_shape == (SIZE, SIZE)


def test_preprocessor_rejects_clips_of_different_lengths():
    model = tiny_model()
    batch = clip_batch()
    batch['inputs'][1] = batch['inputs'][1][:1]
    with pytest.raises(ValueError, match='differ in shape'):
        model.data_preprocessor(batch)


def test_loss_predict_and_tensor_modes():
    model = tiny_model()
    data = model.data_preprocessor(clip_batch(), training=True)
    losses = model(**data, mode='loss')
    assert set(losses) == {'loss_ce', 'loss_av_match'}
    assert all(torch.isfinite(v) for v in losses.values())
    sum(losses.values()).backward()
    trainable = [p for p in model.parameters() if p.requires_grad]
    assert all(p.grad is not None for p in trainable)
    assert all(p.grad is None for p in model.backbone.audio.parameters())
    model.eval()
    with torch.no_grad():
        data = model.data_preprocessor(clip_batch(), training=False)
        out = model(**data, mode='predict')
        logits = model(**data, mode='tensor')
    assert len(out) == 2 * T and logits.shape == (2 * T, 1, SIZE, SIZE)
    probs = out[0].seg_logits.data
    assert probs.shape == (1, SIZE, SIZE) and 0 <= probs.min() <= probs.max() <= 1
    assert torch.equal(out[0].pred_sem_seg.data, (probs > 0.5).float())


def test_s4_training_losses_see_frame_one_only():
    model = tiny_model(aux=False)
    batch = clip_batch(annotated=[True] + [False] * (T - 1))
    data = model.data_preprocessor(batch, training=True)
    captured = {}

    def keep_logits(module, args, output):
        captured['logits'] = output
        output.retain_grad()

    model.decode_head.register_forward_hook(keep_logits)
    model(**data, mode='loss')['loss_ce'].backward()
    grad = captured['logits'].grad.abs().sum((1, 2, 3))
    assert (grad[0::T] > 0).all() and (grad[1::T] == 0).all()


def test_audio_is_required():
    model = tiny_model()
    data = model.data_preprocessor(clip_batch())
    with pytest.raises(ValueError, match='needs the audio'):
        model(data['inputs'], None, data['data_samples'], mode='predict')


def test_without_neck_the_head_reads_the_backbone():
    """AVSegFormer's layout: no neck, the head fuses audio itself."""
    model = tiny_model(
        aux=False, neck=None,
        decode_head=dict(type='AVSegFormerHead', in_channels=[8, 16, 32, 64],
                         **TINY_AVSEGFORMER_HEAD_ARGS))
    assert model.neck is None and not model.with_latent_neck
    data = model.data_preprocessor(clip_batch(), training=True)
    losses = model(**data, mode='loss')
    assert set(losses) == {'loss_dice', 'loss_mix'}
    model.eval()
    with torch.no_grad():
        data = model.data_preprocessor(clip_batch(), training=False)
        out = model(**data, mode='predict')
    assert len(out) == 2 * T
    assert out[0].pred_sem_seg.data.shape == (1, SIZE, SIZE)


@pytest.mark.parametrize('reference', [True, False])
def test_matching_loss_sees_the_maps_the_reference_decoder_leaves(reference):
    """The reference TPAVI decoder's in-place ReLU rewrites the fused maps
    that its MS3 matching loss then reads: the loss gets ReLU(G_i) at all
    four levels (the unchanged maps with ``reference_inplace_relu=False``)."""
    from mmavs.models.losses import AVMatchingLoss
    model = tiny_model(decode_head=dict(
        type='AVSFPNHead', in_channels=[C] * 4, channels=C,
        reference_inplace_relu=reference))
    data = model.data_preprocessor(clip_batch(), training=True)
    seen = {}
    model.decode_head.register_forward_pre_hook(
        lambda module, args: seen.setdefault('head_inputs', args[0]))
    loss_forward = AVMatchingLoss.forward

    def spy(self, seg_logits, visual, *args, **kwargs):
        seen['loss_maps'] = visual
        value = loss_forward(self, seg_logits, visual, *args, **kwargs)
        seen['by_hand'] = loss_forward(
            self, seg_logits,
            [g.relu() if reference else g for g in seen['head_inputs']],
            *args, **kwargs)
        return value

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(AVMatchingLoss, 'forward', spy)
        losses = model(**data, mode='loss')
    fused, maps = seen['head_inputs'], seen['loss_maps']
    assert len(maps) == 4
    for g, m in zip(fused, maps):
        assert (g < 0).any()
        assert torch.equal(m, g.relu() if reference else g)
    assert torch.equal(losses['loss_av_match'], seen['by_hand'])
