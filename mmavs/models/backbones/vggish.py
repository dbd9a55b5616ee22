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
from typing import Dict, List, Mapping, Optional, Sequence, Union

import torch
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import Tensor, nn

from mmavs.utils import safe_torch_load
from ..utils.freezable import FreezableMixin
from ..utils.weight_init import layout_problems

# Channel widths of the convolutions; 'M' marks a 2x2 max-pool.
VGGISH_CONV_CFG: Sequence[Union[int, str]] = (
    64, 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M')
# One log-mel example: 96 frames of 10 ms by 64 mel bands.
VGGISH_INPUT_SHAPE = (1, 96, 64)
# Size of the last conv map, (C, H, W), after four 2x2 pools of 96x64.
VGGISH_FEATURE_SHAPE = (512, 6, 4)
VGGISH_EMBED_DIMS = 128
WEIGHTS_DOC = 'docs/en/pretrained_weights.md'


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


def _extract_state_dict(loaded: object, path: str,
                        prefix: str) -> Dict[str, Tensor]:
    """Pick the VGGish tensors out of a loaded weight file.

    Args:
        loaded: What :func:`safe_torch_load` returned.
        path: The file's path, for error messages.
        prefix: Key prefix of the VGGish tensors (e.g. ``'vggish.'`` in an
            AVSegFormer checkpoint); ``''`` for the torchvggish file.

    Returns:
        The tensors, with ``prefix`` stripped from their names.

    Raises:
        ValueError: ``loaded`` is not a mapping of names to tensors.
    """
    # mmengine checkpoints wrap the weights; torchvggish files are plain.
    if isinstance(loaded, Mapping) and isinstance(
            loaded.get('state_dict'), Mapping):
        loaded = loaded['state_dict']
    if not isinstance(loaded, Mapping):
        raise ValueError(
            f'VGGish weight file {path} holds a {type(loaded).__name__}, '
            f'not a state dict; see {WEIGHTS_DOC} for the expected file.')
    return {
        key[len(prefix):]: value
        for key, value in loaded.items()
        if key.startswith(prefix) and isinstance(value, Tensor)
    }


def _check_state_dict(state: Mapping[str, Tensor],
                      expected: Mapping[str, Tensor], path: str) -> None:
    """Raise unless ``state`` has exactly the names and shapes of ``expected``.

    Raises:
        ValueError: Keys are missing or unexpected, or shapes differ. The
            message names the file, the first few offending keys and
            :data:`WEIGHTS_DOC`.
    """
    problems = layout_problems(state, expected)
    if not problems:
        return
    raise ValueError(
        f'{path} is not a VGGish weight file in the torchvggish layout '
        f'(vggish-10086976.pth); {"; ".join(problems)}. See {WEIGHTS_DOC} '
        'for where to get the file and where to put it.')


def read_vggish_weights(model: nn.Module, path: str,
                        prefix: str = '') -> Dict[str, Tensor]:
    """Read torchvggish weights and check them against ``model``'s layout.

    The file is read with :func:`mmavs.utils.safe_torch_load` (tensors only,
    no code execution) onto the CPU.

    Args:
        model: A :class:`VGGish` (or any module with the same state dict).
        path: Path of ``vggish-10086976.pth`` or a checkpoint holding its
            tensors under ``prefix``.
        prefix: Key prefix to select and strip, e.g. ``'vggish.'``.

    Returns:
        The tensors, named exactly as ``model.state_dict()``.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: The file's keys or shapes differ from the model's.
        mmavs.utils.CheckpointLoadError: The file is corrupt or unsafe.
    """
    path = osp.expanduser(str(path))
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'VGGish weight file not found: {path}. See {WEIGHTS_DOC} for '
            'how to download vggish-10086976.pth.')
    loaded = safe_torch_load(path, map_location='cpu')
    state = _extract_state_dict(loaded, path, prefix)
    _check_state_dict(state, model.state_dict(), path)
    return state


def load_vggish_weights(model: nn.Module, path: str, prefix: str = '') -> None:
    """Load torchvggish weights into ``model`` after an exact layout check.

    See :func:`read_vggish_weights` for the arguments and errors; the
    tensors are then copied with strict key matching.
    """
    model.load_state_dict(read_vggish_weights(model, path, prefix),
                          strict=True)


@MODELS.register_module()
class VGGish(FreezableMixin, BaseModule):
    """VGGish embedding network (no PCA), frozen by default.

    Args:
        frozen: If True, parameters get ``requires_grad=False``, the module
            stays in eval mode whatever ``train()`` is asked, and ``forward``
            runs without building a graph (:class:`FreezableMixin`, the same
            option on every audio encoder).
        init_cfg: mmengine init config. ``dict(type='Pretrained',
            checkpoint=PATH)`` (optionally with ``prefix``) loads the file
            through :func:`load_vggish_weights`, with its strict check and
            clear errors; anything else goes to ``BaseModule``.
    """

    def __init__(self, frozen: bool = True,
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.frozen = frozen
        self.features = _make_features(VGGISH_CONV_CFG)
        c, h, w = VGGISH_FEATURE_SHAPE
        self.embeddings = _make_embeddings(c * h * w)
        self.apply_frozen()

    def _pretrained_cfg(self) -> Optional[dict]:
        """``init_cfg`` if it is a single ``Pretrained`` config, else None."""
        cfg = self.init_cfg
        if isinstance(cfg, dict) and cfg.get('type') == 'Pretrained':
            return cfg
        return None

    def check_pretrained_file(self) -> None:
        """Check a ``Pretrained`` init file's layout now, without loading.

        :class:`AudioVisualBackbone` calls this at build time so that a wrong
        file fails before any data is read.
        """
        cfg = self._pretrained_cfg()
        if cfg is not None:
            read_vggish_weights(self, cfg['checkpoint'], cfg.get('prefix', ''))

    def init_weights(self) -> None:
        """Load pretrained weights strictly, or use BaseModule's init."""
        cfg = self._pretrained_cfg()
        if cfg is None:
            super().init_weights()
            return
        load_vggish_weights(self, cfg['checkpoint'], cfg.get('prefix', ''))
        # Tell mmengine (and a parent's init_weights) not to init again.
        self._is_init = True

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
            Non-negative embeddings, ``(N, 128)``.

        Raises:
            ValueError: ``x`` is not shaped ``(N, 1, 96, 64)``.
        """
        self._check_input(x)
        if self.frozen:
            with torch.no_grad():
                return self._embed(x)
        return self._embed(x)
