"""Findings for reports: the headline verdict, the issue list, per-school tables.

These turn evaluation results into the statements and derived tables a report
shows. They compute nothing new about the method (that is the engine's job);
they select, join and word its results, in Simplified Chinese.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from balance_metrics.reporting.plots import indicator_order, stage_order
from balance_metrics.reporting.presentation import format_number
from balance_metrics.common.labels import BLOCKING_STATUS_WORDS, READY_SENTENCES
from balance_metrics.contract.schema import AREA_TYPES, STAGES

if TYPE_CHECKING:
    from balance_metrics.contract.dataset import Dataset
    from balance_metrics.reporting.context import ReportContext
    from balance_metrics.engine.resources import ResourceEvaluation

__all__ = [
    "Headline",
    "area_gap_table",
    "headline",
    "issue_table",
    "key_numbers",
    "school_comparison",
    "school_ids",
    "school_info",
    "school_warnings",
]


def _stage(stage: str) -> str:
    return STAGES.get(stage, stage)


@dataclass(frozen=True)
class Headline:
    """The report's overall verdict.

    Attributes
    ----------
    passed : bool
        Whether the district meets everything the report evaluated.
    verdict : str
        One sentence.
    details : list of str
        One line per stage (sections passing, CVs within the limit).
    scope : str
        What the verdict is based on.
    """

    passed: bool
    verdict: str
    details: list[str]
    scope: str


def _stage_lines(res: ResourceEvaluation) -> list[str]:
    decimals = res.standard.display_decimals
    lines = []
    for row in res.summary().to_dict("records"):
        stage = row["stage"]
        balance = res.balance[res.balance["stage"] == stage]
        over = balance[~balance["passed"]]
        limit = format_number(float(res.standard.cv_limit(stage)), 2)
        cv_text = f"{row['cv_passed']}/{row['indicators']} 项差异系数不超过限值 {limit}"
        if len(over):
            worst = ", ".join(
                f"{r['indicator']} {format_number(r['cv'], decimals)}"
                for r in over.sort_values("cv", ascending=False).to_dict("records")
            )
            cv_text += f"（超限：{worst}）"
        lines.append(f"{_stage(stage)}：参评 {row['sections']} 所学校（学段），{row['sections_passed']} 所达标；{cv_text}。")
    return lines


def _blocking_summary(blocking: pd.DataFrame) -> list[str]:
    """What keeps the district from applying, by status: counts and item ids."""
    parts = []
    for status, word in BLOCKING_STATUS_WORDS.items():
        rows = blocking[blocking["status"] == status]
        if len(rows):
            parts.append(f"{len(rows)} 项{word}（{'、'.join(map(str, rows['id']))}）")
    if blocking["veto"].any():
        parts.append(f"其中否决项 {int(blocking['veto'].sum())} 项未能确认")
    return parts


def headline(ctx: ReportContext) -> Headline:
    """The overall verdict of a district report: the evaluation's readiness for recognition."""
    readiness = ctx.evaluation.readiness
    verdict = READY_SENTENCES[readiness.passed]
    blocking = _blocking_summary(readiness.blocking)
    if blocking:
        verdict += "：" + "；".join(blocking)
    scope = "结论依据资源配置、政府保障程度、教育质量、社会认可度及否决项的全面评估；“缺少佐证或数据”的项目在补齐材料前按未通过处理。"
    return Headline(passed=readiness.passed, verdict=verdict + "。", details=_stage_lines(ctx.resources), scope=scope)


ISSUE_TABLE_COLUMNS = ["no", "severity_label", "area_name", "item_id", "school_name", "description"]


def issue_table(ctx: ReportContext) -> pd.DataFrame:
    """The 问题清单 of the evaluation, most severe first.

    Returns
    -------
    DataFrame
        no, severity_label, area_name, item_id, school_name, description and
        the evaluation's other issue columns
        (:func:`balance_metrics.evaluation.issue_list.issue_list`).
    """
    return ctx.evaluation.issue_list.reset_index(drop=True)


def key_numbers(res: ResourceEvaluation) -> str:
    """Deterministic key numbers of a period, one line per stage × indicator.

    Used by the notebooks' ``# NBVAL_CHECK_OUTPUT`` cells: the CVs to the
    standard's display decimals and the number of sections passing.
    """
    decimals = res.standard.display_decimals
    lines = [f"{res.period} {res.standard.label}"]
    for r in res.summary().to_dict("records"):
        lines.append(f"{r['stage']} sections_passed={r['sections_passed']}/{r['sections']}")
    for r in res.balance.to_dict("records"):
        lines.append(f"{r['stage']} {r['indicator']} cv={format_number(r['cv'], decimals)} passed={bool(r['passed'])}")
    return "\n".join(lines)


# --------------------------------------------------------------------------
# Schools
# --------------------------------------------------------------------------


def school_ids(res: ResourceEvaluation) -> list[str]:
    """Schools with at least one evaluated section, in the order of the data."""
    return list(dict.fromkeys(res.verdicts["school_id"]))


def school_info(dataset: Dataset, school_id: str) -> dict[str, Any]:
    """The school's roster row as a dict.

    Raises
    ------
    KeyError
        The school is not in the period's roster.
    """
    rows = dataset.schools[dataset.schools["school_id"] == school_id]
    if rows.empty:
        sample = ", ".join(dataset.schools["school_id"].head(5))
        raise KeyError(f"school {school_id!r} is not in period {dataset.period} (e.g. {sample})")
    record = rows.iloc[0].to_dict()
    return {k: v for k, v in record.items() if not str(k).startswith("_")}


def school_comparison(res: ResourceEvaluation, school_id: str) -> pd.DataFrame:
    """One school's indicators next to thresholds and the district.

    Parameters
    ----------
    res : ResourceEvaluation
    school_id : str

    Returns
    -------
    DataFrame
        One row per stage × indicator (stages in natural order, R1..R7):
        school_id, school_name, stage, students, indicator, name, unit,
        value, threshold, floor, met, above_floor, shortfall, ratio (value ÷
        threshold), district_value, district_ratio (district ÷ threshold),
        ratio_to_district (value ÷ district), floor_ratio (floor ÷
        threshold). Empty when the school has no evaluated section.
    """
    rows = res.sections[res.sections["school_id"] == school_id]
    district = res.balance[["stage", "indicator", "district_value", "cv", "limit"]]
    frame = rows.merge(district, on=["stage", "indicator"], how="left")
    frame["district_ratio"] = frame["district_value"] / frame["threshold"]
    frame["ratio_to_district"] = frame["value"] / frame["district_value"]
    frame["floor_ratio"] = frame["floor"] / frame["threshold"]
    stage_rank = {s: i for i, s in enumerate(stage_order(frame["stage"]))}
    ind_rank = {s: i for i, s in enumerate(indicator_order(frame["indicator"]))}
    frame = frame.assign(_s=frame["stage"].map(stage_rank), _i=frame["indicator"].map(ind_rank))
    columns = [
        "school_id", "school_name", "stage", "students", "indicator", "name", "unit", "value", "threshold", "floor",
        "met", "above_floor", "shortfall", "ratio", "district_value", "district_ratio", "ratio_to_district",
        "floor_ratio",
    ]  # fmt: skip
    return frame.sort_values(["_s", "_i"])[columns].reset_index(drop=True)


def school_warnings(dataset: Dataset, school_id: str) -> pd.DataFrame:
    """The period's data-quality warnings that concern one school's rows."""
    keys = set()
    for frame in dataset.tables.values():
        if {"_source", "_row", "school_id"} <= set(frame.columns):
            mine = frame[frame["school_id"] == school_id]
            keys.update(zip(mine["_source"].astype(str), mine["_row"].astype(int), strict=True))
    warnings = dataset.warnings
    if warnings.empty:
        return warnings
    mask = [(str(f), int(r)) in keys if pd.notna(r) else False for f, r in zip(warnings["file"], warnings["row"], strict=True)]
    return warnings[mask].reset_index(drop=True)


def area_gap_table(group_gaps: pd.DataFrame) -> pd.DataFrame:
    """Urban / town / rural values side by side, one row per stage × indicator.

    Parameters
    ----------
    group_gaps : DataFrame
        ``balance_metrics.equity.group_gaps(res, by="area_type")``.

    Returns
    -------
    DataFrame
        stage, indicator, name, district_value, one column per area label
        present (城区, 镇区, 乡村, in that order), max_min_ratio, lowest_group.
    """
    if group_gaps.empty:
        return pd.DataFrame()
    keys = ["stage", "indicator", "name"]
    wide = group_gaps.pivot_table(index=keys, columns="group", values="group_value", aggfunc="first", sort=False)
    areas = [a for a in AREA_TYPES if a in wide.columns]
    wide = wide[areas].rename(columns=AREA_TYPES)
    spread = group_gaps.groupby(keys, sort=False)[["district_value", "max_min_ratio", "lowest_group"]].first()
    out = spread[["district_value"]].join(wide).join(spread[["max_min_ratio", "lowest_group"]]).reset_index()
    stage_rank = {s: i for i, s in enumerate(stage_order(out["stage"]))}
    ind_rank = {s: i for i, s in enumerate(indicator_order(out["indicator"]))}
    out = out.assign(_s=out["stage"].map(stage_rank), _i=out["indicator"].map(ind_rank)).sort_values(["_s", "_i"])
    return out.drop(columns=["_s", "_i"]).reset_index(drop=True)
