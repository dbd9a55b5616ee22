"""VGGish audio backbone: log-mel examples to 128-d embeddings.

The layer layout reproduces the PyTorch port of Google's VGGish that the
AVSBench and AVSegFormer code bases use, so that the released weight file
``vggish-10086976.pth`` loads with strict key matching:

- ``features``: an ``nn.Sequential`` of 3x3 convolutions (padding 1), ReLUs and
  2x2 max-pools; the six convolutions sit at indices 0, 3, 6, 8, 11 and 13.
- ``embeddings``: an ``nn.Sequential`` of three ``nn.Linear`` layers at
  indices 0, 2 and 4, each followed by a ReLU.

The embedding ends with a ReLU and no PCA post-processing is applied, as in
every audio-visual segmentation model that uses VGGish.
"""
import os.path as osp
from typing import Dict, List, Optional, Sequence, Union

import torch
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import Tensor, nn

from ..utils.freezable import FreezableMixin
from ..utils.weight_init import PretrainedVGGishInit

# Channel widths of the convolutions; 'M' marks a 2x2 max-pool.
VGGISH_CONV_CFG: Sequence[Union[int, str]] = (
    64, 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M')
# One log-mel example: 96 frames of 10 ms by 64 mel bands.
VGGISH_INPUT_SHAPE = (1, 96, 64)
# Size of the last conv map, (C, H, W), after four 2x2 pools of 96x64.
VGGISH_FEATURE_SHAPE = (512, 6, 4)
VGGISH_EMBED_DIMS = 128


def _make_features(cfg: Sequence[Union[int, str]],
                   in_channels: int = 1) -> nn.Sequential:
    """Build the convolutional trunk.

    Args:
        cfg: Output channels of each conv, or ``'M'`` for a max-pool.
        in_channels: Channels of the input spectrogram.

    Returns:
        ``nn.Sequential`` mapping ``(N, 1, 96, 64)`` to ``(N, 512, 6, 4)``.
    """
    layers: List[nn.Module] = []
    for item in cfg:
        if item == 'M':
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            layers.append(nn.Conv2d(in_channels, int(item), 3, padding=1))
            layers.append(nn.ReLU(inplace=True))
            in_channels = int(item)
    return nn.Sequential(*layers)


def _make_embeddings(in_features: int, hidden: int = 4096,
                     out_features: int = VGGISH_EMBED_DIMS) -> nn.Sequential:
    """Build the three fully connected layers, each followed by a ReLU.

    Args:
        in_features: Length of the flattened conv map (12288).
        hidden: Width of the two hidden layers.
        out_features: Embedding size.

    Returns:
        ``nn.Sequential`` mapping ``(N, 12288)`` to ``(N, 128)``.
    """
    return nn.Sequential(
        nn.Linear(in_features, hidden), nn.ReLU(inplace=True),
        nn.Linear(hidden, hidden), nn.ReLU(inplace=True),
        nn.Linear(hidden, out_features), nn.ReLU(inplace=True))


def read_vggish_weights(model: nn.Module, path: str,
                        prefix: str = '') -> Dict[str, Tensor]:
    """Read torchvggish weights and check them against ``model``'s layout.

    The same check as ``init_cfg=dict(type='PretrainedVGGish', ...)``
    (:class:`~mmavs.models.utils.PretrainedVGGishInit`): the file is read
    with :func:`mmavs.utils.safe_torch_load` (tensors only, no code
    execution) onto the CPU, and its names and shapes must be the model's.

    Args:
        model: A :class:`VGGish` (or any module with the same state dict).
        path: Path of ``vggish-10086976.pth`` or a checkpoint holding its
            tensors under ``prefix``.
        prefix: Key prefix to select and strip, e.g. ``'vggish.'``.

    Returns:
        The tensors, named exactly as ``model.state_dict()``.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        WeightFileError: The file's keys or shapes differ from the model's,
            or it holds no state dict (a ``ValueError``).
        mmavs.utils.CheckpointLoadError: The file is corrupt or unsafe.
    """
    init = PretrainedVGGishInit(osp.expanduser(str(path)), prefix=prefix)
    return dict(init.check(model))


def load_vggish_weights(model: nn.Module, path: str, prefix: str = '') -> None:
    """Load torchvggish weights into ``model`` after an exact layout check
    (what ``init_cfg=dict(type='PretrainedVGGish', ...)`` does); see
    :func:`read_vggish_weights` for the arguments and errors."""
    PretrainedVGGishInit(osp.expanduser(str(path)), prefix=prefix)(model)


def _strict_init_cfg(init_cfg):
    """``init_cfg`` with a legacy ``Pretrained`` made ``PretrainedVGGish``.

    Configs written before VGGish used the registered strict loader name
    mmengine's ``Pretrained``, which loads with ``strict=False``; they get
    the strict loader they always had.
    """
    if isinstance(init_cfg, dict) and init_cfg.get('type') == 'Pretrained':
        return dict(init_cfg, type='PretrainedVGGish')
    return init_cfg


@MODELS.register_module()
class VGGish(FreezableMixin, BaseModule):
    """VGGish embedding network (no PCA), frozen by default.

    Args:
        out_channels: Width of the last Linear (128 in VGGish). Another
            width (CAVP on 1-s audio: 304, ``cavp.md`` §4) makes that layer
            new, initialised Kaiming normal with bias 0, its ReLU kept; load
            the released file into the rest with
            ``init_cfg=dict(type='PretrainedVGGish', checkpoint=...,
            drop_prefixes=('embeddings.4.',),
            keep_missing=('embeddings.4.',))``.
        frozen: If True, parameters get ``requires_grad=False``, the module
            stays in eval mode whatever ``train()`` is asked, and ``forward``
            runs without building a graph (:class:`FreezableMixin`, the same
            option on every audio encoder).
        init_cfg: mmengine init config. ``dict(type='PretrainedVGGish',
            checkpoint=PATH)`` (optionally with ``prefix``) loads the
            torchvggish file strictly, through the registered loader the
            visual backbones use; the file is checked when the model is
            built. A legacy ``type='Pretrained'`` means the same.
    """

    def __init__(self, frozen: bool = True,
                 out_channels: int = VGGISH_EMBED_DIMS,
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        super().__init__(init_cfg=_strict_init_cfg(init_cfg))
        self.frozen = frozen
        self.out_channels = out_channels
        self.features = _make_features(VGGISH_CONV_CFG)
        c, h, w = VGGISH_FEATURE_SHAPE
        self.embeddings = _make_embeddings(c * h * w,
                                           out_features=out_channels)
        if out_channels != VGGISH_EMBED_DIMS:
            last = self.embeddings[4]
            nn.init.kaiming_normal_(last.weight)
            nn.init.zeros_(last.bias)
        self.apply_frozen()

    @staticmethod
    def _check_input(x: Tensor) -> None:
        """Raise ValueError unless ``x`` is a ``(N, 1, 96, 64)`` tensor."""
        if not isinstance(x, Tensor) or x.dim() != 4 or tuple(
                x.shape[1:]) != VGGISH_INPUT_SHAPE:
            got = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
            raise ValueError(
                'VGGish expects log-mel examples of shape (N, 1, 96, 64) '
                f'(96 frames x 64 mel bands), got {got}.')

    def _embed(self, x: Tensor) -> Tensor:
        """Map ``(N, 1, 96, 64)`` log-mel to ``(N, 128)`` embeddings."""
        feats = self.features(x)  # (N, 512, 6, 4)
        # The TF original flattens in NHWC order, and the first FC layer's
        # weights are laid out for it: (N, 6, 4, 512) -> (N, 12288).
        feats = feats.permute(0, 2, 3, 1).flatten(1)
        return self.embeddings(feats)

    def forward(self, x: Tensor) -> Tensor:
        """Embed log-mel examples.

        Args:
            x: Log-mel spectrogram examples, ``(N, 1, 96, 64)``.

        Returns:
            Non-negative embeddings, ``(N, out_channels)`` (128).

        Raises:
            ValueError: ``x`` is not shaped ``(N, 1, 96, 64)``.
        """
        self._check_input(x)
        if self.frozen:
            with torch.no_grad():
                return self._embed(x)
        return self._embed(x)
