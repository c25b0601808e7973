"""Bad files end in a located DataValidationError; real bureau files (GBK, UTF-16, title rows) load."""

from __future__ import annotations

import codecs
import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from conftest import SAMPLE, small_district, write_period
from fuzzing import KINDS, run_case

from balance_metrics import load_period
from balance_metrics.common.errors import DataValidationError
from balance_metrics.contract.cells import parse_number
from balance_metrics.contract.schema import TABLES
from balance_metrics.evaluation.evaluate import evaluate


def problems_of(folder: Path) -> pd.DataFrame:
    with pytest.raises(DataValidationError) as info:
        load_period(folder)
    return info.value.problems


# ---------------------------------------------------------------------------
# the fuzz test: every mutation kind, small districts and the sample period
# ---------------------------------------------------------------------------

SMALL_CASES = 216  # 8 per kind
CHUNKS = 6


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_fuzz_small_districts(chunk, tmp_path):
    failures = []
    for seed in range(chunk, SMALL_CASES, CHUNKS):
        outcome = run_case(seed, "small", tmp_path, kind=KINDS[seed % len(KINDS)], evaluate=seed % 9 == 0)
        if outcome.failure:
            failures.append(outcome)
    assert not failures, "\n\n".join(f"{o.kind} seed {o.seed}: {o.failure}\n{o.detail}" for o in failures)


@pytest.mark.parametrize("kinds", [KINDS[0::3], KINDS[1::3], KINDS[2::3]], ids=["a", "b", "c"])
def test_fuzz_sample_period(kinds, tmp_path):
    outcomes = [run_case(100 + i, "sample", tmp_path, kind=kind) for i, kind in enumerate(kinds)]
    failures = [o for o in outcomes if o.failure]
    assert not failures, "\n\n".join(f"{o.kind} seed {o.seed}: {o.failure}\n{o.detail}" for o in failures)
    # The cases really exercised both outcomes.
    assert {o.result for o in outcomes} >= {"loaded", "rejected"}


# ---------------------------------------------------------------------------
# real files of the sample period give the same evaluation
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def clean_evaluation():
    return evaluate(load_period(SAMPLE / "2022Q4"))


def _copy_sample(tmp_path: Path) -> Path:
    folder = tmp_path / "2022Q4"
    shutil.copytree(SAMPLE / "2022Q4", folder)
    return folder


def _reencode(folder: Path, encode) -> None:
    for path in folder.glob("*.csv"):
        path.write_bytes(encode(path.read_text(encoding="utf-8")))


def _utf16_tab(text: str) -> bytes:
    import csv
    import io

    lines = text.splitlines(keepends=True)
    comments = [line for line in lines if line.startswith("#")]
    rows = list(csv.reader(lines[len(comments):]))
    out = io.StringIO()
    csv.writer(out, delimiter="\t", lineterminator="\r\n").writerows(rows)
    return codecs.BOM_UTF16_LE + ("".join(comments).replace("\n", "\r\n") + out.getvalue()).encode("utf-16-le")


def _title_row_workbook(folder: Path) -> None:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for path in sorted(folder.glob("*.csv")):
        table = TABLES[path.stem]
        frame = pd.read_csv(path, comment="#", dtype=str, keep_default_na=False)
        sheet = book.create_sheet(table.zh)
        sheet.append([f"北辰区{table.zh}统计表（2022年第四季度）"])
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(frame.columns))
        sheet.append(["填报单位：北辰区教育局", None, None, "单位：人、平方米、元"])
        sheet.append(list(frame.columns))
        for record in frame.itertuples(index=False):
            sheet.append([_number_or_text(v, table, c) for v, c in zip(record, frame.columns)])
        path.unlink()
    book.save(folder / "统计报表.xlsx")


def _number_or_text(text: str, table, column: str) -> object:
    if text == "" or column not in table.names:
        return text or None
    kind = table.column(column).kind
    return int(text) if kind == "count" else float(text) if kind == "amount" else text


@pytest.mark.parametrize("version", ["gbk", "utf16", "title_row_workbook"])
def test_real_file_versions_of_the_sample_give_the_same_results(version, tmp_path, clean_evaluation):
    folder = _copy_sample(tmp_path)
    if version == "gbk":
        _reencode(folder, lambda text: text.encode("gbk"))
    elif version == "utf16":
        _reencode(folder, _utf16_tab)
        assert (folder / "schools.csv").read_bytes()[:2] == codecs.BOM_UTF16_LE
    else:
        _title_row_workbook(folder)
        assert not list(folder.glob("*.csv"))
    result = evaluate(load_period(folder))
    for name, frame in clean_evaluation.tables().items():
        pd.testing.assert_frame_equal(result.tables()[name], frame, obj=name)


# ---------------------------------------------------------------------------
# numbers by our rules
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "whole", "value"),
    [
        ("2219", True, 2219), ("13274.2", False, 13274.2), ("48.0", True, 48), ("1,234", True, 1234),
        ("14,461,600.5", False, 14461600.5), ("１２３４", True, 1234), ("１２．５", False, 12.5),
        ("1.44E+07", False, 14_400_000.0), ("0", True, 0), (" 12 ", True, 12),
    ],
)
def test_accepted_number_forms(text, whole, value):
    assert parse_number(text, whole=whole) == (value, None)


@pytest.mark.parametrize(
    ("text", "whole", "reason"),
    [
        ("1_000", True, "'_' is not a digit separator"), ("1e3", True, "no exponent"), ("nan", False, "nan/inf"),
        ("inf", False, "nan/inf"), ("-inf", False, "nan/inf"), ("١٢", True, "arabic-indic digit one"),
        ("N/A", False, "placeholder"), ("NULL", True, "placeholder"), ("-1", True, "must not be negative"),
        ("12.5", True, "whole number"), ("9" * 30, True, "largest count"), ("1e19", False, "largest amount"),
        ("1e308", False, "largest amount"), ("12,34", False, "comma may only separate thousands"),
        ("0x10", True, "not a number"), ("²", True, "superscript two"),
    ],
)
def test_rejected_numbers_say_why(text, whole, reason):
    value, rule = parse_number(text, whole=whole)
    assert value is None and reason in rule


# ---------------------------------------------------------------------------
# the cases of the issue, each located
# ---------------------------------------------------------------------------


@pytest.fixture
def small(tmp_path) -> Path:
    return write_period(tmp_path / "2022Q4", small_district())


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize("value", ["", "abc", "-1"])
def test_bad_sections_classes_are_located(small, value):
    _edit(small / "sections.csv", "P2,primary,400,10,", f"P2,primary,400,{value},")
    problems = problems_of(small)
    assert [(r.file, r.row, r.column, r.value) for r in problems.itertuples()] == [("sections.csv", 3, "classes", value)]


@pytest.mark.parametrize(
    ("table", "old", "new"),
    [("sections", "classes,", "班 数,"), ("schools", "school_id,", "school_idd,"), ("facilities", "equipment_value_yuan", "equipment")],
)
def test_renamed_key_column_is_one_problem(small, table, old, new):
    _edit(small / f"{table}.csv", old, new)
    problems = problems_of(small)
    missing = problems[problems["rule"].str.startswith("missing column")]
    assert missing[["file", "column"]].values.tolist() == [[f"{table}.csv", old.rstrip(",")]]


@pytest.mark.parametrize("text", ["item,year,value,reference\n", "指标 代码,year,value\npublic_fund_quota_primary_yuan,2022,1100\n"])
def test_district_table_without_rows_or_item_column(small, text):
    (small / "district.csv").write_text(text, encoding="utf-8")
    if "指标 代码" in text:
        problems = problems_of(small)
        assert problems[["file", "column"]].values.tolist()[0] == ["district.csv", "item"]
    else:
        assert len(load_period(small).table("district")) == 0


def test_huge_equipment_value_is_rejected_not_overflowing(small):
    _edit(small / "facilities.csv", "2100000.0", "1e308")
    problems = problems_of(small)
    assert problems[["file", "row", "column", "value"]].values.tolist() == [["facilities.csv", 2, "equipment_value_yuan", "1e308"]]


def test_rows_are_counted_past_blank_lines_and_multiline_cells(small):
    path = small / "schools.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[1] = lines[1].replace("东风小学", '"东风\n小学"')  # P1's name spans lines 2-3
    lines.insert(2, "\n")  # blank line 4
    lines[3] = lines[3].replace("town", "城镇")  # P2 now on line 5
    path.write_text("".join(lines), encoding="utf-8")
    problems = problems_of(small)
    assert problems[["file", "row", "column", "value"]].values.tolist() == [["schools.csv", 5, "area_type", "城镇"]]


def test_ragged_row_is_located(small):
    _edit(small / "facilities.csv", "J1,3700.0", "J1,3,700.0")
    problems = problems_of(small)
    assert ("facilities.csv", 5) in set(zip(problems["file"], problems["row"]))
    assert problems["rule"].str.contains("fields but the header has").any()


@pytest.mark.parametrize("content", [b"", b"\n \n", b"# only a comment\n"])
def test_empty_files_are_problems(small, content):
    (small / "facilities.csv").write_bytes(content)
    problems = problems_of(small)
    assert problems["file"].tolist()[0] == "facilities.csv"


def test_undecodable_file_names_the_encoding_to_use(small):
    path = small / "schools.csv"
    path.write_bytes(path.read_bytes().replace("西河".encode(), b"\xff\xfe"))
    problems = problems_of(small)
    assert problems[["file", "row"]].values.tolist() == [["schools.csv", 3]]
    assert "UTF-8" in problems["rule"].iloc[0]


def test_folders_and_corrupt_workbooks_named_like_tables(small):
    (small / "sections.csv").unlink()
    (small / "sections.csv").mkdir()
    (small / "附表.xlsx").write_bytes(b"")
    (small / "old.xlsx").write_bytes(b"PK\x03\x04 not really a zip")
    problems = problems_of(small)
    assert set(problems["file"]) == {"sections.csv", "附表.xlsx", "old.xlsx"}
    assert not problems["rule"].str.startswith("missing table").any()


def _workbook_with(tmp_path: Path, edit) -> Path:
    folder = tmp_path / "wb" / "2022Q4"
    folder.mkdir(parents=True)
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, frame in small_district().items():
        sheet = book.create_sheet(name)
        sheet.append(list(frame.columns))
        for record in frame.itertuples(index=False):
            sheet.append([None if v == "" else v for v in record])
    edit(book)
    book.save(folder / "data.xlsx")
    return folder


@pytest.mark.parametrize("value", ["N/A", "NULL", "=B2*2", "#DIV/0!"])
def test_workbook_placeholders_and_formulas_without_value_are_located(tmp_path, value):
    def edit(book):
        cell = book["facilities"].cell(row=3, column=4)  # P2 outdoor sports area
        cell.value = value
        if value.startswith("#"):
            cell.data_type = "e"

    problems = problems_of(_workbook_with(tmp_path, edit))
    assert problems[["file", "row", "column"]].values.tolist() == [["data.xlsx[facilities]", 3, "outdoor_sports_area_m2"]]


def test_workbook_title_rows_are_skipped_and_rows_stay_excel_rows(tmp_path):
    def edit(book):
        sheet = book["sections"]
        sheet.insert_rows(1, amount=2)
        sheet["A1"] = "北辰区学段情况表"
        sheet.merge_cells("A1:J1")
        sheet["A2"] = "单位：人"
        sheet.cell(row=5, column=5).value = -3  # P2 teachers, Excel row 5

    problems = problems_of(_workbook_with(tmp_path, edit))
    assert problems[["file", "row", "column"]].values.tolist() == [["data.xlsx[sections]", 5, "teachers"]]


def test_a_header_that_cannot_be_found_is_named_by_its_row(small):
    path = small / "facilities.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[0] = ",".join(f"列{i}" for i in range(lines[0].count(",") + 1)) + "\n"  # nothing like a header
    path.write_text("北辰区办学条件统计表\n" + "".join(lines), encoding="utf-8")
    problems = problems_of(small)
    mine = problems[problems["file"] == "facilities.csv"]
    assert len(mine) == 1 and mine["row"].iloc[0] == 1
    assert "no column of table 'facilities'" in mine["rule"].iloc[0] and "school_id or 学校代码" in mine["rule"].iloc[0]
