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

import pandas as pd

from balance_metrics.evaluation.checks import FAIL, PASS, check_row, fmt
from balance_metrics.evaluation.context import Context, Rule


def section_rule(ctx: Context, item_id: str, spec: Mapping[str, Any]) -> list[dict[str, object]]:
    """RS: two checks per section — indicators met ≥ the standard's minimum, and
    no indicator below its 85 % floor — as the resource evaluation counted them
    (with any rounding its standard asks for)."""
    result = ctx.resources
    minimum = Fraction(result.standard.min_indicators_met)
    floor_label = f"{result.standard.floor_percent}底线"
    rows = []
    for _, verdict in result.verdicts.iterrows():
        part = result.sections[(result.sections["school_id"] == verdict["school_id"]) & (result.sections["stage"] == verdict["stage"])]
        stage = str(verdict["stage"])
        digits = result.standard.display_decimals
        unmet = "；".join(_indicator_text(r, floor_label, digits) for _, r in part[~part["met"]].iterrows())
        below = "；".join(_indicator_text(r, floor_label, digits) for _, r in part[~part["above_floor"]].iterrows())
        rows.append(check_row(item_id, "indicators_met", "达到要求的指标数", Fraction(int(verdict["indicators_met"])), minimum, ">=", "项",
                              school=verdict, stage=stage, note=unmet))
        rows.append(check_row(item_id, "below_floor", f"低于{floor_label}的指标数", Fraction(int(verdict["indicators_below_floor"])), Fraction(0), "<=", "项",
                              school=verdict, stage=stage, note=below))
    return rows


def _indicator_text(r: pd.Series, floor_label: str, digits: int) -> str:
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
