"""SVG against PNG charts in the PDF reports (WeasyPrint time, PDF size).

Builds a few school reports' HTML in this process (the sections of
``notebooks/school_report.ipynb``) with the charts as SVG only, as 200 dpi PNG
only (what the reports use, :func:`balance_metrics.reporting.plots.figure_html`),
and as the reports had them before (SVG shown on screen, PNG in print/PDF), and
renders each to PDF with the same batch font subset. Called by ``bench_reports.py``; standalone::

    PYTHONPATH=src .venv/bin/python benchmarks/bench_charts.py [data/raw] [2022Q4]
"""

from __future__ import annotations

import base64
import io
import statistics
import sys
import time
from pathlib import Path

SECTIONS = ["title", "overview", "indicators", "history", "gaps", "data_quality"]


def _svg_html():
    from balance_metrics.reporting import plots
    from balance_metrics.reporting.presentation import Html, escape

    def figure_html(fig, caption=None, *, context=""):
        data = base64.b64encode(plots.figure_svg(fig).encode("utf-8")).decode("ascii")
        cap = f"<figcaption>{escape(caption)}</figcaption>" if caption else ""
        return Html(f'<figure class="bm-figure"><img alt="{escape(caption or "图表")}" src="data:image/svg+xml;base64,{data}">{cap}</figure>')

    return figure_html


def _both_html():
    from balance_metrics.reporting import plots
    from balance_metrics.reporting.presentation import Html, escape

    def figure_html(fig, caption=None, *, context=""):
        svg = base64.b64encode(plots.figure_svg(fig).encode("utf-8")).decode("ascii")
        png = base64.b64encode(plots.figure_png(fig)).decode("ascii")
        alt = escape(caption or "图表")
        cap = f"<figcaption>{escape(caption)}</figcaption>" if caption else ""
        return Html(
            f'<figure class="bm-figure"><img style="display:none" alt="{alt}" src="data:image/svg+xml;base64,{svg}">'
            f'<img alt="{alt}" src="data:image/png;base64,{png}">{cap}</figure>'
        )

    return figure_html


def measure_charts(data_dir: Path, period: str, schools: list[str]) -> dict:
    from balance_metrics.reporting import plots, school_sections
    from balance_metrics.reporting import presentation as pres
    from balance_metrics.reporting.batch_font import batch_font
    from balance_metrics.reporting.context import load_context
    from balance_metrics.reporting.pdf import render_pdf_bytes

    ctx = load_context(data_dir, period)
    font = batch_font(ctx, Path(data_dir).parent / "charts-font")
    variants = {"SVG": _svg_html(), "PNG 200 dpi (reports now)": plots.figure_html,
                "SVG on screen + PNG in PDF (reports before)": _both_html()}
    result = {"documents": len(schools), "variants": {}}
    original = plots.figure_html
    try:
        for name, figure_html in variants.items():
            plots.figure_html = figure_html
            school_sections.plots.figure_html = figure_html
            builds, renders, sizes, html_sizes = [], [], [], []
            render_pdf_bytes(pres.html_document("<p>预热</p>", title="warm-up"), font=font)
            for school in schools:
                clock = time.perf_counter()
                body = "".join(str(getattr(school_sections, s)(ctx, school)) for s in SECTIONS)
                document = pres.html_document(body, title=school)
                builds.append(time.perf_counter() - clock)
                html_sizes.append(len(document.encode("utf-8")))
                clock = time.perf_counter()
                pdf = render_pdf_bytes(document, font=font)
                renders.append(time.perf_counter() - clock)
                sizes.append(len(pdf))
            result["variants"][name] = {
                "build": statistics.median(builds), "render": statistics.median(renders), "size": statistics.median(sizes),
                "html_size": statistics.median(html_sizes),
            }  # fmt: skip
    finally:
        plots.figure_html = original
        school_sections.plots.figure_html = original
    return result


if __name__ == "__main__":
    from balance_metrics.engine.resources import evaluate_resources
    from balance_metrics.contract.dataset import load_period
    from balance_metrics.reporting.findings import school_ids

    data = Path(sys.argv[1] if len(sys.argv) > 1 else "data/raw").resolve()
    label = sys.argv[2] if len(sys.argv) > 2 else "2022Q4"
    ids = school_ids(evaluate_resources(load_period(data / label)))[:5]
    print(measure_charts(data, label, ids))
