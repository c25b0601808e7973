"""Atomic file writes.

Reports are regenerated in place. Writing straight into the destination would
leave a truncated PDF or HTML file behind if the process dies (or an exception
escapes) half way through, and a reader opening the file at that moment would
see garbage. These helpers write to a temporary file in the *same directory*
(so the final rename never crosses a file-system boundary) and then swap it in
with :func:`os.replace`, which is atomic on POSIX and Windows: readers see
either the complete old file or the complete new one.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["atomic_target", "atomic_write_bytes", "atomic_write_text", "write_csv"]


def _read_umask() -> int:
    # os.umask can only be read by setting it; do it once at import time,
    # when no other thread is creating files yet.
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _read_umask()


def _target_mode(path: Path) -> int:
    """Permission bits the final file should get.

    ``mkstemp`` creates files with mode 0600; a report must end up with the
    permissions an ordinary ``open(path, "w")`` would give it, or keep the
    permissions of the file it replaces.
    """
    try:
        return path.stat().st_mode & 0o7777
    except FileNotFoundError:
        return 0o666 & ~_UMASK


def _fsync_directory(directory: Path) -> None:
    # Persist the rename itself; not supported on every platform (Windows),
    # and a failure here does not make the written data wrong.
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def atomic_target(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it into place on success.

    For writers that want a file name (``DataFrame.to_csv``, ``ExcelWriter``,
    WeasyPrint). If the block raises, the temporary file is removed and an
    existing file at ``path`` is left untouched.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    mode = _target_mode(target)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    tmp_path = Path(tmp_name)
    try:
        yield tmp_path
        # Without fsync a crash right after os.replace can leave an empty
        # file on some file systems (ext4 delayed allocation).
        with open(tmp_path, "rb+") as handle:
            os.fsync(handle.fileno())
        os.chmod(tmp_path, mode)
        os.replace(tmp_path, target)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    _fsync_directory(target.parent)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically.

    Parameters
    ----------
    path : str or os.PathLike
        Destination file. Missing parent directories are created.
    data : bytes
        The complete new content of the file.

    Returns
    -------
    pathlib.Path
        The destination path.
    """
    with atomic_target(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def atomic_write_text(
    path: str | os.PathLike[str], text: str, *, encoding: str = "utf-8"
) -> Path:
    """Write ``text`` to ``path`` atomically.

    Parameters
    ----------
    path : str or os.PathLike
        Destination file. Missing parent directories are created.
    text : str
        The complete new content of the file. Newlines are written as they
        are (no platform translation), so output is byte-identical across
        operating systems.
    encoding : str, default "utf-8"
        Text encoding.

    Returns
    -------
    pathlib.Path
        The destination path.
    """
    return atomic_write_bytes(path, text.encode(encoding))


def write_csv(path: str | os.PathLike[str], frame: pd.DataFrame) -> Path:
    """Write a table as CSV for Excel users, atomically: UTF-8 with BOM, ``\\n`` line ends, no index.

    The BOM ("utf-8-sig") is what Excel needs to detect UTF-8 Chinese text.

    Returns
    -------
    pathlib.Path
        The destination path.
    """
    return atomic_write_text(path, frame.to_csv(index=False), encoding="utf-8-sig")
