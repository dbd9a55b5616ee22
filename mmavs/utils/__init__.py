from .checkpoint import (CheckpointLoadError, CheckpointMismatchError,
                         check_checkpoint_fits, checkpoint_config,
                         load_model_weights, register_safe_checkpoint_loader,
                         safe_torch_load)
from .mmcv_ext_stub import MissingCompiledOpError, install_mmcv_ext_stub
from .safe_pickle import UnsafePickleError, load_tensor_pickle

__all__ = [
    'CheckpointLoadError', 'CheckpointMismatchError', 'check_checkpoint_fits',
    'checkpoint_config', 'load_model_weights',
    'register_safe_checkpoint_loader', 'safe_torch_load',
    'MissingCompiledOpError', 'install_mmcv_ext_stub', 'UnsafePickleError',
    'load_tensor_pickle'
]
