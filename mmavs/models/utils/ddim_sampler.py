"""DDIM sampling with few kernel launches per step.

Ten DDIM steps of ε_θ's small FC layers cost little arithmetic but many
kernel launches, which on a GPU can cost more than the arithmetic. What does
not change across the steps is computed once: ε_θ's first layer acts on
``[z_k, c, MLP(emb(k))]``, so its ``c`` and step parts (for the S steps
of the schedule) become one bias tensor ``(S, N, W)`` before the loop; each
step then runs the ``z_k`` part (one ``D → W`` product) and the seven other
layers. The DDIM update uses Python-float coefficients (no ᾱ lookups).
Same result as stepping :class:`NoiseEstimator` step by step, up to float
rounding (``tests/test_models/test_utils/test_ddim_sampler.py``).
"""
from typing import Optional, Sequence

import torch
from torch import Tensor
from torch.nn import functional as F


def ddim_coefficients(alpha: float, alpha_prev: float):
    """``(a, b)`` with ``z_prev = a z_k + b ε̂`` for one η = 0 DDIM step
    (``ddim_step`` of :mod:`diffusion_schedule`, expanded)."""
    a = (alpha_prev / alpha)**0.5
    b = (1 - alpha_prev)**0.5 - a * (1 - alpha)**0.5
    return a, b


def fast_ddim_sample(denoiser, condition: Tensor, noise: Tensor,
                     steps: Sequence[int], alphas_cumprod: Sequence[float],
                     step_tensor: Optional[Tensor] = None) -> Tensor:
    """DDIM from ``z_K = noise`` over ``steps`` (descending, K first) to
    step 0; returns ẑ0 ``(N, D)`` (not normalised).

    Args:
        denoiser: A :class:`NoiseEstimator`.
        condition: ``(N, D)``.
        noise: ``(N, D)``.
        steps: The DDIM steps, e.g. ``ddim_timesteps(K, 10)``.
        alphas_cumprod: ᾱ_1..ᾱ_K as Python floats.
        step_tensor: ``steps`` as a long tensor on the device, made ahead
            (no host-to-device copy inside a CUDA graph capture).
    """
    from mmavs.models.necks.latent_modules import leaky, step_embedding
    dim = noise.shape[1]
    first = denoiser.encoder[0]
    w_z = first.weight[:, :dim]
    w_c = first.weight[:, dim:2 * dim]
    w_k = first.weight[:, 2 * dim:]
    k_t = step_tensor if step_tensor is not None else torch.tensor(
        list(steps), device=noise.device)
    step_part = F.linear(denoiser.step_mlp(step_embedding(k_t, denoiser.width)),
                         w_k, first.bias)  # (S, W)
    bias = F.linear(condition, w_c)[None] + step_part[:, None]  # (S, N, W)
    alpha = [1.0] + [float(a) for a in alphas_cumprod]  # ᾱ_0 = 1
    z = noise
    for i, (k, k_prev) in enumerate(zip(steps, list(steps[1:]) + [0])):
        x = leaky(F.linear(z, w_z) + bias[i])
        skips = [x]
        for layer in denoiser.encoder[1:]:
            x = leaky(layer(x))
            skips.append(x)
        for layer, skip in zip(denoiser.decoder, reversed(skips[:-1])):
            x = leaky(layer(x)) + skip
        eps = denoiser.out(x)
        a, b = ddim_coefficients(alpha[k], alpha[k_prev])
        z = torch.add(z * a, eps, alpha=b)
    return z


class CUDAGraphSampler:
    """:func:`fast_ddim_sample` replayed from a CUDA graph at test time.

    What remains per DDIM step is a few dozen kernels on ``(N, 384)``
    tensors, each too small to hide its launch; one graph launches them all
    at once. One graph per (N, device, weights): captured on the first call
    with a new N, checked once against the eager result, and dropped (eager
    from then on, with a warning) if capture fails or the two differ. It
    runs in float32 with autocast off (autocast's weight cache cannot be
    captured). Used only for CUDA tensors without gradients; everything
    else runs :func:`fast_ddim_sample` directly.

    Args:
        max_graphs: Graphs kept (each holds its own memory pool).
    """

    def __init__(self, max_graphs: int = 8) -> None:
        self.max_graphs = max_graphs
        self.graphs: dict = {}
        self.disabled = False

    def __call__(self, denoiser, condition: Tensor, noise: Tensor,
                 steps: Sequence[int],
                 alphas_cumprod: Sequence[float]) -> Tensor:
        args = (tuple(steps), tuple(alphas_cumprod))
        if (self.disabled or not condition.is_cuda or
                torch.is_grad_enabled()):
            return fast_ddim_sample(denoiser, condition, noise, *args)
        key = (tuple(noise.shape), condition.device, args,
               tuple(p.data_ptr() for p in denoiser.parameters()))
        entry = self.graphs.get(key)
        if entry is None:
            entry = self._capture(denoiser, condition, noise, args)
            if entry is None:
                return fast_ddim_sample(denoiser, condition, noise, *args)
            if len(self.graphs) >= self.max_graphs:
                self.graphs.pop(next(iter(self.graphs)))
            self.graphs[key] = entry
        graph, static_cond, static_noise, static_out = entry
        static_cond.copy_(condition)
        static_noise.copy_(noise)
        graph.replay()
        return static_out.clone().to(condition.dtype)

    def _capture(self, denoiser, condition, noise, args):
        import warnings

        step_tensor = torch.tensor(args[0], device=condition.device)

        def eager(cond, z):
            with torch.autocast('cuda', enabled=False):
                return fast_ddim_sample(denoiser, cond.float(), z.float(),
                                        *args, step_tensor=step_tensor)

        try:
            static_cond = condition.detach().float().clone()
            static_noise = noise.detach().float().clone()
            stream = torch.cuda.Stream()
            stream.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(stream):
                for _ in range(2):  # warm-up outside the graph
                    expected = eager(static_cond, static_noise)
            torch.cuda.current_stream().wait_stream(stream)
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph):
                static_out = eager(static_cond, static_noise)
            graph.replay()
            scale = expected.abs().max().clamp_min(1.0)
            if not torch.allclose(static_out, expected, rtol=1e-4,
                                  atol=1e-4 * float(scale)):
                raise RuntimeError('graph replay differs from eager')
        except Exception as err:  # noqa: BLE001 - any failure: stay eager
            warnings.warn(f'DDIM sampling without a CUDA graph: {err}')
            self.disabled = True
            return None
        return graph, static_cond, static_noise, static_out
