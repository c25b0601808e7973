"""The items of the whole evaluation: their definitions in the standard, running
their rules, and one summary row per item.

Items live in the standard under ``[items.<id>]`` with ``area``, ``name``
(official Chinese wording), ``scope`` (district / school) and either ``rule``
(a rule name, with the numbers the rule needs) or ``same_as`` (an item whose
checks it shares, e.g. the veto on social recognition below 85 %).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from balance_metrics.common.grouped import first_rows, join_by_group

from balance_metrics.evaluation import evidence
from balance_metrics.evaluation import guarantee
from balance_metrics.evaluation import quality
from balance_metrics.evaluation import resource_items
from balance_metrics.evaluation import survey
from balance_metrics.evaluation.checks import (
    CHECK_COLUMNS, DATA_MISSING, FAIL, MISSING, NOT_APPLICABLE, PASS, STATUS_LABELS, checks_frame, fmt, fmt_by_unit, lookup, requirement_texts,
)
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
    for item_id, spec in specs.items():  # a loop over the item definitions
        source_id = spec.get("same_as", item_id)
        source = specs[source_id]
        frame = RULES[source["rule"]](ctx, source_id, source)
        if source.get("evidence_part") and source["rule"] != "evidence":
            # A computed item with a part judged on documents: both must pass.
            documents = evidence.evidence_rule(ctx, source_id, source)
            frame = pd.concat([frame, documents.assign(part_name=str(source["evidence_part"]))], ignore_index=True)
        parts.append(frame.assign(item_id=item_id))
    parts = [p for p in parts if len(p)]
    if not parts:
        return checks_frame([]), np.zeros(0, dtype=np.int64)
    checks = pd.concat(parts, ignore_index=True)[CHECK_COLUMNS]
    where = checks["district_id"].to_numpy(np.int64)  # rules name districts by position
    checks["district_id"] = ctx.ids[where]
    return checks, where


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
    columns = {c: checks[c].to_numpy() for c in CHECK_COLUMNS if c != "district_id"}
    item_codes, item_names = pd.factorize(columns["item_id"])
    order = np.argsort(item_codes, kind="stable")
    bounds = np.searchsorted(item_codes[order], np.arange(len(item_names) + 1))
    by_item = {name: order[bounds[k]:bounds[k + 1]] for k, name in enumerate(item_names)}
    ref_where = pd.Index(ids).get_indexer(references.index.get_level_values(0).to_numpy(object)) if len(references) else np.zeros(0, dtype=np.int64)
    ref_items = references.index.get_level_values(1).to_numpy(object) if len(references) else np.zeros(0, dtype=object)
    ref_texts = references.to_numpy(object)
    frames = []
    for item_id, spec in specs.items():  # a loop over the item definitions
        rows = by_item.get(item_id, np.zeros(0, dtype=np.int64))
        mine = _Checks(columns, rows, where[rows], n)
        item = standard.items[item_id]
        status = _combine(mine)
        evidence_based = specs[spec.get("same_as", item_id)].get("rule") == "evidence"
        evidence_text = np.full(n, "", dtype=object)
        mask = (ref_items == item_id) & (ref_where >= 0)
        evidence_text[ref_where[mask]] = ref_texts[mask]
        frames.append(pd.DataFrame({
            "district_id": ids,
            "id": item_id,
            "area": spec["area"],
            "area_name": item.area_name,
            "name": item.name,
            "scope": spec["scope"],
            "rule": spec.get("rule", f"same_as {spec.get('same_as')}"),
            "measured": _evidence_measured(mine) if evidence_based else _measured(mine, spec),
            "requirement": np.full(n, _evidence_requirement(spec), dtype=object) if evidence_based else _requirement(mine, spec),
            "status": status,
            "status_label": lookup(status, STATUS_LABELS.get),
            "failing_schools": _failing_schools(mine),
            "detail": _detail(mine),
            "evidence": evidence_text,
            "responsible": spec.get("responsible", ""),
            "source": spec.get("source", ""),
        }))
    if not frames:
        return pd.DataFrame(columns=["district_id", *ITEM_COLUMNS])
    whole = pd.concat(frames, ignore_index=True)
    order = np.arange(len(whole)).reshape(len(frames), n).T.ravel()  # district by district
    return whole.iloc[order].reset_index(drop=True)[["district_id", *ITEM_COLUMNS]]


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
    """:func:`value_text` of every check."""
    return labels_of(checks) + fmt_by_unit(np.asarray(checks["measured"], dtype=float), np.asarray(checks["unit"], dtype=object))


class _Checks:
    """One item's checks: row positions into the whole check columns (taken
    when a column is asked for) and each row's district position (0 … n − 1)."""

    def __init__(self, base: dict[str, np.ndarray], rows: np.ndarray, where: np.ndarray, n: int):
        self.base, self.rows, self.where, self.n = base, rows, where, n
        self._taken: dict[str, np.ndarray] = {}

    def __getitem__(self, key: object) -> object:
        if isinstance(key, str):
            if key not in self._taken:
                self._taken[key] = self.base[key][self.rows]
            return self._taken[key]
        return _Checks(self.base, self.rows[key], self.where[key], self.n)

    @property
    def status(self) -> np.ndarray:
        return self["status"]

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


def _join_nonempty(parts: list[np.ndarray], sep: str = "；") -> np.ndarray:
    out = np.asarray(parts[0], dtype=object)
    for part in parts[1:]:
        part = np.asarray(part, dtype=object)
        out = np.where(out == "", part, np.where(part == "", out, out + sep + part))
    return out.astype(object)


def _ints(values: np.ndarray) -> np.ndarray:
    return values.astype(str).astype(object)


def _combine(mine: _Checks) -> np.ndarray:
    """:func:`~balance_metrics.evaluation.checks.combine` per district."""
    fail = mine.count(mine.status == FAIL)
    missing = mine.count(np.isin(mine.status, [MISSING, DATA_MISSING]))
    na = mine.count(mine.status == NOT_APPLICABLE)
    total = mine.count()
    return np.where(fail > 0, FAIL, np.where(missing > 0, MISSING, np.where((total == 0) | (na == total), NOT_APPLICABLE, PASS))).astype(object)


def _measured(mine: _Checks, spec: Mapping[str, Any]) -> np.ndarray:
    documents = np.isin(mine.part, EVIDENCE_PARTS)
    text = _measured_computed(mine[~documents])
    if not documents.any():
        return text
    # the documented part of a computed item (evidence_part)
    evidence_text = str(spec.get("evidence_part", "")) + _evidence_measured(mine[documents])
    return np.where(mine.count(documents) > 0, _join_nonempty([text, evidence_text]), text).astype(object)


def _measured_computed(mine: _Checks) -> np.ndarray:
    district = mine.school_id == ""
    n_district = mine.count(district)
    failing = district & (mine.status == FAIL)
    n_failing = mine.count(failing)
    summary = _ints(n_failing) + "/" + _ints(n_district) + "项未达标"
    summary = np.where(n_failing > 0, summary + "：" + mine.join(failing, value_texts(mine[failing]), "；"), summary)
    many = n_district > _MAX_LISTED
    listed = district & np.isin(mine.status, [PASS, FAIL]) & ~many[mine.where]
    parts = [np.where(many, summary, ""), mine.join(listed, value_texts(mine[listed]), "；")]
    schools = ~district
    n_schools = _distinct_schools(mine, schools)
    failing_schools = schools & (mine.status == FAIL)
    n_failing_schools = _distinct_schools(mine, failing_schools)
    parts.append(np.where((n_schools > 0) & (n_district == 0), _ints(n_failing_schools) + "所学校未达标（共" + _ints(n_schools) + "所）", ""))
    n_missing = mine.count(mine.status == MISSING)
    parts.append(np.where(n_missing > 0, _ints(n_missing) + "项缺少数据", ""))
    return _join_nonempty(parts)


def _distinct_schools(mine: _Checks, mask: np.ndarray) -> np.ndarray:
    """Distinct schools per district among the rows of ``mask`` (a school lies in one district)."""
    codes = pd.factorize(mine.school_id[mask])[0]
    if not len(codes):
        return np.zeros(mine.n, dtype=np.int64)
    first = first_rows(codes, int(codes.max()) + 1)
    return np.bincount(mine.where[mask][first], minlength=mine.n)


def _requirement(mine: _Checks, spec: Mapping[str, Any]) -> np.ndarray:
    if spec.get("evidence_part"):
        text = _requirement_computed(mine[~np.isin(mine.part, EVIDENCE_PARTS)])
        return _join_nonempty([text, np.full(mine.n, f"{spec['evidence_part']}：{_evidence_requirement(spec)}", dtype=object)])
    return _requirement_computed(mine)


def _requirement_computed(mine: _Checks) -> np.ndarray:
    present = ~np.isnan(np.asarray(mine["requirement"], dtype=float))
    columns = ("stage", "part_name", "comparison", "requirement", "unit")
    # distinct requirements only: one integer key per (district, stage, part, comparison, requirement, unit)
    key = mine.where[present].astype(np.int64)
    for column in columns:
        codes, uniques = pd.factorize(np.asarray(mine[column])[present])
        key = key * max(len(uniques), 1) + codes
    first = np.sort(np.unique(key, return_index=True)[1])
    rows = np.flatnonzero(present)[first]
    values = {c: np.asarray(mine[c])[rows] for c in columns}
    stage = lookup(values["stage"], lambda s: STAGES.get(str(s), str(s)))
    texts = stage + values["part_name"].astype(object) + requirement_texts(values["comparison"], values["requirement"].astype(float), values["unit"])
    unique = pd.DataFrame({"where": mine.where[rows], "text": texts}).drop_duplicates()
    where = unique["where"].to_numpy(np.int64)
    joined = join_by_group(where, unique["text"].to_numpy(object), mine.n, sep="；")
    return np.where(np.bincount(where, minlength=mine.n) <= 3, joined, "按各校情况核定（见 checks 表）").astype(object)


def _failing_schools(mine: _Checks) -> np.ndarray:
    failing = (mine.status == FAIL) & (mine.school_id != "")
    if not failing.any():
        return np.full(mine.n, "", dtype=object)
    rows = mine[failing]
    code, schools = pd.factorize(rows.school_id)
    values = join_by_group(code, value_texts(rows), len(schools), sep="、")
    first = first_rows(code, len(schools))
    names = rows["school_name"][first]
    texts = names + "（" + schools.astype(object) + "）" + values
    return join_by_group(mine.where[failing][first], texts, mine.n, sep="；")


def _detail(mine: _Checks) -> np.ndarray:
    note = mine["note"]
    name = mine["school_name"]
    missing = (mine.status == MISSING) & (note != "")
    district = (mine.school_id == "") & np.isin(mine.status, [PASS, FAIL])
    # longer lists are summarised in `measured`
    listed = district & (mine.count(district) <= _MAX_LISTED)[mine.where] & (note != "")
    texts = pd.DataFrame({
        "where": np.concatenate([mine.where[missing], mine.where[listed]]),
        "text": np.concatenate([np.where(name[missing] != "", name[missing], "全区") + "：" + note[missing], note[listed]]),
    }).drop_duplicates()
    return join_by_group(texts["where"].to_numpy(np.int64), texts["text"].to_numpy(object), mine.n, sep="；")


def _evidence_measured(mine: _Checks) -> np.ndarray:
    documents = mine.part == "document"
    n_documents = mine.count(documents)
    if not documents.any():
        return np.full(mine.n, "无佐证材料", dtype=object)
    label_code, labels = pd.factorize(lookup(mine.status[documents], STATUS_LABELS.get))
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
