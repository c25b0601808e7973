"""The sections of the district report, each one displayable HTML block.

``notebooks/district_report.ipynb`` calls one function per section; each
takes the :class:`~balance_metrics.report_context.ReportContext` and returns
an :class:`~balance_metrics.presentation.Html` block holding the section's
tables and charts.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pandas as pd

from balance_metrics.analysis import equity
from balance_metrics.reporting import heatmap
from balance_metrics.reporting import findings
from balance_metrics.analysis import monitoring
from balance_metrics.reporting import plots
from balance_metrics.analysis import gaps as gap_analysis
from balance_metrics.analysis import remediation
from balance_metrics.reporting import presentation as pres
from balance_metrics.reporting.presentation import Col, Html
from balance_metrics.contract.schema import SCOPES, STAGES

if TYPE_CHECKING:
    from balance_metrics.reporting.provenance import ProvenanceRecorder
    from balance_metrics.reporting.context import ReportContext

__all__ = [
    "data_quality",
    "gaps",
    "issues",
    "overview",
    "provenance",
    "resources",
    "school_verdicts",
    "title",
    "trends",
]


def _stages(ctx: ReportContext) -> list[str]:
    return plots.stage_order(ctx.resources.balance["stage"])


def _by_stage(frame: pd.DataFrame, ctx: ReportContext) -> list[tuple[str, pd.DataFrame]]:
    return [(s, frame[frame["stage"] == s]) for s in _stages(ctx) if (frame["stage"] == s).any()]


def title(ctx: ReportContext) -> Html:
    """Report title with period and standard."""
    std = ctx.standard
    # One district of a period holding many: named (its id when the data give no name).
    who = ctx.district_name or ctx.district_id or "全区"
    lines = [f"评估标准：{std.title}（{std.name} v{std.version}）", f"数据期次：{ctx.period}"]
    if ctx.district_id:
        lines.append(f"区县代码：{ctx.district_id}")
    return pres.title_block(f"义务教育优质均衡发展监测报告（{who}）· {ctx.period}", lines)


def overview(ctx: ReportContext) -> Html:
    """总体结论: the headline verdict, one line per stage, and the report's scope."""
    head = findings.headline(ctx)
    css = "bm-verdict bm-verdict-pass" if head.passed else "bm-verdict bm-verdict-fail"
    blocks: list[Html | None] = [
        Html(f'<p class="{css}">{pres.escape(head.verdict)}</p>'),
        pres.bullet_list(head.details),
        pres.notice(head.scope, "info"),
        _evaluation_items(ctx.evaluation.items),
        _plan_targets(ctx.evaluation.plan_targets, ctx),
    ]
    return pres.join(blocks)


def _status_column(frame: pd.DataFrame) -> pd.DataFrame:
    labels = frame["status_label"]
    # "pass" counts as passing; not applicable is neither a failure nor a pass.
    ok = frame["status"].map(lambda s: True if s == "pass" else (None if s == "not applicable" else False))
    return frame.assign(_label=labels, _ok=ok)


def _evaluation_items(items: pd.DataFrame) -> Html | None:
    """Every item of the full evaluation (resources, G, Q, S, vetoes) with its status."""
    if not isinstance(items, pd.DataFrame) or items.empty:
        return None
    frame = _status_column(items)
    counts = frame["_label"].value_counts()
    summary = "，".join(f"{label} {counts[label]} 项" for label in dict.fromkeys(frame["_label"]))
    wanted = [
        Col("id", "编号", nowrap=True), Col("area_name", "评估方面", nowrap=True), Col("name", "项目"),
        Col("measured", "实测"), Col("requirement", "要求"), Col("_label", "状态", nowrap=True),
    ]  # fmt: skip
    return pres.join(
        [
            Html("<h3>各评估项目</h3>"),
            pres.notice(f"共 {len(frame)} 项：{summary}。", "info"),
            pres.table(frame, [c for c in wanted if c.key in frame.columns], css_class="bm-items", fail_column="_ok"),
        ]
    )


def _plan_targets(targets: pd.DataFrame, ctx: ReportContext) -> Html | None:
    """The local plan's own targets (empty for the national standard)."""
    if not isinstance(targets, pd.DataFrame) or targets.empty:
        return None
    frame = _status_column(targets)
    wanted = [
        Col("target_id", "编号", nowrap=True), Col("name", "目标"), Col("scope", "范围", kind="code", labels=SCOPES),
        Col("measured", "实测", kind="num"), Col("requirement", "要求", kind="exact"), Col("unit", nowrap=True),
        Col("deadline", "期限", nowrap=True), Col("_label", "状态", nowrap=True),
    ]  # fmt: skip
    return pres.join(
        [
            Html("<h3>地方实施方案目标</h3>"),
            pres.table(frame, [c for c in wanted if c.key in frame.columns], decimals=ctx.decimals, fail_column="_ok"),
        ]
    )


def resources(ctx: ReportContext) -> Html:
    """资源配置指标 (R1–R7): per stage, district value and CV against the limit."""
    res = ctx.resources
    blocks: list[Html | None] = []
    columns = [
        Col("indicator", nowrap=True), Col("name"), Col("unit", nowrap=True), Col("district_value", kind="num"),
        Col("cv", kind="num"), Col("limit", kind="num", decimals=2), Col("passed", kind="pass"),
        Col("sections", kind="int"), Col("sections_met", kind="int"), Col("sections_below_floor", kind="int"),
    ]  # fmt: skip
    units = res.sections.drop_duplicates(["stage", "indicator"]).set_index(["stage", "indicator"])["unit"]
    balance = res.balance.assign(unit=[units.get((s, i), "") for s, i in zip(res.balance["stage"], res.balance["indicator"], strict=True)])
    for stage, part in _by_stage(balance, ctx):
        limit = pres.format_number(float(ctx.standard.cv_limit(stage)), 2)
        blocks.append(
            pres.table(
                part,
                columns,
                decimals=ctx.decimals,
                caption=f"{STAGES.get(stage, stage)}：各指标全区值与差异系数（限值 {limit}）",
                css_class="bm-balance",
                fail_column="passed",
            )
        )
    blocks.append(plots.figure_html(plots.cv_chart(res.balance, decimals=ctx.decimals), "各指标差异系数与限值（超限指标以红色标出）", context="差异系数图"))
    blocks.append(
        pres.notice(
            f"差异系数按在校生数加权计算（总体标准差 ÷ 全区值），判定使用未经舍入的数值，表中保留 {ctx.decimals} 位小数。"
            "全区值为资源总量 ÷ 学生总数，而不是各校指标的平均数。",
            "info",
        )
    )
    if (res.sections["share"] < 1).any():
        blocks.append(
            pres.notice(
                "九年一贯制、十二年一贯制和完全中学的校舍、场地、设备和教室数按加权学生数分摊到各学段，"
                "因此分摊后的教室数可能带小数，指标值按带小数的数值计算。",
                "info",
            )
        )
    return pres.join(blocks)


def school_verdicts(ctx: ReportContext) -> Html:
    """各校达标情况: every section's verdict, and charts of the indicators some section misses."""
    res = ctx.resources
    verdicts = res.verdicts.copy()
    order = {sid: i for i, sid in enumerate(findings.school_ids(res))}
    stage_rank = {s: i for i, s in enumerate(_stages(ctx))}
    verdicts = verdicts.assign(_s=verdicts["stage"].map(stage_rank), _o=verdicts["school_id"].map(order))
    verdicts = verdicts.sort_values(["_s", "passed", "_o"], kind="stable")
    summary = res.summary()
    lines = [
        f"{STAGES.get(r['stage'], r['stage'])}：{r['sections_passed']}/{r['sections']} 所学校（学段）达标。"
        for r in summary.to_dict("records")
    ]
    columns = [
        Col("school_id"), Col("school_name"), Col("school_type", kind="code"), Col("area_type", kind="code"),
        Col("stage", kind="code"), Col("students", kind="int"), Col("indicators_met", kind="int"),
        Col("indicators_below_floor", kind="int"), Col("failed_indicators", kind="text"), Col("passed", kind="pass"),
    ]  # fmt: skip
    rule = (
        f"判定规则：{len(ctx.standard.indicators)} 项指标中至少 {ctx.standard.min_indicators_met} 项达到标准值，"
        f"且未达标的指标不低于标准值的 {ctx.standard.floor_percent}。"
        "未达标的学校排在各学段前面。"
    )
    blocks: list[Html | None] = [
        pres.bullet_list(lines),
        pres.notice(rule, "info"),
        pres.table(verdicts, columns, decimals=ctx.decimals, css_class="bm-verdicts", fail_column="passed"),
    ]
    blocks.append(
        plots.figure_html(
            heatmap.ratio_heatmap(res.sections),
            f"各校各项指标值 ÷ 标准值（1.00 为标准值，{ctx.standard.floor_percent}底线以下以深色标出；学校按最低比值排序）",
            context="各校指标热力图",
        )
    )
    short = res.sections[~res.sections["met"]]
    for indicator in plots.indicator_order(short["indicator"]):
        blocks.append(
            plots.figure_html(
                plots.section_values_chart(res.sections, indicator),
                f"{indicator}：各校指标值与标准值、{ctx.standard.floor_percent}底线（横轴只标出未达到标准值的学校）",
                context=f"{indicator} 各校指标值图",
            )
        )
    return pres.join(blocks)


def issues(ctx: ReportContext) -> Html:
    """问题清单, most severe first."""
    table = findings.issue_table(ctx)
    blocks: list[Html | None] = []
    if not table.empty:
        counts = table["severity_label"].value_counts()
        summary = "，".join(f"{label} {counts[label]} 条" for label in dict.fromkeys(table["severity_label"]))
        blocks.append(pres.notice(f"共 {len(table)} 条：{summary}。按严重程度排列。", "info"))
    blocks.append(
        pres.table(
            table,
            [
                Col("no", "序号", kind="int"), Col("severity_label", "类别", nowrap=True), Col("area_name", "评估方面", nowrap=True),
                Col("item_id", "项目", nowrap=True), Col("school_name", "学校"), Col("description", "问题"),
            ],  # fmt: skip
            css_class="bm-issues",
            empty="本期未发现问题。",
        )
    )
    return pres.join(blocks)


def _trend_frame(ctx: ReportContext) -> pd.DataFrame:
    frame = monitoring.trends(ctx.panel)
    thresholds = ctx.standard.indicators_frame().set_index(["stage", "indicator"])["threshold"]
    frame["threshold"] = [thresholds.get((s, i)) for s, i in zip(frame["stage"], frame["indicator"], strict=True)]
    return frame


def trends(ctx: ReportContext) -> Html:
    """趋势: CV and district value over the periods, changes, progress to targets."""
    if ctx.panel is None:
        return pres.join([pres.notice("本报告未加载多期数据，不含趋势分析。", "info")])
    panel = ctx.panel
    periods = list(panel.periods)
    blocks: list[Html | None] = [
        pres.notice(f"纳入趋势分析的期次：{'、'.join(periods)}（共 {len(periods)} 期，同一评估标准）。", "info")
    ]
    if len(periods) < 2:
        blocks.append(pres.notice("只有一期数据，暂无法分析趋势。", "warning"))
        return pres.join(blocks)
    frame = _trend_frame(ctx)
    blocks.append(plots.figure_html(plots.trend_chart(frame, "cv"), "各指标差异系数变化（虚线为限值）", context="差异系数趋势图"))
    blocks.append(plots.figure_html(plots.trend_chart(frame, "district_value"), "各指标全区值变化（虚线为标准值）", context="全区值趋势图"))
    latest = frame[frame["period"] == ctx.period]
    blocks.append(
        pres.table(
            latest,
            [
                Col("stage", kind="code"), Col("indicator", nowrap=True), Col("cv", kind="num"), Col("cv_change", "较上期变化", kind="num"),
                Col("cv_since_baseline", "较基期变化", kind="num"), Col("baseline_period", "基期"),
                Col("district_value", kind="num"), Col("district_value_change", "全区值较上期变化", kind="num"),
            ],  # fmt: skip
            decimals=ctx.decimals,
            caption=f"{ctx.period} 差异系数与全区值的变化",
            css_class="bm-trends",
        )
    )
    changes = monitoring.section_changes(panel)
    blocks.append(Html("<h3>学校达标变化（与上期相比）</h3>"))
    blocks.append(pres.bullet_list(list(changes["description"]), empty="与上期相比，没有学校的达标情况发生变化。"))
    progress = monitoring.progress(panel)
    if not progress.empty:
        blocks.append(
            pres.table(
                progress,
                [
                    Col("name", "目标"), Col("scope", "范围", kind="code", labels=STAGES | SCOPES), Col("latest_value", "最新值", kind="num"),
                    Col("target", "目标值", kind="exact"), Col("status_zh", "进度判断"), Col("note", "说明"),
                ],  # fmt: skip
                decimals=ctx.decimals,
                caption="各项目标的进度（按最小二乘直线趋势预测）",
                css_class="bm-progress",
            )
        )
    if not panel.changes.empty:
        recent = panel.changes[panel.changes["period"] == ctx.period]
        if not recent.empty:
            blocks.append(Html("<h3>学校名册变化</h3>"))
            blocks.append(pres.bullet_list(list(recent["description"])))
    return pres.join(blocks)


def gaps(ctx: ReportContext) -> Html:
    """差距与整改: what failing sections lack, the cheapest fixes, and the effect on the CVs."""
    blocks: list[Html | None] = []
    res = ctx.resources
    currency = ctx.standard.remediation.currency
    plans = gap_analysis.cheapest_remediation(res)
    blocks.append(Html("<h3>未达标学校的最低成本整改方案</h3>"))
    blocks.append(
        pres.table(
            plans,
            [
                Col("school_id"), Col("school_name"), Col("stage", kind="code"), Col("failed_indicators"),
                Col("description", "整改措施"), Col("total_cost", f"估算费用（{currency}）", kind="money"),
                Col("cost_all_threshold", f"全部补齐到标准值的费用（{currency}）", kind="money"),
            ],  # fmt: skip
            decimals=ctx.decimals,
            css_class="bm-remediation",
            empty="本期所有参评学校均达标，无需整改。",
        )
    )
    if not plans.empty:
        blocks.append(
            pres.notice(
                f"合计估算费用 {pres.format_money(plans['total_cost'].sum())} {currency}。单位成本为标准文件中的假设值"
                "（[remediation.unit_costs]），仅用于比较方案，不是预算。",
                "info",
            )
        )
    district = gap_analysis.district_gaps(res)
    district = district[district["sections_short"] > 0]
    blocks.append(Html("<h3>各指标资源缺口（全部学校补齐到标准值）</h3>"))
    blocks.append(
        pres.table(
            district,
            [
                Col("stage", kind="code"), Col("indicator", nowrap=True), Col("resource", "资源"), Col("unit", nowrap=True),
                Col("sections_short", "未达到标准值的学校数", kind="int"), Col("gap_threshold", "缺口", kind="num"),
                Col("add_threshold", "需增加（取整）", kind="num"), Col("cost_threshold", f"估算费用（{currency}）", kind="money"),
            ],  # fmt: skip
            decimals=ctx.decimals,
            empty="所有学校的各项指标均达到标准值。",
        )
    )
    after = remediation.balance_after_remediation(res)
    changed = after[(after["cv_before"] != after["cv_after"]) | (~after["passed_before"])]
    blocks.append(Html("<h3>按最低成本方案整改后的差异系数</h3>"))
    blocks.append(
        pres.table(
            changed,
            [
                Col("stage", kind="code"), Col("indicator", nowrap=True), Col("cv_before", "整改前差异系数", kind="num"),
                Col("cv_after", "整改后差异系数", kind="num"), Col("limit", kind="num", decimals=2),
                Col("passed_after", "整改后判定", kind="pass"),
                Col("sections_passed_after", "整改后达标学校数", kind="int"),
            ],  # fmt: skip
            decimals=ctx.decimals,
            empty="整改方案不改变任何差异系数。",
            fail_column="passed_after",
        )
    )
    if not changed.empty and not bool(changed["passed_after"].all()):
        blocks.append(
            pres.notice(
                "只补齐未达标学校不能使上述差异系数降到限值以内：差异系数反映校际差距，还需缩小高配置学校与低配置学校之间的差距。",
                "warning",
            )
        )
    table = findings.area_gap_table(equity.group_gaps(res, by="area_type"))
    if not table.empty:
        area_cols = [Col(label, label, kind="num") for label in ("城区", "镇区", "乡村") if label in table.columns]
        blocks.append(Html("<h3>城乡之间的差距</h3>"))
        blocks.append(
            pres.table(
                table,
                [Col("stage", kind="code"), Col("indicator", nowrap=True), Col("district_value", kind="num"), *area_cols,
                 Col("max_min_ratio", "最高/最低", kind="num"), Col("lowest_group", "最低的地区")],
                decimals=ctx.decimals,
                caption="各类地区的指标值（资源总量 ÷ 学生总数）",
            )
        )
    return pres.join(blocks)


def data_quality(ctx: ReportContext) -> Html:
    """数据质量提示: plausibility warnings (and district totals that disagree with the
    schools' own figures), excluded schools, periods that could not be read."""
    ds = ctx.dataset
    warnings = getattr(ctx.evaluation, "warnings", None) if ctx.evaluation is not None else None
    warnings = warnings if isinstance(warnings, pd.DataFrame) else ds.warnings
    blocks: list[Html | None] = []
    if warnings.empty:
        blocks.append(pres.notice("本期数据通过全部校验，未发现需要核实的数值。", "ok"))
    else:
        blocks.append(pres.notice(f"本期数据有 {len(warnings)} 条提示，请核实（不影响计算）：", "warning"))
        blocks.append(pres.table(warnings, ["file", Col("row", kind="int"), "column", "value", "rule"]))
    excluded = ctx.resources.excluded
    blocks.append(Html("<h3>未参与资源配置指标计算的学校（学段）</h3>"))
    blocks.append(
        pres.table(
            excluded,
            [Col(c, kind="code") if c in ("school_type", "stage") else Col(c, kind="int") if c == "students" else Col(c)
             for c in ("school_id", "school_name", "school_type", "stage", "students", "reason") if c in excluded.columns],
            empty="无。",
        )
    )
    failed = ctx.panel.failed_periods if ctx.panel is not None else None
    if failed is not None and not failed.empty:
        periods = "、".join(dict.fromkeys(failed["period"]))
        blocks.append(pres.notice(f"以下期次的数据未通过校验，未纳入趋势分析：{periods}。", "warning"))
    return pres.join(blocks)


def provenance(ctx: ReportContext, recorder: ProvenanceRecorder, sidecar: str | os.PathLike[str] | None = None) -> Html:
    """数据来源与可追溯性: finish the provenance record, write its sidecar, show it.

    Parameters
    ----------
    ctx : ReportContext
    recorder : ProvenanceRecorder
        Started at the top of the report.
    sidecar : str or os.PathLike, optional
        Where to write the JSON record (the report renderer passes one);
        nothing is written when None.
    """
    from balance_metrics.reporting.provenance import write_sidecar

    record = recorder.finish(ctx.dataset, ctx.standard)
    write_sidecar(record, sidecar)
    note = pres.notice(
        "同一输入文件、同一评估标准和同一程序版本生成的报告，除本节的时间外逐字节相同；"
        "每个输入文件的 SHA-256 校验值可用于核对数据是否被改动。",
        "info",
    )
    return pres.join([note, pres.provenance_block(record)])
