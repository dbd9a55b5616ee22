"""AtomicCheckpointHook: what a run leaves on disk; a full disk mid-save."""
import glob
import hashlib
import os
import os.path as osp
import sys

import pytest
from mmengine.config import Config
from mmengine.fileio.backends import LocalBackend
from mmengine.runner import Runner

from mmavs.engine.hooks import CheckpointSaveError
from mmavs.engine.hooks.atomic_checkpoint_hook import atomic_write_text
from mmavs.utils import safe_torch_load
from tiny_training import write_tiny_config


@pytest.fixture
def tiny_config(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    return write_tiny_config(tmp_path)


def runner_for(config, work_dir, epochs, resume=False):
    cfg = Config.fromfile(config)
    cfg.work_dir = str(work_dir)
    cfg.train_cfg.max_epochs = epochs
    cfg.resume = resume
    cfg.default_hooks.logger.interval = 10
    # mmengine keeps one visualizer per name: one per runner here.
    cfg.visualizer.name = f'visualizer_{work_dir}_{epochs}_{resume}'
    return Runner.from_cfg(cfg)


def digest(path):
    return hashlib.sha256(open(path, 'rb').read()).hexdigest()


def test_run_leaves_consistent_files(tiny_config, tmp_path):
    work = tmp_path / 'work'
    runner_for(tiny_config, work, 2).train()
    names = sorted(osp.basename(p) for p in glob.glob(str(work / '*.pth')))
    assert names == ['best_mIoU_protoB_epoch_2.pth', 'epoch_2.pth']
    assert not glob.glob(str(work / '.tmp-*'))
    latest = open(work / 'last_checkpoint').read()
    assert latest == str(work / 'epoch_2.pth')
    # Saved once, after the validation: it knows its own epoch's best.
    hub = safe_torch_load(latest)['message_hub']['runtime_info']
    assert hub['best_ckpt'] == str(work / 'best_mIoU_protoB_epoch_2.pth')
    # What it replaced, for a resume to delete if the run died before.
    assert sorted(hub['obsolete_ckpts']) == [
        str(work / 'best_mIoU_protoB_epoch_1.pth'), str(work / 'epoch_1.pth')]


def test_full_disk_keeps_previous_files(tiny_config, tmp_path, monkeypatch):
    work = tmp_path / 'work'
    runner_for(tiny_config, work, 1).train()
    before = {p: digest(p) for p in glob.glob(str(work / '*.pth'))}
    pointer = open(work / 'last_checkpoint').read()
    assert len(before) == 2

    def full_disk(self, obj, filepath):
        with open(filepath, 'wb') as f:  # half of it fits
            f.write(obj[:len(obj) // 2])
        raise OSError(28, os.strerror(28))

    monkeypatch.setattr(LocalBackend, 'put', full_disk)
    runner = runner_for(tiny_config, work, 2, resume=True)
    with pytest.raises(CheckpointSaveError) as info:
        runner.train()
    message = str(info.value)
    assert str(work / 'best_mIoU_protoB_epoch_2.pth') in message
    assert 'No space left on device' in message
    monkeypatch.undo()
    after = {p: digest(p) for p in glob.glob(str(work / '*.pth'))}
    assert after == before  # nothing deleted, nothing half-written
    assert not glob.glob(str(work / '.tmp-*'))
    assert open(work / 'last_checkpoint').read() == pointer
    for path in after:
        safe_torch_load(path)


def test_atomic_text_write_failure_keeps_old_text(tmp_path, monkeypatch):
    path = str(tmp_path / 'last_checkpoint')
    atomic_write_text(path, 'old')

    def fail(*args):
        raise OSError(28, os.strerror(28))

    monkeypatch.setattr(os, 'replace', fail)
    with pytest.raises(CheckpointSaveError, match='No space left'):
        atomic_write_text(path, 'new')
    assert open(path).read() == 'old'
    assert os.listdir(tmp_path) == ['last_checkpoint']
