"""Reading CSV and XLSX tables with English or Chinese names."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import small_district, write_period

from balance_metrics import evaluate_resources, load_period
from balance_metrics.contract.schema import TABLES


def to_chinese(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    table = TABLES[name]
    out = frame.rename(columns={c.name: c.zh for c in table.columns})
    for col in table.columns:
        if col.choices and col.zh in out:
            out[col.zh] = out[col.zh].map(lambda v: col.choices.get(v, v))
    return out


def test_xlsx_with_chinese_sheets_headers_and_values(tmp_path):
    folder = tmp_path / "2022Q4"
    folder.mkdir()
    with pd.ExcelWriter(folder / "统计报表.xlsx") as writer:
        pd.DataFrame({"说明": ["合成数据"]}).to_excel(writer, sheet_name="说明", index=False)
        for name, frame in small_district().items():
            to_chinese(name, frame).to_excel(writer, sheet_name=TABLES[name].zh, index=False)
    dataset = load_period(folder)
    assert set(dataset.schools["school_type"]) >= {"primary", "nine_year", "special_education"}
    assert dataset.sources["sheet"].tolist() == ["办学条件", "学校", "学段"]
    csv = evaluate_resources(load_period(write_period(tmp_path / "csv" / "2022Q4", small_district())))
    xlsx = evaluate_resources(dataset)
    pd.testing.assert_frame_equal(csv.balance, xlsx.balance)


def test_xlsx_problem_rows_are_excel_rows(tmp_path):
    folder = tmp_path / "p"
    folder.mkdir()
    tables = small_district()
    tables["sections"].loc[2, "teachers"] = -3
    with pd.ExcelWriter(folder / "data.xlsx") as writer:
        for name, frame in tables.items():
            frame.to_excel(writer, sheet_name=name, index=False)
    with pytest.raises(Exception) as info:
        load_period(folder)
    row = info.value.problems.iloc[0]
    assert (row["file"], row["row"], row["column"]) == ("data.xlsx[sections]", 4, "teachers")


def test_equipment_in_wan_is_converted(tmp_path):
    tables = small_district()
    fac = tables["facilities"]
    tables["facilities"] = fac.assign(equipment_value_wan=fac["equipment_value_yuan"] / 10_000).drop(columns="equipment_value_yuan")
    dataset = load_period(write_period(tmp_path / "w", tables))
    assert dataset.facilities.set_index("school_id").loc["P1", "equipment_value_yuan"] == pytest.approx(2_100_000)


def test_comment_lines_skipped_and_rows_counted(tmp_path):
    folder = write_period(tmp_path / "c", small_district())
    path = folder / "sections.csv"
    path.write_text("# 合成数据 synthetic\n" + path.read_text(encoding="utf-8").replace("P2,primary,400,10,30", "P2,primary,400,10,abc"), encoding="utf-8")
    with pytest.raises(Exception) as info:
        load_period(folder)
    row = info.value.problems.iloc[0]
    assert (row["file"], row["row"], row["column"]) == ("sections.csv", 4, "teachers")


def test_unused_column_is_a_warning(tmp_path):
    tables = small_district()
    tables["schools"]["备注"] = "x"
    dataset = load_period(write_period(tmp_path / "u", tables))
    assert "备注" in set(dataset.warnings["column"])


def test_sources_have_hashes_and_row_counts(district_dir):
    sources = load_period(district_dir).sources.set_index("table")
    assert sources.loc["sections", "rows"] == 9
    assert len(sources.loc["schools", "sha256"]) == 64
