"""A seeded mutation fuzzer over copies of valid periods (used by tests and benchmarks).

Each case copies a valid period (the sample's 2022Q4, or a small random valid district
written as CSV files or as one workbook), applies one mutation of the kinds bureaus'
files really show (bad cells, dropped or renamed columns, ragged or cut rows, other
encodings, title rows, junk files in the folder ...) and loads it with ``load_period``.

Every case must end in a :class:`Dataset` or a :class:`DataValidationError` whose problems
name the mutated file; a mutation that makes a number invalid must be rejected at the
file, row and column it was made; a mutation that keeps the data valid (GBK, UTF-16, BOM,
title rows, 1,234 or full-width digits) must load and give the same values. ``run_case``
returns an :class:`Outcome`; ``Outcome.failure`` says what broke the contract, if anything.

Usage: ``run_case(seed, base, workdir)`` for one case, ``run_cases(seeds, workdir)`` for many.
"""

from __future__ import annotations

import codecs
import csv
import io
import random
import shutil
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from conftest import SAMPLE, small_district, write_period

from balance_metrics import load_period
from balance_metrics.common.errors import DataValidationError
from balance_metrics.contract.schema import TABLES

#: Invalid numbers that must be rejected wherever they are put in a number column.
INVALID_NUMBERS = (
    "abc", "-1", "-0.5", "1_000", "nan", "NaN", "inf", "-inf", "Infinity", "١٢", "۱۲", "1e19", "9" * 30,
    "N/A", "NULL", "12abc", "1,23", "12,34", "0x10", "1e308", "1.2.3", "²", "--", "1 000", "+-1",
)
#: Invalid only in a count column.
INVALID_COUNTS = ("1e3", "12.5", "1E2", "0.1")
KINDS = (
    "bad_cell", "number_forms", "blank_lines_then_bad", "multiline_then_bad", "comment_lines", "ragged_extra",
    "ragged_short", "title_rows_csv", "gbk", "utf16", "utf8_bom", "stray_byte", "cut_multibyte", "truncate",
    "empty_file", "header_only", "rename_column", "drop_column", "empty_column", "folder_as_table",
    "junk_workbook", "junk_other", "duplicate_row", "workbook_title_rows", "workbook_bad_cell",
    "workbook_formula", "workbook_huge_float",
)


@dataclass
class Expect:
    """What a mutation promises: ``fail`` at (file, row, column), ``load`` with equal values, or either."""

    file: str
    must: str = "either"  # "fail", "load" or "either"
    row: int | None = None
    column: str | None = None
    detail: str = ""


@dataclass(frozen=True)
class Outcome:
    seed: int
    base: str
    kind: str
    result: str  # "loaded", "rejected" or "crashed"
    failure: str  # "" when the case kept the contract
    detail: str


# ---------------------------------------------------------------------------
# base periods
# ---------------------------------------------------------------------------


def random_district(rng: random.Random) -> dict[str, pd.DataFrame]:
    """A small valid district: ``small_district()`` with some stand-alone schools left out."""
    tables = small_district()
    drop = {s for s in ("P2", "P3", "J1", "T1") if rng.random() < 0.3}
    return {name: frame[~frame["school_id"].isin(drop)].reset_index(drop=True) for name, frame in tables.items()}


def make_base(base: str, rng: random.Random, folder: Path) -> Path:
    """Write a valid period into ``folder`` (named 2022Q4 so it is a period label)."""
    folder.mkdir(parents=True)
    if base == "sample":
        for path in sorted((SAMPLE / "2022Q4").glob("*.csv")):
            shutil.copy(path, folder / path.name)
    else:
        write_period(folder, random_district(rng))
    return folder


# ---------------------------------------------------------------------------
# CSV helpers (base files have one physical line per record)
# ---------------------------------------------------------------------------


@dataclass
class CsvFile:
    path: Path
    comments: list[str]
    header: list[str]
    records: list[list[str]]

    @property
    def first_line(self) -> int:
        """Line number of the first record."""
        return len(self.comments) + 2

    def text(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(self.header)
        writer.writerows(self.records)
        return "".join(self.comments) + out.getvalue()

    def write(self, encoding: str = "utf-8") -> None:
        self.path.write_bytes(self.text().encode(encoding))


def read_csv_file(path: Path) -> CsvFile:
    lines = path.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    k = 0
    while k < len(lines) and lines[k].startswith("#"):
        k += 1
    rows = list(csv.reader(lines[k:]))
    return CsvFile(path, lines[:k], rows[0], rows[1:])


def _table(path: Path):
    return TABLES[path.stem]


def _csvs(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.csv"))


def _numeric_columns(cf: CsvFile) -> list[tuple[int, str]]:
    table = _table(cf.path)
    out = []
    for i, h in enumerate(cf.header):
        if h in table.names and table.column(h).kind in ("count", "amount"):
            out.append((i, table.column(h).kind))
    return out


def _pick_numeric_cell(rng: random.Random, folder: Path) -> tuple[CsvFile, int, int, str] | None:
    options = []
    for path in _csvs(folder):
        cf = read_csv_file(path)
        for i, kind in _numeric_columns(cf):
            for r, rec in enumerate(cf.records):
                if rec[i].strip():
                    options.append((path, r, i, kind))
    if not options:
        return None
    path, r, i, kind = rng.choice(options)
    return read_csv_file(path), r, i, kind


# ---------------------------------------------------------------------------
# mutations: each edits the folder and returns what must happen
# ---------------------------------------------------------------------------


def m_bad_cell(rng: random.Random, folder: Path, shift: Callable[[CsvFile, int], int] | None = None) -> Expect:
    cf, r, i, kind = _pick_numeric_cell(rng, folder)  # type: ignore[misc]
    token = rng.choice(INVALID_NUMBERS + (INVALID_COUNTS if kind == "count" else ()))
    cf.records[r][i] = token
    extra = shift(cf, r) if shift else 0
    cf.write()
    return Expect(cf.path.name, "fail", cf.first_line + r + extra, cf.header[i], token)


def m_blank_lines_then_bad(rng: random.Random, folder: Path) -> Expect:
    # Blank lines before the bad row move it down; the reported row must follow.
    n = rng.randint(1, 3)

    def shift(cf: CsvFile, r: int) -> int:
        at = rng.randint(0, r)
        for _ in range(n):
            cf.records.insert(at, [])
        return n

    return m_bad_cell(rng, folder, shift)


def m_multiline_then_bad(rng: random.Random, folder: Path) -> Expect:
    # A quoted cell spanning lines (e.g. a school name with a line break) above the bad row.
    def shift(cf: CsvFile, r: int) -> int:
        text_cols = [j for j, h in enumerate(cf.header) if h in _table(cf.path).names and _table(cf.path).column(h).kind == "text"]
        if not text_cols or r == 0:
            return 0
        above = rng.randint(0, r - 1)
        j = rng.choice(text_cols)
        cf.records[above][j] = cf.records[above][j] + "\n（续）"
        return 1

    return m_bad_cell(rng, folder, shift)


def m_number_forms(rng: random.Random, folder: Path) -> Expect:
    cf, r, i, kind = _pick_numeric_cell(rng, folder)  # type: ignore[misc]
    text = cf.records[r][i]
    form = rng.choice(["grouped", "full_width", "spaces", "dot_zero"])
    if form == "grouped" and "." not in text and len(text) > 3:
        new = f"{int(text):,}"
    elif form == "full_width":
        new = text.translate(str.maketrans("0123456789.", "０１２３４５６７８９．"))
    elif form == "dot_zero" and kind == "count":
        new = text + ".0"
    else:
        new = f" {text} "
    cf.records[r][i] = new
    cf.write()
    return Expect(cf.path.name, "load", detail=f"{cf.header[i]}={new!r} same as {text!r}")


def m_comment_lines(rng: random.Random, folder: Path) -> Expect:
    cf = read_csv_file(rng.choice(_csvs(folder)))
    cf.comments = ["# 说明：合成数据\n"] * rng.randint(1, 3) + ["\n"] * rng.randint(0, 2) + cf.comments
    cf.write()
    return Expect(cf.path.name, "load")


def m_ragged_extra(rng: random.Random, folder: Path) -> Expect:
    cf = read_csv_file(rng.choice(_csvs(folder)))
    if not cf.records:
        return Expect(cf.path.name)
    r = rng.randrange(len(cf.records))
    cf.records[r] = cf.records[r] + [rng.choice(["x", "1", "备注"])]
    cf.write()
    return Expect(cf.path.name, "fail", cf.first_line + r)


def m_ragged_short(rng: random.Random, folder: Path) -> Expect:
    cf = read_csv_file(rng.choice(_csvs(folder)))
    if not cf.records:
        return Expect(cf.path.name)
    r = rng.randrange(len(cf.records))
    cf.records[r] = cf.records[r][: rng.randint(1, len(cf.header) - 1)]
    cf.write()
    return Expect(cf.path.name, "fail", cf.first_line + r)


def m_title_rows_csv(rng: random.Random, folder: Path) -> Expect:
    cf = read_csv_file(rng.choice(_csvs(folder)))
    pad = [""] * (len(cf.header) - 1)
    cf.comments = cf.comments + [",".join(["北辰区义务教育学校基本情况统计表", *pad]) + "\n", ",".join(["单位：人、个、平方米、元", *pad]) + "\n"][: rng.randint(1, 2)]
    cf.write()
    return Expect(cf.path.name, "load")


def m_gbk(rng: random.Random, folder: Path) -> Expect:
    cf = read_csv_file(rng.choice(_csvs(folder)))
    try:
        cf.write("gbk")
    except UnicodeEncodeError:
        cf.write("gb18030")
    return Expect(cf.path.name, "load")


def m_utf16(rng: random.Random, folder: Path) -> Expect:
    # Excel's "Unicode text": UTF-16 LE with BOM, tab-separated, CRLF.
    cf = read_csv_file(rng.choice(_csvs(folder)))
    out = io.StringIO()
    writer = csv.writer(out, delimiter="\t", lineterminator="\r\n")
    writer.writerow(cf.header)
    writer.writerows(cf.records)
    cf.path.write_bytes(codecs.BOM_UTF16_LE + ("".join(cf.comments).replace("\n", "\r\n") + out.getvalue()).encode("utf-16-le"))
    return Expect(cf.path.name, "load")


def m_utf8_bom(rng: random.Random, folder: Path) -> Expect:
    cf = read_csv_file(rng.choice(_csvs(folder)))
    cf.write("utf-8-sig")
    return Expect(cf.path.name, "load")


def m_stray_byte(rng: random.Random, folder: Path) -> Expect:
    path = rng.choice(_csvs(folder))
    data = path.read_bytes()
    # Between characters (after an ASCII byte) so the damage is the stray byte itself.
    spots = [i for i in range(1, len(data)) if data[i - 1] < 0x80]
    at = rng.choice(spots)
    path.write_bytes(data[:at] + bytes([rng.choice([0xFF, 0xFE, 0x80, 0xC3])]) + data[at:])
    return Expect(path.name, "fail")


def m_cut_multibyte(rng: random.Random, folder: Path) -> Expect:
    paths = [p for p in _csvs(folder) if any(b >= 0xC0 for b in p.read_bytes())]
    if not paths:
        return Expect(_csvs(folder)[0].name)
    path = rng.choice(paths)
    data = path.read_bytes()
    at = rng.choice([i for i, b in enumerate(data) if b >= 0xC0])
    path.write_bytes(data[: at + 1])
    return Expect(path.name, "fail")


def m_truncate(rng: random.Random, folder: Path) -> Expect:
    path = rng.choice(_csvs(folder))
    data = path.read_bytes()
    cut = data[: rng.randrange(len(data))]
    path.write_bytes(cut)
    # Cut at a line end, the file is a valid shorter one: the problems (if any) are the
    # missing rows, reported where they are missed (schools needing sections ...).
    # Only a last line with fewer fields than the header is sure to be reported in this file:
    # a cut at a line end or inside the last field is a valid shorter file (a number cut
    # from 38 to 3 cannot be told), whose problems are the rows it lost, reported where missed.
    header = next((line for line in data.split(b"\n") if not line.startswith(b"#")), b"")
    last = cut.rsplit(b"\n", 1)[-1]
    short = last.strip() and not last.startswith(b"#") and last.count(b",") < header.count(b",") and b'"' not in last
    return Expect(path.name if short else "")


def m_empty_file(rng: random.Random, folder: Path) -> Expect:
    path = rng.choice(_csvs(folder))
    path.write_bytes(rng.choice([b"", b"\n\n  \n", b"# only a comment\n# and another\n", codecs.BOM_UTF8]))
    return Expect(path.name, "fail")


def m_header_only(rng: random.Random, folder: Path) -> Expect:
    cf = read_csv_file(rng.choice(_csvs(folder)))
    cf.records = []
    cf.write()
    return Expect(cf.path.name, "fail" if _table(cf.path).required else "either")


def _pick_column(rng: random.Random, folder: Path) -> tuple[CsvFile, int, bool]:
    cf = read_csv_file(rng.choice(_csvs(folder)))
    i = rng.randrange(len(cf.header))
    table = _table(cf.path)
    required = cf.header[i] in table.names and table.column(cf.header[i]).required
    return cf, i, required


def m_rename_column(rng: random.Random, folder: Path) -> Expect:
    cf, i, required = _pick_column(rng, folder)
    cf.header[i] = rng.choice([cf.header[i] + "x", cf.header[i].replace("_", " ") + " 1", "col" + str(i), "school id" if cf.header[i] == "school_id" else "它"])
    cf.write()
    return Expect(cf.path.name, "fail" if required else "either")


def m_drop_column(rng: random.Random, folder: Path) -> Expect:
    cf, i, required = _pick_column(rng, folder)
    del cf.header[i]
    for rec in cf.records:
        del rec[i]
    cf.write()
    return Expect(cf.path.name, "fail" if required else "either")


def m_empty_column(rng: random.Random, folder: Path) -> Expect:
    cf, i, required = _pick_column(rng, folder)
    for rec in cf.records:
        rec[i] = ""
    cf.write()
    return Expect(cf.path.name, "fail" if required and cf.records else "either")


def m_folder_as_table(rng: random.Random, folder: Path) -> Expect:
    path = rng.choice(_csvs(folder))
    path.unlink()
    path.mkdir()
    (path / "inside.txt").write_text("x")
    return Expect(path.name, "fail")


def m_junk_workbook(rng: random.Random, folder: Path) -> Expect:
    name = rng.choice(["附表.xlsx", "old.xlsx", "学段.xlsx"])
    path = folder / name
    how = rng.choice(["empty", "garbage", "folder", "csv_renamed"])
    if how == "empty":
        path.write_bytes(b"")
    elif how == "garbage":
        path.write_bytes(bytes(rng.randrange(256) for _ in range(rng.randint(1, 300))))
    elif how == "folder":
        path.mkdir()
    else:
        path.write_bytes(rng.choice(_csvs(folder)).read_bytes())
    return Expect(name, "fail")


def m_junk_other(rng: random.Random, folder: Path) -> Expect:
    (folder / rng.choice(["notes.txt", "readme.csv", "备份.csv", ".DS_Store"])).write_bytes(b"\xff\xfejunk,\x00")
    (folder / "旧数据").mkdir()
    return Expect("", "load")


def m_duplicate_row(rng: random.Random, folder: Path) -> Expect:
    cf = read_csv_file(rng.choice(_csvs(folder)))
    if cf.records:
        cf.records.insert(rng.randrange(len(cf.records)), list(rng.choice(cf.records)))
    cf.write()
    return Expect(cf.path.name)


# ---- workbooks -------------------------------------------------------------


def _to_workbook(folder: Path, title_rows: int, rng: random.Random) -> tuple[Path, dict[str, tuple[object, CsvFile, int]]]:
    """Move every CSV table into one workbook (sheets by Chinese name) with title rows."""
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    sheets = {}
    for path in _csvs(folder):
        cf = read_csv_file(path)
        table = _table(path)
        ws = book.create_sheet(table.zh)
        for t in range(title_rows):
            ws.append([f"北辰区{table.zh}情况表" if t == 0 else "单位：人、平方米、元"])
            if len(cf.header) > 1 and rng.random() < 0.5:
                ws.merge_cells(start_row=t + 1, start_column=1, end_row=t + 1, end_column=len(cf.header))
        ws.append(cf.header)
        kinds = [table.column(h).kind if h in table.names else "text" for h in cf.header]
        for rec in cf.records:
            ws.append([_typed_cell(v, k) for v, k in zip(rec, kinds)])
        sheets[path.stem] = (ws, cf, title_rows + 2)
        path.unlink()
    target = folder / "统计报表.xlsx"
    book.save(target)
    return target, sheets


def _typed_cell(text: str, kind: str) -> object:
    if text == "":
        return None
    if kind == "count":
        return int(text)
    if kind == "amount":
        return float(text)
    return text


def m_workbook_title_rows(rng: random.Random, folder: Path) -> Expect:
    path, _ = _to_workbook(folder, rng.randint(0, 3), rng)
    return Expect(path.name, "load")


def _workbook_edit(rng: random.Random, folder: Path, edit: Callable[[object], str]) -> Expect:
    import openpyxl

    path, sheets = _to_workbook(folder, rng.randint(0, 2), rng)
    options = []
    for name, (_ws, cf, first) in sheets.items():
        for i, kind in _numeric_columns(cf):
            options += [(name, r, i) for r in range(len(cf.records)) if cf.records[r][i].strip()]
    name, r, i = rng.choice(options)
    _ws, cf, first = sheets[name]
    book = openpyxl.load_workbook(path)
    cell = book[TABLES[name].zh].cell(row=first + r, column=i + 1)
    detail = edit(cell)
    book.save(path)
    return Expect(f"{path.name}[{TABLES[name].zh}]", "fail", first + r, cf.header[i], detail)


def m_workbook_bad_cell(rng: random.Random, folder: Path) -> Expect:
    def edit(cell) -> str:
        how = rng.choice(["N/A", "NULL", "#N/A", "error", "text"])
        if how == "error":
            cell.value = "#DIV/0!"
            cell.data_type = "e"
        else:
            cell.value = rng.choice(INVALID_NUMBERS) if how == "text" else how
        return str(cell.value)

    return _workbook_edit(rng, folder, edit)


def m_workbook_formula(rng: random.Random, folder: Path) -> Expect:
    # openpyxl saves formulas without a cached value, like a workbook never opened in Excel.
    def edit(cell) -> str:
        cell.value = "=SUM(A1:A2)"
        return "=SUM(A1:A2)"

    return _workbook_edit(rng, folder, edit)


def m_workbook_huge_float(rng: random.Random, folder: Path) -> Expect:
    def edit(cell) -> str:
        cell.value = rng.choice([1e308, 1e19, 1.5e16, -1e308])
        return str(cell.value)

    return _workbook_edit(rng, folder, edit)


MUTATIONS: dict[str, Callable[[random.Random, Path], Expect]] = {
    "bad_cell": m_bad_cell, "number_forms": m_number_forms, "blank_lines_then_bad": m_blank_lines_then_bad,
    "multiline_then_bad": m_multiline_then_bad, "comment_lines": m_comment_lines, "ragged_extra": m_ragged_extra,
    "ragged_short": m_ragged_short, "title_rows_csv": m_title_rows_csv, "gbk": m_gbk, "utf16": m_utf16,
    "utf8_bom": m_utf8_bom, "stray_byte": m_stray_byte, "cut_multibyte": m_cut_multibyte, "truncate": m_truncate,
    "empty_file": m_empty_file, "header_only": m_header_only, "rename_column": m_rename_column,
    "drop_column": m_drop_column, "empty_column": m_empty_column, "folder_as_table": m_folder_as_table,
    "junk_workbook": m_junk_workbook, "junk_other": m_junk_other, "duplicate_row": m_duplicate_row,
    "workbook_title_rows": m_workbook_title_rows, "workbook_bad_cell": m_workbook_bad_cell,
    "workbook_formula": m_workbook_formula, "workbook_huge_float": m_workbook_huge_float,
}
assert tuple(MUTATIONS) == KINDS


# ---------------------------------------------------------------------------
# running a case
# ---------------------------------------------------------------------------


def _core_values(dataset) -> dict[str, pd.DataFrame]:
    return {n: f.drop(columns=["_source", "_row"]).reset_index(drop=True) for n, f in dataset.tables.items()}


def check(expect: Expect, clean: Path, folder: Path, evaluate: bool) -> tuple[str, str, str]:
    """Load ``folder``; return (result, failure, detail)."""
    try:
        dataset = load_period(folder)
    except DataValidationError as error:
        problems = error.problems
        if expect.must == "load":
            return "rejected", "valid data rejected", str(error)[:500]
        names = problems["file"].astype(str)
        if expect.file and not names.str.startswith(expect.file).any():
            return "rejected", "error does not name the mutated file", f"{expect.file}: {str(error)[:500]}"
        if expect.row is not None:
            here = problems[(names == expect.file) & (problems["row"] == expect.row)]
            if expect.column is not None:
                here = here[here["column"] == expect.column]
            if here.empty:
                return "rejected", "error not at the mutated row/column", f"{expect.file}:{expect.row} [{expect.column}] = {expect.detail!r}: {str(error)[:600]}"
        return "rejected", "", str(problems["rule"].iloc[0])[:120]
    except Exception:  # noqa: BLE001 - the point: any other exception is the failure
        return "crashed", "exception other than DataValidationError", traceback.format_exc()[-1500:]
    if expect.must == "fail":
        return "loaded", "invalid data accepted", f"{expect.file}:{expect.row} [{expect.column}] = {expect.detail!r}"
    if expect.must == "load":
        mine, theirs = _core_values(dataset), _core_values(load_period(clean))
        for name, frame in theirs.items():
            try:
                pd.testing.assert_frame_equal(mine[name], frame, check_dtype=False)
            except AssertionError as error:
                return "loaded", "values differ from the clean files", f"{name}: {str(error)[:300]}"
    if evaluate:
        from balance_metrics.evaluation.evaluate import evaluate as run

        try:
            run(dataset)
        except Exception:  # noqa: BLE001
            return "crashed", "evaluate raised on a loaded dataset", traceback.format_exc()[-1500:]
    return "loaded", "", ""


def run_case(seed: int, base: str, workdir: Path, kind: str | None = None, evaluate: bool = False) -> Outcome:
    """Run one case: copy ``base`` ("sample" or "small"), mutate it with seed ``seed``, load it."""
    rng = random.Random(f"{base}-{seed}")
    kind = kind or rng.choice(KINDS)
    case = workdir / f"{base}-{seed}"
    clean = make_base(base, random.Random(seed), case / "clean" / "2022Q4")
    folder = case / "mutated" / "2022Q4"
    shutil.copytree(clean, folder)
    try:
        expect = MUTATIONS[kind](rng, folder)
        result, failure, detail = check(expect, clean, folder, evaluate)
    finally:
        shutil.rmtree(case, ignore_errors=True)
    return Outcome(seed, base, kind, result, failure, detail)


def run_cases(seeds: Iterable[int], workdir: Path, base: str = "small", evaluate: bool = False) -> list[Outcome]:
    return [run_case(seed, base, workdir, evaluate=evaluate) for seed in seeds]


def summary(outcomes: list[Outcome]) -> pd.DataFrame:
    """Counts of outcomes by mutation kind: cases, loaded, rejected, crashed, contract failures."""
    frame = pd.DataFrame([o.__dict__ for o in outcomes])
    frame["failed"] = frame["failure"] != ""
    table = frame.pivot_table(index="kind", columns="result", values="seed", aggfunc="count", fill_value=0)
    for col in ("loaded", "rejected", "crashed"):
        if col not in table:
            table[col] = 0
    table = table[["loaded", "rejected", "crashed"]]
    table.insert(0, "cases", table.sum(axis=1))
    table["failures"] = frame.groupby("kind")["failed"].sum()
    table.loc["total"] = table.sum()
    return table.astype(int)
