"""School ids become file names (``schools/<id>.html``): check they are safe ones.

An id must be usable as one file name on Linux, macOS and Windows without leaving the
folder it is written to: no path separators or characters Windows forbids, not ``.`` /
``..`` or anything starting with a dot, no drive or absolute path, no reserved device
name (``CON``, ``NUL``, ``COM1`` …), no trailing dot or space, and at most
:data:`MAX_ID_LENGTH` characters. Two ids must not name the same file on a file
system that ignores case or Unicode width (``bc-p01`` and ``BC-P01``, ``Ｐ1`` and ``P1``).
"""

from __future__ import annotations

import re
import unicodedata

import pandas as pd

from balance_metrics.common.errors import Problem

MAX_ID_LENGTH = 100
_FORBIDDEN = re.compile(r'[/\\:*?"<>|\x00-\x1f\x7f]')
_RESERVED = frozenset({"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))})


def file_name_rule(identifier: str) -> str | None:
    """Why ``identifier`` cannot be used as a file name, or None when it can."""
    bad = _FORBIDDEN.search(identifier)
    if bad:
        shown = repr(bad.group()) if bad.group().isprintable() else f"control character {ord(bad.group()):#04x}"
        return f"an id is used as a file name and must not contain {shown} (nor / \\ : * ? \" < > |)"
    if identifier.startswith("."):
        return "an id is used as a file name and must not start with '.'"
    if identifier.endswith((".", " ")):
        return "an id is used as a file name and must not end with '.' or a space"
    if identifier.split(".")[0].strip().lower() in _RESERVED:
        return "an id is used as a file name and must not be a reserved device name (CON, PRN, AUX, NUL, COM1–9, LPT1–9)"
    if len(identifier) > MAX_ID_LENGTH:
        return f"an id is used as a file name and must be at most {MAX_ID_LENGTH} characters"
    return None


def file_key(identifier: str) -> str:
    """The file a name lands on where case and character width are ignored (Windows, macOS)."""
    return unicodedata.normalize("NFKC", identifier).casefold()


def school_id_problems(schools: pd.DataFrame) -> list[Problem]:
    """Every school id that is not a safe file name, or that names the same file as another id."""
    problems = []
    first: dict[str, str] = {}
    for source, row, identifier in zip(schools["_source"], schools["_row"], schools["school_id"], strict=True):
        if identifier is None or identifier is pd.NA:
            continue
        rule = file_name_rule(identifier)
        if rule is not None:
            problems.append(Problem(str(source), int(row), "school_id", identifier, rule))
            continue
        key = file_key(identifier)
        other = first.setdefault(key, identifier)
        if other != identifier:
            problems.append(Problem(str(source), int(row), "school_id", identifier, f"names the same report file as school_id '{other}' where case or character width is ignored (Windows, macOS)"))
    return problems
