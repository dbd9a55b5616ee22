"""The segmentor and its data preprocessor on tiny clips (2 frames, 64x64)."""
import pytest
import torch

import mmavs  # noqa: F401
from conftest import TINY_AVSEGFORMER_HEAD_ARGS
from tiny_models import C, SIZE, T, clip_batch, tiny_segmentor


def tiny_model(aux=True, **overrides):
    """A tiny TPAVI segmentor (with the MS3 matching loss unless not
    ``aux``); ``overrides`` replace top-level entries."""
    overrides.setdefault('auxiliary_loss',
                         dict(type='AVMatchingLoss') if aux else None)
    return tiny_segmentor(**overrides)


def test_preprocessor_unrolls_clips_in_order():
    model = tiny_model()
    batch = clip_batch()
    data = model.data_preprocessor(batch, training=True)
    assert data['inputs'].shape == (2 * T, 3, SIZE, SIZE)
    assert data['audio'].shape == (2 * T, 1, 96, 64)
    layout = data['layout']
    assert layout.lengths == (T, T)
    assert layout.clip_index.tolist() == [0] * T + [1] * T
    assert layout.annotated.all() and layout.frame_valid.all()
    # frame t of clip b is at b*T + t; BGR -> RGB then normalised
    raw = batch['inputs'][1][0].float()
    expected = (raw[[2, 1, 0]] - model.data_preprocessor.mean[0]) / \
        model.data_preprocessor.std[0]
    assert torch.allclose(data['inputs'][T], expected)
    assert data['data_samples'][0].batch_input_shape == (SIZE, SIZE)


def test_preprocessor_rejects_frames_of_different_sizes_naming_clips():
    model = tiny_model()
    batch = clip_batch()
    for t, sample in enumerate(batch['data_samples']):
        sample.set_metainfo(dict(clip_name=f'clip_{t // T}'))
    batch['inputs'][1] = batch['inputs'][1][..., :32]
    with pytest.raises(ValueError, match=r'share their size.*clip_0: '
                       r'\(64, 64\), clip_1: \(64, 32\)'):
        model.data_preprocessor(batch)


def test_preprocessor_rejects_audio_that_does_not_match_the_frames():
    model = tiny_model()
    batch = clip_batch()
    batch['audio'][1] = batch['audio'][1][:1]
    with pytest.raises(ValueError, match='2 frames but 1 audio inputs'):
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
    assert type(model.neck).__name__ == 'IdentityNeck'
    data = model.data_preprocessor(clip_batch(), training=True)
    losses = model(**data, mode='loss')
    assert set(losses) == {'loss_dice', 'loss_mix'}
    model.eval()
    with torch.no_grad():
        data = model.data_preprocessor(clip_batch(), training=False)
        out = model(**data, mode='predict')
    assert len(out) == 2 * T
    assert out[0].pred_sem_seg.data.shape == (1, SIZE, SIZE)


# ------------------------------------------- clips of different lengths, T=1
def packed_clip(num_frames, clip_index, valid=None, annotated=None, seed=0):
    """One clip through PackAVSInputs, as a dataset pipeline packs it."""
    from mmavs.datasets.transforms import PackAVSInputs
    g = torch.Generator().manual_seed(seed)
    valid = valid or [True] * num_frames
    annotated = annotated or [True] * num_frames
    results = dict(
        imgs=[torch.randint(0, 256, (SIZE, SIZE, 3), dtype=torch.uint8,
                            generator=g).numpy() for _ in range(num_frames)],
        audio=torch.randn(num_frames, 1, 96, 64, generator=g).numpy(),
        gt_masks=torch.randint(0, 2, (num_frames, SIZE, SIZE),
                               generator=g).numpy(),
        frame_paths=[f'clip{clip_index}/{t}.png' for t in range(num_frames)],
        annotated=annotated, frame_valid=valid, sample_idx=clip_index,
        clip_name=f'clip{clip_index}', ori_shape=(SIZE, SIZE),
        img_shape=(SIZE, SIZE))
    return PackAVSInputs()(results)


def mixed_batch():
    """An AVSS-like batch: a 5-frame clip padded to 10, a 10-frame clip,
    a 5-frame clip (AVSBench) and a single frame."""
    from mmavs.datasets import avs_collate
    return avs_collate([
        packed_clip(10, 0, valid=[True] * 5 + [False] * 5,
                    annotated=[True] + [False] * 9, seed=1),
        packed_clip(10, 1, seed=2),
        packed_clip(5, 2, annotated=[True] + [False] * 4, seed=3),
        packed_clip(1, 3, seed=4)])


def test_pack_sets_the_layout_keys_in_every_frame():
    clip = packed_clip(3, 5, valid=[True, True, False],
                       annotated=[True, True, True])
    metas = [s.metainfo for s in clip['data_samples']]
    assert [m['num_frames'] for m in metas] == [3] * 3
    assert [m['frame_valid'] for m in metas] == [True, True, False]
    # A padding frame is never annotated.
    assert [m['annotated'] for m in metas] == [True, True, False]
    assert [m['frame_index'] for m in metas] == [0, 1, 2]


@pytest.mark.parametrize('neck', ['tpavi', 'latent'])
def test_mixed_lengths_and_single_frames_train_and_predict(neck):
    overrides = {}
    if neck == 'latent':
        overrides['neck'] = dict(
            type='LatentNeck', channels=C,
            fusion=dict(type='TPAVINeck', in_channels=[8, 16, 32, 64],
                        channels=C),
            latent_model=dict(type='DiffusionLatentModel',
                              num_inference_steps=2),
            contrastive_loss=dict(type='ContrastiveLoss'))
    model = tiny_model(**overrides)
    data = model.data_preprocessor(mixed_batch(), training=True)
    layout = data['layout']
    assert layout.lengths == (10, 10, 5, 1) and len(data['inputs']) == 26
    assert data['audio'].shape == (26, 1, 96, 64)
    assert layout.frame_valid.tolist()[:10] == [True] * 5 + [False] * 5
    assert int(layout.annotated.sum()) == 1 + 10 + 1 + 1
    losses = model(**data, mode='loss')
    assert all(torch.isfinite(v) for v in losses.values())
    sum(losses.values()).backward()
    model.eval()
    with torch.no_grad():
        data = model.data_preprocessor(mixed_batch(), training=False)
        out = model(**data, mode='predict')
        assert len(out) == 26
        # Each clip predicts as it would alone (attention within clips).
        alone = model.data_preprocessor(
            {k: v[2:3] if k != 'data_samples' else v[20:25]
             for k, v in mixed_batch().items()}, training=False)
        single = model(**alone, mode='predict')
    for joint, own in zip(out[20:25], single):
        torch.testing.assert_close(joint.seg_logits.data,
                                   own.seg_logits.data, atol=1e-4, rtol=1e-4)


def test_single_frame_samples_train_and_predict():
    """CAVP / CPM-style training: one frame per clip per iteration."""
    from mmavs.datasets import avs_collate
    model = tiny_model(aux=False)
    batch = avs_collate([packed_clip(1, i, seed=i) for i in range(3)])
    data = model.data_preprocessor(batch, training=True)
    assert data['layout'].lengths == (1, 1, 1)
    losses = model(**data, mode='loss')
    assert torch.isfinite(losses['loss_ce'])
    model.eval()
    with torch.no_grad():
        out = model(**model.data_preprocessor(batch), mode='predict')
    assert len(out) == 3


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
