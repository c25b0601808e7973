"""The fast loading path gives exactly what the careful path gives.

- ``parse_column`` (bytes classified whole-column with numpy) against ``parse_cell``
  cell by cell on random cells (hypothesis), values and rules;
- the fast CSV reader (``contract/fastcsv.py``) against the careful reader on every
  mutation kind of the fuzz corpus and on random CSV texts: wherever the fast path
  accepts a file, the raw table, the parsed frame and the problems are identical,
  and it does accept the plain files (the comparison is not vacuous).
"""

from __future__ import annotations

import random
import shutil

import numpy as np
import pandas as pd
import pytest
from fuzzing import KINDS, MUTATIONS, make_base
from hypothesis import given, settings
from hypothesis import strategies as st

from balance_metrics.contract.cells import parse_cell
from balance_metrics.contract.columns import nonblank, parse_column
from balance_metrics.contract.fastcsv import read_csv_fast
from balance_metrics.contract.schema import TABLES, Column
from balance_metrics.contract.tables import find_tables, parse_table, read_csv_table

# Characters that make cells interesting: digits, points, commas, signs, exponents,
# white space that str.strip removes (ASCII, no-break, ideographic), full-width and
# Arabic-Indic digits, letters, Chinese, a NUL.
ALPHABET = "0123456789" * 3 + ".,-+eE _ \t\u00a0\u3000\u2028\u0085１２．，٣abN/A是否真y中文\x00"
CELL = st.one_of(
    st.text(alphabet=ALPHABET, max_size=20),
    st.integers(0, 10**16).map(str),
    st.floats(0, 1e13, allow_nan=False).map(repr),
    st.sampled_from(["", " ", "  12 ", "1,234", "1.0", "00012", "1e3", "true", "FALSE", "是", "primary", "小学", "urban", "0.1" + "1" * 20]),
)
KINDS_OF_COLUMN = [
    Column("n", "n", "count"), Column("n", "n", "count", required=False),
    Column("a", "a", "amount"), Column("a", "a", "amount", required=False),
    Column("b", "b", "bool", required=False), Column("i", "i", "id"), Column("t", "t", "text", required=False),
    TABLES["sections"].column("stage"), TABLES["schools"].column("area_type"),
]


def _plain(value: object) -> object:
    if value is pd.NA:
        return None
    return value.item() if isinstance(value, np.generic) else value


@settings(max_examples=150, deadline=None)
@given(st.lists(CELL, max_size=30), st.sampled_from(range(len(KINDS_OF_COLUMN))))
def test_parse_column_equals_the_cell_parser(texts, which):
    col = KINDS_OF_COLUMN[which]
    values, problems = parse_column(col, texts)
    assert len(values) == len(texts)
    for i, text in enumerate(texts):
        value, rule = parse_cell(col, text)
        got = _plain(values[i])
        assert problems.get(i) == rule, (text, problems.get(i), rule)
        assert got == value and type(got) is type(value) or (got is None and value is None), (text, got, value)
    assert list(problems) == sorted(problems)


def test_numbers_are_exact_at_fifteen_digits_and_beyond():
    amounts = ["999999999999999", "0.1", "0.30000000000000004", "123456789012.345", "1.000000000000001",
               "9007199254740993", "0.1234567890123456789", "999999999999.99"]
    values, problems = parse_column(Column("a", "a", "amount"), amounts)
    for i, text in enumerate(amounts):
        if i in problems:
            assert parse_cell(Column("a", "a", "amount"), text)[1] == problems[i]
        else:
            assert values[i] == float(text)
    counts, _ = parse_column(Column("n", "n", "count"), ["999999999", "1000000000", "0000000000007"])
    assert list(counts) == [999_999_999, 1_000_000_000, 7]


def test_nonblank_sees_unicode_white_space():
    assert nonblank(["", " ", "\u3000", "\u00a0x", "a", "\t\n"]).tolist() == [False, False, False, True, True, False]


def _raw(raw):
    return (raw.headers, [list(c) for c in raw.columns], [int(r) for r in raw.rows], raw.header_row, raw.encoding, raw.bad)


def _compare_folder(folder) -> int:
    """Read ``folder`` both ways; assert they agree; return how many CSV tables the fast path read."""
    tables = list(TABLES.values())
    fast, fast_problems = find_tables(folder, tables)
    slow, slow_problems = find_tables(folder, tables, fast=False)
    assert fast_problems == slow_problems
    assert fast.keys() == slow.keys()
    for name in fast:
        assert _raw(fast[name]) == _raw(slow[name]), name
        frame, problems, unused = parse_table(fast[name])
        frame_slow, problems_slow, unused_slow = parse_table(slow[name])
        pd.testing.assert_frame_equal(frame, frame_slow)
        assert (problems, unused) == (problems_slow, unused_slow)
    hits = 0
    for path in folder.glob("*.csv"):
        table = next((t for t in tables if t.name == path.stem), None)
        if table is not None and path.is_file():
            hits += read_csv_fast(path, path.name, lambda cells: 1) is not None
    return hits


@pytest.mark.parametrize("base", ["small", "sample"])
def test_fast_and_careful_readers_agree_on_the_fuzz_corpus(base, tmp_path):
    hits = 0
    kinds = KINDS if base == "small" else KINDS[::3]  # the sample period is larger: every third kind
    for i, kind in enumerate(kinds):
        seed = 500 + i
        folder = tmp_path / f"{seed}" / "2022Q4"
        make_base(base, random.Random(seed), folder)
        if i == 0:
            hits += _compare_folder(folder)  # the clean files too
        MUTATIONS[kind](random.Random(f"{base}-{seed}"), folder)
        hits += _compare_folder(folder)
        shutil.rmtree(folder.parent)
    assert hits > 2 * len(kinds)  # most plain files went through the fast path


LINE_PIECES = st.sampled_from(["P1", " P2 ", "primary", "小学", "", " ", "\u3000", "12", "1,234", "-1", "#x", "a\"b", "１２",
                              "a\u2028b", "x\x0by\x85", "c\rd", "\u00a0", "5\t"])


@settings(max_examples=120, deadline=None)
@given(st.lists(st.lists(LINE_PIECES, min_size=0, max_size=5), max_size=8),
       st.sampled_from(["\n", "\r\n"]), st.sampled_from([",", "\t"]), st.booleans(), st.sampled_from(["", "# note\n", "标题\n\n"]))
def test_fast_and_careful_readers_agree_on_random_csv_text(tmp_path_factory, records, newline, delimiter, trailing, preamble):
    header = ["school_id", "stage", "students", "classes", "teachers"]
    lines = [delimiter.join(header)] + [delimiter.join(r + [""] * max(0, 5 - len(r)) if len(r) % 2 else r) for r in records]
    text = preamble.replace("\n", newline) + newline.join(lines) + (newline if trailing else "")
    folder = tmp_path_factory.mktemp("csv") / "2022Q4"
    folder.mkdir()
    path = folder / "sections.csv"
    path.write_bytes(text.encode("utf-8"))
    table = TABLES["sections"]
    fast, fast_problems = read_csv_table(table, path)
    slow, slow_problems = read_csv_table(table, path, fast=False)
    assert fast_problems == slow_problems
    assert (fast is None) == (slow is None)
    if fast is not None:
        assert _raw(fast) == _raw(slow)


def test_calamine_and_openpyxl_read_a_workbook_alike(tmp_path):
    import datetime as dt

    from conftest import small_district

    from balance_metrics.contract.workbooks import open_workbook

    folder = tmp_path / "2022Q4"
    folder.mkdir()
    tables = small_district()
    evidence = pd.DataFrame({"item_id": ["G1", "G2"], "status": ["met", "not_met"], "reference": ["文件1", "文件2"],
                             "reviewer": ["张三", "李四"], "date": [dt.datetime(2022, 12, 1), dt.date(2022, 11, 30)]})
    with pd.ExcelWriter(folder / "统计报表.xlsx") as writer:
        for name, frame in {**tables, "evidence": evidence}.items():
            frame.to_excel(writer, sheet_name=TABLES[name].zh, index=False, startrow=1 if name == "sections" else 0)
    book, _ = open_workbook(folder / "统计报表.xlsx")
    assert book is not None and book._fast is not None and all(book._plain.values())  # calamine reads these sheets
    book.close()
    _compare_folder(folder)
    frame = parse_table(find_tables(folder, list(TABLES.values()))[0]["evidence"])[0]
    assert frame["date"].tolist() == ["2022-12-01", "2022-11-30"]


@settings(max_examples=100, deadline=None)
@given(st.lists(CELL.filter(lambda t: "\n" not in t and "\x00" not in t), max_size=30), st.sampled_from(range(len(KINDS_OF_COLUMN))))
def test_parse_column_on_file_bytes_equals_parse_column_on_texts(texts, which):
    from balance_metrics.contract.columns import ByteColumn

    col = KINDS_OF_COLUMN[which]
    buf = np.frombuffer("\n".join(texts).encode("utf-8", "surrogatepass"), np.uint8)
    ends = np.concatenate([np.flatnonzero(buf == 10), [len(buf)]]) if texts else np.zeros(0, np.int64)
    starts = np.concatenate([[0], ends[:-1] + 1]) if texts else np.zeros(0, np.int64)
    spans = ByteColumn(buf, starts, ends)
    assert list(spans) == texts
    values, problems = parse_column(col, spans)
    expected, expected_problems = parse_column(col, texts)
    assert problems == expected_problems
    pd.testing.assert_extension_array_equal(values, expected)
