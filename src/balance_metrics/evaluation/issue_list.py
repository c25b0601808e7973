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

from balance_metrics.common.grouped import first_rows, join_rows_by_group
from balance_metrics.evaluation.checks import COMPARISON_LABELS, DATA_MISSING, FAIL, MISSING, fmt, requirement_text, requirement_texts
from balance_metrics.evaluation.item_texts import label_of, labels_of
from balance_metrics.evaluation.items import AREA_ORDER
from balance_metrics.evaluation.wording import codes_of, codes_within, dense, float_codes, fmt_coded

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


def _line(severity: int, item: dict[str, object], group: list[dict[str, object]]) -> dict[str, object]:
    """One line for the checks ``group`` (records of one school) of ``item`` (area_name, id, name, responsible)."""
    single = len(group) == 1
    first = group[0]
    return {
        "district_id": first.get("district_id", ""),
        "severity": severity,
        "severity_label": SEVERITY_LABELS[severity],
        "area_name": item["area_name"],
        "item_id": item["id"],
        "item_name": item["name"],
        "responsible": item["responsible"],
        "school_id": first["school_id"],
        "school_name": first["school_name"] or DISTRICT_WIDE,
        "description": "；".join(describe(r) for r in group),
        "measured": first["measured"] if single else math.nan,
        "requirement": first["requirement"] if single else math.nan,
        "shortfall": first["shortfall"] if single else math.nan,
        "unit": first["unit"] if single else "",
    }


def describe_many(checks: pd.DataFrame) -> np.ndarray:
    """:func:`describe` of every check (object array of str)."""
    return _describe_rows(checks, np.arange(len(checks)))


def _taken(column: pd.Series, rows: np.ndarray) -> object:
    """``column`` at ``rows``: a categorical stays categorical (its codes are
    taken), anything else becomes an object array."""
    values = column.array
    if isinstance(values, pd.Categorical):
        return values.take(rows)
    return column.to_numpy(object)[rows]


def _describe_rows(checks: pd.DataFrame, rows: np.ndarray) -> np.ndarray:
    """:func:`describe` of the checks at positions ``rows``."""
    return join_rows_by_group(np.arange(len(rows)), _describe_parts(checks, rows), len(rows))


def _describe_parts(checks: pd.DataFrame, rows: np.ndarray, fail: np.ndarray | None = None,
                    item: tuple[np.ndarray, int] | None = None) -> list[np.ndarray]:
    """:func:`describe` of the checks at positions ``rows`` in four parts (object
    arrays of str) whose concatenation is the sentence.

    A sentence is a head — label, measured value — and a tail — requirement
    and shortfall — plus the check's note (and a closing bracket). Heads and
    tails repeat (RS: a few labels × 0–7 indicators), so each distinct one is
    written once (from integer codes of its parts). ``fail`` (status is fail)
    and ``item`` (codes of item_id and how many) of the rows, when known.
    """
    n = len(rows)
    head, tail, close = (np.full(n, "", dtype=object) for _ in range(3))
    if not n:
        return [head, tail, np.full(0, "", dtype=object), close]
    fail = _equals(checks["status"], rows, FAIL) if fail is None else fail
    note = checks["note"].to_numpy(object)[rows]
    has_note = note.astype(bool)
    requirement = checks["requirement"].to_numpy(float)[rows]
    documents = np.isnan(requirement)
    if documents.any():  # evidence documents (a few per district): 未达标：note / 缺少佐证材料
        d = np.flatnonzero(documents)
        prefix = np.array(["缺少佐证", "未达标"], dtype=object)[fail[d].astype(np.int64)]
        head[d] = np.where(has_note[d], prefix + "：", prefix + "材料")
    rest = np.flatnonzero(~documents)
    if not rest.size:
        return [head, tail, note, close]
    at = rows[rest]
    fail, has_note, requirement = fail[rest], has_note[rest], requirement[rest]
    measured = checks["measured"].to_numpy(float)[at]
    # What a check is about (item, part, stage, target) fixes its label, unit and
    # comparison in practice: code those short ids, then compare the rest with them.
    item_code = _codes(checks["item_id"], at) if item is None else (item[0][rest], item[1])
    kind, n_kinds = dense(item_code, *(_codes(checks[c], at) for c in ("part", "stage", "target")))
    label, labels = _label_codes(checks, at, kind, n_kinds)
    unit, units = codes_within(kind, n_kinds, _taken(checks["unit"], at))
    comparison, comparisons = codes_within(kind, n_kinds, _taken(checks["comparison"], at))
    required, n_required = dense((unit, len(units)), (comparison, len(comparisons)), float_codes(requirement))
    first = first_rows(required, n_required)
    required_text = requirement_texts(comparisons[comparison[first]], requirement[first], units[unit[first]])

    unmeasured = np.isnan(measured)
    if unmeasured.any():  # label 无法计算 / 缺少数据（要求 …）[：note]
        u = np.flatnonzero(unmeasured)
        key, k = dense((label[u], len(labels)), (fail[u], 2), (required[u], n_required))
        first = first_rows(key, k)
        texts = (labels[label[u][first]] + np.where(fail[u][first], "无法计算", "缺少数据").astype(object)
                 + "（要求" + required_text[required[u][first]] + "）")
        head[rest[u]] = texts[key]
        tail[rest[u][has_note[u]]] = "："
    m = np.flatnonzero(~unmeasured)
    if m.size:  # label 为 value，要求 …[，差 gap][（note）]
        value_key, k = dense((label[m], len(labels)), (unit[m], len(units)), float_codes(measured[m]))
        first = first_rows(value_key, k)
        heads = labels[label[m][first]] + "为" + fmt_coded(measured[m][first], unit[m][first], units)
        shortfall = checks["shortfall"].to_numpy(float)[at[m]]
        gap = fail[m] & (shortfall > 0)
        gap_code, n_gap = float_codes(np.where(gap, shortfall, 0.0))
        tail_key, k = dense((required[m], n_required), (gap, 2), (gap_code, n_gap), (has_note[m], 2))
        first = first_rows(tail_key, k)
        tails = "，要求" + required_text[required[m][first]]
        wider = np.isin(comparisons[comparison[m][first]], [">=", ">"])
        with_gap = gap[first]
        tails[with_gap] = (tails[with_gap] + np.where(wider[with_gap], "，差", "，超出").astype(object)
                           + fmt_coded(shortfall[first][with_gap], unit[m][first][with_gap], units))
        tails[has_note[m][first]] += "（"
        head[rest[m]] = heads[value_key]
        tail[rest[m]] = tails[tail_key]
        close[rest[m][has_note[m]]] = "）"
    return [head, tail, note, close]


def _label_codes(checks: pd.DataFrame, rows: np.ndarray, kind: np.ndarray, n_kinds: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row's code of its :func:`~balance_metrics.evaluation.items.label_of`
    (stage, target, part name), and the labels."""
    name, names = codes_within(kind, n_kinds, _taken(checks["part_name"], rows))
    code, k = dense((kind, n_kinds), (name, len(names)))
    head = first_rows(code, k)
    distinct = pd.DataFrame({
        "stage": checks["stage"].to_numpy(object)[rows[head]],
        "target": checks["target"].to_numpy(object)[rows[head]],
        "part_name": names[name[head]],
    })
    return code, np.asarray(labels_of(distinct), dtype=object)


def _codes(column: pd.Series, rows: np.ndarray) -> tuple[np.ndarray, int]:
    """Codes of ``column`` at ``rows`` and how many there are (for :func:`dense`)."""
    codes, uniques = codes_of(_taken(column, rows))
    return codes, len(uniques)


def _equals(column: pd.Series, rows: np.ndarray | None, value: str) -> np.ndarray:
    """Whether ``column`` at ``rows`` (None: every row) is ``value`` (bool array)."""
    values = column.array
    if isinstance(values, pd.Categorical):
        codes = values.codes if rows is None else values.codes[rows]
        return (np.asarray(values.categories, dtype=object) == value)[codes] & (codes >= 0)
    objects = column.to_numpy(object)
    return (objects if rows is None else objects[rows]) == value


def item_issues(items: pd.DataFrame, checks: pd.DataFrame, where: np.ndarray | None = None) -> pd.DataFrame:
    """Lines for the items' failing and missing checks, per district and school (or 全区).

    Returns the lines (:data:`ISSUE_COLUMNS` but ``no``, with ``district_id``)
    and the sort keys ``_k1``–``_k3`` (veto first, area, item order).
    """
    lines, _ = _item_lines(items, checks, where)
    return pd.DataFrame({c: v for c, v in lines.items() if c != "_school"})


def _item_lines(items: pd.DataFrame, checks: pd.DataFrame, where: np.ndarray | None,
                described: bool = True) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """:func:`item_issues` as columns (without ``description`` unless ``described``), with
    ``_school`` coding each line's school id, and the distinct school ids those codes stand for."""
    if where is None:
        where = codes_of(_taken(checks["district_id"], np.arange(len(checks))))[0]
    failed_all = _equals(checks["status"], None, FAIL)
    rows = np.flatnonzero(failed_all | _equals(checks["status"], None, MISSING))
    # One line per district × item × school × status, in order of first appearance.
    item_code, item_names = codes_of(_taken(checks["item_id"], rows))
    school_code, school_ids = codes_of(_taken(checks["school_id"], rows))
    failed_rows = failed_all[rows]
    district = np.asarray(where, dtype=np.int64)[rows]
    codes, n = dense((district, int(district.max(initial=0)) + 1), (item_code, len(item_names)),
                     (school_code, len(school_ids)), (failed_rows, 2))
    first = first_rows(codes, n)
    single = np.bincount(codes, minlength=n) == 1
    head = rows[first]
    info = _item_info(items, item_names)
    item = item_code[first]
    veto = info["area"][item] == "veto"
    failed = failed_rows[first]
    severity = np.where(failed, np.where(veto, 1, 2), 3)
    school_name = checks["school_name"].to_numpy(object)[head]

    def when_single(column: str) -> np.ndarray:
        return np.where(single, checks[column].to_numpy(float)[head], np.nan)

    lines = {
        "district_id": checks["district_id"].to_numpy(object)[head],
        "severity": severity,
        "severity_label": np.asarray([SEVERITY_LABELS.get(s, "") for s in range(5)], dtype=object)[severity],
        "area_name": info["area_name"][item],
        "item_id": item_names[item],
        "item_name": info["name"][item],
        "responsible": info["responsible"][item],
        "school_id": school_ids[school_code[first]],
        "school_name": np.where(school_name != "", school_name, DISTRICT_WIDE),
        "measured": when_single("measured"),
        "requirement": when_single("requirement"),
        "shortfall": when_single("shortfall"),
        "unit": np.where(single, checks["unit"].to_numpy(object)[head], ""),
        "_district": district[first],
        "_k1": np.where(veto, 0, 1),
        "_k2": np.asarray([AREA_ORDER.index(a) for a in info["area"]], dtype=np.int64)[item] if len(item_names) else np.zeros(0, dtype=np.int64),
        "_k3": info["position"][item],
        "_school": school_code[first],
    }
    if described:
        lines["description"] = join_rows_by_group(codes, _describe_parts(checks, rows, failed_rows, (item_code, len(item_names))), n, sep="；")
    return lines, school_ids


def _item_info(items: pd.DataFrame, item_ids: np.ndarray) -> dict[str, np.ndarray]:
    """area, area_name, name, responsible and position (standard order) of each item id."""
    code, distinct = codes_of(items["id"])
    first = first_rows(code, len(distinct))
    position = np.empty(len(first), dtype=np.int64)
    position[np.argsort(first, kind="stable")] = np.arange(len(first))  # order of first appearance
    at = pd.Index(distinct).get_indexer(item_ids)
    info = {c: items[c].to_numpy(object)[first][at] for c in ("area", "area_name", "name", "responsible")}
    info["position"] = position[at]
    return info


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
    by_target: dict[tuple[object, object], dict[object, list[dict[str, object]]]] = {}
    for record in open_details.to_dict("records"):  # the open checks of the plan targets (a few per district)
        if pd.isna(record["district_id"]) or pd.isna(record["item_id"]):
            continue
        schools = by_target.setdefault((record["district_id"], record["item_id"]), {})
        if not pd.isna(record["school_id"]):  # (grouped by school as groupby does: without a missing id)
            schools.setdefault(record["school_id"], []).append(record)
    for row, target in enumerate(targets.to_dict("records")):  # plan targets that are not met (a few per district)
        if target["status"] not in (FAIL, DATA_MISSING):
            continue
        position = int(positions[row])
        item = {"area_name": "区定目标", "id": target["target_id"], "name": target["name"], "responsible": target["responsible"]}
        key = (target["district_id"], target["target_id"])
        if target["scope"] == "school" and key in by_target:
            lines.extend(_line(4, item, group) | {"_order": (2, position, 0)} for group in by_target[key].values())
            continue
        lines.append(_target_line(item, target, position))
    return lines


def _target_line(item: dict[str, object], target: dict[str, object], position: int) -> dict[str, object]:
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
               ids: object = ("",), where: np.ndarray | None = None, described: bool = True) -> pd.DataFrame:
    """The 问题清单 of every district, each ordered by severity, then area and
    item, then school.

    Parameters
    ----------
    targets, target_checks : DataFrame
        The plan targets and their checks (with ``district_id`` when there are
        several districts).
    ids : array of str
        The districts, in order ("" for a one-district period).
    described : bool, default True
        Write each line's ``description``. False leaves that column out: the
        same lines in the same order, without writing a sentence (the items
        then need only their ids, areas, names and responsible units).

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
    lines, schools = _item_lines(items, checks, where, described)
    planned = plan_issues(targets, target_checks)
    if planned:
        lines, schools = _with_plan_lines(lines, schools, pd.DataFrame(planned), index)
    # Ordered by district, severity, veto first, area, item, then school id ("" —
    # 全区 — before any school); no two lines share all these keys.
    rank = np.empty(len(schools), dtype=np.int64)
    rank[np.argsort(schools, kind="stable")] = np.arange(len(schools))
    order = np.lexsort((rank[lines["_school"]], lines["_k3"], lines["_k2"], lines["_k1"], lines["severity"], lines["_district"]))
    district = lines["_district"][order]
    starts = np.flatnonzero(np.r_[True, district[1:] != district[:-1]]) if len(order) else np.zeros(0, dtype=np.int64)
    no = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)])) + 1
    columns = {"district_id": lines["district_id"][order], "no": no.astype(np.int64)}
    columns.update((c, lines[c][order]) for c in ISSUE_COLUMNS if c in lines)
    return pd.DataFrame(columns)


def _with_plan_lines(lines: dict[str, np.ndarray], schools: np.ndarray, plan: pd.DataFrame,
                     index: pd.Index) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The item lines followed by the plan-target lines (their keys from ``_order``)."""
    order = plan.pop("_order").tolist()
    plan_school = plan["school_id"].to_numpy(object)
    new = pd.Index(plan_school).difference(pd.Index(schools), sort=False).to_numpy(object)
    schools = np.concatenate([schools, new])
    extra = {
        "_district": index.get_indexer(plan["district_id"].to_numpy(object)),
        "_k1": np.array([o[0] for o in order], dtype=np.int64),
        "_k2": np.array([o[1] for o in order], dtype=np.int64),
        "_k3": np.array([o[2] for o in order], dtype=np.int64),
        "_school": pd.Index(schools).get_indexer(plan_school),
    }
    merged = {}
    for column, values in lines.items():
        added = extra[column] if column in extra else plan[column].to_numpy(values.dtype if values.dtype.kind in "if" else object)
        merged[column] = np.concatenate([values, added])
    return merged, schools


def issue_list_zh(issues: pd.DataFrame) -> pd.DataFrame:
    """The 问题清单 with Chinese column headers, for handing out."""
    return issues.rename(columns=ISSUE_LABELS)
