"""LatentNeck.latent_source: each test-time latent of the latent ablation,
on a tiny neck (2 clips of 2 frames, 32×32)."""
import pytest
import torch
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS

import mmavs  # noqa: F401
from mmavs.models.necks.latent_neck import other_clip_frames
from mmavs.models.utils.noise_seeds import latent_noise
from mmavs.structures import ClipLayout

D, C, SIZE = 6, 8, 32
IN_CHANNELS = [8, 16, 32, 64]


def tiny_neck(num_samples=1):
    init_default_scope('mmseg')
    torch.manual_seed(0)
    return MODELS.build(dict(
        type='LatentNeck', channels=C, latent_dim=D, hidden=16,
        num_samples=num_samples,
        fusion=dict(type='TPAVINeck', in_channels=IN_CHANNELS, channels=C),
        latent_model=dict(type='DiffusionLatentModel', denoiser_width=16))
    ).eval()


def inputs(num_clips=2, frames=2):
    torch.manual_seed(1)
    n = num_clips * frames
    visual = [torch.randn(n, c, SIZE // 2**(i + 2), SIZE // 2**(i + 2))
              for i, c in enumerate(IN_CHANNELS)]
    layout = ClipLayout.uniform(num_clips, frames)
    return (visual, torch.randn(n, 128), layout,
            torch.randn(n, 3, SIZE, SIZE))


def latents(neck, args, **source):
    """The latent the neck fuses, recorded at D_tau's input."""
    seen = []
    hook = neck.latent_fusion.register_forward_hook(
        lambda module, inp, out: seen.append(inp[1].detach().clone()))
    with torch.no_grad():
        if source:
            with neck.latent_source(**source):
                neck(*args)
        else:
            neck(*args)
    hook.remove()
    return seen[0]


@pytest.mark.parametrize('num_samples', [1, 2])
def test_each_latent_source(num_samples):
    neck = tiny_neck(num_samples)
    args = inputs()
    visual, audio, layout, frames = args
    n = len(layout)
    sampled = latents(neck, args)
    assert sampled.shape == (num_samples * n, D)
    torch.testing.assert_close(latents(neck, args, source='sampled'), sampled)
    # Zero and the sampler's own starting noise, normalised.
    assert latents(neck, args, source='zero').abs().sum() == 0
    noise = latent_noise(layout, D, neck.seed, num_samples)
    expected = noise * D**0.5 / noise.norm(dim=1, keepdim=True)
    torch.testing.assert_close(latents(neck, args, source='noise'), expected)
    # The oracle: E_phi of the masks, the same for every sample.
    masks = torch.randint(0, 2, (n, 1, SIZE, SIZE))
    oracle = latents(neck, args, source='oracle', masks=masks)
    with torch.no_grad():
        z0 = neck._norm(neck.mask_encoder(masks.float()))
    torch.testing.assert_close(oracle, z0.repeat(num_samples, 1))
    other = latents(neck, args, source='oracle', masks=1 - masks)
    assert not torch.allclose(other, oracle)
    # Another clip's: frame t of clip 0 gets clip 1's frame t and back.
    swapped = latents(neck, args, source='other_clip')
    order = torch.tensor([2, 3, 0, 1])
    order = torch.cat([order + s * n for s in range(num_samples)])
    torch.testing.assert_close(swapped, sampled[order])
    # The context ends with its block.
    torch.testing.assert_close(latents(neck, args), sampled)


def test_other_clip_frames_of_uneven_clips():
    layout = ClipLayout.from_lengths([3, 1, 2])
    # clip 0 (frames 0-2) → clip 1 (frame 3, its only one); clip 1 →
    # clip 2 (frames 4-5); clip 2 → clip 0.
    assert other_clip_frames(layout).tolist() == [3, 3, 3, 4, 0, 1]
    with pytest.raises(ValueError, match='two clips'):
        other_clip_frames(ClipLayout.from_lengths([2]))


def test_latent_source_checks_its_arguments():
    neck = tiny_neck()
    with pytest.raises(ValueError, match='unknown latent source'):
        with neck.latent_source('mean'):
            pass
    with pytest.raises(ValueError, match='only for'):
        with neck.latent_source('oracle'):
            pass
    with pytest.raises(ValueError, match='only for'):
        with neck.latent_source('zero', masks=torch.zeros(4, 1, SIZE, SIZE)):
            pass
    args = inputs()
    with pytest.raises(ValueError, match='2 oracle masks for 4 frames'):
        latents(neck, args, source='oracle',
                masks=torch.zeros(2, 1, SIZE, SIZE))


def test_training_ignores_the_latent_source():
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    neck = tiny_neck().train()
    visual, audio, _, frames = inputs()
    samples = [SegDataSample(
        gt_sem_seg=PixelData(data=torch.randint(0, 2, (1, SIZE, SIZE))),
        metainfo=dict(annotated=True, clip_index=i // 2, frame_index=i % 2))
        for i in range(4)]
    layout = ClipLayout.from_data_samples(samples, [2, 2])

    def fused():
        torch.manual_seed(3)
        return neck(visual, audio, layout, frames, samples).fused[-1]

    expected = fused()
    with neck.latent_source('zero'):
        torch.testing.assert_close(fused(), expected)


def test_train_latent_sampled_trains_on_the_test_time_sampler():
    """train_latent='sampled': the decoder's training latent is a DDIM
    sample from the condition, differentiable in it and in ε_θ."""
    from mmavs.models.necks.diffusion_latent_model import DiffusionLatentModel
    torch.manual_seed(0)
    model = DiffusionLatentModel(latent_dim=D, denoiser_width=16,
                                 train_latent='sampled')
    z0 = torch.randn(3, D)
    condition = torch.randn(3, D, requires_grad=True)
    torch.manual_seed(5)
    latent, losses = model.loss(z0, condition)
    assert set(losses) == {'loss_diff'}
    latent.sum().backward()
    assert condition.grad.abs().sum() > 0
    assert model.denoiser.out.weight.grad.abs().sum() > 0
    # The sample of the same noise: what sample() gives at test time.
    torch.manual_seed(5)
    torch.randint(1, 21, (3, ))  # the noising step's draws come first
    torch.randn(3, D)
    noise = torch.randn(3, D)
    torch.testing.assert_close(latent.detach(),
                               model.sample(condition.detach(), noise))
