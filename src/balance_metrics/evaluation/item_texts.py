"""The sentences of the item table, per district: what was measured, what is
required, the failing schools and the details (Chinese), from an item's checks
(:class:`~balance_metrics.evaluation.item_checks.ItemChecks`).

Written for every district at once (one text per district, joined with
:func:`~balance_metrics.common.grouped.join_by_group`), or only for the
districts asked for (:class:`~balance_metrics.evaluation.province.WholeEvaluation`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from balance_metrics.common.grouped import join_by_group, join_rows_by_group
from balance_metrics.contract.schema import STAGES
from balance_metrics.evaluation.checks import STATUS_LABELS, fmt, fmt_by_unit, lookup, requirement_texts
from balance_metrics.evaluation.item_checks import EVIDENCE_PARTS, ItemChecks, first_rows_seen, first_seen_codes, run_codes
from balance_metrics.evaluation.wording import dense, float_codes, join_notes

# Above this many district-level checks an item lists only its failing ones.
_MAX_LISTED = 4


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
    first = first_rows_seen(key)
    return _value_texts(*(c[first] for c in columns), measured[first])[key]


def _value_texts(stage: np.ndarray, target: np.ndarray, part_name: np.ndarray, unit: np.ndarray, measured: np.ndarray) -> np.ndarray:
    label = lookup(stage, lambda s: STAGES.get(str(s), str(s))) + target + part_name
    return label + fmt_by_unit(measured, unit)


def _ints(values: np.ndarray) -> np.ndarray:
    return values.astype(str).astype(object)


def item_measured(mine: ItemChecks, spec: Mapping[str, Any]) -> np.ndarray:
    documents = np.isin(mine.part, EVIDENCE_PARTS)
    if not documents.any():
        return _measured_computed(mine)
    text = _measured_computed(mine[~documents])
    # the documented part of a computed item (evidence_part)
    evidence_text = str(spec.get("evidence_part", "")) + evidence_measured(mine[documents])
    return np.where(mine.count(documents) > 0, join_notes(text, evidence_text), text).astype(object)


def _measured_computed(mine: ItemChecks) -> np.ndarray:
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


def _distinct_schools(mine: ItemChecks, schools: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct schools per district among the rows of ``schools``, and among
    those of them that fail (a school counted in the district of its first row)."""
    codes = first_seen_codes(mine.school_codes[schools])[0]  # renumbered in order of first appearance
    where = mine.where[schools]
    n_schools = np.bincount(where[first_rows_seen(codes)], minlength=mine.n)
    failing = mine.fail[schools]
    if not failing.any():
        return n_schools, np.zeros(mine.n, dtype=np.int64)
    failing_codes = first_seen_codes(codes[failing])[0]
    return n_schools, np.bincount(where[failing][first_rows_seen(failing_codes)], minlength=mine.n)


def item_requirement(mine: ItemChecks, spec: Mapping[str, Any]) -> np.ndarray:
    if spec.get("evidence_part"):
        text = _requirement_computed(mine[~np.isin(mine.part, EVIDENCE_PARTS)])
        return join_notes(text, np.full(mine.n, f"{spec['evidence_part']}：{evidence_requirement(spec)}", dtype=object))
    return _requirement_computed(mine)


def _requirement_computed(mine: ItemChecks) -> np.ndarray:
    requirement = np.asarray(mine["requirement"], dtype=float)
    present = ~np.isnan(requirement)
    columns = ("stage", "part_name", "comparison", "unit")
    kept = slice(None) if present.all() else present  # all present (as usual): views, no copies taken
    # distinct requirements only: one integer key per (district, stage, part, comparison, requirement, unit)
    parts = [(mine.where[kept], mine.n), float_codes(requirement[kept])]
    parts += [run_codes(np.asarray(mine[c])[kept]) for c in columns]
    rows = np.flatnonzero(present)[first_rows_seen(dense(*parts)[0])]
    values = {c: np.asarray(mine[c])[rows] for c in columns}
    stage = lookup(values["stage"], lambda s: STAGES.get(str(s), str(s)))
    texts = stage + values["part_name"].astype(object) + requirement_texts(values["comparison"], requirement[rows], values["unit"])
    where = mine.where[rows]
    # different requirements can read the same (e.g. two floats printed alike): each text once per district
    unique = first_rows_seen(dense((where, mine.n), first_seen_codes(texts))[0])
    where, texts = where[unique], texts[unique]
    joined = join_by_group(where, texts, mine.n, sep="；")
    return np.where(np.bincount(where, minlength=mine.n) <= 3, joined, "按各校情况核定（见 checks 表）").astype(object)


def failing_schools(mine: ItemChecks) -> np.ndarray:
    failing = mine.fail & ~mine.district
    if not failing.any():
        return np.full(mine.n, "", dtype=object)
    rows = mine[failing]
    code, k = first_seen_codes(mine.school_codes[failing])
    values = join_by_group(code, value_texts(rows), k, sep="、")
    first = first_rows_seen(code)
    return join_rows_by_group(rows.where[first], [rows["school_name"][first], "（", rows.school_id[first], "）", values], mine.n, sep="；")


def item_detail(mine: ItemChecks) -> np.ndarray:
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
    unique = np.sort(first_rows_seen(dense((where, mine.n), first_seen_codes(texts))[0]))
    return join_by_group(where[unique], texts[unique], mine.n, sep="；")


def evidence_measured(mine: ItemChecks) -> np.ndarray:
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


def evidence_requirement(spec: Mapping[str, Any]) -> str:
    if spec["area"] == "veto":
        return "不存在该情形（佐证材料审核确认）"
    return "佐证材料齐全并审核达标"
