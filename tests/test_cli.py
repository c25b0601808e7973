"""The command line end to end: evaluate writes CSV + XLSX; invalid data exit 2."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import SAMPLE

from balance_metrics import evaluate_resources, load_period


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "balance_metrics", *args], capture_output=True, text=True, cwd=cwd)


def sample_period() -> Path:
    periods = sorted(p for p in SAMPLE.glob("20*") if p.is_dir())
    if not periods:
        pytest.skip("sample data not generated")
    return SAMPLE / "2022Q4"


def test_evaluate_sample_data(tmp_path):
    period = sample_period()
    out = tmp_path / "out"
    proc = run_cli("evaluate", str(period), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "小学" in proc.stdout and "sections pass" in proc.stdout
    expected = evaluate_resources(load_period(period))
    for name in ("sections", "verdicts", "balance"):
        raw = (out / f"{name}.csv").read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf"), "CSV must carry a UTF-8 BOM for Excel"
    balance = pd.read_csv(out / "balance.csv", encoding="utf-8-sig")
    assert balance["cv"].tolist() == pytest.approx(expected.balance["cv"].tolist())
    sheets = pd.read_excel(out / "evaluation.xlsx", sheet_name=None, engine="openpyxl")
    assert {"各校指标", "各校判定", "差异系数"} <= set(sheets)  # Chinese by default (--lang en: table names)
    assert len(sheets["各校判定"]) == len(expected.verdicts)


def test_evaluate_with_standard_name(district_dir, tmp_path):
    proc = run_cli("evaluate", str(district_dir), "--standard", "beichen-2021", "--out", str(tmp_path / "o"))
    assert proc.returncode == 0, proc.stderr
    assert "beichen-2021" in proc.stdout


def test_evaluate_without_workbook_writes_the_same_csvs_and_no_xlsx(district_dir, tmp_path):
    both, csv_only = tmp_path / "both", tmp_path / "csv"
    assert run_cli("evaluate", str(district_dir), "--out", str(both)).returncode == 0
    proc = run_cli("evaluate", str(district_dir), "--out", str(csv_only), "--no-workbook")
    assert proc.returncode == 0, proc.stderr
    assert not (csv_only / "evaluation.xlsx").exists() and (both / "evaluation.xlsx").is_file()
    csvs = sorted(p.name for p in both.glob("*.csv"))
    assert csvs == sorted(p.name for p in csv_only.glob("*.csv")) and "问题清单.csv" in csvs
    for name in ("balance.csv", "items.csv", "问题清单.csv"):
        assert (csv_only / name).read_bytes() == (both / name).read_bytes()


def test_invalid_period_exits_2_and_writes_nothing(district_dir, tmp_path):
    bad = tmp_path / "bad" / "2022Q4"
    shutil.copytree(district_dir, bad)
    sections = bad / "sections.csv"
    sections.write_text(sections.read_text(encoding="utf-8").replace("P2,primary,400", "P2,primary,-400"), encoding="utf-8")
    out = tmp_path / "out"
    proc = run_cli("evaluate", str(bad), "--out", str(out))
    assert proc.returncode == 2
    assert "sections.csv" in proc.stderr and "students" in proc.stderr and "-400" in proc.stderr
    assert "must not be negative" in proc.stderr
    assert not out.exists()


def test_unknown_standard_exits_2(district_dir, tmp_path):
    proc = run_cli("evaluate", str(district_dir), "--standard", "nowhere", "--out", str(tmp_path / "o"))
    assert proc.returncode == 2
    assert "unknown standard" in proc.stderr


def test_standards_command():
    proc = run_cli("standards")
    assert proc.returncode == 0 and "beichen-2021" in proc.stdout


def test_a_closed_pipe_keeps_the_invalid_data_exit_status(tmp_path):
    # Every number of every section unreadable: ≈ 600 problems, more than a pipe holds,
    # so the CLI is still writing when the reader (as `2>&1 | head -1`) goes away.
    period = tmp_path / "2022Q4"
    shutil.copytree(sample_period(), period)
    sections = pd.read_csv(period / "sections.csv", dtype=str, encoding="utf-8-sig", keep_default_na=False)
    numeric = [c for c in sections.columns if c not in ("school_id", "stage")]
    sections[numeric] = "x"
    sections.to_csv(period / "sections.csv", index=False, encoding="utf-8-sig")
    proc = subprocess.Popen([sys.executable, "-m", "balance_metrics", "evaluate", str(period)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    first = proc.stderr.readline().decode("utf-8")
    proc.stderr.close()
    assert proc.wait(timeout=120) == 2
    assert "invalid input" in first
