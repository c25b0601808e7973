"""Tests for balance_metrics.fonts: packaged font, matplotlib, glyph guard, subsets."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from fontTools.ttLib import TTFont  # noqa: E402
from matplotlib import font_manager  # noqa: E402

from balance_metrics.reporting import chart_fonts, font_subsets, fonts  # noqa: E402

SRC_DIR = Path(__file__).resolve().parents[1] / "src"
PRIVATE_USE = "\ue000"
# CJK Extension B "zhé" (four dragons): a real hanzi that Noto Sans CJK lacks.
RARE_HANZI = "\U0002a6a5"
REPORT_TEXT = "县域义务教育优质均衡发展督导评估：校际差异系数 0.35（≤0.50），达标。"


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture
def chinese_font():
    return chart_fonts.use_chinese_font()


def _sc_face() -> TTFont:
    return TTFont(str(fonts.font_path()), fontNumber=fonts.face_index(), lazy=True)


def _chinese_figure() -> plt.Figure:
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.bar(["城区小学", "乡镇小学", "村小"], [0.42, 0.31, -0.12])
    ax.set_title("校际差异系数（义务教育优质均衡）")
    ax.set_xlabel("学校类别")
    ax.set_ylabel("差异系数")
    return fig


# --------------------------------------------------------------------------
# Locating the font
# --------------------------------------------------------------------------


def test_font_path_points_to_packaged_collection():
    path = fonts.font_path()
    assert path.is_file()
    assert path.suffix == ".ttc"
    assert "noto_cjk_sans_otc" in path.parts
    assert path.stat().st_size > 10_000_000


def test_face_index_selects_simplified_chinese_face():
    with _sc_face() as face:
        assert face["name"].getDebugName(1) == fonts.FONT_FAMILY
        assert face["name"].getDebugName(6) == "NotoSansCJKsc-Regular"


def test_missing_package_error_names_the_package(monkeypatch):
    fonts.font_path.cache_clear()
    monkeypatch.setattr(fonts.importlib.util, "find_spec", lambda name: None)
    try:
        with pytest.raises(fonts.FontPackageMissingError, match="noto-cjk-sans-otc"):
            fonts.font_path()
    finally:
        monkeypatch.undo()
        fonts.font_path.cache_clear()
    assert fonts.font_path().is_file()


def test_font_package_licence_is_ofl():
    from importlib.metadata import metadata

    meta = metadata(fonts.FONT_PACKAGE)
    assert meta["License-Expression"] == "OFL-1.1"
    assert meta["Version"] == fonts.FONT_PACKAGE_VERSION


def test_extract_face_writes_standalone_sc_font_once(tmp_path):
    path = fonts.extract_face(tmp_path)
    first_mtime = path.stat().st_mtime_ns
    with TTFont(str(path), lazy=True) as face:
        assert face["name"].getDebugName(6) == "NotoSansCJKsc-Regular"
        assert ord("差") in face.getBestCmap()
    assert fonts.extract_face(tmp_path) == path
    assert path.stat().st_mtime_ns == first_mtime
    assert not list(tmp_path.glob("*.tmp"))


def test_cache_dir_honours_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("BALANCE_METRICS_CACHE_DIR", str(tmp_path / "cache"))
    assert fonts.cache_dir() == tmp_path / "cache"
    assert (tmp_path / "cache").is_dir()


# --------------------------------------------------------------------------
# matplotlib
# --------------------------------------------------------------------------


def test_use_chinese_font_sets_rc_params(chinese_font):
    assert chinese_font == "Noto Sans CJK SC"
    rc = matplotlib.rcParams
    assert rc["font.sans-serif"][0] == "Noto Sans CJK SC"
    assert rc["font.family"] == ["sans-serif"]
    assert rc["axes.unicode_minus"] is False
    assert rc["svg.fonttype"] == "path"


def test_matplotlib_resolves_family_to_packaged_sc_face(chinese_font):
    found = font_manager.findfont(font_manager.FontProperties(family=[chinese_font]))
    assert Path(found) == fonts.font_path()
    assert getattr(found, "face_index", fonts.face_index()) == fonts.face_index()


def test_use_chinese_font_is_idempotent(chinese_font):
    # How fast a repeated call is: benchmarks/bench_fonts.py (docs/performance.md).
    count = len(font_manager.fontManager.ttflist)
    for _ in range(10):
        assert chart_fonts.use_chinese_font() == chinese_font
    assert len(font_manager.fontManager.ttflist) == count


def test_use_chinese_font_repairs_rc_params_after_reset(chinese_font):
    with matplotlib.rc_context():
        matplotlib.rcdefaults()
        assert matplotlib.rcParams["font.sans-serif"][0] != chinese_font
        chart_fonts.use_chinese_font()
        assert matplotlib.rcParams["font.sans-serif"][0] == chinese_font


def test_figure_renders_png_and_svg_without_missing_glyphs(chinese_font, tmp_path):
    fig = _chinese_figure()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig.savefig(tmp_path / "chart.png", dpi=80)
        fig.savefig(tmp_path / "chart.svg")
    assert (tmp_path / "chart.png").stat().st_size > 5_000
    svg = (tmp_path / "chart.svg").read_text(encoding="utf-8")
    # Text is drawn as outlines, not <text> elements that need a viewer font.
    assert "<text" not in svg
    assert "<path" in svg


def test_chinese_text_is_not_drawn_as_empty_boxes(chinese_font):
    """The rendered title must differ from the same title in .notdef boxes."""

    def render(title: str) -> bytes:
        fig = plt.figure(figsize=(2, 0.6), dpi=50)
        fig.text(0.05, 0.3, title, fontsize=14)
        fig.canvas.draw()
        pixels = bytes(fig.canvas.buffer_rgba())
        plt.close(fig)
        return pixels

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        boxes = render(PRIVATE_USE * 4)
    assert render("差异系数") != boxes


def test_collection_unsupported_falls_back_to_extracted_face(monkeypatch, tmp_path):
    """Simulate matplotlib < 3.11, which reads only face 0 of a collection."""
    monkeypatch.setenv("BALANCE_METRICS_CACHE_DIR", str(tmp_path))

    class OldFontManager:
        def __init__(self) -> None:
            self.ttflist: list = []

        def addfont(self, path: str) -> None:
            with TTFont(path, fontNumber=0, lazy=True) as face:
                name = face["name"].getDebugName(1)
            self.ttflist.append(type("Entry", (), {"name": name, "fname": path})())

    fake_manager = OldFontManager()
    monkeypatch.setattr(font_manager, "fontManager", fake_manager)
    chart_fonts._register_with_matplotlib(font_manager)
    names = {entry.name: entry.fname for entry in fake_manager.ttflist}
    assert names["Noto Sans CJK JP"] == str(fonts.font_path())
    assert Path(names["Noto Sans CJK SC"]).parent == tmp_path


# --------------------------------------------------------------------------
# Glyph guard
# --------------------------------------------------------------------------


def test_test_characters_are_really_absent_from_the_font():
    with _sc_face() as face:
        cmap = face.getBestCmap()
    assert ord(PRIVATE_USE) not in cmap
    assert ord(RARE_HANZI) not in cmap
    assert all(ord(char) in cmap for char in REPORT_TEXT)


def test_missing_glyphs_lists_unique_offenders_in_order():
    text = f"差{RARE_HANZI}异{PRIVATE_USE}{RARE_HANZI}"
    assert fonts.missing_glyphs(text) == [RARE_HANZI, PRIVATE_USE]
    assert fonts.missing_glyphs(REPORT_TEXT) == []


def test_missing_glyphs_ignores_layout_and_invisible_characters():
    assert fonts.missing_glyphs("甲\n乙\t丙\u200b丁\ufeff戊\u00a0己\u3000") == []


def test_check_glyphs_message_names_char_code_and_context():
    text = f"学校名单：第一小学、{RARE_HANZI}庄小学"
    with pytest.raises(fonts.MissingGlyphError) as info:
        fonts.check_glyphs(text, context="学校名单")
    error = info.value
    assert isinstance(error, ValueError)
    assert error.chars == [RARE_HANZI]
    message = str(error)
    assert "U+2A6A5" in message
    assert RARE_HANZI in message
    assert "庄小学" in message
    assert "学校名单" in message


def test_check_glyphs_private_use_character():
    with pytest.raises(fonts.MissingGlyphError, match="U\\+E000"):
        fonts.check_glyphs(f"图例{PRIVATE_USE}")
    fonts.check_glyphs(REPORT_TEXT)


def test_glyph_warnings_become_errors_with_offending_text(chinese_font, tmp_path):
    fig = _chinese_figure()
    fig.axes[0].set_title(f"差异系数{PRIVATE_USE}图")
    with pytest.raises(fonts.MissingGlyphError) as info:
        with chart_fonts.glyph_warnings_as_errors("chart.png"):
            fig.savefig(tmp_path / "chart.png")
    assert info.value.chars == [PRIVATE_USE]
    message = str(info.value)
    assert "U+E000" in message
    assert "差异系数" in message
    assert "chart.png" in message


def test_glyph_warnings_as_errors_works_as_decorator(chinese_font, tmp_path):
    fig = _chinese_figure()
    fig.axes[0].set_xlabel(f"学校{RARE_HANZI}")

    @chart_fonts.glyph_warnings_as_errors()
    def save() -> None:
        fig.savefig(tmp_path / "chart.svg")

    with pytest.raises(fonts.MissingGlyphError, match="U\\+2A6A5"):
        save()


def test_glyph_warnings_as_errors_leaves_other_warnings_alone(chinese_font, tmp_path):
    with pytest.warns(UserWarning, match="unrelated"):
        with chart_fonts.glyph_warnings_as_errors():
            warnings.warn("unrelated", UserWarning, stacklevel=1)
    with chart_fonts.glyph_warnings_as_errors():
        _chinese_figure().savefig(tmp_path / "ok.png")


# --------------------------------------------------------------------------
# Subsets
# --------------------------------------------------------------------------


def _subset_cmap(data: bytes) -> set[int]:
    return set(TTFont(io.BytesIO(data)).getBestCmap())


def test_subset_covers_exactly_text_plus_base_characters():
    data = font_subsets.subset_font_bytes(REPORT_TEXT, flavor=None)
    expected = {ord(char) for char in REPORT_TEXT + font_subsets.BASE_CHARACTERS}
    cmap = _subset_cmap(data)
    assert expected <= cmap
    # Layout closure may keep a mirrored form (≤ brings ≥), never other hanzi.
    extra = cmap - expected
    assert len(extra) <= 4
    assert not [code for code in extra if 0x3400 <= code <= 0x9FFF]
    assert data[:4] == b"OTTO"


def test_subset_is_small():
    data = font_subsets.subset_font_bytes(REPORT_TEXT)
    assert data[:4] == b"wOFF"
    assert len(data) < 60_000


def test_subset_rejects_characters_the_font_lacks():
    with pytest.raises(fonts.MissingGlyphError, match="U\\+2A6A5"):
        font_subsets.subset_font_bytes(f"差{RARE_HANZI}")


def test_subset_ignores_order_and_repetition():
    text = "差异系数均衡"
    scrambled = "衡均数系异差差异"
    assert font_subsets.subset_font_bytes(text) == font_subsets.subset_font_bytes(scrambled)


def _subset_digest_in_subprocess(text: str, hash_seed: str) -> str:
    code = (
        "import hashlib, sys\n"
        "from balance_metrics.reporting import font_subsets\n"
        "data = font_subsets.subset_font_bytes(sys.argv[1])\n"
        "print(hashlib.sha256(data).hexdigest())\n"
    )
    env = {**os.environ, "PYTHONPATH": str(SRC_DIR), "PYTHONHASHSEED": hash_seed}
    result = subprocess.run(
        [sys.executable, "-c", code, text],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return result.stdout.strip()


def test_subset_bytes_are_deterministic_across_processes():
    """Same text, fresh processes, different hash seeds: same bytes.

    Also guards against fontTools stamping the current time into 'head'.
    """
    first = _subset_digest_in_subprocess(REPORT_TEXT, "1")
    time.sleep(1.1)  # a timestamp would now differ by at least one second
    second = _subset_digest_in_subprocess(REPORT_TEXT, "2")
    assert first == second
    local = hashlib.sha256(font_subsets.subset_font_bytes(REPORT_TEXT)).hexdigest()
    assert local == first


def test_subset_keeps_original_head_timestamps():
    subset = TTFont(io.BytesIO(font_subsets.subset_font_bytes("差异", flavor=None)))
    with _sc_face() as original:
        assert subset["head"].modified == original["head"].modified
        assert subset["head"].created == original["head"].created


def test_subset_keeps_licence_name_records():
    name = TTFont(io.BytesIO(font_subsets.subset_font_bytes("差异")))["name"]
    assert "Open Font License" in name.getDebugName(13)


def test_subset_font_writes_content_addressed_file(tmp_path):
    path = font_subsets.subset_font(REPORT_TEXT, tmp_path)
    assert path.parent == tmp_path
    assert path.suffix == ".woff"
    assert path.read_bytes() == font_subsets.subset_font_bytes(REPORT_TEXT)
    assert font_subsets.subset_font(REPORT_TEXT[::-1], tmp_path) == path
    other = font_subsets.subset_font("其他文字", tmp_path)
    assert other != path
    otf = font_subsets.subset_font(REPORT_TEXT, tmp_path, flavor=None)
    assert otf.suffix == ".otf"
    assert not list(tmp_path.glob("*.tmp"))


def test_subset_rejects_unknown_flavor():
    with pytest.raises(ValueError, match="flavor"):
        font_subsets.subset_font_bytes("差", flavor="woff2")


def test_font_face_css_embeds_subset_as_data_uri():
    css = font_subsets.font_face_css(REPORT_TEXT)
    assert css.startswith("@font-face")
    assert 'font-family: "BM Noto Sans SC"' in css
    assert 'format("woff")' in css
    encoded = css.split("base64,", 1)[1].split('"', 1)[0]
    assert base64.b64decode(encoded) == font_subsets.subset_font_bytes(REPORT_TEXT)
    assert fonts.CSS_FONT_STACK == '"BM Noto Sans SC", sans-serif'


def test_font_face_css_can_inline_bare_opentype():
    css = font_subsets.font_face_css("差异", flavor=None)
    assert 'url("data:font/otf;base64,' in css
    assert 'format("opentype")' in css
    encoded = css.split("base64,", 1)[1].split('"', 1)[0]
    assert base64.b64decode(encoded)[:4] == b"OTTO"
