"""One vocabulary on every result object: ``passed``, ``summary()``, ``tables()``, a compact repr."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import small_district, write_period

from balance_metrics import evaluate_resources, load_period
from balance_metrics.analysis.monitoring import build_panel
from balance_metrics.evaluation.evaluate import evaluate


@pytest.fixture(scope="module")
def raw(tmp_path_factory):
    root = tmp_path_factory.mktemp("api") / "raw"
    tables = small_district()
    write_period(root / "2022Q3", tables)
    write_period(root / "2022Q4", tables)
    return root


@pytest.fixture(scope="module")
def results(raw):
    dataset = load_period(raw / "2022Q4")
    return {
        "resources": evaluate_resources(dataset),
        "evaluation": evaluate(dataset, "national-2017"),
        "panel": build_panel(raw, with_plan_targets=False),
    }


@pytest.mark.parametrize("name", ["resources", "evaluation", "panel"])
def test_every_result_speaks_the_same_vocabulary(results, name):
    result = results[name]
    assert isinstance(result.passed, bool)
    assert isinstance(result.summary(), pd.DataFrame) and len(result.summary()) > 0
    tables = result.tables()
    assert tables and all(isinstance(k, str) and isinstance(v, pd.DataFrame) for k, v in tables.items())
    for old in ("ok", "ready"):
        assert not hasattr(result, old)


def test_passed_agrees_with_the_tables(results):
    res = results["resources"]
    assert res.passed == bool(res.verdicts["passed"].all() and res.balance["passed"].all())
    ev = results["evaluation"]
    assert ev.passed == ev.readiness.passed == ev.readiness.blocking.empty
    panel = results["panel"]
    latest = panel.balance[panel.balance["period"] == "2022Q4"]
    assert panel.passed == bool(latest["passed"].all() and panel.verdicts.query("period == '2022Q4'")["passed"].all())


def test_panel_summary_counts_sections_per_period(results):
    summary = results["panel"].summary().set_index(["period", "stage"])
    verdicts = results["panel"].verdicts
    for (period, stage), row in summary.iterrows():
        mine = verdicts[(verdicts["period"] == period) & (verdicts["stage"] == stage)]
        assert row["sections"] == len(mine) and row["sections_passed"] == int(mine["passed"].sum())
    assert list(summary.index.get_level_values("period").unique()) == ["2022Q3", "2022Q4"]


@pytest.mark.parametrize("name", ["resources", "evaluation", "panel"])
def test_repr_is_compact_not_a_dataclass_dump(results, name):
    result = results[name]
    text, html = repr(result), result._repr_html_()
    assert text.splitlines()[0].startswith(type(result).__name__)
    assert "DataFrame" not in text and "sections=" not in text and "standard=Standard(" not in text
    assert len(text.splitlines()) < 60
    assert "<table" in html and html.count("<tr") < 80


def test_repr_shows_readiness_failing_items_and_cvs(results):
    ev = results["evaluation"]
    text = repr(ev)
    assert ev.readiness.verdict in text and ev.readiness.label in text
    for item_id in ev.readiness.blocking["id"].head(5):
        assert f" {item_id} " in text or f"\n  {item_id}" in text or item_id in text.split()
    cv = ev.resources.balance.set_index(["stage", "indicator"])["cv"]
    assert f"{cv.iloc[0]:.6f}"[:6] in text
    assert "CV by stage × indicator" in repr(ev.resources)
