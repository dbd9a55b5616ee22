"""LatentDiffusionNeck on tiny clips (2 frames, 64×64), alone and in the
segmentor."""
import pytest
import torch
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

import mmavs  # noqa: F401

T, SIZE, C = 2, 64, 16
IN_CHANNELS = [8, 16, 32, 64]


def neck_cfg(**kwargs):
    return dict(type='LatentDiffusionNeck', channels=C,
                fusion=dict(type='TPAVINeck', in_channels=IN_CHANNELS,
                            channels=C), **kwargs)


def segmentor(**neck_kwargs):
    init_default_scope('mmseg')
    torch.manual_seed(0)
    return MODELS.build(dict(
        type='AVSSegmentor',
        data_preprocessor=dict(type='AVSDataPreprocessor'),
        backbone=dict(type='AudioVisualBackbone',
                      visual=dict(type='ResNet', depth=18, base_channels=8,
                                  out_indices=(0, 1, 2, 3))),
        neck=neck_cfg(**neck_kwargs),
        decode_head=dict(type='AVSFPNHead', in_channels=[C] * 4, channels=C)))


def batch(num_clips=2, annotated=(True, True), first_clip=0):
    torch.manual_seed(1)
    samples = []
    for b in range(num_clips):
        for t in range(T):
            gt = torch.randint(0, 2, (1, SIZE, SIZE)) if annotated[t] else \
                torch.full((1, SIZE, SIZE), 255)
            samples.append(SegDataSample(
                gt_sem_seg=PixelData(data=gt),
                metainfo=dict(annotated=annotated[t], clip_index=first_clip + b,
                              frame_index=t, img_shape=(SIZE, SIZE),
                              ori_shape=(SIZE, SIZE))))
    return dict(
        inputs=[torch.randint(0, 256, (T, 3, SIZE, SIZE), dtype=torch.uint8)
                for _ in range(num_clips)],
        audio=[torch.randn(T, 1, 96, 64) for _ in range(num_clips)],
        data_samples=samples)


def test_latent_modules_hold_about_4m_parameters_at_paper_widths():
    init_default_scope('mmseg')
    neck = MODELS.build(dict(
        type='LatentDiffusionNeck', channels=128,
        fusion=dict(type='TPAVINeck', in_channels=[64, 128, 320, 512],
                    channels=128)))
    latent = sum(p.numel() for n, p in neck.named_parameters()
                 if not n.startswith('fusion.'))
    assert 3.5e6 <= latent <= 4.5e6


@pytest.mark.parametrize('annotated', [(True, True), (True, False)],
                         ids=['ms3', 's4-train'])
def test_losses_and_gradients(annotated):
    model = segmentor()
    data = model.data_preprocessor(batch(annotated=annotated), True)
    losses = model(**data, mode='loss')
    assert set(losses) == {'loss_diff', 'loss_contrastive', 'loss_ce'}
    assert all(torch.isfinite(v) for v in losses.values())
    sum(losses.values()).backward()
    for part in ('mask_encoder', 'cond_encoder', 'denoiser', 'latent_fusion'):
        grads = [p.grad for p in getattr(model.neck, part).parameters()]
        assert all(g is not None for g in grads), part
        assert sum(g.abs().sum() for g in grads) > 0, part


def test_fused_shapes_match_the_fusion_neck():
    model = segmentor()
    data = model.data_preprocessor(batch(), False)
    model.eval()
    with torch.no_grad():
        fused, level_audio, audio = model.extract_feat(
            data['inputs'], data['audio'], data['data_samples'])
    assert [f.shape for f in fused] == [
        (2 * T, C, SIZE // s, SIZE // s) for s in (4, 8, 16, 32)]
    assert len(level_audio) == 4 and audio.shape == (2 * T, 128)


def predict(model, data):
    model.eval()
    with torch.no_grad():
        out = model(**model.data_preprocessor(data, False), mode='predict')
    return torch.stack([o.seg_logits.data for o in out])


def test_inference_is_reproducible_and_batch_independent():
    model = segmentor(num_inference_steps=3)
    both = predict(model, batch(num_clips=2))
    assert torch.equal(both, predict(model, batch(num_clips=2)))
    # The second clip alone, same clip index: same noise, same output.
    alone = batch(num_clips=2)
    alone = dict(inputs=alone['inputs'][1:], audio=alone['audio'][1:],
                 data_samples=alone['data_samples'][T:])
    assert torch.allclose(predict(model, alone), both[T:], atol=1e-5)
    model.neck.seed = 1
    assert not torch.allclose(predict(model, batch(num_clips=2)), both)


def test_several_samples_give_an_uncertainty_map():
    model = segmentor(num_samples=3, num_inference_steps=2)
    model.eval()
    data = model.data_preprocessor(batch(), False)
    with torch.no_grad():
        out = model(**data, mode='predict')
    assert out[0].uncertainty.data.shape == (1, SIZE, SIZE)
    assert (out[0].uncertainty.data >= 0).all()


@pytest.mark.parametrize('options', [
    dict(condition='audio', contrastive_loss=None),
    dict(condition='visual', contrastive_loss=None),
    dict(condition='none', contrastive_loss=None),
    dict(train_latent='z0', latent_norm=False),
    dict(latent_dim=8),
])
def test_ablation_options_train(options):
    model = segmentor(**options)
    data = model.data_preprocessor(batch(), True)
    losses = model(**data, mode='loss')
    assert all(torch.isfinite(v) for v in losses.values())
    assert ('loss_contrastive' in losses) == \
        (options.get('contrastive_loss', 1) is not None)


def test_bad_options():
    with pytest.raises(ValueError, match='train_latent'):
        segmentor(train_latent='noisy')
    with pytest.raises(ValueError, match='num_inference_steps'):
        segmentor(num_inference_steps=50)
    with pytest.raises(ValueError, match='unknown condition'):
        segmentor(condition='text')
