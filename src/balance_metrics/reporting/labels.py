"""Chinese labels of result tables and their columns, for reports and workbooks.

One home for the words a reader sees above a column or on a sheet tab: the HTML
report tables (:class:`balance_metrics.reporting.presentation.Col`) and the
Excel workbooks (:mod:`balance_metrics.reporting.workbook`) both look headers up
here. Input columns are named by the data contract
(:data:`balance_metrics.contract.schema.TABLES`); the 问题清单 by
:data:`balance_metrics.evaluation.issue_list.ISSUE_LABELS`.

* :data:`COLUMN_LABELS` — column name → label;
* :data:`TABLE_COLUMN_LABELS` — the few columns whose meaning depends on the
  table (``name`` is an indicator in ``sections`` but an item in ``items``);
* :data:`COLUMN_UNITS` — units of result columns that always hold the same unit;
* :data:`TABLE_LABELS` — table name → sheet name;
* :func:`column_label`, :func:`column_unit`.
"""

from __future__ import annotations

from collections.abc import Mapping

from balance_metrics.common.labels import PROGRESS_STATUS_LABELS as PROGRESS_LABELS
from balance_metrics.contract.schema import AREA_TYPES, OWNERSHIPS, SCHOOL_TYPES, SCOPES, STAGES, TABLES
from balance_metrics.evaluation.checks import COMPARISON_LABELS, STATUS_LABELS
from balance_metrics.evaluation.issue_list import ISSUE_LABELS

__all__ = [
    "BOOL_LABELS",
    "COLUMN_LABELS",
    "COLUMN_UNITS",
    "PROVENANCE_LABELS",
    "TABLE_COLUMN_LABELS",
    "TABLE_LABELS",
    "VALUE_LABELS",
    "YES_NO_LABELS",
    "column_label",
    "column_unit",
]

#: Chinese labels of the library's column names.
COLUMN_LABELS: dict[str, str] = {
    "period": "期次",
    "school_id": "学校代码",
    "school_name": "学校名称",
    "school_type": "办学类型",
    "area_type": "城乡分类",
    "ownership": "举办者",
    "stage": "学段",
    "stages": "学段",
    "students": "在校生数",
    "share": "学段分摊比例",
    "campuses": "合并计算的校区",
    "indicator": "指标",
    "name": "指标名称",
    "unit": "单位",
    "numerator": "分子（资源量）",
    "value": "指标值",
    "threshold": "标准值",
    "floor": "底线",
    "met": "是否达到标准值",
    "above_floor": "是否不低于底线",
    "ratio": "指标值/标准值",
    "shortfall": "距标准值差距",
    "district_value": "全区值",
    "district_ratio": "全区值/标准值",
    "ratio_to_district": "本校/全区",
    "cv": "差异系数",
    "limit": "限值",
    "passed": "判定",
    "sections": "参评学校（学段）数",
    "sections_met": "达到标准值的学校数",
    "sections_below_floor": "低于底线的学校数",
    "indicators_met": "达标指标数",
    "indicators_below_floor": "低于底线指标数",
    "failed_indicators": "未达标指标",
    "reason": "原因",
    "file": "文件",
    "row": "行号",
    "column": "列",
    "rule": "问题说明",
    "table": "数据表",
    "sheet": "工作表",
    "sha256": "SHA-256 校验值",
    "rows": "行数",
    # evaluation summary
    "standard": "评估标准",
    "verdict": "判定（代码）",
    "verdict_label": "申报认定判定",
    "blocking_items": "制约申报的项目数",
    "items_pass": "达标项目数",
    "items_fail": "未达标项目数",
    "items_evidence_missing": "缺少佐证项目数",
    "items_not_applicable": "不适用项目数",
    "plan_targets_pass": "区定目标完成数",
    "plan_targets_fail": "区定目标未完成数",
    "plan_targets_data_missing": "区定目标缺少数据数",
    "issues": "问题清单条数",
    # many districts in one period: the ranking
    "rank": "排名",
    "ready": "是否具备申报认定条件",
    "sections_failing": "未达标学校（学段）数",
    "cv_failing": "超过限值的差异系数个数",
    "worst_cv_ratio": "最大差异系数÷限值",
    "worst_cv": "差异系数最高的指标",
    "items_failing": "未达标项目数",
    # items, checks, plan targets, readiness
    "id": "编号",
    "area": "评估方面（代码）",
    "area_name": "评估方面",
    "scope": "范围",
    "measured": "实测",
    "requirement": "要求",
    "comparison": "比较方式",
    "status": "状态",
    "status_label": "状态",
    "failing_schools": "未达标学校",
    "detail": "详细情况",
    "evidence": "佐证材料",
    "responsible": "责任单位",
    "source": "依据",
    "item_id": "项目编号",
    "part": "核查内容（代码）",
    "part_name": "核查内容",
    "target": "对象",
    "note": "说明",
    "target_id": "目标编号",
    "deadline": "期限",
    "veto": "是否一票否决项",
    # satisfaction
    "group": "调查对象（代码）",
    "group_name": "调查对象",
    "respondents": "有效问卷数",
    "satisfied": "满意人数",
    "rate_percent": "满意率",
    "ci_low_percent": "95%置信区间下限",
    "ci_high_percent": "95%置信区间上限",
    "small_sample": "样本量偏小",
    # monitoring panel
    "previous_period": "上一期次",
    "change": "变动类型",
    "before": "变动前",
    "after": "变动后",
    "description": "说明",
    "folder": "数据目录",
    "period_end": "期末日期",
    "district_value_change": "全区值较上期变化",
    "cv_change": "差异系数较上期变化",
    "baseline_period": "基期",
    "district_value_since_baseline": "全区值较基期变化",
    "cv_since_baseline": "差异系数较基期变化",
    "since": "起始期次",
    "until": "截止期次",
    "level": "层级",
    "value_before": "变动前数值",
    "value_after": "变动后数值",
    "kind": "类别",
    "periods": "期数",
    "first_period": "首期",
    "latest_period": "最新期次",
    "baseline_value": "基期值",
    "latest_value": "最新值",
    "margin": "距目标余量",
    "slope_per_year": "年均变化",
    "projected_at_deadline": "期限时预测值",
    "next_inspection": "下次督导评估日期",
    "projected_at_inspection": "督导评估时预测值",
    "reach_date": "预计达标日期",
    "inspection_status": "督导评估时进度",
    "status_zh": "进度判断",
    # district plan (balance-metrics plan)
    "year": "年度",
    "action": "措施（代码）",
    "amount": "数量",
    "cost": "费用（元）",
    "move_id": "轮岗编号",
    "counterpart_school_id": "轮岗对方学校代码",
    "constraint": "约束",
    "cv_before": "实施前差异系数",
    "cv_after": "实施后差异系数",
    "passed_before": "实施前是否达标",
    "passed_after": "实施后是否达标",
}

#: Labels that depend on the table (sheet) a column is in.
TABLE_COLUMN_LABELS: dict[str, dict[str, str]] = {
    "items": {"name": "项目名称", "rule": "判定方式（代码）", "measured": "实测情况", "requirement": "要求"},
    "readiness": {"name": "项目名称"},
    "plan_targets": {"name": "目标名称"},
    "progress": {"name": "目标名称", "target": "目标值", "status": "进度（代码）", "scope": "范围"},
    "checks": {"target": "对象", "shortfall": "差距"},
    "plan_checks": {"shortfall": "差距"},
    "warnings": {"value": "单元格内容"},
    "failed_periods": {"value": "单元格内容"},
    "changes": {"before": "变动前", "after": "变动后"},
    "section_changes": {"before": "变动前是否达标", "after": "变动后是否达标", "change": "变化"},
    "问题清单": dict(ISSUE_LABELS),
    "plan": {"label": "措施", "column": "数据列"},
    "schedule": {"label": "措施"},
    "summary": {"label": "措施"},
}

#: Units of result columns that always hold the same unit (shown in headers).
COLUMN_UNITS: dict[str, str] = {
    "students": "人",
    "respondents": "份",
    "satisfied": "人",
    "rate_percent": "%",
    "ci_low_percent": "%",
    "ci_high_percent": "%",
}

#: Sheet names of result tables (evaluation and monitoring), ≤ 31 characters.
TABLE_LABELS: dict[str, str] = {
    "summary": "汇总",
    "districts": "各区县排名",
    "问题清单": "问题清单",
    "verdicts": "各校判定",
    "balance": "差异系数",
    "sections": "各校指标",
    "indicators": "各校指标",
    "items": "评估项目",
    "readiness": "制约申报项目",
    "plan_targets": "区定目标",
    "satisfaction": "满意度",
    "checks": "逐项核查",
    "plan_checks": "区定目标核查",
    "excluded": "未参评学校",
    "warnings": "数据提示",
    "schools": "学校名录",
    "changes": "学校变动",
    "failed_periods": "读取失败的期次",
    "sources": "输入文件",
    "trends": "变化趋势",
    "section_changes": "达标变化",
    "progress": "目标进度",
    "about": "说明",
    "plan": "达标路径",
    "schedule": "年度安排",
    "blocking": "阻碍达标的约束",
    "after_verdicts": "实施后各校判定",
    "after_balance": "实施后差异系数",
}

#: Labels of the provenance fields (:class:`balance_metrics.reporting.provenance.ProvenanceRecord`).
PROVENANCE_LABELS: dict[str, str] = {
    "report": "报告",
    "period": "期次",
    "parameters": "参数",
    "context": "评估结果来源",
    "standard": "评估标准",
    "chain": "标准继承链",
    "data_dir": "数据目录",
    "package": "程序版本",
    "git_commit": "代码提交（git）",
    "python": "Python",
    "libraries": "主要依赖库",
    "started_at": "开始时间",
    "finished_at": "完成时间",
    "duration_seconds": "耗时（秒）",
    "inputs": "输入文件",
}

#: Category codes shown as their official Chinese labels.
VALUE_LABELS: dict[str, Mapping[str, str]] = {
    "stage": STAGES,
    "stages": STAGES,
    "school_type": SCHOOL_TYPES,
    "area_type": AREA_TYPES,
    "ownership": OWNERSHIPS,
    "scope": {**SCOPES, **STAGES},
    # monitoring: school changes, sections newly failing / passing, progress targets
    "change": {
        "opened": "新设", "closed": "停办或撤并", "type_changed": "办学类型变更", "renamed": "更名",
        "stage_added": "增设学段", "stage_removed": "撤销学段",
        "newly failing": "新出现未达标", "newly passing": "新达标",
    },
    "level": {"indicator": "单项指标", "section": "学段综合判定"},
    "before": {**SCHOOL_TYPES, **STAGES},
    "after": {**SCHOOL_TYPES, **STAGES},
    "kind": {
        "cv": "差异系数", "section_share": "学校达标比例", "plan": "区定目标",
        # why no district plan passes (balance_metrics.analysis.planning.diagnosis)
        "section": "学校（学段）达标", "annual_cap": "年度上限", "rotation_share": "轮岗比例上限",
        "rotation_min_share": "轮岗教师构成", "excluded_school": "排除的学校", "excluded_action": "排除的措施",
        "rotation_off": "不安排交流轮岗", "deadline": "期限",
    },
    "inspection_status": PROGRESS_LABELS,
    "comparison": COMPARISON_LABELS,
    "status": STATUS_LABELS,
    "table": {t.name: t.zh for t in TABLES.values()},
}

#: Labels of a pass/fail mark.
BOOL_LABELS: tuple[str, str] = ("达标", "未达标")
#: Labels of a yes/no flag.
YES_NO_LABELS: tuple[str, str] = ("是", "否")

_CONTRACT_COLUMNS = {col.name: col for table in TABLES.values() for col in table.columns}


def column_label(column: str, table: str | None = None) -> str | None:
    """The Chinese label of ``column`` (in ``table``), or None if there is none.

    Looked up in :data:`TABLE_COLUMN_LABELS`, then :data:`COLUMN_LABELS`, then
    the data contract's official names.
    """
    if table is not None and column in TABLE_COLUMN_LABELS.get(table, {}):
        return TABLE_COLUMN_LABELS[table][column]
    if column in COLUMN_LABELS:
        return COLUMN_LABELS[column]
    contract = _CONTRACT_COLUMNS.get(column)
    return contract.zh if contract is not None else None


def column_unit(column: str) -> str:
    """The unit a column always holds ("" when it varies or has none)."""
    if column in COLUMN_UNITS:
        return COLUMN_UNITS[column]
    contract = _CONTRACT_COLUMNS.get(column)
    return contract.unit if contract is not None and contract.kind in {"count", "amount"} else ""
