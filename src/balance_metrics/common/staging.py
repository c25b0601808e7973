"""Write a folder of files as one set: readers see the previous complete set or the new one.

:func:`write_set` writes into a staging folder beside the destination
(``.<name>.staging-<pid>``), adds ``manifest.json`` last (what the set is and which
files it holds), then swaps the staging folder in with two renames
(destination → ``.<name>.previous-<pid>``, staging → destination) and deletes the
previous set. A kill while writing leaves the destination untouched (the stale
staging folder is removed by the next run); a kill between the two renames, a
window of two system calls, leaves the previous set as ``.<name>.previous-<pid>``,
which the next run (or :func:`recover`) moves back. Tables of two runs are never
mixed, and tables a run no longer writes do not linger.

A destination that holds files the writer would not have written (say ``--out .``)
is refused rather than replaced.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from balance_metrics.common.paths import OutputError, prepare_output_folder

__all__ = ["MANIFEST", "recover", "write_set"]

MANIFEST = "manifest.json"


def _siblings(out: Path, kind: str) -> list[Path]:
    return sorted(out.parent.glob(f".{out.name}.{kind}-*"))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _owner(path: Path) -> int:
    try:
        return int(path.name.rsplit("-", 1)[1])
    except (IndexError, ValueError):
        return -1


def recover(out: Path) -> None:
    """Undo what a killed :func:`write_set` left beside ``out`` (other live writers' folders are kept)."""
    for previous in _siblings(out, "previous"):
        if _alive(_owner(previous)) and _owner(previous) != os.getpid():
            continue
        if not out.exists():
            os.rename(previous, out)  # killed between the two renames: restore the previous set
        else:
            shutil.rmtree(previous, ignore_errors=True)
    for staging in _siblings(out, "staging"):
        if not _alive(_owner(staging)) or _owner(staging) == os.getpid():
            shutil.rmtree(staging, ignore_errors=True)


def _check_replaceable(out: Path, expected: Iterable[str]) -> None:
    if not out.exists() or (out / MANIFEST).is_file():
        return
    if not out.is_dir():
        raise OutputError(f"output folder {out} exists and is not a folder")
    allowed = set(expected)
    foreign = sorted(p.name for p in out.iterdir() if p.name not in allowed)
    if foreign:
        shown = ", ".join(foreign[:5]) + (" …" if len(foreign) > 5 else "")
        raise OutputError(f"output folder {out} holds files this command did not write ({shown}); choose an empty or new folder")


def _fsync_tree(folder: Path) -> None:
    for path in folder.iterdir():
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_set(
    out: str | os.PathLike[str],
    write: Callable[[Path], list[Path]],
    *,
    expected: Iterable[str] = (),
    about: dict[str, Any] | None = None,
) -> list[Path]:
    """Write a set of files into ``out`` as a whole.

    Parameters
    ----------
    out : str or os.PathLike
        Destination folder; replaced as a whole.
    write : callable
        ``write(folder)`` writes the files into ``folder`` and returns their paths.
    expected : iterable of str
        File names a previous run of the same writer may have left in ``out`` (an ``out``
        holding other files is refused).
    about : dict, optional
        Extra fields of ``manifest.json`` (period, standard …).

    Returns
    -------
    list of Path
        The files in ``out``, manifest last.

    Raises
    ------
    OutputError
        ``out`` cannot be written, or holds files the writer did not write.
    """
    target = Path(out)
    prepare_output_folder(target.parent)
    target = target.parent.resolve() / target.name
    recover(target)
    written_names = set(expected) | {MANIFEST}
    _check_replaceable(target, written_names)
    staging = target.parent / f".{target.name}.staging-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        files = write(staging)
        names = [Path(f).name for f in files]
        manifest = {**(about or {}), "files": names, "written": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        (staging / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
        _fsync_tree(staging)
        if target.exists():
            previous = target.parent / f".{target.name}.previous-{os.getpid()}"
            os.rename(target, previous)
            os.rename(staging, target)
            shutil.rmtree(previous, ignore_errors=True)
        else:
            os.rename(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return [target / n for n in names] + [target / MANIFEST]
