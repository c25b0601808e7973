"""The resource-allocation result as two items of the whole evaluation.

RS: every evaluated section passes the per-school rule (≥ 6 of 7 indicators,
the rest ≥ 85 %); RC: every 差异系数 within its limit. The numbers come from
:func:`balance_metrics.evaluate_resources`; nothing is recomputed here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from balance_metrics.common.grouped import first_rows, join_rows_by_group
from balance_metrics.engine.resources import ResourceEvaluation
from balance_metrics.evaluation.checks import CHECK_COLUMNS, FAIL, PASS, check_frame, checks_frame, coded_texts, repeat_text
from balance_metrics.evaluation.context import Context, Rule, district_key
from balance_metrics.evaluation.ratios import Ratios
from balance_metrics.evaluation.wording import dense, float_codes, fmt_values


def section_rule(ctx: Context, item_id: str, spec: Mapping[str, Any]) -> pd.DataFrame:
    """RS: two checks per section — indicators met ≥ the standard's minimum, and
    no indicator below its 85 % floor — as the resource evaluation counted them
    (with any rounding its standard asks for). The notes are left empty: they
    are written when the checks are read (:func:`section_notes`, :data:`LATER_NOTES`)."""
    result = ctx.resources
    std = result.standard
    minimum = std.min_indicators_met
    floor_label = _floor_label(result)
    verdicts = result.verdicts
    n = len(verdicts)
    if n == 0:
        return checks_frame([])
    met = verdicts["indicators_met"].to_numpy(int)
    below = verdicts["indicators_below_floor"].to_numpy(int)
    met_ok, below_ok = met >= minimum, below <= 0
    twice = np.repeat(np.arange(n), 2)  # two checks per section, section by section
    parts = np.tile(np.array([0, 1], dtype=np.intp), n)
    columns = {
        "district_id": ctx.position(district_key(verdicts))[twice],
        "item_id": repeat_text(item_id, 2 * n),
        "part": coded_texts(parts, ["indicators_met", "below_floor"]),
        "part_name": coded_texts(parts, ["达到要求的指标数", f"低于{floor_label}的指标数"]),
        "school_id": verdicts["school_id"].astype(str).array.take(twice),
        "school_name": verdicts["school_name"].astype(str).array.take(twice),
        "stage": verdicts["stage"].astype(str).array.take(twice),
        "target": repeat_text("", 2 * n),
        "measured": np.column_stack([met, below]).ravel().astype(float),
        "requirement": np.tile([float(minimum), 0.0], n),
        "comparison": coded_texts(parts, [">=", "<="]),
        "unit": repeat_text("项", 2 * n),
        "status": coded_texts(~np.column_stack([met_ok, below_ok]).ravel(), [PASS, FAIL]),
        "shortfall": np.column_stack([np.where(met_ok, 0, minimum - met), np.where(below_ok, 0, below)]).ravel().astype(float),
        "note": repeat_text("", 2 * n),
    }
    return pd.DataFrame({c: columns[c] for c in CHECK_COLUMNS}, copy=False)  # in column order: no columns taken again


def section_notes(result: ResourceEvaluation) -> np.ndarray:
    """The notes of :func:`section_rule`'s checks of ``result``'s sections, two per
    section in its order: the indicators not met, and those below their floor,
    each as "R5生均…5.696m²/生，要求≥7.5m²/生，85%底线6.375m²/生" (object array of str).

    Whole-column: the notes of all sections are joined per section at once.
    """
    if not len(result.verdicts):
        return np.zeros(0, dtype=object)
    notes = _section_notes(result, _floor_label(result), result.standard.display_decimals)
    return np.column_stack(notes).ravel()


#: Rules whose checks' notes are written after the checks, from the resource
#: evaluation of the districts read (RS: about 24 million characters at 200,000
#: sections, which no status, count or 问题清单 line needs).
LATER_NOTES: dict[str, Callable[[ResourceEvaluation], np.ndarray]] = {"resource_sections": section_notes}


def _floor_label(result: ResourceEvaluation) -> str:
    return f"{result.standard.floor_percent}底线"


def _section_notes(result: ResourceEvaluation, floor_label: str, digits: int) -> tuple[np.ndarray, np.ndarray]:
    """Per section (as in ``result.verdicts``): the indicators not met, and those
    below their floor, each as "R5生均…5.696m²/生，要求≥7.5m²/生，85%底线6.375m²/生",
    joined with "；" in indicator order.

    Read from the (indicators × sections) arrays when the evaluation has them —
    the long section × indicator table is then never built — else from that table.
    """
    n = len(result.verdicts)
    if result.matrix is not None and result.judgement is not None:
        ids = list(result.matrix.ids)
        k = len(ids)
        # Section-major like the long table: row i * k + j is section i, indicator j.
        value, threshold, floor = (a.T.ravel() for a in (result.matrix.value, result.judgement.threshold, result.judgement.floor))
        met, above = result.judgement.met.T.ravel(), result.judgement.above_floor.T.ravel()
        rows = np.flatnonzero(~met | ~above)
        section, indicator = rows // k, rows % k
        names = [result.standard.indicators[i].name for i in ids]
        units = [result.standard.indicators[i].unit for i in ids]
    else:
        sections = result.sections
        ids, indicator = np.unique(sections["indicator"].astype(str).to_numpy(object), return_inverse=True)
        first = np.unique(indicator, return_index=True)[1]
        names = sections["name"].astype(str).to_numpy(object)[first]
        units = sections["unit"].astype(str).to_numpy(object)[first]
        value, threshold, floor = (sections[c].to_numpy(float) for c in ("value", "threshold", "floor"))
        met, above = sections["met"].to_numpy(bool), sections["above_floor"].to_numpy(bool)
        rows = np.flatnonzero(~met | ~above)
        section = sections.groupby(["school_id", "stage"], sort=False).ngroup().to_numpy()[rows]
        indicator = indicator[rows]
    head, tail = _indicator_texts(indicator, ids, names, units, value[rows], threshold[rows], floor[rows], floor_label, digits)
    short, low = ~met[rows], ~above[rows]
    # each row's text is head + tail: written straight into its section's note
    return (join_rows_by_group(section[short], [head[short], tail[short]], n, "；"),
            join_rows_by_group(section[low], [head[low], tail[low]], n, "；"))


def _indicator_texts(indicator: np.ndarray, ids: list[str], names: list[str], units: list[str], value: np.ndarray,
                     threshold: np.ndarray, floor: np.ndarray, floor_label: str, digits: int) -> tuple[np.ndarray, np.ndarray]:
    """"R5生均…5.696m²/生，要求≥7.5m²/生，85%底线6.375m²/生" of each row (``indicator``:
    positions in ``ids``) in two parts, the value ("R5生均…5.696m²/生", once per
    distinct value) and the requirement ("，要求≥…", once per distinct threshold and floor)."""
    # Floors such as 3.825 need the standard's display precision: at two
    # decimals a value just below the floor would print equal to it.
    head = np.empty(len(indicator), dtype=object)
    tail = np.empty(len(indicator), dtype=object)
    for j, (ind, name, unit) in enumerate(zip(ids, names, units)):  # a loop over the seven indicators
        at = np.flatnonzero(indicator == j)
        if not at.size:
            continue
        pair, k = dense(float_codes(threshold[at]), float_codes(floor[at]))
        first = first_rows(pair, k)
        tails = (fmt_values(threshold[at][first], unit, digits, "，要求≥")
                 + fmt_values(floor[at][first], unit, digits, f"，{floor_label}"))
        head[at] = fmt_values(value[at], unit, digits, f"{ind}{name}")
        tail[at] = tails[pair]
    return head, tail


def balance_rule(ctx: Context, item_id: str, spec: Mapping[str, Any]) -> pd.DataFrame:
    """RC: one check per stage × indicator: pupil-weighted CV ≤ the stage's limit."""
    balance = ctx.resources.balance
    std = ctx.resources.standard
    cv = balance["cv"].to_numpy(float)
    defined = ~np.isnan(cv)
    name = balance["name"].astype(str).to_numpy(object)
    note = np.where(defined, name, name + "：全区合计为0（均值为0），差异系数无法计算，按未达标处理").astype(object)
    stage = balance["stage"].astype(str).to_numpy(object)
    limits = Ratios.mapped(stage, {s: std.cv_limit(s) for s in pd.unique(stage)})
    measured = Ratios.binary(cv)
    return check_frame(item_id, "cv", "差异系数", ctx.position(district_key(balance)), measured, limits, "<=", "",
                       stage=stage, target=balance["indicator"].astype(str).to_numpy(object),
                       status=np.where(balance["passed"].to_numpy(bool), PASS, FAIL).astype(object), note=note)


RULES: dict[str, Rule] = {"resource_sections": section_rule, "resource_balance": balance_rule}
