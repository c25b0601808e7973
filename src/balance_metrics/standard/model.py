"""The standard's typed model: one frozen dataclass per part of a standard file.

:class:`Standard` is what :func:`~balance_metrics.standard.loader.load_standard`
returns: every part parsed and checked (:mod:`~balance_metrics.standard.checking`)
before anything is computed. Numbers that verdicts depend on are
:class:`fractions.Fraction`. The merged TOML stays available as ``data`` for
tracing a value back to its file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import pandas as pd

from balance_metrics.common.errors import StandardError
from balance_metrics.common.labels import percent_text


def exact(value: Any) -> Fraction:
    """A number from a standard file as an exact fraction.

    Strings and ints convert exactly; floats go through their shortest ``repr``
    so that ``4.5`` means 9/2, not the binary approximation.

    Examples
    --------
    >>> exact("0.85"), exact(4.5), exact("1/3")
    (Fraction(17, 20), Fraction(9, 2), Fraction(1, 3))
    """
    if isinstance(value, bool):
        raise StandardError(f"expected a number, got {value!r}")
    if isinstance(value, float):
        value = repr(value)
    try:
        return Fraction(value)
    except (TypeError, ValueError, ZeroDivisionError) as exc:
        raise StandardError(f"expected a number, got {value!r}") from exc


@dataclass(frozen=True)
class Indicator:
    """One resource indicator (``[indicators.R1]``): value = Σ term × column × scale ÷ students."""

    id: str
    name: str
    name_en: str
    unit: str
    basis: str
    terms: Mapping[str, Fraction]
    scale: Fraction
    thresholds: Mapping[str, Fraction]
    source: str = ""


@dataclass(frozen=True)
class Scope:
    """``[scope]``: which schools and sections are evaluated."""

    stages: tuple[str, ...]
    excluded_school_types: tuple[str, ...]
    teaching_point_type: str
    teaching_point_min_students: int
    include_private: bool
    merge_campuses: bool


@dataclass(frozen=True)
class SectionRule:
    """``[section_rule]``: a section passes with ``min_indicators_met`` indicators at their
    thresholds and every other one at least ``floor_factor`` × threshold."""

    min_indicators_met: int
    floor_factor: Fraction


@dataclass(frozen=True)
class BalanceRule:
    """``[balance]``: CV limits per stage and the rounding used before comparing."""

    cv_limits: Mapping[str, Fraction]
    compare_decimals: int | None
    display_decimals: int


@dataclass(frozen=True)
class ItemSpec:
    """One item of the whole evaluation (``[items.G4]``).

    ``rule`` names the rule that judges it (``None`` when ``same_as`` another
    item); ``params`` is the item's whole table, the numbers the rule needs.
    """

    id: str
    area: str
    area_name: str
    name: str
    scope: str
    rule: str | None
    same_as: str | None
    responsible: str
    source: str
    params: Mapping[str, Any]


@dataclass(frozen=True)
class SurveySettings:
    """Satisfaction rules (the item with rule ``satisfaction``, S1)."""

    item_id: str
    min_percent: Fraction
    required_groups: tuple[str, ...]
    confidence: Fraction
    min_group_sample: int
    score_cutoff: int
    decide_on: str
    require_each_group: bool


@dataclass(frozen=True)
class RemedyRule:
    """How a gap in one indicator is closed (``[remediation.indicators]``)."""

    indicator: str
    resource: str
    label: str
    action: str
    unit: str
    step: Fraction


@dataclass(frozen=True)
class Remediation:
    """``[remediation]``: the resource per indicator and unit costs ([C] assumptions)."""

    currency: str
    indicators: Mapping[str, RemedyRule]
    unit_costs: Mapping[str, Fraction]


@dataclass(frozen=True)
class PlanningAction:
    """One action of the district planner (``[planning.actions.<name>]``, or a
    rotation kind ``[planning.rotation.kinds.<kind>]`` named ``rotate_<kind>``).

    ``columns`` maps data-contract columns to what one unit adds (contract
    units); ``step`` is the size of one unit; ``resource`` names its unit cost
    in ``[remediation.unit_costs]``.
    """

    name: str
    label: str
    table: str
    resource: str
    columns: Mapping[str, Fraction]
    step: Fraction = Fraction(1)
    rotation: bool = False


@dataclass(frozen=True)
class RotationRules:
    """``[planning.rotation]``: 交流轮岗 between the schools of a district.

    Attributes
    ----------
    max_out_share_per_year : Fraction
        Most a section gives up per year, as a share of its teachers (rounded down).
    min_share : mapping of str to Fraction
        Column -> least share of the rotated ``share_of`` column per district and
        year, e.g. ``{"key_teachers": 1/5}``: key teachers ≥ 20 % of the rotated teachers.
    share_of : str
        The column ``min_share`` is a share of (``"teachers"``).
    """

    label: str
    resource: str
    max_out_share_per_year: Fraction
    min_share: Mapping[str, Fraction]
    share_of: str
    kinds: Mapping[str, PlanningAction]
    source: str = ""


@dataclass(frozen=True)
class AnnualCap:
    """``[planning.annual_caps.<name>]``: the most a district does per year of some actions.

    ``measure`` is ``"units"`` (units of the actions' steps, e.g. teachers hired)
    or ``"cost"`` (元 spent); ``limit`` is ``None`` when the standard sets none
    (a district sets its own in an override file).
    """

    name: str
    label: str
    actions: tuple[str, ...]
    measure: str
    limit: Fraction | None
    unit: str = ""


@dataclass(frozen=True)
class Planning:
    """``[planning]``: the district planner's actions, rotation rules and yearly caps ([C] assumptions)."""

    gap: Fraction
    time_limit: float
    actions: Mapping[str, PlanningAction]
    rotation: RotationRules | None
    annual_caps: Mapping[str, AnnualCap]
    source: str = ""

    def all_actions(self) -> dict[str, PlanningAction]:
        """The actions and the rotation kinds (``rotate_<kind>``), by name."""
        return dict(self.actions) | dict(self.rotation.kinds if self.rotation else {})


@dataclass(frozen=True)
class MonitoringRules:
    """The standard's ``[monitoring]`` table, parsed.

    Attributes
    ----------
    deadline, next_inspection : pandas.Timestamp or None
        Dates (``None`` when the standard sets none).
    at_risk_tolerance : float
        Fraction of a target's value by which a projection may miss it and
        still count as "at risk" rather than "off track".
    section_pass_target : float
        Required share (0–1) of sections passing per stage.
    """

    deadline: pd.Timestamp | None
    next_inspection: pd.Timestamp | None
    at_risk_tolerance: float
    section_pass_target: float


@dataclass(frozen=True)
class PlanTarget:
    """One of a local plan's own targets (``[plan_targets.P01]``).

    ``params`` is the target's whole table (the measure's parameters).
    """

    id: str
    name: str
    measure: str
    scope: str
    requirement: Fraction
    comparison: str
    unit: str
    deadline: pd.Timestamp
    responsible: str
    source: str
    params: Mapping[str, Any]


@dataclass(frozen=True)
class Standard:
    """A resolved standard: metadata, every part parsed, and the merged data.

    Attributes
    ----------
    name, title, version : str
    chain : tuple of str
        The standards merged, base first (e.g. national-2017, tianjin-2021, beichen-2021).
    data : Mapping
        The merged TOML tables.
    indicators : mapping of str to Indicator
        R1..R7 in order.
    scope, section_rule, balance_rule : Scope, SectionRule, BalanceRule
    weights : mapping of school type to (stage -> Fraction)
        Split weights of combined schools.
    items : mapping of str to ItemSpec
        The evaluation's items in reporting order (area, then file order).
    survey : SurveySettings or None
    remediation : Remediation
    monitoring : MonitoringRules
    plan_targets : mapping of str to PlanTarget
        Empty for the national standard.
    blocking_statuses : tuple of str
        Item statuses that keep the district from applying.
    planning : Planning or None
        The district planner's tables (``None`` when the standard has none).
    """

    name: str
    title: str
    version: str
    chain: tuple[str, ...]
    data: Mapping[str, Any] = field(repr=False)
    indicators: Mapping[str, Indicator] = field(default_factory=dict, repr=False)
    scope: Scope | None = field(default=None, repr=False)
    section_rule: SectionRule | None = field(default=None, repr=False)
    balance_rule: BalanceRule | None = field(default=None, repr=False)
    weights: Mapping[str, Mapping[str, Fraction]] = field(default_factory=dict, repr=False)
    items: Mapping[str, ItemSpec] = field(default_factory=dict, repr=False)
    survey: SurveySettings | None = field(default=None, repr=False)
    remediation: Remediation | None = field(default=None, repr=False)
    monitoring: MonitoringRules | None = field(default=None, repr=False)
    plan_targets: Mapping[str, PlanTarget] = field(default_factory=dict, repr=False)
    blocking_statuses: tuple[str, ...] = field(default=(), repr=False)
    planning: Planning | None = field(default=None, repr=False)

    # -- resource indicators -------------------------------------------------
    @property
    def indicator_ids(self) -> list[str]:
        return list(self.indicators)

    @property
    def stages(self) -> list[str]:
        return list(self.scope.stages)

    def indicator(self, indicator_id: str) -> Mapping[str, Any]:
        """The raw ``[indicators.<id>]`` table (see :attr:`indicators` for the typed one)."""
        return self.data["indicators"][indicator_id]

    def threshold(self, indicator_id: str, stage: str) -> Fraction:
        """Threshold of an indicator for a stage, exact."""
        return self.indicators[indicator_id].thresholds[stage]

    def floor(self, indicator_id: str, stage: str) -> Fraction:
        """The floor (``floor_factor`` × threshold; 85 % nationally), exact."""
        return self.threshold(indicator_id, stage) * self.floor_factor

    @property
    def floor_factor(self) -> Fraction:
        return self.section_rule.floor_factor

    @property
    def floor_percent(self) -> str:
        """The floor factor as a report states it, e.g. ``"85%"``."""
        return percent_text(self.floor_factor)

    @property
    def min_indicators_met(self) -> int:
        return self.section_rule.min_indicators_met

    def cv_limit(self, stage: str) -> Fraction:
        return self.balance_rule.cv_limits[stage]

    @property
    def compare_decimals(self) -> int | None:
        """Decimals to round to (half-up) before comparing; ``None`` = unrounded."""
        return self.balance_rule.compare_decimals

    @property
    def display_decimals(self) -> int:
        return self.balance_rule.display_decimals

    def split_weights(self, school_type: str) -> dict[str, Fraction] | None:
        weights = self.weights.get(school_type)
        return None if weights is None else dict(weights)

    def indicators_frame(self) -> pd.DataFrame:
        """One row per indicator × stage: names, unit, threshold, floor."""
        rows = [
            {
                "indicator": ind.id,
                "name": ind.name,
                "name_en": ind.name_en,
                "unit": ind.unit,
                "stage": stage,
                "threshold": float(ind.thresholds[stage]),
                "floor": float(ind.thresholds[stage] * self.floor_factor),
                "cv_limit": float(self.cv_limit(stage)),
                "source": ind.source,
            }
            for ind in self.indicators.values()
            for stage in self.stages
        ]
        return pd.DataFrame(rows)

    def get(self, dotted: str, default: Any = None) -> Any:
        """A raw value by dotted path, e.g. ``standard.get("items.G4.limits")``."""
        node: Any = self.data
        for part in dotted.split("."):
            if not isinstance(node, Mapping) or part not in node:
                return default
            node = node[part]
        return node

    @property
    def label(self) -> str:
        return f"{self.name} v{self.version}"
