import os

import pytest

from mmavs.utils.atomic_file import TMP_PREFIX, atomic_output


def test_commits_new_content(tmp_path):
    path = tmp_path / 'sub' / 'file.bin'
    with atomic_output(str(path)) as tmp:
        assert os.path.basename(tmp).startswith(TMP_PREFIX)
        with open(tmp, 'wb') as f:
            f.write(b'new')
    assert path.read_bytes() == b'new'
    assert os.listdir(path.parent) == ['file.bin']


def test_failure_keeps_old_content_and_leaves_no_partial_file(tmp_path):
    path = tmp_path / 'file.bin'
    path.write_bytes(b'old')
    with pytest.raises(OSError, match='No space'):
        with atomic_output(str(path)) as tmp:
            with open(tmp, 'wb') as f:
                f.write(b'half')
            raise OSError(28, 'No space left on device')
    assert path.read_bytes() == b'old'
    assert os.listdir(tmp_path) == ['file.bin']
