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

from balance_metrics.common.errors import StandardError
from balance_metrics.contract.schema import FACILITIES, SECTIONS
from balance_metrics.standard.loader import Standard, exact

ROTATE = "rotate"


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


def _costs(standard: Standard, overrides: Mapping[str, Any] | None, problems: list[str]) -> dict[str, Fraction]:
    table = {k: v.get("cost") for k, v in (standard.get("remediation.unit_costs") or {}).items()}
    unknown = sorted(set(overrides or {}) - set(table))
    if unknown:
        problems.append(f"cost overrides name unknown resource(s) {unknown}; known: {sorted(table)}")
    table |= {k: v for k, v in (overrides or {}).items() if k in table}
    costs = {}
    for resource, raw in table.items():
        try:
            value = exact(raw)
        except (TypeError, ValueError, ZeroDivisionError):
            problems.append(f"unit cost of {resource!r} is not a number: {raw!r}")
            continue
        if value < 0:
            problems.append(f"unit cost of {resource!r} is negative: {raw!r} (元)")
        costs[resource] = value
    return costs


def _columns(name: str, table: str, spec: Mapping[str, Any], problems: list[str]) -> tuple[tuple[str, Fraction], ...]:
    allowed = set((SECTIONS if table == "sections" else FACILITIES).names)
    columns = spec.get("columns") or {}
    if not columns:
        problems.append(f"planning action {name!r} adds to no column")
    bad = sorted(set(columns) - allowed)
    if bad:
        problems.append(f"planning action {name!r} names column(s) {bad} not in the {table} table")
    return tuple((c, exact(v)) for c, v in columns.items())


def planning_actions(standard: Standard, costs: Mapping[str, Any] | None = None) -> dict[str, Action]:
    """Every action of the standard's ``[planning]`` table, rotation kinds included.

    Parameters
    ----------
    standard : Standard
    costs : mapping, optional
        Resource -> unit cost (元), overriding ``remediation.unit_costs``.

    Raises
    ------
    StandardError
        Listing every problem: a resource without a unit cost, a negative or
        non-numeric cost, an unknown column or override.
    """
    problems: list[str] = []
    unit_costs = _costs(standard, costs, problems)
    actions: dict[str, Action] = {}
    specs = standard.get("planning.actions") or {}
    if not specs:
        problems.append(f"standard {standard.name} has no [planning.actions] table")
    for name, spec in specs.items():
        table = spec.get("table", "")
        if table not in ("sections", "facilities"):
            problems.append(f"planning action {name!r}: table must be 'sections' or 'facilities', got {table!r}")
            continue
        resource = spec.get("resource", "")
        if resource not in unit_costs:
            problems.append(f"planning action {name!r}: resource {resource!r} has no unit cost in [remediation.unit_costs]")
        actions[name] = Action(
            name=name,
            label=spec.get("label", name),
            table=table,
            resource=resource,
            columns=_columns(name, table, spec, problems),
            step=exact(spec.get("step", "1")),
            unit_cost=unit_costs.get(resource, Fraction(0)),
        )
    rotation = standard.get("planning.rotation") or {}
    resource = rotation.get("resource", "rotation")
    if rotation.get("kinds") and resource not in unit_costs:
        problems.append(f"rotation resource {resource!r} has no unit cost in [remediation.unit_costs]")
    for kind, spec in (rotation.get("kinds") or {}).items():
        name = f"{ROTATE}_{kind}"
        actions[name] = Action(
            name=name,
            label=f"{rotation.get('label', '交流轮岗')}（{spec.get('label', kind)}）",
            table="sections",
            resource=resource,
            columns=_columns(name, "sections", spec, problems),
            step=Fraction(1),
            unit_cost=unit_costs.get(resource, Fraction(0)),
            rotation=True,
        )
    if problems:
        raise StandardError(f"{len(problems)} problem(s) in the planning tables of {standard.name}:\n" + "\n".join(f"  - {p}" for p in problems))
    return actions


def rotation_share(standard: Standard) -> Fraction:
    """Most a section gives up per year, as a share of its teachers."""
    return exact(standard.get("planning.rotation.max_out_share_per_year", "0"))
