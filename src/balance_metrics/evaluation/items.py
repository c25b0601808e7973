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
from balance_metrics.evaluation.checks import CHECK_COLUMNS, FAIL, MISSING, PASS, STATUS_LABELS, checks_frame, combine, fmt, requirement_text
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
    """Every item's checks (see :data:`balance_metrics.checks.CHECK_COLUMNS`)."""
    parts: list[pd.DataFrame] = []
    for item_id, spec in specs.items():  # a loop over the item definitions
        source_id = spec.get("same_as", item_id)
        source = specs[source_id]
        found = RULES[source["rule"]](ctx, source_id, source)
        frame = found if isinstance(found, pd.DataFrame) else checks_frame(found)
        if source.get("evidence_part") and source["rule"] != "evidence":
            # A computed item with a part judged on documents: both must pass.
            documents = evidence.evidence_rule(ctx, source_id, source)
            documents = documents if isinstance(documents, pd.DataFrame) else checks_frame(documents)
            frame = pd.concat([frame, documents.assign(part_name=str(source["evidence_part"]))], ignore_index=True)
        parts.append(frame.assign(item_id=item_id))
    return checks_frame([]) if not parts else pd.concat(parts, ignore_index=True)[CHECK_COLUMNS]


def summarise_items(standard: Standard, specs: Mapping[str, Mapping[str, Any]], checks: pd.DataFrame, references: Mapping[str, str]) -> pd.DataFrame:
    """One row per item: measured and requirement as text, status, failing schools.

    Returns
    -------
    DataFrame
        Columns :data:`ITEM_COLUMNS`. ``status`` is pass / fail / evidence
        missing / not applicable; ``status_label`` its Chinese label.
    """
    rows = []
    groups = dict(tuple(checks.groupby("item_id", sort=False))) if len(checks) else {}
    for item_id, spec in specs.items():  # a loop over the item definitions
        mine = groups.get(item_id, checks.iloc[0:0])
        item = standard.items[item_id]
        status = combine(mine["status"])
        evidence_based = specs[spec.get("same_as", item_id)].get("rule") == "evidence"
        rows.append({
            "id": item_id,
            "area": spec["area"],
            "area_name": item.area_name,
            "name": item.name,
            "scope": spec["scope"],
            "rule": spec.get("rule", f"same_as {spec.get('same_as')}"),
            "measured": _evidence_measured(mine) if evidence_based else _measured(mine, spec),
            "requirement": _evidence_requirement(spec) if evidence_based else _requirement(mine, spec),
            "status": status,
            "status_label": STATUS_LABELS[status],
            "failing_schools": _failing_schools(mine),
            "detail": _detail(mine),
            "evidence": references.get(item_id, ""),
            "responsible": spec.get("responsible", ""),
            "source": spec.get("source", ""),
        })
    return pd.DataFrame(rows, columns=ITEM_COLUMNS)


def label_of(row: pd.Series) -> str:
    """What a check is about: ``小学数学校际差异率`` / ``初中R7差异系数``."""
    stage = STAGES.get(str(row["stage"]), str(row["stage"]))
    return f"{stage}{row['target']}{row['part_name']}"


def value_text(row: pd.Series) -> str:
    return f"{label_of(row)}{fmt(row['measured'], row['unit'])}"


def _measured(mine: pd.DataFrame, spec: Mapping[str, Any]) -> str:
    documents = mine["part"].isin(EVIDENCE_PARTS)
    if documents.any():  # the documented part of a computed item (evidence_part)
        text = _measured(mine[~documents], {})
        return "；".join(t for t in (text, f"{spec.get('evidence_part', '')}{_evidence_measured(mine[documents])}") if t)
    district = mine[mine["school_id"] == ""]
    schools = mine[mine["school_id"] != ""]
    parts = []
    if len(district) > _MAX_LISTED:
        failing = district[district["status"] == FAIL]
        parts.append(f"{len(failing)}/{len(district)}项未达标" + ("：" + "；".join(value_text(r) for r in failing.to_dict("records")) if len(failing) else ""))
    else:
        parts += [value_text(r) for r in district.to_dict("records") if r["status"] in (PASS, FAIL)]
    if len(schools) and not len(district):
        failing = schools.loc[schools["status"] == FAIL, "school_id"].nunique()
        parts.append(f"{failing}所学校未达标（共{schools['school_id'].nunique()}所）")
    missing = mine[mine["status"] == MISSING]
    if len(missing):
        parts.append(f"{len(missing)}项缺少数据")
    return "；".join(parts)


def _requirement(mine: pd.DataFrame, spec: Mapping[str, Any]) -> str:
    if spec.get("evidence_part"):
        text = _requirement(mine[~mine["part"].isin(EVIDENCE_PARTS)], {})
        return "；".join(t for t in (text, f"{spec['evidence_part']}：{_evidence_requirement(spec)}") if t)
    texts = []
    distinct = mine.dropna(subset=["requirement"]).drop_duplicates(["stage", "part_name", "comparison", "requirement", "unit"])
    for r in distinct.to_dict("records"):  # distinct requirements only
        text = f"{STAGES.get(str(r['stage']), str(r['stage']))}{r['part_name']}{requirement_text(r['comparison'], r['requirement'], r['unit'])}"
        if text not in texts:
            texts.append(text)
    return "；".join(texts) if len(texts) <= 3 else "按各校情况核定（见 checks 表）"


def _failing_schools(mine: pd.DataFrame) -> str:
    failing = mine[(mine["status"] == FAIL) & (mine["school_id"] != "")]
    if failing.empty:
        return ""
    code, schools = pd.factorize(failing["school_id"])
    values = join_by_group(code, np.asarray([value_text(r) for r in failing.to_dict("records")], dtype=object), len(schools), sep="、")
    names = failing["school_name"].to_numpy(object)[first_rows(code, len(schools))]
    return "；".join(f"{name}（{school}）{text}" for name, school, text in zip(names, schools, values))


def _detail(mine: pd.DataFrame) -> str:
    missing = mine[mine["status"] == MISSING]
    notes = [f"{name or '全区'}：{note}" for name, note in zip(missing["school_name"], missing["note"]) if note]
    district = mine[(mine["school_id"] == "") & (mine["status"].isin([PASS, FAIL]))]
    if len(district) <= _MAX_LISTED:  # longer lists are summarised in `measured`
        notes += [str(note) for note in district["note"] if note]
    return "；".join(dict.fromkeys(notes))


def _evidence_measured(mine: pd.DataFrame) -> str:
    documents = mine[mine["part"] == "document"]
    if documents.empty:
        return "无佐证材料"
    counts = documents["status"].map(STATUS_LABELS).value_counts()
    return f"佐证材料{len(documents)}份：" + "、".join(f"{label}{n}" for label, n in counts.items())


def _evidence_requirement(spec: Mapping[str, Any]) -> str:
    if spec["area"] == "veto":
        return "不存在该情形（佐证材料审核确认）"
    return "佐证材料齐全并审核达标"
