import os

import pytest
import torch
from mmengine.logging import MessageHub
from mmengine.runner.checkpoint import _load_checkpoint, save_checkpoint

from mmavs.utils import CheckpointLoadError, safe_torch_load


class _RunsCode:

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker, ))


def mmengine_style_checkpoint():
    """What mmengine's Runner saves: weights plus message hub history."""
    hub = MessageHub.get_instance('test_checkpoint')
    hub.update_scalar('train/loss', 0.5)
    hub.update_scalar('train/loss', torch.tensor(0.25))
    hub.update_info('iter', 3)
    import numpy as np
    hub.update_info('np_scalar', np.float64(1.5))
    return dict(
        meta=dict(epoch=1, iter=3, seed=0, mmengine_version='0.10.7'),
        state_dict=dict(weight=torch.randn(2, 2)),
        message_hub=hub.state_dict(),
        optimizer=dict(state={}, param_groups=[dict(lr=1e-4, params=[0])]))


def test_mmengine_checkpoint_loads_with_weights_only(tmp_path):
    path = str(tmp_path / 'epoch_1.pth')
    checkpoint = mmengine_style_checkpoint()
    save_checkpoint(checkpoint, path)
    loaded = _load_checkpoint(path, map_location='cpu')  # mmengine's entry
    assert torch.equal(loaded['state_dict']['weight'],
                       checkpoint['state_dict']['weight'])
    history = loaded['message_hub']['log_scalars']['train/loss']
    assert history.current() == pytest.approx(0.25)


def test_plain_weight_file_loads(tmp_path):
    path = str(tmp_path / 'backbone.pth')
    torch.save({'conv.weight': torch.ones(1)}, path)
    assert safe_torch_load(path)['conv.weight'].item() == 1


def test_code_in_checkpoint_is_refused(tmp_path):
    path = str(tmp_path / 'evil.pth')
    marker = str(tmp_path / 'pwned')
    torch.save({'state_dict': {}, 'payload': _RunsCode(marker)}, path)
    with pytest.raises(CheckpointLoadError, match='evil.pth'):
        _load_checkpoint(path, map_location='cpu')
    assert not os.path.exists(marker)


def test_corrupt_and_missing_files_are_named(tmp_path):
    path = tmp_path / 'broken.pth'
    path.write_bytes(b'not a checkpoint')
    with pytest.raises(CheckpointLoadError, match='broken.pth'):
        safe_torch_load(str(path))
    with pytest.raises(FileNotFoundError, match='absent.pth'):
        safe_torch_load(str(tmp_path / 'absent.pth'))


def test_getattr_is_limited_to_history_buffer_methods(tmp_path):

    from mmengine.logging.history_buffer import HistoryBuffer

    class _ReachesGlobals:
        # First step of escaping through attributes: HistoryBuffer.__init__.

        def __reduce__(self):
            return (getattr, (HistoryBuffer, '__init__'))

    path = str(tmp_path / 'sneaky.pth')
    torch.save({'x': _ReachesGlobals()}, path)
    with pytest.raises(CheckpointLoadError, match='sneaky.pth'):
        safe_torch_load(path)


def test_mmengine_checkpoint_loads_in_a_fresh_process(tmp_path):
    # HistoryBuffer's method registry is empty until an instance exists:
    # loading must not depend on it (as in a fresh `tools/test.py`).
    import subprocess
    import sys
    path = str(tmp_path / 'epoch_1.pth')
    save_checkpoint(mmengine_style_checkpoint(), path)
    code = ('import mmavs\n'
            'from mmengine.runner.checkpoint import _load_checkpoint\n'
            f'ckpt = _load_checkpoint({path!r}, map_location="cpu")\n'
            'print(sorted(ckpt["message_hub"]["log_scalars"]))\n')
    result = subprocess.run([sys.executable, '-c', code], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "['train/loss']" in result.stdout
