import math

import pytest
import torch

from mmavs.models.utils.diffusion_schedule import (add_noise,
                                                   cosine_alphas_cumprod,
                                                   ddim_step, ddim_timesteps,
                                                   predict_z0)


def f(k, K=20, s=0.008):
    return math.cos(((k / K) + s) / (1 + s) * math.pi / 2)**2


def test_cosine_schedule_by_hand():
    alphas = cosine_alphas_cumprod(20)
    assert alphas.shape == (20, )
    assert alphas[0].item() == pytest.approx(f(1) / f(0), rel=1e-12)
    assert alphas[9].item() == pytest.approx(f(10) / f(0), rel=1e-12)
    # the last beta is clipped at 0.999: ᾱ_K = ᾱ_{K-1} * 0.001
    assert alphas[19].item() == pytest.approx(alphas[18].item() * 0.001)
    assert (alphas[1:] < alphas[:-1]).all()


def test_ddim_timesteps():
    assert ddim_timesteps(20, 10) == [20, 18, 16, 14, 12, 9, 7, 5, 3, 1]
    assert ddim_timesteps(20, 1) == [20]
    assert ddim_timesteps(20, 20) == list(range(20, 0, -1))
    with pytest.raises(ValueError, match='num_inference_steps'):
        ddim_timesteps(20, 21)


def test_one_ddim_step_by_hand():
    a, a_prev = torch.tensor(0.25), torch.tensor(0.64)
    z_k, eps = torch.tensor([1.0, -2.0]), torch.tensor([0.5, 1.0])
    # ẑ0 = (z_k - √0.75 ε) / 0.5 ; z_prev = 0.8 ẑ0 + 0.6 ε
    z0 = (z_k - math.sqrt(0.75) * eps) / 0.5
    assert torch.allclose(predict_z0(z_k, eps, a), z0)
    assert torch.allclose(ddim_step(z_k, eps, a, a_prev), 0.8 * z0 + 0.6 * eps)
    assert torch.allclose(ddim_step(z_k, eps, a, torch.tensor(1.0)), z0)


def test_add_noise_inverts_predict_z0():
    z0, eps = torch.randn(3, 24), torch.randn(3, 24)
    alpha = cosine_alphas_cumprod(20)[7].float()
    assert torch.allclose(predict_z0(add_noise(z0, eps, alpha), eps, alpha),
                          z0, atol=1e-5)
