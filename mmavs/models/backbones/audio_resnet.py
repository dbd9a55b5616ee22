"""ResNet audio encoder: a spectrogram to one feature vector per frame.

CAVP's audio net (``cavp.md`` §4) and CPM's (``cpm.md`` §2): torchvision's
ResNet-18 with ``conv1`` replaced by a 7x7 stride-2 conv from ``A`` input
channels (1 mono, 2 stereo), global **max** pooling over time and frequency,
and in CAVP an ``fc`` 512 → 304. mmseg's ``ResNet`` (pytorch style, plain
stem) is that network and uses torchvision's parameter names, so an ImageNet
``resnet18`` file loads into it except ``conv1`` (other input channels) and
``fc`` (another width), which CAVP re-initialises anyway.
"""
from typing import Optional

from mmseg.models.backbones import ResNet
from mmseg.registry import MODELS
from torch import Tensor, nn

from ..utils.freezable import FreezableMixin

POOLS = ('max', 'avg')


@MODELS.register_module()
class AudioResNet(FreezableMixin, ResNet):
    """ResNet (18 by default) on spectrograms, trainable by default.

    Shapes::

        (N, A, T, F) spectrogram (e.g. SpectrogramFrontEnd: T time frames,
                     F mel bands; the layout of docs/en/architecture.md)
          → stem 7x7/2 + max-pool 3x3/2 → 4 stages → (N, C, T/32, F/32)
          → global max (or mean) → (N, C)  [→ fc → (N, out_channels)]

    ``C`` is 512 for depth 18 / 34 and 2048 for 50+.

    Args:
        depth: ResNet depth (18 for CAVP / CPM).
        in_channels: ``A``, audio channels of the spectrogram (1 or 2).
        pool: ``'max'`` (CAVP) or ``'avg'`` global pooling.
        out_channels: Width of a final ``fc`` Linear (CAVP: 304); None for
            none, the pooled feature is the output.
        frozen: Same meaning as on every audio encoder
            (:class:`~mmavs.models.utils.freezable.FreezableMixin`): False
            by default, the encoder is trained.
        **kwargs: Passed to mmseg's ``ResNet`` (``norm_cfg``,
            ``base_channels`` for tiny tests, ``init_cfg``, ...).
    """

    def __init__(self,
                 depth: int = 18,
                 in_channels: int = 1,
                 pool: str = 'max',
                 out_channels: Optional[int] = None,
                 frozen: bool = False,
                 **kwargs) -> None:
        if pool not in POOLS:
            raise ValueError(f'pool must be one of {POOLS}, got {pool!r}')
        kwargs.setdefault('out_indices', (3, ))
        super().__init__(depth=depth, in_channels=in_channels, **kwargs)
        self.in_channels = in_channels
        self.pool = pool
        width = self.feat_dim
        self.fc = nn.Linear(width, out_channels) if out_channels else None
        self.out_channels = out_channels or width
        self.frozen = frozen
        self.apply_frozen()

    def forward(self, x: Tensor) -> Tensor:
        """``(N, A, T, F)`` spectrogram → ``(N, out_channels)``.

        Raises:
            ValueError: ``x`` is not 4-D with ``in_channels`` channels.
        """
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f'AudioResNet expects spectrograms (N, {self.in_channels}, '
                f'T, F), got {tuple(x.shape)}; set in_channels to the audio '
                'channels of the front end (1 mono, 2 stereo)')
        with self.grad_context():
            feat = super().forward(x)[-1]
            feat = feat.amax(dim=(2, 3)) if self.pool == 'max' else \
                feat.mean(dim=(2, 3))
            return self.fc(feat) if self.fc is not None else feat
