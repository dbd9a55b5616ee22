"""Load AVSBench ``.pkl`` audio features without running arbitrary code.

The released log-mel files are plain ``pickle.dump`` s of a float32 tensor. Such a
pickle references only ``torch._utils._rebuild_tensor_v2``,
``torch.storage._load_from_bytes`` and ``collections.OrderedDict``. The unpickler
below resolves exactly those names and refuses every other global. The storage
bytes are themselves a (legacy) torch pickle, so they are decoded with
``torch.load(weights_only=True)`` rather than torch's unrestricted
``_load_from_bytes``.
"""
import collections
import io
import pickle
from typing import Any, BinaryIO

import torch


class UnsafePickleError(pickle.UnpicklingError):
    """The pickle references an object outside the allowed tensor set."""


def _storage_from_bytes(data: bytes) -> Any:
    return torch.load(io.BytesIO(data), weights_only=True)


def _rebuild_tensor(storage, storage_offset, size, stride, requires_grad=False,
                    backward_hooks=None, metadata=None):
    # Gradients and hooks are irrelevant for features: drop them.
    return torch._utils._rebuild_tensor(storage, storage_offset, size, stride)


_ALLOWED = {
    ('torch._utils', '_rebuild_tensor_v2'): _rebuild_tensor,
    ('torch.storage', '_load_from_bytes'): _storage_from_bytes,
    ('collections', 'OrderedDict'): collections.OrderedDict,
}


class TensorOnlyUnpickler(pickle.Unpickler):
    """An unpickler that can rebuild CPU tensors and nothing else."""

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise UnsafePickleError(
                f'refused to load global "{module}.{name}": only tensor data '
                'is allowed') from None

    def persistent_load(self, pid: Any) -> Any:
        raise UnsafePickleError('persistent ids are not allowed')


def load_tensor_pickle(file: BinaryIO) -> torch.Tensor:
    """Unpickle a tensor from an open binary file, refusing anything else.

    Raises:
        UnsafePickleError: The pickle references a disallowed global or
            does not hold a tensor.
    """
    obj = TensorOnlyUnpickler(file).load()
    if not isinstance(obj, torch.Tensor):
        raise UnsafePickleError(
            f'expected a pickled tensor, found {type(obj).__name__}')
    return obj.detach()
