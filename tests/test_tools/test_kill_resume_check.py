"""tools/misc/kill_resume_check.py: kills during saves, resumed runs equal
to an uninterrupted one (tiny config, deterministic kill schedule)."""
import os
import subprocess
import sys

from conftest import REPO_ROOT
from tiny_training import write_tiny_config


def test_kills_during_saves_then_resume(tmp_path):
    config = write_tiny_config(tmp_path, epochs=2)
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=os.pathsep.join(
        [REPO_ROOT, str(tmp_path)]))
    # Half-way through writing the second file (epoch 1's regular
    # checkpoint), then between the commit of epoch 2 and the deletion of
    # what it replaces.
    result = subprocess.run(
        [sys.executable, 'tools/misc/kill_resume_check.py', config,
         '--work-dir', str(tmp_path / 'work'), '--schedule', 'write:1',
         'delete:0'],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-4000:]
    assert 'kill 1/2 (write:1): 1 checkpoints on disk, ok' in out
    assert 'OK: 2 kills' in out
    assert not (tmp_path / 'work').exists()  # cleaned up
