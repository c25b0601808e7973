"""Solve the planning model and read the plan out: :func:`plan_remediation`."""

from __future__ import annotations

import re
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from pyscipopt import quicksum

from balance_metrics.analysis.planning.actions import Action, planning_actions, rotation_share
from balance_metrics.analysis.planning.model import PlanningModel, build_model, section_frame
from balance_metrics.analysis.scenarios import apply_changes
from balance_metrics.common.errors import DataValidationError, Problem
from balance_metrics.contract.dataset import Dataset
from balance_metrics.engine.resources import ResourceEvaluation, evaluate_resources
from balance_metrics.engine.sections import build_sections
from balance_metrics.standard.loader import DEFAULT_STANDARD, Standard, exact, load_standard

PLAN_COLUMNS = [
    "district_id", "year", "action", "label", "school_id", "school_name", "area_type", "stage", "table", "column",
    "amount", "cost", "move_id", "counterpart_school_id",
]


@dataclass(frozen=True)
class Plan:
    """A district plan from :func:`plan_remediation`.

    Attributes
    ----------
    items : DataFrame
        One row per action × data-contract column (:data:`PLAN_COLUMNS`):
        ``amount`` in contract units (signed: a rotated teacher is − at the
        school giving and + at the school receiving, same ``move_id``), ``cost``
        in 元 (carried by the action's first column; a move's by the receiving
        row), ``year`` (rotation spread over the years by the yearly cap;
        additions in the first year). ``stage`` is empty for facility columns.
    status : str
        "optimal", "gap limit", "time limit", "infeasible", "budget" …
    cost : float
        Total cost (元).
    gap : float
        Relative optimality gap reported by SCIP (0.001 = 0.1 %).
    seconds : float
        Solver time.
    before, after : ResourceEvaluation
        The evaluation before and after the plan (``after`` is re-evaluated
        exactly by the engine, not taken from the model).
    blocking : DataFrame
        When no plan passes: the constraints that cannot be met (kind,
        district_id, stage, indicator, school_id, detail).
    options : dict
    """

    items: pd.DataFrame
    status: str
    cost: float
    gap: float
    seconds: float
    before: ResourceEvaluation
    after: ResourceEvaluation | None
    blocking: pd.DataFrame
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """The after-plan evaluation passes every section and every CV."""
        return self.after is not None and self.after.passed

    def summary(self) -> pd.DataFrame:
        """Cost per action (元), amounts of the primary column, and the CVs before/after."""
        if self.items.empty:
            return pd.DataFrame(columns=["action", "label", "amount", "cost"])
        primary = self.items[self.items["cost"] > 0] if (self.items["cost"] > 0).any() else self.items
        return primary.groupby(["action", "label"], sort=False).agg(amount=("amount", "sum"), cost=("cost", "sum")).reset_index()

    def balance(self) -> pd.DataFrame:
        """CV of every stage × indicator before and after the plan."""
        keys = [k for k in ("district_id", "stage", "indicator") if k in self.before.balance.columns]
        b = self.before.balance[[*keys, "name", "cv", "limit", "passed"]]
        if self.after is None:
            return b.rename(columns={"cv": "cv_before", "passed": "passed_before"})
        a = self.after.balance[[*keys, "cv", "passed"]]
        return b.merge(a, on=keys, suffixes=("_before", "_after"))

    def tables(self) -> dict[str, pd.DataFrame]:
        return {"plan": self.items, "summary": self.summary(), "balance": self.balance(), "blocking": self.blocking}

    def as_scenario(self) -> pd.DataFrame:
        """The plan as a scenario change table (every row an ``add``)."""
        return self.items.assign(action="add")[["action", "school_id", "stage", "column", "amount"]]

    def __repr__(self) -> str:
        return (
            f"Plan(status={self.status!r}, cost={self.cost:,.0f} 元, gap={self.gap:.4%}, "
            f"actions={len(self.items)} rows, passed={self.passed})"
        )


def _years(period: str, deadline: Any) -> tuple[int, int]:
    """(first year, number of years) from the period label and a deadline year or date."""
    first = int(str(period)[:4])
    if deadline in (None, ""):
        return first, 1
    match = re.match(r"^(\d{4})", str(deadline))
    if not match:
        raise ValueError(f"deadline must be a year or an ISO date, got {deadline!r}")
    return first, max(1, int(match.group(1)) - first + 1)


def _check_options(dataset: Dataset, actions: dict[str, Action], exclude_schools: Iterable[str], exclude_actions: Iterable[str]) -> None:
    problems = []
    known = set(dataset.schools["school_id"].astype(str))
    for school in exclude_schools:
        if school not in known:
            problems.append(Problem("options", None, "exclude_schools", school, "unknown school"))
    for name in exclude_actions:
        if name not in actions and name != "rotate":
            problems.append(Problem("options", None, "exclude_actions", name, f"unknown action; known: {', '.join(actions)}"))
    if problems:
        raise DataValidationError(problems, "plan options")


def _status(pm: PlanningModel) -> str:
    return {"optimal": "optimal", "gaplimit": "gap limit", "timelimit": "time limit", "infeasible": "infeasible"}.get(
        pm.model.getStatus(), pm.model.getStatus()
    )


def _value(pm: PlanningModel, var: Any) -> int:
    return int(round(pm.model.getVal(var)))


def _rows(pm: PlanningModel, first_year: int, years: int, share: Any) -> pd.DataFrame:
    """The solution as plan rows (additions, then moves paired donor → receiver)."""
    frame, rows = pm.sections, []
    school_of = frame.groupby("school_id", sort=False).first()

    def base(school: str, stage: str, district: str, action: Action, year: int) -> dict[str, Any]:
        return {
            "district_id": district, "year": year, "action": action.name, "label": action.label, "school_id": school,
            "school_name": school_of.at[school, "school_name"], "area_type": school_of.at[school, "area_type"],
            "stage": stage, "table": action.table, "move_id": "", "counterpart_school_id": "",
        }

    for (name, key), var in pm.adds.items():
        units = _value(pm, var)
        if units <= 0:
            continue
        action = pm.actions[name]
        if action.table == "sections":
            school, stage, district = frame.at[key, "school_id"], frame.at[key, "stage"], frame.at[key, "district_id"]
        else:
            school, stage, district = key, "", school_of.at[key, "district_id"]
        amount = exact(units) * action.step
        for i, (column, per) in enumerate(action.columns):
            rows.append(base(school, stage, district, action, first_year) | {
                "column": column, "amount": float(amount * per), "cost": float(amount * action.unit_cost) if i == 0 else 0.0,
            })
    # Pair donors with receivers per district, stage and kind; spread over years by the yearly cap.
    pools: dict[tuple[str, str, str], tuple[list, list]] = defaultdict(lambda: ([], []))
    for (name, s), var in pm.outs.items():
        if (units := _value(pm, var)) > 0:
            pools[(frame.at[s, "district_id"], frame.at[s, "stage"], name)][0].append([s, units])
    for (name, s), var in pm.inns.items():
        if (units := _value(pm, var)) > 0:
            pools[(frame.at[s, "district_id"], frame.at[s, "stage"], name)][1].append([s, units])
    yearly = {s: int(frame.at[s, "teachers"] * share) for s in range(len(frame))}
    left = defaultdict(int)  # (donor, year) -> teachers already sent
    move = 0
    for (district, stage, name), (donors, receivers) in pools.items():
        action = pm.actions[name]
        donors.sort(key=lambda d: -d[1])
        receivers.sort(key=lambda r: -r[1])
        for receiver in receivers:
            while receiver[1] > 0:
                donor = next(d for d in donors if d[1] > 0)
                year = next((y for y in range(years) if left[(donor[0], y)] < yearly[donor[0]]), years - 1)
                count = min(receiver[1], donor[1], max(1, yearly[donor[0]] - left[(donor[0], year)]))
                left[(donor[0], year)] += count
                donor[1] -= count
                receiver[1] -= count
                move += 1
                giver, taker = frame.at[donor[0], "school_id"], frame.at[receiver[0], "school_id"]
                for i, (column, per) in enumerate(action.columns):
                    common = {"column": column, "move_id": f"M{move:04d}"}
                    rows.append(base(giver, stage, district, action, first_year + year) | common | {
                        "amount": -float(count * per), "cost": 0.0, "counterpart_school_id": taker})
                    rows.append(base(taker, stage, district, action, first_year + year) | common | {
                        "amount": float(count * per), "cost": float(count * action.unit_cost) if i == 0 else 0.0,
                        "counterpart_school_id": giver})
    return pd.DataFrame(rows, columns=PLAN_COLUMNS)


def _blocking(pm: PlanningModel) -> pd.DataFrame:
    """Constraints an elastic solve had to give up: failing sections and CVs over their limit."""
    frame, rows = pm.sections, []
    for s, q in pm.passing.items():
        if pm.model.getVal(q) < 0.5:
            rows.append({"kind": "section", "district_id": frame.at[s, "district_id"], "stage": frame.at[s, "stage"],
                         "indicator": "", "school_id": frame.at[s, "school_id"],
                         "detail": f"{frame.at[s, 'school_name']}（{frame.at[s, 'school_id']}）无法以允许的措施达标"})
    for (district, stage, ind), sigma in pm.slacks.items():
        if pm.model.getVal(sigma) > 1e-6:
            rows.append({"kind": "cv", "district_id": district, "stage": stage, "indicator": ind, "school_id": "",
                         "detail": f"{stage} {ind} 差异系数无法降到限值以内"})
    return pd.DataFrame(rows, columns=["kind", "district_id", "stage", "indicator", "school_id", "detail"])


def _solve(pm: PlanningModel, objective: Any, sense: str, time_limit: float, gap: float) -> None:
    m = pm.model
    m.setObjective(objective, sense)
    m.setParam("limits/time", float(time_limit))
    m.setParam("limits/gap", float(gap))
    m.optimize()


def plan_remediation(
    dataset: Dataset,
    standard: str | Standard = DEFAULT_STANDARD,
    *,
    budget: float | None = None,
    costs: Mapping[str, Any] | None = None,
    exclude_schools: Iterable[str] = (),
    exclude_actions: Iterable[str] = (),
    rotation: bool = True,
    deadline: Any = None,
    prefer_rural: bool = False,
    time_limit: float | None = None,
    gap: float | None = None,
) -> Plan:
    """The least-cost district plan that passes every resource rule.

    Minimises the cost (元) of hiring teachers, adding area, equipment and
    multimedia rooms and rotating teachers between schools so that every
    evaluated section passes (≥ ``min_indicators_met`` indicators met, the rest
    at their 85 % floor) and every 差异系数 is within its limit, per district
    and stage — a mixed-integer second-order-cone programme solved by SCIP
    (see :mod:`balance_metrics.analysis.planning.model`).

    Parameters
    ----------
    dataset : Dataset
    standard : str, Path or Standard
        Its ``[planning]`` and ``[remediation.unit_costs]`` tables define the
        actions and their costs.
    budget : float, optional
        Cap on the cost (元). Then the plan maximises the number of passing
        sections and, among those, minimises the worst CV over its limit.
    costs : mapping, optional
        Resource -> unit cost (元) overrides, e.g. ``{"rotation": 30000}``.
    exclude_schools, exclude_actions : iterable of str
        Schools that take no action (they still count in the CVs); action
        names (``"hire_key_teacher"``, ``"rotate_key_teacher"``, …) not to use.
    rotation : bool, default True
        Allow rotating teachers (交流轮岗).
    deadline : int or str, optional
        Last year (or ISO date) of the plan: the yearly rotation cap applies
        over every year from the period's year to it.
    prefer_rural : bool, default False
        Break ties between equally cheap plans in favour of rural (乡村) schools.
    time_limit : float, optional
        Seconds; default ``planning.time_limit`` of the standard.
    gap : float, optional
        Relative optimality gap to stop at; default ``planning.gap`` (0.001).

    Returns
    -------
    Plan
    """
    std = load_standard(standard)
    actions = planning_actions(std, costs)
    exclude_actions = list(exclude_actions)
    _check_options(dataset, actions, exclude_schools, exclude_actions)
    actions = {
        k: a for k, a in actions.items()
        if k not in exclude_actions and not (a.rotation and (not rotation or "rotate" in exclude_actions))
    }
    time_limit = float(time_limit if time_limit is not None else std.planning.time_limit)
    gap = float(gap if gap is not None else std.planning.gap)
    first_year, years = _years(dataset.period, deadline)
    share = rotation_share(std)
    before = evaluate_resources(dataset, std)
    frame = section_frame(before.sections, build_sections(dataset, std).sections, std)
    common = dict(years=years, rotation_share=share, excluded_schools=frozenset(exclude_schools), prefer_rural=prefer_rural)
    options = dict(budget=budget, costs=dict(costs or {}), exclude_schools=list(exclude_schools), exclude_actions=exclude_actions,
                   rotation=rotation, deadline=deadline, years=years, prefer_rural=prefer_rural, time_limit=time_limit, gap=gap)
    started = time.perf_counter()
    blocking = pd.DataFrame(columns=["kind", "district_id", "stage", "indicator", "school_id", "detail"])
    if budget is None:
        pm = build_model(frame, std, actions, **common)
        _solve(pm, pm.cost, "minimize", time_limit, gap)
        status = _status(pm)
        if pm.model.getNSols() == 0:
            elastic = build_model(frame, std, actions, soft_sections=True, soft_cv=True, **common)
            objective = 1000 * quicksum(1 - q for q in elastic.passing.values()) + quicksum(elastic.slacks.values())
            _solve(elastic, objective, "minimize", time_limit, gap)
            blocking = _blocking(elastic) if elastic.model.getNSols() else blocking
            return Plan(pd.DataFrame(columns=PLAN_COLUMNS), "infeasible" if status == "infeasible" else status,
                        0.0, float("nan"), time.perf_counter() - started, before, None, blocking, options)
    else:
        first = build_model(frame, std, actions, soft_sections=True, require_cv=False, budget=budget, **common)
        _solve(first, quicksum(first.passing.values()), "maximize", time_limit, gap)
        best = int(round(first.model.getObjVal())) if first.model.getNSols() else 0
        pm = build_model(frame, std, actions, soft_sections=True, soft_cv=True, budget=budget, min_passing=best, **common)
        worst = pm.model.addVar("worst_cv_excess", lb=0)
        for key, sigma in pm.slacks.items():
            # CV ÷ limit ≤ 1 + σ ÷ (L·x̄); x̄ taken before the plan (additions only raise it).
            pm.model.addCons(worst >= sigma * (1.0 / pm.cone_scale[key]))
        _solve(pm, worst + 1e-9 * pm.cost, "minimize", time_limit, gap)
        status = "budget" if pm.model.getNSols() else _status(pm)
        blocking = _blocking(pm) if pm.model.getNSols() else blocking
    items = _rows(pm, first_year, years, share)
    after = evaluate_resources(apply_changes(dataset, items.assign(action="add"), "plan"), std)
    return Plan(items, status, float(items["cost"].sum()), float(pm.model.getGap()), time.perf_counter() - started,
                before, after, blocking, options)
