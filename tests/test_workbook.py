"""The Excel workbooks: Chinese sheets and headers, formats, failures highlighted, provenance inside.

End to end: ``balance-metrics evaluate`` on the sample's 2022Q4 (beichen-2021),
opened with openpyxl; the monitoring workbook from a two-period panel.
"""

from __future__ import annotations

import hashlib
import re

import openpyxl
import pandas as pd
import pytest
from conftest import SAMPLE

from balance_metrics.analysis.monitoring import build_panel, panel_tables
from balance_metrics.cli import main
from balance_metrics.contract.dataset import load_period
from balance_metrics.evaluation.evaluate import evaluate
from balance_metrics.reporting import provenance
from balance_metrics.reporting.export import write_monitoring
from balance_metrics.reporting.workbook.content import header

PERIOD = SAMPLE / "2022Q4"
CJK = re.compile(r"[\u4e00-\u9fff]")
HEX64 = re.compile(r"^[0-9a-f]{64}$")
FAIL_FILL, SEVERE_FILL, MISSING_FILL = "FFC7CE", "FF8F8F", "FFEB9C"


def fill(cell) -> str:
    return cell.fill.fgColor.rgb[-6:] if cell.fill.fill_type == "solid" else ""


def headers(ws) -> list[str]:
    return [c.value for c in ws[1]]


def column(ws, name: str) -> int:
    """1-based column of header ``name`` (exact) on row 1."""
    return headers(ws).index(name) + 1


def find_row(ws, **where) -> int:
    cols = {column(ws, k): v for k, v in where.items()}
    for r in range(2, ws.max_row + 1):
        if all(ws.cell(r, c).value == v for c, v in cols.items()):
            return r
    raise AssertionError(f"no row with {where} on {ws.title}")


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    """evaluate written twice: Chinese workbook (default) and English workbook."""
    root = tmp_path_factory.mktemp("workbook")
    for lang in ("zh", "en"):
        code = main(["evaluate", str(PERIOD), "--standard", "beichen-2021", "--out", str(root / lang), "--lang", lang])
        assert code == 0
    return root


@pytest.fixture(scope="module")
def zh(outputs):
    return openpyxl.load_workbook(outputs / "zh" / "evaluation.xlsx")


@pytest.fixture(scope="module")
def en(outputs):
    return openpyxl.load_workbook(outputs / "en" / "evaluation.xlsx")


@pytest.fixture(scope="module")
def result():
    return evaluate(load_period(PERIOD), "beichen-2021")


def test_sheet_names_are_chinese_and_start_with_the_summary(zh):
    names = zh.sheetnames
    assert names[:4] == ["汇总", "问题清单", "各校判定", "差异系数"]
    assert {"各校指标", "评估项目", "区定目标", "满意度", "逐项核查", "说明"} <= set(names)
    assert all(CJK.search(n) for n in names), names


def test_every_header_is_chinese(zh):
    for ws in zh.worksheets:
        if ws.title == "说明":
            continue
        english = [h for h in headers(ws) if not CJK.search(str(h))]
        assert not english, f"{ws.title}: {english}"


def test_every_result_column_has_a_label(result):
    """No column of any table evaluate or a report run writes is left in English."""
    dataset = load_period(PERIOD)
    tables = {**result.tables(), "warnings": dataset.warnings}
    panel = build_panel(SAMPLE, "beichen-2021", periods=["2022Q3", "2022Q4"])
    tables |= {f"monitoring:{k}": v for k, v in panel_tables(panel).items()}
    missing = []
    for key, frame in tables.items():
        sheet = key.removeprefix("monitoring:")
        for col in frame.columns:
            if not CJK.search(header(sheet, str(col), "zh", result.standard)):
                missing.append(f"{key}.{col}")
    assert not missing


def test_headers_carry_units_from_the_standard(zh):
    ws = zh["各校判定"]
    heads = headers(ws)
    assert "R1 每百名学生拥有高于规定学历教师数（人/百生）" in heads
    assert "R4 生均教学及辅助用房面积（m²/生）" in heads
    assert "R6 生均教学仪器设备值（元/生）" in heads
    assert "在校生数（人）" in heads
    assert "满意率（%）" in headers(zh["满意度"])


def test_numbers_keep_full_precision_and_display_rounded(zh, outputs, result):
    ws = zh["差异系数"]
    row = find_row(ws, 学段="小学", 指标="R2")
    cv = ws.cell(row, column(ws, "差异系数"))
    expected = result.resources.balance.set_index(["stage", "indicator"]).loc[("primary", "R2"), "cv"]
    assert cv.value == expected and round(expected, 3) != expected  # the full value, not 0.526
    assert cv.number_format == "0.000"  # display_decimals = 3 in the standard
    assert ws.cell(row, column(ws, "限值")).number_format == "0.00"
    assert ws.cell(row, column(ws, "限值")).value == 0.5
    sections = zh["各校指标"]
    assert sections.cell(2, column(sections, "指标值/标准值")).number_format == "0.0%"
    assert sections.cell(2, column(sections, "标准值")).number_format == "General"  # 4.2 as written
    sat = zh["满意度"]
    assert sat.cell(2, column(sat, "满意率（%）")).number_format == '0.0"%"'
    # a per-row unit: 1 项 as a whole number, 87.6 m² with one decimal
    issues = zh["问题清单"]
    fmts = {issues.cell(r, column(issues, "单位")).value: issues.cell(r, column(issues, "现状值")).number_format
            for r in range(2, issues.max_row + 1)}
    assert fmts["项"] == "0" and fmts["m²"] == "0.0"


def test_frozen_panes_and_autofilter_on_every_table(zh):
    assert zh["各校判定"].freeze_panes == "D2"  # header row + 学校代码, 学段, 学校名称
    assert zh["差异系数"].freeze_panes == "C2"
    assert zh["问题清单"].freeze_panes == "B2"
    for ws in zh.worksheets:
        if ws.title == "说明":
            continue
        last = openpyxl.utils.get_column_letter(ws.max_column)
        rows = 1  # the table ends at the first empty row (the legend follows on 汇总)
        while rows < ws.max_row and any(c.value is not None for c in ws[rows + 1]):
            rows += 1
        assert ws.auto_filter.ref == f"A1:{last}{rows}", ws.title


def test_widths_count_chinese_characters_double(zh):
    ws = zh["各校判定"]
    width = ws.column_dimensions[openpyxl.utils.get_column_letter(column(ws, "学校名称"))].width
    longest = max(len(str(ws.cell(r, column(ws, "学校名称")).value)) for r in range(2, ws.max_row + 1))
    assert width >= 2 * longest


def test_failing_section_and_cv_are_highlighted(zh, result):
    verdicts = zh["各校判定"]
    # BC-D04 (菱角湾教学点) has no key teacher: R2 = 0, below the 85 % floor, section fails.
    row = find_row(verdicts, 学校代码="BC-D04", 学段="小学")
    assert verdicts.cell(row, column(verdicts, "判定")).value == "未达标"
    assert fill(verdicts.cell(row, column(verdicts, "学校名称"))) == FAIL_FILL
    r2 = verdicts.cell(row, column(verdicts, "R2 每百名学生拥有县级及以上骨干教师数（人/百生）"))
    assert r2.value == 0 and fill(r2) == SEVERE_FILL
    passing = find_row(verdicts, 学校代码="BC-D03", 学段="小学")
    assert fill(verdicts.cell(passing, 1)) == ""
    failing = result.resources.verdicts.loc[~result.resources.verdicts["passed"], "school_id"]
    marked = {verdicts.cell(r, 1).value for r in range(2, verdicts.max_row + 1) if fill(verdicts.cell(r, 1)) == FAIL_FILL}
    assert marked == set(failing)
    balance = zh["差异系数"]
    over = find_row(balance, 学段="小学", 指标="R2")  # CV 0.526 > 0.50
    assert fill(balance.cell(over, column(balance, "差异系数"))) == FAIL_FILL
    assert fill(balance.cell(find_row(balance, 学段="小学", 指标="R1"), 1)) == ""


def test_failing_and_missing_items_are_highlighted(zh):
    items = zh["评估项目"]
    status = column(items, "状态")
    for r in range(2, items.max_row + 1):
        expected = {"未达标": FAIL_FILL, "缺少佐证": MISSING_FILL}.get(items.cell(r, status).value, "")
        if items.cell(r, column(items, "评估方面")).value == "否决项" and expected == FAIL_FILL:
            expected = SEVERE_FILL
        assert fill(items.cell(r, 1)) == expected, items.cell(r, 1).value


def test_summary_has_a_legend(zh):
    ws = zh["汇总"]
    cells = {c.value: fill(c) for row in ws.iter_rows() for c in row if c.value}
    assert cells["图例"] == ""
    assert cells["未达标"] == FAIL_FILL and cells["低于85%底线"] == SEVERE_FILL and cells["缺少佐证或数据"] == MISSING_FILL


def test_legend_states_the_standards_floor(tmp_path):
    local = tmp_path / "local.toml"
    local.write_text('name = "local"\nextends = "beichen-2021"\n[section_rule]\nfloor_factor = "0.9"\n', encoding="utf-8")
    out = tmp_path / "out"
    assert main(["evaluate", str(SAMPLE / "2022Q4"), "--standard", str(local), "--out", str(out)]) == 0
    ws = openpyxl.load_workbook(out / "evaluation.xlsx")["汇总"]
    texts = " ".join(str(c.value) for row in ws.iter_rows() for c in row if c.value)
    assert "低于90%底线" in texts and "标准值的90%" in texts
    assert "85%底线" not in texts


def test_about_sheet_hashes_match_the_input_files(zh):
    ws = zh["说明"]
    values = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    hashes = {v for v in values if HEX64.match(v)}
    files = load_period(PERIOD).sources["file"]
    assert hashes == {hashlib.sha256((PERIOD / f).read_bytes()).hexdigest() for f in files}
    pairs = {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(2, 12)}
    assert pairs["标准继承链"] == "national-2017 → tianjin-2021 → beichen-2021"
    assert pairs["期次"] == "2022Q4"
    assert pairs["程序版本"].startswith("balance-metrics ")
    assert re.match(r"\d{4}-\d\d-\d\dT", pairs["完成时间"])


def test_issue_list_is_print_ready(zh):
    ws = zh["问题清单"]
    assert ws.page_setup.orientation == "landscape"
    assert int(ws.page_setup.paperSize) == int(ws.PAPERSIZE_A4)
    assert ws.print_title_rows == "$1:$1"
    assert ws.page_setup.fitToWidth == 1 and ws.sheet_properties.pageSetUpPr.fitToPage
    description = ws.cell(2, column(ws, "问题描述"))
    assert description.alignment.wrap_text


def test_english_workbook_has_canonical_headers_and_identical_values(zh, en, outputs):
    assert en.sheetnames[:4] == ["summary", "issues", "verdicts", "balance"]
    for name in ("balance", "sections", "items", "checks", "summary"):
        csv = pd.read_csv(outputs / "en" / f"{name}.csv", encoding="utf-8-sig", nrows=0)
        heads = [h for h in headers(en[name]) if h != "unit" or "unit" in csv.columns]
        assert heads == list(csv.columns), name
    assert "R1" in headers(en["verdicts"])
    for zs, es in zip(zh.worksheets, en.worksheets, strict=True):
        assert (zs.max_row, zs.max_column) == (es.max_row, es.max_column), zs.title
        if zs.title == "说明":
            continue
        for zrow, erow in zip(zs.iter_rows(min_row=2, values_only=True), es.iter_rows(min_row=2, values_only=True), strict=True):
            for a, b in zip(zrow, erow, strict=True):
                if isinstance(b, int | float) and not isinstance(b, bool):
                    assert a == b, zs.title


def test_csv_headers_stay_english_unless_asked(outputs, tmp_path):
    assert list(pd.read_csv(outputs / "zh" / "verdicts.csv", encoding="utf-8-sig", nrows=0).columns)[:2] == ["school_id", "stage"]
    assert main(["evaluate", str(PERIOD), "--out", str(tmp_path), "--csv-lang", "zh"]) == 0
    labelled = pd.read_csv(tmp_path / "balance.csv", encoding="utf-8-sig")
    canonical = pd.read_csv(outputs / "en" / "balance.csv", encoding="utf-8-sig")
    assert list(labelled.columns[:3]) == ["学段", "指标", "指标名称"]
    assert labelled["差异系数"].tolist() == pytest.approx(canonical["cv"].tolist(), rel=1e-15)


def test_monitoring_workbook(tmp_path):
    panel = build_panel(SAMPLE, "beichen-2021", periods=["2022Q3", "2022Q4"])
    record = provenance.start("monitoring", {"periods": "2022Q3–2022Q4"}).finish_sources(
        "2022Q3–2022Q4", SAMPLE, panel.sources, panel.standard)
    written = write_monitoring(panel, tmp_path, provenance=record)
    assert (tmp_path / "monitoring.xlsx") in written and (tmp_path / "trends.csv") in written
    book = openpyxl.load_workbook(tmp_path / "monitoring.xlsx")
    assert {"变化趋势", "目标进度", "达标变化", "各校判定", "差异系数", "说明"} <= set(book.sheetnames)
    balance = book["差异系数"]
    assert balance.freeze_panes == "D2" and balance.auto_filter.ref  # 期次, 学段, 指标
    row = find_row(balance, 期次="2022Q4", 学段="小学", 指标="R2")
    assert fill(balance.cell(row, column(balance, "差异系数"))) == FAIL_FILL
    hashes = {c.value for r in book["说明"].iter_rows() for c in r if isinstance(c.value, str) and HEX64.match(c.value)}
    assert hashes == set(panel.sources["sha256"])


def test_sheet_names_are_documented():
    from conftest import REPO

    from balance_metrics.reporting.labels import TABLE_LABELS

    text = (REPO / "docs" / "data-contract.md").read_text(encoding="utf-8")
    assert not [name for name in TABLE_LABELS.values() if name not in text]


def test_empty_tables_infinities_and_missing_values(tmp_path):
    from balance_metrics.reporting.workbook import write_workbook

    tables = {
        "warnings": pd.DataFrame(columns=["file", "row", "column", "value", "rule"]),
        "balance": pd.DataFrame({"stage": ["primary"], "indicator": ["R1"], "cv": [float("inf")],
                                 "limit": [0.5], "passed": [pd.NA]}),
    }
    book = openpyxl.load_workbook(write_workbook(tmp_path / "t.xlsx", tables))
    assert book["数据提示"].auto_filter.ref == "A1:E1" and book["数据提示"].max_row == 1
    ws = book["差异系数"]
    assert ws.cell(2, column(ws, "差异系数")).value == "∞"
    assert ws.cell(2, column(ws, "判定")).value is None and fill(ws.cell(2, 1)) == ""


def test_many_districts_workbook_is_labelled_and_ranks(tmp_path):
    from test_districts import two_districts

    folder, _ = two_districts(tmp_path)
    assert main(["evaluate", str(folder), "--out", str(tmp_path / "all")]) == 0
    book = openpyxl.load_workbook(tmp_path / "all" / "evaluation.xlsx")
    assert book.sheetnames[:2] == ["汇总", "各区县排名"]
    for ws in book.worksheets[:-1]:
        english = [h for h in headers(ws) if not CJK.search(str(h))]
        assert not english, f"{ws.title}: {english}"
    ranking = book["各区县排名"]
    assert fill(ranking.cell(2, 1)) == FAIL_FILL  # no district is ready yet
    assert ranking.cell(2, column(ranking, "最大差异系数÷限值")).number_format == "0.0%"
    assert book["各校判定"].freeze_panes == "E2"  # 区县代码, 学校代码, 学段, 学校名称
