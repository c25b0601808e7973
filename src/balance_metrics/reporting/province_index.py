"""The province index of a period holding many districts: ``reports/<period>/index.html``.

Ranks the districts as :meth:`~balance_metrics.evaluation.province.ProvinceEvaluation.summary`
does (ready to apply first, then fewest blocking items, failing CVs and
failing sections), and links each district's report, its own index page (the
schools) and states how its reports fared in the latest run. Like the
district index (:mod:`balance_metrics.reporting.index_page`) it holds no
times: rerunning on the same inputs rewrites the same bytes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import pandas as pd

from balance_metrics.common.atomic import atomic_write_text
from balance_metrics.contract.schema import STAGES
from balance_metrics.reporting import presentation as pres
from balance_metrics.reporting.font_subsets import FontSubset
from balance_metrics.reporting.pdf import inject_font_css
from balance_metrics.reporting.presentation import Col, Html
from balance_metrics.standard.loader import Standard

__all__ = ["province_index_html", "write_province_index"]


def _link(out: Path, target: str, label: str) -> str:
    return f'<a href="{pres.escape(quote(target))}">{pres.escape(label)}</a>' if (out / target).is_file() else ""


def _district_links(out: Path, district_id: str) -> str:
    parts = [
        _link(out, f"{district_id}/district.html", "HTML"),
        _link(out, f"{district_id}/district.pdf", "PDF"),
        _link(out, f"{district_id}/index.html", "学校报告"),
    ]
    return " ".join(p for p in parts if p) or '<span class="bm-empty">尚无报告</span>'


def _run_status(reports: pd.DataFrame, district_id: str) -> str:
    mine = reports[reports["district_id"] == district_id]
    if mine.empty:
        return '<span class="bm-empty">本次未生成</span>'
    failed = int((mine["status"] == "failed").sum())
    done = int(mine["status"].isin(["rendered", "skipped"]).sum())
    text = f"{done}/{len(mine)} 份就绪"
    return f'<span class="bm-fail">{text}，{failed} 份失败</span>' if failed else f'<span class="bm-pass">{text}</span>'


def _worst(row: Any) -> str:
    stage, _, indicator = str(row["worst_cv"]).partition(" ")
    if not indicator or pd.isna(row["worst_cv_ratio"]):
        return ""
    return f"{STAGES.get(stage, stage)} {indicator}：{pres.format_number(row['worst_cv_ratio'], 2)} 倍限值"


def province_index_html(out: Path, ranking: pd.DataFrame, reports: pd.DataFrame, *, period: str, standard: Standard) -> str:
    """The province index as an HTML document (font not embedded).

    Parameters
    ----------
    out : Path
        The period's report folder (links are relative to it).
    ranking : DataFrame
        :meth:`ProvinceEvaluation.summary` (rank, district_id, district_name,
        passed, verdict_label, blocking_items, sections, sections_failing,
        cv_failing, worst_cv_ratio, worst_cv, …).
    reports : DataFrame
        :attr:`balance_metrics.reporting.batch.ReportRun.reports` (with district_id).
    period : str
    standard : Standard

    Returns
    -------
    str
    """
    rows = [
        {
            "rank": int(r["rank"]),
            "district": f'<a href="{pres.escape(quote(r["district_id"]))}/index.html">{pres.escape(r["district_name"] or r["district_id"])}</a>'
            if (out / r["district_id"] / "index.html").is_file() else pres.escape(r["district_name"] or r["district_id"]),
            "district_id": r["district_id"],
            "passed": bool(r["passed"]),
            "verdict_label": r["verdict_label"],
            "blocking_items": int(r["blocking_items"]),
            "cv_failing": int(r["cv_failing"]),
            "sections_failing": f"{int(r['sections_failing'])}/{int(r['sections'])}",
            "worst": _worst(r),
            "links": _district_links(out, r["district_id"]),
            "status": _run_status(reports, r["district_id"]),
        }
        for r in ranking.to_dict("records")
    ]  # fmt: skip
    table = pres.table(
        pd.DataFrame(rows, columns=["rank", "district", "district_id", "passed", "verdict_label", "blocking_items",
                                    "cv_failing", "sections_failing", "worst", "links", "status"]),  # fmt: skip
        [
            Col("rank", "排名", kind="int", nowrap=True), Col("district", "区县", kind="html", nowrap=True),
            Col("district_id", "区县代码", nowrap=True),
            Col("passed", "具备申报条件", kind="yesno"), Col("verdict_label", "结论"),
            Col("blocking_items", "未达标关键项", kind="int"), Col("cv_failing", "差异系数超限", kind="int"),
            Col("sections_failing", "未达标学校（学段）"), Col("worst", "最大差异系数÷限值"),
            Col("links", "报告", kind="html"), Col("status", "本次生成", kind="html"),
        ],  # fmt: skip
        css_class="bm-index bm-province",
        fail_column="passed",
    )
    ready = int(ranking["passed"].sum())
    failed = reports[reports["status"] == "failed"]
    blocks: list[Html | None] = [
        pres.title_block(
            f"义务教育优质均衡发展监测报告 · 各区县 · {period}",
            [f"评估标准：{standard.title}（{standard.name} v{standard.version}）", f"数据期次：{period}"],
        ),
        pres.key_values([("区县", f"{len(ranking)} 个"), ("具备申报条件", f"{ready}/{len(ranking)}")]),
        Html("<h2>区县排名</h2>"),
        pres.notice("排名：具备申报条件的区县在前，其后依次按未达标关键项、差异系数超限项、未达标学校（学段）数和最大差异系数÷限值由少到多。", "info"),
        table,
    ]
    if not failed.empty:
        blocks.append(Html("<h2>本次生成失败的报告</h2>"))
        lines = [
            f"{r['district_id']} · " + ("区县报告" if r["kind"] == "district" else f"{r['school_name']}（{r['school_id']}）")
            + f"：{str(r['error']).splitlines()[0] if r['error'] else ''}"
            for r in failed.to_dict("records")
        ]  # fmt: skip
        blocks.append(pres.bullet_list(lines))
    return pres.html_document(str(pres.join(blocks)), title=f"监测报告索引 · 各区县 · {period}")


def write_province_index(out: Path, province: Any, reports: pd.DataFrame, *, standard: Standard,
                         font: FontSubset | None = None) -> Path:  # fmt: skip
    """Write ``<out>/index.html`` for a :class:`ProvinceEvaluation` atomically, font embedded.

    Returns
    -------
    Path
    """
    from balance_metrics.reporting.fonts import MissingGlyphError

    document = province_index_html(out, province.summary(), reports, period=province.period, standard=standard)
    try:
        document = inject_font_css(document, font=font)
    except MissingGlyphError:
        pass  # written without the embedded font rather than not at all: it tells what failed
    return atomic_write_text(out / "index.html", document)
