import io
import os
import pickle

import pytest
import torch

from mmavs.utils import UnsafePickleError, load_tensor_pickle


class _RunsCode:

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker, ))


class _StorageBytes:
    """Pickles as a call of torch's storage loader on arbitrary bytes."""

    def __init__(self, data):
        self.data = data

    def __reduce__(self):
        return (torch.storage._load_from_bytes, (self.data, ))


def test_loads_avsbench_style_tensor_pickle():
    # AVSBench pickled float32 tensors that require grad.
    tensor = torch.randn(5, 1, 96, 64, requires_grad=True)
    loaded = load_tensor_pickle(io.BytesIO(pickle.dumps(tensor)))
    assert loaded.dtype == torch.float32 and not loaded.requires_grad
    assert torch.equal(loaded, tensor.detach())


def test_refuses_code_execution(tmp_path):
    marker = str(tmp_path / 'pwned')
    with pytest.raises(UnsafePickleError, match='mkdir'):
        load_tensor_pickle(io.BytesIO(pickle.dumps(_RunsCode(marker))))
    assert not os.path.exists(marker)


def test_refuses_code_inside_storage_bytes(tmp_path):
    # The storage payload is itself a pickle: it must be restricted too.
    marker = str(tmp_path / 'pwned')
    payload = pickle.dumps(_StorageBytes(pickle.dumps(_RunsCode(marker))))
    assert b'_load_from_bytes' in payload
    with pytest.raises(pickle.UnpicklingError):
        load_tensor_pickle(io.BytesIO(payload))
    assert not os.path.exists(marker)


def test_refuses_non_tensor():
    with pytest.raises(UnsafePickleError, match='expected a pickled tensor'):
        load_tensor_pickle(io.BytesIO(pickle.dumps({'a': 1})))
