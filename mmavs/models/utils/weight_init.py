"""Weight initialisers that load third-party weight files strictly.

mmengine's ``Pretrained`` initialiser loads with ``strict=False`` and only
logs what did not match, so a wrong or renamed file silently leaves a
backbone random. These initialisers load every tensor or fail:

- ``StrictPretrained``: a file whose names already match the module
  (torchvision's ``resnet50-19c8e357.pth`` into mmseg's ``ResNet``), with
  ``drop_prefixes`` for tensors the module has no place for (``fc.``).
- ``PretrainedPVTv2``: the official PVTv2 weights (``pvt_v2_b5.pth``,
  SegFormer-style names), converted at load time for mmseg's
  ``MixVisionTransformer`` (:func:`~mmavs.models.utils.pvtv2_to_mit`).
- ``PretrainedVGGish``: the torchvggish weights (``vggish-10086976.pth``)
  into ``VGGish``, whose names they already have.

All are registered in mmseg's ``WEIGHT_INITIALIZERS`` and are used as
``init_cfg=dict(type='PretrainedPVTv2', checkpoint='pretrained/...')``. Files
are read with :func:`mmavs.utils.safe_torch_load` (``weights_only=True``).
:func:`check_pretrained_layout` runs the same check when the model is built,
so a mismatched file fails before any data is loaded.
"""
import os.path as osp
from collections import OrderedDict
from typing import Dict, List, Mapping, Optional, Sequence

from mmengine.model import BaseModule
from mmengine.model.weight_init import update_init_info
from mmseg.registry import WEIGHT_INITIALIZERS
from torch import Tensor, nn

from mmavs.utils import safe_torch_load
from .ckpt_convert import ConversionResult, pvtv2_to_mit, strip_prefix

__all__ = [
    'WeightFileError', 'StrictPretrainedInit', 'PretrainedPVTv2Init',
    'PretrainedVGGishInit',
    'STRICT_INIT_TYPES', 'check_pretrained_layout', 'read_state_dict'
]

WEIGHTS_DOC = 'docs/en/pretrained_weights.md'
# Offending keys listed in an error message before it cuts off.
_MAX_KEYS_SHOWN = 5


class WeightFileError(ValueError):
    """A weight file does not fit the module it should initialise."""


def read_state_dict(path: str) -> 'OrderedDict[str, Tensor]':
    """Read the tensors of a weight file or checkpoint, safely.

    Accepts a plain state dict (torchvision, PVT, AVSBench) or one wrapped
    under ``'state_dict'`` (mmengine) or ``'model'`` (timm / DeiT-style).

    Raises:
        FileNotFoundError: The file does not exist.
        WeightFileError: It holds no mapping of names to tensors.
        mmavs.utils.CheckpointLoadError: It is corrupt or unsafe.
    """
    loaded = safe_torch_load(path, map_location='cpu')
    for wrapper in ('state_dict', 'model'):
        if isinstance(loaded, Mapping) and isinstance(
                loaded.get(wrapper), Mapping):
            loaded = loaded[wrapper]
            break
    if not isinstance(loaded, Mapping):
        raise WeightFileError(
            f'{path} holds a {type(loaded).__name__}, not a state dict; see '
            f'{WEIGHTS_DOC}')
    return OrderedDict(
        (k, v) for k, v in loaded.items() if isinstance(v, Tensor))


def _shown(keys: Sequence[str]) -> str:
    """The first few keys, sorted, for an error message."""
    keys = sorted(keys)
    more = len(keys) - _MAX_KEYS_SHOWN
    return ', '.join(keys[:_MAX_KEYS_SHOWN]) + (
        f' (and {more} more)' if more > 0 else '')


def layout_problems(state: Mapping[str, Tensor],
                    expected: Mapping[str, Tensor]) -> List[str]:
    """What keeps ``state`` from loading strictly into ``expected``.

    Returns:
        list[str]: One line per kind of problem (missing keys, unexpected
        keys, shape mismatches); empty when a strict load would succeed.
    """
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    wrong = [
        f'{k} (file {tuple(state[k].shape)}, model '
        f'{tuple(expected[k].shape)})' for k in expected
        if k in state and state[k].shape != expected[k].shape
    ]
    problems = []
    if missing:
        problems.append(f'{len(missing)} missing keys: {_shown(missing)}')
    if unexpected:
        problems.append(
            f'{len(unexpected)} unexpected keys: {_shown(unexpected)}')
    if wrong:
        problems.append(f'{len(wrong)} shape mismatches: {_shown(wrong)}')
    return problems


def _fill_batch_counters(state: 'OrderedDict[str, Tensor]',
                         expected: Mapping[str, Tensor]) -> None:
    """Give BatchNorm's ``num_batches_tracked`` to files that predate it.

    Files saved before PyTorch 0.4.1 (torchvision's
    ``resnet50-19c8e357.pth``) have no such buffer; torch's own loading
    keeps the module's counter for them, and so does this. The counter only
    matters for BN layers with ``momentum=None``.
    """
    for key, value in expected.items():
        if key.endswith('num_batches_tracked') and key not in state:
            state[key] = value.clone()


@WEIGHT_INITIALIZERS.register_module(name='StrictPretrained')
class StrictPretrainedInit:
    """Initialise a module from a weight file, every tensor or an error.

    Args:
        checkpoint: Path of the weight file (relative paths are relative to
            the working directory).
        prefix: Select the keys under this prefix and strip it (e.g.
            ``'backbone.'`` to take a backbone out of a detector checkpoint).
        drop_prefixes: Source keys to leave out on purpose, e.g. ``('fc.',)``
            for torchvision's ImageNet classifier.
        map_location: Kept for ``Pretrained`` compatibility; files are always
            read onto the CPU and copied into the module's tensors.
        keep_missing: Module keys under these prefixes may be absent from
            the file and keep their initial values: layers the module adds
            to the pretrained network, e.g. ``('norm0.', 'norm1.',
            'norm2.')``, the output norms an mmpretrain ConvNeXt or Swin
            builds for the extra ``out_indices`` of a dense-prediction
            backbone (an ImageNet file holds only ``norm3``).
    """

    #: What the error message calls the expected file.
    expected_file = 'a state dict whose names match the module'

    def __init__(self,
                 checkpoint: str,
                 prefix: Optional[str] = None,
                 drop_prefixes: Sequence[str] = (),
                 map_location: str = 'cpu',
                 keep_missing: Sequence[str] = ()) -> None:
        self.checkpoint = str(checkpoint)
        self.prefix = prefix
        self.drop_prefixes = tuple(drop_prefixes)
        self.map_location = map_location
        self.keep_missing = tuple(keep_missing)

    def convert(self, state: Mapping[str, Tensor]) -> ConversionResult:
        """Map file names to module names; here only drops prefixes."""
        result = ConversionResult()
        for key, value in state.items():
            if key.startswith(self.drop_prefixes):
                result.dropped.append(key)
            else:
                result.state_dict[key] = value
        return result

    def converted_state(self) -> ConversionResult:
        """Read the file, select ``prefix`` and convert."""
        path = osp.expanduser(self.checkpoint)
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'pretrained weights not found: {self.checkpoint} (expected '
                f'{self.expected_file} there, relative to the working '
                f'directory); see {WEIGHTS_DOC} for where to get it')
        state = read_state_dict(path)
        if self.prefix:
            state = strip_prefix(state, self.prefix)
        return self.convert(state)

    def check(self, module: nn.Module,
              where: str = '') -> 'OrderedDict[str, Tensor]':
        """Convert the file and check it against ``module``'s state dict.

        Args:
            module: The module to initialise.
            where: The config key of the module, for the message.

        Returns:
            OrderedDict: The tensors to load, exactly the module's keys.

        Raises:
            WeightFileError: Keys are missing, unexpected or of another
                shape; the message names the file, the expected file and
                :data:`WEIGHTS_DOC`.
        """
        result = self.converted_state()
        expected = module.state_dict()
        _fill_batch_counters(result.state_dict, expected)
        for key, value in expected.items():
            if key not in result.state_dict and key.startswith(
                    self.keep_missing):
                result.state_dict[key] = value.clone()
        problems = layout_problems(result.state_dict, expected)
        if result.unknown:
            problems.append(f'{len(result.unknown)} keys no conversion rule '
                            f'covers: {_shown(result.unknown)}')
        if problems:
            owner = f' ({where})' if where else ''
            raise WeightFileError(
                f'{self.checkpoint} does not fit {type(module).__name__}'
                f'{owner}: {"; ".join(problems)}. Expected '
                f'{self.expected_file} at {self.checkpoint}; see '
                f'{WEIGHTS_DOC} for the files, their sources and how to '
                'check them.')
        return result.state_dict

    def __call__(self, module: nn.Module) -> None:
        """Load the file into ``module`` with strict key matching."""
        state = self.check(module)
        module.load_state_dict(state, strict=True)
        # mmengine initialises a module's children after its init_cfg (only
        # its own 'Pretrained' runs last): mark them done, or a child's
        # init_weights (e.g. mmpretrain's WindowMSA) would redraw loaded
        # tensors.
        for sub in module.modules():
            if isinstance(sub, BaseModule):
                sub._is_init = True
        if hasattr(module, '_params_init_info'):
            update_init_info(module, init_info=self._get_init_info())

    def _get_init_info(self) -> str:
        return f'{type(self).__name__}: load from {self.checkpoint}'


@WEIGHT_INITIALIZERS.register_module(name='PretrainedPVTv2')
class PretrainedPVTv2Init(StrictPretrainedInit):
    """Load the official PVTv2 weights into mmseg's ``MixVisionTransformer``.

    The file (e.g. ``pvt_v2_b5.pth`` as downloaded) keeps PVTv2's
    SegFormer-style names; they are converted at load time, the ImageNet
    classifier ``head.*`` is dropped and everything else must load strictly.

    Args:
        checkpoint: Path of the PVTv2 file.
        prefix: As in :class:`StrictPretrainedInit`.
        drop_prefixes: Source prefixes to leave out (default ``head.``).
        map_location: As in :class:`StrictPretrainedInit`.
    """

    expected_file = ('the official PVTv2 ImageNet weights of the configured '
                     'size (pvt_v2_b5.pth for PVTv2-b5)')

    def __init__(self,
                 checkpoint: str,
                 prefix: Optional[str] = None,
                 drop_prefixes: Sequence[str] = ('head.', ),
                 map_location: str = 'cpu') -> None:
        super().__init__(checkpoint, prefix, drop_prefixes, map_location)

    def convert(self, state: Mapping[str, Tensor]) -> ConversionResult:
        return pvtv2_to_mit(state, drop_prefixes=self.drop_prefixes)


@WEIGHT_INITIALIZERS.register_module(name='PretrainedVGGish')
class PretrainedVGGishInit(StrictPretrainedInit):
    """Load the torchvggish weights (``vggish-10086976.pth``) into ``VGGish``.

    The file's names are the module's (``features.*``, ``embeddings.*``):
    exactly its 18 tensors must load. ``prefix='vggish.'`` takes them out of
    a full checkpoint that holds VGGish (AVSegFormer's).

    Args:
        checkpoint: Path of the VGGish file.
        prefix, drop_prefixes, map_location, keep_missing: As in
            :class:`StrictPretrainedInit`.
    """

    expected_file = ('the torchvggish weights (vggish-10086976.pth, no PCA '
                     'parameters)')


#: ``init_cfg`` types that read a file and must find it at build time.
STRICT_INIT_TYPES = ('StrictPretrained', 'PretrainedPVTv2',
                     'PretrainedVGGish')


def _init_cfgs(cfg: Mapping) -> List[Dict]:
    init = cfg.get('init_cfg') or []
    return list(init) if isinstance(init, (list, tuple)) else [init]


def check_pretrained_layout(module: nn.Module, cfg: Mapping,
                            where: str = '') -> None:
    """Fail now if a strict ``init_cfg`` file does not fit ``module``.

    Called right after the module is built, so that a wrong file stops the
    build instead of the first ``init_weights``. The module's own
    ``init_cfg`` is checked when it has one (a module may rewrite its
    config's, as ``VGGish`` does with a legacy ``Pretrained``); other
    ``init_cfg`` types are left to their initialisers.

    Args:
        module: The built module.
        cfg: Its config (with ``init_cfg``).
        where: Its config key, e.g. ``'model.backbone.visual'``.

    Raises:
        FileNotFoundError, WeightFileError: See
            :meth:`StrictPretrainedInit.check`.
    """
    if getattr(module, 'init_cfg', None) is not None:
        cfg = dict(init_cfg=module.init_cfg)
    for init in _init_cfgs(cfg):
        if init.get('type') in STRICT_INIT_TYPES:
            WEIGHT_INITIALIZERS.build(dict(init)).check(module, where)
