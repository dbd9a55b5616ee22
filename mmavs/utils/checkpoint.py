"""Restricted loading of checkpoints and weight files on torch >= 2.6.

mmengine 0.10.7 calls ``torch.load`` without ``weights_only``; torch >= 2.6 then
refuses mmengine's own training checkpoints (``Unsupported global: ...
HistoryBuffer``). Instead of falling back to unrestricted unpickling, mmavs
replaces mmengine's local-file loader with one that always loads with
``weights_only=True`` and allows, besides tensors, exactly the extra objects an
mmengine checkpoint holds (the message hub's ``HistoryBuffer`` and the numpy
arrays and scalars inside it). Third-party weight files (backbones, VGGish,
converted checkpoints) go through the same restricted loader, so no file loaded
by mmavs can run code.
"""
import os.path as osp
import pickle
from typing import Any, List, Optional

import numpy as np
import torch
from mmengine.runner import CheckpointLoader


class CheckpointLoadError(RuntimeError):
    """A checkpoint file could not be loaded safely."""


def _numpy_globals() -> List[Any]:
    """Numpy objects that pickled arrays and scalars reference."""
    from numpy import dtypes
    multiarray = np._core.multiarray if hasattr(np, '_core') else np.core.multiarray
    reconstruct = multiarray._reconstruct
    scalar = multiarray.scalar
    entries = [np.ndarray, np.dtype, reconstruct, scalar,
               (reconstruct, 'numpy.core.multiarray._reconstruct'),
               (scalar, 'numpy.core.multiarray.scalar')]
    entries += [getattr(dtypes, name) for name in dir(dtypes)
                if name.endswith('DType')]
    return entries


# The statistics HistoryBuffer registers by default (its class-level registry
# is empty until an instance exists, so it cannot be consulted here).
HISTORY_BUFFER_METHODS = ('min', 'max', 'current', 'mean')


def _history_buffer_getattr(owner: Any, name: str) -> Any:
    """``getattr`` limited to what a pickled ``HistoryBuffer`` needs.

    Pickle protocol 2 (torch.save's default) stores the statistics methods of
    ``HistoryBuffer`` as ``getattr(HistoryBuffer, 'mean')``; a general
    ``getattr`` would let a file reach any attribute, so only those are served.
    """
    from mmengine.logging.history_buffer import HistoryBuffer
    if owner is HistoryBuffer and name in HISTORY_BUFFER_METHODS:
        return getattr(owner, name)
    raise pickle.UnpicklingError(
        f'refused getattr({owner!r}, {name!r}) while loading a checkpoint')


def checkpoint_safe_globals() -> List[Any]:
    """Objects beyond tensors that an mmengine training checkpoint holds."""
    from mmengine.logging.history_buffer import HistoryBuffer
    return [HistoryBuffer, (_history_buffer_getattr, 'builtins.getattr')
            ] + _numpy_globals()


def safe_torch_load(filename: str, map_location: Optional[Any] = None) -> Any:
    """``torch.load`` restricted to tensors and mmengine checkpoint objects.

    Args:
        filename: Path of a ``.pth`` file.
        map_location: As in :func:`torch.load`.

    Raises:
        FileNotFoundError: The file does not exist.
        CheckpointLoadError: The file is corrupt or references objects that
            the restricted loader does not allow.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint file not found: {filename}')
    try:
        with torch.serialization.safe_globals(checkpoint_safe_globals()):
            return torch.load(filename, map_location=map_location,
                              weights_only=True)
    except Exception as err:  # torch raises several types for bad files
        raise CheckpointLoadError(
            f'cannot load checkpoint {filename}: {_reason(err)}. mmavs loads '
            'checkpoints with weights_only=True; a file that is corrupt or '
            'that pickles arbitrary Python objects is refused.') from err


def _reason(err: Exception) -> str:
    """The informative line of a torch load error (torch adds long advice)."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    detail = [line for line in lines if 'WeightsUnpickler error' in line]
    return f'{err.__class__.__name__}: ' + (detail or lines or [''])[0]


def _load_local_checkpoint(filename: str, map_location=None) -> Any:
    return safe_torch_load(filename, map_location)


def register_safe_checkpoint_loader() -> None:
    """Make mmengine load local checkpoints through :func:`safe_torch_load`."""
    CheckpointLoader.register_scheme(
        prefixes='', loader=_load_local_checkpoint, force=True)
