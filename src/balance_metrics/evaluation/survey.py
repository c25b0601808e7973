"""Social recognition (社会认可度): satisfaction rates with Wilson intervals, item S1.

Each respondent is satisfied when they answered yes, or gave a score at or
above the standard's ``score_cutoff``. The overall rate pools every respondent
([C]: the 2017 method prescribes no weighting of groups). The interval is the
Wilson score interval (without continuity correction) at the standard's
``confidence``, computed by :func:`scipy.stats.binomtest`::

    centre = (p + z²/2n) / (1 + z²/n)
    half   = z · sqrt(p(1 − p)/n + z²/4n²) / (1 + z²/n)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import pandas as pd
from scipy.stats import binomtest

from balance_metrics.evaluation.checks import check_row
from balance_metrics.evaluation.context import Context, Rule
from balance_metrics.contract.dataset import Dataset
from balance_metrics.contract.schema import SURVEY_GROUPS
from balance_metrics.standard.loader import Standard, exact

OVERALL = "overall"
SATISFACTION_COLUMNS = [
    "group", "group_name", "respondents", "satisfied", "rate_percent",
    "ci_low_percent", "ci_high_percent", "small_sample", "note",
]


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a proportion, as fractions (0–1).

    Parameters
    ----------
    successes, n : int
        Satisfied respondents and respondents; ``n`` > 0.
    confidence : float
        Two-sided confidence level, e.g. 0.95.

    Examples
    --------
    >>> [round(x, 4) for x in wilson_interval(90, 100)]
    [0.8256, 0.9448]
    """
    if n <= 0:
        raise ValueError("the Wilson interval needs at least one respondent")
    if not 0 <= successes <= n:
        raise ValueError(f"successes ({successes}) must lie between 0 and n ({n})")
    interval = binomtest(successes, n).proportion_ci(confidence_level=confidence, method="wilson")
    return max(0.0, float(interval.low)), min(1.0, float(interval.high))


def _satisfied(survey: pd.DataFrame, cutoff: int) -> pd.Series:
    by_score = survey["score"].ge(cutoff).fillna(False).astype(bool)
    by_answer = survey["satisfied"].fillna(False).astype(bool)
    return by_answer | by_score


def satisfaction(dataset: Dataset, standard: Standard) -> pd.DataFrame:
    """Satisfaction per respondent group and overall.

    Returns
    -------
    DataFrame
        One row per group of :data:`~balance_metrics.schema.SURVEY_GROUPS`
        (respondents 0 when absent) and a last ``overall`` row: respondents,
        satisfied, rate_percent, ci_low_percent, ci_high_percent (Wilson, %),
        small_sample (fewer respondents than the standard's
        ``min_group_sample``: the rate means little), note. Empty when the
        period has no ``survey`` table.
    """
    survey = dataset.table("survey")
    if survey is None:
        return pd.DataFrame(columns=SATISFACTION_COLUMNS)
    settings = standard.survey
    confidence, minimum = float(settings.confidence), settings.min_group_sample
    survey = survey.assign(ok=_satisfied(survey, settings.score_cutoff))
    rows = [_rate_row(code, name, survey[survey["group"] == code], confidence, minimum) for code, name in SURVEY_GROUPS.items()]
    rows.append(_rate_row(OVERALL, "总体", survey, confidence, minimum))
    return pd.DataFrame(rows, columns=SATISFACTION_COLUMNS)


def _rate_row(code: str, name: str, answers: pd.DataFrame, confidence: float, minimum: int) -> dict[str, object]:
    n, ok = len(answers), int(answers["ok"].sum())
    low, high = wilson_interval(ok, n, confidence) if n else (math.nan, math.nan)
    small = n < minimum
    note = "无样本" if n == 0 else f"样本量{n}少于{minimum}，比率仅供参考" if small else ""
    return {
        "group": code, "group_name": name, "respondents": n, "satisfied": ok,
        "rate_percent": 100 * ok / n if n else math.nan,
        "ci_low_percent": 100 * low, "ci_high_percent": 100 * high,
        "small_sample": small, "note": note,
    }


def satisfaction_rule(ctx: Context, item_id: str, spec: Mapping[str, Any]) -> list[dict[str, object]]:
    """S1: the overall satisfaction rate ≥ ``min_percent``.

    ``decide_on`` = ``"rate"`` judges the point estimate, ``"lower_bound"`` the
    Wilson lower bound. Each of ``required_groups`` must have respondents;
    with ``require_each_group`` every group's rate must reach the minimum too.
    """
    minimum = exact(spec["min_percent"])
    table = satisfaction(ctx.dataset, ctx.standard)
    if table.empty:
        return [check_row(item_id, "satisfaction", "社会认可度", None, minimum, ">=", "%", note="未提供满意度调查数据（survey 表）")]
    decide_on = str(spec.get("decide_on", "rate"))  # checked at load
    by_group = table.set_index("group")
    rows = []
    for group in spec.get("required_groups", []):
        r = by_group.loc[group]
        if r["respondents"] == 0 or spec.get("require_each_group", False):
            rows.append(check_row(item_id, "group_satisfaction", "群体满意度", _decisive(r, decide_on), minimum, ">=", "%",
                                  target=str(r["group_name"]), note=r["note"] or f"{r['respondents']}人"))
    overall = by_group.loc[OVERALL]
    rows.insert(0, check_row(item_id, "satisfaction", "社会认可度", _decisive(overall, decide_on), minimum, ">=", "%",
                             note=_overall_note(table, float(exact(spec["confidence"])))))
    return rows


def _decisive(row: pd.Series, decide_on: str) -> Fraction | None:
    """The rate judged (%): exact point estimate, or the Wilson lower bound."""
    if row["respondents"] == 0:
        return None
    if decide_on == "rate":
        return Fraction(100 * int(row["satisfied"]), int(row["respondents"]))
    return Fraction(float(row["ci_low_percent"]))


def _overall_note(table: pd.DataFrame, confidence: float) -> str:
    overall = table.set_index("group").loc[OVERALL]
    if overall["respondents"] == 0:
        return "满意度调查无有效样本"
    note = f"{overall['respondents']}人，{confidence * 100:g}%置信区间{overall['ci_low_percent']:.1f}%–{overall['ci_high_percent']:.1f}%"
    small = table[(table["group"] != OVERALL) & table["small_sample"] & (table["respondents"] > 0)]
    if len(small):
        note += "；样本过小：" + "、".join(f"{g}{n}人" for g, n in zip(small["group_name"], small["respondents"]))
    return note


RULES: dict[str, Rule] = {"satisfaction": satisfaction_rule}
