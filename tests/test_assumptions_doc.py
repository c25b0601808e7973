"""docs/assumptions.md lists every entry the standard files mark [C] (issue #12)."""

from __future__ import annotations

import re
from importlib import resources

from conftest import REPO

_TABLE = re.compile(r"^\s*\[([^\]]+)\]\s*$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_]+)\s*=")


def marked_entries(text: str) -> set[str]:
    """Dotted paths of the [C]-marked entries of one TOML file.

    A [C] on a ``key = …`` line marks ``table.key``; on a comment line, the next
    key (or table) below it; a ``note`` or ``source`` key marks its table.
    """
    found, table, pending = set(), "", False
    for line in text.splitlines():
        header = _TABLE.match(line)
        if header:
            table = header.group(1)
            if pending:
                found.add(table)
                pending = False
            continue
        key = _KEY.match(line)
        marked = "[C]" in line
        if key:
            if marked or pending:
                name = key.group(1)
                found.add(table if name in ("note", "source") else f"{table}.{name}" if table else name)
            pending = False
        elif marked and line.lstrip().startswith("#"):
            pending = True
    return found


def documented(path: str, doc: str) -> bool:
    """The entry, or a table containing it, is named in backticks."""
    parts = path.split(".")
    return any(f"`{'.'.join(parts[:n])}`" in doc for n in range(len(parts), 0, -1))


def test_every_marked_entry_is_documented():
    doc = (REPO / "docs" / "assumptions.md").read_text(encoding="utf-8")
    folder = resources.files("balance_metrics.standard").joinpath("data")
    missing = []
    for entry in folder.iterdir():
        if entry.name.endswith(".toml"):
            missing += [f"{entry.name}: {path}" for path in sorted(marked_entries(entry.read_text(encoding="utf-8")))
                        if not documented(path, doc)]
    assert not missing, "docs/assumptions.md lacks: " + "; ".join(missing)


def test_marked_entries_parser():
    text = '[a]\nx = 1  # [C] why\n# [C] next one\ny = 2\nz = 3\n[b.c]\nnote = "[C] cost"\n# [C] before a table\n[d]\n'
    assert marked_entries(text) == {"a.x", "a.y", "b.c", "d"}
