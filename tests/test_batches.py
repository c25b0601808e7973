"""Report batches: evaluated once and handed to every notebook, warm kernels
that forget the previous report, one font subset per batch, incremental
reruns, and the Dask executor (a 2-worker LocalCluster).

Builds on the report set of ``test_reporting`` (district + two schools, HTML +
PDF, rendered once per session) and keeps its own batches tiny.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from conftest import REPO
from test_reporting import (  # noqa: F401 - fixtures
    PERIOD,
    copy_sample,
    rendered,
    run_cli,
    shared_root,
    soup,
)

from balance_metrics.reporting import context as report_context
from balance_metrics.reporting.batch import render_reports
from balance_metrics.reporting.font_subsets import load_subset
from balance_metrics.reporting.kernels import process_kernel
from balance_metrics.reporting.presentation import VOLATILE_CLASS
from balance_metrics.reporting.render import COLD_ENV, render_one
from balance_metrics.reporting.tasks import ReportTask, failed_row
from balance_metrics.standard.loader import load_standard

SCHOOL_NB = REPO / "notebooks" / "school_report.ipynb"


def _without_volatile(html: str) -> str:
    return re.sub(rf'<span class="{VOLATILE_CLASS}">[^<]*</span>', "", html)


def _without_font(html: str) -> str:
    return re.sub(r'<style data-balance-metrics="font">.*?</style>', "", html, count=1, flags=re.S)


def _cells(path: Path) -> list[tuple]:
    """Executed notebook cells without papermill's times and the parameters."""
    nb = nbformat.read(path, as_version=4)
    return [
        (c.cell_type, c.source, c.get("execution_count"), json.dumps(c.get("outputs", []), sort_keys=True))
        for c in nb.cells
        if not {"injected-parameters", "parameters"} & set(c.metadata.get("tags", []))
        and "provenance" not in c.source  # the provenance block holds the run times
    ]


def _task(data: Path, out: Path, school: str, **extra) -> ReportTask:
    return ReportTask(
        kind="school", period=PERIOD, school_id=school, school_name="", data_dir=str(data), standard="national-2017",
        out_dir=str(out), formats=("html",), notebook=str(SCHOOL_NB), **extra,
    )  # fmt: skip


# --------------------------------------------------------------------------
# Evaluate once
# --------------------------------------------------------------------------


def test_context_cache_round_trip_and_checks(rendered, tmp_path):
    data = rendered["data"]
    ctx = report_context.load_context(data, PERIOD)
    path, sha = report_context.write_context_cache(ctx, tmp_path)
    again = report_context.load_context(data, PERIOD, cache=path, cache_sha256=sha)
    for name, frame in ctx.evaluation.tables().items():
        pd.testing.assert_frame_equal(again.evaluation.tables()[name], frame, obj=name)
    pd.testing.assert_frame_equal(again.panel.balance, ctx.panel.balance)
    with pytest.raises(report_context.ContextCacheError, match="expected"):
        report_context.load_context(data, PERIOD, cache=path, cache_sha256="0" * 64)
    with pytest.raises(report_context.ContextCacheError, match="SHA-256"):
        report_context.load_context(data, PERIOD, cache=path)
    with pytest.raises(report_context.ContextCacheError, match="period"):
        report_context.load_context(data, "2022Q3", cache=path, cache_sha256=sha)
    with pytest.raises(report_context.ContextCacheError, match="standard"):
        report_context.load_context(data, PERIOD, "beichen-2021", cache=path, cache_sha256=sha)


def test_cached_warm_report_equals_cold_report_computed_by_hand(rendered, tmp_path, monkeypatch):
    """Same report: cold kernel evaluating by itself, vs. tenth-like in a warm
    kernel that just ran another report and a notebook that changed every
    piece of state it could, reading the batch's context file."""
    data, (first, second) = rendered["data"], rendered["schools"]
    ctx = report_context.load_context(data, PERIOD, load_standard("national-2017"))
    cache, sha = report_context.write_context_cache(ctx, tmp_path / "batch")

    monkeypatch.setenv(COLD_ENV, "1")
    cold = render_one(_task(data, tmp_path / "cold", first))
    monkeypatch.delenv(COLD_ENV)
    assert cold["status"] == "rendered", cold["error"]

    cached = {"context_cache": str(cache), "context_sha256": sha}
    kernel = process_kernel(SCHOOL_NB.parent)
    assert render_one(_task(data, tmp_path / "other", second, **cached))["status"] == "rendered"
    polluter = nbformat.v4.new_notebook()
    polluter.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    polluter.cells = [nbformat.v4.new_code_cell(
        "import os, matplotlib, numpy as np, pandas as pd\n"
        "matplotlib.rcParams['font.size'] = 31; matplotlib.rcParams['axes.unicode_minus'] = True\n"
        "pd.set_option('display.precision', 1); np.seterr(all='raise')\n"
        "os.environ['BM_POLLUTED'] = '1'; os.chdir('/'); school_id = 'NOPE'; ctx = None; report = None\n"
    )]  # fmt: skip
    nbformat.write(polluter, tmp_path / "polluter.ipynb")
    kernel.execute(tmp_path / "polluter.ipynb", tmp_path / "polluted.ipynb", {})
    runs = kernel.runs
    warm = render_one(_task(data, tmp_path / "warm", first, **cached))
    assert warm["status"] == "rendered", warm["error"]
    assert kernel.runs == runs + 1, "rendered in the same warm kernel"

    cold_html = Path(cold["paths"]["html"]).read_text(encoding="utf-8")
    warm_html = Path(warm["paths"]["html"]).read_text(encoding="utf-8")
    assert str(cache) in warm_html and "本报告自行读取并评估数据" in cold_html
    # Without a batch font each report embeds a subset of its own text, which
    # here includes the (volatile) context source: compare the rest.
    assert _without_font(_without_volatile(warm_html)) == _without_font(_without_volatile(cold_html))
    assert _cells(Path(warm["paths"]["notebook"])) == _cells(Path(cold["paths"]["notebook"]))
    record = json.loads(Path(warm["paths"]["provenance"]).read_text(encoding="utf-8"))
    assert record["parameters"]["context_cache"] == str(cache) and record["parameters"]["context_sha256"] == sha


# --------------------------------------------------------------------------
# One font per batch
# --------------------------------------------------------------------------


def test_batch_shares_one_font_subset(rendered):
    out = rendered["out"]
    fonts = list((out / ".batch").glob("*.otf"))
    assert len(fonts) == 1
    subset = load_subset(fonts[0])
    records = [json.loads(p.read_text(encoding="utf-8")) for p in out.rglob("*.provenance.json")]
    assert {r["extra"]["font_subset"] for r in records} == {fonts[0].name}
    import base64

    embedded = base64.b64encode(subset.data).decode("ascii")
    for name in ["district.html", *(f"schools/{s}.html" for s in rendered["schools"])]:
        assert embedded in (out / name).read_text(encoding="utf-8"), name


# --------------------------------------------------------------------------
# Incremental reruns
# --------------------------------------------------------------------------


def test_rerun_skips_unchanged_and_redoes_what_changed(rendered, tmp_path):
    out = tmp_path / "reports"
    shutil.copytree(rendered["out"], out / PERIOD)
    args = ["report", "--period", PERIOD, "--data-dir", rendered["data"], "--schools", *rendered["schools"],
            "--format", "html,pdf", "--jobs", "1", "--out", out]  # fmt: skip
    before = {p: p.stat().st_mtime_ns for p in (out / PERIOD).rglob("*.html") if p.name != "index.html"}
    proc = run_cli(*args)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "本次生成 0 份" in proc.stdout and "跳过 3 份" in proc.stdout
    assert {p: p.stat().st_mtime_ns for p in before} == before, "nothing rewritten"
    assert "未变化" in soup(out / PERIOD / "index.html").get_text()

    school = rendered["schools"][0]
    (out / PERIOD / "schools" / f"{school}.pdf").unlink()
    proc = run_cli(*args)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "本次生成 1 份" in proc.stdout and "跳过 2 份" in proc.stdout
    assert (out / PERIOD / "schools" / f"{school}.pdf").is_file()
    assert (out / PERIOD / "district.html").stat().st_mtime_ns == before[out / PERIOD / "district.html"]

    proc = run_cli(*args[:-4], "--no-district", "--format", "html,pdf", "--jobs", "1", "--out", out, "--force")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "本次生成 2 份" in proc.stdout and "跳过" not in proc.stdout


def test_changed_input_renders_again(rendered, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(rendered["data"], data)
    out = tmp_path / "reports"
    shutil.copytree(rendered["out"], out / PERIOD)
    school = rendered["schools"][0]
    tasks = dict(period=PERIOD, data_dir=data, out_dir=out, schools=[school], formats="html,pdf", district=False,
                 progress=False, processed_dir=None)  # fmt: skip
    # Another data folder is another input: rendered again.
    run = render_reports(jobs=1, **tasks)
    assert list(run.reports["status"]) == ["rendered"]
    assert render_reports(jobs=1, **tasks).reports["status"].tolist() == ["skipped"]
    sections = data / PERIOD / "sections.csv"
    sections.write_text(sections.read_text(encoding="utf-8") + "\n", encoding="utf-8")  # same rows, new bytes
    assert render_reports(jobs=1, **tasks).reports["status"].tolist() == ["rendered"]


# --------------------------------------------------------------------------
# Dask
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=50) as local:  # fmt: skip
        yield local


def test_dask_batch_same_outputs_and_failure_isolation(rendered, shared_root, cluster, tmp_path):
    data = copy_sample(shared_root / "data")
    bad_data = tmp_path / "data-bad"
    shutil.copytree(data, bad_data)
    bad, good = rendered["schools"]
    schools_csv = bad_data / PERIOD / "schools.csv"
    text = schools_csv.read_text(encoding="utf-8")
    name = re.search(rf"^{re.escape(bad)},([^,]*),", text, re.M).group(1)
    schools_csv.write_text(text.replace(f"{bad},{name},", f"{bad},{name}\ue000,", 1), encoding="utf-8")

    run = render_reports(PERIOD, bad_data, tmp_path / "bad", schools=[bad, good], formats="html", district=False,
                         executor="dask", scheduler=cluster.scheduler_address, progress=False, processed_dir=None)  # fmt: skip
    status = dict(zip(run.reports["school_id"], run.reports["status"], strict=True))
    assert status == {bad: "failed", good: "rendered"}
    assert "U+E000" in run.failed.iloc[0]["error"]
    assert (tmp_path / "bad" / PERIOD / "notebooks" / f"school_{bad}.failed.ipynb").is_file()
    assert not (tmp_path / "bad" / PERIOD / "schools" / f"{bad}.html").exists()
    assert not [p for p in (tmp_path / "bad").rglob(".*") if p.is_file()], "no temporary file left behind"

    run = render_reports(PERIOD, rendered["data"], tmp_path / "good", schools=[good], formats="html,pdf",
                         district=False, executor="dask", scheduler=cluster.scheduler_address, progress=False,
                         processed_dir=None)  # fmt: skip
    assert run.passed and run.executor == "dask"
    for suffix in ("html",):
        dask_html = (tmp_path / "good" / PERIOD / "schools" / f"{good}.{suffix}").read_text(encoding="utf-8")
        pool_html = (rendered["out"] / "schools" / f"{good}.{suffix}").read_text(encoding="utf-8")
        assert _without_volatile(dask_html) == _without_volatile(pool_html)
    assert (tmp_path / "good" / PERIOD / "schools" / f"{good}.pdf").stat().st_size > 10_000


def test_scheduler_needs_dask_executor(rendered, tmp_path):
    proc = run_cli("report", "--period", PERIOD, "--data-dir", rendered["data"], "--scheduler", "tcp://127.0.0.1:1",
                   "--out", tmp_path, timeout=120)  # fmt: skip
    assert proc.returncode == 2 and "--executor dask" in proc.stderr


def test_skipped_reports_are_not_sent_to_workers(rendered, tmp_path, monkeypatch):
    out = tmp_path / "reports"
    shutil.copytree(rendered["out"], out / PERIOD)
    sent = []

    def fake_run(_self, tasks, *_args, **_kwargs):
        sent.extend(tasks)
        return [failed_row(t, "", status="rendered") for t in tasks]

    monkeypatch.setattr("balance_metrics.reporting.executors.Workers.run", fake_run)
    run = render_reports(PERIOD, rendered["data"], out, schools=rendered["schools"], formats="html,pdf", jobs=1,
                         progress=False, processed_dir=None)  # fmt: skip
    assert sent == [] and run.passed and len(run.skipped) == 3
    assert "跳过 3 份" in run.summary()
    forced = render_reports(PERIOD, rendered["data"], out, schools=rendered["schools"][:1], formats="html", jobs=1,
                            progress=False, processed_dir=None, district=False, force=True)  # fmt: skip
    assert [t.school_id for t in sent] == rendered["schools"][:1] and forced.reports["status"].tolist() == ["rendered"]
    assert all(t.context_cache and t.font_file and len(t.render_key) == 64 for t in sent)


def test_many_districts_are_refused_clearly(rendered, tmp_path, monkeypatch):
    from balance_metrics.reporting import batch

    real = batch.load_period

    def with_districts(folder):
        dataset = real(folder)
        dataset.tables["schools"] = dataset.schools.assign(district_id="120113")
        return dataset

    monkeypatch.setattr(batch, "load_period", with_districts)
    with pytest.raises(batch.ReportError, match="district"):
        render_reports(PERIOD, rendered["data"], tmp_path, formats="html", jobs=1, progress=False, processed_dir=None)
    assert not (tmp_path / PERIOD / "district.html").exists()
