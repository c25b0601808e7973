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

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from balance_metrics.common.errors import StandardError
from balance_metrics.contract.schema import TABLES
from balance_metrics.engine.schoolview import owner_of
from balance_metrics.evaluation.checks import FAIL, MISSING, PASS, fmt_many, lookup
from balance_metrics.evaluation.context import Context, district_key
from balance_metrics.evaluation.measurement import (Measurement, count_by_district, detail_frame, lacking_note, missing, no_details, scope,
                                                    sum_by_district, texts)
from balance_metrics.evaluation.ratios import Ratios
from balance_metrics.standard.loader import exact


def _label(table: str, column: str) -> str:
    return TABLES[table].column(column).zh


def _per_school(ctx: Context, spec: Mapping[str, Any], table: str, columns: list[str]) -> pd.DataFrame:
    """In-scope schools of every district (``_district`` their position) with
    ``columns`` of ``table`` (campuses added to their parent).

    Counts add up over campuses (NaN if any campus lacks the figure); yes/no
    columns are yes only when every campus says yes.
    """
    schools = scope(ctx, spec)[["school_id", "school_name", "area_type", "_district"]].set_index("school_id")
    frame = ctx.dataset.table(table) if table != "schools" else ctx.dataset.schools
    if frame is None:
        return schools.assign(**{c: np.nan for c in columns})
    if table == "schools":
        values = frame.set_index("school_id")[columns]
    else:
        owner = ctx.once("owner", lambda: owner_of(ctx.dataset, ctx.standard))
        rows_owner = ctx.once(f"owner_rows:{table}", lambda: frame["school_id"].map(owner))
        numeric = frame[columns].astype("float64")
        flags = all(TABLES[table].column(c).kind == "bool" for c in columns)
        fast = _owned_totals(schools.index, rows_owner, numeric, flags)
        if fast is not None:
            return schools.assign(**fast)
        grouped = numeric.groupby(rows_owner)
        lacking = numeric.isna().groupby(rows_owner).any()
        values = grouped.min() if flags else grouped.sum()
        values = values.mask(lacking)
    return schools.join(values, how="left")


def _owned_totals(school_ids: pd.Index, owners: pd.Series, numeric: pd.DataFrame, flags: bool) -> dict[str, np.ndarray] | None:
    """Each column's total (``flags``: minimum) over the rows each school owns, NaN
    where a row lacks it or the school has none — the grouped sum / min of
    :func:`_per_school` with np.bincount, used when the values are whole numbers
    whose absolute values add up to less than 2**53 (then every sum is exact, in any order); None otherwise (or for
    repeated school ids)."""
    if not school_ids.is_unique:
        return None
    values = numeric.to_numpy(float)
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
    for k, column in enumerate(numeric.columns):  # a loop over the one or two columns
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


def _details(target_id: str, part: str, part_name: str, schools: pd.DataFrame, **columns: object) -> pd.DataFrame:
    """Check rows for every school of ``schools`` (index school_id, ``_district``), built column-wise."""
    return detail_frame(schools["_district"].to_numpy(np.int64), {
        "item_id": target_id, "part": part, "part_name": part_name,
        "school_id": schools.index.astype(str).to_numpy(object), "school_name": schools["school_name"].astype(str).to_numpy(object),
        "stage": "", "target": "", **columns,
    })


def _result(ctx: Context, schools: pd.DataFrame, gaps: np.ndarray, lacking: np.ndarray, details: pd.DataFrame, what: str = "") -> Measurement:
    """Per district, the total of ``gaps`` over its schools with data; incomplete when some lack it.

    A district without schools, or none of whose schools has data, has no
    value (one note: ``what`` was not reported) and no checks.
    """
    n = len(ctx.ids)
    where = schools["_district"].to_numpy(np.int64)
    lacking = np.asarray(lacking, dtype=bool)
    gaps = np.asarray(gaps, dtype=float)
    schools_n, lacking_n = count_by_district(np.ones(len(where), dtype=bool), where, n), count_by_district(lacking, where, n)
    value = sum_by_district(Ratios.of(gaps[~lacking]), where[~lacking], n)
    all_lacking = f"各校均未填报{what}" if what else "各校均缺少数据"
    note = np.where(schools_n == 0, "无适用学校", np.where(lacking_n == schools_n, all_lacking,
                                                         lacking_note(lacking, schools["school_name"].to_numpy(object), where, n)))
    kept = details[~value.missing[details["_district"].to_numpy(np.int64)]]
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
    part = sections[(sections["indicator"] == indicator).to_numpy(bool)]
    if "school_types" in spec:
        part = part[part["school_type"].isin(list(spec["school_types"])).to_numpy(bool)]
    where = ctx.position(district_key(part))
    part, where = part[where >= 0], where[where >= 0]
    scale = float(exact(ctx.standard.indicator(indicator)["scale"]))
    met = part["met"].to_numpy(bool)
    needed = part["threshold"] * part["students"] / scale - part["numerator"]
    gaps = needed.where(~part["met"], 0.0).clip(lower=0.0).to_numpy(float)
    unit = str(spec["unit"])
    name = ctx.standard.indicator(indicator)["name"]
    note = ("在校生" + part["students"].astype(int).astype(str).to_numpy(object) + "人" +
            np.where(gaps > 0, "，需补足" + fmt_many(gaps, unit), "")).astype(object)
    districts, first = np.unique(where, return_index=True)
    first_unit = texts(n)
    first_unit[districts] = part["unit"].astype(str).to_numpy(object)[first]  # each district's first section's unit
    details = detail_frame(where, {
        "item_id": target_id, "part": indicator, "part_name": name,
        "school_id": part["school_id"].astype(str).to_numpy(object), "school_name": part["school_name"].astype(str).to_numpy(object),
        "stage": part["stage"].to_numpy(object), "target": "", "measured": part["value"].to_numpy(float),
        "requirement": part["threshold"].to_numpy(float), "comparison": ">=", "unit": first_unit[where],
        "status": np.where(met, PASS, FAIL).astype(object),
        "shortfall": (part["threshold"] - part["value"]).clip(lower=0).where(~part["met"], 0.0).to_numpy(float), "note": note,
    })
    # Each gap as Python's round(…, 6) gives it, summed exactly.
    rounded = np.asarray(lookup(gaps, lambda g: round(g, 6)), dtype=float)
    value = sum_by_district(Ratios.of(rounded), where, n)
    note_out = np.where(value.missing, "无适用学校", "").astype(object)
    return Measurement(value, details, note_out, np.zeros(n, dtype=bool))


def _status(lacking: np.ndarray, failing: np.ndarray) -> np.ndarray:
    return np.where(lacking, MISSING, np.where(failing, FAIL, PASS)).astype(object)


def part_of_whole_shortfall(ctx: Context, target_id: str, spec: Mapping[str, Any]) -> Measurement:
    """``whole − part`` per school (``table``, ``whole``, ``part`` columns), e.g. spaces without multimedia."""
    table, whole, part = str(spec["table"]), str(spec["whole"]), str(spec["part"])
    schools = _per_school(ctx, spec, table, [whole, part])
    whole_v, part_v = schools[whole].to_numpy(float), schools[part].to_numpy(float)
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
    count = schools[column].to_numpy(float)
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
    flag = schools[column].to_numpy(float)
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
    where = schools["_district"].to_numpy(np.int64)
    # Not reported in a district: nobody there filled the column (nor, for a column
    # only some schools need, the flag that says which schools need it).
    silent = schools[column].isna().to_numpy(bool)
    if extra:
        silent = silent & schools[extra[0]].isna().to_numpy(bool)
    unreported = count_by_district(~silent, where, n) == 0
    if "for_area_types" in spec or extra:
        needs = schools["area_type"].isin(list(spec.get("for_area_types", []))).to_numpy(bool)
        if extra:
            needs = needs | schools[extra[0]].fillna(False).astype(bool).to_numpy(bool)
        schools = schools[needs]
    schools = schools[~unreported[schools["_district"].to_numpy(np.int64)]]
    where = schools["_district"].to_numpy(np.int64)
    text = schools[column].astype("string")
    empty = (schools[column].isna() | (text.str.strip() == "")).to_numpy(bool)
    gaps = empty.astype(float)
    missing_note = str(spec.get("missing_note", f"未填写{_label('schools', column)}"))
    filled = (_label("schools", column) + "：" + text.fillna("")).to_numpy(object)
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
