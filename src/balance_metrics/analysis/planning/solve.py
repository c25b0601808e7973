"""Solve the planning model and read the plan out: :func:`plan_remediation`."""

from __future__ import annotations

import re
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import pandas as pd
from pyscipopt import quicksum

from balance_metrics.analysis.planning.actions import Action, planning_actions
from balance_metrics.analysis.planning.diagnosis import (
    BLOCKING_COLUMNS, Setup, blocking_constraints, elastic_blocking, relaxations,
)
from balance_metrics.analysis.planning.model import PlanningModel, Rules, build_model, section_frame
from balance_metrics.analysis.scenarios import apply_changes
from balance_metrics.common.errors import DataValidationError, Problem
from balance_metrics.contract.dataset import Dataset
from balance_metrics.engine.resources import ResourceEvaluation, evaluate_resources
from balance_metrics.engine.sections import build_sections
from balance_metrics.standard.loader import DEFAULT_STANDARD, Standard, exact, load_standard

#: Least time (s) a later solver stage gets when the time limit is used up (it starts from the incumbent).
MIN_STAGE_SECONDS = 2.0

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
        row), ``year`` (the calendar year the action happens: every yearly cap
        and rotation rule holds per year; among equally good plans the
        earliest years). ``stage`` is empty for facility columns.
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
        When no plan passes (:data:`~.diagnosis.BLOCKING_COLUMNS`): the
        constraints whose lifting alone makes a plan possible (``kind`` a
        constraint family, ``constraint`` the option or standard key, e.g.
        ``planning.annual_caps.hiring``, ``exclude_schools=A``), then the
        sections and CVs an elastic solve had to give up (``kind`` ``section``
        or ``cv``). In budget mode: the sections and CVs left failing.
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

    @property
    def message(self) -> str:
        """One paragraph for people: the plan's cost, or what blocks every plan."""
        if self.after is not None:
            verdict = "全部学校和差异系数达标" if self.passed else "未能全部达标"
            return f"方案{verdict}：总费用{self.cost:,.0f}元（{self.status}，差距{self.gap:.2%}）。"
        if self.blocking.empty and self.status != "infeasible":
            return (f"在{self.options['time_limit']:g}秒时限内未找到任何方案（{self.status}）；"
                    "请加大 time_limit 或在机器空闲时重试。")
        named = self.blocking[self.blocking["constraint"].astype(str) != ""]
        unmet = self.blocking[self.blocking["constraint"].astype(str) == ""]
        lines = ["没有能使全部学校达标、差异系数均在限值以内的方案。"]
        if len(named):
            lines.append("阻碍达标的约束：" + "；".join(f"{r.detail}（{r.constraint}）" for r in named.itertuples()) + "。")
        elif self.status == "infeasible":
            lines.append("放宽任何一项上限或排除都不足以达标：现有措施无法满足以下规则。")
        if len(unmet):
            lines.append("无法满足：" + "；".join(unmet["detail"]) + "。")
        return "\n".join(lines)

    def summary(self) -> pd.DataFrame:
        """Cost per action (元), amounts of the primary column, and the CVs before/after."""
        if self.items.empty:
            return pd.DataFrame(columns=["action", "label", "amount", "cost"])
        primary = self.items[self.items["cost"] > 0] if (self.items["cost"] > 0).any() else self.items
        return primary.groupby(["action", "label"], sort=False).agg(amount=("amount", "sum"), cost=("cost", "sum")).reset_index()

    def schedule(self) -> pd.DataFrame:
        """Per district, year and action: amount of the action's first column and cost (元)."""
        columns = ["district_id", "year", "action", "label", "amount", "cost"]
        if self.items.empty:
            return pd.DataFrame(columns=columns)
        first = self.items.groupby("action", sort=False)["column"].transform("first")
        priced = self.items[(self.items["column"] == first) & (self.items["amount"] > 0)]
        return (priced.groupby(["district_id", "year", "action", "label"], sort=False)
                .agg(amount=("amount", "sum"), cost=("cost", "sum")).reset_index()
                .sort_values(["district_id", "year"], kind="stable").reset_index(drop=True)[columns])

    def balance(self) -> pd.DataFrame:
        """CV of every stage × indicator before and after the plan."""
        keys = [k for k in ("district_id", "stage", "indicator") if k in self.before.balance.columns]
        b = self.before.balance[[*keys, "name", "cv", "limit", "passed"]]
        if self.after is None:
            return b.rename(columns={"cv": "cv_before", "passed": "passed_before"})
        a = self.after.balance[[*keys, "cv", "passed"]]
        return b.merge(a, on=keys, suffixes=("_before", "_after"))

    def tables(self) -> dict[str, pd.DataFrame]:
        return {"plan": self.items, "summary": self.summary(), "schedule": self.schedule(), "balance": self.balance(),
                "blocking": self.blocking}

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
    return int(round(pm.value(var)))


def _rows(pm: PlanningModel, first_year: int) -> pd.DataFrame:
    """The solution as plan rows, each in its year (additions, then moves paired donor → receiver)."""
    frame, rows = pm.sections, []
    school_of = frame.groupby("school_id", sort=False).first()

    def base(school: str, stage: str, district: str, action: Action, year: int) -> dict[str, Any]:
        return {
            "district_id": district, "year": first_year + year, "action": action.name, "label": action.label,
            "school_id": school, "school_name": school_of.at[school, "school_name"],
            "area_type": school_of.at[school, "area_type"], "stage": stage, "table": action.table, "move_id": "",
            "counterpart_school_id": "",
        }

    for (name, key) in pm.adds:
        action = pm.actions[name]
        if action.table == "sections":
            school, stage, district = frame.at[key, "school_id"], frame.at[key, "stage"], frame.at[key, "district_id"]
        else:
            school, stage, district = key, "", school_of.at[key, "district_id"]
        for year, part in enumerate(pm.by_year[("add", name, key)]):
            if (units := _value(pm, part)) <= 0:
                continue
            amount = exact(units) * action.step
            for i, (column, per) in enumerate(action.columns):
                rows.append(base(school, stage, district, action, year) | {
                    "column": column, "amount": float(amount * per),
                    "cost": float(amount * action.unit_cost) if i == 0 else 0.0,
                })
    # Pair donors with receivers per district, stage, kind and year (the model balances each).
    pools: dict[tuple[str, str, str, int], tuple[list, list]] = defaultdict(lambda: ([], []))
    for side, kind in ((0, "out"), (1, "inn")):
        for (name, s) in (pm.outs if kind == "out" else pm.inns):
            for year, part in enumerate(pm.by_year[(kind, name, s)]):
                if (units := _value(pm, part)) > 0:
                    pools[(frame.at[s, "district_id"], frame.at[s, "stage"], name, year)][side].append([s, units])
    move = 0
    for (district, stage, name, year), (donors, receivers) in pools.items():
        action = pm.actions[name]
        donors.sort(key=lambda d: -d[1])
        receivers.sort(key=lambda r: -r[1])
        for receiver in receivers:
            while receiver[1] > 0:
                donor = next(d for d in donors if d[1] > 0)
                count = min(receiver[1], donor[1])
                donor[1] -= count
                receiver[1] -= count
                move += 1
                giver, taker = frame.at[donor[0], "school_id"], frame.at[receiver[0], "school_id"]
                for i, (column, per) in enumerate(action.columns):
                    common = {"column": column, "move_id": f"M{move:04d}"}
                    rows.append(base(giver, stage, district, action, year) | common | {
                        "amount": -float(count * per), "cost": 0.0, "counterpart_school_id": taker})
                    rows.append(base(taker, stage, district, action, year) | common | {
                        "amount": float(count * per), "cost": float(count * action.unit_cost) if i == 0 else 0.0,
                        "counterpart_school_id": giver})
    return pd.DataFrame(rows, columns=PLAN_COLUMNS).sort_values("year", kind="stable").reset_index(drop=True)


def _solve(pm: PlanningModel, objective: Any, sense: str, time_limit: float, gap: float) -> None:
    m = pm.model
    m.setObjective(objective, sense)
    m.setParam("limits/time", max(float(time_limit), 1.0))
    m.setParam("limits/gap", float(gap))
    m.optimize()


def _left(ends: float) -> float:
    """Seconds a later stage may use: what is left of the time limit, at least :data:`MIN_STAGE_SECONDS`."""
    return max(MIN_STAGE_SECONDS, ends - time.perf_counter())


def _then(pm: PlanningModel, held: Any, sense: str, objective: Any, new_sense: str, ends: float, gap: float) -> None:
    """Lexicographic next stage: hold ``held`` at the value just found, optimise ``objective``.

    The incumbent is handed to SCIP as a start, so the stage never ends worse
    than the previous one (a time limit only stops the improvement).
    """
    m = pm.model
    if pm.fixed is not None or not m.getNSols() or isinstance(objective, (int, float)):
        return
    variables = m.getVars()
    start = [m.getVal(v) for v in variables]
    value = m.getVal(held) if not isinstance(held, (int, float)) else float(held)
    m.freeTransform()
    tolerance = 1e-9 * max(1.0, abs(value)) + 1e-6
    if not isinstance(held, (int, float)):
        m.addCons(held <= value + tolerance if sense == "minimize" else held >= value - tolerance, name="held")
    m.setObjective(objective, new_sense)
    sol = m.createSol()
    for v, x in zip(variables, start):
        m.setSolVal(sol, v, x)
    m.addSol(sol)
    m.setParam("limits/time", _left(ends))
    m.setParam("limits/gap", float(gap))
    m.optimize()
    if not m.getNSols():  # the start was refused and nothing found in time: keep the previous plan
        pm.fixed = {v.name: x for v, x in zip(variables, start)}


def _refine(pm: PlanningModel, held: Any, sense: str, prefer_rural: bool, ends: float, gap: float) -> None:
    """After the main objective: the rural schools' share of the cost (largest), then the earliest years."""
    if prefer_rural:
        _then(pm, held, sense, pm.rural, "maximize", ends, gap)
        held, sense = pm.rural, "maximize"
    if pm.years > 1:
        _then(pm, held, sense, pm.lateness, "minimize", ends, gap)


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
        Seconds for the whole call; default ``planning.time_limit`` of the
        standard. The first stage may use all of it; each later stage (budget
        mode's worst CV and cost, the rural share, the earliest years) gets what
        is left, at least :data:`MIN_STAGE_SECONDS`, starting from the plan found
        so far. The diagnosis of an infeasible plan re-solves once per
        relaxable constraint, each with this limit.
    gap : float, optional
        Relative optimality gap to stop at; default ``planning.gap`` (0.001).

    Returns
    -------
    Plan
    """
    std = load_standard(standard)
    all_actions = planning_actions(std, costs)
    exclude_actions, exclude_schools = list(exclude_actions), list(exclude_schools)
    _check_options(dataset, all_actions, exclude_schools, exclude_actions)
    actions = {
        k: a for k, a in all_actions.items()
        if k not in exclude_actions and not (a.rotation and (not rotation or "rotate" in exclude_actions))
    }
    time_limit = float(time_limit if time_limit is not None else std.planning.time_limit)
    gap = float(gap if gap is not None else std.planning.gap)
    first_year, years = _years(dataset.period, deadline)
    rules = _rules(std, years, exclude_schools)
    before = evaluate_resources(dataset, std)
    frame = section_frame(before.sections, build_sections(dataset, std).sections, std)
    options = dict(budget=budget, costs=dict(costs or {}), exclude_schools=exclude_schools, exclude_actions=exclude_actions,
                   rotation=rotation, deadline=deadline, years=years, prefer_rural=prefer_rural, time_limit=time_limit, gap=gap,
                   annual_caps={c.name: float(c.limit) for c in rules.caps},
                   rotation_min_share={c: float(v) for c, v in rules.min_share.items()})
    started = time.perf_counter()
    blocking = pd.DataFrame(columns=BLOCKING_COLUMNS)
    if budget is None:
        pm = build_model(frame, std, actions, rules)
        _solve(pm, pm.cost, "minimize", time_limit, gap)
        status, found_gap = _status(pm), float(pm.model.getGap())
        if pm.model.getNSols() == 0:
            setup = Setup(actions, rules)
            candidates = relaxations(setup, all_actions, std, excluded_actions=exclude_actions, rotation=rotation)
            blocking = blocking_constraints(frame, std, candidates, time_limit)
            elastic = build_model(frame, std, actions, rules, soft_sections=True, soft_cv=True)
            objective = 1000 * quicksum(1 - q for q in elastic.passing.values()) + quicksum(elastic.slacks.values())
            _solve(elastic, objective, "minimize", time_limit, gap)
            if elastic.model.getNSols():
                blocking = pd.concat([blocking, elastic_blocking(elastic)], ignore_index=True)
            return Plan(pd.DataFrame(columns=PLAN_COLUMNS), "infeasible" if status == "infeasible" else status,
                        0.0, float("nan"), time.perf_counter() - started, before, None, blocking, options)
        _refine(pm, pm.cost, "minimize", prefer_rural, started + time_limit, gap)
    else:
        first = build_model(frame, std, actions, rules, soft_sections=True, require_cv=False, budget=budget)
        # Half the time at most: the worst-CV stage below needs time of its own to find any plan.
        _solve(first, quicksum(first.passing.values()), "maximize", time_limit / 2, gap)
        best = int(round(first.model.getObjVal())) if first.model.getNSols() else 0
        pm = build_model(frame, std, actions, rules, soft_sections=True, soft_cv=True, budget=budget, min_passing=best)
        worst = pm.model.addVar("worst_cv_excess", lb=0)
        for key, sigma in pm.slacks.items():
            # CV ÷ limit ≤ 1 + σ ÷ (L·x̄); x̄ taken before the plan (additions only raise it).
            pm.model.addCons(worst >= sigma * (1.0 / pm.cone_scale[key]))
        _solve(pm, worst, "minimize", _left(started + time_limit), gap)
        if pm.model.getNSols() == 0:  # nothing found in time (a slow or busy machine): no plan, said so
            return Plan(pd.DataFrame(columns=PLAN_COLUMNS), _status(pm), 0.0, float("nan"),
                        time.perf_counter() - started, before, None, blocking, options)
        found_gap = float(pm.model.getGap())
        # Then, with the worst CV held: the least cost, the rural share, the earliest years.
        _then(pm, worst, "minimize", pm.cost, "minimize", started + time_limit, gap)
        _refine(pm, pm.cost, "minimize", prefer_rural, started + time_limit, gap)
        status = "budget" if pm.solved else _status(pm)
        if pm.solved:
            blocking = elastic_blocking(pm)
    items = _rows(pm, first_year)
    after = evaluate_resources(apply_changes(dataset, items.assign(action="add"), "plan"), std)
    return Plan(items, status, float(items["cost"].sum()), found_gap, time.perf_counter() - started,
                before, after, blocking, options)


def _rules(std: Standard, years: int, exclude_schools: Iterable[str]) -> Rules:
    rotation = std.planning.rotation
    return Rules(
        years=years,
        rotation_share=rotation.max_out_share_per_year if rotation else Fraction(0),
        min_share=dict(rotation.min_share) if rotation else {},
        share_of=rotation.share_of if rotation else "teachers",
        caps=tuple(c for c in std.planning.annual_caps.values() if c.limit is not None),
        excluded_schools=frozenset(exclude_schools),
    )
