"""Class-conditional Gaussian mixtures of query embeddings (CPM's CCDM).

``cpm.md`` §3: every label ``c`` of ``L = K + 1`` (∅ included) has ``M``
diagonal Gaussians with weights ``π_cm``, means ``μ_cm`` and variances
``σ²_cm``. The classifier's logits are the log-likelihoods

    ℓ_c(e) = logsumexp_m [log π_cm + log N(e; μ_cm, diag σ²_cm)]

(``softmax_c ℓ_c`` = ``p(c|e)`` with a uniform prior). The parameters are
buffers, fitted outside back-propagation: the embeddings matched to a label
enter a FIFO memory bank, and every :meth:`GMMClassifier.update` runs one
E-step (log space) and one M-step per label whose bank holds at least
``min_samples`` embeddings, then moves the parameters towards the estimate
with momentum. Samples of a label's mixture are its prompts.
"""
import math
from typing import Optional

import torch
from mmseg.registry import MODELS
from torch import Tensor

from .query_classifier import QueryClassifier


@MODELS.register_module()
class GMMClassifier(QueryClassifier):
    """Per-label diagonal Gaussian mixtures fitted by momentum EM.

    - Init: ``μ ~ N(0, 1)``, ``σ² = 1``, ``π = 1/M``.
    - :meth:`update` (no gradient): push the embeddings into their labels'
      banks (FIFO, ``bank_size`` each), then for every label whose bank holds
      ``>= min_samples``: responsibilities ``r_nm`` from the current
      parameters (log space), ``N_m = Σ_n r_nm``, ``π̂_m = N_m / |F_c|``
      (``cpm.md``'s [decision]: per label, so that ``Σ_m π_m = 1``),
      ``μ̂_m = Σ r x / N_m``, ``σ̂²_m = Σ r x² / N_m - μ̂²``; then
      ``θ ← m θ + (1 - m) θ̂`` with ``m = momentum``, except ``m = 0`` for a
      label's first update (its bank first reaching ``min_samples``).
      Variances are floored at ``var_floor``. A component with no
      responsibility (``N_m < 1e-6``) keeps its mean and variance (its
      weight follows ``π̂_m ≈ 0``).
    - Buffers ``means (L, M, D)``, ``variances (L, M, D)``, ``weights (L,
      M)`` and ``fitted (L,)`` are saved in checkpoints; the banks only with
      ``save_bank=True`` (they cost ``L · bank_size · D`` floats, 74 MB for
      AVSS, and refill within a few iterations after a resume).
    - Distributed training: the update runs on each process with its own
      embeddings; DDP's default ``broadcast_buffers`` then copies rank 0's
      buffers to the others at the next forward, so rank 0's samples fit
      the mixtures.

    Args:
        num_labels: ``L = K + 1`` (∅ = ``K`` has its own mixture).
        embed_dims: ``D``.
        num_components: ``M`` (3).
        momentum: ``m`` (0.999).
        bank_size: FIFO length per label (1,000).
        var_floor: Least variance (1e-4).
        min_samples: Least bank size for an update (default ``2 M``).
        save_bank: Keep the banks in checkpoints.
        init_cfg: mmengine init config.
    """

    provides_prompts = True

    def __init__(self,
                 num_labels: int,
                 embed_dims: int = 256,
                 num_components: int = 3,
                 momentum: float = 0.999,
                 bank_size: int = 1000,
                 var_floor: float = 1e-4,
                 min_samples: Optional[int] = None,
                 save_bank: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(num_labels, embed_dims, init_cfg)
        if not 0 <= momentum < 1:
            raise ValueError(f'momentum must be in [0, 1), got {momentum}')
        self.num_components = num_components
        self.momentum = momentum
        self.bank_size = bank_size
        self.var_floor = var_floor
        self.min_samples = (2 * num_components
                            if min_samples is None else min_samples)
        if self.min_samples > bank_size:
            raise ValueError('min_samples exceeds bank_size')
        shape = (num_labels, num_components, embed_dims)
        self.register_buffer('means', torch.randn(shape))
        self.register_buffer('variances', torch.ones(shape))
        self.register_buffer(
            'weights',
            torch.full((num_labels, num_components), 1.0 / num_components))
        self.register_buffer('fitted', torch.zeros(num_labels,
                                                   dtype=torch.bool))
        self.register_buffer('bank',
                             torch.zeros(num_labels, bank_size, embed_dims),
                             persistent=save_bank)
        self.register_buffer('bank_len',
                             torch.zeros(num_labels, dtype=torch.long),
                             persistent=save_bank)
        self.register_buffer('bank_ptr',
                             torch.zeros(num_labels, dtype=torch.long),
                             persistent=save_bank)

    def init_weights(self) -> None:
        """The mixtures are buffers with their own init; nothing to do
        (mmengine's init would not touch buffers anyway)."""

    # ---------------------------------------------------------- likelihood
    @staticmethod
    def _component_log_prob(x: Tensor, means: Tensor,
                            variances: Tensor) -> Tensor:
        """``log N(x; μ, diag σ²)`` for every row and component.

        Args:
            x: ``(n, D)`` float32.
            means, variances: ``(C, D)`` float32.

        Returns:
            ``(n, C)``.
        """
        inv = variances.reciprocal()
        # Σ_d (x - μ)² / σ² without an (n, C, D) tensor.
        quad = (x * x) @ inv.t() - 2 * x @ (means * inv).t() + (
            means * means * inv).sum(-1)
        quad = quad.clamp_min(0)
        log_det = variances.log().sum(-1)
        return -0.5 * (quad + log_det + x.shape[-1] * math.log(2 * math.pi))

    def component_log_likelihood(self, embeds: Tensor) -> Tensor:
        """``(..., D)`` → ``(..., L, M)``:
        ``log π_cm + log N(e; μ_cm, diag σ²_cm)`` in float32."""
        lead = embeds.shape[:-1]
        with torch.autocast(device_type=embeds.device.type, enabled=False):
            x = embeds.reshape(-1, self.embed_dims).float()
            log_prob = self._component_log_prob(
                x, self.means.flatten(0, 1), self.variances.flatten(0, 1))
            log_prob = log_prob.view(-1, self.num_labels,
                                     self.num_components)
            log_prob = log_prob + self.weights.clamp_min(1e-12).log()
        return log_prob.view(*lead, self.num_labels, self.num_components)

    def forward(self, embeds: Tensor) -> Tensor:
        """``(..., D)`` embeddings → ``(..., L)`` log-likelihoods ``ℓ_c``
        (float32, differentiable in ``embeds``; the buffers get no
        gradient)."""
        return self.component_log_likelihood(embeds).logsumexp(-1)

    # ------------------------------------------------------------- fitting
    @torch.no_grad()
    def push(self, embeds: Tensor, labels: Tensor) -> None:
        """Append ``(S, D)`` embeddings to their labels' FIFO banks."""
        embeds = embeds.detach().to(self.bank.dtype)
        labels = labels.to(self.bank.device)
        for label in labels.unique().tolist():
            if not 0 <= label < self.num_labels:
                raise ValueError(f'label {label} outside [0, '
                                 f'{self.num_labels})')
            rows = embeds[labels == label][-self.bank_size:]
            ptr = int(self.bank_ptr[label])
            slots = (ptr + torch.arange(len(rows), device=rows.device)
                     ) % self.bank_size
            self.bank[label, slots] = rows
            self.bank_ptr[label] = (ptr + len(rows)) % self.bank_size
            self.bank_len[label] = min(
                int(self.bank_len[label]) + len(rows), self.bank_size)

    @torch.no_grad()
    def em_step(self) -> Tensor:
        """One E-step and M-step on the banks and the momentum update of
        every label with ``>= min_samples`` embeddings.

        Returns:
            ``(L,)`` bool: the labels updated.
        """
        ready = self.bank_len >= self.min_samples
        if not ready.any():
            return ready
        labels = ready.nonzero().flatten()
        x = self.bank[labels].float()  # (R, S, D)
        valid = (torch.arange(self.bank_size, device=x.device)[None] <
                 self.bank_len[labels, None]).float()  # (R, S)
        means = self.means[labels]  # (R, M, D)
        variances = self.variances[labels]
        # E-step in log space: log π + log N, normalised over components.
        inv = variances.reciprocal()
        quad = (torch.einsum('rsd,rmd->rsm', x * x, inv) -
                2 * torch.einsum('rsd,rmd->rsm', x, means * inv) +
                (means * means * inv).sum(-1)[:, None]).clamp_min(0)
        log_prob = -0.5 * (quad + variances.log().sum(-1)[:, None] +
                           self.embed_dims * math.log(2 * math.pi))
        log_prob = log_prob + self.weights[labels].clamp_min(
            1e-12).log()[:, None]
        resp = log_prob.softmax(-1) * valid[..., None]  # (R, S, M)
        # M-step.
        count = resp.sum(1)  # (R, M)
        total = valid.sum(1, keepdim=True)  # (R, 1) = |F_c|
        new_weights = count / total
        denom = count.clamp_min(1e-12)[..., None]
        new_means = torch.einsum('rsm,rsd->rmd', resp, x) / denom
        new_vars = torch.einsum('rsm,rsd->rmd', resp, x * x) / denom - \
            new_means * new_means
        alive = (count >= 1e-6)[..., None]
        new_means = torch.where(alive, new_means, means)
        new_vars = torch.where(alive, new_vars, variances)
        # Momentum; a label's first update takes the estimate (m = 0).
        m = torch.where(self.fitted[labels],
                        torch.full_like(total[:, 0], self.momentum),
                        torch.zeros_like(total[:, 0]))
        self.weights[labels] = m[:, None] * self.weights[labels] + (
            1 - m[:, None]) * new_weights
        self.means[labels] = m[:, None, None] * means + (
            1 - m[:, None, None]) * new_means
        self.variances[labels] = (m[:, None, None] * variances +
                                  (1 - m[:, None, None]) * new_vars
                                  ).clamp_min(self.var_floor)
        self.fitted[labels] = True
        return ready

    @torch.no_grad()
    def update(self, embeds: Tensor, labels: Tensor) -> None:
        """Feed ``(S, D)`` detached embeddings (matched queries of the last
        decoder layer, a few unmatched ones as ∅, VCP prompt outputs) with
        their ``(S,)`` labels, then run :meth:`em_step`."""
        if len(embeds):
            self.push(embeds, labels)
        self.em_step()

    # ------------------------------------------------------------ sampling
    @torch.no_grad()
    def sample(self, labels: Tensor,
               generator: Optional[torch.Generator] = None) -> Tensor:
        """Draw one prompt per label: ``m ~ Cat(π_c)``, ``z = μ_cm + σ_cm ⊙
        ε``, ``ε ~ N(0, I)``.

        Args:
            labels: ``(P,)`` long.
            generator: Optional generator on the buffers' device (same seed,
                same prompts).

        Returns:
            ``(P, D)`` float32 (no gradient).
        """
        labels = labels.to(self.means.device)
        if labels.numel() == 0:
            return self.means.new_zeros(0, self.embed_dims)
        comp = torch.multinomial(self.weights[labels], 1,
                                 generator=generator)[:, 0]
        noise = torch.randn(len(labels), self.embed_dims,
                            device=self.means.device, generator=generator)
        return self.means[labels, comp] + self.variances[labels, comp].sqrt(
        ) * noise
