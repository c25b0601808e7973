"""The 问题清单: one line per failing school × item (or district item), in Chinese,
ordered by severity, ready to hand to the responsible unit.

Severity: 1 一票否决 (a veto item failed), 2 未达标 (an item failed), 3 缺少佐证
或数据 (evidence or data missing — this too blocks recognition), 4 区定目标未完成
(a local plan target not met or not reported; does not block recognition).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from balance_metrics.common.grouped import first_rows, join_by_group
from balance_metrics.evaluation.checks import COMPARISON_LABELS, DATA_MISSING, FAIL, MISSING, fmt, fmt_by_unit, requirement_text, requirement_texts
from balance_metrics.evaluation.items import AREA_ORDER, label_of, labels_of

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
        "district_id": first["district_id"] if "district_id" in group else "",
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


def describe_many(checks: pd.DataFrame) -> np.ndarray:
    """:func:`describe` of every check."""
    status = checks["status"].to_numpy(object)
    note = checks["note"].astype(str).to_numpy(object)
    has_note = note != ""
    fail = status == FAIL
    measured = checks["measured"].to_numpy(float)
    requirement = checks["requirement"].to_numpy(float)
    shortfall = checks["shortfall"].to_numpy(float)
    units = checks["unit"].to_numpy(object)
    comparison = checks["comparison"].to_numpy(object)
    prefix = np.where(fail, "未达标", "缺少佐证").astype(object)
    documents = np.where(has_note, prefix + "：" + note, prefix + "材料")
    required = requirement_texts(comparison, requirement, units)
    label = labels_of(checks)
    unmeasured = label + np.where(fail, "无法计算", "缺少数据").astype(object) + "（要求" + required + "）" + np.where(has_note, "：" + note, "")
    gap_word = np.where(np.isin(comparison, [">=", ">"]), "差", "超出").astype(object)
    text = label + "为" + fmt_by_unit(measured, units) + "，要求" + required
    text = text + np.where(fail & (shortfall > 0), "，" + gap_word + fmt_by_unit(shortfall, units), "")
    text = text + np.where(has_note, "（" + note + "）", "")
    return np.where(np.isnan(requirement), documents, np.where(np.isnan(measured), unmeasured, text)).astype(object)


def item_issues(items: pd.DataFrame, checks: pd.DataFrame) -> pd.DataFrame:
    """Lines for the items' failing and missing checks, per district and school (or 全区).

    Returns the lines (:data:`ISSUE_COLUMNS` but ``no``, with ``district_id``)
    and the sort keys ``_k1``–``_k3`` (veto first, area, item order).
    """
    info = items.drop_duplicates("id").set_index("id")
    position = pd.Series(np.arange(len(info)), index=info.index)
    open_checks = checks[checks["status"].isin([FAIL, MISSING]).to_numpy(bool)]
    keys = pd.MultiIndex.from_arrays([open_checks[c].to_numpy(object) for c in ("district_id", "item_id", "school_id", "status")])
    codes, uniques = pd.factorize(keys)
    n = len(uniques)
    first = first_rows(codes, n)
    size = np.bincount(codes, minlength=n)
    head = open_checks.iloc[first]
    item_id = head["item_id"].to_numpy(object)
    area = info["area"].reindex(item_id).to_numpy(object)
    veto = area == "veto"
    failed = head["status"].to_numpy(object) == FAIL
    severity = np.where(failed, np.where(veto, 1, 2), 3)
    single = size == 1
    school_name = head["school_name"].astype(str).to_numpy(object)
    return pd.DataFrame({
        "district_id": head["district_id"].to_numpy(object),
        "severity": severity,
        "severity_label": pd.Series(severity).map(SEVERITY_LABELS).to_numpy(object),
        "area_name": info["area_name"].reindex(item_id).to_numpy(object),
        "item_id": item_id,
        "item_name": info["name"].reindex(item_id).to_numpy(object),
        "responsible": info["responsible"].reindex(item_id).to_numpy(object),
        "school_id": head["school_id"].to_numpy(object),
        "school_name": np.where(school_name != "", school_name, DISTRICT_WIDE),
        "description": join_by_group(codes, describe_many(open_checks), n, sep="；"),
        "measured": np.where(single, head["measured"].to_numpy(float), np.nan),
        "requirement": np.where(single, head["requirement"].to_numpy(float), np.nan),
        "shortfall": np.where(single, head["shortfall"].to_numpy(float), np.nan),
        "unit": np.where(single, head["unit"].to_numpy(object), ""),
        "_k1": np.where(veto, 0, 1),
        "_k2": pd.Series(area).map({a: i for i, a in enumerate(AREA_ORDER)}).to_numpy(np.int64),
        "_k3": position.reindex(item_id).to_numpy(np.int64),
    })


def plan_issues(targets: pd.DataFrame, details: pd.DataFrame) -> list[dict[str, object]]:
    """Lines for plan targets not met or not reported (per school where the target is)."""
    lines: list[dict[str, object]] = []
    targets = targets.reset_index(drop=True)
    if targets.empty:
        return lines
    if "district_id" not in targets.columns:
        targets = targets.assign(district_id="")
    if "district_id" not in details.columns or details["district_id"].isna().all():
        details = details.assign(district_id="")
    positions = targets.groupby("district_id", sort=False).cumcount().to_numpy()
    open_details = details[details["status"].isin([FAIL, MISSING]).to_numpy(bool)]
    by_target = open_details.groupby(["district_id", "item_id"], sort=False).indices if len(open_details) else {}
    for row, target in targets.iterrows():  # plan targets that are not met (a few per district)
        if target["status"] not in (FAIL, DATA_MISSING):
            continue
        position = int(positions[row])
        item = pd.Series({"area_name": "区定目标", "id": target["target_id"], "name": target["name"],
                          "responsible": target["responsible"], "area": "resources"}, name=position)
        open_rows = open_details.iloc[by_target.get((target["district_id"], target["target_id"]), [])]
        if target["scope"] == "school" and len(open_rows):
            for _, group in open_rows.groupby("school_id", sort=False):
                lines.append(_line(4, item, group) | {"_order": (2, position, 0)})
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
        "district_id": target.get("district_id", ""), "severity": 4, "severity_label": SEVERITY_LABELS[4], "area_name": item["area_name"],
        "item_id": item["id"], "item_name": item["name"], "responsible": item["responsible"],
        "school_id": "", "school_name": DISTRICT_WIDE, "description": text,
        "measured": target["measured"], "requirement": target["requirement"], "shortfall": gap, "unit": target["unit"],
        "_order": (2, position, 0),
    }


def issue_list(items: pd.DataFrame, checks: pd.DataFrame, targets: pd.DataFrame, target_checks: pd.DataFrame,
               ids: object = ("",)) -> pd.DataFrame:
    """The 问题清单 of every district, each ordered by severity, then area and
    item, then school.

    Parameters
    ----------
    targets, target_checks : DataFrame
        The plan targets and their checks (with ``district_id`` when there are
        several districts).
    ids : array of str
        The districts, in order ("" for a one-district period).

    Returns
    -------
    DataFrame
        Columns ``district_id`` and :data:`ISSUE_COLUMNS` (``no`` counts from 1
        in each district); ``measured``, ``requirement`` and ``shortfall`` (in
        ``unit``) are filled when the line has one check.
    """
    lines = item_issues(items, checks)
    planned = plan_issues(targets, target_checks)
    if planned:
        plan = pd.DataFrame(planned)
        order = plan.pop("_order")
        plan = plan.assign(_k1=[o[0] for o in order], _k2=[o[1] for o in order], _k3=[o[2] for o in order])
        lines = pd.concat([lines, plan], ignore_index=True)
    lines = lines.assign(_district=pd.Index(np.asarray(ids, dtype=object)).get_indexer(lines["district_id"].to_numpy(object)))
    # "" (全区) sorts before school ids: district lines first within an item.
    lines = lines.sort_values(["_district", "severity", "_k1", "_k2", "_k3", "school_id"], kind="stable")
    lines.insert(0, "no", lines.groupby("_district").cumcount().to_numpy() + 1)
    return lines[["district_id", *ISSUE_COLUMNS]].reset_index(drop=True)


def issue_list_zh(issues: pd.DataFrame) -> pd.DataFrame:
    """The 问题清单 with Chinese column headers, for handing out."""
    return issues.rename(columns=ISSUE_LABELS)
