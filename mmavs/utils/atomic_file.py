"""Writing a file so that its path holds the old or the new content, never
half of one: a hidden temporary file beside it, flushed to the disk, then
renamed over it (``os.replace`` is atomic on POSIX)."""
import os
import os.path as osp
from contextlib import contextmanager
from typing import Iterator

TMP_PREFIX = '.tmp-'  # hidden, so that globs of *.pth never see a partial file


def tmp_name(filename: str) -> str:
    """The hidden temporary name ``filename`` is written under first."""
    return f'{TMP_PREFIX}{os.getpid()}-{filename}'


def fsync_dir(path: str) -> None:
    """Make a rename or deletion in ``path`` durable (where supported)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def fsync_file(path: str) -> None:
    """Flush a written file's data to the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def commit(tmp_path: str, final_path: str) -> None:
    """fsync ``tmp_path`` and rename it over ``final_path``."""
    fsync_file(tmp_path)
    os.replace(tmp_path, final_path)
    fsync_dir(osp.dirname(final_path) or '.')


def discard(path: str) -> None:
    """Remove ``path`` if it exists."""
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


@contextmanager
def atomic_output(path: str) -> Iterator[str]:
    """Yield the temporary path to write ``path``'s new content to; commit
    it when the block ends, remove it if the block raises."""
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp_path = osp.join(folder, tmp_name(osp.basename(path)))
    try:
        yield tmp_path
        commit(tmp_path, path)
    except BaseException:
        discard(tmp_path)
        raise
