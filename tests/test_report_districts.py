"""End to end: ``balance-metrics report --districts`` on a period holding two districts.

The sample district twice (120113 北辰区 as is, 120114 东丽区 with fewer key teachers
and less equipment: ``test_districts.two_districts``); one school report per district.
The CLI writes each district's set under ``<period>/<district_id>/`` and a province
index ranking the districts; the test opens what it wrote.
"""

from __future__ import annotations

from urllib.parse import unquote

import pytest
from bs4 import BeautifulSoup
from conftest import SAMPLE
from pypdf import PdfReader
from test_districts import two_districts
from test_reporting import run_cli

from balance_metrics import evaluate, load_period
from balance_metrics.contract.schema import STAGES
from balance_metrics.reporting.presentation import format_number

PERIOD = "2022Q4"
SCHOOLS = {"120113": "A-BC-P05", "120114": "B-BC-J01"}
NAMES = {"120113": "北辰区", "120114": "东丽区"}


def soup(path):
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


@pytest.fixture(scope="module")
def province(tmp_path_factory):
    root = tmp_path_factory.mktemp("report-districts")
    folder, _alone = two_districts(root, PERIOD)
    out = root / "reports"
    proc = run_cli("report", "--period", PERIOD, "--data-dir", folder.parent, "--out", out, "--districts", "all",
                   "--schools", *SCHOOLS.values(), "--jobs", "2")  # fmt: skip
    return {"data": folder.parent, "out": out / PERIOD, "proc": proc, "evaluation": evaluate(load_period(folder))}


def test_every_district_gets_its_report_set(province):
    proc, out = province["proc"], province["out"]
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "4/4" in proc.stdout and "2 个区县" in proc.stdout
    for district_id, school_id in SCHOOLS.items():
        folder = out / district_id
        for name in ("district.html", "district.pdf", "district.provenance.json", "index.html",
                     f"schools/{school_id}.html", f"schools/{school_id}.pdf", f"notebooks/school_{school_id}.ipynb"):  # fmt: skip
            assert (folder / name).is_file(), f"{district_id}/{name} missing"
        # Only this district's school, and no one-district layout at the period level.
        assert [p.name for p in (folder / "schools").glob("*.html")] == [f"{school_id}.html"]
    assert not (out / "district.html").exists() and not (out / "schools").exists()


def test_district_reports_are_about_their_district(province):
    out, evaluation = province["out"], province["evaluation"]
    shown = {}
    for district_id, name in NAMES.items():
        page = soup(out / district_id / "district.html")
        assert name in page.find("h1").get_text()
        other = NAMES["120114" if district_id == "120113" else "120113"]
        assert other not in page.find("header").get_text()
        # The CVs shown are this district's own (the two districts differ in R2 and R6).
        decimals = evaluation.standard.display_decimals
        cvs = {}
        for table in page.select("table.bm-balance"):
            stage_label = table.find("caption").get_text().split("：")[0]
            headers = [th.get_text(strip=True) for th in table.select("thead th")]
            for row in table.select("tbody tr"):
                cells = dict(zip(headers, (td.get_text(strip=True) for td in row.find_all("td")), strict=True))
                cvs[(stage_label, cells["指标"])] = cells["差异系数"]
        balance = evaluation.district(district_id).resources.balance
        assert cvs == {(STAGES[r["stage"]], r["indicator"]): format_number(r["cv"], decimals) for r in balance.to_dict("records")}
        shown[district_id] = cvs
        pdf = PdfReader(out / district_id / "district.pdf").pages[0].extract_text() or ""
        assert name in pdf
    assert shown["120113"] != shown["120114"]
    school = soup(out / "120114" / "schools" / "B-BC-J01.html")
    assert "东丽区" in school.find("header").get_text() and "B-BC-J01" in school.find("h1").get_text()


def test_province_index_ranks_the_districts_with_working_links(province):
    out, evaluation = province["out"], province["evaluation"]
    page = soup(out / "index.html")
    rows = page.select("table.bm-province tbody tr")
    ranking = evaluation.summary()
    assert len(rows) == len(ranking) == 2
    headers = [th.get_text(strip=True) for th in page.select("table.bm-province thead th")]
    for row, expected in zip(rows, ranking.to_dict("records"), strict=True):
        cells = dict(zip(headers, (td.get_text(strip=True) for td in row.find_all("td")), strict=True))
        assert cells["排名"] == str(expected["rank"])
        assert cells["区县"] == NAMES[expected["district_id"]] and cells["区县代码"] == expected["district_id"]
        assert cells["具备申报条件"] == ("是" if expected["passed"] else "否")
        assert cells["差异系数超限"] == str(expected["cv_failing"])
        assert cells["未达标学校（学段）"] == f"{expected['sections_failing']}/{expected['sections']}"
        assert cells["本次生成"] == "2/2 份就绪"
        links = [unquote(a["href"]) for a in row.select("a")]
        district_id = expected["district_id"]
        assert set(links) == {f"{district_id}/index.html", f"{district_id}/district.html", f"{district_id}/district.pdf"}
        assert all((out / link).is_file() for link in links)
    # Each district's own index links its reports, relative to its folder.
    for district_id, school_id in SCHOOLS.items():
        links = [unquote(a["href"]) for a in soup(out / district_id / "index.html").select("a")]
        assert f"schools/{school_id}.html" in links and "district.pdf" in links
        assert all((out / district_id / link).is_file() for link in links)


def test_bad_district_choices_exit_2_with_a_clear_message(province, tmp_path):
    data = province["data"]
    common = ["report", "--period", PERIOD, "--data-dir", data, "--out", tmp_path / "r", "--jobs", "1"]
    proc = run_cli(*common, "--districts", "120113", "999999", timeout=300)
    assert proc.returncode == 2
    assert "unknown district id(s) 999999" in proc.stderr and "120113, 120114" in proc.stderr
    proc = run_cli(*common, timeout=300)
    assert proc.returncode == 2 and "holds 2 districts" in proc.stderr and "--districts all" in proc.stderr
    proc = run_cli(*common, "--districts", "120113", "--schools", "B-BC-J01", timeout=300)
    assert proc.returncode == 2 and "B-BC-J01" in proc.stderr and "not in the selected district" in proc.stderr
    assert not (tmp_path / "r" / PERIOD / "index.html").exists()
    # A one-district period: ids make no sense there (``all`` changes nothing).
    proc = run_cli("report", "--period", PERIOD, "--data-dir", SAMPLE, "--out", tmp_path / "s", "--districts", "120113",
                   timeout=300)  # fmt: skip
    assert proc.returncode == 2 and "holds one district" in proc.stderr


def test_a_notebook_run_by_hand_evaluates_its_district_with_the_same_numbers(province):
    from pandas.testing import assert_frame_equal

    from balance_metrics.reporting.context import load_context

    ctx = load_context(province["data"], PERIOD, district="120114")
    mine = province["evaluation"].district("120114")
    assert (ctx.district_id, ctx.district_name, ctx.panel.periods) == ("120114", "东丽区", (PERIOD,))
    # The district's rows of the province's panel: its own CVs, without district_id.
    assert_frame_equal(ctx.panel.balance.drop(columns="period"),
                       mine.resources.balance.drop(columns="district_id", errors="ignore"), check_dtype=False)
    assert set(ctx.dataset.schools["district_id"]) == {"120114"}
    assert_frame_equal(ctx.resources.balance, mine.resources.balance)
    assert_frame_equal(ctx.evaluation.items, mine.items)
    with pytest.raises(ValueError, match="holds 2 districts"):
        load_context(province["data"], PERIOD)
    with pytest.raises(ValueError, match="unknown district '999999'"):
        load_context(province["data"], PERIOD, district="999999")
    with pytest.raises(ValueError, match="holds one district"):
        load_context(SAMPLE, PERIOD, district="120114", with_panel=False)


def test_province_run_writes_the_district_aware_panel_and_each_report_its_trends(province):
    import pandas as pd

    processed = province["data"].parent / "processed" / "monitoring"
    balance = pd.read_csv(processed / "balance.csv", dtype={"district_id": str})
    assert set(balance["district_id"]) == set(NAMES) and (balance["period"] == PERIOD).all()
    assert not (processed / "monitoring.xlsx").exists()  # a province's panel: CSV only
    for district_id in NAMES:
        text = (province["out"] / district_id / "district.html").read_text(encoding="utf-8")
        assert f"纳入趋势分析的期次：{PERIOD}" in text and "本报告未加载多期数据" not in text
