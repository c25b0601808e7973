"""The district report's 问题清单 gives school names room (issue #12: names were
stacked one character per line in the PDF)."""

from __future__ import annotations

import io
import re
from types import SimpleNamespace

import pandas as pd
from pypdf import PdfReader

from balance_metrics.reporting import district_sections, pdf
from balance_metrics.reporting import presentation as pres

LONG = "这是一段很长的问题描述，" * 12
NAMES = ["博雅外国语小学", "晨星特殊教育学校", "麦田湾教学点", "全区"]


def issues_html() -> str:
    table = pd.DataFrame({
        "no": range(1, len(NAMES) + 1), "severity_label": ["区定目标未完成", "未达标", "缺少佐证或数据", "一票否决"],
        "area_name": ["区定目标", "政府保障程度", "教育质量", "否决项"], "item_id": ["P26", "G12", "Q9", "V5"],
        "school_name": NAMES, "description": [LONG] * len(NAMES),
    })
    ctx = SimpleNamespace(evaluation=SimpleNamespace(issue_list=table))
    body = district_sections.issues(ctx)
    return pres.html_document(str(body), title="问题清单")


def test_school_name_cells_are_kept_on_one_line():
    html = issues_html()
    for name in NAMES:
        assert re.search(rf'<td class="[^"]*bm-nw[^"]*">{name}</td>', html), name


def test_issue_table_has_fixed_column_widths():
    css = pres.report_css()
    assert re.search(r"table\.bm-issues\s*\{\s*table-layout:\s*fixed", css)
    assert re.search(r"table\.bm-issues th:nth-child\(5\)\s*\{\s*width:\s*[0-9.]+em", css)  # 学校


def test_rendered_pdf_keeps_school_names_whole():
    # One character per line comes out of the PDF text as "博\n雅\n外…"; whole names as "博雅外国语小学".
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.render_pdf_bytes(issues_html()))).pages)
    for name in NAMES:
        assert name in text, (name, text[:400])
    assert "序号" in text and "评估方面" in text
