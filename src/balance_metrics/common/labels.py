"""The Chinese labels of every status vocabulary, written once.

- item and plan-target statuses (:data:`ITEM_STATUS_LABELS`), codes from
  :mod:`balance_metrics.evaluation.checks`;
- readiness for recognition (:data:`READY_LABELS`, :data:`READY_SENTENCES`) and the
  words for what blocks it (:data:`BLOCKING_STATUS_WORDS`);
- a section's indicator status against its threshold and floor
  (:func:`indicator_status_labels`, worded from the standard's floor factor);
- progress towards a target (:data:`PROGRESS_STATUS_LABELS`).

Examples
--------
>>> indicator_status_labels("90%")["below_floor"]
'低于90%底线'
"""

from __future__ import annotations

#: Item and plan-target statuses.
ITEM_STATUS_LABELS: dict[str, str] = {
    "pass": "达标",
    "fail": "未达标",
    "evidence missing": "缺少佐证",
    "not applicable": "不适用",
    "data missing": "缺少数据",
}

#: Readiness for recognition (``Readiness.passed``).
READY_LABELS: dict[bool, str] = {True: "具备申报认定条件", False: "暂不具备申报认定条件"}
READY_SENTENCES: dict[bool, str] = {
    True: "具备申请国家优质均衡督导评估认定的条件",
    False: "暂不具备申请国家优质均衡督导评估认定的条件",
}
#: Item statuses that block readiness, as a report words them.
BLOCKING_STATUS_WORDS: dict[str, str] = {"fail": "未达标", "evidence missing": "缺少佐证或数据"}

#: Progress of a target towards its deadline (``monitoring.progress``).
PROGRESS_STATUS_LABELS: dict[str, str] = {
    "met": "已达标",
    "on track": "按趋势可按期达标",
    "at risk": "按趋势接近目标，有风险",
    "off track": "按趋势难以按期达标",
    "missed": "期限已过，仍未达标",
    "cannot project": "数据不足两期，无法做趋势预测",
    "no deadline": "未设定期限",
    "data missing": "数据缺失",
}


def percent_text(share: float) -> str:
    """A share (0–1) as a report states a rule's percentage: ``0.85`` -> ``"85%"``.

    >>> percent_text(0.85), percent_text(0.9), percent_text(0.875)
    ('85%', '90%', '87.5%')
    """
    return f"{round(float(share) * 100, 6):g}%"


def indicator_status_labels(floor: str) -> dict[str, str]:
    """A section indicator's status: met, below the threshold but above the floor, below the floor.

    Parameters
    ----------
    floor : str
        The floor as a report states it, e.g. ``"85%"`` (the standard's ``floor_factor``).
    """
    return {"met": "达标", "above_floor": f"未达标（不低于{floor}底线）", "below_floor": f"低于{floor}底线"}
