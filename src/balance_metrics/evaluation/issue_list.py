"""The 问题清单: one line per failing school × item (or district item), in Chinese,
ordered by severity, ready to hand to the responsible unit.

Severity: 1 一票否决 (a veto item failed), 2 未达标 (an item failed), 3 缺少佐证
或数据 (evidence or data missing — this too blocks recognition), 4 区定目标未完成
(a local plan target not met or not reported; does not block recognition).
"""

from __future__ import annotations

import math

import pandas as pd

from balance_metrics.evaluation.checks import COMPARISON_LABELS, DATA_MISSING, FAIL, MISSING, fmt, requirement_text
from balance_metrics.evaluation.items import AREA_ORDER, label_of

SEVERITY_LABELS: dict[int, str] = {1: "一票否决", 2: "未达标", 3: "缺少佐证或数据", 4: "区定目标未完成"}
DISTRICT_WIDE = "全区"
ISSUE_COLUMNS = [
    "no", "severity", "severity_label", "area_name", "item_id", "item_name", "responsible",
    "school_id", "school_name", "description", "measured", "requirement", "shortfall", "unit",
]
#: Chinese headers of the exported 问题清单.
ISSUE_LABELS: dict[str, str] = {
    "no": "序号", "severity": "严重程度", "severity_label": "问题类别", "area_name": "评估方面",
    "item_id": "指标编号", "item_name": "指标名称", "responsible": "责任单位", "school_id": "学校代码",
    "school_name": "学校名称", "description": "问题描述", "measured": "现状值", "requirement": "要求值",
    "shortfall": "差距", "unit": "单位",
}


def describe(row: pd.Series) -> str:
    """One check as a Chinese sentence with value, requirement and shortfall."""
    if pd.isna(row["requirement"]):  # evidence documents
        prefix = "未达标" if row["status"] == FAIL else "缺少佐证"
        return f"{prefix}：{row['note']}" if row["note"] else f"{prefix}材料"
    required = requirement_text(row["comparison"], row["requirement"], row["unit"])
    if pd.isna(row["measured"]):
        what = "无法计算" if row["status"] == FAIL else "缺少数据"
        return f"{label_of(row)}{what}（要求{required}）" + (f"：{row['note']}" if row["note"] else "")
    gap_word = "差" if row["comparison"] in (">=", ">") else "超出"
    text = f"{label_of(row)}为{fmt(row['measured'], row['unit'])}，要求{required}"
    if row["status"] == FAIL and row["shortfall"] > 0:
        text += f"，{gap_word}{fmt(row['shortfall'], row['unit'])}"
    return text + (f"（{row['note']}）" if row["note"] else "")


def _line(severity: int, item: pd.Series, group: pd.DataFrame) -> dict[str, object]:
    single = len(group) == 1
    first = group.iloc[0]
    return {
        "severity": severity,
        "severity_label": SEVERITY_LABELS[severity],
        "area_name": item["area_name"],
        "item_id": item["id"],
        "item_name": item["name"],
        "responsible": item["responsible"],
        "school_id": first["school_id"],
        "school_name": first["school_name"] or DISTRICT_WIDE,
        "description": "；".join(describe(r) for r in group.to_dict("records")),
        "measured": first["measured"] if single else math.nan,
        "requirement": first["requirement"] if single else math.nan,
        "shortfall": first["shortfall"] if single else math.nan,
        "unit": first["unit"] if single else "",
        "_order": (AREA_ORDER.index(item["area"]), item.name),
    }


def item_issues(items: pd.DataFrame, checks: pd.DataFrame) -> list[dict[str, object]]:
    """Lines for the items' failing and missing checks, per school (or 全区)."""
    by_id = items.reset_index(drop=True).set_index("id", drop=False)
    by_id.index.name = None
    by_id = by_id.assign(position=range(len(by_id)))
    lines = []
    open_checks = checks[checks["status"].isin([FAIL, MISSING])]
    for (item_id, school_id, status), group in open_checks.groupby(["item_id", "school_id", "status"], sort=False):
        item = by_id.loc[item_id]
        veto = item["area"] == "veto"
        severity = (1 if veto else 2) if status == FAIL else 3
        line = _line(severity, item.rename(int(item["position"])), group)
        line["_order"] = (0 if veto else 1, *line["_order"])
        lines.append(line)
    return lines


def plan_issues(targets: pd.DataFrame, details: pd.DataFrame) -> list[dict[str, object]]:
    """Lines for plan targets not met or not reported (per school where the target is)."""
    lines = []
    for position, target in targets.reset_index(drop=True).iterrows():
        if target["status"] not in (FAIL, DATA_MISSING):
            continue
        item = pd.Series({"area_name": "区定目标", "id": target["target_id"], "name": target["name"],
                          "responsible": target["responsible"], "area": "resources"}, name=position)
        open_rows = details[(details["item_id"] == target["target_id"]) & details["status"].isin([FAIL, MISSING])]
        if target["scope"] == "school" and len(open_rows):
            for _, group in open_rows.groupby("school_id", sort=False):
                lines.append(_line(4, item, group) | {"_order": (2, position)})
            continue
        lines.append(_target_line(item, target, position))
    return lines


def _target_line(item: pd.Series, target: pd.Series, position: int) -> dict[str, object]:
    if pd.isna(target["measured"]):
        text = f"缺少数据（目标{COMPARISON_LABELS[target['comparison']]}{fmt(target['requirement'], target['unit'])}）"
        gap = math.nan
    else:
        gap = abs(target["requirement"] - target["measured"]) if target["status"] == FAIL else 0.0
        text = (f"本期为{fmt(target['measured'], target['unit'])}，目标{COMPARISON_LABELS[target['comparison']]}"
                f"{fmt(target['requirement'], target['unit'])}（期限{target['deadline']}）")
        if gap:
            text += f"，差{fmt(gap, target['unit'])}"
    if target["detail"]:
        text += f"；{target['detail']}"
    return {
        "severity": 4, "severity_label": SEVERITY_LABELS[4], "area_name": item["area_name"],
        "item_id": item["id"], "item_name": item["name"], "responsible": item["responsible"],
        "school_id": "", "school_name": DISTRICT_WIDE, "description": text,
        "measured": target["measured"], "requirement": target["requirement"], "shortfall": gap, "unit": target["unit"],
        "_order": (2, position),
    }


def issue_list(items: pd.DataFrame, checks: pd.DataFrame, targets: pd.DataFrame, target_checks: pd.DataFrame) -> pd.DataFrame:
    """The 问题清单, ordered by severity, then area and item, then school.

    Returns
    -------
    DataFrame
        Columns :data:`ISSUE_COLUMNS`; ``measured``, ``requirement`` and
        ``shortfall`` (in ``unit``) are filled when the line has one check.
    """
    lines = item_issues(items, checks) + plan_issues(targets, target_checks)
    frame = pd.DataFrame(lines, columns=[*ISSUE_COLUMNS[1:], "_order"])
    # "" (全区) sorts before school ids: district lines first within an item.
    frame = frame.sort_values(["severity", "_order", "school_id"], kind="stable").drop(columns="_order")
    frame.insert(0, "no", range(1, len(frame) + 1))
    return frame.reset_index(drop=True)


def issue_list_zh(issues: pd.DataFrame) -> pd.DataFrame:
    """The 问题清单 with Chinese column headers, for handing out."""
    return issues.rename(columns=ISSUE_LABELS)
