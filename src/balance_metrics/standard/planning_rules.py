"""Checking and parsing the standard's ``[planning]`` table (the district planner).

Called by :func:`balance_metrics.standard.checking.parse` with its reader, so a
broken planning table (an action whose resource has no unit cost, a negative
cost or cap, an unknown column or action, a share outside 0–1) is reported with
every other problem of the file at load: file, key, value, rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from balance_metrics.contract.schema import FACILITIES, SECTIONS
from balance_metrics.standard.kinds import _choice, _number, _text, _texts
from balance_metrics.standard.model import AnnualCap, Planning, PlanningAction, RotationRules

__all__ = ["CAP_MEASURES", "ROTATE", "TABLES", "parse_planning"]

#: Where an action adds: the section's own row or the whole school's facilities.
TABLES: dict[str, Any] = {"sections": SECTIONS, "facilities": FACILITIES}
#: What an annual cap counts: units of the actions' steps, or 元 spent on them.
CAP_MEASURES: tuple[str, ...] = ("units", "cost")
#: Rotation kinds are actions named ``rotate_<kind>``.
ROTATE = "rotate"


def _share(value: Any) -> Fraction:
    number = _number(value)
    if not 0 <= number <= 1:
        raise ValueError("must lie between 0 and 1")
    return number


def _positive(value: Any) -> Fraction:
    number = _number(value)
    if number <= 0:
        raise ValueError("must be > 0")
    return number


def _non_negative(value: Any) -> Fraction:
    number = _number(value)
    if number < 0:
        raise ValueError("must be ≥ 0")
    return number


def _columns(r: Any, path: tuple[str, ...], table: str) -> dict[str, Fraction]:
    node = r.table((*path, "columns"))
    if not node:
        r.problem((*path, "columns"), node, "an action must add to at least one data-contract column")
    known = TABLES[table].names
    result = {}
    for column, amount in node.items():
        if column not in known:
            r.problem((*path, "columns", column), amount, f"not a column of the {table} table")
            continue
        result[column] = r.value((*path, "columns", column), _positive, default=Fraction(0))
    return result


def _resource(r: Any, path: tuple[str, ...], costs: Mapping[str, Fraction]) -> str:
    resource = r.value((*path, "resource"), _text, default="")
    if resource and resource not in costs:
        r.problem((*path, "resource"), resource, f"no unit cost for it in remediation.unit_costs ({', '.join(costs)})")
    return resource


def _action(r: Any, name: str, spec: Any, costs: Mapping[str, Fraction]) -> PlanningAction | None:
    path = ("planning", "actions", name)
    if not r.table(path, spec):
        return None
    table = r.value((*path, "table"), _choice(*TABLES), default=None)
    if table is None:
        return None
    return PlanningAction(
        name=name, label=r.value((*path, "label"), _text, required=False, default=name), table=table,
        resource=_resource(r, path, costs), columns=_columns(r, path, table),
        step=r.value((*path, "step"), _positive, required=False, default=Fraction(1)),
    )


def _rotation(r: Any, costs: Mapping[str, Fraction]) -> RotationRules | None:
    base = ("planning", "rotation")
    if not r.table(base, required=False):
        return None
    label = r.value((*base, "label"), _text, required=False, default="交流轮岗")
    kinds = {}
    for kind, spec in r.table((*base, "kinds")).items():
        path = (*base, "kinds", kind)
        if not r.table(path, spec):
            continue
        name = f"{ROTATE}_{kind}"
        kinds[name] = PlanningAction(
            name=name, label=f"{label}（{r.value((*path, 'label'), _text, required=False, default=kind)}）",
            table="sections", resource="", columns=_columns(r, path, "sections"), rotation=True,
        )
    share_of = r.value((*base, "share_of"), _text, required=False, default="teachers")
    if share_of not in SECTIONS.names:
        r.problem((*base, "share_of"), share_of, "not a column of the sections table")
    min_share = {}
    for column in r.table((*base, "min_share"), required=False):
        if column not in SECTIONS.names:
            r.problem((*base, "min_share", column), column, "not a column of the sections table")
        min_share[column] = r.value((*base, "min_share", column), _share, default=Fraction(0))
    resource = _resource(r, base, costs)
    kinds = {k: PlanningAction(**{**a.__dict__, "resource": resource}) for k, a in kinds.items()}
    return RotationRules(
        label=label, resource=resource,
        max_out_share_per_year=r.value((*base, "max_out_share_per_year"), _share, default=Fraction(0)),
        min_share=min_share, share_of=share_of, kinds=kinds,
        source=r.value((*base, "source"), _text, required=False, default=""),
    )


def _caps(r: Any, known: Mapping[str, PlanningAction]) -> dict[str, AnnualCap]:
    result = {}
    for name, spec in r.table(("planning", "annual_caps"), required=False).items():
        path = ("planning", "annual_caps", name)
        if not r.table(path, spec):
            continue
        actions = r.value((*path, "actions"), _texts, default=())
        for action in actions:
            if action not in known:
                r.problem((*path, "actions"), action, f"unknown planning action; known: {', '.join(known)}")
        if not actions:
            r.problem((*path, "actions"), list(actions), "a cap must name at least one action")
        result[name] = AnnualCap(
            name=name, label=r.value((*path, "label"), _text, required=False, default=name), actions=tuple(actions),
            measure=r.value((*path, "measure"), _choice(*CAP_MEASURES), default="units"),
            limit=r.value((*path, "limit"), _non_negative, required=False, default=None),
            unit=r.value((*path, "unit"), _text, required=False, default=""),
        )
    return result


def parse_planning(r: Any, costs: Mapping[str, Fraction]) -> Planning | None:
    """The typed ``[planning]`` table, its problems recorded on the reader ``r``.

    Parameters
    ----------
    r : checking._Reader
        Collects problems (file, key, value, rule).
    costs : mapping of str to Fraction
        ``[remediation.unit_costs]``: every action's resource must be priced there.

    Returns
    -------
    Planning or None
        ``None`` when the standard has no ``[planning]`` table.
    """
    if not r.table(("planning",), required=False):
        return None
    actions = {}
    specs = r.table(("planning", "actions"))
    if not specs:
        r.problem(("planning", "actions"), specs, "the planner needs at least one action")
    for name, spec in specs.items():
        if (action := _action(r, name, spec, costs)) is not None:
            actions[name] = action
    rotation = _rotation(r, costs)
    known = actions | (dict(rotation.kinds) if rotation else {})
    gap = r.value(("planning", "gap"), _share, required=False, default=Fraction(1, 1000))
    return Planning(
        gap=gap, time_limit=float(r.value(("planning", "time_limit"), _positive, required=False, default=Fraction(60))),
        actions=actions, rotation=rotation, annual_caps=_caps(r, known),
        source=r.value(("planning", "source"), _text, required=False, default=""),
    )
