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
from balance_metrics.evaluation.checks import (DATA_MISSING, FAIL, MISSING, PASS, STATUS_LABELS, check_frame,
                                               checks_frame, fmt_many, lookup)
from balance_metrics.evaluation.context import Context, district_key
from balance_metrics.evaluation.district_cross_checks import annotate_details, cross_checks, cross_check_warnings
from balance_metrics.evaluation.measurement import (Measurement, count_by_district, details_frame, frame_details, lacking_note,
                                                    missing, no_details, scope_column, sum_by_district, texts)
from balance_metrics.evaluation.ratios import Ratios
from balance_metrics.evaluation.wording import join_notes
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
    where, item, reference = ctx.once("plan.references", lambda: _all_references(ctx))
    rows = item == code
    out[where[rows]] = reference[rows]  # later rows win, as a dict would
    return out


def _all_references(ctx: Context) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(where, item, reference) arrays of the district table's rows that give a source, in table order."""
    table = ctx.dataset.table("district")
    if table is None or table.empty:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=object), np.zeros(0, dtype=object)
    rows = table[table["reference"].notna().to_numpy(bool)]
    where = ctx.position(district_key(rows))
    kept = where >= 0
    return where[kept], rows["item"].to_numpy(object)[kept], rows["reference"].astype(str).to_numpy(object)[kept]


def _school_measure(ctx: Context, spec: Mapping[str, Any], lacking: np.ndarray, gaps: Ratios, checks: pd.DataFrame) -> Measurement:
    """Sum per district of the ``gaps`` of the in-scope schools with data (``~lacking``).

    ``checks`` are the judged schools' checks (district position in ``district_id``).
    A district none of whose schools could be judged has no value.
    """
    n = len(ctx.ids)
    where = scope_column(ctx, spec, "_district", np.int64)
    value = sum_by_district(gaps, where[~lacking], n)
    note = lacking_note(lacking, scope_column(ctx, spec, "school_name", object), where, n)
    note = np.where(value.missing & (note == ""), "无适用学校", note).astype(object)
    return Measurement(value, frame_details(checks), note, count_by_district(lacking, where, n) > 0)


def _ints(values: object) -> np.ndarray:
    return np.asarray(values, dtype=np.int64).astype(str).astype(object)


def _ceil_div(top: np.ndarray, bottom: int) -> np.ndarray:
    return -((-top) // bottom)


def _school_checks(ctx: Context, spec: Mapping[str, Any], target_id: str, part: str, part_name: str, judged: np.ndarray, measured: Ratios,
                   requirement: Ratios | object, comparison: str, unit: str, note: np.ndarray) -> pd.DataFrame:
    """The checks of the in-scope schools at ``judged`` (a mask)."""
    def column(name: str, dtype: object) -> np.ndarray:
        return scope_column(ctx, spec, name, dtype)[judged]

    return check_frame(target_id, part, part_name, column("_district", np.int64), measured, requirement, comparison, unit,
                       school_id=column("school_id", object), school_name=column("school_name", object), note=note)


def key_teacher_shortfall(ctx: Context, target_id: str, spec: Mapping[str, Any]) -> Measurement:
    """Key teachers (persons) still needed for ``per_100_students`` in every school."""
    per = exact(spec["per_100_students"])
    pupils_all = scope_column(ctx, spec, "students", np.int64)
    lacking = pupils_all == 0
    pupils, key = pupils_all[~lacking], scope_column(ctx, spec, "key_teachers", np.int64)[~lacking]
    # ceil(pupils × per ÷ 100 − key), in integers
    gap = np.maximum(0, _ceil_div(pupils * per.numerator - 100 * per.denominator * key, 100 * per.denominator))
    note = ("在校生" + _ints(pupils) + "人，骨干教师" + _ints(key) + "人" +
            np.where(gap > 0, "，需增加" + fmt_many(gap, "人"), "")).astype(object)
    checks = _school_checks(ctx, spec, target_id, "key_teachers", "每百名学生区级及以上骨干教师数", ~lacking,
                            Ratios(key * 100, pupils, np.zeros(len(key), dtype=bool)), per, ">=", "人/百生", note)
    return _school_measure(ctx, spec, lacking, Ratios.whole(gap), checks)


def training_funds_shortfall(ctx: Context, target_id: str, spec: Mapping[str, Any]) -> Measurement:
    """Training funds (元) missing for ``min_percent`` of each school's public funds."""
    minimum = exact(spec["min_percent"])
    public_all = scope_column(ctx, spec, "public_funds_yuan", float)
    lacking = ~scope_column(ctx, spec, "has_finance", bool) | np.isnan(public_all) | (public_all == 0)
    public_f, training_f = public_all[~lacking], scope_column(ctx, spec, "training_funds_yuan", float)[~lacking]
    public, training = Ratios.of(public_f), Ratios.of(training_f)
    gap = (public * Ratios.const(minimum / 100, len(public)) - training).clip0()
    gap_f = gap.floats()
    note = ("培训经费" + fmt_many(training_f, "元") + "，公用经费" + fmt_many(public_f, "元") +
            np.where(gap_f != 0, "，需增加" + fmt_many(gap_f, "元"), "")).astype(object)
    checks = _school_checks(ctx, spec, target_id, "training_share", "教师培训经费占公用经费比例", ~lacking, training * 100 / public, minimum, ">=",
                            "%", note)
    return _school_measure(ctx, spec, lacking, gap, checks)


def trained_staff_shortfall(ctx: Context, target_id: str, spec: Mapping[str, Any]) -> Measurement:
    """Staff (persons) still to send to district-level training for ``min_share`` per school."""
    share = exact(spec["min_share"])
    staff_all, trained_all = scope_column(ctx, spec, "staff", float), scope_column(ctx, spec, "district_trained", float)
    lacking = ~scope_column(ctx, spec, "has_staff_training", bool) | np.isnan(staff_all) | (staff_all == 0) | np.isnan(trained_all)
    staff, trained = staff_all[~lacking].astype(np.int64), trained_all[~lacking].astype(np.int64)
    gap = np.maximum(0, _ceil_div(staff * share.numerator - trained * share.denominator, share.denominator))
    note = ("教职工" + _ints(staff) + "人，参训" + _ints(trained) + "人" +
            np.where(gap > 0, "，还需" + fmt_many(gap, "人"), "")).astype(object)
    checks = _school_checks(ctx, spec, target_id, "trained_share", "参加区级及以上培训教职工比例", ~lacking,
                            Ratios(trained * 100, staff, np.zeros(len(staff), dtype=bool)), share * 100, ">=", "%", note)
    return _school_measure(ctx, spec, lacking, Ratios.whole(gap), checks)


def music_art_room_shortfall(ctx: Context, target_id: str, spec: Mapping[str, Any]) -> Measurement:
    """Music plus art rooms (间) still missing for 1 each per ``classes_per_room`` classes."""
    per = int(spec["classes_per_room"])
    music_all, art_all = scope_column(ctx, spec, "music_rooms", float), scope_column(ctx, spec, "art_rooms", float)
    lacking = (scope_column(ctx, spec, "classes", np.int64) == 0) | np.isnan(music_all) | np.isnan(art_all)
    classes = scope_column(ctx, spec, "classes", np.int64)[~lacking]
    music, art = music_all[~lacking].astype(np.int64), art_all[~lacking].astype(np.int64)
    needed = _ceil_div(classes, per)
    gap = np.maximum(0, needed - music) + np.maximum(0, needed - art)
    note = (_ints(classes) + "个班需音乐、美术教室各" + _ints(needed) + "间，现有音乐" + _ints(music) + "间、美术" + _ints(art) + "间").astype(object)
    checks = _school_checks(ctx, spec, target_id, "rooms_missing", "音乐、美术专用教室缺口", ~lacking, Ratios.whole(gap),
                            Ratios.whole(np.zeros(len(gap))), "<=", "间", note)
    return _school_measure(ctx, spec, lacking, Ratios.whole(gap), checks)


def labour_room_shortfall(ctx: Context, target_id: str, spec: Mapping[str, Any]) -> Measurement:
    """Labour-practice rooms (间) still missing for ``min_rooms`` per school."""
    minimum = int(spec["min_rooms"])
    rooms_all = scope_column(ctx, spec, "labour_rooms", float)
    lacking = np.isnan(rooms_all)
    rooms = rooms_all[~lacking].astype(np.int64)
    note = ("现有劳动实践教室" + _ints(rooms) + "间" +
            np.where(rooms < minimum, "，需新建" + _ints(minimum - rooms) + "间", "")).astype(object)
    checks = _school_checks(ctx, spec, target_id, "labour_rooms", "劳动实践教室数", ~lacking, Ratios.whole(rooms),
                            Ratios.whole(np.full(len(rooms), minimum)), ">=", "间", note)
    return _school_measure(ctx, spec, lacking, Ratios.whole(np.maximum(0, minimum - rooms)), checks)


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
    where, year, value = _yearly(ctx, code)
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
    return Measurement(smallest, frame_details(checks), note_out, np.zeros(n, dtype=bool), met)


def _yearly(ctx: Context, code: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """District position, year and value of ``code`` in the district table: one value per
    district and year (a later row wins), by district then year."""
    table = ctx.dataset.table("district")

    def rows() -> tuple[np.ndarray, ...]:
        where = ctx.position(district_key(table))
        kept = where >= 0
        return (where[kept], table["item"].to_numpy(object)[kept], table["year"].to_numpy(float)[kept],
                table["value"].to_numpy(float)[kept])

    where, item, year, value = ctx.once("plan.district_rows", rows)
    mine = np.flatnonzero(item == code)
    where, year, value = where[mine], year[mine].astype(np.int64), value[mine]
    order = np.lexsort((year, where))  # stable: among equal keys the later row comes last
    where, year, value = where[order], year[order], value[order]
    last = np.r_[(where[1:] != where[:-1]) | (year[1:] != year[:-1]), True] if len(where) else np.zeros(0, dtype=bool)
    return where[last], year[last], value[last]


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
    rows, details, notes = [], [], []
    for target_id, spec in specs.items():  # a loop over the plan's targets
        measured = MEASURES[spec["measure"]](ctx, target_id, spec)
        rows.append(_target_rows(ctx, target_id, spec, measured))
        details.append(measured.details)
        notes.append(measured.note)
    found = cross_checks(ctx)
    targets = _targets_frame(ctx, specs, rows, _detail(details, notes, n), found)
    return targets, details_frame(details, ids), cross_check_warnings(ctx, found)


def _targets_frame(ctx: Context, specs: Mapping[str, Mapping[str, Any]], rows: list[dict[str, np.ndarray]], detail: np.ndarray,
                   found: pd.DataFrame) -> pd.DataFrame:
    """The targets' rows (``rows``: :func:`_target_rows` of each target; ``detail``: :func:`_detail`),
    district by district, targets in order."""
    n, k = len(ctx.ids), len(specs)

    def each(key: str, default: object = None) -> np.ndarray:  # the target's own text, in every district
        return np.tile(np.array([str(spec.get(key, default)) for spec in specs.values()], dtype=object), n)

    def per_district(column: str) -> np.ndarray:  # one array per target: district by district
        return np.stack([r[column] for r in rows]).T.ravel()

    target_ids = np.tile(np.array(list(specs), dtype=object), n)
    status = per_district("status")
    return pd.DataFrame({
        "district_id": np.repeat(np.asarray(ctx.ids, dtype=object), k), "target_id": target_ids, "name": each("name"),
        "scope": each("scope", "district"), "measured": per_district("measured").astype(float),
        "requirement": np.tile(np.array([float(ctx.standard.plan_targets[t].requirement) for t in specs]), n),
        "unit": each("unit"), "comparison": each("comparison"), "deadline": each("deadline"), "status": status,
        "status_label": lookup(status, STATUS_LABELS.get),
        "detail": annotate_details(detail.reshape(k, n).T.ravel(), np.repeat(np.arange(n), k), target_ids, found),
        "responsible": each("responsible", ""), "source": each("source", ""),
    })


def _target_rows(ctx: Context, target_id: str, spec: Mapping[str, Any], measured: Measurement) -> dict[str, np.ndarray]:
    """One target's value and status in every district."""
    n = len(ctx.ids)
    requirement = ctx.standard.plan_targets[target_id].requirement
    value = measured.value
    met = measured.met if measured.met is not None else value.compare(Ratios.const(requirement, n), str(spec["comparison"]))
    status = np.where(value.missing | (met & measured.incomplete), DATA_MISSING, np.where(met, PASS, FAIL)).astype(object)
    return {"measured": value.floats(), "status": status}


def _detail(details: list[Mapping[str, np.ndarray]], notes: list[np.ndarray], n: int) -> np.ndarray:
    """Each target's note in each district, then its failing or unjudged checks there:
    ``未达标2处：甲校（…）；乙校（…）`` (target by target, ``n`` districts each; all at once)."""
    def column(name: str) -> np.ndarray:
        return np.concatenate([d[name] for d in details])

    status = column("status")
    failing = (status == FAIL) | (status == MISSING)
    group = np.concatenate([d["_district"] + k * n for k, d in enumerate(details)])[failing]  # target k, district d: k × n + d
    names = column("school_name")[failing]
    names = np.where(names == "", column("target")[failing], names)
    lines = (names + "（" + column("note")[failing] + "）").astype(object)
    groups = len(details) * n
    counts = np.bincount(group, minlength=groups)[:groups]
    listed = np.where(counts > 0, "未达标" + counts.astype(str).astype(object) + "处：" + join_by_group(group, lines, groups, sep="；"), "")
    return join_notes(np.concatenate(notes), listed)
