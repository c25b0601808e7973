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

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from balance_metrics.common.grouped import join_by_group
from balance_metrics.evaluation.checks import check_frame, coded_texts
from balance_metrics.evaluation.context import Context, Rule
from balance_metrics.evaluation.ratios import Ratios
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
    from scipy.stats import binomtest  # here, not at the top: scipy.stats is half the import time of the package

    interval = binomtest(successes, n).proportion_ci(confidence_level=confidence, method="wilson")
    return max(0.0, float(interval.low)), min(1.0, float(interval.high))


def _satisfied(survey: pd.DataFrame, cutoff: int) -> np.ndarray:
    """Yes, or a score at or above ``cutoff`` (an empty answer or score: not satisfied)."""
    score = survey["score"].to_numpy(float, na_value=np.nan)
    answer = survey["satisfied"].to_numpy(float, na_value=np.nan)
    return (score >= cutoff) | (np.nan_to_num(answer) != 0)


def wilson_intervals(successes: np.ndarray, n: np.ndarray, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """:func:`wilson_interval` of many proportions at once (NaN where ``n`` is 0);
    the same arithmetic as :func:`scipy.stats.binomtest`'s Wilson interval."""
    from scipy.special import ndtri  # here, not at the top: imported by the evaluations that have a survey

    k = np.asarray(successes, dtype=np.int64)
    n = np.asarray(n, dtype=np.int64)
    z = ndtri(0.5 + 0.5 * confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k / n
        denom = 2 * (n + z**2)
        center = (2 * n * p + z**2) / denom
        q = 1 - p
        delta = z / denom * np.sqrt(4 * n * p * q + z**2)
        low = np.where(k == 0, 0.0, center - delta)
        high = np.where(k == n, 1.0, center + delta)
    empty = n == 0
    return np.where(empty, np.nan, np.maximum(0.0, low)), np.where(empty, np.nan, np.minimum(1.0, high))


def satisfaction(dataset: Dataset, standard: Standard, ids: object | None = None) -> pd.DataFrame:
    """Satisfaction per respondent group and overall.

    Parameters
    ----------
    ids : array of str, optional
        For a period holding many districts: the districts (each gets its own
        rows, and the table starts with ``district_id``); default: a
        one-district period.

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
    keyed = ids is not None
    ids = np.array([""], dtype=object) if ids is None else np.asarray(ids, dtype=object)
    survey = dataset.table("survey")
    columns = ["district_id", *SATISFACTION_COLUMNS] if keyed else SATISFACTION_COLUMNS
    if survey is None:
        return pd.DataFrame(columns=columns)
    settings = standard.survey
    confidence, minimum = float(settings.confidence), settings.min_group_sample
    groups = [*SURVEY_GROUPS, OVERALL]
    names = [*SURVEY_GROUPS.values(), "总体"]
    key = survey["district_id"].astype(object) if "district_id" in survey.columns else pd.Series("", index=survey.index, dtype=object)
    where = pd.Index(ids).get_indexer(key.to_numpy(object))
    group = pd.Index(list(SURVEY_GROUPS)).get_indexer(survey["group"].astype(object).to_numpy())
    ok = _satisfied(survey, settings.score_cutoff)
    kept = (where >= 0) & (group >= 0)
    size = len(ids) * len(groups)
    cell = where[kept] * len(groups) + group[kept]
    n = np.bincount(cell, minlength=size).reshape(len(ids), len(groups))
    yes = np.bincount(cell, weights=ok[kept], minlength=size).astype(np.int64).reshape(len(ids), len(groups))
    overall = (where >= 0)
    n[:, -1] = np.bincount(where[overall], minlength=len(ids))
    yes[:, -1] = np.bincount(where[overall], weights=ok[overall], minlength=len(ids)).astype(np.int64)
    n, yes = n.ravel(), yes.ravel()
    low, high = wilson_intervals(yes, n, confidence)
    small = n < minimum
    note = np.where(n == 0, "无样本", np.where(small, "样本量" + n.astype(str).astype(object) + f"少于{minimum}，比率仅供参考", "")).astype(object)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(n > 0, 100 * yes / n, np.nan)
    frame = {
        "district_id": np.repeat(ids, len(groups)),
        "group": np.tile(np.array(groups, dtype=object), len(ids)), "group_name": np.tile(np.array(names, dtype=object), len(ids)),
        "respondents": n, "satisfied": yes, "rate_percent": rate,
        "ci_low_percent": 100 * low, "ci_high_percent": 100 * high, "small_sample": small, "note": note,
    }
    return pd.DataFrame({c: frame[c] for c in columns})


def context_satisfaction(ctx: Context) -> pd.DataFrame:
    """:func:`satisfaction` of the evaluation's districts, computed once per context
    (the S1 rule and the result's satisfaction table share it)."""
    return ctx.once("satisfaction", lambda: satisfaction(ctx.dataset, ctx.standard, ctx.ids))


def satisfaction_rule(ctx: Context, item_id: str, spec: Mapping[str, Any]) -> pd.DataFrame:
    """S1: the overall satisfaction rate ≥ ``min_percent``.

    ``decide_on`` = ``"rate"`` judges the point estimate, ``"lower_bound"`` the
    Wilson lower bound. Each of ``required_groups`` must have respondents;
    with ``require_each_group`` every group's rate must reach the minimum too.
    """
    minimum = exact(spec["min_percent"])
    table = context_satisfaction(ctx)
    if table.empty:
        return check_frame(item_id, "satisfaction", "社会认可度", ctx.positions, None, minimum, ">=", "%", note="未提供满意度调查数据（survey 表）")
    decide_on = str(spec.get("decide_on", "rate"))  # checked at load
    width = len(SURVEY_GROUPS) + 1
    n = len(ctx.ids)
    column = {c: table[c].to_numpy() for c in ("group", "group_name", "respondents", "satisfied", "ci_low_percent", "ci_high_percent", "small_sample", "note")}
    # One check frame, district by district: the overall row, then each required group's
    # row (every group with ``require_each_group``, else those without respondents).
    group = np.array([width - 1, *(list(SURVEY_GROUPS).index(g) for g in spec.get("required_groups", []))], dtype=np.int64)
    rows = (np.arange(n)[:, None] * width + group[None, :]).ravel()
    respondents = column["respondents"].astype(np.int64)
    is_group = np.tile(np.arange(len(group)) > 0, n)
    kept = ~is_group | (respondents[rows] == 0) | bool(spec.get("require_each_group", False))
    rows, is_group, where = rows[kept], is_group[kept], rows[kept] // width
    overall = _overall_notes(column, width, float(exact(spec["confidence"])))
    note = column["note"].astype(object)[rows]
    note = np.where(is_group, np.where(note != "", note, respondents[rows].astype(str).astype(object) + "人"), overall[where])
    codes = is_group.astype(np.intp)
    return check_frame(item_id, coded_texts(codes, ["satisfaction", "group_satisfaction"]), coded_texts(codes, ["社会认可度", "群体满意度"]),
                       where, _decisive(column, rows, decide_on), minimum, ">=", "%",
                       target=np.where(is_group, column["group_name"].astype(str).astype(object)[rows], ""), note=note.astype(object))


def _decisive(column: Mapping[str, np.ndarray], rows: np.ndarray, decide_on: str) -> Ratios:
    """The rate judged (%) at ``rows`` of the satisfaction table: exact point estimate, or the Wilson lower bound."""
    n = column["respondents"].astype(np.int64)[rows]
    if decide_on == "rate":
        return Ratios.whole(100 * column["satisfied"].astype(np.int64)[rows]) / Ratios.whole(n)
    return Ratios.binary(column["ci_low_percent"].astype(float)[rows]).with_missing(n == 0)


def _one_decimal(values: np.ndarray) -> np.ndarray:
    """Each number with one decimal (``"{:.1f}"``), as an object array of str (formatted in one numpy call)."""
    return np.char.mod("%.1f", values).astype(object)


def _overall_notes(column: Mapping[str, np.ndarray], width: int, confidence: float) -> np.ndarray:
    """Per district: respondents, the interval and the groups with too small samples."""
    overall = np.arange(width - 1, len(column["group"]), width)
    n = column["respondents"].astype(np.int64)[overall]
    low, high = column["ci_low_percent"].astype(float)[overall], column["ci_high_percent"].astype(float)[overall]
    note = (n.astype(str).astype(object) + f"人，{confidence * 100:g}%置信区间" + _one_decimal(low) + "%–" + _one_decimal(high) + "%")
    respondents = column["respondents"].astype(np.int64)
    small = (column["group"].astype(object) != OVERALL) & column["small_sample"].astype(bool) & (respondents > 0)
    texts = column["group_name"].astype(str).astype(object)[small] + respondents[small].astype(str).astype(object) + "人"
    listed = join_by_group(np.flatnonzero(small) // width, texts, len(overall), sep="、")
    note = np.where(listed != "", note + "；样本过小：" + listed, note)
    return np.where(n == 0, "满意度调查无有效样本", note).astype(object)


RULES: dict[str, Rule] = {"satisfaction": satisfaction_rule}
