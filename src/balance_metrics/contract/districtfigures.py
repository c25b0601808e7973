"""Rules of the ``district`` table (district figures): value kinds and ranges, yearly
series without gaps, counts within their wholes and the junior retention rate, per
district when the period holds several."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from balance_metrics.common.errors import Problem
from balance_metrics.contract.problems import _problem, _text, problems_at
from balance_metrics.contract.schema import DISTRICT_ITEMS


def district_rules(district: pd.DataFrame, tables: Mapping[str, pd.DataFrame]) -> list[Problem]:
    """District figures: value types and ranges, years, and counts within their wholes
    (per district when the period holds several)."""
    rows = district.dropna(subset=["item"])
    kind = pd.Series(_item_spec(rows["item"], "kind"), index=rows.index)
    value = rows["value"].astype(float)
    given = value.notna()
    percent = (given & (kind == "percent") & (value > 100)).to_numpy(bool)
    fractional = (given & (kind == "count") & (value % 1 != 0)).to_numpy(bool)
    problems = problems_at(rows, percent, "value", lambda bad: bad["item"].astype(str) + " is a percentage and must lie between 0 and 100")
    problems += problems_at(rows, fractional, "value", lambda bad: bad["item"].astype(str) + " is a count and must be a whole number")
    return problems + _district_years(rows) + _district_subsets(rows)


def _item_spec(items: pd.Series, field: str, missing: object = None) -> np.ndarray:
    """``field`` of each row's district item (``missing`` for an unknown item), by one index lookup."""
    codes = list(DISTRICT_ITEMS)
    where = pd.Index(codes, dtype=object).get_indexer(items.to_numpy(object))
    values = np.array([getattr(DISTRICT_ITEMS[c], field) for c in codes] + [missing], dtype=object)
    return values[where]  # -1 (unknown) takes the last entry, ``missing``


def _district_years(rows: pd.DataFrame) -> list[Problem]:
    by = [c for c in ("district_id",) if c in rows.columns]
    yearly = _item_spec(rows["item"], "yearly", False).astype(bool)
    once = rows[~yearly]
    repeated = once.duplicated([*by, "item"], keep="first").to_numpy(bool)
    problems = problems_at(once, repeated, "item",
                           lambda bad: bad["item"].astype(str) + " is given more than once (only yearly items repeat, one row per year)")
    return problems + _yearly_series(rows[yearly], by)


def _yearly_series(rows: pd.DataFrame, by: list[str]) -> list[Problem]:
    problems = problems_at(rows, rows["year"].isna().to_numpy(bool), "year",
                           lambda bad: bad["item"].astype(str) + " is given per year: the year is required", lambda bad: [""] * len(bad))
    dated = rows[rows["year"].notna()]
    problems += problems_at(dated, dated.duplicated([*by, "item", "year"], keep="first").to_numpy(bool), "year",
                            lambda bad: "year repeated for " + bad["item"].astype(str))
    if dated.empty:
        return problems
    groups = dated.groupby([*by, "item"], sort=False, observed=True)
    years = dated.assign(_year=dated["year"].astype(int)).drop_duplicates([*by, "item", "year"])
    span = years.groupby([*by, "item"], sort=False, observed=True)["_year"].agg(["min", "max", "size"])
    gappy = span[span["max"] - span["min"] + 1 > span["size"]]
    for key, row in gappy.iterrows():  # offending series only
        group = groups.get_group(key if isinstance(key, tuple) else (key,))
        have = set(group["year"].astype(int))
        missing = ", ".join(str(y) for y in range(int(row["min"]), int(row["max"]) + 1) if y not in have)
        last = group.iloc[-1]
        name = key[-1] if isinstance(key, tuple) else key
        problems.append(_problem(last, "year", missing, f"{name}: year(s) {missing} missing between {int(row['min'])} and {int(row['max'])}"))
    return problems


# (part, whole, what the part is): a count that cannot exceed another count.
DISTRICT_SUBSETS: tuple[tuple[str, str], ...] = (
    ("rotation_rotated_teachers", "rotation_eligible_teachers"),
    ("rotation_key_teachers", "rotation_rotated_teachers"),
    ("disabled_enrolled", "disabled_school_age"),
    ("retention_deaths", "retention_grade7_enrolment"),
)


def _district_subsets(rows: pd.DataFrame) -> list[Problem]:
    by = [c for c in ("district_id",) if c in rows.columns]
    yearly = _item_spec(rows["item"], "yearly", False).astype(bool)
    return _district_subsets_by_item(rows[~yearly].drop_duplicates([*by, "item"]), by)


def _district_subsets_by_item(single: pd.DataFrame, by: list[str]) -> list[Problem]:
    """The subset and retention rules on arrays: one array per item, a cell per district
    in sorted order (rows without a district last, as one more district)."""
    key = single[by[0]].to_numpy(object) if by else np.full(len(single), "", dtype=object)
    district, districts = pd.factorize(key, sort=True, use_na_sentinel=False)  # a row without its district: a key of its own
    items, values = single["item"].to_numpy(object), single["value"].to_numpy(float, na_value=np.nan)
    cells, sources, numbers = single["value"].astype(object).to_numpy(), single["_source"].to_numpy(object), single["_row"].to_numpy()

    def item(name: str) -> tuple[np.ndarray, np.ndarray] | None:
        """(value, row in ``single``) of ``name`` per district, or None when no row gives it."""
        mine = np.flatnonzero(items == name)
        if not len(mine):
            return None
        value, row = np.full(len(districts), np.nan), np.full(len(districts), -1)
        value[district[mine]], row[district[mine]] = values[mine], mine
        return value, row

    def problem(r: int, rule: str) -> Problem:
        return Problem(str(sources[r]), int(numbers[r]), "value", _text(cells[r]), rule)

    problems = []
    for part, whole in DISTRICT_SUBSETS:  # a loop over the four rules
        given, bound = item(part), item(whole)
        if given is None or bound is None:
            continue
        for d in np.flatnonzero(given[0] > bound[0]):  # offending districts only (NaN compares False)
            problems.append(problem(given[1][d], f"{part} is larger than {whole} ({_text(np.float64(bound[0][d]))})"))
    columns = [item(name) for name in RETENTION_ITEMS]
    if any(c is None for c in columns):
        return problems
    enrolment, deaths, graduates, transfers_in, transfers_out = (c[0] for c in columns)
    base, kept = enrolment - deaths, graduates - transfers_in + transfers_out
    complete = ~np.isnan(np.array([c[0] for c in columns])).any(axis=0)
    for d in np.flatnonzero(complete & ((base <= 0) | (kept < 0) | (kept > base))):  # offending districts only
        problems.append(problem(columns[2][1][d], _retention_rule(np.float64(kept[d]), np.float64(base[d]))))
    return problems


def _retention_rule(kept: float, base: float) -> str:
    return (f"junior three-year retention (graduates − transfers in + transfers out) ÷ (grade-7 enrolment − deaths) = "
            f"{_text(kept)}/{_text(base)} lies outside 0–100 %")


RETENTION_ITEMS = ("retention_grade7_enrolment", "retention_deaths", "retention_graduates", "retention_transfers_in", "retention_transfers_out")
