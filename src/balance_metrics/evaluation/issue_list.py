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
from balance_metrics.evaluation.checks import COMPARISON_LABELS, DATA_MISSING, FAIL, MISSING, fmt, fmt_by_unit, lookup, requirement_text, requirement_texts
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
    note = checks["note"].to_numpy(object)
    has_note = note != ""
    fail = status == FAIL
    measured = checks["measured"].to_numpy(float)
    requirement = checks["requirement"].to_numpy(float)
    units = checks["unit"].to_numpy(object)
    comparison = checks["comparison"].to_numpy(object)
    out = np.empty(len(checks), dtype=object)
    documents = np.isnan(requirement)
    if documents.any():  # evidence documents
        prefix = np.where(fail[documents], "未达标", "缺少佐证").astype(object)
        out[documents] = np.where(has_note[documents], prefix + "：" + note[documents], prefix + "材料")
    rest = ~documents
    if not rest.any():
        return out
    # Requirement and label texts once per distinct requirement / label.
    required = requirement_texts(comparison[rest], requirement[rest], units[rest])
    label = labels_of(checks[["stage", "target", "part_name"]][rest])
    unmeasured = np.isnan(measured[rest])
    part = np.empty(rest.sum(), dtype=object)
    if unmeasured.any():
        u = unmeasured
        part[u] = (label[u] + np.where(fail[rest][u], "无法计算", "缺少数据").astype(object) + "（要求" + required[u] + "）"
                   + np.where(has_note[rest][u], "：" + note[rest][u], ""))
    m = ~unmeasured
    if m.any():
        shortfall = checks["shortfall"].to_numpy(float)[rest][m]
        gap = fail[rest][m] & (shortfall > 0)
        gap_word = np.where(np.isin(comparison[rest][m], [">=", ">"]), "，差", "，超出").astype(object)
        gap_text = np.full(m.sum(), "", dtype=object)
        gap_text[gap] = gap_word[gap] + fmt_by_unit(shortfall[gap], units[rest][m][gap])
        text = label[m] + "为" + fmt_by_unit(measured[rest][m], units[rest][m]) + "，要求" + required[m] + gap_text
        with_note = has_note[rest][m]
        text[with_note] = text[with_note] + "（" + note[rest][m][with_note] + "）"
        part[m] = text
    out[rest] = part
    return out


def item_issues(items: pd.DataFrame, checks: pd.DataFrame, where: np.ndarray | None = None) -> pd.DataFrame:
    """Lines for the items' failing and missing checks, per district and school (or 全区).

    Returns the lines (:data:`ISSUE_COLUMNS` but ``no``, with ``district_id``)
    and the sort keys ``_k1``–``_k3`` (veto first, area, item order).
    """
    info = items.drop_duplicates("id").set_index("id")
    position = pd.Series(np.arange(len(info)), index=info.index)
    is_open = checks["status"].isin([FAIL, MISSING]).to_numpy(bool)
    open_checks = checks[is_open]
    if where is None:
        where = pd.factorize(checks["district_id"].to_numpy(object))[0]
    # One line per district × item × school × status, in order of first appearance.
    item_code, item_names = pd.factorize(open_checks["item_id"].to_numpy(object))
    school_code, school_names = pd.factorize(open_checks["school_id"].to_numpy(object))
    failed_rows = open_checks["status"].to_numpy(object) == FAIL
    key = ((where[is_open].astype(np.int64) * max(len(item_names), 1) + item_code) * max(len(school_names), 1) + school_code) * 2 + failed_rows
    codes, uniques = pd.factorize(key)
    n = len(uniques)
    first = first_rows(codes, n)
    size = np.bincount(codes, minlength=n)
    head = open_checks.iloc[first]
    item_id = head["item_id"].to_numpy(object)
    head_item = item_code[first]

    def of_item(column: str) -> np.ndarray:
        return info[column].reindex(item_names).to_numpy()[head_item]

    area = of_item("area")
    veto = area == "veto"
    failed = failed_rows[first]
    severity = np.where(failed, np.where(veto, 1, 2), 3)
    single = size == 1
    school_name = head["school_name"].to_numpy(object)
    return pd.DataFrame({
        "district_id": head["district_id"].to_numpy(object),
        "severity": severity,
        "severity_label": lookup(severity, SEVERITY_LABELS.get),
        "area_name": of_item("area_name"),
        "item_id": item_id,
        "item_name": of_item("name"),
        "responsible": of_item("responsible"),
        "school_id": head["school_id"].to_numpy(object),
        "school_name": np.where(school_name != "", school_name, DISTRICT_WIDE),
        "description": join_by_group(codes, describe_many(open_checks), n, sep="；"),
        "measured": np.where(single, head["measured"].to_numpy(float), np.nan),
        "requirement": np.where(single, head["requirement"].to_numpy(float), np.nan),
        "shortfall": np.where(single, head["shortfall"].to_numpy(float), np.nan),
        "unit": np.where(single, head["unit"].to_numpy(object), ""),
        "_district": where[is_open][first],
        "_k1": np.where(veto, 0, 1),
        "_k2": lookup(area, AREA_ORDER.index).astype(np.int64),
        "_k3": position.reindex(item_names).to_numpy(np.int64)[head_item],
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
               ids: object = ("",), where: np.ndarray | None = None) -> pd.DataFrame:
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
    index = pd.Index(np.asarray(ids, dtype=object))
    if where is None:
        where = index.get_indexer(checks["district_id"].to_numpy(object))
    lines = item_issues(items, checks, where)
    planned = plan_issues(targets, target_checks)
    if planned:
        plan = pd.DataFrame(planned)
        order = plan.pop("_order")
        plan = plan.assign(_k1=[o[0] for o in order], _k2=[o[1] for o in order], _k3=[o[2] for o in order],
                           _district=index.get_indexer(plan["district_id"].to_numpy(object)))
        lines = pd.concat([lines, plan], ignore_index=True)
    # "" (全区) sorts before school ids: district lines first within an item.
    lines = lines.sort_values(["_district", "severity", "_k1", "_k2", "_k3", "school_id"], kind="stable")
    lines.insert(0, "no", lines.groupby("_district").cumcount().to_numpy() + 1)
    return lines[["district_id", *ISSUE_COLUMNS]].reset_index(drop=True)


def issue_list_zh(issues: pd.DataFrame) -> pd.DataFrame:
    """The 问题清单 with Chinese column headers, for handing out."""
    return issues.rename(columns=ISSUE_LABELS)
