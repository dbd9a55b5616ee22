"""LatentNeck with the CVAE latent model (Table III's CVAE latent) on tiny
clips: alone on random features (2 frames, 64×64) and once in the segmentor.

One training iteration of ``configs/diffavs/ablations/table3_cvae.py`` on the
miniature tree runs with the other ablation configs, in
``tests/test_configs/test_diffavs_configs.py``.
"""
import math
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from torch.distributions import Normal, kl_divergence

import mmavs  # noqa: F401
from mmavs.models.necks.cvae_latent_model import gaussian_kl
from mmavs.structures import ClipLayout

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))
T, SIZE, C = 2, 64, 16
IN_CHANNELS = [8, 16, 32, 64]
STRIDES = [4, 8, 16, 32]
S4, MS3 = (True, False), (True, True)
FUSED_SHAPES = [(2 * T, C, SIZE // s, SIZE // s) for s in STRIDES]


def neck_cfg(kl_loss_weight=1.0, **kwargs):
    return dict(type='LatentNeck', channels=C,
                fusion=dict(type='TPAVINeck', in_channels=IN_CHANNELS,
                            channels=C),
                latent_model=dict(type='CVAELatentModel',
                                  kl_loss_weight=kl_loss_weight), **kwargs)


def build_neck(**kwargs):
    init_default_scope('mmseg')
    torch.manual_seed(0)
    return MODELS.build(neck_cfg(**kwargs))


def features(num_clips=2):
    """Per-level visual features, audio features and frames of the clips."""
    g = torch.Generator().manual_seed(1)
    n = num_clips * T
    visual = [torch.randn(n, c, SIZE // s, SIZE // s, generator=g)
              for c, s in zip(IN_CHANNELS, STRIDES)]
    return visual, torch.randn(n, 128, generator=g), torch.randn(
        n, 3, SIZE, SIZE, generator=g)


def samples(num_clips=2, annotated=MS3):
    g = torch.Generator().manual_seed(2)
    out = []
    for b in range(num_clips):
        for t in range(T):
            gt = torch.randint(0, 2, (1, SIZE, SIZE), generator=g) \
                if annotated[t] else torch.full((1, SIZE, SIZE), 255)
            out.append(SegDataSample(
                gt_sem_seg=PixelData(data=gt),
                metainfo=dict(annotated=annotated[t], clip_index=b,
                              frame_index=t, img_shape=(SIZE, SIZE),
                              ori_shape=(SIZE, SIZE))))
    return out


def train_step(neck, annotated=MS3):
    """fused maps, level audio, losses of one training pass."""
    neck.train()
    visual, audio, frames = features()
    data_samples = samples(annotated=annotated)
    out = neck(visual, audio,
               ClipLayout.from_data_samples(data_samples, [T, T]), frames,
               data_samples)
    return out.fused, out.extras['level_audio'], out.losses


def test_builds_from_the_ablation_config():
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'diffavs', 'ablations',
                                   'table3_cvae.py'))
    ldm = Config.fromfile(osp.join(ROOT, 'configs', 'diffavs', 'ablations',
                                   'table3_ldm.py'))
    neck = cfg.model.neck
    assert neck.type == 'LatentNeck' and neck.contrastive_loss is None
    assert neck.latent_model.type == 'CVAELatentModel'
    # One key differs from Table III's LDM row: the latent model.
    assert {k: v for k, v in neck.items() if k != 'latent_model'} == \
        {k: v for k, v in ldm.model.neck.items() if k != 'latent_model'}
    assert {k: v for k, v in cfg.model.items() if k != 'neck'} == \
        {k: v for k, v in ldm.model.items() if k != 'neck'}
    init_default_scope('mmseg')
    cvae = MODELS.build(neck)
    diffusion = MODELS.build(ldm.model.neck)
    parts = {'.'.join(name.split('.')[:2]) if name.startswith('latent_model')
             else name.split('.')[0] for name in cvae.state_dict()}
    assert parts == {'fusion', 'mask_encoder', 'cond_encoder',
                     'latent_model.prior', 'latent_model.posterior',
                     'latent_fusion'}
    # E_phi, E_psi, D_tau and the fusion are the diffusion neck's.
    shared = {k: v.shape for k, v in cvae.state_dict().items()
              if not k.startswith('latent_model.')}
    assert shared == {k: v.shape for k, v in diffusion.state_dict().items()
                      if not k.startswith('latent_model.')}


@pytest.mark.parametrize('annotated', [S4, MS3], ids=['s4', 'ms3'])
def test_training_shapes_and_loss(annotated):
    neck = build_neck()
    fused, level_audio, losses = train_step(neck, annotated)
    assert [f.shape for f in fused] == FUSED_SHAPES
    assert len(level_audio) == 4
    assert set(losses) == {'loss_kl'}
    assert torch.isfinite(losses['loss_kl']) and losses['loss_kl'] >= 0


def test_inference_shapes_and_no_annotation():
    neck = build_neck(num_samples=2)
    assert neck.num_samples == 2
    visual, audio, frames = features()
    neck.eval()
    with torch.no_grad():
        fused, extras, losses = neck(visual, audio, ClipLayout.uniform(2, T),
                                     frames)
    # Two samples per frame, stacked copy-major, in the deepest level (the
    # one the latent enters); the others are shared. No losses at test time.
    assert [f.shape for f in fused] == [
        (2 * n if level == 3 else n, *rest)
        for level, (n, *rest) in enumerate(FUSED_SHAPES)]
    assert extras['num_samples'] == 2 and losses == {}
    # A batch without masks still reports loss_kl (zero).
    _, _, losses = train_step(neck, annotated=(False, False))
    assert set(losses) == {'loss_kl'} and losses['loss_kl'] == 0


def test_gaussian_kl_by_hand():
    # q = N((1, 0), diag(1, 4)), p = N(0, I):
    # ½ (1 + 1 − 1 − 0) + ½ (4 + 0 − 1 − log 4) = 0.5 + 1.5 − log 2.
    kl = gaussian_kl(torch.tensor([[1.0, 0.0]]),
                     torch.tensor([[0.0, math.log(4.0)]]),
                     torch.zeros(1, 2), torch.zeros(1, 2))
    assert kl.shape == (1, )
    assert kl.item() == pytest.approx(2.0 - math.log(2.0), rel=1e-6)
    g = torch.Generator().manual_seed(3)
    mean_q, log_q, mean_p, log_p = torch.randn(4, 5, 3, generator=g)
    expected = kl_divergence(Normal(mean_q, (0.5 * log_q).exp()),
                             Normal(mean_p, (0.5 * log_p).exp())).sum(-1)
    assert torch.allclose(gaussian_kl(mean_q, log_q, mean_p, log_p),
                          expected, atol=1e-5)


def set_gaussian(net, mean, log_var):
    """Make a prior / posterior net output a constant Gaussian."""
    last = net.fc[-1]
    with torch.no_grad():
        last.weight.zero_()
        last.bias.copy_(torch.tensor(mean + log_var))


@pytest.mark.parametrize('annotated', [S4, MS3], ids=['s4', 'ms3'])
def test_loss_kl_equals_a_hand_computed_kl(annotated):
    neck = build_neck(latent_dim=2, kl_loss_weight=0.5)
    set_gaussian(neck.latent_model.prior, [0.0, 0.0], [0.0, 0.0])
    set_gaussian(neck.latent_model.posterior, [1.0, 0.0],
                 [0.0, math.log(4.0)])
    _, _, losses = train_step(neck, annotated)
    assert losses['loss_kl'].item() == pytest.approx(
        0.5 * (2.0 - math.log(2.0)), rel=1e-6)


@pytest.mark.parametrize('annotated', [S4, MS3], ids=['s4', 'ms3'])
def test_gradients_reach_the_latent_model(annotated):
    neck = build_neck()
    fused, _, losses = train_step(neck, annotated)
    (losses['loss_kl'] + fused[-1].square().mean()).backward()
    for part in ('latent_model.prior', 'latent_model.posterior',
                 'mask_encoder', 'cond_encoder', 'latent_fusion'):
        grads = [p.grad for p in neck.get_submodule(part).parameters()]
        assert all(g is not None for g in grads), part
        assert sum(g.abs().sum() for g in grads) > 0, part


def test_training_fuses_a_posterior_sample():
    neck = build_neck()
    torch.manual_seed(4)
    first = train_step(neck)[0][-1]
    torch.manual_seed(4)
    again = train_step(neck)[0][-1]
    assert torch.equal(first, again)
    torch.manual_seed(5)  # another reparameterisation noise
    assert not torch.allclose(train_step(neck)[0][-1], first)


def test_contrastive_loss_can_be_added():
    neck = build_neck(contrastive_loss=dict(type='ContrastiveLoss'))
    _, _, losses = train_step(neck, S4)
    assert set(losses) == {'loss_kl', 'loss_contrastive'}
    assert torch.isfinite(losses['loss_contrastive'])


def test_inference_is_deterministic_and_batch_independent():
    neck = build_neck()
    neck.eval()
    visual, audio, frames = features()

    def predict(index, first_clip=0):
        layout = ClipLayout.uniform(len(index) // T, T,
                                    first_clip_index=first_clip)
        with torch.no_grad():
            out = neck([v[index] for v in visual], audio[index], layout,
                       frames[index])
        return out.fused[-1]

    both = predict([0, 1, 2, 3])
    assert torch.equal(both, predict([0, 1, 2, 3]))
    assert torch.allclose(predict([2, 3], first_clip=1), both[T:], atol=1e-5)
    neck.num_samples = 2
    two = predict([0, 1, 2, 3])
    assert torch.allclose(two[:2 * T], both, atol=1e-6)
    assert not torch.allclose(two[2 * T:], both)
    neck.num_samples = 1
    neck.seed = 1
    assert not torch.allclose(predict([0, 1, 2, 3]), both)


def test_in_the_segmentor():
    init_default_scope('mmseg')
    torch.manual_seed(0)
    model = MODELS.build(dict(
        type='AVSSegmentor',
        data_preprocessor=dict(type='AVSDataPreprocessor'),
        backbone=dict(type='AudioVisualBackbone',
                      visual=dict(type='ResNet', depth=18, base_channels=8,
                                  out_indices=(0, 1, 2, 3))),
        neck=neck_cfg(num_samples=2),
        decode_head=dict(type='AVSFPNHead', in_channels=[C] * 4, channels=C)))
    g = torch.Generator().manual_seed(6)
    data = dict(
        inputs=[torch.randint(0, 256, (T, 3, SIZE, SIZE), dtype=torch.uint8,
                              generator=g) for _ in range(2)],
        audio=[torch.randn(T, 1, 96, 64, generator=g) for _ in range(2)],
        data_samples=samples(annotated=S4))
    losses = model(**model.data_preprocessor(data, True), mode='loss')
    assert set(losses) == {'loss_kl', 'loss_ce'}
    sum(losses.values()).backward()
    assert model.neck.latent_model.prior.fc[0].weight.grad.abs().sum() > 0
    model.eval()
    with torch.no_grad():
        out = model(**model.data_preprocessor(data, False), mode='predict')
    assert out[0].seg_logits.data.shape == (1, SIZE, SIZE)
    assert (out[0].uncertainty.data > 0).any()
