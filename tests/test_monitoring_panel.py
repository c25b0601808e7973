"""How the monitoring panel is built: worker processes, the per-period cache,
many districts in one period, and plan targets without the full evaluation.

The panel must be the same however it is built: in this process or in
workers, evaluated or read back from the cache, for a province at once or for
each district alone.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import SAMPLE
from test_districts import two_districts
from test_monitoring import write_quarters

from balance_metrics import evaluate, evaluate_resources, load_period
from balance_metrics.analysis import monitoring
from balance_metrics.analysis.monitoring import build_panel, progress, section_changes, trends
from balance_metrics.evaluation.evaluate import evaluate_plan_targets

TABLES = ("schools", "indicators", "verdicts", "balance", "excluded", "changes", "plan_targets", "failed_periods",
          "warnings", "sources")


def assert_same_panel(a, b) -> None:
    assert a.periods == b.periods and a.plan_targets_available == b.plan_targets_available
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), obj=name)


@pytest.fixture(scope="module")
def quarters(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_quarters(tmp_path_factory.mktemp("quarters") / "raw")


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two quarters of the sample (a school opens, one changes type, name and
    stages between them), each as one period holding districts 120113 and
    120114, and as each district alone (``<tmp>/120113/2022Q2`` …)."""
    tmp = tmp_path_factory.mktemp("province")
    for period in ("2022Q2", "2022Q3"):
        two_districts(tmp, period)
    return tmp / "province", tmp


# -- workers -----------------------------------------------------------------------------------


def test_workers_give_the_same_panel(quarters):
    here = build_panel(quarters, "beichen-2021", jobs=1)
    workers = build_panel(quarters, "beichen-2021", jobs=2)
    assert_same_panel(here, workers)
    assert len(here.plan_targets) and set(here.plan_targets["period"]) == {"2022Q1", "2022Q2", "2022Q3"}


def test_sample_panel_with_workers_equals_one_process():
    periods = ["2022Q2", "2022Q3", "2022Q4"]  # the sample's schools change between these
    here = build_panel(SAMPLE, "beichen-2021", periods=periods, jobs=1)
    assert len(here.changes) > 0
    assert_same_panel(here, build_panel(SAMPLE, "beichen-2021", periods=periods, jobs=2))


def test_invalid_period_raises_from_a_worker(tmp_path):
    raw = write_quarters(tmp_path / "raw")
    (raw / "2022Q2" / "sections.csv").write_text("school_id,stage\nP1,primary\n", encoding="utf-8")
    with pytest.raises(Exception, match="period 2022Q2"):
        build_panel(raw, jobs=2, with_plan_targets=False)
    skipped = build_panel(raw, jobs=2, on_error="skip", with_plan_targets=False)
    assert skipped.periods == ("2022Q1", "2022Q3") and set(skipped.failed_periods["period"]) == {"2022Q2"}
    with pytest.raises(ValueError, match="jobs must be 1 or more"):
        build_panel(raw, jobs=0)


def test_workers_hand_pieces_over_as_files_and_leave_none(quarters, tmp_path, monkeypatch):
    """The pieces come back through files in a private folder, removed after the
    build and after a period fails in a worker."""
    monkeypatch.setattr(monitoring.panel, "HANDOVER_ROOT", str(tmp_path / "shm"))
    (tmp_path / "shm").mkdir()
    handed = []
    real = monitoring.panel._received
    monkeypatch.setattr(monitoring.panel, "_received", lambda result: handed.append(isinstance(result, Path)) or real(result))
    assert_same_panel(build_panel(quarters, "beichen-2021", jobs=1), build_panel(quarters, "beichen-2021", jobs=2))
    assert handed == [True, True, True] and list((tmp_path / "shm").iterdir()) == []
    raw = write_quarters(tmp_path / "raw")
    (raw / "2022Q2" / "sections.csv").write_text("school_id,stage\nP1,primary\n", encoding="utf-8")
    with pytest.raises(Exception, match="period 2022Q2"):
        build_panel(raw, jobs=2, with_plan_targets=False)
    assert list((tmp_path / "shm").iterdir()) == []
    monkeypatch.setattr(monitoring.panel, "HANDOVER_ROOT", str(tmp_path / "missing"))  # falls back to the temp folder
    assert build_panel(quarters, "beichen-2021", jobs=2).periods == ("2022Q1", "2022Q2", "2022Q3")


def test_a_handover_that_cannot_be_written_comes_through_the_pipe(quarters, tmp_path, monkeypatch):
    """A handover file that cannot be written (e.g. a full /dev/shm) is not an error:
    the pieces come back through the pipe."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")

    class Unwritable:
        name = str(blocker)  # every handover path lies under a file: writing fails in the worker

        def cleanup(self) -> None:
            pass

    monkeypatch.setattr(monitoring.panel, "_handover_folder", Unwritable)
    assert_same_panel(build_panel(quarters, "beichen-2021", jobs=1), build_panel(quarters, "beichen-2021", jobs=2))
    assert [p.name for p in tmp_path.iterdir()] == ["not-a-folder"]


# -- per-period cache ----------------------------------------------------------------------------


def test_cache_reads_periods_back_and_notices_changed_files(quarters, tmp_path, monkeypatch):
    store = tmp_path / "cache"
    first = build_panel(quarters, "beichen-2021", jobs=1, cache_dir=store)
    assert len(list(store.glob("period-*.pkl"))) == 3

    def no_evaluation(*args, **kwargs):
        raise AssertionError("a cached period was evaluated again")

    monkeypatch.setattr(monitoring.panel, "period_pieces", no_evaluation)
    assert_same_panel(first, build_panel(quarters, "beichen-2021", jobs=1, cache_dir=store))
    monkeypatch.undo()
    # Another standard is another key: evaluated, not read back.
    national = build_panel(quarters, "national-2017", jobs=1, cache_dir=store)
    assert len(list(store.glob("period-*.pkl"))) == 6
    assert_same_panel(national, build_panel(quarters, "national-2017", jobs=1))


def test_cache_misses_a_changed_period_and_rebuilds_a_truncated_entry(tmp_path):
    raw = write_quarters(tmp_path / "raw")
    store = tmp_path / "cache"
    build_panel(raw, jobs=1, cache_dir=store, with_plan_targets=False)
    sections = pd.read_csv(raw / "2022Q3" / "sections.csv")
    sections.loc[sections["school_id"] == "P2", "key_teachers"] = 2  # R2 0.5: P2 fails again
    sections.to_csv(raw / "2022Q3" / "sections.csv", index=False)
    for entry in store.glob("period-*.pkl"):
        if entry.stat().st_size > 0:
            entry.write_bytes(entry.read_bytes()[:100])  # truncated: must be rebuilt, not trusted
            break
    cached = build_panel(raw, jobs=1, cache_dir=store, with_plan_targets=False)
    assert_same_panel(cached, build_panel(raw, jobs=1, with_plan_targets=False))
    assert cached.verdicts.query("school_id == 'P2'")["passed"].tolist() == [True, False, False]


# -- plan targets without the items ----------------------------------------------------------------


def test_plan_targets_alone_equal_the_full_evaluation():
    dataset = load_period(SAMPLE / "2022Q4")
    full = evaluate(dataset, "beichen-2021")
    resources, targets = evaluate_plan_targets(dataset, "beichen-2021")
    assert len(targets) > 0
    pd.testing.assert_frame_equal(targets, full.plan_targets)
    pd.testing.assert_frame_equal(resources.verdicts, full.resources.verdicts)
    pd.testing.assert_frame_equal(resources.balance, full.resources.balance)


def test_national_panel_runs_no_plan_evaluation(quarters, monkeypatch):
    monkeypatch.setattr(monitoring.pieces, "plan_targets", lambda *a: pytest.fail("national-2017 has no plan targets"))
    panel = build_panel(quarters, "national-2017", jobs=1)
    assert panel.plan_targets_available and panel.plan_targets.empty


# -- many districts --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def province_panel(province):
    folder, _ = province
    return build_panel(folder, "beichen-2021", jobs=1)


def test_every_table_carries_the_district(province_panel):
    p = province_panel
    for name in ("schools", "indicators", "verdicts", "balance", "excluded", "changes", "plan_targets"):
        frame = getattr(p, name)
        assert list(frame.columns[:2]) == ["period", "district_id"], name
        assert set(frame["district_id"]) == {"120113", "120114"}, name
    assert p.district_ids == ["120113", "120114"]
    summary = p.summary()
    assert list(summary.columns[:3]) == ["period", "district_id", "stage"]
    # 2 periods x 2 districts x 2 stages, each stage with 7 CVs.
    assert len(summary) == 8 and (summary["indicators"] == 7).all()


@pytest.mark.parametrize("district_id", ["120113", "120114"])
def test_each_district_of_the_panel_equals_its_panel_alone(province, province_panel, district_id):
    _, tmp = province
    alone = build_panel(tmp / district_id, "beichen-2021", jobs=1)
    mine = province_panel.select(district_id)
    for name in ("schools", "indicators", "verdicts", "balance", "excluded", "changes", "plan_targets"):
        pd.testing.assert_frame_equal(getattr(mine, name), getattr(alone, name), obj=name, check_dtype=False)
    pd.testing.assert_frame_equal(trends(mine), trends(alone), check_dtype=False)
    pd.testing.assert_frame_equal(section_changes(mine), section_changes(alone), check_dtype=False)
    pd.testing.assert_frame_equal(progress(mine), progress(alone), check_dtype=False)


def test_derived_tables_per_district(province, province_panel):
    _, tmp = province
    t = trends(province_panel)
    assert list(t.columns[:3]) == ["district_id", "stage", "indicator"]
    alone = trends(build_panel(tmp / "120114", "beichen-2021", jobs=1))
    mine = t[t["district_id"] == "120114"].drop(columns="district_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(mine, alone, check_dtype=False)
    # 120114 has 3/4 of 120113's key teachers: its R2 district values are lower.
    r2 = t[(t["indicator"] == "R2") & (t["stage"] == "primary")].set_index(["period", "district_id"])["district_value"]
    assert r2[("2022Q3", "120114")] < r2[("2022Q3", "120113")]
    prog = progress(province_panel)
    assert list(prog.columns[:3]) == ["kind", "district_id", "target_id"]
    assert prog.groupby("district_id")["target_id"].apply(sorted).loc["120113"] == \
        prog.groupby("district_id")["target_id"].apply(sorted).loc["120114"]
    changes = province_panel.changes
    # In each district: P37 opens; P18 changes type, name and gains a stage.
    assert sorted(zip(changes["district_id"], changes["change"], changes["school_id"])) == sorted(
        (d, kind, f"{prefix}BC-{school}") for d, prefix in (("120113", "A-"), ("120114", "B-"))
        for kind, school in (("opened", "P37"), ("type_changed", "P18"), ("renamed", "P18"), ("stage_added", "P18")))
    assert (changes["school_id"].str[:2].map({"A-": "120113", "B-": "120114"}) == changes["district_id"]).all()
    with pytest.raises(KeyError, match="999999"):
        province_panel.select("999999")


def test_province_panel_with_workers_equals_one_process(province, province_panel):
    folder, _ = province
    assert_same_panel(province_panel, build_panel(folder, "beichen-2021", jobs=2))


def test_one_district_panel_has_no_district_column(quarters):
    panel = build_panel(quarters, "national-2017", jobs=1, with_plan_targets=False)
    assert all("district_id" not in getattr(panel, name).columns for name in TABLES)
    with pytest.raises(ValueError, match="holds one district"):
        panel.select("120113")
    direct = evaluate_resources(load_period(quarters / "2022Q3"), "national-2017").balance
    latest = panel.balance[panel.balance["period"] == "2022Q3"].drop(columns="period").reset_index(drop=True)
    pd.testing.assert_frame_equal(latest, direct)


def test_next_quarters_report_panel_re_reads_earlier_periods(tmp_path, monkeypatch):
    from balance_metrics.reporting.context import load_panel

    raw = write_quarters(tmp_path / "raw")
    monkeypatch.setenv("BALANCE_METRICS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("BALANCE_METRICS_NO_PANEL_CACHE", raising=False)
    load_panel(raw, "2022Q2", "beichen-2021")
    assert len(list((tmp_path / "processed" / "panel_periods").glob("period-*.pkl"))) == 2
    evaluated = []
    real = monitoring.panel.period_pieces
    monkeypatch.setattr(monitoring.panel, "period_pieces", lambda folder, label, *rest: evaluated.append(label) or real(folder, label, *rest))
    panel = load_panel(raw, "2022Q3", "beichen-2021")
    assert evaluated == ["2022Q3"]  # 2022Q1 and 2022Q2 read back
    assert_same_panel(panel, build_panel(raw, "beichen-2021", on_error="skip", jobs=1))


def test_a_linked_period_folder_keeps_its_own_label(quarters, tmp_path):
    """Period folders that are links (benchmarks/bench_evaluate.py --panel) are labelled
    by their own names, not by the folder they point to."""
    raw = tmp_path / "raw"
    raw.mkdir()
    for label in ("2021Q4", "2022Q1"):
        (raw / label).symlink_to(quarters / "2022Q1", target_is_directory=True)
    panel = build_panel(raw, "national-2017", jobs=1, with_plan_targets=False)
    assert panel.periods == ("2021Q4", "2022Q1")
    assert set(panel.indicators["period"]) == set(panel.schools["period"]) == {"2021Q4", "2022Q1"}
    assert panel.changes.empty and section_changes(panel).empty
    assert (progress(panel).query("kind == 'cv'")["periods"] == 2).all()
