"""The planner's actions and their unit costs, read from the standard.

An action adds, per unit, fixed amounts to data-contract columns (a hired key
teacher: ``teachers``, ``teachers_above_degree``, ``key_teachers`` and
``certified_teachers`` each + 1). ``table`` says where: ``"sections"``
(the school section's own row) or ``"facilities"`` (the whole school, shared
out between its sections like the existing totals). A rotation kind moves the
same bundle of columns from one section to another of the same stage.

Which actions exist, what they add and what they cost are data
(``[planning]`` and ``[remediation.unit_costs]`` of the standard); a mapping
of cost overrides replaces unit costs by resource name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from balance_metrics.common.errors import StandardError, StandardProblem
from balance_metrics.standard.loader import Standard, exact
from balance_metrics.standard.planning_rules import ROTATE

__all__ = ["ROTATE", "Action", "planning_actions", "rotation_share"]


@dataclass(frozen=True)
class Action:
    """One kind of action.

    Attributes
    ----------
    name : str
        Key in the standard, e.g. ``"hire_key_teacher"``, or ``"rotate_<kind>"``.
    label : str
        Chinese label for reports.
    table : {"sections", "facilities"}
    resource : str
        Key of the unit cost in ``remediation.unit_costs``.
    columns : tuple of (str, Fraction)
        Data-contract column -> amount one unit adds (contract units).
    step : Fraction
        Size of one unit in the first column's contract units (1 person, 0.01 m²).
    unit_cost : Fraction
        元 per unit of ``step`` × 1 (i.e. per contract unit of the first column).
    rotation : bool
        A move between sections (cost per teacher moved) rather than an addition.
    """

    name: str
    label: str
    table: str
    resource: str
    columns: tuple[tuple[str, Fraction], ...]
    step: Fraction
    unit_cost: Fraction
    rotation: bool = False

    @property
    def primary(self) -> str:
        """The column the action is named after (its first)."""
        return self.columns[0][0]

    @property
    def cost_per_step(self) -> Fraction:
        """元 per unit of :attr:`step`."""
        return self.unit_cost * self.step


def _costs(standard: Standard, overrides: Mapping[str, Any] | None) -> dict[str, Fraction]:
    """Unit costs (元) of the standard, with call-time overrides checked: every problem at once."""
    table = dict(standard.remediation.unit_costs) if standard.remediation else {}
    problems = []
    for resource, raw in (overrides or {}).items():
        if resource not in table:
            problems.append(StandardProblem("costs", resource, repr(raw), f"unknown resource; known: {', '.join(table)}"))
            continue
        try:
            value = exact(raw)
        except StandardError:
            problems.append(StandardProblem("costs", resource, repr(raw), "expected a number (元)"))
            continue
        if value < 0:
            problems.append(StandardProblem("costs", resource, repr(raw), "a unit cost must be ≥ 0 (元)"))
        table[resource] = value
    if problems:
        raise StandardError(problems, source=f"{standard.name} (cost overrides)")
    return table


def planning_actions(standard: Standard, costs: Mapping[str, Any] | None = None) -> dict[str, Action]:
    """Every action of the standard's ``[planning]`` table, rotation kinds included.

    The table itself is checked when the standard loads
    (:mod:`balance_metrics.standard.planning_rules`); here the unit costs are
    attached, with ``costs`` overriding them.

    Parameters
    ----------
    standard : Standard
    costs : mapping, optional
        Resource -> unit cost (元), overriding ``remediation.unit_costs``.

    Raises
    ------
    StandardError
        The standard has no ``[planning]`` table; or, listing every problem
        (``error.problems``), an override naming an unknown resource or a
        negative or non-numeric cost.
    """
    if standard.planning is None:
        raise StandardError(f"standard {standard.name} has no [planning] table (does it extend national-2017?)")
    unit_costs = _costs(standard, costs)
    return {
        name: Action(
            name=name, label=spec.label, table=spec.table, resource=spec.resource,
            columns=tuple(spec.columns.items()), step=spec.step, unit_cost=unit_costs[spec.resource],
            rotation=spec.rotation,
        )
        for name, spec in standard.planning.all_actions().items()
    }


def rotation_share(standard: Standard) -> Fraction:
    """Most a section gives up per year, as a share of its teachers."""
    rotation = standard.planning.rotation if standard.planning else None
    return rotation.max_out_share_per_year if rotation else Fraction(0)
