"""The resource-allocation result as two items of the whole evaluation.

RS: every evaluated section passes the per-school rule (≥ 6 of 7 indicators,
the rest ≥ 85 %); RC: every 差异系数 within its limit. The numbers come from
:func:`balance_metrics.evaluate_resources`; nothing is recomputed here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd

from balance_metrics.common.grouped import join_by_group
from balance_metrics.evaluation.checks import CHECK_COLUMNS, FAIL, PASS, check_row, checks_frame, fmt
from balance_metrics.evaluation.context import Context, Rule


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
        texts = [_indicator_text(r, floor_label, digits) for r in sections[short].to_dict("records")]  # short rows only
        notes[column] = join_by_group(group[short], np.asarray(texts, dtype=object), n, sep="；")
    met = verdicts["indicators_met"].to_numpy(int)
    below = verdicts["indicators_below_floor"].to_numpy(int)
    met_ok, below_ok = met >= minimum, below <= 0
    frame = pd.DataFrame({
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


def _indicator_text(r: Mapping[str, Any], floor_label: str, digits: int) -> str:
    # Floors such as 3.825 need the standard's display precision: at two
    # decimals a value just below the floor would print equal to it.
    return (f"{r['indicator']}{r['name']}{fmt(r['value'], r['unit'], digits)}，要求≥{fmt(r['threshold'], r['unit'], digits)}"
            f"，{floor_label}{fmt(r['floor'], r['unit'], digits)}")


def balance_rule(ctx: Context, item_id: str, spec: Mapping[str, Any]) -> list[dict[str, object]]:
    """RC: one check per stage × indicator: pupil-weighted CV ≤ the stage's limit."""
    rows = []
    for _, r in ctx.resources.balance.iterrows():
        defined = not math.isnan(float(r["cv"]))
        note = str(r["name"]) if defined else f"{r['name']}：全区合计为0（均值为0），差异系数无法计算，按未达标处理"
        rows.append(check_row(
            item_id, "cv", "差异系数", Fraction(float(r["cv"])) if defined else None, ctx.resources.standard.cv_limit(r["stage"]), "<=", "",
            stage=str(r["stage"]), target=str(r["indicator"]),
            status=PASS if r["passed"] else FAIL,
            note=note,
        ))
    return rows


RULES: dict[str, Rule] = {"resource_sections": section_rule, "resource_balance": balance_rule}
