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
from typing import Any

import numpy as np
import pandas as pd

from balance_metrics.common.grouped import first_rows
from balance_metrics.evaluation.checks import NOT_APPLICABLE, check_frame, fmt_many, stack_checks
from balance_metrics.evaluation.context import Context, Rule
from balance_metrics.evaluation.ratios import Ratios
from balance_metrics.evaluation.wording import fmt_values
from balance_metrics.engine.cv import pupil_weighted_cv
from balance_metrics.common.errors import StandardError
from balance_metrics.contract.schema import STAGES
from balance_metrics.engine.schoolview import in_scope
from balance_metrics.standard.loader import exact

RETENTION_ITEMS = (
    "retention_grade7_enrolment", "retention_deaths", "retention_graduates",
    "retention_transfers_in", "retention_transfers_out",
)


def retention(ctx: Context, item_id: str, spec: Mapping[str, Any]) -> pd.DataFrame:
    """Q1: junior three-year retention (巩固率), %.

    ``(graduates − transfers in + transfers out) ÷ (grade-7 enrolment three
    years earlier − deaths) × 100`` (STANDARD.md §6, practitioner formula).
    """
    minimum = exact(spec["min_percent"])
    v = {name: ctx.figures.exact(name) for name in RETENTION_ITEMS}
    lacking = np.full(len(ctx.ids), "", dtype=object)
    for name in RETENTION_ITEMS:  # a loop over the five figures
        lacking = np.where(v[name].missing, np.where(lacking == "", name, lacking + ", " + name), lacking).astype(object)
    base = v["retention_grade7_enrolment"] - v["retention_deaths"]
    kept = v["retention_graduates"] - v["retention_transfers_in"] + v["retention_transfers_out"]
    rate = (kept * 100 / base).with_missing(lacking != "")
    text = {name: fmt_many(v[name].floats(), "人") for name in RETENTION_ITEMS}
    note = ("(" + text["retention_graduates"] + " − " + text["retention_transfers_in"] + " + " + text["retention_transfers_out"]
            + ") ÷ (" + text["retention_grade7_enrolment"] + " − " + text["retention_deaths"] + ")")
    note = np.where(lacking != "", "区级指标表缺少 " + lacking, np.where(rate.missing, "三年前初一入学人数为0", note)).astype(object)
    return check_frame(item_id, "retention", "初中三年巩固率", ctx.positions, rate, minimum, ">=", "%", note=note)


def disabled_enrolment(ctx: Context, item_id: str, spec: Mapping[str, Any]) -> pd.DataFrame:
    """Q2: enrolled ÷ school-age children with disabilities × 100 ≥ ``min_percent``."""
    minimum = exact(spec["min_percent"])
    enrolled, school_age = ctx.figures.exact("disabled_enrolled"), ctx.figures.exact("disabled_school_age")
    none = school_age.is_zero()
    rate = (enrolled * 100 / school_age).with_missing(none)
    note = np.where(none, "区内无适龄残疾儿童少年", np.where(rate.missing, "区级指标表缺少残疾儿童少年人数",
                    "入学" + fmt_many(enrolled.floats(), "人") + "，适龄" + fmt_many(school_age.floats(), "人"))).astype(object)
    return check_frame(item_id, "disabled_enrolment", "残疾儿童少年入学率", ctx.positions, rate, minimum, ">=", "%",
                       status=np.where(none, NOT_APPLICABLE, "").astype(object), note=note)


def training_funds(ctx: Context, item_id: str, spec: Mapping[str, Any]) -> pd.DataFrame:
    """Q4: each school's teacher-training funds ÷ its public funds × 100 ≥ ``min_percent``."""
    minimum = exact(spec["min_percent"])
    schools = in_scope(ctx.schools, spec)
    public = Ratios.of(schools["public_funds_yuan"].to_numpy(float))
    training = Ratios.of(schools["training_funds_yuan"].to_numpy(float))
    lacking = ~schools["has_finance"].to_numpy(bool) | public.missing | training.missing | public.is_zero()
    rate = (training * 100 / public).with_missing(lacking)
    note = (fmt_values(training.floats(), "元", prefix="培训经费") + fmt_values(public.floats(), "元", prefix="，公用经费")
            + fmt_values((public * Ratios.const(minimum / 100, len(schools))).floats(), "元", prefix="，应不少于"))
    note = np.where(lacking, "缺少该校学校经费数据", note).astype(object)
    return check_frame(item_id, "training_share", "教师培训经费占公用经费比例", schools["_district"].to_numpy(np.int64), rate, minimum, ">=", "%",
                       school_id=schools["school_id"].astype(str).to_numpy(object), school_name=schools["school_name"].astype(str).to_numpy(object),
                       note=note)


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
    rates = difference_rates_by_district(quality.drop(columns="district_id", errors="ignore"), definition)
    return rates.drop(columns="district_id")


def difference_rates_by_district(quality: pd.DataFrame, definition: str = "cv") -> pd.DataFrame:
    """:func:`difference_rates` of every district at once (grouped sums with
    ``np.bincount``; the formulas of :func:`cv_of_means` and :func:`variance_share`).

    Returns
    -------
    DataFrame
        district_id and the columns of :func:`difference_rates`, the groups of
        each district in order of first appearance.
    """
    if definition not in DIFFERENCE_RATES:
        raise StandardError(f"unknown 校际差异率 definition {definition!r}; use one of {', '.join(DIFFERENCE_RATES)}")
    keys = ["district_id", "stage", "subject"] if "district_id" in quality.columns else ["stage", "subject"]
    codes, n = _group_codes(quality, keys)
    first = quality.iloc[first_rows(codes, n)]
    w = quality["students_tested"].to_numpy(float)
    means = quality["mean_score"].to_numpy(float)
    sds = quality["score_sd"].to_numpy(float) if "score_sd" in quality else np.full(len(quality), np.nan)
    total = np.bincount(codes, weights=w, minlength=n)
    with np.errstate(divide="ignore", invalid="ignore"):
        grand = np.bincount(codes, weights=w * means, minlength=n) / total
        between = np.bincount(codes, weights=w * (means - grand[codes]) ** 2, minlength=n) / total
        if definition == "cv":
            rate = np.sqrt(between) / np.abs(grand)
            rate[grand == 0] = np.nan
        else:
            within = np.bincount(codes, weights=w * sds**2, minlength=n) / total
            rate = np.where(between + within > 0, between / (between + within), 0.0)
            rate[np.bincount(codes, weights=np.isnan(sds), minlength=n) > 0] = np.nan
        level3 = np.bincount(codes, weights=w * quality["level3_percent"].to_numpy(float), minlength=n) / total
    return pd.DataFrame({
        "district_id": first["district_id"].astype(object).to_numpy() if "district_id" in first else "",
        "stage": first["stage"].to_numpy(object), "subject": first["subject"].to_numpy(object),
        "schools": np.bincount(codes, minlength=n), "students_tested": total.astype(np.int64),
        "level3_percent": level3, "mean_score": grand, "difference_rate": rate,
    })


def _group_codes(frame: pd.DataFrame, keys: list[str]) -> tuple[np.ndarray, int]:
    """Group number of each row by ``keys`` in order of first appearance (as
    ``groupby(keys, sort=False).ngroup()``: -1 where a key is missing), and how many."""
    combined = np.zeros(len(frame), dtype=np.int64)
    missing = np.zeros(len(frame), dtype=bool)
    for key in keys:  # a loop over the two or three key columns
        codes, uniques = pd.factorize(frame[key].to_numpy(object))
        missing |= codes < 0
        combined = pd.factorize(combined * (len(uniques) + 1) + codes)[0]  # kept dense: no overflow
    codes = np.full(len(frame), -1, dtype=np.int64)
    codes[~missing], uniques = pd.factorize(combined[~missing])
    return codes, len(uniques)


def quality_monitoring(ctx: Context, item_id: str, spec: Mapping[str, Any]) -> pd.DataFrame:
    """Q9: per stage × subject, the share at level Ⅲ or above ≥ ``min_level3_percent``
    and the 校际差异率 < ``max_difference_rate`` (definition ``difference_rate``)."""
    minimum, limit = exact(spec["min_level3_percent"]), exact(spec["max_difference_rate"])
    definition = str(spec["difference_rate"])
    table = ctx.dataset.table("quality")
    if table is None:
        return check_frame(item_id, "level3", "Ⅲ级及以上学生比例", ctx.positions, None, minimum, ">=", "%", note="未提供质量监测结果（quality 表）")
    if ctx.dataset.multi_district and "district_id" not in table.columns:
        district_of = np.append(ctx.dataset.schools["district_id"].astype(object).to_numpy(), np.nan)
        table = table.assign(district_id=district_of[ctx.school_rows("quality")])
    rates = difference_rates_by_district(table, definition)
    where = ctx.position(rates["district_id"].to_numpy(object))
    rates, where = rates[where >= 0], where[where >= 0]
    stage = rates["stage"].astype(str).to_numpy(object)
    subject = rates["subject"].astype(str).to_numpy(object)
    label = pd.Series(stage).map(lambda s: STAGES.get(s, s)).to_numpy(object) + subject
    district = where
    level3 = check_frame(item_id, "level3", "Ⅲ级及以上学生比例", district, _settled(rates["level3_percent"]), minimum, ">=", "%",
                         stage=stage, target=subject,
                         note=label + "，" + rates["schools"].astype(str).to_numpy(object) + "所学校，测试" + rates["students_tested"].astype(str).to_numpy(object) + "人")
    rate = _settled(rates["difference_rate"])
    note = np.where(rate.missing, label + f"：缺少分校标准差（score_sd），无法按 {definition} 计算", label + f"，定义：{definition}").astype(object)
    difference = check_frame(item_id, "difference_rate", "校际差异率", district, rate, limit, "<", "", stage=stage, target=subject, note=note)
    order = np.arange(len(rates)) * 2
    return stack_checks([level3, difference], [order, order + 1])


def _settled(values: object) -> Ratios:
    """Floating-point results as exact numbers, rounded to 12 decimals first so
    that a value computed as 0.15 ± 1e-17 is judged as exactly 0.15."""
    return Ratios.of([round(v, 12) for v in np.asarray(values, dtype=float).tolist()])  # one per stage × subject


RULES: dict[str, Rule] = {
    "retention": retention,
    "disabled_enrolment": disabled_enrolment,
    "training_funds": training_funds,
    "quality_monitoring": quality_monitoring,
}
