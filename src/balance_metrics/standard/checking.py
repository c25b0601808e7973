"""Checking a merged standard whole and parsing it into the typed model.

:func:`parse` reads every part of a standard (scope, split weights, section
rule, balance, indicators, items, survey settings, remediation, monitoring,
plan targets) into :mod:`~balance_metrics.standard.model` objects. It collects
*every* problem (file, key, value, rule) and raises one
:class:`~balance_metrics.common.errors.StandardError` listing them all, so a
broken file fails at load, never inside a report.

What each item rule and plan measure needs from the file is declared here
(:data:`ITEM_RULE_PARAMS`, :data:`PLAN_MEASURE_PARAMS`); the evaluation
package implements exactly these rules (a test keeps both in step).
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from balance_metrics.common.errors import StandardError, StandardProblem
from balance_metrics.common.labels import percent_text
from balance_metrics.contract.schema import FACILITIES, SCHOOL_TYPES, SECTIONS, STAGES
from balance_metrics.standard.kinds import (
    AREAS, COMPARISONS, ITEM_RULE_PARAMS, ITEM_SCOPES, ITEM_STATUSES, PLAN_MEASURE_PARAMS, SCHOOL_TYPE_LIST, Kind,
    _choice, _date, _flag, _integer, _number, _numbers, _optional_date, _text, _texts,
)
from balance_metrics.standard.model import (
    BalanceRule, Indicator, ItemSpec, MonitoringRules, PlanTarget, Remediation, RemedyRule, Scope, SectionRule,
    SurveySettings, exact,
)
from balance_metrics.standard.planning_rules import parse_planning

__all__ = ["AREAS", "ITEM_RULE_PARAMS", "PLAN_MEASURE_PARAMS", "parse"]

Path = tuple[str, ...]


class _Reader:
    """Reads values out of the merged data, collecting problems instead of stopping."""

    def __init__(self, data: Mapping[str, Any], origins: Mapping[Path, str], top: str) -> None:
        self.data, self.origins, self.top = data, origins, top
        self.problems: list[StandardProblem] = []

    def file_of(self, path: Path, present: bool = True) -> str:
        """The file that set ``path`` (for a table: the last file to set a key in it);
        for a missing key, the file that created its table."""
        if present:
            files = getattr(self.origins, "files", list(dict.fromkeys(self.origins.values())))
            order = {label: i for i, label in enumerate(files)}
            setters = [label for key, label in self.origins.items() if key[:len(path)] == path]
            if setters:
                return max(setters, key=order.__getitem__)
        for n in range(len(path), 0, -1):
            if path[:n] in self.origins:
                return self.origins[path[:n]]
        return self.top

    def problem(self, path: Path, value: Any, rule: str) -> None:
        shown = "" if value is _MISSING else repr(value)
        self.problems.append(StandardProblem(self.file_of(path, value is not _MISSING), ".".join(path), shown, rule))

    def table(self, path: Path, node: Any = None, required: bool = True) -> Mapping[str, Any]:
        node = self._at(path) if node is None else node
        if node is _MISSING:
            if required:
                self.problem(path, _MISSING, "missing table (does the standard extend national-2017?)")
            return {}
        if not isinstance(node, Mapping):
            self.problem(path, node, "expected a table")
            return {}
        return node

    def value(self, path: Path, kind: Kind, required: bool = True, default: Any = None) -> Any:
        node = self._at(path)
        if node is _MISSING:
            if required:
                self.problem(path, _MISSING, "missing")
            return default
        try:
            return kind(node)
        except ValueError as exc:
            self.problem(path, node, str(exc))
            return default

    def _at(self, path: Path) -> Any:
        node: Any = self.data
        for part in path:
            if not isinstance(node, Mapping) or part not in node:
                return _MISSING
            node = node[part]
        return node


_MISSING = object()


def parse(data: Mapping[str, Any], origins: Mapping[Path, str], top: str) -> dict[str, Any]:
    """Every part of a merged standard, typed, or one StandardError listing every problem.

    Parameters
    ----------
    data : mapping
        The merged TOML tables.
    origins : mapping
        Key path -> the file that set it (the last one in the chain wins).
    top : str
        The file (or built-in name) being loaded: blamed for what is missing.

    Returns
    -------
    dict
        Keyword arguments of :class:`~balance_metrics.standard.model.Standard`
        other than name, title, version, chain and data.
    """
    r = _Reader(data, origins, top)
    scope = _scope(r)
    stages = scope.stages if scope else ()
    indicators = _indicators(r, stages)
    parts = {
        "scope": scope,
        "weights": _weights(r),
        "section_rule": SectionRule(
            min_indicators_met=r.value(("section_rule", "min_indicators_met"), _integer, default=0),
            floor_factor=r.value(("section_rule", "floor_factor"), _number, default=Fraction(1)),
        ),
        "balance_rule": _balance(r, stages),
        "indicators": indicators,
        "remediation": _remediation(r, indicators),
        "monitoring": _monitoring(r),
        "plan_targets": _plan_targets(r),
        "planning": None,
        "blocking_statuses": r.value(("evaluation", "blocking_statuses"), _texts, required=False,
                                     default=("fail", "evidence missing")),
    }
    rule = parts["section_rule"]
    if not 0 < rule.floor_factor <= 1:
        r.problem(("section_rule", "floor_factor"), str(rule.floor_factor), "must lie in (0, 1]")
    if indicators and not 0 < rule.min_indicators_met <= len(indicators):
        r.problem(("section_rule", "min_indicators_met"), rule.min_indicators_met, f"must lie between 1 and {len(indicators)}")
    unknown_status = set(parts["blocking_statuses"]) - set(ITEM_STATUSES)
    if unknown_status:
        r.problem(("evaluation", "blocking_statuses"), sorted(unknown_status), f"statuses are {', '.join(ITEM_STATUSES)}")
    parts["items"], parts["survey"] = _items(r)
    parts["planning"] = parse_planning(r, parts["remediation"].unit_costs)
    if r.problems:
        raise StandardError(r.problems, source=top)
    return parts


def _scope(r: _Reader) -> Scope | None:
    if not r.table(("scope",)):
        return None
    stages = r.value(("scope", "stages"), _texts, default=())
    for stage in stages:
        if stage not in STAGES:
            r.problem(("scope", "stages"), stage, f"unknown stage; known: {', '.join(STAGES)}")
    return Scope(
        stages=tuple(stages),
        excluded_school_types=r.value(("scope", "excluded_school_types"), SCHOOL_TYPE_LIST, required=False, default=()),
        teaching_point_type=r.value(("scope", "teaching_point_type"), _text, required=False, default="teaching_point"),
        teaching_point_min_students=r.value(("scope", "teaching_point_min_students"), _integer, required=False, default=0),
        include_private=r.value(("scope", "include_private"), _flag, required=False, default=True),
        merge_campuses=r.value(("scope", "merge_campuses"), _flag, required=False, default=True),
    )


def _weights(r: _Reader) -> dict[str, dict[str, Fraction]]:
    result = {}
    for school_type, weights in r.table(("split_weights",)).items():
        if school_type == "source":
            continue
        path = ("split_weights", school_type)
        if school_type not in SCHOOL_TYPES:
            r.problem(path, school_type, f"unknown school type; known: {', '.join(SCHOOL_TYPES)}")
        table = r.table(path, weights)
        result[school_type] = {stage: r.value((*path, stage), _number, default=Fraction(1))
                               for stage in table if stage != "source"}
    return result


def _balance(r: _Reader, stages: tuple[str, ...]) -> BalanceRule:
    r.table(("balance",))
    limits = {stage: r.value(("balance", "cv_limits", stage), _number, default=Fraction(0)) for stage in stages}
    digits = r.value(("balance", "compare_decimals"), _integer, required=False, default=-1)
    return BalanceRule(
        cv_limits=limits,
        compare_decimals=None if digits < 0 else digits,
        display_decimals=r.value(("balance", "display_decimals"), _integer, required=False, default=3),
    )


def _indicators(r: _Reader, stages: tuple[str, ...]) -> dict[str, Indicator]:
    table = r.table(("indicators",))
    columns = {"section": set(SECTIONS.names), "facility": set(FACILITIES.names)}
    result = {}
    for ind in sorted(table, key=lambda i: (len(i), i)):
        path = ("indicators", ind)
        r.table(path, table[ind])
        basis = r.value((*path, "basis"), _choice("section", "facility"), default="section")
        terms = r.value((*path, "terms"), _numbers, default={})
        for column in terms:
            if column not in columns[basis]:
                r.problem((*path, "terms"), column, f"no column {column!r} in the {basis} table")
        result[ind] = Indicator(
            id=ind,
            name=r.value((*path, "name"), _text, default=ind),
            name_en=r.value((*path, "name_en"), _text, required=False, default=""),
            unit=r.value((*path, "unit"), _text, required=False, default=""),
            basis=basis,
            terms=terms,
            scale=r.value((*path, "scale"), _number, default=Fraction(1)),
            thresholds={stage: r.value((*path, "thresholds", stage), _number, default=Fraction(0)) for stage in stages},
            source=r.value((*path, "source"), _text, required=False, default=""),
        )
    return result


def _items(r: _Reader) -> tuple[dict[str, ItemSpec], SurveySettings | None]:
    table = r.table(("items",))
    areas = r.table(("areas",), required=False)
    wording = _rule_wording(r)
    specs, survey = [], None
    for position, (item_id, spec) in enumerate(table.items()):
        path = ("items", item_id)
        spec = r.table(path, spec)
        area = r.value((*path, "area"), _choice(*AREAS), default="")
        same_as = r.value((*path, "same_as"), _text, required=False)
        if same_as is not None and same_as not in table:
            r.problem((*path, "same_as"), same_as, "names no item")
        rule = None
        if same_as is None:
            rule = r.value((*path, "rule"), _choice(*ITEM_RULE_PARAMS), default=None)
            for key, (kind, required) in ITEM_RULE_PARAMS.get(rule, {}).items():
                r.value((*path, key), kind, required=required)
        item = ItemSpec(
            id=item_id,
            area=area,
            area_name=str(areas.get(area, area)),
            name=_worded(r, (*path, "name"), wording, item_id),
            scope=r.value((*path, "scope"), _choice(*ITEM_SCOPES), default="district"),
            rule=rule,
            same_as=same_as,
            responsible=r.value((*path, "responsible"), _text, required=False, default=""),
            source=r.value((*path, "source"), _text, required=False, default=""),
            params=spec,
        )
        specs.append((AREAS.index(area) if area in AREAS else len(AREAS), position, item))
        if rule == "satisfaction" and survey is None:
            survey = _survey(r, item_id, spec)
    return {item.id: item for _, _, item in sorted(specs, key=lambda e: e[:2])}, survey


def _rule_wording(r: _Reader) -> dict[str, str]:
    """Values an item's name may quote as ``{placeholder}``: the rules' numbers as written."""
    words = {
        "min_indicators_met": str(r.data.get("section_rule", {}).get("min_indicators_met", "")),
        "floor_percent": percent_text(exact(r.data.get("section_rule", {}).get("floor_factor", 1)))
        if _is_number(r.data.get("section_rule", {}).get("floor_factor", 1)) else "",
        "indicator_count": str(len(r.data.get("indicators", {}))),
    }
    for stage, limit in r.data.get("balance", {}).get("cv_limits", {}).items():
        words[f"cv_limit_{stage}"] = str(limit)
    return words


def _is_number(value: Any) -> bool:
    try:
        exact(value)
    except StandardError:
        return False
    return True


def _worded(r: _Reader, path: Path, wording: Mapping[str, str], default: str) -> str:
    """An item's name with ``{min_indicators_met}``, ``{floor_percent}``, ``{cv_limit_primary}`` … filled in."""
    text = r.value(path, _text, default=default)
    if "{" not in text:
        return text
    try:
        return text.format_map(wording)
    except (KeyError, ValueError, IndexError) as exc:
        r.problem(path, text, f"unknown placeholder {exc}; known: {', '.join('{' + k + '}' for k in wording)}")
        return text


def _survey(r: _Reader, item_id: str, spec: Mapping[str, Any]) -> SurveySettings:
    path = ("items", item_id)
    return SurveySettings(
        item_id=item_id,
        min_percent=r.value((*path, "min_percent"), _number, required=False, default=Fraction(0)),
        required_groups=tuple(spec.get("required_groups", ())) if isinstance(spec.get("required_groups"), list) else (),
        confidence=r.value((*path, "confidence"), _number, required=False, default=Fraction(95, 100)),
        min_group_sample=r.value((*path, "min_group_sample"), _integer, required=False, default=0),
        score_cutoff=r.value((*path, "score_cutoff"), _integer, required=False, default=4),
        decide_on=str(spec.get("decide_on", "rate")),
        require_each_group=bool(spec.get("require_each_group", False)),
    )


def _remediation(r: _Reader, indicators: Mapping[str, Indicator]) -> Remediation:
    base = ("remediation",)
    r.table(base)
    costs = {}
    for resource, entry in r.table((*base, "unit_costs")).items():
        path = (*base, "unit_costs", resource)
        r.table(path, entry)
        costs[resource] = r.value((*path, "cost"), _number, default=Fraction(0))
        if costs[resource] < 0:
            r.problem((*path, "cost"), str(costs[resource]), "a unit cost must be ≥ 0 (元)")
    rules = {}
    table = r.table((*base, "indicators"))
    for ind, entry in table.items():
        path = (*base, "indicators", ind)
        if ind not in indicators:
            r.problem(path, ind, f"unknown indicator; known: {', '.join(indicators)}")
        r.table(path, entry)
        resource = r.value((*path, "resource"), _text, default="")
        if resource and resource not in costs:
            r.problem((*path, "resource"), resource, f"no unit cost for it in remediation.unit_costs ({', '.join(costs)})")
        rules[ind] = RemedyRule(
            indicator=ind, resource=resource,
            label=r.value((*path, "label"), _text, default=ind),
            action=r.value((*path, "action"), _text, default=""),
            unit=r.value((*path, "unit"), _text, default=""),
            step=r.value((*path, "step"), _number, default=Fraction(1)),
        )
    for ind in indicators:
        if table and ind not in table:
            r.problem((*base, "indicators", ind), _MISSING, "every indicator needs a remediation entry")
    return Remediation(
        currency=r.value((*base, "currency"), _text, required=False, default="元"),
        indicators=rules, unit_costs=costs,
    )


def _monitoring(r: _Reader) -> MonitoringRules:
    base = ("monitoring",)
    r.table(base)
    return MonitoringRules(
        deadline=r.value((*base, "deadline"), _optional_date, required=False),
        next_inspection=r.value((*base, "next_inspection"), _optional_date, required=False),
        at_risk_tolerance=float(r.value((*base, "at_risk_tolerance"), _number, required=False, default=Fraction(0))),
        section_pass_target=float(r.value((*base, "section_pass_target"), _number, required=False, default=Fraction(1))),
    )


def _plan_targets(r: _Reader) -> dict[str, PlanTarget]:
    result = {}
    for target_id, spec in r.table(("plan_targets",), required=False).items():
        path = ("plan_targets", target_id)
        spec = r.table(path, spec)
        measure = r.value((*path, "measure"), _choice(*PLAN_MEASURE_PARAMS), default=None)
        for key, (kind, required) in PLAN_MEASURE_PARAMS.get(measure, {}).items():
            r.value((*path, key), kind, required=required)
        result[target_id] = PlanTarget(
            id=target_id,
            name=r.value((*path, "name"), _text, default=target_id),
            measure=measure,
            scope=r.value((*path, "scope"), _choice(*ITEM_SCOPES), required=False, default="district"),
            requirement=r.value((*path, "requirement"), _number, default=Fraction(0)),
            comparison=r.value((*path, "comparison"), _choice(*COMPARISONS), default=">="),
            unit=r.value((*path, "unit"), _text, default=""),
            deadline=r.value((*path, "deadline"), _date),
            responsible=r.value((*path, "responsible"), _text, required=False, default=""),
            source=r.value((*path, "source"), _text, required=False, default=""),
            params=spec,
        )
    return result
