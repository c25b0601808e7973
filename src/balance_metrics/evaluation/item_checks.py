"""One item's checks, district by district: the check columns as arrays, the
rows of each item, status codes and the item's combined status per district.

Whole-column: an item's checks are a slice (or positions) of the whole check
table, and every per-district figure is a ``np.bincount`` over their district
positions. The codes of text columns (:func:`run_codes`, :func:`few_codes`)
avoid hashing the millions of texts that repeat in runs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from balance_metrics.common.grouped import join_by_group
from balance_metrics.evaluation.checks import DATA_MISSING, FAIL, MISSING, NOT_APPLICABLE, PASS

#: Check parts that are evidence documents (see :func:`balance_metrics.evaluation.evidence.evidence_rule`).
EVIDENCE_PARTS = ("document", "evidence")


# Status codes of the summary (what is not among them is coded len(STATUSES)).
STATUSES = (PASS, FAIL, MISSING, DATA_MISSING, NOT_APPLICABLE)
_PASS, _FAIL, _MISSING, _DATA_MISSING, _NA = range(len(STATUSES))


def status_codes(status: np.ndarray) -> np.ndarray:
    """Each check's status as an int8 code into :data:`STATUSES` (anything else, a missing
    value too: len(STATUSES)); compared with each status, after the first only the rows left."""
    status = np.asarray(status, dtype=object)
    codes = np.full(len(status), len(STATUSES), dtype=np.int8)
    same = status == STATUSES[0]
    codes[same] = 0
    rest = np.flatnonzero(~same)
    for k, text in enumerate(STATUSES[1:], start=1):  # a loop over the four other statuses
        if not rest.size:
            break
        same = status[rest] == text
        codes[rest[same]] = k
        rest = rest[~same]
    return codes


def item_rows(item_ids: np.ndarray) -> dict[object, np.ndarray | slice]:
    """Item id -> its rows: a slice when each item's checks are one block (as
    :func:`run_items_whole` gives them; found by comparing neighbours, no hashing),
    else positions (stable)."""
    if not len(item_ids):
        return {}
    change = np.flatnonzero(item_ids[1:] != item_ids[:-1]) + 1
    starts, ends = np.r_[0, change], np.r_[change, len(item_ids)]
    names = item_ids[starts].tolist()
    if len(set(names)) == len(names):
        return {name: slice(int(s), int(e)) for name, s, e in zip(names, starts, ends)}
    codes, uniques = pd.factorize(item_ids)
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(uniques) + 1))
    return {name: order[bounds[k]:bounds[k + 1]] for k, name in enumerate(uniques)}


class CheckColumns(dict):
    """The check columns as arrays, each taken from the frame when first asked
    for (a status needs three of the fourteen), plus ``_status`` (codes) and
    ``_where`` (district positions)."""

    def __init__(self, checks: pd.DataFrame, where: np.ndarray):
        super().__init__(_where=where)
        self.checks = checks

    def __missing__(self, key: str) -> np.ndarray:
        if key == "_status":
            value = status_codes(self["status"])
        else:
            column = self.checks[key]
            value = column.to_numpy(float if column.dtype == float else object)
        self[key] = value
        return value


class ItemChecks:
    """One item's checks: row positions (or a slice) into the whole check columns
    (taken when a column is asked for) and each row's district position (0 … n − 1)."""

    def __init__(self, base: dict[str, np.ndarray], rows: np.ndarray | slice, n: int):
        self.base, self.rows, self.n = base, rows, n
        self.where = base["_where"][rows]
        self._taken: dict[str, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.where)

    def __getitem__(self, key: object) -> object:
        if isinstance(key, str):
            if key not in self._taken:
                self._taken[key] = self.base[key][self.rows]
            return self._taken[key]
        rows = np.arange(self.rows.start, self.rows.stop)[key] if isinstance(self.rows, slice) else self.rows[key]
        return ItemChecks(self.base, rows, self.n)

    def _code_is(self, *codes: int) -> np.ndarray:
        key = "_is" + ",".join(map(str, codes))
        if key not in self._taken:
            code = self["_status"]
            self._taken[key] = code == codes[0] if len(codes) == 1 else np.isin(code, codes)
        return self._taken[key]

    @property
    def fail(self) -> np.ndarray:
        return self._code_is(_FAIL)

    @property
    def missing(self) -> np.ndarray:
        """Evidence missing (not "data missing")."""
        return self._code_is(_MISSING)

    @property
    def judged(self) -> np.ndarray:
        """Pass or fail."""
        return self._code_is(_PASS, _FAIL)

    @property
    def district(self) -> np.ndarray:
        """District-level checks (no school)."""
        if "_district_level" not in self._taken:
            self._taken["_district_level"] = self.school_id == ""
        return self._taken["_district_level"]

    @property
    def school_codes(self) -> np.ndarray:
        """A code per school (:func:`run_codes` of ``school_id``, hashed once per item)."""
        if "_school_codes" not in self._taken:
            self._taken["_school_codes"] = run_codes(self.school_id)[0]
        return self._taken["_school_codes"]

    @property
    def part(self) -> np.ndarray:
        return self["part"]

    @property
    def school_id(self) -> np.ndarray:
        return self["school_id"]

    def count(self, mask: np.ndarray | None = None) -> np.ndarray:
        where = self.where if mask is None else self.where[mask]
        return np.bincount(where, minlength=self.n)

    def join(self, mask: np.ndarray, texts: np.ndarray, sep: str) -> np.ndarray:
        return join_by_group(self.where[mask], texts, self.n, sep=sep)


def combine_per_district(mine: ItemChecks) -> np.ndarray:
    """:func:`~balance_metrics.evaluation.checks.combine` per district (one count per district × status code)."""
    k = len(STATUSES) + 1
    counts = np.bincount(mine.where * k + mine["_status"], minlength=mine.n * k).reshape(mine.n, k)
    fail, missing = counts[:, _FAIL], counts[:, _MISSING] + counts[:, _DATA_MISSING]
    total, na = counts.sum(axis=1), counts[:, _NA]
    return np.array(_COMBINED, dtype=object)[np.where(fail > 0, 0, np.where(missing > 0, 1, np.where(na == total, 2, 3)))]


_COMBINED = (FAIL, MISSING, NOT_APPLICABLE, PASS)


def first_seen_codes(values: np.ndarray) -> tuple[np.ndarray, int]:
    """Codes 0 … k − 1 in order of first appearance (:func:`pandas.factorize`), and k."""
    codes, uniques = pd.factorize(values)
    return codes.astype(np.int64, copy=False), len(uniques)


def run_codes(values: np.ndarray) -> tuple[np.ndarray, int]:
    """:func:`first_seen_codes` of a text column whose equal values mostly come in
    runs (a school's checks together, an item's unit): neighbours are compared
    (no hashing) and only the first text of each run is hashed."""
    values = np.asarray(values, dtype=object)
    if len(values) < 2:
        return first_seen_codes(values)
    starts = np.flatnonzero(np.r_[True, values[1:] != values[:-1]])
    if len(starts) * 2 > len(values):  # short runs: code every row
        return few_codes(values)
    codes, k = few_codes(values[starts])
    return np.repeat(codes, np.diff(np.r_[starts, len(values)])), k


def few_codes(values: np.ndarray, limit: int = 6) -> tuple[np.ndarray, int]:
    """:func:`first_seen_codes` of a text column with few distinct texts (an
    item's parts, units, statuses): each text found by comparing it with the rows
    not yet coded (no hashing); more than ``limit`` texts, a rare one (fewer rows
    than 1 / (4 · limit) of all: many texts) or one not a str: :func:`pandas.factorize`."""
    values = np.asarray(values, dtype=object)
    if len(values) > _SAMPLED and _many_texts(values[::len(values) // _SAMPLED], limit):
        return first_seen_codes(values)  # e.g. school ids: no pass per text that is bound to stop
    codes = np.empty(len(values), dtype=np.int64)
    rest = np.arange(len(values))
    for k in range(limit):  # a loop over the few distinct texts
        if not rest.size:
            return codes, k
        text = values[rest[0]]
        if not isinstance(text, str):
            break
        same = (values if k == 0 else values[rest]) == text  # all rows uncoded at first: no copy taken
        if same.sum() * 4 * limit < len(values):  # a rare text: many distinct ones, hash them
            break
        codes[rest[same]] = k
        rest = rest[~same]
    if not rest.size:
        return codes, limit
    return first_seen_codes(values)


_SAMPLED = 1024  # rows looked at (evenly spaced) to tell a column of many texts at a glance


def _many_texts(sample: np.ndarray, limit: int) -> bool:
    """Whether ``sample`` holds more than ``limit`` distinct values (not all hashable: False)."""
    try:
        return len(set(sample.tolist())) > limit
    except TypeError:
        return False


def first_rows_seen(codes: np.ndarray) -> np.ndarray:
    """Each code's first row, for codes numbered in order of first appearance: the
    rows where the running maximum grows (no sort, no scatter)."""
    if not len(codes):
        return np.zeros(0, dtype=np.int64)
    top = np.maximum.accumulate(codes)
    return np.flatnonzero(np.r_[True, top[1:] > top[:-1]])
