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

import numpy as np
import pandas as pd

from balance_metrics.common.errors import Problem
from balance_metrics.common.grouped import first_rows
from balance_metrics.contract.schoolkeys import column_words

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


def _plain(ids: list[str]) -> np.ndarray:
    """Ids that are surely safe file names: 5–100 ASCII letters, digits, ``-`` and ``_``
    (no forbidden character, dot, space or reserved name); whole-column on the bytes."""
    if not ids:
        return np.zeros(0, bool)
    joined = "\n".join(ids)
    buf = np.frombuffer(joined.encode("utf-8", "surrogatepass"), np.uint8)
    separator = buf == 10
    ends = np.flatnonzero(separator)
    if len(ends) != len(ids) - 1:
        return np.zeros(len(ids), bool)
    starts = np.concatenate([[0], ends + 1])
    ends = np.concatenate([ends, [len(buf)]])
    other = ~(_SAFE[buf] | separator)
    cum = np.concatenate([[0], np.cumsum(other)])
    length = ends - starts
    return (cum[ends] - cum[starts] == 0) & (length >= 5) & (length <= MAX_ID_LENGTH)


_SAFE = np.zeros(256, bool)
_SAFE[[ord(c) for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"]] = True


def _file_keys(ids: list[str]) -> list[str]:
    """:func:`file_key` of every id (one normalisation of the joined column when that splits back)."""
    keys = file_key("\x00".join(ids)).split("\x00") if ids else []
    return keys if len(keys) == len(ids) else [file_key(i) for i in ids]


def school_id_problems(schools: pd.DataFrame) -> list[Problem]:
    """Every school id that is not a safe file name, or that names the same file as another id."""
    ids = schools["school_id"]
    given, words = column_words(ids)
    texts = ids.to_numpy(object)[given].tolist()
    position = np.flatnonzero(given)
    short = words[given].view(np.uint8).reshape(len(texts), 8) if words is not None else None  # ASCII ids of ≤ 8 bytes
    rules: dict[int, str] = {}
    for i in np.flatnonzero(~(_plain(texts) if short is None else _plain_bytes(short))):  # ids outside the plain form only
        rule = file_name_rule(texts[i])
        if rule is not None:
            rules[int(i)] = rule
    usable = np.ones(len(texts), bool)
    usable[list(rules)] = False
    for i, j in _collisions(texts, usable, short):  # colliding ids only
        rules[i] = f"names the same report file as school_id '{texts[j]}' where case or character width is ignored (Windows, macOS)"
    sources, rows = schools["_source"].to_numpy(object), schools["_row"].to_numpy()
    return [Problem(str(sources[position[i]]), int(rows[position[i]]), "school_id", texts[i], rules[i]) for i in sorted(rules)]


def _plain_bytes(short: np.ndarray) -> np.ndarray:
    """:func:`_plain` of ids given as zero-padded rows of at most 8 ASCII bytes."""
    return (_SAFE[short] | (short == 0)).all(axis=1) & ((short != 0).sum(axis=1) >= 5)


def _collisions(texts: list[str], usable: np.ndarray, short: np.ndarray | None) -> list[tuple[int, int]]:
    """(id, first id naming the same file) of every usable id whose :func:`file_key` an
    earlier, different usable id has. For ASCII ids of at most 8 bytes the key is the id in
    lower case (NFKC leaves ASCII as it is), compared as one integer."""
    index = np.flatnonzero(usable)
    if short is not None:
        lowered = np.where((short >= 65) & (short <= 90), short + 32, short)[usable]
        keys = np.ascontiguousarray(lowered).view(np.int64).ravel()
        names = np.ascontiguousarray(short[usable]).view(np.int64).ravel()
    else:
        keys = np.array(_file_keys([texts[i] for i in index]), dtype=object)
        names = np.array([texts[i] for i in index], dtype=object)
    group, uniques = pd.factorize(keys)
    first = first_rows(group, len(uniques))
    clash = np.flatnonzero(names != names[first][group])
    return [(int(index[k]), int(index[first[group[k]]])) for k in clash]
