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
from typing import Any, List, Optional, Sequence

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


# --------------------------------------------------------------------------
# Strict loading of trained models: a checkpoint of another model (other
# shapes, foreign or missing keys) must not load into a partly random model.

class CheckpointMismatchError(RuntimeError):
    """A checkpoint's weights do not fit the model it is loaded into."""


def checkpoint_state_dict(checkpoint: Any) -> dict:
    """The weights of a loaded checkpoint, ``module.`` prefixes removed.

    Accepts mmengine checkpoints (``{'state_dict': ..., 'meta': ...}``) and
    plain state dicts, as mmengine's ``_load_checkpoint_to_model`` does.
    """
    state = checkpoint.get('state_dict', checkpoint) \
        if isinstance(checkpoint, dict) else checkpoint
    if not isinstance(state, dict):
        raise CheckpointMismatchError(
            f'the checkpoint holds a {type(state).__name__}, not a state dict')
    return {(k[len('module.'):] if k.startswith('module.') else k): v
            for k, v in state.items()}


def checkpoint_config(checkpoint: Any) -> Optional[str]:
    """The config a checkpoint's meta names, if any.

    Converted checkpoints store the config path as ``meta['config']``; mmavs
    training checkpoints as ``meta['config_file']`` (written by
    :class:`mmavs.engine.StrictLoadHook`); any mmengine checkpoint has an
    ``experiment_name`` of ``<config stem>_<timestamp>``.
    """
    meta = checkpoint.get('meta') if isinstance(checkpoint, dict) else None
    if not isinstance(meta, dict):
        return None
    for key in ('config_file', 'config'):
        value = meta.get(key)
        # mmengine's own meta['config'] may hold a config's text.
        if isinstance(value, str) and value and '\n' not in value:
            return value
    name = meta.get('experiment_name')
    if isinstance(name, str) and name:
        return f'experiment {name}'
    return None


def compare_state_dict(model: torch.nn.Module, state: dict,
                       allow_missing: Sequence[str] = ()) -> tuple:
    """Keys of ``model`` missing from ``state``, keys of ``state`` unknown to
    ``model``, and ``(key, checkpoint shape, model shape)`` of mismatches.

    Args:
        model: The model.
        state: A state dict (see :func:`checkpoint_state_dict`).
        allow_missing: Key prefixes that may be missing.
    """
    expected = model.state_dict()
    missing = [k for k in expected if k not in state
               and not k.startswith(tuple(allow_missing))]
    unexpected = [k for k in state if k not in expected]
    mismatched = [
        (k, tuple(v.shape), tuple(expected[k].shape))
        for k, v in state.items() if k in expected and hasattr(v, 'shape')
        and tuple(v.shape) != tuple(expected[k].shape)
    ]
    return missing, unexpected, mismatched


def describe_mismatch(source: str, missing: List[str], unexpected: List[str],
                      mismatched: List[tuple], config: Optional[str],
                      first: int = 5) -> str:
    """One message: counts, the first few keys of each kind, the config."""

    def some(items):
        shown = ', '.join(items[:first])
        return shown + (f', ... ({len(items) - first} more)'
                        if len(items) > first else '')

    parts = []
    if missing:
        parts.append(f'{len(missing)} missing keys (in the model, not in '
                     f'the checkpoint): {some(missing)}')
    if unexpected:
        parts.append(f'{len(unexpected)} unexpected keys (in the checkpoint, '
                     f'not in the model): {some(unexpected)}')
    if mismatched:
        parts.append(f'{len(mismatched)} keys of another shape: ' + some(
            [f'{k} {list(c)} vs model {list(m)}' for k, c, m in mismatched]))
    text = (f'checkpoint {source} does not match the model: '
            + '; '.join(parts) + '.')
    if config:
        text += f' The checkpoint was made for {config}.'
    return text


NON_STRICT_HINT = ('Use the config the checkpoint was trained with, or pass '
                   '--non-strict (strict=False) to load the matching '
                   'weights only and keep the rest random.')


def check_checkpoint_fits(model: torch.nn.Module, checkpoint: Any,
                          source: str, strict: bool = True,
                          allow_missing: Sequence[str] = ()) -> Optional[str]:
    """Raise (strict) or return a warning when a checkpoint does not fit.

    Returns:
        str or None: The mismatch message when not strict, else None.

    Raises:
        CheckpointMismatchError: ``strict`` and any key is missing,
            unexpected or of another shape; the message names the first
            few of each kind, their counts and the config the checkpoint's
            meta names.
    """
    missing, unexpected, mismatched = compare_state_dict(
        model, checkpoint_state_dict(checkpoint), allow_missing)
    if not (missing or unexpected or mismatched):
        return None
    message = describe_mismatch(source, missing, unexpected, mismatched,
                                checkpoint_config(checkpoint))
    if strict:
        raise CheckpointMismatchError(f'{message} {NON_STRICT_HINT}')
    return message


def load_model_weights(model: torch.nn.Module, filename: str,
                       map_location: Any = 'cpu',
                       strict: bool = True) -> dict:
    """Load a trained checkpoint into ``model``, strictly by default.

    Args:
        model: The model (not wrapped).
        filename: Checkpoint path (read with :func:`safe_torch_load` for
            local files) or any URL mmengine reads.
        map_location: As in :func:`torch.load`.
        strict: Fail on any missing, unexpected or mismatched key
            (:class:`CheckpointMismatchError`); ``False`` loads the keys
            that fit and logs what did not.

    Returns:
        dict: The loaded checkpoint.
    """
    from mmengine.logging import print_log
    from mmengine.runner.checkpoint import (_load_checkpoint,
                                            _load_checkpoint_to_model)
    checkpoint = _load_checkpoint(filename, map_location=map_location)
    warning = check_checkpoint_fits(model, checkpoint, filename, strict)
    if warning:
        print_log(f'non-strict load: {warning}', logger='current', level=30)
    state = checkpoint_state_dict(checkpoint)
    expected = model.state_dict()
    # Mismatched shapes are skipped (torch would raise on them).
    state = {k: v for k, v in state.items() if k not in expected
             or not hasattr(v, 'shape') or v.shape == expected[k].shape}
    _load_checkpoint_to_model(model, dict(state_dict=state), strict=False)
    return checkpoint
