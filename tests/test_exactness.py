"""The columnar engine decides every verdict exactly: property tests against plain
Fraction arithmetic with values planted on thresholds, floors and their neighbours."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pandas as pd
from conftest import small_district, write_period
from hypothesis import given, settings
from hypothesis import strategies as st

from balance_metrics import evaluate_resources, load_period, load_standard
from balance_metrics.engine.sections import split_shares
from balance_metrics.engine.verdicts import float_at_most, judge_sections, minimum_bound, round_half_up
from balance_metrics.standard.loader import exact

NATIONAL = load_standard("national-2017")
# Offsets from a bound, in units of 10⁻ᵏ: exactly on it, and just either side.
OFFSETS = st.sampled_from([Fraction(0), Fraction(1, 10**12), Fraction(-1, 10**12), Fraction(1, 10**6), Fraction(-1, 10**6)])


def rounded_standard(tmp_path, digits: int):
    path = tmp_path / f"round{digits}.toml"
    path.write_text(f'name = "r{digits}"\nextends = "national-2017"\n[balance]\ncompare_decimals = {digits}\n', encoding="utf-8")
    return load_standard(path)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(NATIONAL.indicator_ids), st.sampled_from(["primary", "junior"]),
                  st.booleans(), OFFSETS, st.integers(1, 5000)),
        min_size=1, max_size=30,
    ),
    st.sampled_from([None, 1, 2, 3]),
)
def test_judge_sections_agrees_with_fraction_arithmetic(rows, digits):
    std = NATIONAL if digits is None else _with_digits(digits)
    exact_values = []
    frame = []
    for i, (ind, stage, at_floor, offset, students) in enumerate(rows):
        bound = std.floor(ind, stage) if at_floor else std.threshold(ind, stage)
        value = bound + offset * bound
        exact_values.append(value)
        frame.append({"school_id": f"S{i}", "school_name": "", "school_type": "", "area_type": "", "stage": stage,
                      "students": students, "indicator": ind, "value": float(value)})
    judged, _ = judge_sections(pd.DataFrame(frame), std, exact_values=lambda r: [exact_values[i] for i in r])
    for (ind, stage, *_), value, met, above in zip(rows, exact_values, judged["met"], judged["above_floor"]):
        shown = round_half_up(value, digits)
        assert met == (shown >= std.threshold(ind, stage))
        assert above == (shown >= std.floor(ind, stage))


_STANDARDS: dict[int, object] = {}


def _with_digits(digits: int):
    if digits not in _STANDARDS:
        import tempfile
        from pathlib import Path

        folder = Path(tempfile.mkdtemp())
        _STANDARDS[digits] = rounded_standard(folder, digits)
    return _STANDARDS[digits]


@given(st.fractions(min_value=0, max_value=10, max_denominator=10**6), st.sampled_from([None, 0, 1, 2, 3]),
       st.sampled_from(["4.5", "3.825", "0.765", "2000", "1.955"]))
def test_minimum_bound_matches_rounding(value, digits, requirement):
    requirement = Fraction(requirement)
    assert (value >= minimum_bound(requirement, digits)) == (round_half_up(value, digits) >= requirement)


@given(st.floats(0, 1, allow_nan=False), st.sampled_from([None, 1, 2, 3]), st.sampled_from(["0.50", "0.45", "0.3"]))
def test_float_at_most_is_exact(cv, digits, limit):
    limit = Fraction(limit)
    assert (cv <= float_at_most(limit, digits)) == (round_half_up(Fraction(cv), digits) <= limit)
    edge = float_at_most(limit, digits)
    assert round_half_up(Fraction(edge), digits) <= limit
    assert round_half_up(Fraction(float(np.nextafter(edge, 1))), digits) > limit


def _reference(tables: dict[str, pd.DataFrame]) -> dict[tuple[str, str, str], tuple[bool, bool]]:
    """met / above_floor of every evaluated section × indicator in plain Fraction
    arithmetic (the pre-columnar engine's algorithm), for the small district."""
    schools = tables["schools"].set_index("school_id")
    sections = tables["sections"].copy()
    facilities = tables["facilities"].set_index("school_id")
    parent = schools["parent_school_id"].replace("", np.nan).dropna()
    sections["owner"] = [parent.get(s, s) for s in sections["school_id"]]
    merged = sections.groupby(["owner", "stage"], sort=False).sum(numeric_only=True)
    fac = facilities.groupby(lambda s: parent.get(s, s)).sum(numeric_only=True)
    out = {}
    for owner in merged.index.get_level_values(0).unique():
        kind = schools.at[owner, "school_type"]
        if kind in ("special_education", "vocational"):
            continue
        part = merged.loc[owner]
        if kind == "teaching_point" and part["students"].sum() < 50:
            continue
        shares = split_shares({st_: int(n) for st_, n in part["students"].items()},
                              NATIONAL.split_weights(kind) if len(part) > 1 else None)
        for stage, row in part.iterrows():
            if stage not in NATIONAL.stages:
                continue
            for ind in NATIONAL.indicator_ids:
                spec = NATIONAL.indicator(ind)
                if spec["basis"] == "facility":
                    num = sum(exact(c) * exact(float(fac.at[owner, col])) for col, c in spec["terms"].items()) * shares[stage]
                else:
                    num = sum(exact(c) * int(row[col]) for col, c in spec["terms"].items())
                value = num * exact(spec["scale"]) / int(row["students"])
                out[(owner, stage, ind)] = (value >= NATIONAL.threshold(ind, stage), value >= NATIONAL.floor(ind, stage))
    return out


@settings(max_examples=25, deadline=None)
@given(
    st.sampled_from(["P1", "P2", "P3", "N1", "J1"]),
    st.sampled_from(["R4", "R5", "R6"]),
    st.booleans(),
    st.sampled_from([Fraction(0), Fraction(1, 100), Fraction(-1, 100)]),
)
def test_planted_boundaries_end_to_end(tmp_path_factory, school, indicator, at_floor, offset):
    """A facility total planted so that the section lands exactly on (or 0.01 元/m²
    beside) its threshold or floor: the engine agrees with Fraction arithmetic."""
    tables = small_district()
    schools = tables["schools"].set_index("school_id")
    sections = tables["sections"]
    mine = sections[sections["school_id"].isin([school, *schools.index[schools["parent_school_id"] == school]])]
    stage = mine["stage"].iloc[0]
    students = mine.groupby("stage")["students"].sum()
    weights = NATIONAL.split_weights(schools.at[school, "school_type"]) if len(students) > 1 else None
    share = split_shares({k: int(v) for k, v in students.items()}, weights)[stage]
    target = NATIONAL.floor(indicator, stage) if at_floor else NATIONAL.threshold(indicator, stage)
    total = target * int(students[stage]) / share  # the school-wide total giving exactly `target`
    column = {"R4": "teaching_aux_area_m2", "R5": "outdoor_sports_area_m2", "R6": "equipment_value_yuan"}[indicator]
    facilities = tables["facilities"].set_index("school_id").astype(object)
    others = Fraction(0)
    if indicator == "R4":
        others = -exact(float(facilities.at[school, "indoor_sports_area_m2"]))
    elif indicator == "R5":
        others = exact(float(facilities.at[school, "indoor_sports_area_m2"]))
    campus = schools.index[schools["parent_school_id"] == school]
    for c in campus:
        total -= exact(float(facilities.at[c, column]))
        others += exact(float(facilities.at[c, "indoor_sports_area_m2"])) * (-1 if indicator == "R4" else 1 if indicator == "R5" else 0)
    planted = total - others + offset
    if planted.denominator not in (1, 2, 4, 5, 8, 10, 20, 25, 50, 100, 1000, 10000) or planted < 0:
        return  # not a short decimal: cannot be written exactly in a CSV cell
    text = format(Fraction(planted).numerator / Fraction(planted).denominator, ".4f")
    if exact(text) != planted:
        return
    facilities.at[school, column] = text
    tables["facilities"] = facilities.reset_index()
    folder = write_period(tmp_path_factory.mktemp("planted") / "2022Q4", tables)
    result = evaluate_resources(load_period(folder))
    reference = _reference(load_tables(folder))
    got = result.sections.set_index(["school_id", "stage", "indicator"])
    for key, (met, above) in reference.items():
        assert bool(got.at[key, "met"]) == met, key
        assert bool(got.at[key, "above_floor"]) == above, key
    row = got.loc[(school, stage, indicator)]
    assert bool(row["met" if not at_floor else "above_floor"]) == (offset >= 0)


def load_tables(folder) -> dict[str, pd.DataFrame]:
    return {name: pd.read_csv(folder / f"{name}.csv", dtype={"parent_school_id": str}, keep_default_na=False)
            for name in ("schools", "sections", "facilities")}


def test_rows_in_the_band_are_rechecked_exactly():
    """4.5 × 0.85 in floats is 3.8249999…: a section exactly at the floor passes."""
    std = NATIONAL
    floor = std.floor("R4", "primary")
    assert float(Fraction(45, 10)) * 0.85 < float(floor)
    frame = pd.DataFrame({"school_id": ["A"], "school_name": [""], "school_type": [""], "area_type": [""],
                          "stage": ["primary"], "students": [400], "indicator": ["R4"], "value": [4.5 * 0.85]})
    judged, _ = judge_sections(frame, std, exact_values=lambda rows: [floor for _ in rows])
    assert judged["above_floor"].iloc[0]
