"""Progress and its projections as arrays, against the plain per-target path.

:func:`~balance_metrics.analysis.monitoring.projection.fit_lines` fits every
series at once; :func:`progress` decides every status with array masks. Both
are compared here with the way they used to be computed: one
:func:`scipy.stats.linregress` and one Python status per target
(:func:`_reference_progress`, the former implementation), on panels of many
districts with missing values, single observations, repeated dates, own plan
deadlines (some passed), missing units and names.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_monitoring import write_quarters

from balance_metrics.analysis.monitoring import build_panel, linear_projection, progress
from balance_metrics.analysis.monitoring.panel import by_period, stage_zh
from balance_metrics.analysis.monitoring.progress import PROGRESS_COLUMNS, Projection
from balance_metrics.analysis.monitoring.projection import MAX_REACH_DAYS, fit_lines
from balance_metrics.common.labels import PROGRESS_STATUS_LABELS
from balance_metrics.contract.periods import period_end

linregress = pytest.importorskip("scipy.stats").linregress

PERIODS = ["2020Q3", "2020Q4", "2021Q1", "2021Q2", "2021Q3", "2021Q4", "2022Q1", "2022Q2"]


# -- fit_lines against linregress --------------------------------------------------------


def _reference_line(dates: list[pd.Timestamp], values: list[float]) -> Projection | None:
    """The former :func:`linear_projection`: pandas and :func:`scipy.stats.linregress`."""
    x_dates = pd.to_datetime(pd.Series(list(dates)))
    y = pd.Series(list(values), dtype=float)
    keep = y.notna().to_numpy()
    x_dates, y = x_dates[keep], y[keep]
    if x_dates.nunique() < 2:
        return None
    origin = x_dates.min()
    fit = linregress((x_dates - origin).dt.days.to_numpy(dtype=float), y.to_numpy())
    return Projection(origin=origin, intercept=float(fit.intercept), slope_per_day=float(fit.slope), points=int(len(y)))


_series = st.lists(
    st.tuples(st.integers(0, len(PERIODS) - 1),
              st.one_of(st.floats(-1e6, 1e6, allow_nan=False), st.just(float("nan")), st.floats(0.2, 0.7))),
    min_size=0, max_size=12)


@settings(max_examples=150, deadline=None)
@given(st.lists(_series, min_size=1, max_size=8), st.sampled_from([1.0, 1e-3, 1e4]))
def test_fit_lines_is_linregress_per_series(series, scale):
    group = np.array([g for g, s in enumerate(series) for _ in s], dtype=np.int64)
    dates = np.array([period_end(PERIODS[p]) for s in series for p, _ in s], dtype="datetime64[ns]")
    values = np.array([v * scale for s in series for _, v in s], dtype=float)
    lines = fit_lines(group, dates, values, len(series))
    target = np.linspace(-2.0, 2.0, len(series)) * scale
    reach = lines.reaches(target)
    when = pd.Timestamp("2024-06-30")
    at = lines.at(when)
    for g, s in enumerate(series):
        ref = _reference_line([period_end(PERIODS[p]) for p, _ in s], [v * scale for _, v in s])
        assert lines.fitted[g] == (ref is not None)
        assert lines.points[g] == sum(not np.isnan(v) for _, v in s)
        if ref is None:
            assert np.isnan(lines.slope_per_day[g]) and np.isnan(at[g]) and pd.isna(reach[g])
            continue
        assert pd.Timestamp(lines.origin[g]) == ref.origin
        # Same arithmetic as linregress: equal to the bit where tested; allow 1e-12 for other BLAS.
        assert lines.slope_per_day[g] == pytest.approx(ref.slope_per_day, rel=1e-12, abs=1e-300)
        assert lines.intercept[g] == pytest.approx(ref.intercept, rel=1e-12, abs=1e-9 * scale)
        assert at[g] == pytest.approx(ref.at(when), rel=1e-9, abs=1e-9 * scale)
        expected = ref.reaches(float(target[g]))
        assert (pd.isna(reach[g]) and expected is None) or reach[g] == expected


def test_fit_lines_equals_linregress_to_the_bit_on_stacked_series():
    rng = np.random.default_rng(7)
    for n in range(2, len(PERIODS) + 1):
        values = rng.uniform(0.2, 0.7, (200, n))
        dates = np.array([period_end(p) for p in PERIODS[:n]] * 200, dtype="datetime64[ns]")
        lines = fit_lines(np.repeat(np.arange(200), n), dates, values.ravel(), 200)
        x = (dates[:n] - dates[0]) / np.timedelta64(1, "D")
        fits = [linregress(x, row) for row in values]
        assert np.array_equal(lines.slope_per_day, [f.slope for f in fits])
        assert np.array_equal(lines.intercept, [f.intercept for f in fits])


def test_far_and_flat_crossings_have_no_date():
    dates = np.array([period_end("2022Q1"), period_end("2022Q2")] * 2, dtype="datetime64[ns]")
    lines = fit_lines(np.array([0, 0, 1, 1]), dates, np.array([0.5, 0.5, 0.5, 0.5 + 1e-12]), 2)
    assert pd.isna(lines.reaches(np.array([0.4, 0.4]))).all()  # flat; crossing millions of years away
    assert (pd.isna(lines.reaches(np.array([0.4, 0.6])))).all()
    assert MAX_REACH_DAYS == 100 * 365.25
    assert linear_projection(["2022-03-31", "2022-06-30"], [0.5, 0.5]).reaches(0.4) is None


# -- progress against the per-target path -------------------------------------------------


def _margin(value: float, target: float, comparison: str) -> float:
    return target - value if comparison == "<=" else value - target


def _status(met_now, latest, line, when, last_end, target, comparison, tolerance) -> str:
    if pd.isna(latest):
        return "data missing"
    if met_now:
        return "met"
    if when is not None and when <= last_end:
        return "missed"
    if line is None:
        return "cannot project"
    if when is None:
        return "no deadline"
    margin = _margin(line.at(when), target, comparison)
    if margin >= 0:
        return "on track"
    return "at risk" if margin >= -tolerance * abs(target) else "off track"


def _date(value: Any) -> pd.Timestamp | None:
    return None if value is None or value == "" else pd.Timestamp(value).normalize()


def _date_text(value: pd.Timestamp | None) -> str:
    return "" if value is None or pd.isna(value) else f"{value:%Y-%m-%d}"


def _reference_targets(panel, due, share_target) -> list[tuple]:
    """(kind, district, target_id, name, scope, unit, comparison, target, met_now, deadline, series) per target."""
    district = lambda key: str(key[0]) if panel.keys else ""  # noqa: E731
    out = []
    keys = [*panel.keys, "stage", "indicator"]
    for key, g in by_period(panel.balance, keys).groupby(keys, sort=False):
        stage, ind = key[-2:]
        last = g.iloc[-1]
        out.append(("cv", district(key), f"CV-{stage}-{ind}", f"{stage_zh(stage)}{ind}差异系数（{last['name']}）", stage, "",
                    "<=", float(last["limit"]), bool(last["passed"]), due, g[["period"]].assign(value=g["cv"].astype(float))))
    keys = [*panel.keys, "stage"]
    share = panel.verdicts.groupby([*keys, "period"], sort=False)["passed"].mean().rename("value").reset_index()
    for key, g in by_period(share, keys).groupby(keys, sort=False):
        latest = float(g["value"].iloc[-1])
        out.append(("section_share", district(key), f"SEC-{key[-1]}", f"{stage_zh(key[-1])}学段达标比例（校校达标）", key[-1],
                    "占比(0–1)", ">=", share_target, latest >= share_target, due, g[["period", "value"]]))
    frame = panel.plan_targets
    if not frame.empty:
        keys = [*(k for k in panel.keys if k in frame.columns), "target_id", "scope"]
        for key, g in by_period(frame, keys).groupby(keys, sort=False):
            last = g.iloc[-1]
            own = _date(last["deadline"]) if pd.notna(last["deadline"]) else None
            out.append(("plan", str(key[0]) if len(key) == 3 else "", str(key[-2]), str(last["name"]), str(key[-1]),
                        str(last["unit"]), str(last["comparison"]), float(last["requirement"]), last["status"] == "pass",
                        own if own is not None else due, g[["period"]].assign(value=pd.to_numeric(g["measured"], errors="coerce"))))
    return out


def _reference_progress(panel, deadline=None, next_inspection=None) -> pd.DataFrame:
    """The former :func:`progress`: one line and one status per target."""
    rules = panel.standard.monitoring
    due = _date(deadline) if deadline is not None else rules.deadline
    inspection = _date(next_inspection) if next_inspection is not None else rules.next_inspection
    rows = []
    for kind, district, tid, name, scope, unit, comparison, target, met_now, when, series in _reference_targets(
            panel, due, rules.section_pass_target):
        dates = series["period"].map(period_end)
        line = _reference_line(dates, series["value"])
        latest, last_end = float(series["value"].iloc[-1]), dates.iloc[-1]
        status = _status(met_now, latest, line, when, last_end, target, comparison, rules.at_risk_tolerance)
        at_deadline = line.at(when) if line is not None and when is not None else np.nan
        improving = line is not None and _margin(line.slope_per_day, 0.0, comparison) > 0
        reach = line.reaches(target) if line is not None and improving and status != "met" else None
        points = int(series["value"].notna().sum())
        note = ""
        if status == "cannot project":
            note = f"仅有{points}期数据，无法做趋势外推"
        elif status == "met" and line is not None and pd.notna(at_deadline) and _margin(at_deadline, target, comparison) < 0:
            note = f"目前达标，但按趋势到{_date_text(when)}将不达标（预测值{at_deadline:.3f}）"
        rows.append({
            "kind": kind, "district_id": district, "target_id": tid, "name": name, "scope": scope, "unit": unit,
            "comparison": comparison, "target": target, "periods": points, "first_period": series["period"].iloc[0],
            "latest_period": series["period"].iloc[-1], "baseline_value": float(series["value"].iloc[0]),
            "latest_value": latest, "margin": _margin(latest, target, comparison),
            "slope_per_year": line.slope_per_year if line is not None else np.nan, "deadline": _date_text(when),
            "projected_at_deadline": at_deadline, "next_inspection": _date_text(inspection),
            "projected_at_inspection": line.at(inspection) if line is not None and inspection is not None else np.nan,
            "reach_date": _date_text(reach), "status": status,
            "inspection_status": _status(met_now, latest, line, inspection, last_end, target, comparison,
                                         rules.at_risk_tolerance),
            "status_zh": PROGRESS_STATUS_LABELS[status], "note": note,
        })
    columns = [c for c in PROGRESS_COLUMNS if c != "district_id" or panel.keys]
    return pd.DataFrame(rows, columns=columns)


@pytest.fixture(scope="module")
def quarters(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_quarters(tmp_path_factory.mktemp("projection") / "raw")


@pytest.fixture(scope="module", params=["beichen-2021", "national-2017"])
def base_panel(quarters, request):
    """beichen-2021 has a deadline and a next inspection, national-2017 neither."""
    return build_panel(quarters, request.param, with_plan_targets=False)


def _random_panel(base, seed: int, districts: int, keyed: bool):
    """Many districts' CVs, section verdicts and plan targets over ragged periods, with gaps."""
    rng = np.random.default_rng(seed)
    balance, verdicts, plans = [], [], []
    for d in range(districts):
        periods = [p for p in PERIODS if rng.random() < 0.7] or [PERIODS[0]]
        periods = periods[-1:] if d % 5 == 4 else periods  # a district reporting once: no line
        for stage in ("primary", "junior"):
            for ind in ("R1", "R2", "R10"):
                level, drift = rng.uniform(0.2, 0.7), rng.normal(0, 0.02)
                # Near where the line is going: every status (on track, at risk, off track …) turns up.
                limit = round(level + drift * (len(periods) + 2) + rng.normal(0, 0.03), 3)
                for i, p in enumerate(periods):
                    cv = np.nan if rng.random() < 0.1 else level + drift * i
                    balance.append({"period": p, "district_id": f"D{d:03d}", "stage": stage, "indicator": ind,
                                    "name": None if rng.random() < 0.1 else f"指标{ind}", "cv": cv, "limit": limit,
                                    "passed": bool(cv <= limit)})
            for p in periods:
                for s in range(int(rng.integers(1, 4))):
                    verdicts.append({"period": p, "district_id": f"D{d:03d}", "stage": stage, "school_id": f"S{s}",
                                     "passed": bool(rng.random() < 0.8)})
        for tid, scope, comparison, unit in (("P01", "school", "<=", "人"), ("P02", "district", ">=", None),
                                             ("P03", "district", ">=", np.nan), ("P04", "district", "<", "%")):
            own = rng.choice(["2022-12-31", "2021-12-31", "", None, "2023-06-30"])
            for i, p in enumerate(periods):
                plans.append({"period": p, "district_id": f"D{d:03d}", "target_id": tid, "name": f"目标{tid}",
                              "scope": scope, "measured": np.nan if rng.random() < 0.1 else rng.uniform(0, 100),
                              "requirement": rng.choice([0.0, 50.0, 95.0]), "unit": unit, "comparison": comparison,
                              "deadline": own, "status": "pass" if rng.random() < 0.3 else "fail"})
    tables = {"balance": pd.DataFrame(balance), "verdicts": pd.DataFrame(verdicts), "plan_targets": pd.DataFrame(plans)}
    if not keyed:
        tables = {k: v[v["district_id"] == "D000"].drop(columns="district_id").reset_index(drop=True)
                  for k, v in tables.items()}
    return dataclasses.replace(base, **tables)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(0, 10_000), st.integers(1, 12), st.booleans(),
       st.sampled_from([(None, None), ("2022-09-30", "2023-03-31"), ("2030-01-01", "2021-06-30"), ("2022-03-31", None)]))
def test_progress_equals_the_per_target_path(base_panel, seed, districts, keyed, dates):
    panel = _random_panel(base_panel, seed, districts, keyed)
    deadline, inspection = dates
    got = progress(panel, deadline, inspection)
    expected = _reference_progress(panel, deadline, inspection)
    pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-12)
    assert got["unit"].isin(["None", "nan", "人", "%", "", "占比(0–1)"]).all()  # missing units spelled as before


def test_the_random_panels_reach_every_status(base_panel):
    """The comparison above is only as good as its cases: every status and note turns up."""
    seen: set[str] = set()
    notes = reaches = 0
    for seed, dates in enumerate([(None, None), ("2022-09-30", "2023-03-31"), ("2030-01-01", "2021-06-30")]):
        got = progress(_random_panel(base_panel, seed, 40, True), *dates)
        seen |= set(got["status"]) | set(got["inspection_status"])
        notes += got["note"].str.startswith("目前达标").sum()
        reaches += (got["reach_date"] != "").sum()
    expected = {"met", "missed", "data missing", "on track", "at risk", "off track", "cannot project"}
    if base_panel.standard.monitoring.deadline is None:
        expected.add("no deadline")
    assert expected <= seen and notes > 0 and reaches > 0


def test_progress_on_the_sample_panel_equals_the_per_target_path(base_panel):
    for deadline in (None, "2022-06-30"):
        pd.testing.assert_frame_equal(progress(base_panel, deadline), _reference_progress(base_panel, deadline),
                                      check_exact=False, rtol=1e-12)


def test_progress_of_an_empty_panel(base_panel):
    empty = dataclasses.replace(base_panel, balance=base_panel.balance.iloc[:0], verdicts=base_panel.verdicts.iloc[:0])
    pd.testing.assert_frame_equal(progress(empty), _reference_progress(empty))


# -- section_changes descriptions against the per-row text ------------------------------------


def _fmt(value: Any, decimals: int) -> str:
    return "—" if pd.isna(value) else f"{float(value):.{decimals}f}"


def _flip_text(row: Any, decimals: int) -> str:
    """The former per-row description (itertuples)."""
    who = f"{row.school_name}（{row.school_id}）{stage_zh(row.stage)}"
    what = "由达标变为未达标" if row.change == "newly failing" else "由未达标变为达标"
    if pd.isna(row.before):
        what = "为新纳入计算的学段，未达标"
    if row.level == "section":
        return f"{who}学段综合判定{what}（达标指标{_fmt(row.value_before, 0)}→{_fmt(row.value_after, 0)}项）"
    return (f"{who}{row.indicator}{row.name}{what}（{_fmt(row.value_before, decimals)}→{_fmt(row.value_after, decimals)}，"
            f"标准{_fmt(row.threshold, decimals)}）")


@pytest.mark.parametrize("name_dtype", ["str", "string", "object"])
def test_flip_descriptions_equal_the_per_row_text(name_dtype):
    from balance_metrics.analysis.monitoring.changes import _flip_texts

    rng = np.random.default_rng(3)
    n = 400
    names = pd.array(rng.choice(["小学甲", "中学乙", None], n), dtype=name_dtype)
    frame = pd.DataFrame({
        "school_name": names, "school_id": [f"S{i}" for i in range(n)],
        "stage": rng.choice(["primary", "junior", "unknown"], n),
        "change": rng.choice(["newly failing", "newly passing"], n),
        "before": pd.array(rng.choice([True, False, None], n), dtype="boolean"),
        "level": rng.choice(["section", "indicator"], n),
        "indicator": rng.choice(["R1", "R10", ""], n), "name": rng.choice(["生均面积", "骨干教师"], n),
        "value_before": np.where(rng.random(n) < 0.2, np.nan, rng.normal(0, 1e3, n)),
        "value_after": np.where(rng.random(n) < 0.1, np.nan, rng.choice([0.0, -0.0, 0.0005, 2.5, 1e9], n)),
        "threshold": np.where(rng.random(n) < 0.1, np.nan, rng.uniform(0, 10, n)),
    })
    for decimals in (0, 2, 3):
        expected = [_flip_text(r, decimals) for r in frame.itertuples()]
        assert list(_flip_texts(frame, decimals)) == expected
    assert any(text.startswith(("nan（", "None（", "<NA>（")) for text in expected)  # missing names spelled as before


def test_a_target_reached_at_midnight_is_dated_that_day_whatever_the_last_bit():
    # Found by hypothesis: 0, 0 on 2020-09-30 and 0.3125 on 2021-03-31 reach 0 on the first
    # date; linregress's intercept is ~-2e-15 where fit_lines' is 0, -1e-12 days apart.
    origin = pd.Timestamp("2020-09-30")
    for intercept in (-2e-15, 0.0, 2e-15):
        line = Projection(origin=origin, intercept=intercept, slope_per_day=0.3125 / 182, points=3)
        assert line.reaches(0.0) == origin
    assert Projection(origin=origin, intercept=0.0, slope_per_day=1.0, points=2).reaches(-0.5) == pd.Timestamp("2020-09-29")
    group, dates = np.zeros(3, dtype=np.int64), np.array([period_end("2020Q3")] * 2 + [period_end("2021Q1")], dtype="datetime64[ns]")
    lines = fit_lines(group, dates, np.array([0.0, 0.0, 0.3125]), 1)
    assert lines.reaches(np.array([0.0]))[0] == origin
