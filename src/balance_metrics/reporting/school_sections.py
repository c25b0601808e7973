"""The sections of a school report, each one displayable HTML block.

``notebooks/school_report.ipynb`` calls one function per section with the
:class:`~balance_metrics.report_context.ReportContext` and the school id.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from balance_metrics.reporting import findings
from balance_metrics.analysis import monitoring
from balance_metrics.reporting import plots
from balance_metrics.analysis import gaps as gap_analysis
from balance_metrics.reporting import presentation as pres
from balance_metrics.reporting.district_sections import provenance
from balance_metrics.reporting.presentation import Col, Html
from balance_metrics.contract.schema import AREA_TYPES, OWNERSHIPS, SCHOOL_TYPES, STAGES

if TYPE_CHECKING:
    from balance_metrics.reporting.context import ReportContext

__all__ = ["check_school", "data_quality", "gaps", "history", "indicators", "overview", "provenance", "title"]


def check_school(ctx: ReportContext, school_id: str) -> str:
    """Validate ``school_id`` against the period's roster.

    Returns
    -------
    str
        The id.

    Raises
    ------
    KeyError
        With a few known ids, when the school is not in the period.
    """
    findings.school_info(ctx.dataset, str(school_id))
    return str(school_id)


def _name(ctx: ReportContext, school_id: str) -> str:
    return str(findings.school_info(ctx.dataset, school_id)["school_name"])


def title(ctx: ReportContext, school_id: str) -> Html:
    """Report title: school name and id, period, standard."""
    std = ctx.standard
    lines = [f"评估标准：{std.title}（{std.name} v{std.version}）", f"数据期次：{ctx.period}"]
    if ctx.district_id:  # one district of a period holding many
        lines.append(f"所属区县：{ctx.district_name or ctx.district_id}（{ctx.district_id}）")
    return pres.title_block(f"义务教育优质均衡发展监测报告 · {_name(ctx, school_id)}（{school_id}）· {ctx.period}", lines)


def overview(ctx: ReportContext, school_id: str) -> Html:
    """总体结论: who the school is and whether each of its sections passes."""
    info = findings.school_info(ctx.dataset, school_id)
    res = ctx.resources
    verdicts = res.verdicts[res.verdicts["school_id"] == school_id]
    sections = ctx.dataset.sections[ctx.dataset.sections["school_id"] == school_id]
    stages = "，".join(
        f"{STAGES.get(r['stage'], r['stage'])} {int(r['students'])} 人" for r in sections.to_dict("records")
    )
    facts = [
        ("学校代码", school_id),
        ("学校名称", info["school_name"]),
        ("办学类型", SCHOOL_TYPES.get(info["school_type"], info["school_type"])),
        ("城乡分类", AREA_TYPES.get(info["area_type"], info["area_type"])),
        ("举办者", OWNERSHIPS.get(info["ownership"], info["ownership"])),
        ("学段与在校生", stages or "—"),
    ]
    blocks: list[Html | None] = [pres.key_values(facts)]
    if verdicts.empty:
        reasons = res.excluded.loc[res.excluded["school_id"] == school_id, "reason"].tolist()
        text = "本校本期未参与资源配置指标计算" + (f"：{'；'.join(reasons)}" if reasons else "") + "。"
        blocks.append(pres.notice(text, "warning"))
    count = len(ctx.standard.indicators)
    for r in verdicts.to_dict("records"):
        stage = STAGES.get(r["stage"], r["stage"])
        if r["passed"]:
            text = f"{stage}学段：{r['indicators_met']}/{count} 项指标达到标准值，达标。"
            css = "bm-verdict bm-verdict-pass"
        else:
            reasons = []
            if r["indicators_below_floor"]:
                reasons.append(f"{r['indicators_below_floor']} 项低于{ctx.standard.floor_percent}底线")
            if r["indicators_met"] < ctx.standard.min_indicators_met:
                reasons.append(f"达标指标少于 {ctx.standard.min_indicators_met} 项")
            text = (
                f"{stage}学段：{r['indicators_met']}/{count} 项指标达到标准值，未达标"
                f"（{'，'.join(reasons)}；未达标指标：{r['failed_indicators'].replace(',', '、')}）。"
            )
            css = "bm-verdict bm-verdict-fail"
        blocks.append(Html(f'<p class="{css}">{pres.escape(text)}</p>'))
    return pres.join(blocks)


def indicators(ctx: ReportContext, school_id: str) -> Html:
    """各项指标: the school's values against threshold, floor and the district."""
    comparison = findings.school_comparison(ctx.resources, school_id)
    if comparison.empty:
        return pres.notice("本校本期没有参与计算的学段。", "info")
    columns = [
        Col("indicator", nowrap=True), Col("name"), Col("unit", nowrap=True), Col("value", "本校值", kind="num"),
        Col("threshold", kind="exact"), Col("floor", kind="exact"), Col("district_value", kind="num"),
        Col("ratio", kind="num"), Col("ratio_to_district", kind="num"), Col("met", "判定", kind="pass"),
    ]  # fmt: skip
    blocks: list[Html | None] = []
    for stage in plots.stage_order(comparison["stage"]):
        part = comparison[comparison["stage"] == stage]
        blocks.append(
            pres.table(
                part,
                columns,
                decimals=ctx.decimals,
                caption=f"{STAGES.get(stage, stage)}学段（{int(part['students'].iloc[0])} 人）",
                css_class="bm-school-indicators",
                fail_column="met",
            )
        )
    blocks.append(
        plots.figure_html(
            plots.school_ratio_chart(comparison),
            "各项指标与标准值之比（柱）和全区值与标准值之比（菱形）；1 为标准值",
            context="本校指标对比图",
        )
    )
    return pres.join(blocks)


def history(ctx: ReportContext, school_id: str) -> Html:
    """历史变化: the school's indicators and verdicts over the periods."""
    if ctx.panel is None:
        return pres.join([pres.notice("本报告未加载多期数据，不含趋势分析。", "info")])
    try:
        frame = monitoring.school_history(ctx.panel, school_id)
    except KeyError:
        return pres.notice("本校在以往期次中没有数据。", "info")
    evaluated = frame[frame["indicator"].astype(str) != ""]
    blocks: list[Html | None] = []
    if evaluated["period"].nunique() >= 2:
        blocks.append(plots.figure_html(plots.trend_chart(evaluated, "value", title=f"{_name(ctx, school_id)}：各项指标变化"),
                                  "本校各项指标值变化（虚线为标准值）", context="本校历史趋势图"))
    per_period = (
        evaluated.drop_duplicates(["period", "stage"])
        if not evaluated.empty
        else evaluated
    )
    notes = frame[frame["indicator"].astype(str) == ""]
    rows = pd.concat([per_period, notes], ignore_index=True) if not notes.empty else per_period
    if not rows.empty:
        rows = rows.assign(_o=rows["period_end"]).sort_values(["_o"], kind="stable")
    columns = [
        Col("period"), Col("stage", kind="code"), Col("students", kind="int"),
        Col("indicators_met", kind="int"), Col("failed_indicators"), Col("section_passed", "判定", kind="pass"),
    ]  # fmt: skip
    # Events and notes are rare: a column of blanks only costs width.
    columns += [Col(key, label) for key, label in (("events", "变动"), ("note", "说明")) if rows[key].fillna("").astype(str).str.len().gt(0).any()]
    blocks.append(pres.table(rows, columns, decimals=ctx.decimals, caption="各期达标情况", css_class="bm-history"))
    return pres.join(blocks)


def gaps(ctx: ReportContext, school_id: str) -> Html:
    """差距与需求: what the school lacks and the cheapest way to pass."""
    res = ctx.resources
    currency = ctx.standard.remediation.currency
    gaps_frame = gap_analysis.resource_gaps(res)
    mine = gaps_frame[gaps_frame["school_id"] == school_id]
    blocks: list[Html | None] = [
        pres.table(
            mine,
            [
                Col("stage", kind="code"), Col("indicator", nowrap=True), Col("resource", "资源"), Col("unit", nowrap=True),
                Col("value", kind="num"), Col("threshold", kind="exact"),
                Col("gap_threshold", "补齐到标准值的缺口", kind="num"), Col("add_threshold", "需增加（取整）", kind="num"),
                Col("gap_floor", f"补齐到{ctx.standard.floor_percent}底线的缺口", kind="num"),
                Col("cost_threshold", f"补齐到标准值的估算费用（{currency}）", kind="money"),
            ],  # fmt: skip
            decimals=ctx.decimals,
            caption="未达到标准值的指标与资源缺口",
            css_class="bm-school-gaps",
            empty="本校各项指标均达到标准值，没有资源缺口。",
        )
    ]
    plans = gap_analysis.cheapest_remediation(res)
    mine_plans = plans[plans["school_id"] == school_id]
    for r in mine_plans.to_dict("records"):
        stage = STAGES.get(r["stage"], r["stage"])
        blocks.append(
            pres.notice(
                f"{stage}学段最低成本达标方案：{r['description']}；估算费用 {pres.format_money(r['total_cost'])} {currency}"
                f"（全部补齐到标准值需 {pres.format_money(r['cost_all_threshold'])} {currency}）。",
                "warning",
            )
        )
    if mine_plans.empty and not mine.empty:
        blocks.append(pres.notice("本校虽有个别指标未达到标准值，但已符合学校达标规则；补齐后可提高全区均衡水平。", "info"))
    blocks.append(
        pres.notice("费用按标准文件中的单位成本假设估算（[remediation.unit_costs]），用于比较方案，不是预算。", "info")
    )
    blocks.append(_other_issues(ctx, school_id))
    return pres.join(blocks)


def _other_issues(ctx: ReportContext, school_id: str) -> Html | None:
    """The school's lines of the full evaluation's 问题清单 beyond the seven indicators."""
    issues = findings.issue_table(ctx)
    if "school_id" not in issues.columns:
        return None
    mine = issues[(issues["school_id"] == school_id) & (issues["item_id"] != "RS")]
    return pres.join(
        [
            Html("<h3>本校在其他评估项目中的问题</h3>"),
            pres.table(
                mine,
                [Col("item_id", "项目", nowrap=True), Col("severity_label", "类别", nowrap=True), Col("area_name", "评估方面", nowrap=True),
                 Col("description", "问题")],
                empty="本校在其他评估项目中没有问题。",
            ),
        ]
    )


def data_quality(ctx: ReportContext, school_id: str) -> Html:
    """数据质量提示 for this school's rows."""
    warnings = findings.school_warnings(ctx.dataset, school_id)
    blocks: list[Html | None] = []
    if warnings.empty:
        blocks.append(pres.notice("本校本期数据通过全部校验，未发现需要核实的数值。", "ok"))
    else:
        blocks.append(pres.notice(f"本校本期数据有 {len(warnings)} 条提示，请核实：", "warning"))
        blocks.append(pres.table(warnings, ["file", Col("row", kind="int"), "column", "value", "rule"]))
    sections = ctx.resources.sections
    mine = sections[sections["school_id"] == school_id]
    if not mine.empty and (mine["share"] < 1).any():
        blocks.append(
            pres.notice(
                "本校为一贯制或完全中学，校舍、场地、设备和教室数按加权学生数分摊到各学段，分摊后的教室数可能带小数。",
                "info",
            )
        )
    campuses = mine["campuses"].dropna().astype(str)
    campuses = [c for c in dict.fromkeys(campuses) if c]
    if campuses:
        blocks.append(pres.notice(f"本校数据已合并不计校数的校区：{'、'.join(campuses)}。", "info"))
    return pres.join(blocks)
