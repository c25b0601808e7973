"""A local plan's own targets (``[plan_targets.<id>]`` of a standard), e.g. Beichen 2021.

Each target names a *measure* (below) and its numbers: ``requirement``,
``comparison`` (">=" or "<="), ``unit``, ``deadline`` (ISO date) and the
measure's parameters. Measures return one number per period so that progress
can be followed over periods:

- ``district_value``: a district figure as reported (cumulative places and m²
  since the plan's baseline, rates in %);
- ``*_shortfall``: what every school together still lacks (key teachers,
  training funds in 元, trained staff, rooms) — 0 when every school meets it;
- ``budget_min_growth``: the smallest year-on-year change (%) of a yearly
  budget figure — never below 0 when spending never decreases.

Plan targets do not decide recognition; they are reported beside the items.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import Any

import pandas as pd

from balance_metrics.evaluation.checks import DATA_MISSING, FAIL, MISSING, PASS, STATUS_LABELS, check_row, checks_frame, compare, fmt
from balance_metrics.evaluation.context import Context
from balance_metrics.evaluation.measurement import Measurement
from balance_metrics.evaluation import plan_coverage
from balance_metrics.contract.schema import DISTRICT_ITEMS
from balance_metrics.engine.schoolview import in_scope
from balance_metrics.standard.loader import Standard, exact

PLAN_COLUMNS = [
    "target_id", "name", "scope", "measured", "requirement", "unit", "comparison", "deadline",
    "status", "status_label", "detail", "responsible", "source",
]


Measure = Callable[[Context, str, Mapping[str, Any]], Measurement]


def district_value(ctx: Context, target_id: str, spec: Mapping[str, Any]) -> Measurement:
    """The district figure ``item`` as reported."""
    code = spec["item"]
    value = ctx.district.get(code)
    note = "" if value is not None else f"区级指标表未填报 {code}（{DISTRICT_ITEMS[code].zh}）"
    source = ctx.district.references.get(code, "")
    return Measurement(value, note=note or (f"数据来源：{source}" if source else ""))


def _school_shortfalls(ctx: Context, target_id: str, spec: Mapping[str, Any],
                       judge: Callable[[pd.Series], tuple[dict[str, object], Fraction] | None]) -> Measurement:
    """Sum the shortfalls that ``judge`` finds per in-scope school (None: no data)."""
    total, details, lacking = Fraction(0), [], []
    for _, school in in_scope(ctx.schools, spec).iterrows():
        judged = judge(school)
        if judged is None:
            lacking.append(str(school["school_name"]))
            continue
        row, gap = judged
        details.append(row)
        total += gap
    note = f"{len(lacking)}所学校缺少数据：{'、'.join(lacking)}" if lacking else ""
    if not details:
        return Measurement(None, note=note or "无适用学校")
    return Measurement(total, details, note, incomplete=bool(lacking))


def key_teacher_shortfall(ctx: Context, target_id: str, spec: Mapping[str, Any]) -> Measurement:
    """Key teachers (persons) still needed for ``per_100_students`` in every school."""
    per = exact(spec["per_100_students"])

    def judge(school: pd.Series) -> tuple[dict[str, object], Fraction] | None:
        pupils, key = int(school["students"]), int(school["key_teachers"])
        if pupils == 0:
            return None
        gap = Fraction(max(0, math.ceil(pupils * per / 100 - key)))
        row = check_row(target_id, "key_teachers", "每百名学生区级及以上骨干教师数", Fraction(key * 100, pupils), per, ">=", "人/百生",
                        school=school, note=f"在校生{pupils}人，骨干教师{key}人" + (f"，需增加{fmt(gap, '人')}" if gap else ""))
        return row, gap

    return _school_shortfalls(ctx, target_id, spec, judge)


def training_funds_shortfall(ctx: Context, target_id: str, spec: Mapping[str, Any]) -> Measurement:
    """Training funds (元) missing for ``min_percent`` of each school's public funds."""
    minimum = exact(spec["min_percent"])

    def judge(school: pd.Series) -> tuple[dict[str, object], Fraction] | None:
        if not school["has_finance"] or pd.isna(school["public_funds_yuan"]) or school["public_funds_yuan"] == 0:
            return None
        public, training = exact(float(school["public_funds_yuan"])), exact(float(school["training_funds_yuan"]))
        gap = max(Fraction(0), public * minimum / 100 - training)
        row = check_row(target_id, "training_share", "教师培训经费占公用经费比例", training / public * 100, minimum, ">=", "%", school=school,
                        note=f"培训经费{fmt(training, '元')}，公用经费{fmt(public, '元')}" + (f"，需增加{fmt(gap, '元')}" if gap else ""))
        return row, gap

    return _school_shortfalls(ctx, target_id, spec, judge)


def trained_staff_shortfall(ctx: Context, target_id: str, spec: Mapping[str, Any]) -> Measurement:
    """Staff (persons) still to send to district-level training for ``min_share`` per school."""
    share = exact(spec["min_share"])

    def judge(school: pd.Series) -> tuple[dict[str, object], Fraction] | None:
        if not school["has_staff_training"] or pd.isna(school["staff"]) or school["staff"] == 0:
            return None
        staff, trained = int(school["staff"]), int(school["district_trained"])
        gap = Fraction(max(0, math.ceil(staff * share - trained)))
        row = check_row(target_id, "trained_share", "参加区级及以上培训教职工比例", Fraction(trained * 100, staff), share * 100, ">=", "%",
                        school=school, note=f"教职工{staff}人，参训{trained}人" + (f"，还需{fmt(gap, '人')}" if gap else ""))
        return row, gap

    return _school_shortfalls(ctx, target_id, spec, judge)


def music_art_room_shortfall(ctx: Context, target_id: str, spec: Mapping[str, Any]) -> Measurement:
    """Music plus art rooms (间) still missing for 1 each per ``classes_per_room`` classes."""
    per = int(spec["classes_per_room"])

    def judge(school: pd.Series) -> tuple[dict[str, object], Fraction] | None:
        if int(school["classes"]) == 0 or pd.isna(school["music_rooms"]) or pd.isna(school["art_rooms"]):
            return None
        needed = -(-int(school["classes"]) // per)
        gap = Fraction(max(0, needed - int(school["music_rooms"])) + max(0, needed - int(school["art_rooms"])))
        row = check_row(target_id, "rooms_missing", "音乐、美术专用教室缺口", gap, Fraction(0), "<=", "间", school=school,
                        note=f"{int(school['classes'])}个班需音乐、美术教室各{needed}间，现有音乐{int(school['music_rooms'])}间、美术{int(school['art_rooms'])}间")
        return row, gap

    return _school_shortfalls(ctx, target_id, spec, judge)


def labour_room_shortfall(ctx: Context, target_id: str, spec: Mapping[str, Any]) -> Measurement:
    """Labour-practice rooms (间) still missing for ``min_rooms`` per school."""
    minimum = int(spec["min_rooms"])

    def judge(school: pd.Series) -> tuple[dict[str, object], Fraction] | None:
        if pd.isna(school["labour_rooms"]):
            return None
        rooms = int(school["labour_rooms"])
        row = check_row(target_id, "labour_rooms", "劳动实践教室数", Fraction(rooms), Fraction(minimum), ">=", "间", school=school,
                        note=f"现有劳动实践教室{rooms}间" + (f"，需新建{minimum - rooms}间" if rooms < minimum else ""))
        return row, Fraction(max(0, minimum - rooms))

    return _school_shortfalls(ctx, target_id, spec, judge)


def budget_min_growth(ctx: Context, target_id: str, spec: Mapping[str, Any]) -> Measurement:
    """The smallest year-on-year change (%) of the yearly figure ``item`` (needs ≥ 2 years)."""
    code = spec["item"]
    series = ctx.district.series(code)
    years = list(series)
    if len(years) < 2:
        return Measurement(None, note=f"区级指标表需至少连续两年的 {code}（{DISTRICT_ITEMS[code].zh}）")
    details, changes = [], []
    for before, year in zip(years, years[1:]):
        change = (series[year] - series[before]) / series[before] * 100 if series[before] else None
        unit = DISTRICT_ITEMS[code].unit
        note = f"{before}年{fmt(series[before], unit)} → {year}年{fmt(series[year], unit)}"
        details.append(check_row(target_id, "yoy_change", f"{DISTRICT_ITEMS[code].zh}同比增幅", change, Fraction(0), ">=", "%",
                                 target=str(year), note=note))
        if change is not None:
            changes.append(change)
    return Measurement(min(changes) if changes else None, details)


MEASURES: dict[str, Measure] = {
    "district_value": district_value,
    "key_teacher_shortfall": key_teacher_shortfall,
    "training_funds_shortfall": training_funds_shortfall,
    "trained_staff_shortfall": trained_staff_shortfall,
    "music_art_room_shortfall": music_art_room_shortfall,
    "labour_room_shortfall": labour_room_shortfall,
    "budget_min_growth": budget_min_growth,
    **plan_coverage.MEASURES,
}


def target_specs(standard: Standard) -> dict[str, Mapping[str, Any]]:
    """The standard's plan targets: id -> the target's table (none for the national
    standard). Checked at load (:mod:`balance_metrics.standard.checking`)."""
    return {target_id: target.params for target_id, target in standard.plan_targets.items()}


def evaluate_plan(ctx: Context) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The plan targets of ``ctx.standard``.

    Returns
    -------
    (DataFrame, DataFrame)
        One row per target (columns :data:`PLAN_COLUMNS`; ``measured`` and
        ``requirement`` float in ``unit``; ``status`` pass / fail / data
        missing), and the per-school or per-year checks behind them
        (:data:`balance_metrics.checks.CHECK_COLUMNS`, item_id = target id).
    """
    rows, details = [], []
    for target_id, spec in target_specs(ctx.standard).items():
        measured = MEASURES[spec["measure"]](ctx, target_id, spec)
        requirement = ctx.standard.plan_targets[target_id].requirement
        if measured.value is None:
            status = DATA_MISSING
        else:
            status = PASS if compare(measured.value, requirement, spec["comparison"]) else FAIL
            status = DATA_MISSING if status == PASS and measured.incomplete else status
        rows.append({
            "target_id": target_id,
            "name": spec["name"],
            "scope": spec.get("scope", "district"),
            "measured": math.nan if measured.value is None else float(measured.value),
            "requirement": float(requirement),
            "unit": spec["unit"],
            "comparison": spec["comparison"],
            "deadline": str(spec["deadline"]),
            "status": status,
            "status_label": STATUS_LABELS[status],
            "detail": _detail(measured),
            "responsible": spec.get("responsible", ""),
            "source": spec.get("source", ""),
        })
        details += measured.details
    frame = pd.DataFrame(rows, columns=PLAN_COLUMNS).astype({"measured": float, "requirement": float})
    return frame, checks_frame(details)


def _detail(measured: Measurement) -> str:
    failing = [d for d in measured.details if d["status"] in (FAIL, MISSING)]
    parts = [measured.note] if measured.note else []
    if failing:
        names = [f"{d['school_name'] or d['target']}（{d['note']}）" for d in failing]
        parts.append(f"未达标{len(failing)}处：" + "；".join(names))
    return "；".join(parts)
