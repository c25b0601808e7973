"""Per-section verdicts and exact floors: worked example E3 (STANDARD.md §2, §9)."""

from __future__ import annotations

from fractions import Fraction

import pytest

from balance_metrics import load_standard
from balance_metrics.engine.verdicts import judge_values, round_half_up, section_passes

NATIONAL = load_standard("national-2017")
PRIMARY_OK = {"R1": "4.2", "R2": "1.0", "R3": "0.9", "R4": "4.5", "R5": "7.5", "R6": "2000", "R7": "2.3"}
JUNIOR_OK = {"R1": "5.3", "R2": "1.0", "R3": "0.9", "R4": "5.8", "R5": "10.2", "R6": "2500", "R7": "2.4"}


def passes(values: dict[str, str], stage: str, standard=NATIONAL) -> bool:
    marks = judge_values({k: Fraction(v) for k, v in values.items()}, stage, standard)
    return section_passes(marks["met"], marks["above_floor"], standard)


@pytest.mark.parametrize(
    "stage, indicator, floor",
    [("primary", "R1", "3.57"), ("primary", "R4", "3.825"), ("primary", "R5", "6.375"),
     ("primary", "R7", "1.955"), ("junior", "R1", "4.505"), ("junior", "R4", "4.93"),
     ("junior", "R5", "8.67"), ("junior", "R6", "2125"), ("junior", "R7", "2.04")],
)
def test_floors_are_exact(stage, indicator, floor):
    assert NATIONAL.floor(indicator, stage) == Fraction(floor)


def test_e3_primary_r7_at_floor_passes_and_below_fails():
    assert passes(PRIMARY_OK | {"R7": "1.955"}, "primary")
    assert not passes(PRIMARY_OK | {"R7": "1.954"}, "primary")


def test_e3_two_missed_indicators_fail_even_above_floors():
    assert not passes(PRIMARY_OK | {"R7": "2.2", "R2": "0.95"}, "primary")


def test_e3_junior_r1_exactly_at_floor_passes():
    assert passes(JUNIOR_OK | {"R1": "4.505"}, "junior")
    assert not passes(JUNIOR_OK | {"R1": "4.5049"}, "junior")


def test_float_floor_trap_primary_r4():
    assert 4.5 * 0.85 < 3.825
    assert passes(PRIMARY_OK | {"R4": "3.825"}, "primary")


def test_all_met_passes_and_ratio_reported():
    marks = judge_values({k: Fraction(v) for k, v in PRIMARY_OK.items()}, "primary", NATIONAL)
    assert marks["met"].all()
    assert marks["ratio"].tolist() == pytest.approx([1.0] * 7)


@pytest.mark.parametrize(
    "value, decimals, expected",
    [("0.505", 2, "0.51"), ("0.5049", 2, "0.50"), ("0.445", 2, "0.45"), ("1.2345", None, "1.2345"), ("-0.125", 2, "-0.13")],
)
def test_round_half_up(value, decimals, expected):
    assert round_half_up(Fraction(value), decimals) == Fraction(expected)
