"""The resource-allocation result as two items of the whole evaluation.

RS: every evaluated section passes the per-school rule (≥ 6 of 7 indicators,
the rest ≥ 85 %); RC: every 差异系数 within its limit. The numbers come from
:func:`balance_metrics.evaluate_resources`; nothing is recomputed here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from balance_metrics.common.grouped import join_by_group
from balance_metrics.evaluation.checks import CHECK_COLUMNS, FAIL, PASS, check_frame, checks_frame, fmt_by_unit
from balance_metrics.evaluation.context import Context, Rule, district_key
from balance_metrics.evaluation.ratios import Ratios


def section_rule(ctx: Context, item_id: str, spec: Mapping[str, Any]) -> pd.DataFrame:
    """RS: two checks per section — indicators met ≥ the standard's minimum, and
    no indicator below its 85 % floor — as the resource evaluation counted them
    (with any rounding its standard asks for). Whole-column: the notes of all
    sections are joined per section at once."""
    result = ctx.resources
    std = result.standard
    minimum = std.min_indicators_met
    floor_label = f"{std.floor_percent}底线"
    digits = std.display_decimals
    sections, verdicts = result.sections, result.verdicts
    n = len(verdicts)
    if n == 0:
        return checks_frame([])
    group = sections.groupby(["school_id", "stage"], sort=False).ngroup().to_numpy()
    notes = {}
    for column in ("met", "above_floor"):
        short = ~sections[column].to_numpy(bool)
        texts = _indicator_texts(sections[short], floor_label, digits)
        notes[column] = join_by_group(group[short], texts, n, sep="；")
    met = verdicts["indicators_met"].to_numpy(int)
    below = verdicts["indicators_below_floor"].to_numpy(int)
    met_ok, below_ok = met >= minimum, below <= 0
    frame = pd.DataFrame({
        "district_id": np.repeat(ctx.position(district_key(verdicts)), 2),
        "item_id": item_id,
        "part": np.tile(np.array(["indicators_met", "below_floor"], dtype=object), n),
        "part_name": np.tile(np.array(["达到要求的指标数", f"低于{floor_label}的指标数"], dtype=object), n),
        "school_id": np.repeat(verdicts["school_id"].astype(str).to_numpy(object), 2),
        "school_name": np.repeat(verdicts["school_name"].astype(str).to_numpy(object), 2),
        "stage": np.repeat(verdicts["stage"].astype(str).to_numpy(object), 2),
        "target": "",
        "measured": np.column_stack([met, below]).ravel().astype(float),
        "requirement": np.tile([float(minimum), 0.0], n),
        "comparison": np.tile(np.array([">=", "<="], dtype=object), n),
        "unit": "项",
        "status": np.where(np.column_stack([met_ok, below_ok]).ravel(), PASS, FAIL).astype(object),
        "shortfall": np.column_stack([np.where(met_ok, 0, minimum - met), np.where(below_ok, 0, below)]).ravel().astype(float),
        "note": np.column_stack([notes["met"], notes["above_floor"]]).ravel(),
    })
    return frame[CHECK_COLUMNS]


def _indicator_texts(rows: pd.DataFrame, floor_label: str, digits: int) -> np.ndarray:
    # Floors such as 3.825 need the standard's display precision: at two
    # decimals a value just below the floor would print equal to it.
    units = rows["unit"].astype(str).to_numpy(object)
    return (rows["indicator"].astype(str).to_numpy(object) + rows["name"].astype(str).to_numpy(object)
            + fmt_by_unit(rows["value"].to_numpy(float), units, digits) + "，要求≥" + fmt_by_unit(rows["threshold"].to_numpy(float), units, digits)
            + f"，{floor_label}" + fmt_by_unit(rows["floor"].to_numpy(float), units, digits))


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
