"""Education quality (教育质量) items Q1, Q2, Q4 and Q9, and the 校际差异率.

Q3 and Q5–Q8 are judged on evidence (:mod:`balance_metrics.evidence`).
Thresholds come from the standard (``[items.Q…]``). Rates are percent (%).

The 校际差异率 (between-school difference rate) of national quality monitoring
has two definitions in circulation (STANDARD.md §6); the standard names one in
``[items.Q9] difference_rate``:

``"cv"``
    pupil-weighted coefficient of variation of the schools' mean scores,
    ``sqrt(Σ n_i (m_i − m̄)² / N) / m̄`` with ``n_i`` students tested;
``"variance_share"``
    between-school share of the score variance,
    ``B / (B + W)`` with ``B = Σ n_i (m_i − m̄)² / N`` and ``W = Σ n_i s_i² / N``
    (``s_i`` the school's score standard deviation).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd

from balance_metrics.evaluation.checks import NOT_APPLICABLE, check_row, fmt
from balance_metrics.evaluation.context import Context, Rule
from balance_metrics.engine.cv import pupil_weighted_cv
from balance_metrics.common.errors import StandardError
from balance_metrics.contract.schema import STAGES
from balance_metrics.engine.schoolview import in_scope
from balance_metrics.standard.loader import exact

RETENTION_ITEMS = (
    "retention_grade7_enrolment", "retention_deaths", "retention_graduates",
    "retention_transfers_in", "retention_transfers_out",
)


def retention(ctx: Context, item_id: str, spec: Mapping[str, Any]) -> list[dict[str, object]]:
    """Q1: junior three-year retention (巩固率), %.

    ``(graduates − transfers in + transfers out) ÷ (grade-7 enrolment three
    years earlier − deaths) × 100`` (STANDARD.md §6, practitioner formula).
    """
    minimum = exact(spec["min_percent"])
    v = {name: ctx.district.get(name) for name in RETENTION_ITEMS}
    lacking = [name for name, value in v.items() if value is None]
    base = None if lacking else v["retention_grade7_enrolment"] - v["retention_deaths"]
    if lacking or not base:
        note = f"区级指标表缺少 {', '.join(lacking)}" if lacking else "三年前初一入学人数为0"
        return [check_row(item_id, "retention", "初中三年巩固率", None, minimum, ">=", "%", note=note)]
    kept = v["retention_graduates"] - v["retention_transfers_in"] + v["retention_transfers_out"]
    note = (f"({fmt(v['retention_graduates'], '人')} − {fmt(v['retention_transfers_in'], '人')} + {fmt(v['retention_transfers_out'], '人')})"
            f" ÷ ({fmt(v['retention_grade7_enrolment'], '人')} − {fmt(v['retention_deaths'], '人')})")
    return [check_row(item_id, "retention", "初中三年巩固率", kept / base * 100, minimum, ">=", "%", note=note)]


def disabled_enrolment(ctx: Context, item_id: str, spec: Mapping[str, Any]) -> list[dict[str, object]]:
    """Q2: enrolled ÷ school-age children with disabilities × 100 ≥ ``min_percent``."""
    minimum = exact(spec["min_percent"])
    enrolled, school_age = ctx.district.get("disabled_enrolled"), ctx.district.get("disabled_school_age")
    if school_age == 0:
        return [check_row(item_id, "disabled_enrolment", "残疾儿童少年入学率", None, minimum, ">=", "%",
                          status=NOT_APPLICABLE, note="区内无适龄残疾儿童少年")]
    rate = enrolled / school_age * 100 if enrolled is not None and school_age is not None else None
    note = f"入学{fmt(enrolled, '人')}，适龄{fmt(school_age, '人')}" if rate is not None else "区级指标表缺少残疾儿童少年人数"
    return [check_row(item_id, "disabled_enrolment", "残疾儿童少年入学率", rate, minimum, ">=", "%", note=note)]


def training_funds(ctx: Context, item_id: str, spec: Mapping[str, Any]) -> list[dict[str, object]]:
    """Q4: each school's teacher-training funds ÷ its public funds × 100 ≥ ``min_percent``."""
    minimum = exact(spec["min_percent"])
    rows = []
    for _, school in in_scope(ctx.schools, spec).iterrows():
        public, training = school["public_funds_yuan"], school["training_funds_yuan"]
        if not school["has_finance"] or pd.isna(public) or pd.isna(training) or public == 0:
            rows.append(check_row(item_id, "training_share", "教师培训经费占公用经费比例", None, minimum, ">=", "%",
                                  school=school, note="缺少该校学校经费数据"))
            continue
        public, training = exact(float(public)), exact(float(training))
        note = f"培训经费{fmt(training, '元')}，公用经费{fmt(public, '元')}，应不少于{fmt(public * minimum / 100, '元')}"
        rows.append(check_row(item_id, "training_share", "教师培训经费占公用经费比例", training / public * 100, minimum, ">=", "%",
                              school=school, note=note))
    return rows


# -- 校际差异率 ---------------------------------------------------------------


def cv_of_means(means: np.ndarray, sds: np.ndarray, weights: np.ndarray) -> float:
    """Pupil-weighted CV of school mean scores (``sds`` unused)."""
    return pupil_weighted_cv(means, weights)


def variance_share(means: np.ndarray, sds: np.ndarray, weights: np.ndarray) -> float:
    """Between-school share of the score variance, ``B / (B + W)``."""
    total = weights.sum()
    grand = float(np.dot(weights, means) / total)
    between = float(np.dot(weights, (means - grand) ** 2) / total)
    within = float(np.dot(weights, sds**2) / total)
    return between / (between + within) if between + within > 0 else 0.0


DIFFERENCE_RATES: dict[str, Callable[[np.ndarray, np.ndarray, np.ndarray], float]] = {
    "cv": cv_of_means,
    "variance_share": variance_share,
}


def difference_rates(quality: pd.DataFrame, definition: str = "cv") -> pd.DataFrame:
    """District results per stage × subject of national quality monitoring.

    Parameters
    ----------
    quality : DataFrame
        The ``quality`` table (school_id, stage, subject, students_tested,
        level3_percent, mean_score, score_sd).
    definition : {"cv", "variance_share"}
        The 校际差异率 definition (see module doc).

    Returns
    -------
    DataFrame
        stage, subject, schools, students_tested, level3_percent (tested-pupil
        weighted, %), mean_score, difference_rate (dimensionless; NaN when the
        definition needs score_sd and a school lacks it).
    """
    if definition not in DIFFERENCE_RATES:
        raise StandardError(f"unknown 校际差异率 definition {definition!r}; use one of {', '.join(DIFFERENCE_RATES)}")
    rows = []
    for (stage, subject), group in quality.groupby(["stage", "subject"], sort=False):
        weights = group["students_tested"].to_numpy(float)
        means = group["mean_score"].to_numpy(float)
        sds = group["score_sd"].to_numpy(float) if "score_sd" in group else np.full(len(group), np.nan)
        needs_sd = definition == "variance_share"
        rate = np.nan if needs_sd and np.isnan(sds).any() else DIFFERENCE_RATES[definition](means, sds, weights)
        rows.append({
            "stage": stage,
            "subject": subject,
            "schools": len(group),
            "students_tested": int(weights.sum()),
            "level3_percent": float(np.dot(weights, group["level3_percent"].to_numpy(float)) / weights.sum()),
            "mean_score": float(np.dot(weights, means) / weights.sum()),
            "difference_rate": float(rate),
        })
    return pd.DataFrame(rows, columns=["stage", "subject", "schools", "students_tested", "level3_percent", "mean_score", "difference_rate"])


def quality_monitoring(ctx: Context, item_id: str, spec: Mapping[str, Any]) -> list[dict[str, object]]:
    """Q9: per stage × subject, the share at level Ⅲ or above ≥ ``min_level3_percent``
    and the 校际差异率 < ``max_difference_rate`` (definition ``difference_rate``)."""
    minimum, limit = exact(spec["min_level3_percent"]), exact(spec["max_difference_rate"])
    definition = str(spec["difference_rate"])
    table = ctx.dataset.table("quality")
    if table is None:
        return [check_row(item_id, "level3", "Ⅲ级及以上学生比例", None, minimum, ">=", "%", note="未提供质量监测结果（quality 表）")]
    rows = []
    for _, r in difference_rates(table, definition).iterrows():
        stage = str(r["stage"])
        label = f"{STAGES.get(stage, stage)}{r['subject']}"
        rows.append(check_row(item_id, "level3", "Ⅲ级及以上学生比例", _settled(r["level3_percent"]), minimum, ">=", "%",
                              stage=stage, target=str(r["subject"]), note=f"{label}，{r['schools']}所学校，测试{r['students_tested']}人"))
        rate = None if np.isnan(r["difference_rate"]) else _settled(r["difference_rate"])
        note = f"{label}，定义：{definition}" if rate is not None else f"{label}：缺少分校标准差（score_sd），无法按 {definition} 计算"
        rows.append(check_row(item_id, "difference_rate", "校际差异率", rate, limit, "<", "", stage=stage, target=str(r["subject"]), note=note))
    return rows


def _settled(value: float) -> Fraction:
    """A floating-point result as an exact number, rounded to 12 decimals first so
    that a value computed as 0.15 ± 1e-17 is judged as exactly 0.15."""
    return exact(round(float(value), 12))


RULES: dict[str, Rule] = {
    "retention": retention,
    "disabled_enrolment": disabled_enrolment,
    "training_funds": training_funds,
    "quality_monitoring": quality_monitoring,
}
