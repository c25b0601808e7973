"""The index page of a period's reports: ``reports/<period>/index.html``.

Lists the district report and every evaluated school with its verdict per
stage, links to the HTML and PDF files that exist, and the outcome of the
latest run (reports that failed are named with their error). The page holds
no times, so rerunning on the same inputs rewrites the same bytes.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pandas as pd

from balance_metrics.reporting import presentation as pres
from balance_metrics.common.atomic import atomic_write_text
from balance_metrics.reporting.findings import school_ids
from balance_metrics.reporting.font_subsets import FontSubset
from balance_metrics.reporting.pdf import inject_font_css
from balance_metrics.reporting.plots import stage_order
from balance_metrics.reporting.presentation import Col, Html
from balance_metrics.engine.resources import ResourceEvaluation
from balance_metrics.contract.schema import AREA_TYPES, STAGES
from balance_metrics.standard.loader import Standard

__all__ = ["index_html", "write_index"]



def _links(out: Path, base: str, notebook: str) -> str:
    """Links to the files of one report that exist (a failed first run has none)."""
    parts = []
    for target, label in (
        (f"{base}.html", "HTML"),
        (f"{base}.pdf", "PDF"),
        (f"{base}.provenance.json", "溯源记录"),
        (f"notebooks/{notebook}.ipynb", "notebook"),
    ):
        if (out / target).is_file():
            parts.append(f'<a href="{pres.escape(quote(target))}">{label}</a>')
    return " ".join(parts) or '<span class="bm-empty">尚无报告</span>'


def _status(reports: pd.DataFrame, kind: str, school_id: str) -> str:
    rows = reports[(reports["kind"] == kind) & (reports["school_id"] == school_id)]
    if rows.empty:
        return '<span class="bm-empty">本次未生成</span>'
    row = rows.iloc[0]
    if row["status"] == "rendered":
        return '<span class="bm-pass">成功</span>'
    if row["status"] == "skipped":
        return '<span class="bm-pass">未变化</span>（沿用上次生成的报告）'
    first = str(row["error"]).splitlines()[0] if row["error"] else ""
    return f'<span class="bm-fail">失败</span>：{pres.escape(first)}'


def _verdicts(res: ResourceEvaluation, school_id: str) -> str:
    rows = res.verdicts[res.verdicts["school_id"] == school_id]
    parts = []
    for stage in stage_order(rows["stage"]):
        passed = bool(rows.loc[rows["stage"] == stage, "passed"].iloc[0])
        css, word = ("bm-pass", "达标") if passed else ("bm-fail", "未达标")
        parts.append(f'{pres.escape(STAGES.get(stage, stage))}：<span class="{css}">{word}</span>')
    return "；".join(parts)


def index_html(out: Path, res: ResourceEvaluation, reports: pd.DataFrame, *, standard: Standard) -> str:
    """The index page as an HTML document (font not embedded).

    Parameters
    ----------
    out : Path
        The period's report folder (links are relative to it).
    res : ResourceEvaluation
        The period's evaluation (verdicts).
    reports : DataFrame
        :attr:`balance_metrics.reporting.ReportRun.reports`.
    standard : Standard

    Returns
    -------
    str
    """
    verdicts = res.verdicts
    first = verdicts.drop_duplicates("school_id").set_index("school_id")
    rows = [
        {
            "school_id": sid,
            "school_name": first.at[sid, "school_name"],
            "area_type": AREA_TYPES.get(first.at[sid, "area_type"], first.at[sid, "area_type"]),
            "verdict": _verdicts(res, sid),
            "links": _links(out, f"schools/{sid}", f"school_{sid}"),
            "status": _status(reports, "school", sid),
        }
        for sid in school_ids(res)
    ]
    table = pres.table(
        pd.DataFrame(rows, columns=["school_id", "school_name", "area_type", "verdict", "links", "status"]),
        [
            Col("school_id"), Col("school_name"), Col("area_type", "城乡分类"), Col("verdict", "本期判定", kind="html"),
            Col("links", "报告", kind="html"), Col("status", "本次生成", kind="html"),
        ],  # fmt: skip
        css_class="bm-index",
    )
    passed = int(verdicts["passed"].sum())
    cv_over = int((~res.balance["passed"]).sum())
    failed = reports[~reports["status"].isin(["rendered", "skipped"])]
    blocks: list[Html | None] = [
        pres.title_block(
            f"义务教育优质均衡发展监测报告 · {res.period}",
            [f"评估标准：{standard.title}（{standard.name} v{standard.version}）"],
        ),
        Html("<h2>全区报告</h2>"),
        pres.key_values(
            [
                ("报告", Html(_links(out, "district", "district"))),
                ("本次生成", Html(_status(reports, "district", ""))),
                ("学校（学段）达标", f"{passed}/{len(verdicts)}"),
                ("差异系数超限", f"{cv_over} 项"),
            ]
        ),
        Html("<h2>学校报告</h2>"),
        table,
    ]
    if not failed.empty:
        blocks.append(Html("<h2>本次生成失败的报告</h2>"))
        lines = [
            ("全区报告" if r["kind"] == "district" else f"{r['school_name']}（{r['school_id']}）") + f"：{r['error']}"
            for r in failed.to_dict("records")
        ]
        blocks.append(pres.bullet_list(lines))
    return pres.html_document(str(pres.join(blocks)), title=f"监测报告索引 · {res.period}")


def write_index(
    out: Path, res: ResourceEvaluation, reports: pd.DataFrame, *, standard: Standard, font: FontSubset | None = None
) -> Path:
    """Write ``index.html`` atomically, with the Chinese font subset embedded.

    ``font`` is the batch's shared subset (used when it covers the page).

    If a school name cannot be drawn with the font (it then also failed its
    own report), the page is written without the embedded font rather than
    not at all: the index is how one finds out what failed.
    """
    from balance_metrics.reporting.fonts import MissingGlyphError

    document = index_html(out, res, reports, standard=standard)
    try:
        document = inject_font_css(document, font=font)
    except MissingGlyphError:
        pass
    return atomic_write_text(out / "index.html", document)
