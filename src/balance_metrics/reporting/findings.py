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
from balance_metrics.contract.schema import AREA_TYPES, STAGES

if TYPE_CHECKING:
    from balance_metrics.contract.dataset import Dataset
    from balance_metrics.reporting.context import ReportContext
    from balance_metrics.engine.resources import ResourceEvaluation

__all__ = [
    "Headline",
    "area_gap_table",
    "headline",
    "issue_list",
    "issue_table",
    "key_numbers",
    "resource_issues",
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


_STATUS_WORDS = {"fail": "未达标", "evidence missing": "缺少佐证或数据"}


def _readiness(evaluation: Any) -> tuple[bool | None, list[str]]:
    """(ready, summary of what blocks it) from the full evaluation."""
    readiness = getattr(evaluation, "readiness", None)
    ready = getattr(readiness, "ready", None)
    if ready is None:
        return None, []
    blocking = getattr(readiness, "blocking", None)
    if not isinstance(blocking, pd.DataFrame) or blocking.empty:
        return bool(ready), []
    parts = []
    for status, word in _STATUS_WORDS.items():
        rows = blocking[blocking["status"] == status] if "status" in blocking.columns else blocking.iloc[0:0]
        if rows.empty:
            continue
        ids = "、".join(str(i) for i in rows["id"]) if "id" in rows.columns else ""
        parts.append(f"{len(rows)} 项{word}（{ids}）" if ids else f"{len(rows)} 项{word}")
    if "veto" in blocking.columns and bool(blocking["veto"].any()):
        parts.append(f"其中否决项 {int(blocking['veto'].sum())} 项未能确认")
    return bool(ready), parts


def headline(ctx: ReportContext) -> Headline:
    """The overall verdict of a district report.

    With the full evaluation available, the verdict is its readiness for
    recognition; otherwise it rests on the seven resource indicators only,
    and says so.
    """
    res = ctx.resources
    details = _stage_lines(res)
    over = int((~res.balance["passed"]).sum())
    failing = int((~res.verdicts["passed"]).sum())
    resource_ok = res.passed
    ready, blocking = _readiness(ctx.evaluation) if ctx.evaluation is not None else (None, [])
    if ready is not None:
        verdict = "具备申请国家优质均衡督导评估认定的条件" if ready else "暂不具备申请国家优质均衡督导评估认定的条件"
        if blocking:
            verdict += "：" + "；".join(blocking)
        scope = "结论依据资源配置、政府保障程度、教育质量、社会认可度及否决项的全面评估；“缺少佐证或数据”的项目在补齐材料前按未通过处理。"
        return Headline(passed=ready, verdict=verdict + "。", details=details, scope=scope)
    if resource_ok:
        verdict = "资源配置七项指标全部达到优质均衡要求：所有参评学校达标，各项差异系数均不超过限值。"
    else:
        parts = []
        if over:
            parts.append(f"{over} 项差异系数超过限值")
        if failing:
            parts.append(f"{failing} 所学校（学段）未达标")
        verdict = "资源配置未达到优质均衡要求：" + "，".join(parts) + "。"
    scope = "本结论仅依据资源配置七项指标（学校达标情况与校际差异系数），不是优质均衡的全面评估结论。"
    return Headline(passed=resource_ok, verdict=verdict, details=details, scope=scope)


def resource_issues(res: ResourceEvaluation) -> list[str]:
    """The resource-allocation problems, most severe first.

    Order: CVs over their limit (they block the whole district), then
    sections failing the per-school rule (indicators below the floor first),
    then single indicators below the threshold in sections that still pass.

    Returns
    -------
    list of str
        One Chinese line per problem.
    """
    decimals = res.standard.display_decimals
    lines: list[str] = []
    stage_rank = {s: i for i, s in enumerate(stage_order(res.balance["stage"]))}
    ind_rank = {s: i for i, s in enumerate(indicator_order(res.sections["indicator"]))}
    over = res.balance[~res.balance["passed"]].copy()
    over["_order"] = [(stage_rank[s], ind_rank.get(i, 99)) for s, i in zip(over["stage"], over["indicator"], strict=True)]
    for r in over.sort_values("_order").to_dict("records"):
        lines.append(
            f"【差异系数超限】{_stage(r['stage'])} {r['indicator']} {r['name']}：差异系数 "
            f"{format_number(r['cv'], decimals)}，超过限值 {format_number(r['limit'], 2)}。"
        )
    rows = res.sections[~res.sections["met"]].copy()
    verdict = res.verdicts.set_index(["school_id", "stage"])["passed"]
    rows["section_passed"] = [bool(verdict[(s, g)]) for s, g in zip(rows["school_id"], rows["stage"], strict=True)]
    rows["_order"] = [
        (passed, stage_rank.get(stage, 9), sid)
        for passed, stage, sid in zip(rows["section_passed"], rows["stage"], rows["school_id"], strict=True)
    ]
    for (passed, _, _), group in rows.groupby("_order", sort=True):
        first = group.iloc[0]
        group = group.assign(_ind=group["indicator"].map(ind_rank)).sort_values(["above_floor", "_ind"])
        items = []
        for r in group.to_dict("records"):
            where = "低于85%底线" if not r["above_floor"] else "未达到标准值"
            items.append(
                f"{r['indicator']} {where}（{format_number(r['value'], decimals)}，标准值 "
                f"{format_number(r['threshold'], decimals)}，底线 {format_number(r['floor'], decimals)}）"
            )
        who = f"{first['school_name']}（{first['school_id']}）{_stage(first['stage'])}"
        if passed:
            lines.append(f"【单项未达标】{who}：" + "；".join(items) + "；仍符合“至少6项达标且其余不低于85%”的规则。")
        else:
            lines.append(f"【学校未达标】{who}：" + "；".join(items) + "。")
    return lines


ISSUE_TABLE_COLUMNS = ["no", "severity_label", "area_name", "item_id", "school_name", "description"]


def issue_table(ctx: ReportContext) -> pd.DataFrame:
    """The 问题清单 as a table, most severe first.

    Returns
    -------
    DataFrame
        no, severity_label, area_name, item_id, school_name, description
        (plus the evaluation's other columns when it is available). Without
        the full evaluation, the resource problems of :func:`resource_issues`.
    """
    issues = getattr(ctx.evaluation, "issue_list", None) if ctx.evaluation is not None else None
    if isinstance(issues, pd.DataFrame):
        return issues.reset_index(drop=True)
    lines = resource_issues(ctx.resources)
    rows = []
    for number, line in enumerate(lines, start=1):
        label, _, text = line.partition("】")
        who, _, description = text.partition("：")
        rows.append(
            {
                "no": number,
                "severity_label": label.lstrip("【"),
                "area_name": "资源配置",
                "item_id": "",
                "school_name": "全区" if label.endswith("差异系数超限") else who,
                "description": description if not label.endswith("差异系数超限") else text,
            }
        )
    return pd.DataFrame(rows, columns=ISSUE_TABLE_COLUMNS)


def issue_list(ctx: ReportContext) -> list[str]:
    """The 问题清单 as lines of text (for e-mails and terminals)."""
    table = issue_table(ctx)
    return [
        f"{r['no']}.【{r['severity_label']}】{r['area_name']} {r['item_id']} {r['school_name']}：{r['description']}".replace("  ", " ")
        for r in table.to_dict("records")
    ]


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
