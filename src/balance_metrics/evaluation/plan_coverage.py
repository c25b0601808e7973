"""Plan-target measures of coverage: every school (or school section) must meet a rule.

Each measure returns the total that all in-scope schools together still lack
(0 = full coverage) and one check per school, computed column-wise:

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
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd

from balance_metrics.common.errors import StandardError
from balance_metrics.contract.schema import TABLES
from balance_metrics.engine.schoolview import in_scope, owner_of
from balance_metrics.evaluation.checks import CHECK_COLUMNS, FAIL, MISSING, PASS, fmt
from balance_metrics.evaluation.context import Context
from balance_metrics.evaluation.measurement import Measurement
from balance_metrics.standard.loader import exact


def _label(table: str, column: str) -> str:
    return TABLES[table].column(column).zh


def _per_school(ctx: Context, spec: Mapping[str, Any], table: str, columns: list[str]) -> pd.DataFrame:
    """In-scope schools with ``columns`` of ``table`` (campuses added to their parent).

    Counts add up over campuses (NaN if any campus lacks the figure); yes/no
    columns are yes only when every campus says yes.
    """
    schools = in_scope(ctx.schools, spec)[["school_id", "school_name", "area_type"]].set_index("school_id")
    frame = ctx.dataset.table(table) if table != "schools" else ctx.dataset.schools
    if frame is None:
        return schools.assign(**{c: np.nan for c in columns})
    if table == "schools":
        values = frame.set_index("school_id")[columns]
    else:
        owner = ctx.once("owner", lambda: owner_of(ctx.dataset, ctx.standard))
        rows = frame.assign(_owner=frame["school_id"].map(owner))
        numeric = rows[columns].astype("float64")
        grouped = numeric.groupby(rows["_owner"])
        lacking = numeric.isna().groupby(rows["_owner"]).any()
        values = grouped.min() if all(TABLES[table].column(c).kind == "bool" for c in columns) else grouped.sum()
        values = values.mask(lacking)
    return schools.join(values, how="left")


def _details(target_id: str, part: str, part_name: str, schools: pd.DataFrame, *, measured: pd.Series | float,
             requirement: pd.Series | float, comparison: str, unit: str, status: pd.Series, shortfall: pd.Series,
             note: pd.Series, stage: pd.Series | str = "") -> list[dict[str, object]]:
    """Check rows for every school of ``schools`` (index school_id), built column-wise."""
    frame = pd.DataFrame({
        "district_id": "", "item_id": target_id, "part": part, "part_name": part_name,
        "school_id": schools.index.astype(str), "school_name": schools["school_name"].astype(str).to_numpy(),
        "stage": stage, "target": "", "measured": measured, "requirement": requirement, "comparison": comparison,
        "unit": unit, "status": status, "shortfall": shortfall, "note": note,
    }, index=schools.index)
    return frame[CHECK_COLUMNS].to_dict("records")


def _result(gaps: pd.Series, details: list[dict[str, object]], lacking: pd.Series, names: pd.Series, what: str = "") -> Measurement:
    """Total of ``gaps`` over schools with data; incomplete when some lack it.

    No school with data: data missing, with one note (``what`` was not reported).
    """
    if names.empty:
        return Measurement(None, note="无适用学校")
    if lacking.all():
        return Measurement(None, note=f"各校均未填报{what}" if what else "各校均缺少数据")
    note = f"{int(lacking.sum())}所学校缺少数据：{'、'.join(names[lacking])}" if lacking.any() else ""
    total = sum((exact(float(g)) for g in gaps[~lacking]), Fraction(0))
    return Measurement(total, details, note, incomplete=bool(lacking.any()))


def item_value(ctx: Context, target_id: str, spec: Mapping[str, Any]) -> Measurement:
    """The value an evaluation item's rule measures (its first check), e.g. Q1's retention rate."""
    from balance_metrics.evaluation.items import RULES  # items import the rule modules, not this one

    item_id = str(spec["item"])
    item = ctx.standard.data.get("items", {}).get(item_id)
    if item is None or item.get("rule") not in RULES:
        raise StandardError(f"plan target {target_id}: item {item_id!r} is not a computed item of the standard")
    first = RULES[item["rule"]](ctx, target_id, item).iloc[0]
    if first["measured"] is None or math.isnan(float(first["measured"])):
        return Measurement(None, note=str(first["note"]))
    return Measurement(exact(round(float(first["measured"]), 12)), note=f"同{item_id}：{first['note']}" if first["note"] else f"同{item_id}")


def indicator_shortfall(ctx: Context, target_id: str, spec: Mapping[str, Any]) -> Measurement:
    """Numerator (e.g. m²) each school section still lacks for an indicator's threshold.

    ``threshold × students ÷ scale − numerator`` for every section that does not
    meet it (as the resource evaluation judged it, exactly); 0 for the others.
    """
    indicator = str(spec["indicator"])
    sections = ctx.resources.sections
    part = sections[sections["indicator"] == indicator]
    if "school_types" in spec:
        part = part[part["school_type"].isin(list(spec["school_types"]))]
    if part.empty:
        return Measurement(None, note="无适用学校")
    scale = float(exact(ctx.standard.indicator(indicator)["scale"]))
    needed = part["threshold"] * part["students"] / scale - part["numerator"]
    gaps = needed.where(~part["met"], 0.0).clip(lower=0.0)
    unit = str(spec["unit"])
    name = ctx.standard.indicator(indicator)["name"]
    note = ("在校生" + part["students"].astype(int).astype(str) + "人" +
            gaps.map(lambda g: f"，需补足{fmt(g, unit)}" if g > 0 else ""))
    schools = part.set_index("school_id")
    details = _details(target_id, indicator, name, schools, measured=part["value"].to_numpy(), requirement=part["threshold"].to_numpy(),
                       comparison=">=", unit=str(part["unit"].iloc[0]), status=np.where(part["met"], PASS, FAIL),
                       shortfall=(part["threshold"] - part["value"]).clip(lower=0).where(~part["met"], 0.0).to_numpy(),
                       note=note.to_numpy(), stage=part["stage"].to_numpy())
    return Measurement(sum((exact(round(float(g), 6)) for g in gaps), Fraction(0)), details)


def part_of_whole_shortfall(ctx: Context, target_id: str, spec: Mapping[str, Any]) -> Measurement:
    """``whole − part`` per school (``table``, ``whole``, ``part`` columns), e.g. spaces without multimedia."""
    table, whole, part = str(spec["table"]), str(spec["whole"]), str(spec["part"])
    schools = _per_school(ctx, spec, table, [whole, part])
    lacking = schools[[whole, part]].isna().any(axis=1)
    gaps = (schools[whole] - schools[part]).clip(lower=0)
    unit = str(spec["unit"])
    status = np.where(lacking, MISSING, np.where(gaps > 0, FAIL, PASS))
    note = np.where(lacking, f"缺少{_label(table, part)}或{_label(table, whole)}",
                    _label(table, whole) + schools[whole].map(lambda v: fmt(v, unit)) + gaps.map(lambda g: f"，还差{fmt(g, unit)}" if g > 0 else ""))
    details = _details(target_id, part, _label(table, part), schools, measured=schools[part], requirement=schools[whole], comparison=">=",
                       unit=unit, status=status, shortfall=gaps.where(~lacking), note=note)
    return _result(gaps, details, lacking, schools["school_name"], _label(table, part))


def count_minimum_shortfall(ctx: Context, target_id: str, spec: Mapping[str, Any]) -> Measurement:
    """``minimum − count`` per school where short (``table``, ``column``, ``minimum``), e.g. ICT sessions per term."""
    table, column, minimum = str(spec["table"]), str(spec["column"]), float(exact(spec["minimum"]))
    schools = _per_school(ctx, spec, table, [column])
    lacking = schools[column].isna()
    gaps = (minimum - schools[column]).clip(lower=0)
    unit = str(spec["unit"])
    status = np.where(lacking, MISSING, np.where(gaps > 0, FAIL, PASS))
    note = np.where(lacking, f"缺少{_label(table, column)}", gaps.map(lambda g: f"还需{fmt(g, unit)}" if g > 0 else ""))
    details = _details(target_id, column, _label(table, column), schools, measured=schools[column], requirement=minimum, comparison=">=",
                       unit=unit, status=status, shortfall=gaps.where(~lacking), note=note)
    return _result(gaps, details, lacking, schools["school_name"], _label(table, column))


def flag_shortfall(ctx: Context, target_id: str, spec: Mapping[str, Any]) -> Measurement:
    """Schools whose yes/no ``column`` of ``table`` is not yes (count of schools)."""
    table, column = str(spec["table"]), str(spec["column"])
    schools = _per_school(ctx, spec, table, [column])
    lacking = schools[column].isna()
    gaps = (schools[column] == 0).astype(float)
    label = _label(table, column)
    status = np.where(lacking, MISSING, np.where(gaps > 0, FAIL, PASS))
    note = np.where(lacking, f"缺少{label}情况", np.where(gaps > 0, f"未实现{label}", f"已实现{label}"))
    details = _details(target_id, column, label, schools, measured=np.nan, requirement=np.nan, comparison="", unit="",
                       status=status, shortfall=np.where(status == PASS, 0.0, np.nan), note=note)
    return _result(gaps, details, lacking, schools["school_name"], label)


def filled_shortfall(ctx: Context, target_id: str, spec: Mapping[str, Any]) -> Measurement:
    """Schools with ``column`` empty, e.g. not in any 学区, or no 帮扶 partner.

    ``for_area_types`` and ``for_flag`` restrict it to the schools that need it:
    those of the listed area types, or with the yes/no column ``for_flag`` yes.
    """
    column = str(spec["column"])
    extra = [str(spec["for_flag"])] if "for_flag" in spec else []
    schools = _per_school(ctx, spec, "schools", [column, *extra])
    restricted = "for_area_types" in spec or bool(extra)
    # Not reported: nobody filled the column (nor, for a column only some schools
    # need, the flag that says which schools need it).
    if schools[column].isna().all() and (not extra or schools[extra[0]].isna().all()):
        return Measurement(None, note=f"各校均未填报{_label('schools', column)}")
    if restricted:
        needs = schools["area_type"].isin(list(spec.get("for_area_types", [])))
        if extra:
            needs |= schools[extra[0]].fillna(False).astype(bool)
        schools = schools[needs]
    if schools.empty:
        return Measurement(Fraction(0), note="无需覆盖的学校")
    empty = schools[column].isna() | (schools[column].astype("string").str.strip() == "")
    gaps = empty.astype(float)
    missing_note = str(spec.get("missing_note", f"未填写{_label('schools', column)}"))
    filled = _label("schools", column) + "：" + schools[column].astype("string").fillna("")
    details = _details(target_id, column, _label("schools", column), schools, measured=np.nan, requirement=np.nan, comparison="",
                       unit="", status=np.where(empty, FAIL, PASS), shortfall=np.where(empty, np.nan, 0.0),
                       note=np.where(empty, missing_note, filled.to_numpy()))
    return _result(gaps, details, pd.Series(False, index=schools.index), schools["school_name"])


MEASURES = {
    "item_value": item_value,
    "indicator_shortfall": indicator_shortfall,
    "part_of_whole_shortfall": part_of_whole_shortfall,
    "count_minimum_shortfall": count_minimum_shortfall,
    "flag_shortfall": flag_shortfall,
    "filled_shortfall": filled_shortfall,
}
