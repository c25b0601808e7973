"""Output folders and file paths that stay where they are meant to be.

:func:`prepare_output_folder` turns a bad ``--out`` (a file, a folder that cannot be
created or written) into one :class:`OutputError` sentence; :func:`child` builds a path
from a name (a school id) and refuses one that would leave its folder.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["OutputError", "child", "prepare_output_folder"]


class OutputError(ValueError):
    """An output folder or file name that cannot be used (the CLI exits with status 2)."""


def prepare_output_folder(path: str | os.PathLike[str]) -> Path:
    """Create ``path`` if needed and check that files can be written in it.

    Returns
    -------
    pathlib.Path
        The folder, resolved.

    Raises
    ------
    OutputError
        ``path`` is a file, or cannot be created or written.
    """
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"output folder {folder} exists and is not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # A real probe: permission bits do not tell (root, ACLs, read-only mounts).
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".write-test.")
        os.close(fd)
        os.unlink(probe)
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise OutputError(f"cannot write to output folder {folder}: {reason}") from None
    return folder.resolve()


def child(folder: Path, name: str) -> Path:
    """``folder / name``, refusing a name that is empty, a path or leaves ``folder``.

    Raises
    ------
    OutputError
        ``name`` contains a separator, is ``.``/``..`` or is absolute.
    """
    if not name or name in (".", "..") or "/" in name or "\\" in name or "\0" in name:
        raise OutputError(f"{name!r} cannot be used as a file name in {folder}")
    return folder / name
