"""Plan-target measures of coverage: every school (or school section) must meet a rule.

Each measure returns, for every district at once, the total that all its
in-scope schools together still lack (0 = full coverage) and one check per
school, computed column-wise over all districts:

- ``item_value``: the measured value of an evaluation item's rule (e.g. the
  retention rate of Q1), judged against the target's own requirement;
- ``indicator_shortfall``: per school section, the area (or other numerator)
  still missing for a resource indicator's threshold (e.g. R4 teaching rooms,
  R5 sports venues), in the numerator's unit (m²);
- ``part_of_whole_shortfall``: ``whole − part`` per school (indoor teaching
  spaces without multimedia; staff not trained within three years);
- ``count_minimum_shortfall``: ``minimum − count`` per school, when short (ICT
  training sessions in the last term);
- ``flag_shortfall``: schools whose yes/no column is not yes (broadband,
  full wireless coverage);
- ``filled_shortfall``: schools with an empty column (no 学区; no 帮扶 partner
  for a rural or relatively weak school).

Per-school figures of a 不计校数 campus are added to its parent's (yes/no:
every campus must say yes). A column nobody filled in means the data are
missing, not that every school fails; for a column only some schools need (a
帮扶 partner) that is so when the flag saying which need it is empty too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from balance_metrics.common.errors import StandardError
from balance_metrics.contract.schema import TABLES
from balance_metrics.engine.schoolview import owner_of
from balance_metrics.evaluation.checks import FAIL, MISSING, PASS, fmt_many, lookup
from balance_metrics.evaluation.context import Context
from balance_metrics.evaluation.measurement import (Measurement, count_by_district, detail_columns, lacking_note, missing, no_details,
                                                    rows_of, scope_column, scope_key, section_districts, sum_by_district,
                                                    take_rows, texts)
from balance_metrics.evaluation.ratios import Ratios
from balance_metrics.standard.loader import exact


def _label(table: str, column: str) -> str:
    return TABLES[table].column(column).zh


def _per_school(ctx: Context, spec: Mapping[str, Any], table: str, columns: list[str]) -> dict[str, np.ndarray]:
    """In-scope schools of every district: ``school_id``, ``school_name``, ``area_type``, ``_district``
    (their district position) and ``columns`` of ``table`` (campuses added to their
    parent), one array each.

    Counts add up over campuses (NaN if any campus lacks the figure); yes/no
    columns are yes only when every campus says yes.
    """
    out = {"school_id": scope_column(ctx, spec, "school_id", object), "school_name": scope_column(ctx, spec, "school_name", object),
           "area_type": scope_column(ctx, spec, "area_type", object), "_district": scope_column(ctx, spec, "_district", np.int64)}
    school_ids = ctx.once(("plan.scope_index", *scope_key(spec)), lambda: pd.Index(out["school_id"], name="school_id"))
    frame = ctx.dataset.table(table) if table != "schools" else ctx.dataset.schools
    if frame is None:
        return {**out, **{c: np.full(len(school_ids), np.nan) for c in columns}}
    if table == "schools":
        values = ctx.once("plan.schools_by_id", lambda: frame.set_index("school_id"))[columns]
    else:
        owner = ctx.once("owner", lambda: owner_of(ctx.dataset, ctx.standard))
        rows_owner = ctx.once(f"owner_rows:{table}", lambda: frame["school_id"].map(owner))
        numeric = {c: frame[c].to_numpy(float, na_value=np.nan) for c in columns}
        flags = all(TABLES[table].column(c).kind == "bool" for c in columns)
        fast = _owned_totals(school_ids, rows_owner, numeric, flags)
        if fast is not None:
            return {**out, **fast}
        numeric = pd.DataFrame(numeric, index=frame.index)
        grouped = numeric.groupby(rows_owner)
        lacking = numeric.isna().groupby(rows_owner).any()
        values = grouped.min() if flags else grouped.sum()
        values = values.mask(lacking)
    return _joined(out, school_ids, values[columns])


def _joined(schools: Mapping[str, np.ndarray], school_ids: pd.Index, values: pd.DataFrame) -> dict[str, np.ndarray]:
    """``schools`` (arrays, ``school_ids`` their index) left-joined with ``values`` (indexed by
    school id), columns as :func:`_array`: by position when each id has one row of ``values``."""
    if values.index.is_unique:
        values = values.reindex(school_ids)
    else:  # a school id on several rows: one row per match, as a join gives it
        own = [c for c in schools if c != "school_id"]
        joined = pd.DataFrame({c: schools[c] for c in own}, index=school_ids).join(values, how="left")
        schools = {"school_id": joined.index.to_numpy(object), **{c: joined[c].to_numpy() for c in own}}
        values = joined
    return {**schools, **{c: _array(values[c]) for c in values.columns}}


def _array(values: pd.Series) -> np.ndarray:
    """A column as floats (NaN where missing) when it holds numbers or yes/no, else as objects."""
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return values.to_numpy(float, na_value=np.nan)
    return values.to_numpy(object)


def _owned_totals(school_ids: pd.Index, owners: pd.Series, numeric: Mapping[str, np.ndarray] | pd.DataFrame,
                  flags: bool) -> dict[str, np.ndarray] | None:
    """Each column's total (``flags``: minimum) over the rows each school owns, NaN
    where a row lacks it or the school has none — the grouped sum / min of
    :func:`_per_school` with np.bincount, used when the values are whole numbers
    whose absolute values add up to less than 2**53 (then every sum is exact, in any order); None otherwise (or for
    repeated school ids)."""
    if not school_ids.is_unique:
        return None
    names = list(numeric)  # the column names (of a frame or a dict of float columns)
    values = np.column_stack([np.asarray(numeric[c], dtype=float) for c in names]) if names else np.zeros((len(owners), 0))
    present = ~np.isnan(values)
    whole = values[present]
    if not (np.all(whole == np.round(whole)) and np.abs(whole).sum() < 2**53):  # every partial sum exact
        return None
    at = school_ids.get_indexer(owners.to_numpy(object))
    owned = at >= 0
    at, values, present = at[owned], values[owned], present[owned]
    n = len(school_ids)
    rows = np.bincount(at, minlength=n)
    out = {}
    for k, column in enumerate(names):  # a loop over the one or two columns
        v = values[:, k]
        lacking = np.bincount(at, weights=~present[:, k], minlength=n) > 0
        if flags:  # yes (1) only when every row says yes: the minimum of 0/1
            total = (np.bincount(at, weights=np.where(present[:, k], v == 0, 0), minlength=n) == 0).astype(float)
            if np.any((v != 0) & (v != 1) & present[:, k]):
                return None
        else:
            total = np.bincount(at, weights=np.where(present[:, k], v, 0.0), minlength=n)
        out[column] = np.where(lacking | (rows == 0), np.nan, total)
    return out


def _details(target_id: str, part: str, part_name: str, schools: Mapping[str, np.ndarray], **columns: object) -> dict[str, np.ndarray]:
    """Check rows for every school of ``schools`` (:func:`_per_school`), built column-wise."""
    return detail_columns(schools["_district"], {"item_id": target_id, "part": part, "part_name": part_name, "school_id": schools["school_id"],
                                                 "school_name": schools["school_name"], **columns})


def _result(ctx: Context, schools: Mapping[str, np.ndarray], gaps: np.ndarray, lacking: np.ndarray, details: dict[str, np.ndarray],
            what: str = "") -> Measurement:
    """Per district, the total of ``gaps`` over its schools with data; incomplete when some lack it.

    A district without schools, or none of whose schools has data, has no
    value (one note: ``what`` was not reported) and no checks.
    """
    n = len(ctx.ids)
    where = schools["_district"]
    lacking = np.asarray(lacking, dtype=bool)
    gaps = np.asarray(gaps, dtype=float)
    schools_n, lacking_n = count_by_district(np.ones(len(where), dtype=bool), where, n), count_by_district(lacking, where, n)
    value = sum_by_district(Ratios.of(gaps[~lacking]), where[~lacking], n)
    all_lacking = f"各校均未填报{what}" if what else "各校均缺少数据"
    note = np.where(schools_n == 0, "无适用学校", np.where(lacking_n == schools_n, all_lacking,
                                                         lacking_note(lacking, schools["school_name"], where, n)))
    kept = take_rows(details, ~value.missing[details["_district"]])
    return Measurement(value, kept, note.astype(object), lacking_n > 0)


def item_value(ctx: Context, target_id: str, spec: Mapping[str, Any]) -> Measurement:
    """The value an evaluation item's rule measures (its first check in each district), e.g. Q1's retention rate."""
    from balance_metrics.evaluation.items import RULES  # items import the rule modules, not this one

    item_id = str(spec["item"])
    item = ctx.standard.data.get("items", {}).get(item_id)
    if item is None or item.get("rule") not in RULES:
        raise StandardError(f"plan target {target_id}: item {item_id!r} is not a computed item of the standard")
    n = len(ctx.ids)
    checks = RULES[item["rule"]](ctx, target_id, item)
    where = checks["district_id"].to_numpy(np.int64)  # rules name districts by position
    districts, first = np.unique(where, return_index=True)
    measured = np.full(n, np.nan)
    notes = texts(n)
    measured[districts] = checks["measured"].to_numpy(float)[first]
    notes[districts] = checks["note"].fillna("").astype(str).to_numpy(object)[first]
    absent = np.isnan(measured)
    # The value as Python's round(…, 12) gives it, read as the decimals it prints as.
    value = Ratios.of(np.asarray(lookup(measured, lambda v: round(v, 12) if v == v else v), dtype=float))
    note = np.where(absent, notes, np.where(notes != "", f"同{item_id}：" + notes, f"同{item_id}")).astype(object)
    return Measurement(value, no_details(), note, np.zeros(n, dtype=bool))


def indicator_shortfall(ctx: Context, target_id: str, spec: Mapping[str, Any]) -> Measurement:
    """Numerator (e.g. m²) each school section still lacks for an indicator's threshold.

    ``threshold × students ÷ scale − numerator`` for every section that does not
    meet it (as the resource evaluation judged it, exactly); 0 for the others.
    """
    n = len(ctx.ids)
    indicator = str(spec["indicator"])
    sections = ctx.resources.sections
    chosen = (sections["indicator"] == indicator).to_numpy(bool) & (section_districts(ctx) >= 0)
    if "school_types" in spec:
        chosen &= sections["school_type"].isin(list(spec["school_types"])).to_numpy(bool)
    rows = np.flatnonzero(chosen)
    where = section_districts(ctx)[rows]
    scale = float(exact(ctx.standard.indicator(indicator)["scale"]))
    met = sections["met"].to_numpy(bool)[rows]
    threshold, value = sections["threshold"].to_numpy(float)[rows], sections["value"].to_numpy(float)[rows]
    students = sections["students"].to_numpy(np.int64)[rows]
    gaps = _clip0(np.where(~met, threshold * students / scale - sections["numerator"].to_numpy(float)[rows], 0.0))
    unit = str(spec["unit"])
    name = ctx.standard.indicator(indicator)["name"]
    note = ("在校生" + students.astype(str).astype(object) + "人" + np.where(gaps > 0, "，需补足" + fmt_many(gaps, unit), "")).astype(object)
    districts, first = np.unique(where, return_index=True)
    first_unit = texts(n)
    first_unit[districts] = rows_of(sections, "unit", rows[first], object)  # each district's first section's unit
    details = detail_columns(where, {
        "item_id": target_id, "part": indicator, "part_name": name, "school_id": rows_of(sections, "school_id", rows, object),
        "school_name": rows_of(sections, "school_name", rows, object), "stage": rows_of(sections, "stage", rows, object),
        "measured": value, "requirement": threshold, "comparison": ">=", "unit": first_unit[where],
        "status": np.where(met, PASS, FAIL).astype(object), "shortfall": np.where(~met, _clip0(threshold - value), 0.0), "note": note,
    })
    # Each gap as Python's round(…, 6) gives it, summed exactly.
    rounded = np.asarray(lookup(gaps, lambda g: round(g, 6)), dtype=float)
    value = sum_by_district(Ratios.of(rounded), where, n)
    note_out = np.where(value.missing, "无适用学校", "").astype(object)
    return Measurement(value, details, note_out, np.zeros(n, dtype=bool))


def _clip0(values: np.ndarray) -> np.ndarray:
    """Negative values as 0 (NaN and −0.0 kept, as pandas' ``clip(lower=0)``)."""
    return np.where(values < 0, 0.0, values)


def _status(lacking: np.ndarray, failing: np.ndarray) -> np.ndarray:
    return np.where(lacking, MISSING, np.where(failing, FAIL, PASS)).astype(object)


def part_of_whole_shortfall(ctx: Context, target_id: str, spec: Mapping[str, Any]) -> Measurement:
    """``whole − part`` per school (``table``, ``whole``, ``part`` columns), e.g. spaces without multimedia."""
    table, whole, part = str(spec["table"]), str(spec["whole"]), str(spec["part"])
    schools = _per_school(ctx, spec, table, [whole, part])
    whole_v, part_v = np.asarray(schools[whole], dtype=float), np.asarray(schools[part], dtype=float)
    lacking = np.isnan(whole_v) | np.isnan(part_v)
    gaps = np.clip(whole_v - part_v, 0, None)
    unit = str(spec["unit"])
    note = np.where(lacking, f"缺少{_label(table, part)}或{_label(table, whole)}",
                    _label(table, whole) + fmt_many(whole_v, unit) + np.where(gaps > 0, "，还差" + fmt_many(gaps, unit), "")).astype(object)
    details = _details(target_id, part, _label(table, part), schools, measured=part_v, requirement=whole_v, comparison=">=", unit=unit,
                       status=_status(lacking, gaps > 0), shortfall=np.where(lacking, np.nan, gaps), note=note)
    return _result(ctx, schools, gaps, lacking, details, _label(table, part))


def count_minimum_shortfall(ctx: Context, target_id: str, spec: Mapping[str, Any]) -> Measurement:
    """``minimum − count`` per school where short (``table``, ``column``, ``minimum``), e.g. ICT sessions per term."""
    table, column, minimum = str(spec["table"]), str(spec["column"]), float(exact(spec["minimum"]))
    schools = _per_school(ctx, spec, table, [column])
    count = np.asarray(schools[column], dtype=float)
    lacking = np.isnan(count)
    gaps = np.clip(minimum - count, 0, None)
    unit = str(spec["unit"])
    note = np.where(lacking, f"缺少{_label(table, column)}", np.where(gaps > 0, "还需" + fmt_many(gaps, unit), "")).astype(object)
    details = _details(target_id, column, _label(table, column), schools, measured=count, requirement=minimum, comparison=">=", unit=unit,
                       status=_status(lacking, gaps > 0), shortfall=np.where(lacking, np.nan, gaps), note=note)
    return _result(ctx, schools, gaps, lacking, details, _label(table, column))


def flag_shortfall(ctx: Context, target_id: str, spec: Mapping[str, Any]) -> Measurement:
    """Schools whose yes/no ``column`` of ``table`` is not yes (count of schools)."""
    table, column = str(spec["table"]), str(spec["column"])
    schools = _per_school(ctx, spec, table, [column])
    flag = np.asarray(schools[column], dtype=float)
    lacking = np.isnan(flag)
    gaps = (flag == 0).astype(float)
    label = _label(table, column)
    status = _status(lacking, gaps > 0)
    note = np.where(lacking, f"缺少{label}情况", np.where(gaps > 0, f"未实现{label}", f"已实现{label}")).astype(object)
    details = _details(target_id, column, label, schools, measured=np.nan, requirement=np.nan, comparison="", unit="",
                       status=status, shortfall=np.where(status == PASS, 0.0, np.nan), note=note)
    return _result(ctx, schools, gaps, lacking, details, label)


def filled_shortfall(ctx: Context, target_id: str, spec: Mapping[str, Any]) -> Measurement:
    """Schools with ``column`` empty, e.g. not in any 学区, or no 帮扶 partner.

    ``for_area_types`` and ``for_flag`` restrict it to the schools that need it:
    those of the listed area types, or with the yes/no column ``for_flag`` yes.
    """
    n = len(ctx.ids)
    column = str(spec["column"])
    extra = [str(spec["for_flag"])] if "for_flag" in spec else []
    schools = _per_school(ctx, spec, "schools", [column, *extra])
    where = schools["_district"]
    # Not reported in a district: nobody there filled the column (nor, for a column
    # only some schools need, the flag that says which schools need it).
    silent = pd.isna(schools[column])
    if extra:
        silent = silent & pd.isna(schools[extra[0]])
    unreported = count_by_district(~silent, where, n) == 0
    if "for_area_types" in spec or extra:
        types = set(spec.get("for_area_types", []))
        needs = lookup(schools["area_type"], lambda a: a in types).astype(bool)
        if extra:
            needs = needs | (np.nan_to_num(np.asarray(schools[extra[0]], dtype=float)) != 0)  # yes; no or empty: not needed
        schools = take_rows(schools, needs)
    schools = take_rows(schools, ~unreported[schools["_district"]])
    where = schools["_district"]
    text = lookup(schools[column], lambda v: "" if pd.isna(v) else str(v))
    empty = pd.isna(schools[column]) | (lookup(text, str.strip) == "")
    gaps = empty.astype(float)
    missing_note = str(spec.get("missing_note", f"未填写{_label('schools', column)}"))
    filled = (_label("schools", column) + "：" + text).astype(object)
    details = _details(target_id, column, _label("schools", column), schools, measured=np.nan, requirement=np.nan, comparison="",
                       unit="", status=np.where(empty, FAIL, PASS).astype(object), shortfall=np.where(empty, np.nan, 0.0),
                       note=np.where(empty, missing_note, filled).astype(object))
    nobody = count_by_district(np.ones(len(where), dtype=bool), where, n) == 0  # no school needs it: 0
    value = sum_by_district(Ratios.of(gaps), where, n).where(~nobody | unreported, Ratios.whole(np.zeros(n)))
    value = value.where(~unreported, missing(n))
    note = np.where(unreported, f"各校均未填报{_label('schools', column)}", np.where(nobody, "无需覆盖的学校", "")).astype(object)
    return Measurement(value, details, note, np.zeros(n, dtype=bool))


MEASURES = {
    "item_value": item_value,
    "indicator_shortfall": indicator_shortfall,
    "part_of_whole_shortfall": part_of_whole_shortfall,
    "count_minimum_shortfall": count_minimum_shortfall,
    "flag_shortfall": flag_shortfall,
    "filled_shortfall": filled_shortfall,
}
