"""Tests for balance_metrics.pdf and balance_metrics.atomic."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import pytest
from pypdf import PdfReader

from balance_metrics.common import atomic
from balance_metrics.reporting import font_subsets, fonts
from balance_metrics.reporting import pdf

PRIVATE_USE = "\ue000"
RARE_HANZI = "\U0002a6a5"  # absent from Noto Sans CJK SC (see test_fonts)

REPORT_HTML = """<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>评估报告</title>
<style>
  @page { size: A4; margin: 2cm; @bottom-center { content: "第 " counter(page) " 页"; } }
  h1 { font-size: 20pt; }
  code { font-family: monospace; }
</style>
<script>var ignored = "脚本里的字不会显示";</script>
</head>
<body>
<h1>县域义务教育优质均衡发展督导评估报告</h1>
<p>本区义务教育优质均衡发展各项指标校际差异系数如下。</p>
<table>
  <tr><th>指标</th><th>小学</th><th>初中</th></tr>
  <tr><td>差异系数</td><td>0.42</td><td>0.38</td></tr>
</table>
<ol style="list-style-type: cjk-decimal"><li>生均教学仪器设备值</li><li>生均体育运动场馆面积</li></ol>
<p>资源配置 &amp; 政府保障程度 <q>达标</q> <code>CV &lt;= 0.50</code></p>
</body>
</html>
"""


def _pdf_text(path: Path) -> str:
    return "".join(page.extract_text() for page in PdfReader(path).pages)


def _pdf_fonts(path: Path) -> dict[str, int]:
    """Base font name → size of its embedded font program, over all pages."""
    found: dict[str, int] = {}
    for page in PdfReader(path).pages:
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            descendant = font["/DescendantFonts"][0].get_object()
            descriptor = descendant["/FontDescriptor"].get_object()
            program = next(
                descriptor[key].get_object()
                for key in ("/FontFile3", "/FontFile2", "/FontFile")
                if key in descriptor
            )
            found[str(font["/BaseFont"])] = len(program.get_data())
    return found


@pytest.fixture(scope="module")
def report_pdf(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("pdf") / "report.pdf"
    return pdf.html_to_pdf(REPORT_HTML, out)


def _long_report(pages: int = 5) -> str:
    """A multi-page report with many distinct hanzi (GB2312 level 1)."""
    hanzi = "".join(
        bytes([0xB0 + index // 94, 0xA1 + index % 94]).decode("gb2312") for index in range(800)
    )
    rows = []
    for number in range(pages * 28):
        name = hanzi[(number * 7) % 780 : (number * 7) % 780 + 6]
        rows.append(f"<tr><td>{name}学校</td><td>{number * 0.013:.3f}</td><td>达标</td></tr>")
    paragraphs = "".join(
        f"<p>{hanzi[start : start + 120]}</p>" for start in range(0, len(hanzi), 120)
    )
    return (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"></head><body>'
        "<h1>义务教育优质均衡发展差异系数分析</h1>"
        f"{paragraphs}<table>{''.join(rows)}</table></body></html>"
    )


# --------------------------------------------------------------------------
# Text extraction and injection
# --------------------------------------------------------------------------


def test_visible_text_skips_hidden_elements_and_decodes_entities():
    text = pdf.visible_text(REPORT_HTML)
    assert "县域义务教育优质均衡发展督导评估报告" in text
    assert "资源配置 & 政府保障程度" in text
    assert "CV <= 0.50" in text
    assert "脚本" not in text
    assert "评估报告" not in text.split("县域")[0]  # <title> is not drawn
    assert "@page" not in text


def test_visible_text_includes_image_alt_text():
    assert "学校分布图" in pdf.visible_text('<p>图：<img src="x.png" alt="学校分布图"></p>')


def test_renderable_text_includes_generated_css_strings():
    html = '<style>h2::before { content: "\\7B2C  " counter(h) "\\7AE0"; }</style><h2>概况</h2>'
    text = pdf.renderable_text(html)
    assert "第" in text and "章" in text and "概况" in text
    assert "\u201c" in pdf.renderable_text("<p><q>引</q></p>")


def test_inject_font_css_into_head_or_fragment():
    with_head = pdf.inject_font_css("<html><head><title>t</title></head><body>差</body></html>")
    assert with_head.index("@font-face") < with_head.index("<title>")
    fragment = pdf.inject_font_css("<!DOCTYPE html><p>差</p>")
    assert fragment.startswith("<!DOCTYPE html><style")
    no_head = pdf.inject_font_css("<html lang='zh'><body>差</body></html>")
    assert no_head.startswith("<html lang='zh'><head><style")
    header_only = pdf.inject_font_css("<html><header>页眉</header><head></head></html>")
    assert header_only.startswith("<html><header>页眉</header><head><style")


def test_inject_font_css_forces_the_embedded_family():
    html = pdf.inject_font_css("<body><svg><text>差</text></svg></body>")
    assert f"font-family: {fonts.CSS_FONT_STACK} !important" in html
    assert "@bottom-center" in html
    assert "<svg><style" in html


# --------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------


def test_pdf_contains_extractable_chinese_text(report_pdf):
    text = _pdf_text(report_pdf)
    assert "差异系数" in text
    assert "义务教育优质均衡" in text
    assert "生均教学仪器设备值" in text


def test_pdf_contains_generated_chinese_content(report_pdf):
    text = _pdf_text(report_pdf)
    assert "第 1 页" in text  # @page margin box content
    assert "一、" in text  # cjk-decimal list marker, added on the second pass
    assert "\u201c达标\u201d" in text  # <q> quotes


def test_pdf_embeds_only_the_subset_font(report_pdf):
    embedded = _pdf_fonts(report_pdf)
    # One font: <h1>/<q> etc. must not add a second copy of the same file.
    assert len(embedded) == 1
    for name, size in embedded.items():
        assert "BM-Noto-Sans-SC" in name  # never DejaVu or another system font
        assert "+" in name  # subset tag, e.g. ABCDEF+BM-Noto-Sans-SC
        assert size < 100_000
    assert report_pdf.stat().st_size < 250_000


def test_multi_page_report_stays_small(tmp_path):
    out = pdf.html_to_pdf(_long_report(pages=5), tmp_path / "long.pdf")
    reader = PdfReader(out)
    assert len(reader.pages) >= 4
    assert out.stat().st_size < 250_000
    assert all("BM-Noto-Sans-SC" in name for name in _pdf_fonts(out))
    assert "差异系数分析" in reader.pages[0].extract_text()


def test_pdf_rendering_is_deterministic():
    html = "<h1>义务教育优质均衡</h1><p>差异系数</p>"
    first = pdf.render_pdf_bytes(html)
    font_subsets._subset_bytes_cached.cache_clear()
    time.sleep(1.1)  # an embedded font timestamp would now differ
    assert pdf.render_pdf_bytes(html) == first


def test_base_url_resolves_relative_resources(tmp_path):
    (tmp_path / "style.css").write_text("p { color: rgb(200, 0, 0); }", encoding="utf-8")
    html = '<link rel="stylesheet" href="style.css"><p>差异系数</p>'
    out = pdf.html_to_pdf(html, tmp_path / "out.pdf", base_url=tmp_path)
    assert "差异系数" in _pdf_text(out)


@pytest.mark.parametrize("char", [PRIVATE_USE, RARE_HANZI])
def test_missing_glyph_raises_before_rendering(char, tmp_path, monkeypatch):
    def must_not_render(*args, **kwargs):
        raise AssertionError("rendered despite a missing glyph")

    monkeypatch.setattr(pdf, "_render_once", must_not_render)
    out = tmp_path / "report.pdf"
    with pytest.raises(fonts.MissingGlyphError) as info:
        pdf.html_to_pdf(f"<p>学校名称：{char}庄小学</p>", out)
    assert info.value.chars == [char]
    assert f"U+{ord(char):04X}" in str(info.value)
    assert "庄小学" in str(info.value)
    assert not out.exists()


def test_missing_glyph_in_generated_content_is_reported(tmp_path):
    html = f'<style>p::after {{ content: "\\{ord(RARE_HANZI):X}"; }}</style><p>差</p>'
    with pytest.raises(fonts.MissingGlyphError, match="U\\+2A6A5"):
        pdf.html_to_pdf(html, tmp_path / "x.pdf")


def test_font_forced_by_svg_important_rule_is_an_error(tmp_path):
    html = (
        "<p>差异系数</p><svg width='200' height='40'>"
        "<style>text { font-family: 'DejaVu Serif' !important; }</style>"
        "<text x='0' y='20'>abc</text></svg>"
    )
    with pytest.raises(pdf.FontFallbackError, match="DejaVu Serif"):
        pdf.html_to_pdf(html, tmp_path / "x.pdf")


def test_failed_rendering_keeps_previous_pdf(tmp_path, monkeypatch):
    out = tmp_path / "report.pdf"
    out.write_bytes(b"%PDF-old")

    with pytest.raises(fonts.MissingGlyphError):
        pdf.html_to_pdf(f"<p>{PRIVATE_USE}</p>", out)
    assert out.read_bytes() == b"%PDF-old"

    from weasyprint import Document

    def crash(self, *args, **kwargs):
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr(Document, "write_pdf", crash)
    with pytest.raises(RuntimeError, match="renderer crashed"):
        pdf.html_to_pdf("<p>差异系数</p>", out)
    assert out.read_bytes() == b"%PDF-old"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["report.pdf"]


def test_html_to_pdf_replaces_previous_pdf(tmp_path):
    out = tmp_path / "sub" / "report.pdf"
    out.parent.mkdir()
    out.write_bytes(b"%PDF-old")
    result = pdf.html_to_pdf("<p>差异系数</p>", out)
    assert result == out
    assert out.read_bytes().startswith(b"%PDF-")
    assert out.read_bytes() != b"%PDF-old"


# --------------------------------------------------------------------------
# Atomic writes
# --------------------------------------------------------------------------


def test_atomic_write_text_and_bytes(tmp_path):
    path = atomic.atomic_write_text(tmp_path / "a" / "b.html", "差异系数\n")
    assert path.read_bytes() == "差异系数\n".encode()
    atomic.atomic_write_bytes(path, b"new")
    assert path.read_bytes() == b"new"
    assert [p.name for p in path.parent.iterdir()] == ["b.html"]


def test_atomic_write_failure_leaves_old_file_and_no_temp(tmp_path, monkeypatch):
    path = tmp_path / "report.pdf"
    path.write_bytes(b"old")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(atomic.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        atomic.atomic_write_bytes(path, b"new content")
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.pdf"]


def test_atomic_write_keeps_existing_permissions(tmp_path):
    path = tmp_path / "report.pdf"
    path.write_bytes(b"old")
    os.chmod(path, 0o640)
    atomic.atomic_write_bytes(path, b"new")
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_atomic_write_new_file_gets_umask_permissions(tmp_path):
    path = atomic.atomic_write_bytes(tmp_path / "new.pdf", b"x")
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~atomic._UMASK
