"""District totals cross-checked against the sum of the schools' own figures,
in every district of a period at once (the rule of
:mod:`~balance_metrics.evaluation.cross_checks`, whole-column).

A plan target measured on a district figure (e.g. P13, the primary teaching
space added since the plan's baseline) may name, under ``school_sum``, the
resource indicator whose numerator counts the same thing in the school tables
(``indicator``, ``stage``) and the district item holding that sum on the
baseline date (``baseline_item``). The schools' increase is then

    Σ numerator of the stage's evaluated sections this period − baseline

When the reported figure and the schools' increase differ by more than
``cross_check_tolerance_percent`` of the reported figure, the district gets a
data warning naming both figures and the target's detail says so; the target
is still judged on the reported figure.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import numpy as np
import pandas as pd

from balance_metrics.common.errors import PROBLEM_COLUMNS
from balance_metrics.contract.schema import DISTRICT_ITEMS
from balance_metrics.evaluation.checks import fmt, fmt_by_unit, fmt_many, lookup
from balance_metrics.evaluation.context import Context, district_key
from balance_metrics.evaluation.measurement import section_districts
from balance_metrics.evaluation.ratios import Ratios
from balance_metrics.evaluation.wording import join_notes
from balance_metrics.standard.loader import exact

#: One row per district × cross-checked target whose figures are all reported.
CROSS_CHECK_COLUMNS = ["_district", "target_id", "item", "reported", "agrees", "text"]


def _abs(value: Ratios) -> Ratios:
    return Ratios(np.abs(value.num), value.den, value.missing)


def cross_checks(ctx: Context) -> pd.DataFrame:
    """Every plan target with a ``school_sum`` in every district whose figures are all reported.

    Returns
    -------
    DataFrame
        :data:`CROSS_CHECK_COLUMNS`, district by district (positions in
        ``ctx.ids``), targets in the standard's order: the reported figure
        (float, in the item's unit), whether it agrees with the schools' own
        figures within the tolerance (exactly), and the sentence saying so.
    """
    n = len(ctx.ids)
    sections = ctx.resources.sections
    where_sections = section_districts(ctx)
    found = []
    for target_id, target in ctx.standard.plan_targets.items():  # a loop over the plan's targets
        spec = target.params
        school_sum = spec.get("school_sum")
        if not school_sum:
            continue
        item = str(spec["item"])
        reported, baseline = ctx.figures.exact(item), ctx.figures.exact(str(school_sum["baseline_item"]))
        part = ((sections["indicator"] == school_sum["indicator"]) & (sections["stage"] == school_sum["stage"])).to_numpy(bool) & (where_sections >= 0)
        total = np.bincount(where_sections[part], weights=sections["numerator"].to_numpy(float)[part], minlength=n)[:n]
        now = Ratios.of(np.asarray(lookup(total, lambda v: round(v, 6)), dtype=float))  # the sum as round(…, 6) gives it
        kept = np.flatnonzero(~reported.missing & ~baseline.missing)
        found.append((kept, target_id, item, reported.take(kept), baseline.take(kept), now.take(kept), exact(spec["cross_check_tolerance_percent"])))
    if not found:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in CROSS_CHECK_COLUMNS})
    # Every target's checks judged and worded at once (one formatting per column, not per target).
    counts = [len(f[0]) for f in found]

    def each(values: list[object]) -> np.ndarray:  # one value per target, on each of its rows
        return np.repeat(np.array(values, dtype=object), counts)

    where = np.concatenate([f[0] for f in found])
    reported, baseline, now = (Ratios.concat([f[k] for f in found]) for k in (3, 4, 5))
    tolerance = Ratios.concat([Ratios.const(f[6] / 100, len(f[0])) for f in found])
    items = each([f[2] for f in found])
    columns = {"_district": where, "target_id": each([f[1] for f in found]), "item": items, "reported": reported.floats(),
               **_judge(items, reported, now, baseline, tolerance, each([fmt(f[6], "%") for f in found]))}
    order = np.argsort(where, kind="stable")  # district by district, targets in order
    return pd.DataFrame({c: columns[c][order] for c in CROSS_CHECK_COLUMNS})


def _judge(items: np.ndarray, reported: Ratios, now: Ratios, baseline: Ratios, tolerance: Ratios, tolerance_text: np.ndarray) -> dict[str, np.ndarray]:
    """Whether each reported figure of ``items`` agrees with the schools' increase within
    ``tolerance`` (a share of the figure), and the sentence saying so."""
    units = lookup(items, lambda item: DISTRICT_ITEMS[item].unit)
    from_schools = now - baseline
    difference = _abs(reported - from_schools)
    agrees = difference.compare(_abs(reported) * tolerance, "<=")
    base = (lookup(items, lambda item: DISTRICT_ITEMS[item].zh) + "：区级填报" + fmt_by_unit(reported.floats(), units) + "，各校合计为"
            + fmt_by_unit(from_schools.floats(), units) + "（本期各校" + fmt_by_unit(now.floats(), units) + " − 基准"
            + fmt_by_unit(baseline.floats(), units) + "）")
    share = difference * 100 / _abs(reported)  # missing where nothing was reported
    gap = "相差" + fmt_by_unit(difference.floats(), units) + np.where(share.missing, "", "（" + fmt_many(share.floats(), "%") + "）")
    disagree = base + "，" + gap + "，超过容差" + tolerance_text + "，请核实区级数据与学校办学条件表"
    return {"agrees": agrees, "text": np.where(agrees, base + "，一致", disagree).astype(object)}


def annotate_details(detail: np.ndarray, where: np.ndarray, target_ids: np.ndarray, found: pd.DataFrame) -> np.ndarray:
    """The targets' details (one per district position ``where`` × target) with each
    disagreeing check's sentence added."""
    disagreeing = found[~found["agrees"].to_numpy(bool)]
    if disagreeing.empty:
        return detail
    key = pd.MultiIndex.from_arrays([disagreeing["_district"].to_numpy(np.int64), disagreeing["target_id"].to_numpy(object)])
    at = key.get_indexer(pd.MultiIndex.from_arrays([np.asarray(where, dtype=np.int64), np.asarray(target_ids, dtype=object)]))
    extra = np.where(at >= 0, disagreeing["text"].to_numpy(object)[np.maximum(at, 0)], "")
    return join_notes(detail, extra)


def cross_check_warnings(ctx: Context, found: pd.DataFrame) -> Mapping[str, pd.DataFrame]:
    """The disagreeing checks as data warnings (file, row, column, value, rule) on
    the district table's row of the item: district_id -> its warnings (only
    districts with some)."""
    disagreeing = found[~found["agrees"].to_numpy(bool)]
    where = disagreeing["_district"].to_numpy(np.int64)
    items = disagreeing["item"].to_numpy(object)
    source, row = np.full(len(where), "district", dtype=object), np.full(len(where), None, dtype=object)
    table = ctx.dataset.table("district")
    if table is not None and len(table) and len(where):
        # The item's first row in the district's table names the file and line.
        firsts = table.assign(_where=ctx.position(district_key(table))).drop_duplicates(["_where", "item"])
        index = pd.MultiIndex.from_arrays([firsts["_where"].to_numpy(np.int64), firsts["item"].to_numpy(object)])
        at = index.get_indexer(pd.MultiIndex.from_arrays([where, items]))
        hit = at >= 0
        source[hit] = firsts["_source"].astype(str).to_numpy(object)[at[hit]]
        row[hit] = firsts["_row"].to_numpy()[at[hit]].astype(np.int64)
    frame = pd.DataFrame({"file": source, "row": row, "column": "value", "value": fmt_many(disagreeing["reported"].to_numpy(float), ""),
                          "rule": disagreeing["target_id"].to_numpy(object) + " " + disagreeing["text"].to_numpy(object)},
                         columns=list(PROBLEM_COLUMNS))
    frame["row"] = frame["row"].astype("Int64")
    return ByDistrict(frame, where, ctx.ids)


class ByDistrict(Mapping):
    """district_id -> the rows of one frame for that district (only districts with
    rows), the rows found by one grouping when first asked for."""

    def __init__(self, frame: pd.DataFrame, where: np.ndarray, ids: np.ndarray):
        self._frame, self._where, self._ids = frame, np.asarray(where, dtype=np.int64), ids
        self._groups: dict[str, np.ndarray] | None = None

    def _positions(self) -> dict[str, np.ndarray]:
        if self._groups is None:
            found = pd.Series(self._where).groupby(self._where, sort=True).indices if len(self._where) else {}
            self._groups = {self._ids[k]: rows for k, rows in found.items()}  # districts with warnings only
        return self._groups

    def __getitem__(self, district_id: str) -> pd.DataFrame:
        return self._frame.iloc[self._positions()[district_id]].reset_index(drop=True)

    def __iter__(self) -> Iterator[str]:
        return iter(self._positions())

    def __len__(self) -> int:
        return len(self._positions())
