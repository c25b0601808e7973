"""A disk cache of each period's panel pieces (:class:`~.pieces.PeriodPieces`).

A quarterly run adds one period to the panel; the earlier periods' pieces are
read back instead of evaluated again. An entry is keyed by everything its
pieces depend on: the content of every file of the period folder, the
resolved standard, whether plan targets were asked for and the package's
source code (a fix to the engine must not serve yesterday's numbers). Entries
are pickles written only by this module (atomically) and read only from the
folder the caller names; a truncated or unreadable entry is rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import pickle
from functools import lru_cache
from pathlib import Path

from balance_metrics.analysis.monitoring.pieces import PeriodPieces
from balance_metrics.common.atomic import atomic_write_bytes
from balance_metrics.standard.loader import Standard

#: Entries kept per cache folder (the newest by modification time).
KEEP = 64
_CHUNK = 1 << 20


@lru_cache(maxsize=1)
def _code_digest() -> bytes:
    """SHA-256 of the package's source and standard files (read once per process)."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parents[2]
    for path in sorted([*package.rglob("*.py"), *package.rglob("*.toml")]):
        digest.update(str(path.relative_to(package)).encode())
        digest.update(path.read_bytes())
    return digest.digest()


def _file_digest(path: Path) -> bytes:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.digest()


def period_key(folder: Path, label: str, standard: Standard, with_plan_targets: bool) -> str:
    """32 hex digits naming one period's pieces (see the module docstring)."""
    digest = hashlib.sha256(_code_digest())
    digest.update(json.dumps([standard.name, list(standard.chain), standard.data], sort_keys=True, default=str).encode())
    digest.update(f"{label}|plan={with_plan_targets}".encode())
    for path in sorted(p for p in Path(folder).iterdir() if p.is_file() and not p.name.startswith((".", "~$"))):
        digest.update(path.name.encode())
        digest.update(_file_digest(path))
    return digest.hexdigest()[:32]


def entry(cache_dir: Path, key: str) -> Path:
    """The file holding the pieces of ``key``."""
    return Path(cache_dir) / f"period-{key}.pkl"


def read(path: Path) -> PeriodPieces | None:
    """The pieces stored at ``path``, or None (missing, truncated or not pieces: removed)."""
    if not path.is_file():
        return None
    try:
        with path.open("rb") as handle:
            pieces = pickle.load(handle)
    except Exception:  # noqa: BLE001 - a stale or truncated entry is rebuilt
        path.unlink(missing_ok=True)
        return None
    if not isinstance(pieces, PeriodPieces):
        path.unlink(missing_ok=True)
        return None
    path.touch()  # recently used: kept by prune()
    return pieces


def write(path: Path, pieces: PeriodPieces) -> None:
    """Store ``pieces`` at ``path`` atomically; an unwritable cache only costs a rebuild next time."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, pickle.dumps(pieces, protocol=pickle.HIGHEST_PROTOCOL))
    except OSError:
        pass


def prune(cache_dir: Path, keep: int = KEEP) -> None:
    """Remove all but the ``keep`` most recently used entries."""
    folder = Path(cache_dir)
    if not folder.is_dir():
        return
    entries = sorted(folder.glob("period-*.pkl"), key=lambda p: p.stat().st_mtime, reverse=True)
    for stale in entries[keep:]:
        stale.unlink(missing_ok=True)
