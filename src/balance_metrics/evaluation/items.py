"""The items of the whole evaluation: their definitions in the standard, running
their rules, and one summary row per item.

Items live in the standard under ``[items.<id>]`` with ``area``, ``name``
(official Chinese wording), ``scope`` (district / school) and either ``rule``
(a rule name, with the numbers the rule needs) or ``same_as`` (an item whose
checks it shares, e.g. the veto on social recognition below 85 %).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from balance_metrics.common.grouped import join_by_group, join_rows_by_group

from balance_metrics.evaluation import evidence
from balance_metrics.evaluation import guarantee
from balance_metrics.evaluation import quality
from balance_metrics.evaluation import resource_items
from balance_metrics.evaluation import survey
from balance_metrics.evaluation.checks import (
    CHECK_COLUMNS, DATA_MISSING, FAIL, MISSING, NOT_APPLICABLE, PASS, STATUS_LABELS, checks_frame, coded_texts, fmt, fmt_by_unit, lookup,
    requirement_texts,
)
from balance_metrics.evaluation.wording import dense, float_codes, join_notes
from balance_metrics.evaluation.context import Context, Rule
from balance_metrics.contract.schema import STAGES
from balance_metrics.standard.checking import AREAS
from balance_metrics.standard.loader import Standard

AREA_ORDER: tuple[str, ...] = AREAS
RULES: dict[str, Rule] = {
    **resource_items.RULES, **guarantee.RULES, **quality.RULES, **survey.RULES, **evidence.RULES,
}
ITEM_COLUMNS = [
    "id", "area", "area_name", "name", "scope", "rule", "measured", "requirement", "status", "status_label",
    "failing_schools", "detail", "evidence", "responsible", "source",
]
# Above this many district-level checks an item lists only its failing ones.
_MAX_LISTED = 4
#: Check parts that are evidence documents (see :func:`balance_metrics.evaluation.evidence.evidence_rule`).
EVIDENCE_PARTS = ("document", "evidence")


def item_specs(standard: Standard) -> dict[str, Mapping[str, Any]]:
    """The standard's items in reporting order (area, then file order): id -> the
    item's table. Checked at load (:mod:`balance_metrics.standard.checking`)."""
    return {item_id: item.params for item_id, item in standard.items.items()}


def run_items(ctx: Context, specs: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """Every item's checks for every district of ``ctx`` (see
    :data:`balance_metrics.checks.CHECK_COLUMNS`), item by item; within one
    district the rows are in the order the rules give them."""
    return run_items_whole(ctx, specs)[0]


def run_items_whole(ctx: Context, specs: Mapping[str, Mapping[str, Any]]) -> tuple[pd.DataFrame, np.ndarray]:
    """:func:`run_items` and each check's district position in ``ctx.ids``."""
    parts: list[pd.DataFrame] = []
    owners: list[str] = []
    for item_id, spec in specs.items():  # a loop over the item definitions
        source_id = spec.get("same_as", item_id)
        source = specs[source_id]
        frame = RULES[source["rule"]](ctx, source_id, source)
        if source.get("evidence_part") and source["rule"] != "evidence":
            # A computed item with a part judged on documents: both must pass.
            documents = evidence.evidence_rule(ctx, source_id, source)
            frame = pd.concat([frame, documents.assign(part_name=str(source["evidence_part"]))], ignore_index=True)
        if len(frame):
            parts.append(frame)
            owners.append(item_id)
    if not parts:
        return checks_frame([]), np.zeros(0, dtype=np.int64)
    where = np.concatenate([p["district_id"].to_numpy(np.int64) for p in parts])  # rules name districts by position
    item = np.repeat(np.arange(len(parts)), [len(p) for p in parts])
    # One table, column by column: the item ids and district ids taken from the few
    # texts (not a text per row to check), each other column concatenated once.
    columns = {"district_id": coded_texts(where, ctx.ids), "item_id": coded_texts(item, owners)}
    for column in CHECK_COLUMNS[2:]:
        columns[column] = _stacked([p[column] for p in parts])
    return pd.DataFrame(columns, columns=CHECK_COLUMNS, copy=False), where


def _stacked(pieces: list[pd.Series]) -> object:
    """The pieces one under the other: their arrays joined directly when they share a
    dtype (no index to build or align, as ``pd.concat`` does per column), else ``pd.concat``
    (also for object columns: a frame would infer ``str`` from their joined array)."""
    arrays = [piece.array for piece in pieces]
    if not pd.api.types.is_object_dtype(arrays[0].dtype) and all(a.dtype == arrays[0].dtype for a in arrays):
        return type(arrays[0])._concat_same_type(arrays)
    return pd.concat(pieces, ignore_index=True)


def summarise_items(standard: Standard, specs: Mapping[str, Mapping[str, Any]], checks: pd.DataFrame, references: pd.Series,
                    ids: object = ("",), where: np.ndarray | None = None) -> pd.DataFrame:
    """One row per district × item: measured and requirement as text, status, failing schools.

    Parameters
    ----------
    references : Series
        (district_id, item id) -> evidence documents (:func:`~balance_metrics.evaluation.evidence.evidence_references`).
    ids : array of str
        The districts, in order ("" for a one-district period).
    where : array of int, optional
        Each check's district position in ``ids`` (computed when not given).

    Returns
    -------
    DataFrame
        Columns ``district_id`` and :data:`ITEM_COLUMNS`, district by district,
        items in the standard's order. ``status`` is pass / fail / evidence
        missing / not applicable; ``status_label`` its Chinese label.
    """
    ids = np.asarray(ids, dtype=object)
    n = len(ids)
    if where is None:
        where = pd.Index(ids).get_indexer(checks["district_id"].to_numpy(object))
    where = np.asarray(where, dtype=np.int64)
    columns = {c: checks[c].to_numpy(object if checks[c].dtype != float else float) for c in CHECK_COLUMNS if c != "district_id"}
    columns["_status"] = _status_codes(columns["status"])
    columns["_where"] = where
    by_item = _item_rows(columns["item_id"])
    evidence_texts = _evidence_texts(references, ids)
    texts: dict[str, list[np.ndarray]] = {c: [] for c in _PER_DISTRICT}
    for item_id, spec in specs.items():  # a loop over the item definitions
        mine = _Checks(columns, by_item.get(item_id, np.zeros(0, dtype=np.int64)), n)
        status = _combine(mine)
        evidence_based = specs[spec.get("same_as", item_id)].get("rule") == "evidence"
        texts["measured"].append(_evidence_measured(mine) if evidence_based else _measured(mine, spec))
        texts["requirement"].append(np.full(n, _evidence_requirement(spec), dtype=object) if evidence_based else _requirement(mine, spec))
        texts["status"].append(status)
        texts["failing_schools"].append(_failing_schools(mine))
        texts["detail"].append(_detail(mine))
        texts["evidence"].append(evidence_texts.get(item_id, _no_texts)(n))
    if not specs or not n:
        return pd.DataFrame(columns=["district_id", *ITEM_COLUMNS])
    return _item_table(standard, specs, ids, texts)


# Columns of the item table computed per district (the others are the item's own).
_PER_DISTRICT = ("measured", "requirement", "status", "failing_schools", "detail", "evidence")


def _no_texts(n: int) -> np.ndarray:
    return np.full(n, "", dtype=object)


def _evidence_texts(references: pd.Series, ids: np.ndarray) -> dict[str, Callable[[int], np.ndarray]]:
    """Item id -> a function giving that item's evidence text per district."""
    if not len(references):
        return {}
    where = pd.Index(ids).get_indexer(references.index.get_level_values(0).to_numpy(object))
    items = references.index.get_level_values(1).to_numpy(object)
    values = references.to_numpy(object)
    out = {}
    for item_id in pd.unique(items):  # a loop over the items with documents

        def texts(n: int, mask: np.ndarray = (items == item_id) & (where >= 0)) -> np.ndarray:
            text = np.full(n, "", dtype=object)
            text[where[mask]] = values[mask]
            return text

        out[item_id] = texts
    return out


def _item_table(standard: Standard, specs: Mapping[str, Mapping[str, Any]], ids: np.ndarray,
                texts: dict[str, list[np.ndarray]]) -> pd.DataFrame:
    """The item table, district by district (row d·k + j: district d, item j of k)."""
    n, k = len(ids), len(specs)
    own = {
        "id": list(specs),
        "area": [spec["area"] for spec in specs.values()],
        "area_name": [standard.items[i].area_name for i in specs],
        "name": [standard.items[i].name for i in specs],
        "scope": [spec["scope"] for spec in specs.values()],
        "rule": [spec.get("rule", f"same_as {spec.get('same_as')}") for spec in specs.values()],
        "responsible": [spec.get("responsible", "") for spec in specs.values()],
        "source": [spec.get("source", "") for spec in specs.values()],
    }
    item = np.tile(np.arange(k), n)
    # the few texts of a column taken by position (not a text per row to check)
    frame: dict[str, object] = {"district_id": coded_texts(np.repeat(np.arange(n), k), ids)}
    for column in ITEM_COLUMNS:
        if column in own:
            frame[column] = coded_texts(item, own[column])
        elif column == "status_label":
            continue
        else:
            frame[column] = pd.array(np.stack(texts[column]).T.ravel(), dtype="str")
    status = frame["status"]
    frame["status_label"] = pd.array(lookup(np.asarray(status, dtype=object), STATUS_LABELS.get), dtype="str")
    return pd.DataFrame({c: frame[c] for c in ["district_id", *ITEM_COLUMNS]}, copy=False)


def label_of(row: pd.Series) -> str:
    """What a check is about: ``小学数学校际差异率`` / ``初中R7差异系数``."""
    stage = STAGES.get(str(row["stage"]), str(row["stage"]))
    return f"{stage}{row['target']}{row['part_name']}"


def labels_of(checks: pd.DataFrame) -> np.ndarray:
    """:func:`label_of` of every check."""
    stage = lookup(np.asarray(checks["stage"], dtype=object), lambda s: STAGES.get(str(s), str(s)))
    return stage + np.asarray(checks["target"], dtype=object) + np.asarray(checks["part_name"], dtype=object)


def value_text(row: pd.Series) -> str:
    return f"{label_of(row)}{fmt(row['measured'], row['unit'])}"


def value_texts(checks: pd.DataFrame) -> np.ndarray:
    """:func:`value_text` of every check: each distinct (stage, target, part, value,
    unit) written once when values repeat (counts of indicators, whole numbers)."""
    measured = np.asarray(checks["measured"], dtype=float)
    columns = [np.asarray(checks[c], dtype=object) for c in ("stage", "target", "part_name", "unit")]
    values = float_codes(measured)
    if values[1] * 4 > len(measured):  # mostly distinct values: write each
        return _value_texts(*columns, measured)
    key = dense(values, *(run_codes(c) for c in columns))[0]
    first = _first_rows_seen(key)
    return _value_texts(*(c[first] for c in columns), measured[first])[key]


def _value_texts(stage: np.ndarray, target: np.ndarray, part_name: np.ndarray, unit: np.ndarray, measured: np.ndarray) -> np.ndarray:
    label = lookup(stage, lambda s: STAGES.get(str(s), str(s))) + target + part_name
    return label + fmt_by_unit(measured, unit)


# Status codes of the summary (what is not among them is coded len(_STATUSES)).
_STATUSES = (PASS, FAIL, MISSING, DATA_MISSING, NOT_APPLICABLE)
_PASS, _FAIL, _MISSING, _DATA_MISSING, _NA = range(len(_STATUSES))


def _status_codes(status: np.ndarray) -> np.ndarray:
    """Each check's status as an int8 code into :data:`_STATUSES` (anything else, a missing
    value too: len(_STATUSES)); compared with each status, after the first only the rows left."""
    status = np.asarray(status, dtype=object)
    codes = np.full(len(status), len(_STATUSES), dtype=np.int8)
    same = status == _STATUSES[0]
    codes[same] = 0
    rest = np.flatnonzero(~same)
    for k, text in enumerate(_STATUSES[1:], start=1):  # a loop over the four other statuses
        if not rest.size:
            break
        same = status[rest] == text
        codes[rest[same]] = k
        rest = rest[~same]
    return codes


def _item_rows(item_ids: np.ndarray) -> dict[object, np.ndarray | slice]:
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


class _Checks:
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
        return _Checks(self.base, rows, self.n)

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


def _ints(values: np.ndarray) -> np.ndarray:
    return values.astype(str).astype(object)


def _combine(mine: _Checks) -> np.ndarray:
    """:func:`~balance_metrics.evaluation.checks.combine` per district (one count per district × status code)."""
    k = len(_STATUSES) + 1
    counts = np.bincount(mine.where * k + mine["_status"], minlength=mine.n * k).reshape(mine.n, k)
    fail, missing = counts[:, _FAIL], counts[:, _MISSING] + counts[:, _DATA_MISSING]
    total, na = counts.sum(axis=1), counts[:, _NA]
    return np.array(_COMBINED, dtype=object)[np.where(fail > 0, 0, np.where(missing > 0, 1, np.where(na == total, 2, 3)))]


_COMBINED = (FAIL, MISSING, NOT_APPLICABLE, PASS)


def _measured(mine: _Checks, spec: Mapping[str, Any]) -> np.ndarray:
    documents = np.isin(mine.part, EVIDENCE_PARTS)
    if not documents.any():
        return _measured_computed(mine)
    text = _measured_computed(mine[~documents])
    # the documented part of a computed item (evidence_part)
    evidence_text = str(spec.get("evidence_part", "")) + _evidence_measured(mine[documents])
    return np.where(mine.count(documents) > 0, join_notes(text, evidence_text), text).astype(object)


def _measured_computed(mine: _Checks) -> np.ndarray:
    district = mine.district
    n_district = mine.count(district)
    failing = district & mine.fail
    n_failing = mine.count(failing)
    parts = []
    many = n_district > _MAX_LISTED
    if many.any():
        summary = _ints(n_failing) + "/" + _ints(n_district) + "项未达标"
        summary = np.where(n_failing > 0, summary + "：" + mine.join(failing, value_texts(mine[failing]), "；"), summary)
        parts.append(np.where(many, summary, ""))
    listed = district & mine.judged & ~many[mine.where]
    parts.append(mine.join(listed, value_texts(mine[listed]), "；"))
    schools = ~district
    if schools.any():
        n_schools, n_failing_schools = _distinct_schools(mine, schools)
        parts.append(np.where((n_schools > 0) & (n_district == 0), _ints(n_failing_schools) + "所学校未达标（共" + _ints(n_schools) + "所）", ""))
    n_missing = mine.count(mine.missing)
    parts.append(np.where(n_missing > 0, _ints(n_missing) + "项缺少数据", ""))
    return join_notes(*parts)


def _distinct_schools(mine: _Checks, schools: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct schools per district among the rows of ``schools``, and among
    those of them that fail (a school counted in the district of its first row)."""
    codes = _first_seen_codes(mine.school_codes[schools])[0]  # renumbered in order of first appearance
    where = mine.where[schools]
    n_schools = np.bincount(where[_first_rows_seen(codes)], minlength=mine.n)
    failing = mine.fail[schools]
    if not failing.any():
        return n_schools, np.zeros(mine.n, dtype=np.int64)
    failing_codes = _first_seen_codes(codes[failing])[0]
    return n_schools, np.bincount(where[failing][_first_rows_seen(failing_codes)], minlength=mine.n)


def _first_seen_codes(values: np.ndarray) -> tuple[np.ndarray, int]:
    """Codes 0 … k − 1 in order of first appearance (:func:`pandas.factorize`), and k."""
    codes, uniques = pd.factorize(values)
    return codes.astype(np.int64, copy=False), len(uniques)


def run_codes(values: np.ndarray) -> tuple[np.ndarray, int]:
    """:func:`_first_seen_codes` of a text column whose equal values mostly come in
    runs (a school's checks together, an item's unit): neighbours are compared
    (no hashing) and only the first text of each run is hashed."""
    values = np.asarray(values, dtype=object)
    if len(values) < 2:
        return _first_seen_codes(values)
    starts = np.flatnonzero(np.r_[True, values[1:] != values[:-1]])
    if len(starts) * 2 > len(values):  # short runs: code every row
        return few_codes(values)
    codes, k = few_codes(values[starts])
    return np.repeat(codes, np.diff(np.r_[starts, len(values)])), k


def few_codes(values: np.ndarray, limit: int = 6) -> tuple[np.ndarray, int]:
    """:func:`_first_seen_codes` of a text column with few distinct texts (an
    item's parts, units, statuses): each text found by comparing it with the rows
    not yet coded (no hashing); more than ``limit`` texts, a rare one (fewer rows
    than 1 / (4 · limit) of all: many texts) or one not a str: :func:`pandas.factorize`."""
    values = np.asarray(values, dtype=object)
    if len(values) > _SAMPLED and _many_texts(values[::len(values) // _SAMPLED], limit):
        return _first_seen_codes(values)  # e.g. school ids: no pass per text that is bound to stop
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
    return _first_seen_codes(values)


_SAMPLED = 1024  # rows looked at (evenly spaced) to tell a column of many texts at a glance


def _many_texts(sample: np.ndarray, limit: int) -> bool:
    """Whether ``sample`` holds more than ``limit`` distinct values (not all hashable: False)."""
    try:
        return len(set(sample.tolist())) > limit
    except TypeError:
        return False


def _first_rows_seen(codes: np.ndarray) -> np.ndarray:
    """Each code's first row, for codes numbered in order of first appearance: the
    rows where the running maximum grows (no sort, no scatter)."""
    if not len(codes):
        return np.zeros(0, dtype=np.int64)
    top = np.maximum.accumulate(codes)
    return np.flatnonzero(np.r_[True, top[1:] > top[:-1]])


def _requirement(mine: _Checks, spec: Mapping[str, Any]) -> np.ndarray:
    if spec.get("evidence_part"):
        text = _requirement_computed(mine[~np.isin(mine.part, EVIDENCE_PARTS)])
        return join_notes(text, np.full(mine.n, f"{spec['evidence_part']}：{_evidence_requirement(spec)}", dtype=object))
    return _requirement_computed(mine)


def _requirement_computed(mine: _Checks) -> np.ndarray:
    requirement = np.asarray(mine["requirement"], dtype=float)
    present = ~np.isnan(requirement)
    columns = ("stage", "part_name", "comparison", "unit")
    kept = slice(None) if present.all() else present  # all present (as usual): views, no copies taken
    # distinct requirements only: one integer key per (district, stage, part, comparison, requirement, unit)
    parts = [(mine.where[kept], mine.n), float_codes(requirement[kept])]
    parts += [run_codes(np.asarray(mine[c])[kept]) for c in columns]
    rows = np.flatnonzero(present)[_first_rows_seen(dense(*parts)[0])]
    values = {c: np.asarray(mine[c])[rows] for c in columns}
    stage = lookup(values["stage"], lambda s: STAGES.get(str(s), str(s)))
    texts = stage + values["part_name"].astype(object) + requirement_texts(values["comparison"], requirement[rows], values["unit"])
    where = mine.where[rows]
    # different requirements can read the same (e.g. two floats printed alike): each text once per district
    unique = _first_rows_seen(dense((where, mine.n), _first_seen_codes(texts))[0])
    where, texts = where[unique], texts[unique]
    joined = join_by_group(where, texts, mine.n, sep="；")
    return np.where(np.bincount(where, minlength=mine.n) <= 3, joined, "按各校情况核定（见 checks 表）").astype(object)


def _failing_schools(mine: _Checks) -> np.ndarray:
    failing = mine.fail & ~mine.district
    if not failing.any():
        return np.full(mine.n, "", dtype=object)
    rows = mine[failing]
    code, k = _first_seen_codes(mine.school_codes[failing])
    values = join_by_group(code, value_texts(rows), k, sep="、")
    first = _first_rows_seen(code)
    return join_rows_by_group(rows.where[first], [rows["school_name"][first], "（", rows.school_id[first], "）", values], mine.n, sep="；")


def _detail(mine: _Checks) -> np.ndarray:
    note = mine["note"]
    has_note = note != ""
    missing = mine.missing & has_note
    district = mine.district & mine.judged
    # longer lists are summarised in `measured`
    listed = district & (mine.count(district) <= _MAX_LISTED)[mine.where] & has_note
    if not missing.any() and not listed.any():
        return np.full(mine.n, "", dtype=object)
    name = mine["school_name"][missing]
    where = np.concatenate([mine.where[missing], mine.where[listed]])
    texts = np.concatenate([np.where(name != "", name, "全区") + "：" + note[missing], note[listed]])
    # each text once per district
    unique = np.sort(_first_rows_seen(dense((where, mine.n), _first_seen_codes(texts))[0]))
    return join_by_group(where[unique], texts[unique], mine.n, sep="；")


def _evidence_measured(mine: _Checks) -> np.ndarray:
    documents = mine.part == "document"
    n_documents = mine.count(documents)
    if not documents.any():
        return np.full(mine.n, "无佐证材料", dtype=object)
    label_code, labels = pd.factorize(lookup(mine["status"][documents], STATUS_LABELS.get))
    cell = mine.where[documents] * len(labels) + label_code
    counts = np.bincount(cell, minlength=mine.n * len(labels))
    first = np.full(mine.n * len(labels), len(cell), dtype=np.int64)
    np.minimum.at(first, cell, np.arange(len(cell)))
    used = np.flatnonzero(counts)
    # Per district: most documents first, ties in order of first appearance (as value_counts).
    used = used[np.lexsort((first[used], -counts[used], used // len(labels)))]
    texts = np.asarray(labels, dtype=object)[used % len(labels)] + _ints(counts[used])
    listed = join_by_group(used // len(labels), texts, mine.n, sep="、")
    return np.where(n_documents == 0, "无佐证材料", "佐证材料" + _ints(n_documents) + "份：" + listed).astype(object)


def _evidence_requirement(spec: Mapping[str, Any]) -> str:
    if spec["area"] == "veto":
        return "不存在该情形（佐证材料审核确认）"
    return "佐证材料齐全并审核达标"
