"""Outputs are safe and whole: ids as file names, bad --out, exit codes, evaluate's tables as one set."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import REPO, small_district, write_period

from balance_metrics import load_period
from balance_metrics.common.errors import DataValidationError
from balance_metrics.common.paths import OutputError, child
from balance_metrics.common.staging import MANIFEST, recover, write_set
from balance_metrics.contract.ids import file_name_rule
from balance_metrics.reporting.batch import ReportTask


def run_cli(*args: str | Path, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "balance_metrics", *map(str, args)], capture_output=True, text=True, cwd=REPO, timeout=timeout)


def with_ids(tmp_path: Path, ids: dict[str, str]) -> Path:
    """The small district with school ids renamed (old -> new) in every table."""
    tables = small_district()
    for name, frame in tables.items():
        for column in ("school_id", "parent_school_id"):
            if column in frame:
                frame[column] = frame[column].replace(ids)
    return write_period(tmp_path / "data" / "2022Q4", tables)


# ---------------------------------------------------------------------------
# ids used as file names
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    ["a/b", "../x", "..", ".", ".hidden", "/etc/x", "C:\\x", "a\\b", "CON", "nul.txt", "com1", "x.", "a:b", "a*b", "t\tab", "x" * 101],
)
def test_unsafe_ids_are_validation_errors(tmp_path, bad):
    folder = with_ids(tmp_path, {"P3": bad})
    with pytest.raises(DataValidationError) as info:
        load_period(folder)
    problems = info.value.problems
    ids = problems[problems["rule"].str.contains("file name")]
    assert ids[["file", "row", "column", "value"]].values.tolist() == [["schools.csv", 4, "school_id", bad]]


@pytest.mark.parametrize(("first", "second"), [("bc-p01", "BC-P01"), ("Ｘ1", "x1")])
def test_ids_naming_the_same_file_are_validation_errors(tmp_path, first, second):
    folder = with_ids(tmp_path, {"P2": first, "P3": second})
    with pytest.raises(DataValidationError) as info:
        load_period(folder)
    problems = info.value.problems
    assert problems[["row", "value"]].values.tolist() == [[4, second]]
    assert first in problems["rule"].iloc[0]


def test_dotted_ids_keep_their_own_report_files(tmp_path):
    folder = with_ids(tmp_path, {"P2": "X.1", "P3": "X.2"})
    assert {"X.1", "X.2"} <= set(load_period(folder).schools["school_id"])
    assert file_name_rule("X.1") is None
    paths = {
        sid: ReportTask(kind="school", period="2022Q4", school_id=sid, school_name="", data_dir="", standard="", out_dir=str(tmp_path), formats=("html",), notebook="").path("html")
        for sid in ("X.1", "X.2")
    }
    assert paths == {"X.1": tmp_path / "schools" / "X.1.html", "X.2": tmp_path / "schools" / "X.2.html"}


@pytest.mark.parametrize("name", ["", ".", "..", "a/b", "../b", "a\\b"])
def test_report_paths_never_leave_their_folder(tmp_path, name):
    with pytest.raises(OutputError):
        child(tmp_path, name)


# ---------------------------------------------------------------------------
# bad --out: one line, exit 2
# ---------------------------------------------------------------------------


def _bad_outs(tmp_path: Path) -> list[Path]:
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    return [a_file, a_file / "below", Path("/proc/balance_metrics_out")]


def test_evaluate_bad_out_is_one_line_exit_2(district_dir, tmp_path):
    for out in _bad_outs(tmp_path):
        proc = run_cli("evaluate", district_dir, "--out", out)
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("output error:"), proc.stderr
        assert "Traceback" not in proc.stderr


def test_report_bad_out_is_one_line_exit_2(district_dir, tmp_path):
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    proc = run_cli("report", "--period", "2022Q4", "--data-dir", district_dir.parent, "--schools", "none", "--format", "html", "--out", a_file)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("output error:"), proc.stderr


def test_exit_codes_are_documented():
    help_text = run_cli("--help").stdout
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for text in (help_text, readme):
        assert "0" in text and "some reports failed" in text and "2" in text
    assert "exit status" in help_text


# ---------------------------------------------------------------------------
# evaluate writes its tables as one set
# ---------------------------------------------------------------------------


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def _other_district(tmp_path: Path) -> Path:
    tables = small_district()
    tables["sections"].loc[0, "students"] = 950
    return write_period(tmp_path / "other" / "2022Q3", tables)


def test_rerun_replaces_the_whole_set(district_dir, tmp_path):
    out = tmp_path / "out"
    assert run_cli("evaluate", district_dir, "--out", out).returncode == 0
    assert json.loads((out / MANIFEST).read_text(encoding="utf-8"))["period"] == district_dir.name
    (out / "stale_table.csv").write_text("from an older run\n")
    assert run_cli("evaluate", _other_district(tmp_path), "--out", out).returncode == 0
    assert not (out / "stale_table.csv").exists()
    assert json.loads((out / MANIFEST).read_text(encoding="utf-8"))["period"] == "2022Q3"
    assert sorted(p.name for p in out.parent.iterdir()) == ["2022Q4", "other", "out"], "no staging folder left"


def test_evaluate_refuses_a_folder_of_other_files(district_dir, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.docx").write_text("precious")
    proc = run_cli("evaluate", district_dir, "--out", out)
    assert proc.returncode == 2 and "thesis.docx" in proc.stderr
    assert [p.name for p in out.iterdir()] == ["thesis.docx"]


KILLED_WRITER = """
import sys, time
from balance_metrics import cli
real = cli.write_tables
def slow(tables, folder, *args, **kwargs):
    real(dict(list(tables.items())[:3]), folder)  # part of the set is on disk ...
    print("WRITING", folder, flush=True)
    time.sleep(120)  # ... when the parent kills us
    return real(tables, folder, *args, **kwargs)
cli.write_tables = slow
sys.exit(cli.main(sys.argv[1:]))
"""


def test_killed_evaluate_leaves_the_previous_complete_set(district_dir, tmp_path):
    out = tmp_path / "out"
    assert run_cli("evaluate", district_dir, "--out", out).returncode == 0
    before = _digest(out)
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, "evaluate", str(_other_district(tmp_path)), "--out", str(out)],
        stdout=subprocess.PIPE, text=True, cwd=REPO, start_new_session=True,
    )  # fmt: skip
    try:
        line = proc.stdout.readline()
        assert line.startswith("WRITING"), line
        staging = Path(line.split(maxsplit=1)[1].strip())
        # Proof that the kill lands while the new set is being written.
        assert staging.parent == out.parent and len(list(staging.glob("*.csv"))) == 3
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert _digest(out) == before, "the previous set, complete and unmixed"
    assert staging.exists(), "the killed run's staging folder is beside, not inside, the output"
    assert run_cli("evaluate", _other_district(tmp_path), "--out", out).returncode == 0
    assert not staging.exists(), "the next run removes what the killed run left"
    assert json.loads((out / MANIFEST).read_text(encoding="utf-8"))["period"] == "2022Q3"


def test_kill_between_the_two_renames_is_recovered(tmp_path):
    out = tmp_path / "out"
    write_set(out, lambda f: [pd.DataFrame({"a": [1]}).to_csv(f / "a.csv") or f / "a.csv"])
    before = _digest(out)
    dead_pid = 2**22 + 12345  # above the default pid_max: no such process
    os.rename(out, out.parent / f".out.previous-{dead_pid}")  # the state a kill in the window leaves
    recover(out)
    assert _digest(out) == before
    write_set(out, lambda f: [pd.DataFrame({"a": [2]}).to_csv(f / "a.csv") or f / "a.csv"], expected=["a.csv"])
    assert _digest(out) != before and sorted(p.name for p in tmp_path.iterdir()) == ["out"]
