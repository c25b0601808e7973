"""A local plan's own targets (``[plan_targets.<id>]`` of a standard), e.g. Beichen 2021,
measured in every district of a period at once.

Each target names a *measure* (below) and its numbers: ``requirement``,
``comparison`` (">=" or "<="), ``unit``, ``deadline`` (ISO date) and the
measure's parameters. Measures return one number per district and period so
that progress can be followed over periods:

- ``district_value``: a district figure as reported (cumulative places and m²
  since the plan's baseline, rates in %);
- ``*_shortfall``: what every school together still lacks (key teachers,
  training funds in 元, trained staff, rooms) — 0 when every school meets it;
- ``budget_min_growth``: the smallest year-on-year change (%) of a yearly
  budget figure — never below 0 when spending never decreases.

Every measure works on whole columns (all schools of all districts, keyed by
the district's position in ``ctx.ids``) with exact arithmetic
(:class:`~balance_metrics.evaluation.ratios.Ratios`); a district's results do
not depend on the other districts evaluated with it. Plan targets do not
decide recognition; they are reported beside the items.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from balance_metrics.common.grouped import join_by_group
from balance_metrics.contract.schema import DISTRICT_ITEMS
from balance_metrics.evaluation import plan_coverage
from balance_metrics.evaluation.checks import (CHECK_COLUMNS, DATA_MISSING, FAIL, MISSING, PASS, STATUS_LABELS, check_frame,
                                               checks_frame, fmt_many, lookup)
from balance_metrics.evaluation.context import Context, district_key
from balance_metrics.evaluation.district_cross_checks import annotate_targets, cross_checks, cross_check_warnings
from balance_metrics.evaluation.measurement import (DETAIL_COLUMNS, Measurement, count_by_district, join_notes, lacking_note, missing,
                                                    no_details, scope, sum_by_district, texts)
from balance_metrics.evaluation.ratios import Ratios
from balance_metrics.standard.loader import Standard, exact

PLAN_COLUMNS = [
    "target_id", "name", "scope", "measured", "requirement", "unit", "comparison", "deadline",
    "status", "status_label", "detail", "responsible", "source",
]


Measure = Callable[[Context, str, Mapping[str, Any]], Measurement]


def district_value(ctx: Context, target_id: str, spec: Mapping[str, Any]) -> Measurement:
    """The district figure ``item`` as reported, in every district."""
    code = str(spec["item"])
    n = len(ctx.ids)
    value = ctx.figures.exact(code)
    source = _references(ctx, code)
    note = np.where(value.missing, f"区级指标表未填报 {code}（{DISTRICT_ITEMS[code].zh}）",
                    np.where(source != "", "数据来源：" + source, "")).astype(object)
    return Measurement(value, no_details(), note, np.zeros(n, dtype=bool))


def _references(ctx: Context, code: str) -> np.ndarray:
    """Each district's data source for ``code`` (the last one given; "" for none)."""
    out = texts(len(ctx.ids))
    given = ctx.once("plan.references", lambda: _all_references(ctx))
    rows = given[given["item"].to_numpy(object) == code]
    out[rows["where"].to_numpy(np.int64)] = rows["reference"].to_numpy(object)
    return out


def _all_references(ctx: Context) -> pd.DataFrame:
    """(where, item, reference) of the district table, the last source given per district and item."""
    table = ctx.dataset.table("district")
    if table is None or table.empty:
        return pd.DataFrame({"where": np.zeros(0, dtype=np.int64), "item": np.zeros(0, dtype=object), "reference": np.zeros(0, dtype=object)})
    rows = table[table["reference"].notna().to_numpy(bool)]
    frame = pd.DataFrame({"where": ctx.position(district_key(rows)), "item": rows["item"].to_numpy(object),
                          "reference": rows["reference"].astype(str).to_numpy(object)})
    return frame[frame["where"].to_numpy() >= 0].drop_duplicates(["where", "item"], keep="last")  # later rows win, as a dict would


def _school_measure(ctx: Context, schools: pd.DataFrame, lacking: np.ndarray, gaps: Ratios, checks: pd.DataFrame) -> Measurement:
    """Sum per district of the ``gaps`` of the schools with data (``~lacking``).

    ``checks`` are the judged schools' checks (district position in ``district_id``).
    A district none of whose schools could be judged has no value.
    """
    n = len(ctx.ids)
    where = schools["_district"].to_numpy(np.int64)
    value = sum_by_district(gaps, where[~lacking], n)
    note = lacking_note(lacking, schools["school_name"].to_numpy(object), where, n)
    note = np.where(value.missing & (note == ""), "无适用学校", note).astype(object)
    return Measurement(value, as_details(checks), note, count_by_district(lacking, where, n) > 0)


def as_details(checks: pd.DataFrame) -> pd.DataFrame:
    """A :func:`~balance_metrics.evaluation.checks.check_frame` whose ``district_id`` holds
    district positions, as details (:data:`~balance_metrics.evaluation.measurement.DETAIL_COLUMNS`)."""
    return checks.assign(_district=checks["district_id"].to_numpy(np.int64), district_id="")[DETAIL_COLUMNS]


def _ints(values: object) -> np.ndarray:
    return np.asarray(values, dtype=np.int64).astype(str).astype(object)


def _ceil_div(top: np.ndarray, bottom: int) -> np.ndarray:
    return -((-top) // bottom)


def _school_checks(target_id: str, part: str, part_name: str, judged: pd.DataFrame, measured: Ratios, requirement: Ratios | object,
                   comparison: str, unit: str, note: np.ndarray) -> pd.DataFrame:
    return check_frame(target_id, part, part_name, judged["_district"].to_numpy(np.int64), measured, requirement, comparison, unit,
                       school_id=judged["school_id"].to_numpy(object), school_name=judged["school_name"].to_numpy(object), note=note)


def key_teacher_shortfall(ctx: Context, target_id: str, spec: Mapping[str, Any]) -> Measurement:
    """Key teachers (persons) still needed for ``per_100_students`` in every school."""
    per = exact(spec["per_100_students"])
    schools = scope(ctx, spec)
    lacking = schools["students"].to_numpy(np.int64) == 0
    judged = schools[~lacking]
    pupils, key = judged["students"].to_numpy(np.int64), judged["key_teachers"].to_numpy(np.int64)
    # ceil(pupils × per ÷ 100 − key), in integers
    gap = np.maximum(0, _ceil_div(pupils * per.numerator - 100 * per.denominator * key, 100 * per.denominator))
    note = ("在校生" + _ints(pupils) + "人，骨干教师" + _ints(key) + "人" +
            np.where(gap > 0, "，需增加" + fmt_many(gap, "人"), "")).astype(object)
    checks = _school_checks(target_id, "key_teachers", "每百名学生区级及以上骨干教师数", judged,
                            Ratios(key * 100, pupils, np.zeros(len(key), dtype=bool)), per, ">=", "人/百生", note)
    return _school_measure(ctx, schools, lacking, Ratios.whole(gap), checks)


def training_funds_shortfall(ctx: Context, target_id: str, spec: Mapping[str, Any]) -> Measurement:
    """Training funds (元) missing for ``min_percent`` of each school's public funds."""
    minimum = exact(spec["min_percent"])
    schools = scope(ctx, spec)
    public_all = schools["public_funds_yuan"].to_numpy(float)
    lacking = ~schools["has_finance"].astype(bool).to_numpy() | np.isnan(public_all) | (public_all == 0)
    judged = schools[~lacking]
    public_f, training_f = public_all[~lacking], judged["training_funds_yuan"].to_numpy(float)
    public, training = Ratios.of(public_f), Ratios.of(training_f)
    gap = (public * Ratios.const(minimum / 100, len(public)) - training).clip0()
    gap_f = gap.floats()
    note = ("培训经费" + fmt_many(training_f, "元") + "，公用经费" + fmt_many(public_f, "元") +
            np.where(gap_f != 0, "，需增加" + fmt_many(gap_f, "元"), "")).astype(object)
    checks = _school_checks(target_id, "training_share", "教师培训经费占公用经费比例", judged, training * 100 / public, minimum, ">=", "%", note)
    return _school_measure(ctx, schools, lacking, gap, checks)


def trained_staff_shortfall(ctx: Context, target_id: str, spec: Mapping[str, Any]) -> Measurement:
    """Staff (persons) still to send to district-level training for ``min_share`` per school."""
    share = exact(spec["min_share"])
    schools = scope(ctx, spec)
    staff_all = schools["staff"].to_numpy(float)
    lacking = (~schools["has_staff_training"].astype(bool).to_numpy() | np.isnan(staff_all) | (staff_all == 0)
               | np.isnan(schools["district_trained"].to_numpy(float)))
    judged = schools[~lacking]
    staff, trained = staff_all[~lacking].astype(np.int64), judged["district_trained"].to_numpy(float).astype(np.int64)
    gap = np.maximum(0, _ceil_div(staff * share.numerator - trained * share.denominator, share.denominator))
    note = ("教职工" + _ints(staff) + "人，参训" + _ints(trained) + "人" +
            np.where(gap > 0, "，还需" + fmt_many(gap, "人"), "")).astype(object)
    checks = _school_checks(target_id, "trained_share", "参加区级及以上培训教职工比例", judged,
                            Ratios(trained * 100, staff, np.zeros(len(staff), dtype=bool)), share * 100, ">=", "%", note)
    return _school_measure(ctx, schools, lacking, Ratios.whole(gap), checks)


def music_art_room_shortfall(ctx: Context, target_id: str, spec: Mapping[str, Any]) -> Measurement:
    """Music plus art rooms (间) still missing for 1 each per ``classes_per_room`` classes."""
    per = int(spec["classes_per_room"])
    schools = scope(ctx, spec)
    music_all, art_all = schools["music_rooms"].to_numpy(float), schools["art_rooms"].to_numpy(float)
    lacking = (schools["classes"].to_numpy(np.int64) == 0) | np.isnan(music_all) | np.isnan(art_all)
    judged = schools[~lacking]
    classes = judged["classes"].to_numpy(np.int64)
    music, art = music_all[~lacking].astype(np.int64), art_all[~lacking].astype(np.int64)
    needed = _ceil_div(classes, per)
    gap = np.maximum(0, needed - music) + np.maximum(0, needed - art)
    note = (_ints(classes) + "个班需音乐、美术教室各" + _ints(needed) + "间，现有音乐" + _ints(music) + "间、美术" + _ints(art) + "间").astype(object)
    checks = _school_checks(target_id, "rooms_missing", "音乐、美术专用教室缺口", judged, Ratios.whole(gap), Ratios.whole(np.zeros(len(gap))),
                            "<=", "间", note)
    return _school_measure(ctx, schools, lacking, Ratios.whole(gap), checks)


def labour_room_shortfall(ctx: Context, target_id: str, spec: Mapping[str, Any]) -> Measurement:
    """Labour-practice rooms (间) still missing for ``min_rooms`` per school."""
    minimum = int(spec["min_rooms"])
    schools = scope(ctx, spec)
    rooms_all = schools["labour_rooms"].to_numpy(float)
    lacking = np.isnan(rooms_all)
    judged = schools[~lacking]
    rooms = rooms_all[~lacking].astype(np.int64)
    note = ("现有劳动实践教室" + _ints(rooms) + "间" +
            np.where(rooms < minimum, "，需新建" + _ints(minimum - rooms) + "间", "")).astype(object)
    checks = _school_checks(target_id, "labour_rooms", "劳动实践教室数", judged, Ratios.whole(rooms), Ratios.whole(np.full(len(rooms), minimum)),
                            ">=", "间", note)
    return _school_measure(ctx, schools, lacking, Ratios.whole(np.maximum(0, minimum - rooms)), checks)


def budget_min_growth(ctx: Context, target_id: str, spec: Mapping[str, Any]) -> Measurement:
    """The smallest year-on-year change (%) of the yearly figure ``item`` (needs ≥ 2 years).

    The target is judged exactly on every change: the smallest is at least the
    requirement when all are (``>=``, ``>``), at most it when any is (``<=``, ``<``).
    """
    code = str(spec["item"])
    n = len(ctx.ids)
    item = DISTRICT_ITEMS[code]
    too_few = f"区级指标表需至少连续两年的 {code}（{item.zh}）"
    table = ctx.dataset.table("district")
    if table is None or table.empty:
        return Measurement(missing(n), no_details(), texts(n, too_few), np.zeros(n, dtype=bool))
    rows = table[(table["item"] == code).to_numpy(bool)]
    frame = pd.DataFrame({"where": ctx.position(district_key(rows)), "year": rows["year"].to_numpy(float).astype(np.int64),
                          "value": rows["value"].to_numpy(float)})
    # One value per district and year (a later row wins), years ascending.
    frame = frame[frame["where"] >= 0].drop_duplicates(["where", "year"], keep="last").sort_values(["where", "year"], kind="stable")
    where, year, value = (frame[c].to_numpy() for c in ("where", "year", "value"))
    pair = np.r_[False, where[1:] == where[:-1]] if len(where) else np.zeros(0, dtype=bool)
    before = np.flatnonzero(pair) - 1
    after = np.flatnonzero(pair)
    now, then = Ratios.of(value[after]), Ratios.of(value[before])
    change = (now - then) * 100 / then  # missing where the year before is 0
    note = (_ints(year[before]) + "年" + fmt_many(value[before], item.unit) + " → " + _ints(year[after]) + "年" + fmt_many(value[after], item.unit))
    zero = Ratios.whole(np.zeros(len(after)))
    checks = check_frame(target_id, "yoy_change", f"{item.zh}同比增幅", where[after], change, zero, ">=", "%",
                         target=_ints(year[after]), note=note.astype(object))
    pairs = np.bincount(where[after], minlength=n)[:n]
    requirement = ctx.standard.plan_targets[target_id].requirement
    comparison = str(spec["comparison"])
    present = ~change.missing
    smallest = _smallest(change, where[after], n)
    meets = change.compare(Ratios.const(requirement, len(after)), comparison)
    if comparison in (">=", ">"):
        met = count_by_district(present & ~meets, where[after], n) == 0
    else:
        met = count_by_district(present & meets, where[after], n) > 0
    note_out = np.where(pairs == 0, too_few, "").astype(object)
    return Measurement(smallest, as_details(checks), note_out, np.zeros(n, dtype=bool), met)


def _smallest(values: Ratios, where: np.ndarray, n: int) -> Ratios:
    """Each district's smallest present value (missing for none).

    Picked by its float (rounding to float never reverses an order); the
    comparison with the target is made on every value (see :func:`budget_min_growth`).
    """
    out = missing(n)
    present = np.flatnonzero(~values.missing)
    if not len(present):
        return out
    floats = values.floats()[present]
    order = present[np.lexsort((floats, where[present]))]
    first = np.r_[True, where[order][1:] != where[order][:-1]]
    chosen = order[first]
    taken = values.take(chosen)
    num, den, gone = out.num.astype(object), out.den.astype(object), out.missing.copy()
    num[where[chosen]], den[where[chosen]], gone[where[chosen]] = taken.num, taken.den, False
    return Ratios(num, den, gone)


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


def evaluate_plan(ctx: Context) -> tuple[pd.DataFrame, pd.DataFrame, Mapping[str, pd.DataFrame]]:
    """The plan targets of ``ctx.standard`` in every district of ``ctx``, and the
    district totals cross-checked against the schools' own figures.

    Returns
    -------
    (DataFrame, DataFrame, mapping)
        One row per district × target, district by district in ``ctx.ids``
        order (columns ``district_id`` and :data:`PLAN_COLUMNS`; ``measured``
        and ``requirement`` float in ``unit``; ``status`` pass / fail / data
        missing; a disagreeing cross-check is added to ``detail``); the
        per-school or per-year checks behind them
        (:data:`~balance_metrics.evaluation.checks.CHECK_COLUMNS`, item_id =
        target id), district by district; and district_id -> the data warnings
        of the cross-checks that disagree (only districts with some).
    """
    ids = ctx.ids
    n = len(ids)
    specs = target_specs(ctx.standard)
    if not specs:
        empty = pd.DataFrame(columns=["district_id", *PLAN_COLUMNS]).astype({"measured": float, "requirement": float})
        return empty, checks_frame([]), {}
    columns: dict[str, list[np.ndarray]] = {c: [] for c in ["district_id", *PLAN_COLUMNS]}
    details = []
    for target_id, spec in specs.items():  # a loop over the plan's targets
        measured = MEASURES[spec["measure"]](ctx, target_id, spec)
        for column, values in _target_rows(ctx, target_id, spec, measured).items():
            columns[column].append(values)
        details.append(measured.details)
    order = np.arange(len(specs) * n).reshape(len(specs), n).T.ravel()  # district by district, targets in order
    targets = pd.DataFrame({c: np.concatenate(v)[order] for c, v in columns.items()})
    targets = targets.astype({"measured": float, "requirement": float})
    checks = pd.concat(details, ignore_index=True)
    checks = checks.iloc[np.argsort(checks["_district"].to_numpy(np.int64), kind="stable")]
    checks = checks.assign(district_id=ids[checks["_district"].to_numpy(np.int64)])[CHECK_COLUMNS].reset_index(drop=True)
    found = cross_checks(ctx)
    targets = annotate_targets(targets, found, ids)
    return targets, checks, cross_check_warnings(ctx, found)


def _target_rows(ctx: Context, target_id: str, spec: Mapping[str, Any], measured: Measurement) -> dict[str, np.ndarray]:
    """One target's row in every district: district_id and :data:`PLAN_COLUMNS`, one array each."""
    n = len(ctx.ids)
    requirement = ctx.standard.plan_targets[target_id].requirement
    value = measured.value
    met = measured.met if measured.met is not None else value.compare(Ratios.const(requirement, n), str(spec["comparison"]))
    status = np.where(value.missing | (met & measured.incomplete), DATA_MISSING, np.where(met, PASS, FAIL)).astype(object)
    same = {"target_id": target_id, "name": spec["name"], "scope": spec.get("scope", "district"), "unit": spec["unit"],
            "comparison": spec["comparison"], "deadline": str(spec["deadline"]), "responsible": spec.get("responsible", ""),
            "source": spec.get("source", "")}
    return {
        "district_id": ctx.ids,
        **{column: texts(n, str(text)) for column, text in same.items()},
        "measured": value.floats(),
        "requirement": np.full(n, float(requirement)),
        "status": status,
        "status_label": lookup(status, STATUS_LABELS.get),
        "detail": _detail(measured, n),
    }


def _detail(measured: Measurement, n: int) -> np.ndarray:
    """The note, then the failing or unjudged checks: ``未达标2处：甲校（…）；乙校（…）``."""
    details = measured.details
    status = details["status"].to_numpy(object)
    failing = (status == FAIL) | (status == MISSING)
    where = details["_district"].to_numpy(np.int64)[failing]
    names = details["school_name"].to_numpy(object)[failing]
    names = np.where(names == "", details["target"].to_numpy(object)[failing], names)
    lines = (names + "（" + details["note"].to_numpy(object)[failing] + "）").astype(object)
    counts = np.bincount(where, minlength=n)[:n]
    listed = np.where(counts > 0, "未达标" + counts.astype(str).astype(object) + "处：" + join_by_group(where, lines, n, sep="；"), "")
    return join_notes(measured.note, listed)
