"""End to end: ``balance-metrics report`` renders HTML/PDF reports that are
complete, show the library's numbers, hide code, fail loudly on unrenderable
text, are reproducible byte for byte and never half-written.

One report set (district + two schools, HTML + PDF, ``--jobs 2``) is rendered
once per test session, even under pytest-xdist (file lock), and shared.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup
from conftest import REPO, SAMPLE
from pypdf import PdfReader

from balance_metrics import evaluate_resources, load_period
from balance_metrics.reporting.presentation import VOLATILE_CLASS, format_number
from balance_metrics.reporting.batch import ReportTask, render_one
from balance_metrics.contract.schema import STAGES

PERIOD = "2022Q4"
DISTRICT_HEADINGS = [
    "总体结论", "资源配置七项指标（分学段差异系数与限值）", "各校达标情况", "问题清单", "趋势", "差距与整改",
    "达标路径", "数据质量提示", "数据来源与可追溯性",
]  # fmt: skip
SCHOOL_HEADINGS = [
    "总体结论", "各项指标与标准值、全区对比", "历史变化", "差距与需求", "全区达标路径中的本校任务", "数据质量提示",
    "数据来源与可追溯性",
]  # fmt: skip
CLI_TIMEOUT_S = 900


def run_cli(*args: str | Path, timeout: int = CLI_TIMEOUT_S, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "balance_metrics", *map(str, args)],
        capture_output=True, text=True, timeout=timeout, cwd=REPO, **kwargs,
    )  # fmt: skip


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Serialise across pytest-xdist workers: the first renders, the others reuse."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture(scope="module")
def shared_root(request, tmp_path_factory) -> Path:
    if not (SAMPLE / PERIOD).is_dir():
        pytest.skip("sample data not generated")
    base = tmp_path_factory.getbasetemp()
    # Under xdist every worker has its own basetemp inside one session folder.
    root = (base.parent if hasattr(request.config, "workerinput") else base) / "reporting-e2e"
    root.mkdir(exist_ok=True)
    return root


def copy_sample(target: Path) -> Path:
    """A private copy of the sample data (it may be regenerated while tests run)."""
    with locked(target.with_name(target.name + ".lock")):
        if not target.exists():
            partial = target.with_name(target.name + ".partial")
            shutil.rmtree(partial, ignore_errors=True)
            shutil.copytree(SAMPLE, partial, ignore=shutil.ignore_patterns("*.md"))
            partial.rename(target)
    return target


def pick_schools(data: Path) -> list[str]:
    """A failing school and a combined (two-stage) school."""
    res = evaluate_resources(load_period(data / PERIOD))
    failing = res.verdicts.loc[~res.verdicts["passed"], "school_id"].iloc[0]
    stages = res.verdicts.groupby("school_id")["stage"].nunique()
    combined = next(s for s in stages[stages > 1].index if s != failing)
    return [failing, combined]


def render_once(root: Path, name: str, *args: str) -> dict:
    """Run the CLI once per session for ``name``; return its outcome."""
    with locked(root / f"{name}.lock"):
        done = root / f"{name}.json"
        if not done.exists():
            started = time.perf_counter()
            proc = run_cli("report", *args)
            done.write_text(
                json.dumps({"returncode": proc.returncode, "stdout": proc.stdout, "stderr": proc.stderr,
                            "seconds": time.perf_counter() - started}),
                encoding="utf-8",
            )  # fmt: skip
        return json.loads(done.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def rendered(shared_root) -> dict:
    data = copy_sample(shared_root / "data")
    schools = pick_schools(data)
    out = shared_root / "reports"
    outcome = render_once(
        shared_root, "main", "--period", "latest", "--data-dir", str(data), "--schools", *schools,
        "--format", "html,pdf", "--jobs", "2", "--out", str(out),
    )  # fmt: skip
    assert outcome["returncode"] == 0, outcome["stdout"] + outcome["stderr"]
    return {"data": data, "out": out / PERIOD, "schools": schools, **outcome}


@pytest.fixture(scope="module")
def library(rendered):
    return evaluate_resources(load_period(rendered["data"] / PERIOD))


def soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def pdf_text(path: Path) -> str:
    text = "".join(page.extract_text() or "" for page in PdfReader(path).pages)
    return re.sub(r"\s+", "", text)


# --------------------------------------------------------------------------
# The rendered set
# --------------------------------------------------------------------------


def test_every_output_is_written(rendered):
    out = rendered["out"]
    expected = ["district.html", "district.pdf", "district.provenance.json", "index.html", "notebooks/district.ipynb"]
    for school in rendered["schools"]:
        expected += [f"schools/{school}.html", f"schools/{school}.pdf", f"schools/{school}.provenance.json",
                     f"notebooks/school_{school}.ipynb"]  # fmt: skip
    missing = [name for name in expected if not (out / name).is_file()]
    assert not missing
    leftovers = [p.name for p in out.rglob(".*") if p.is_file()]
    assert not leftovers, f"temporary files left behind: {leftovers}"
    assert "3/3" in rendered["stdout"]


def test_monitoring_panel_is_written_to_processed(rendered):
    # The data folder is a private copy under tmp, so its ../processed is too.
    processed = rendered["data"].parent / "processed" / "monitoring"
    missing = [name for name in ("indicators.csv", "verdicts.csv", "balance.csv", "trends.csv", "progress.csv",
                                 "monitoring.xlsx") if not (processed / name).is_file()]  # fmt: skip
    assert not missing, f"panel tables missing from {processed}: {missing}"
    trends = (processed / "trends.csv").read_text(encoding="utf-8-sig")
    assert PERIOD in trends


def test_district_html_has_every_section_and_no_code(rendered):
    page = soup(rendered["out"] / "district.html")
    headings = [h.get_text(strip=True) for h in page.find_all("h2")]
    assert headings == DISTRICT_HEADINGS
    assert page.find("html")["lang"] == "zh-CN"
    text = page.get_text()
    assert "Traceback" not in text and "NBVAL_CHECK_OUTPUT" not in text
    assert not page.select(".input, .input_area, .prompt, .jp-InputArea, .jp-InputPrompt, .jp-OutputPrompt")
    assert not re.search(r"(In|Out)\s*\[\d*\]", text)
    assert "report.overview(ctx)" not in page.decode()
    # Charts are one embedded 200 dpi PNG each (no SVG copy any more: drawing every chart twice cost more
    # than WeasyPrint saved; docs/performance.md "SVG or PNG charts").
    images = page.select("figure.bm-figure img")
    assert images and all(img["src"].startswith("data:image/png;base64,") for img in images), "charts are embedded PNG"
    assert not page.select("figure.bm-figure img[src^='data:image/svg']") and not page.select("figure svg")
    style = page.find("style", attrs={"data-balance-metrics": "font"})
    assert style is not None and "@font-face" in style.text, "the Chinese font subset is embedded"


def test_district_cv_values_equal_the_library(rendered, library):
    page = soup(rendered["out"] / "district.html")
    decimals = library.standard.display_decimals
    shown = {}
    for table in page.select("table.bm-balance"):
        stage_label = table.find("caption").get_text().split("：")[0]
        headers = [th.get_text(strip=True) for th in table.select("thead th")]
        for row in table.select("tbody tr"):
            cells = dict(zip(headers, (td.get_text(strip=True) for td in row.find_all("td")), strict=True))
            shown[(stage_label, cells["指标"])] = cells["差异系数"]
    expected = {
        (STAGES[r["stage"]], r["indicator"]): format_number(r["cv"], decimals) for r in library.balance.to_dict("records")
    }
    assert shown == expected
    assert all(re.fullmatch(r"\d+\.\d{%d}" % decimals, v) for v in shown.values())


def test_district_verdict_table_lists_every_section(rendered, library):
    page = soup(rendered["out"] / "district.html")
    rows = page.select("table.bm-verdicts tbody tr")
    assert len(rows) == len(library.verdicts)
    failing = {r.find_all("td")[0].get_text() for r in rows if "bm-row-fail" in (r.get("class") or [])}
    assert failing == set(library.verdicts.loc[~library.verdicts["passed"], "school_id"])


def test_school_html(rendered, library):
    school = rendered["schools"][1]
    page = soup(rendered["out"] / "schools" / f"{school}.html")
    assert [h.get_text(strip=True) for h in page.find_all("h2")] == SCHOOL_HEADINGS
    rows = library.sections[library.sections["school_id"] == school]
    tables = page.select("table.bm-school-indicators")
    assert len(tables) == rows["stage"].nunique() == 2
    decimals = library.standard.display_decimals
    values = [td.get_text(strip=True) for t in tables for tr in t.select("tbody tr") for td in tr.find_all("td")[3:4]]
    assert values == [format_number(v, decimals) for v in rows.sort_values(["stage"], key=lambda s: s.map({"primary": 0, "junior": 1}), kind="stable")["value"]]
    assert "Traceback" not in page.get_text()


def test_pdf_has_headings_and_cv_values(rendered, library):
    text = pdf_text(rendered["out"] / "district.pdf")
    for heading in DISTRICT_HEADINGS:
        assert heading in text, heading
    decimals = library.standard.display_decimals
    for cv in library.balance["cv"]:
        assert format_number(cv, decimals) in text
    school_text = pdf_text(rendered["out"] / "schools" / f"{rendered['schools'][0]}.pdf")
    for heading in SCHOOL_HEADINGS:
        assert heading in school_text, heading


def test_provenance_sidecar(rendered):
    data = json.loads((rendered["out"] / "district.provenance.json").read_text(encoding="utf-8"))
    assert data["period"] == PERIOD and data["parameters"]["period"] == PERIOD
    assert data["standard"]["name"] == "national-2017"
    for entry in data["inputs"]:
        path = rendered["data"] / PERIOD / entry["file"]
        import hashlib

        assert entry["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert data["extra"]["outputs"]["html"] == "district.html"
    assert set(data["extra"]["timings_seconds"]) == {"execute", "html", "pdf"}
    assert "git_commit" in data["package"]
    html = soup(rendered["out"] / "district.html")
    assert data["inputs"][0]["sha256"] in html.get_text()


def test_index_links_every_report_with_verdicts(rendered, library):
    page = soup(rendered["out"] / "index.html")
    links = {a["href"] for a in page.find_all("a")}
    assert {"district.html", "district.pdf"} <= links
    for school in rendered["schools"]:
        assert {f"schools/{school}.html", f"schools/{school}.pdf"} <= links
    rows = page.select("table.bm-index tbody tr")
    assert len(rows) == library.verdicts["school_id"].nunique()
    assert "未达标" in page.get_text()


def test_executed_notebooks_keep_their_parameters(rendered):
    nb = nbformat.read(rendered["out"] / "notebooks" / f"school_{rendered['schools'][0]}.ipynb", as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected and rendered["schools"][0] in injected[0].source
    assert nb.metadata.kernelspec.name == "python3"


# --------------------------------------------------------------------------
# Reproducibility, failures, atomicity
# --------------------------------------------------------------------------


def _without_times(html: str) -> str:
    return re.sub(rf'<span class="{VOLATILE_CLASS}">[^<]*</span>', "", html)


def test_rerun_gives_byte_identical_html_apart_from_times(rendered, shared_root):
    again = shared_root / "reports-again"
    outcome = render_once(
        shared_root, "again", "--period", PERIOD, "--data-dir", str(rendered["data"]), "--schools",
        rendered["schools"][0], "--format", "html", "--jobs", "2", "--out", str(again),
    )  # fmt: skip
    assert outcome["returncode"] == 0, outcome["stdout"] + outcome["stderr"]
    for name in ("district.html", f"schools/{rendered['schools'][0]}.html", "index.html"):
        first = (rendered["out"] / name).read_text(encoding="utf-8")
        second = (again / PERIOD / name).read_text(encoding="utf-8")
        if name == "index.html":
            continue  # lists only this run's reports; checked for content elsewhere
        assert first != "" and _without_times(first) == _without_times(second), name


def test_unrenderable_character_fails_that_report_only(shared_root, rendered):
    data = shared_root / "data-bad-glyph"
    if not data.exists():
        shutil.copytree(rendered["data"], data)
        schools_csv = data / PERIOD / "schools.csv"
        text = schools_csv.read_text(encoding="utf-8")
        bad = rendered["schools"][0]
        name = load_period(rendered["data"] / PERIOD).schools.set_index("school_id").at[bad, "school_name"]
        schools_csv.write_text(text.replace(f"{bad},{name},", f"{bad},{name}\ue000,", 1), encoding="utf-8")
    bad, good = rendered["schools"]
    out = shared_root / "reports-bad-glyph"
    outcome = render_once(
        shared_root, "bad-glyph", "--period", PERIOD, "--data-dir", str(data), "--schools", bad, good,
        "--no-district", "--format", "html", "--jobs", "2", "--out", str(out),
    )  # fmt: skip
    assert outcome["returncode"] == 1, outcome["stdout"] + outcome["stderr"]
    assert "U+E000" in outcome["stdout"] and bad in outcome["stdout"]
    assert "1/2" in outcome["stdout"]
    assert (out / PERIOD / "schools" / f"{good}.html").is_file()
    assert not (out / PERIOD / "schools" / f"{bad}.html").exists()
    assert (out / PERIOD / "notebooks" / f"school_{bad}.failed.ipynb").is_file(), "kept for debugging"
    index = soup(out / PERIOD / "index.html").get_text()
    assert "本次生成失败的报告" in index and "U+E000" in index


def test_interrupted_render_leaves_the_old_report(rendered, tmp_path, monkeypatch):
    school = rendered["schools"][0]
    out = tmp_path / PERIOD
    shutil.copytree(rendered["out"], out)
    html, pdf = out / "schools" / f"{school}.html", out / "schools" / f"{school}.pdf"
    before = {p: p.read_bytes() for p in (html, pdf)}

    def interrupted(*_args, **_kwargs):
        raise KeyboardInterrupt  # the user presses Ctrl-C while the PDF renders

    monkeypatch.setattr("balance_metrics.reporting.pdf.render_pdf_bytes", interrupted)
    task = ReportTask(
        kind="school", period=PERIOD, school_id=school, school_name="", data_dir=str(rendered["data"]),
        standard="national-2017", out_dir=str(out), formats=("html", "pdf"),
        notebook=str(REPO / "notebooks" / "school_report.ipynb"),
    )  # fmt: skip
    with pytest.raises(KeyboardInterrupt):
        render_one(task)
    assert {p: p.read_bytes() for p in (html, pdf)} == before
    assert not [p for p in out.rglob(".*") if p.is_file()], "no temporary file left behind"


def _in_progress(folder: Path, before: set[Path]) -> list[Path]:
    """Hidden files (atomic temp files, executing notebooks) the run has created so far."""
    return [p for p in folder.rglob(".*") if p.is_file() and p not in before]


def test_killed_run_never_leaves_a_half_written_report(rendered, tmp_path):
    out = tmp_path / "reports"
    shutil.copytree(rendered["out"], out / PERIOD)
    old = {p: p.read_bytes() for p in (out / PERIOD).rglob("*.html")}
    existing = set((out / PERIOD).rglob(".*"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "balance_metrics", "report", "--period", PERIOD, "--data-dir", str(rendered["data"]),
         "--schools", *rendered["schools"], "--format", "html", "--jobs", "2", "--out", str(out)],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    writing: list[Path] = []
    try:
        deadline = time.monotonic() + 300
        while not writing and proc.poll() is None and time.monotonic() < deadline:
            writing = _in_progress(out / PERIOD, existing)
            time.sleep(0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    # The kill must land while a report is being written, or the test proves nothing.
    assert writing, "the run was killed before it wrote anything"
    for path, content in old.items():
        now = path.read_bytes()
        assert now == content or now.rstrip().endswith(b"</html>"), f"{path} is half-written"
    for path in (out / PERIOD).rglob("*.pdf"):
        assert PdfReader(path).pages, path


def test_invalid_data_exit_2_with_problems(rendered, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(rendered["data"] / PERIOD, data / PERIOD)
    sections = data / PERIOD / "sections.csv"
    lines = sections.read_text(encoding="utf-8").splitlines()
    header_at = next(i for i, line in enumerate(lines) if line.startswith("school_id"))
    cols = lines[header_at].split(",")
    row = lines[header_at + 1].split(",")
    row[cols.index("students")] = "-5"
    lines[header_at + 1] = ",".join(row)
    sections.write_text("\n".join(lines) + "\n", encoding="utf-8")
    proc = run_cli("report", "--period", PERIOD, "--data-dir", data, "--out", tmp_path / "out", timeout=120)
    assert proc.returncode == 2
    assert "students" in proc.stderr and "-5" in proc.stderr
    assert not (tmp_path / "out" / PERIOD / "district.html").exists()


def test_unknown_school_and_format_exit_2(rendered, tmp_path):
    proc = run_cli("report", "--period", PERIOD, "--data-dir", rendered["data"], "--schools", "NO-SUCH",
                   "--out", tmp_path, timeout=120)  # fmt: skip
    assert proc.returncode == 2 and "NO-SUCH" in proc.stderr
    proc = run_cli("report", "--period", PERIOD, "--data-dir", rendered["data"], "--format", "docx",
                   "--out", tmp_path, timeout=120)  # fmt: skip
    assert proc.returncode == 2 and "docx" in proc.stderr
    proc = run_cli("report", "--period", "2030Q1", "--data-dir", rendered["data"], "--out", tmp_path, timeout=120)
    assert proc.returncode == 2 and "2030Q1" in proc.stderr


# --------------------------------------------------------------------------
# The notebooks as committed
# --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["district_report", "school_report", "explore"])
def test_notebooks_are_commit_ready(name):
    nb = nbformat.read(REPO / "notebooks" / f"{name}.ipynb", as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "python3"
    params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        checked = "# NBVAL_CHECK_OUTPUT" in cell.source
        # Only nbval's checked cells keep their (plain-text) output, the reference
        # values, and an execution count (nbval skips cells without one).
        assert bool(cell.outputs) == checked, f"{name}: cell {cell.id} outputs"
        assert (cell.execution_count is not None) == checked, f"{name}: execution count in cell {cell.id}"
        for output in cell.outputs:
            assert output.output_type == "stream" and "execution_count" not in output
