"""The columnar resource engine (indicators × sections arrays) against the long-table
functions and against plain Fraction arithmetic.

- ``evaluate_resources`` (matrices, lazy long table) gives the same tables as the
  long-table path ``compute_indicators`` → ``judge_sections`` → ``district_balance``;
- ``judge_matrix`` agrees with Fraction arithmetic on random sections with values
  planted exactly on, and one unit beside, thresholds and floors (with and without
  the standard's rounding);
- the campus merge on codes: two campuses listed before their parent;
- the lazy long table survives ``select`` and pickling.
"""

from __future__ import annotations

import pickle
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from conftest import SAMPLE, small_district, write_period
from hypothesis import given, settings
from hypothesis import strategies as st

from balance_metrics import evaluate_resources, load_period, load_standard
from balance_metrics.common.grouped import join_by_group
from balance_metrics.engine.balance import district_balance
from balance_metrics.engine.indicators import compute_indicators, exact_numerators, section_value
from balance_metrics.engine.sections import build_sections
from balance_metrics.engine.verdicts import failed_texts, judge_matrix, judge_sections, minimum_bound, round_half_up
from balance_metrics.standard.loader import Standard

NATIONAL = load_standard("national-2017")


def long_path(dataset, std: Standard):
    """The long-table path: one row per section × indicator all the way."""
    sections = build_sections(dataset, std)
    indicators = compute_indicators(sections, std)
    scales = {i: std.indicators[i].scale for i in std.indicator_ids}

    def exact_values(rows):
        part = indicators.iloc[rows]
        numerators = exact_numerators(sections, std, part["section"].to_numpy(), part["indicator"].to_numpy(object))
        return [section_value(n, scales[i], int(s)) for n, i, s in zip(numerators, part["indicator"], part["students"])]

    judged, verdicts = judge_sections(indicators, std, exact_values, group=indicators["section"].to_numpy())
    return judged, verdicts, district_balance(judged, std)


def province(tmp_path):
    """The small district twice, as two districts of one period (ids prefixed)."""
    parts = {name: [] for name in ("schools", "sections", "facilities")}
    for prefix, district in (("A", "110101"), ("B", "110102")):
        tables = small_district()
        for name, frame in tables.items():
            frame = frame.copy()
            frame["school_id"] = prefix + frame["school_id"]
            if name == "schools":
                frame["parent_school_id"] = frame["parent_school_id"].where(frame["parent_school_id"] == "", prefix + frame["parent_school_id"])
                frame.insert(0, "district_name", f"{district}区")
                frame.insert(0, "district_id", district)
            if name == "sections" and prefix == "B":
                frame["key_teachers"] = frame["key_teachers"] // 2
            parts[name].append(frame)
    return write_period(tmp_path / "2022Q4", {name: pd.concat(frames, ignore_index=True) for name, frames in parts.items()})


@pytest.mark.parametrize("where", ["sample", "province", "small"])
@pytest.mark.parametrize("standard", ["national-2017", "beichen-2021"])
def test_matrix_path_equals_long_table_path(tmp_path, where, standard):
    folder = {"sample": lambda: SAMPLE / "2022Q4", "province": lambda: province(tmp_path),
              "small": lambda: write_period(tmp_path / "2022Q4", small_district())}[where]()
    dataset, std = load_period(folder), load_standard(standard)
    result = evaluate_resources(dataset, std)
    judged, verdicts, balance = long_path(dataset, std)
    assert "sections" not in result.__dict__  # not built until read
    pd.testing.assert_frame_equal(result.sections, judged[result.sections.columns.tolist()], check_dtype=False)
    pd.testing.assert_frame_equal(result.verdicts, verdicts, check_dtype=False)
    pd.testing.assert_frame_equal(result.balance, balance, check_dtype=False)


def test_select_and_pickle_keep_the_lazy_table(tmp_path):
    result = evaluate_resources(load_period(province(tmp_path)))
    one = result.select("110102")
    assert "sections" not in one.__dict__
    assert set(one.sections["district_id"]) == {"110102"}
    whole = result.sections
    expected = whole[whole["district_id"] == "110102"].reset_index(drop=True)
    pd.testing.assert_frame_equal(one.sections, expected)
    assert one.exact_values([0, 7]) == [result.exact_values([i])[0] for i in np.flatnonzero(whole["district_id"] == "110102")[[0, 7]]]
    again = pickle.loads(pickle.dumps(one))
    pd.testing.assert_frame_equal(again.sections, one.sections)
    wide = one.wide("value")
    assert list(wide.columns) == ["district_id", "school_id", "stage", *NATIONAL.indicator_ids]
    assert wide["R1"].tolist() == one.sections.loc[one.sections["indicator"] == "R1", "value"].tolist()


def test_campuses_listed_before_their_parent_are_merged(tmp_path):
    tables = small_district()
    schools, sections, facilities = tables["schools"], tables["sections"], tables["facilities"]
    schools.loc[len(schools)] = ("C2", "东风小学二分校", "primary", "urban", "public", "false", "P1")
    sections.loc[len(sections)] = ("C2", "primary", 50, 2, 5, 4, 1, 1, 5, 25)
    facilities.loc[len(facilities)] = ("C2", 300.0, 10.0, 400.0, 100_000.0, 1, 0, 0, 0.0, 0.0)
    tables["sections"] = pd.concat([sections.iloc[[6, 9]], sections.drop(index=[6, 9])], ignore_index=True)  # campuses first
    result = build_sections(load_period(write_period(tmp_path / "2022Q4", tables)), NATIONAL).sections.set_index(["school_id", "stage"])
    p1 = result.loc[("P1", "primary")]
    assert (p1["students"], p1["teachers"], p1["largest_class"]) == (900 + 100 + 50, 60 + 8 + 5, 45)
    assert p1["campuses"] == "C1,C2"
    assert p1["teaching_aux_area_m2_school"] == 5200 + 500 + 300
    assert p1["indoor_sports_area_m2_school"] == 400 + 0 + 10
    assert not any(i.startswith("C") for i, _ in result.index)


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 12),
    digits=st.sampled_from([None, 1, 2]),
    seed=st.integers(0, 2**32 - 1),
)
def test_judge_matrix_agrees_with_fraction_arithmetic(n, digits, seed):
    """Integer numerators over integer enrolments, planted exactly on a threshold or
    floor (after rounding) or one numerator unit beside it."""
    std = NATIONAL if digits is None else _with_digits(digits)
    ids, stages = std.indicator_ids, std.stages
    k = len(ids)
    rng = np.random.default_rng(seed)
    students = rng.integers(1, 3000, n)
    stage_code = rng.integers(0, len(stages), n)
    exact = [[None] * n for _ in range(k)]
    values = np.empty((k, n))
    for j, ind in enumerate(ids):
        scale = std.indicators[ind].scale
        for i in range(n):
            bound = (std.threshold if rng.random() < 0.5 else std.floor)(ind, stages[stage_code[i]])
            target = minimum_bound(bound, digits) * int(students[i]) / scale  # the numerator that lands on the bound
            numerator = max(Fraction(round(target * 100), 100) + Fraction(int(rng.integers(-1, 2)), 100), Fraction(0))
            exact[j][i] = section_value(numerator, scale, int(students[i]))
            values[j, i] = section_value(float(numerator), float(scale), float(students[i]))  # as the engine computes it
    judgement = judge_matrix(values, np.abs(values), stage_code, ids, std, lambda rows: [exact[r // n][r % n] for r in rows])
    for j, ind in enumerate(ids):
        for i in range(n):
            stage = stages[stage_code[i]]
            shown = round_half_up(exact[j][i], digits)
            assert judgement.met[j, i] == (shown >= std.threshold(ind, stage)), (ind, i)
            assert judgement.above_floor[j, i] == (shown >= std.floor(ind, stage)), (ind, i)


_ROUNDED: dict[int, Standard] = {}


def _with_digits(digits: int) -> Standard:
    """national-2017 with ``compare_decimals = digits`` (an override file)."""
    if digits not in _ROUNDED:
        import tempfile
        from pathlib import Path

        path = Path(tempfile.mkdtemp()) / f"round{digits}.toml"
        path.write_text(f'name = "r{digits}"\nextends = "national-2017"\n[balance]\ncompare_decimals = {digits}\n', encoding="utf-8")
        _ROUNDED[digits] = load_standard(path)
    return _ROUNDED[digits]


def test_failed_texts_match_a_join_of_the_missed_ids():
    rng = np.random.default_rng(3)
    met = rng.random((200, 7)) < 0.7
    ids = [f"R{j + 1}" for j in range(7)]
    rows, cols = np.nonzero(~met)
    assert failed_texts(met, ids).tolist() == join_by_group(rows, np.array(ids, dtype=object)[cols], 200).tolist()
    wide = rng.random((30, 20)) < 0.5  # more than 16 indicators: the join path
    names = [f"X{j}" for j in range(20)]
    rows, cols = np.nonzero(~wide)
    assert failed_texts(wide, names).tolist() == join_by_group(rows, np.array(names, dtype=object)[cols], 30).tolist()


def test_a_period_without_evaluated_sections(tmp_path):
    tables = small_district()
    tables["schools"]["school_type"] = "special_education"
    tables["schools"]["parent_school_id"] = ""
    result = evaluate_resources(load_period(write_period(tmp_path / "2022Q4", tables)))
    assert (len(result.verdicts), len(result.balance), len(result.sections)) == (0, 0, 0)
    assert len(result.excluded) == len(tables["sections"])
    assert result.summary()["sections"].tolist() == [0, 0]
