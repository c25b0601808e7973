"""达标路径: the district plan in the district report and each school's part of it.

The plan is :func:`balance_metrics.analysis.planning.plan_remediation` for the
report's period and standard; it is solved once per period and data and kept
in the report cache (next to the monitoring panels), so that the school
reports of one run do not solve it again.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

import pandas as pd

from balance_metrics.analysis.planning import Plan, plan_remediation
from balance_metrics.analysis.planning.actions import rotation_share
from balance_metrics.common.labels import percent_text
from balance_metrics.contract.schema import FACILITIES, SECTIONS, STAGES
from balance_metrics.reporting import presentation as pres
from balance_metrics.reporting.context import _code_digest, _hash_folder, cached
from balance_metrics.reporting.presentation import Col, Html

if TYPE_CHECKING:
    from balance_metrics.reporting.context import ReportContext

__all__ = ["district", "plan_for", "school"]


def _key(ctx: ReportContext) -> str:
    digest = hashlib.sha256(_code_digest())
    std = ctx.standard
    digest.update(json.dumps([std.name, list(std.chain), std.data], sort_keys=True, default=str).encode())
    _hash_folder(digest, ctx.dataset.path)
    # One plan per district of a period holding many (empty id: one-district period, key unchanged).
    digest.update(ctx.district_id.encode())
    return digest.hexdigest()[:32]


def plan_for(ctx: ReportContext) -> Plan:
    """The period's district plan (cached on disk like the monitoring panel)."""
    return cached("plan", _key(ctx), lambda: plan_remediation(ctx.dataset, ctx.standard))


def _column_label(column: str) -> tuple[str, str]:
    """Chinese name and unit of a data-contract column."""
    for table in (SECTIONS, FACILITIES):
        if column in table.names:
            col = table.column(column)
            return col.zh, col.unit
    return column, ""


def _primary_rows(plan: Plan) -> pd.DataFrame:
    """One row per action (its first column): what a school adds, gives or receives."""
    items = plan.items
    if items.empty:
        return items.assign(measure="", amount_text="", counterpart="")
    first = items.groupby(["action"], sort=False)["column"].transform("first")
    rows = items[items["column"] == first].copy()
    rows["measure"] = [_column_label(c)[0] for c in rows["column"]]
    rows["amount_text"] = [
        f"{pres.format_number(abs(a), 2).removesuffix('.00')} {_column_label(c)[1]}".strip() for a, c in zip(rows["amount"], rows["column"])
    ]
    rows["direction"] = ["调出" if a < 0 else ("调入" if m else "新增") for a, m in zip(rows["amount"], rows["move_id"])]
    names = plan.before.verdicts.drop_duplicates("school_id").set_index("school_id")["school_name"]
    rows["counterpart"] = [f"{names.get(c, c)}（{c}）" if c else "" for c in rows["counterpart_school_id"]]
    rows["stage"] = rows["stage"].fillna("")
    return rows


def _assumptions(ctx: ReportContext) -> Html:
    std = ctx.standard
    share = rotation_share(std)
    currency = std.get("remediation.currency", "元")
    text = (
        f"达标路径为使全区每所参评学校达标（至少{std.min_indicators_met}项指标达到标准值，其余不低于标准值的"
        f"{float(std.floor_factor) * 100:g}%）且各项指标差异系数均不超过限值"
        f"（{'、'.join(f'{STAGES[s]}{float(std.cv_limit(s)):g}' for s in std.stages)}）的最低成本方案。"
        f"费用按标准文件中的单位成本假设估算（[remediation.unit_costs]，单位：{currency}），用于比较方案，不是预算。"
    )
    if share > 0:
        rotation = std.planning.rotation
        shares = "".join(
            f"每年交流轮岗教师中{_column_label(c)[0].removesuffix('数')}不低于{percent_text(v)}；"
            for c, v in rotation.min_share.items() if v > 0
        )
        text += (
            f"教师交流轮岗：每校每年调出的教师不超过其专任教师数的{percent_text(share)}，调出学校本身仍须达标；"
            f"{shares}依据：{rotation.source}。"
        )
    return pres.notice(text, "info")


def district(ctx: ReportContext) -> Html:
    """达标路径: the plan's cost and actions, and every CV before and after."""
    plan = plan_for(ctx)
    currency = ctx.standard.get("remediation.currency", "元")
    status = {"optimal": "最优解", "gap limit": "在允许的最优性差距内", "time limit": "达到求解时限"}.get(plan.status, plan.status)
    blocks: list[Html | None] = []
    if plan.after is None:
        blocks.append(pres.notice("在当前允许的措施下，没有能使全区所有资源配置指标达标的方案。受限的约束如下：", "warning"))
        blocks.append(pres.bullet_list(list(plan.blocking["detail"])))
        blocks.append(_assumptions(ctx))
        return pres.join(blocks)
    rows = _primary_rows(plan)
    summary = plan.summary()
    lines = [f"{r['label']}：{pres.format_money(r['cost'])} {currency}" for r in summary.to_dict("records")]
    blocks.append(pres.notice(
        f"最低成本达标路径：合计 {pres.format_money(plan.cost)} {currency}（{status}，最优性差距 {plan.gap:.2%}）。"
        + ("按此方案实施后，全区资源配置各项要求均可达到。" if plan.passed else "按此方案实施后仍有未达标项，请核查。"),
        "info" if plan.passed else "warning",
    ))
    blocks.append(pres.bullet_list(lines, empty="本期无需采取措施。"))
    blocks.append(pres.table(
        rows,
        [
            Col("year", "年度", kind="int"), Col("school_id", nowrap=True), Col("school_name"), Col("stage", kind="code"),
            Col("label", "措施"), Col("direction", "方式", nowrap=True), Col("measure", "数据项"),
            Col("amount_text", "数量", nowrap=True), Col("counterpart", "对方学校"),
            Col("cost", f"估算费用（{currency}）", kind="money"),
        ],  # fmt: skip
        decimals=ctx.decimals,
        caption="达标路径：各校措施",
        css_class="bm-plan",
        empty="本期所有学校和差异系数均已达标，无需采取措施。",
    ))
    balance = plan.balance()
    blocks.append(pres.table(
        balance,
        [
            Col("stage", kind="code"), Col("indicator", nowrap=True), Col("name"),
            Col("cv_before", "实施前差异系数", kind="num"), Col("cv_after", "实施后差异系数", kind="num"),
            Col("limit", kind="num", decimals=2), Col("passed_after", "实施后判定", kind="pass"),
        ],  # fmt: skip
        decimals=ctx.decimals,
        caption="实施前后的差异系数",
        fail_column="passed_after",
    ))
    blocks.append(_assumptions(ctx))
    return pres.join(blocks)


def school(ctx: ReportContext, school_id: str) -> Html:
    """本校在达标路径中的任务: the plan's rows for one school."""
    plan = plan_for(ctx)
    currency = ctx.standard.get("remediation.currency", "元")
    if plan.after is None:
        return pres.notice("在当前允许的措施下，全区没有能使所有资源配置指标达标的方案，详见全区报告。", "warning")
    rows = _primary_rows(plan)
    mine = rows[rows["school_id"] == school_id] if not rows.empty else rows
    return pres.join([
        pres.table(
            mine,
            [
                Col("year", "年度", kind="int"), Col("stage", kind="code"), Col("label", "措施"),
                Col("direction", "方式", nowrap=True), Col("measure", "数据项"), Col("amount_text", "数量", nowrap=True),
                Col("counterpart", "对方学校"), Col("cost", f"估算费用（{currency}）", kind="money"),
            ],  # fmt: skip
            decimals=ctx.decimals,
            caption="全区最低成本达标路径中本校的任务",
            css_class="bm-school-plan",
            empty="全区最低成本达标路径中，本校无需采取措施。",
        ),
        _assumptions(ctx),
    ])
