"""Import mmpretrain for the tests, with a stand-in torchvision if needed.

mmpretrain 1.2 imports torchvision when it is imported (its data transforms
and box utilities), but its backbones never call it. CI installs mmpretrain
(the ``tests`` extra) and no torchvision: PyPI's torchvision does not load
beside the CPU torch build CI uses (``operator torchvision::nms does not
exist``), and a broken torchvision would also break mmengine's environment
report. So when no working torchvision is there, the modules mmpretrain
imports are stood in for while mmpretrain is imported, then removed again;
calling into them raises. The backbones under test are mmpretrain's own
code either way. Users install the ``mmpretrain`` extra, with a real
torchvision (``docs/en/get_started.md``).
"""
import enum
import importlib
import sys
import types

import pytest

STANDIN_VERSION = '0+mmavs-tests-standin'


class _InterpolationMode(enum.Enum):
    NEAREST = 'nearest'
    BILINEAR = 'bilinear'
    BICUBIC = 'bicubic'
    BOX = 'box'
    HAMMING = 'hamming'
    LANCZOS = 'lanczos'


def _module(name, **attrs):
    module = types.ModuleType(name)
    module.__dict__.update(attrs)

    def missing(attr):
        if attr.startswith('__'):
            raise AttributeError(attr)
        raise RuntimeError(f'{name}.{attr}: torchvision stand-in of the '
                           'mmavs tests (no working torchvision installed)')

    module.__getattr__ = missing
    return module


def _standin_modules():
    """``torchvision`` and the submodules mmpretrain imports at import."""
    inner = _module('torchvision.transforms.transforms',
                    InterpolationMode=_InterpolationMode)
    functional = _module('torchvision.transforms.functional')
    transforms = _module('torchvision.transforms', transforms=inner,
                         functional=functional,
                         InterpolationMode=_InterpolationMode)
    boxes = _module('torchvision.ops.boxes')
    ops = _module('torchvision.ops', boxes=boxes)
    root = _module('torchvision', transforms=transforms, ops=ops,
                   __version__=STANDIN_VERSION)
    return {m.__name__: m for m in (root, transforms, inner, functional, ops,
                                    boxes)}


def _torchvision_works() -> bool:
    try:
        importlib.import_module('torchvision')
        return True
    except Exception:  # absent, or a build that does not fit torch
        for name in [n for n in sys.modules if n == 'torchvision'
                     or n.startswith('torchvision.')]:
            del sys.modules[name]
        return False


def import_mmpretrain():
    """Import ``mmpretrain.models`` or skip the calling test module."""
    if importlib.util.find_spec('mmpretrain') is None:
        pytest.skip('mmpretrain is not installed (pip install -e '
                    '".[tests]" installs it)', allow_module_level=True)
    if 'mmpretrain.models' in sys.modules or _torchvision_works():
        return importlib.import_module('mmpretrain.models')
    standins = _standin_modules()
    sys.modules.update(standins)
    try:
        return importlib.import_module('mmpretrain.models')
    finally:
        for name in standins:
            sys.modules.pop(name, None)
