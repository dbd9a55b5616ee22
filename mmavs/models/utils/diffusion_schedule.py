"""The cosine noise schedule and DDIM steps used by the latent diffusion.

Nichol & Dhariwal's cosine schedule over K training steps:
``ᾱ(k) = f(k) / f(0)``, ``f(k) = cos²(((k / K) + s) / (1 + s) · π / 2)``,
``s = 0.008``, with each ``β_k = 1 - ᾱ_k / ᾱ_{k-1}`` clipped at 0.999. Steps
are numbered 1..K; ``alphas_cumprod[k - 1]`` is ``ᾱ_k``.
"""
import math
from typing import List

import torch
from torch import Tensor

COSINE_OFFSET = 0.008
MAX_BETA = 0.999


def cosine_alphas_cumprod(num_steps: int) -> Tensor:
    """``(K,)`` float64 tensor of ᾱ_1..ᾱ_K for the cosine schedule."""
    if num_steps < 1:
        raise ValueError('num_steps must be at least 1')

    def f(k: float) -> float:
        angle = (k / num_steps + COSINE_OFFSET) / (1 + COSINE_OFFSET)
        return math.cos(angle * math.pi / 2)**2

    alphas, previous = [], 1.0
    for k in range(1, num_steps + 1):
        beta = min(1 - f(k) / f(k - 1), MAX_BETA)
        previous *= 1 - beta
        alphas.append(previous)
    return torch.tensor(alphas, dtype=torch.float64)


def ddim_timesteps(num_train_steps: int, num_inference_steps: int) -> List[int]:
    """Evenly re-spaced steps K … 1 for DDIM (descending, K first)."""
    if not 1 <= num_inference_steps <= num_train_steps:
        raise ValueError(
            f'num_inference_steps must be in [1, {num_train_steps}], got '
            f'{num_inference_steps}')
    grid = torch.linspace(num_train_steps, 1, num_inference_steps)
    return [int(round(float(k))) for k in grid]


def add_noise(z0: Tensor, noise: Tensor, alpha_bar: Tensor) -> Tensor:
    """``z_k = √ᾱ_k z0 + √(1 − ᾱ_k) ε``; ``alpha_bar`` broadcasts over D."""
    return alpha_bar.sqrt() * z0 + (1 - alpha_bar).sqrt() * noise


def predict_z0(z_k: Tensor, noise_pred: Tensor, alpha_bar: Tensor) -> Tensor:
    """The one-step estimate ``(z_k − √(1 − ᾱ_k) ε̂) / √ᾱ_k``."""
    return (z_k - (1 - alpha_bar).sqrt() * noise_pred) / alpha_bar.sqrt()


def ddim_step(z_k: Tensor, noise_pred: Tensor, alpha_bar: Tensor,
              alpha_bar_prev: Tensor) -> Tensor:
    """One deterministic (η = 0) DDIM step from ᾱ_k to ᾱ_prev.

    ``z_prev = √ᾱ_prev ẑ0 + √(1 − ᾱ_prev) ε̂`` with ẑ0 from
    :func:`predict_z0`; ``alpha_bar_prev = 1`` returns ẑ0 itself.
    """
    z0 = predict_z0(z_k, noise_pred, alpha_bar)
    return alpha_bar_prev.sqrt() * z0 + (1 - alpha_bar_prev).sqrt() * noise_pred
