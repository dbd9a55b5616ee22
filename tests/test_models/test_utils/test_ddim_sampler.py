"""The few-launch DDIM sampler equals stepping ε_θ step by step."""
import torch
from torch.nn import functional as F

from mmavs.models.necks.latent_modules import NoiseEstimator
from mmavs.models.utils.ddim_sampler import (CUDAGraphSampler,
                                             ddim_coefficients,
                                             fast_ddim_sample)
from mmavs.models.utils.diffusion_schedule import (cosine_alphas_cumprod,
                                                   ddim_step, ddim_timesteps)


def reference(denoiser, condition, z, steps, alphas):
    padded = F.pad(alphas, (1, 0), value=1.0)
    for k, k_prev in zip(steps, steps[1:] + [0]):
        k_t = torch.full((len(z), ), k, dtype=torch.long)
        eps = denoiser(z, condition, k_t)
        z = ddim_step(z, eps, padded[k_t][:, None],
                      padded[torch.full_like(k_t, k_prev)][:, None])
    return z


def test_coefficients_expand_ddim_step():
    z, eps = torch.randn(3, 4), torch.randn(3, 4)
    a, b = ddim_coefficients(0.3, 0.8)
    expected = ddim_step(z, eps, torch.tensor(0.3), torch.tensor(0.8))
    torch.testing.assert_close(a * z + b * eps, expected)
    a, b = ddim_coefficients(0.3, 1.0)  # the last step returns ẑ0
    torch.testing.assert_close(a * z + b * eps,
                               (z - 0.7**0.5 * eps) / 0.3**0.5)


def test_fast_sampler_matches_the_step_by_step_loop():
    torch.manual_seed(0)
    denoiser = NoiseEstimator(6, 32)
    condition, noise = torch.randn(5, 6), torch.randn(5, 6)
    alphas = cosine_alphas_cumprod(20).float()
    for num_steps in (1, 5, 10, 20):
        steps = ddim_timesteps(20, num_steps)
        with torch.no_grad():
            expected = reference(denoiser, condition, noise, steps, alphas)
            got = fast_ddim_sample(denoiser, condition, noise, steps,
                                   alphas.tolist())
        scale = expected.abs().max()
        torch.testing.assert_close(got / scale, expected / scale,
                                   rtol=0, atol=1e-5)


def test_graph_sampler_runs_eagerly_off_cuda_or_with_gradients():
    torch.manual_seed(0)
    denoiser = NoiseEstimator(6, 32)
    condition, noise = torch.randn(4, 6), torch.randn(4, 6)
    steps, alphas = ddim_timesteps(20, 10), cosine_alphas_cumprod(20).tolist()
    sampler = CUDAGraphSampler()
    with torch.no_grad():
        got = sampler(denoiser, condition, noise, steps, alphas)
        expected = fast_ddim_sample(denoiser, condition, noise, steps, alphas)
    torch.testing.assert_close(got, expected)
    assert sampler.graphs == {} and not sampler.disabled
