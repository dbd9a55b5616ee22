"""A stand-in for ``mmcv._ext`` when only ``mmcv-lite`` is installed.

mmseg 1.2.2 imports ``mmcv.ops`` at import time (point sampling, focal loss), and
``mmcv.ops`` loads the compiled extension ``mmcv._ext``, which ``mmcv-lite`` does not
ship. None of those ops is needed by mmavs, so a module object that answers every
attribute look-up with a function raising :class:`MissingCompiledOpError` lets mmseg
import while keeping a clear failure if a compiled op is ever really called.

The stand-in is installed only when the real extension cannot be found, so users
with a full ``mmcv`` build keep their compiled ops.
"""
import importlib.machinery
import importlib.util
import sys
import types
from typing import Callable

STUB_NAME = 'mmcv._ext'


class MissingCompiledOpError(RuntimeError):
    """Raised when code calls a compiled mmcv op that this install lacks."""


class _MissingExtModule(types.ModuleType):
    """Module whose every public attribute is an op that raises when called."""

    is_mmavs_stub = True

    def __getattr__(self, name: str) -> Callable:
        if name.startswith('__'):
            raise AttributeError(name)

        def missing_op(*args, **kwargs):
            raise MissingCompiledOpError(
                f'mmcv compiled op "{name}" is not available: only mmcv-lite '
                'is installed. Install a full mmcv build (mmcv>=2.0,<2.2 with '
                'compiled ops) to use it; see docs/en/get_started.md.')

        missing_op.__name__ = name
        return missing_op


def real_ext_available() -> bool:
    """Whether a real compiled ``mmcv._ext`` can be imported."""
    existing = sys.modules.get(STUB_NAME)
    if existing is not None:
        return not getattr(existing, 'is_mmavs_stub', False)
    if importlib.util.find_spec('mmcv') is None:
        return False
    try:
        return importlib.util.find_spec(STUB_NAME) is not None
    except (ImportError, ValueError):
        return False


def install_mmcv_ext_stub() -> bool:
    """Register the stand-in ``mmcv._ext`` unless the real one exists.

    Returns:
        bool: True if the stand-in was installed (or already was), False when
        the real compiled extension is present and left untouched.
    """
    if real_ext_available():
        return False
    if STUB_NAME not in sys.modules:
        module = _MissingExtModule(STUB_NAME)
        module.__spec__ = importlib.machinery.ModuleSpec(
            STUB_NAME, loader=None, origin='mmavs stand-in')
        module.__file__ = __file__
        sys.modules[STUB_NAME] = module
    return True
