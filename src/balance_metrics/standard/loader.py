"""Loading and merging standards: :func:`list_standards`, :func:`load_standard`.

A standard is a TOML file. ``national-2017`` is complete; local standards name
the standard they ``extend`` and list only what differs; a user's override file
does the same (``extends = "beichen-2021"``). Tables merge key by key, so an
override of one threshold keeps every other. Numbers that must compare exactly
are written as strings ("0.85") and read as :class:`fractions.Fraction`.

The merged tables are checked whole and parsed into the typed model
(:mod:`~balance_metrics.standard.checking`, :mod:`~balance_metrics.standard.model`)
before anything is computed.

Loading is cached by the bytes of every file of the ``extends`` chain: a
standard whose files are unchanged is returned as the same (frozen, shared)
:class:`Standard` object, so its mappings must be treated as read-only.
"""

from __future__ import annotations

import copy
import tomllib
from collections import OrderedDict
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from balance_metrics.common.errors import StandardError
from balance_metrics.standard.checking import parse
from balance_metrics.standard.model import Standard, exact

__all__ = ["DEFAULT_STANDARD", "Standard", "exact", "list_standards", "load_standard"]

DEFAULT_STANDARD = "national-2017"
_PACKAGE_DIR = "data"


def _builtin_path(name: str) -> Path | None:
    candidate = resources.files("balance_metrics.standard").joinpath(_PACKAGE_DIR, f"{name}.toml")
    return Path(str(candidate)) if candidate.is_file() else None


#: Standards kept by :func:`load_standard` (the most recently used).
CACHE_SIZE = 32
_loaded: OrderedDict[tuple[str, tuple[tuple[str, bytes], ...]], Standard] = OrderedDict()


@lru_cache(maxsize=CACHE_SIZE)
def _parse_toml(content: bytes, where: str) -> Mapping[str, Any]:
    """The TOML document ``content`` (cached by its bytes: never modify the result)."""
    try:
        return tomllib.loads(content.decode("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise StandardError(f"{where}: not valid TOML: {exc}") from exc


def _read_bytes(path: Path) -> tuple[bytes, Mapping[str, Any]]:
    """A standard file's bytes and its parsed (shared, read-only) tables."""
    content = path.read_bytes()
    return content, _parse_toml(content, str(path))


def _read(path: Path) -> dict[str, Any]:
    """A standard file's tables (a copy the caller may change)."""
    return copy.deepcopy(dict(_read_bytes(path)[1]))


def _merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


class Origins(dict[tuple[str, ...], str]):
    """Key path -> the file that set it; ``files`` in merge order, base first."""

    files: list[str]

    def __init__(self) -> None:
        super().__init__()
        self.files = []


def _record_origins(node: Mapping[str, Any], label: str, origins: Origins, prefix: tuple[str, ...] = ()) -> None:
    """Which file set each key: values by the last file, tables by the first."""
    if not prefix:
        origins.files.append(label)
    for key, value in node.items():
        path = (*prefix, str(key))
        if isinstance(value, Mapping):
            origins.setdefault(path, label)
            _record_origins(value, label, origins, path)
        else:
            origins[path] = label


def _locate(name_or_path: str | Path, seen: tuple[str, ...]) -> tuple[Path, str]:
    """The file of a standard name or path, and its label (for messages and origins)."""
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.exists():
        if not path.is_file():
            raise StandardError(f"standard file not found: {path}")
        label = str(path)
    else:
        found = _builtin_path(str(name_or_path))
        if found is None:
            known = ", ".join(list_standards()["name"])
            raise StandardError(f"unknown standard {name_or_path!r}; built-in standards: {known}; or give a .toml file")
        path, label = found, str(name_or_path)
    if label in seen:
        raise StandardError(f"standard {label} extends itself through {' -> '.join(seen)}")
    return path, label


def _chain_files(name_or_path: str | Path) -> tuple[tuple[str, bytes], ...]:
    """(label, bytes) of every file of the ``extends`` chain, the standard's own first."""
    files: list[tuple[str, bytes]] = []
    seen: tuple[str, ...] = ()
    current: str | Path | None = name_or_path
    while current:
        path, label = _locate(current, seen)
        content, own = _read_bytes(path)
        files.append((label, content))
        seen = (*seen, label)
        current = own.get("extends")
    return tuple(files)


def _resolve(name_or_path: str | Path, seen: tuple[str, ...]) -> tuple[dict[str, Any], tuple[str, ...], Origins]:
    path, label = _locate(name_or_path, seen)
    own = _read(path)
    parent = own.get("extends")
    if not parent:
        origins = Origins()
        _record_origins(own, label, origins)
        return own, (own.get("name", label),), origins
    base, chain, origins = _resolve(parent, (*seen, label))
    _record_origins(own, label, origins)
    return _merge(base, own), (*chain, own.get("name", label)), origins


def load_standard(name_or_path: str | Path | Standard = DEFAULT_STANDARD) -> Standard:
    """Load a built-in standard by name or a TOML file by path.

    Parameters
    ----------
    name_or_path : str, Path or Standard
        ``"national-2017"``, ``"tianjin-2021"``, ``"beichen-2021"``, or the path
        of a user's TOML file that ``extends`` one of them. A :class:`Standard`
        is returned unchanged.

    Raises
    ------
    StandardError
        Unknown name, unreadable file, a cycle of ``extends``; or, listing
        every problem at once (``error.problems``: file, key, value, rule),
        a part missing, malformed or inconsistent.

    Notes
    -----
    Cached by the bytes of every file of the chain (the :data:`CACHE_SIZE`
    most recently used): loading an unchanged standard again returns the same
    object. :class:`Standard` is frozen; its mappings are shared between
    callers and must not be modified. A changed file is read and checked again.
    """
    if isinstance(name_or_path, Standard):
        return name_or_path
    key = (str(name_or_path), _chain_files(name_or_path))
    if key in _loaded:
        _loaded.move_to_end(key)
        return _loaded[key]
    data, chain, origins = _resolve(name_or_path, ())
    parts = parse(data, origins, str(name_or_path))
    standard = Standard(
        name=str(data.get("name", name_or_path)),
        title=str(data.get("title", "")),
        version=str(data.get("version", "")),
        chain=chain,
        data=data,
        **parts,
    )
    _loaded[key] = standard
    while len(_loaded) > CACHE_SIZE:
        _loaded.popitem(last=False)
    return standard


def list_standards() -> pd.DataFrame:
    """The built-in standards: name, title, version, extends."""
    folder = resources.files("balance_metrics.standard").joinpath(_PACKAGE_DIR)
    rows = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            data = tomllib.loads(entry.read_text(encoding="utf-8"))
            rows.append(
                {
                    "name": data.get("name", entry.name[:-5]),
                    "title": data.get("title", ""),
                    "version": data.get("version", ""),
                    "extends": data.get("extends", ""),
                }
            )
    return pd.DataFrame(rows, columns=["name", "title", "version", "extends"])
