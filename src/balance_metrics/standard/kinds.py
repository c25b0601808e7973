"""What a standard file may hold: value kinds and what each item rule and plan measure needs.

Each kind parses a raw TOML value or raises ``ValueError`` with the rule broken.
:data:`ITEM_RULE_PARAMS` and :data:`PLAN_MEASURE_PARAMS` declare, per rule or
measure, the keys it reads and whether they are required; the evaluation package
implements exactly these rules (a test keeps both in step).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import Any

import pandas as pd

from balance_metrics.common.errors import StandardError
from balance_metrics.contract.schema import AREA_TYPES, DISTRICT_ITEMS, OWNERSHIPS, SCHOOL_TYPES, STAGES, SURVEY_GROUPS
from balance_metrics.standard.model import exact

AREAS: tuple[str, ...] = ("resources", "guarantee", "quality", "recognition", "veto")
ITEM_SCOPES: tuple[str, ...] = ("district", "school")
COMPARISONS: tuple[str, ...] = (">=", "<=")
DECIDE_ON: tuple[str, ...] = ("rate", "lower_bound")
DIFFERENCE_RATES: tuple[str, ...] = ("cv", "variance_share")
ITEM_STATUSES: tuple[str, ...] = ("pass", "fail", "evidence missing", "not applicable")


# -- value kinds: each returns the parsed value or raises ValueError(rule) ----------


def _number(value: Any) -> Fraction:
    try:
        return exact(value)
    except StandardError as exc:
        raise ValueError("expected a number (write exact ones as strings, e.g. \"0.85\")") from exc


def _integer(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError("expected a whole number")
    try:
        return int(value)
    except ValueError as exc:
        raise ValueError("expected a whole number") from exc


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("expected a text")
    return value


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("expected true or false")
    return value


def _texts(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError("expected a list of texts")
    return tuple(value)


def _date(value: Any) -> pd.Timestamp:
    if isinstance(value, datetime.date):
        return pd.Timestamp(value).normalize()
    if not isinstance(value, str) or not value:
        raise ValueError("expected an ISO date like 2022-12-31")
    try:
        return pd.Timestamp(value).normalize()
    except (TypeError, ValueError) as exc:
        raise ValueError("expected an ISO date like 2022-12-31") from exc


def _optional_date(value: Any) -> pd.Timestamp | None:
    return None if value == "" else _date(value)


def _numbers(value: Any) -> dict[str, Fraction]:
    if not isinstance(value, Mapping):
        raise ValueError("expected a table of numbers")
    return {str(k): _number(v) for k, v in value.items()}


def _choice(*options: str) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        if value not in options:
            raise ValueError(f"must be one of {', '.join(options)}")
        return str(value)
    return parse


def _one_of(known: Mapping[str, Any] | tuple[str, ...], what: str) -> Callable[[Any], Any]:
    def parse(value: Any) -> Any:
        names = [value] if isinstance(value, str) else list(value) if isinstance(value, (list, Mapping)) else None
        if names is None:
            raise ValueError(f"expected {what}")
        unknown = [n for n in names if n not in known]
        if unknown:
            raise ValueError(f"unknown {what} {', '.join(map(str, unknown))}; known: {', '.join(known)}")
        return value
    return parse


Kind = Callable[[Any], Any]
SCHOOL_TYPE_LIST = _one_of(SCHOOL_TYPES, "school type")
STAGE_KEYS = _one_of(STAGES, "stage")

#: What each item rule reads from its ``[items.<id>]`` table: key -> (kind, required).
ITEM_RULE_PARAMS: dict[str, dict[str, tuple[Kind, bool]]] = {
    "resource_sections": {},
    "resource_balance": {},
    "evidence": {},
    "music_art_rooms": {
        "classes_per_room": (_integer, True), "min_music_room_m2": (_number, True), "min_art_room_m2": (_number, True),
        "area_exempt_built_before": (_integer, False), "school_types": (SCHOOL_TYPE_LIST, False),
    },
    "school_size": {"limits": (lambda v: _numbers(SCHOOL_TYPE_LIST(v)), True)},
    "class_size": {"max_class": (lambda v: _numbers(STAGE_KEYS(v)), True), "school_types": (SCHOOL_TYPE_LIST, False)},
    "small_school_funds": {
        "min_students": (_integer, True), "school_types": (SCHOOL_TYPE_LIST, False),
        "area_types": (_one_of(AREA_TYPES, "area type"), False), "ownerships": (_one_of(OWNERSHIPS, "ownership"), False),
    },
    "special_education_funds": {"min_yuan_per_student": (_number, True), "school_types": (SCHOOL_TYPE_LIST, False)},
    "teacher_pay": {"min_pay_ratio": (_number, True), "min_performance_pay_percent": (_number, True)},
    "district_minimums": {
        "minimums": (lambda v: _numbers(_one_of(DISTRICT_ITEMS, "district item")(v)), True),
        "evidence_part": (_text, False),  # a part judged on documents too (G14, G15)
    },
    "rotation": {"min_rotation_percent": (_number, True), "min_key_percent": (_number, True)},
    "certified_teachers": {"min_percent": (_number, True)},
    "retention": {"min_percent": (_number, True)},
    "disabled_enrolment": {"min_percent": (_number, True)},
    "training_funds": {"min_percent": (_number, True), "school_types": (SCHOOL_TYPE_LIST, False)},
    "quality_monitoring": {
        "max_difference_rate": (_number, True), "difference_rate": (_choice(*DIFFERENCE_RATES), True),
        "min_level3_percent": (_number, True),
        "difference_rate_source": (_text, False), "min_level3_percent_source": (_text, False),
    },
    "satisfaction": {
        "min_percent": (_number, True), "required_groups": (_one_of(SURVEY_GROUPS, "respondent group"), False),
        "confidence": (_number, True), "min_group_sample": (_integer, True), "score_cutoff": (_integer, True),
        "decide_on": (_choice(*DECIDE_ON), False), "require_each_group": (_flag, False),
    },
}

_DISTRICT_ITEM = _one_of(DISTRICT_ITEMS, "district item")


def _school_sum(value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping) or set(value) != {"indicator", "stage", "baseline_item"}:
        raise ValueError("expected { indicator = \"R4\", stage = \"primary\", baseline_item = \"<district item>\" }")
    STAGE_KEYS(value["stage"])
    _DISTRICT_ITEM(value["baseline_item"])
    return value


_COVERAGE_TABLES: tuple[str, ...] = ("schools", "facilities", "staff_training")
#: What each plan measure reads from its ``[plan_targets.<id>]`` table.
PLAN_MEASURE_PARAMS: dict[str, dict[str, tuple[Kind, bool]]] = {
    "district_value": {
        "item": (_DISTRICT_ITEM, True),
        # cross-check against the schools' own figures (evaluation/cross_checks.py)
        "school_sum": (_school_sum, False), "cross_check_tolerance_percent": (_number, False),
    },
    "key_teacher_shortfall": {"per_100_students": (_number, True), "school_types": (SCHOOL_TYPE_LIST, False)},
    "training_funds_shortfall": {"min_percent": (_number, True), "school_types": (SCHOOL_TYPE_LIST, False)},
    "trained_staff_shortfall": {"min_share": (_number, True), "school_types": (SCHOOL_TYPE_LIST, False)},
    "music_art_room_shortfall": {"classes_per_room": (_integer, True), "school_types": (SCHOOL_TYPE_LIST, False)},
    "labour_room_shortfall": {"min_rooms": (_integer, True), "school_types": (SCHOOL_TYPE_LIST, False)},
    "budget_min_growth": {"item": (_DISTRICT_ITEM, True)},
    # evaluation/plan_coverage.py
    "item_value": {"item": (_text, True)},
    "indicator_shortfall": {"indicator": (_text, True), "school_types": (SCHOOL_TYPE_LIST, False)},
    "part_of_whole_shortfall": {
        "table": (_choice(*_COVERAGE_TABLES), True), "whole": (_text, True), "part": (_text, True),
        "school_types": (SCHOOL_TYPE_LIST, False),
    },
    "count_minimum_shortfall": {
        "table": (_choice(*_COVERAGE_TABLES), True), "column": (_text, True), "minimum": (_number, True),
        "school_types": (SCHOOL_TYPE_LIST, False),
    },
    "flag_shortfall": {"table": (_choice(*_COVERAGE_TABLES), True), "column": (_text, True), "school_types": (SCHOOL_TYPE_LIST, False)},
    "filled_shortfall": {
        "column": (_text, True), "for_area_types": (_one_of(AREA_TYPES, "area type"), False), "for_flag": (_text, False),
        "missing_note": (_text, False), "school_types": (SCHOOL_TYPE_LIST, False),
    },
}
