"""The district plan as a mixed-integer second-order-cone programme (SCIP).

Variables (all integers, in units of each action's step):

- ``add[a, s]``: additions of a section action (hire teachers) to section s, or
  of a facility action (area, equipment, rooms) to the school of s, which every
  section of that school receives × its share (STANDARD.md §4);
- ``out[r, s]`` / ``inn[r, s]``: teachers of rotation kind r leaving / joining
  section s. Out-flow is capped by the columns the kind carries (a section
  cannot give more key teachers than it has).

With a deadline of Y years every variable is the sum of Y yearly parts
(``x = Σ_t x_t``) and the yearly rules hold per year t, per district:

- rotation: Σ out_t = Σ inn_t per stage and kind; each section gives up at most
  ⌊share × its teachers⌋ a year; moved ``c`` ≥ min_share[c] × moved teachers
  (key teachers ≥ 20 % of those rotated, plan item 8);
- each annual cap: Σ over its actions of units (or 元) in year t ≤ its limit.

The verdicts are taken at the deadline, on the totals.

Every section × indicator has the numerator N = N₀ + Σ effects (linear).

Per-section rule (STANDARD.md §2) with a binary y per indicator::

    N ≥ floor·q + (threshold − floor)·y,   Σ_k y_k ≥ min_indicators_met·q

(N in the numerator's unit, thresholds × students ÷ scale); q = 1 (the section
must pass) unless sections are soft (budget mode, diagnosis).

District rule, one second-order cone per district × stage × indicator, on
values normalised by the threshold (v = N·scale ÷ (students·T))::

    x̄ = Σ P v / P,   u_s = √(P_s/P)·(v_s − x̄),   ‖u‖₂ ≤ L·x̄ (+ σ when soft)

which is √(Σ P(v − x̄)²/P) ≤ L·x̄, the 差异系数 limit, with x̄ linear in the
additions. The objective is the cost in 元 (unit costs × amounts; a rotation
costs per teacher received); :mod:`.solve` then refines it lexicographically
(the rural schools' share, the earliest years) with the cost held.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from math import ceil, sqrt
from typing import Any

import numpy as np
import pandas as pd
from pyscipopt import Model, quicksum

from balance_metrics.analysis.planning.actions import Action
from balance_metrics.standard.loader import Standard
from balance_metrics.standard.model import AnnualCap

# Margins against the solver's feasibility tolerance (1e-6): the plan is
# checked exactly afterwards by the engine.
RELATIVE_MARGIN = 1e-7
CV_MARGIN = 1e-6


@dataclass
class PlanningModel:
    """A built SCIP model and the handles needed to read a plan out of it."""

    model: Model
    sections: pd.DataFrame
    adds: dict[tuple[str, int | str], object] = field(default_factory=dict)
    outs: dict[tuple[str, int], object] = field(default_factory=dict)
    inns: dict[tuple[str, int], object] = field(default_factory=dict)
    passing: dict[int, object] = field(default_factory=dict)
    slacks: dict[tuple[str, str, str], object] = field(default_factory=dict)
    #: L · x̄ before the plan of each cone (normalised units): σ ÷ it bounds the CV ratio's excess over 1.
    cone_scale: dict[tuple[str, str, str], float] = field(default_factory=dict)
    cost: object = None
    actions: dict[str, Action] = field(default_factory=dict)
    years: int = 1
    #: (kind, action, key) -> per-year integer variables (kind: "add", "out", "inn").
    by_year: dict[tuple, list] = field(default_factory=dict)
    cost_terms: list = field(default_factory=list)
    rural_terms: list = field(default_factory=list)
    #: Cost of the rural schools' actions (元): the second objective of ``prefer_rural``.
    rural: object = 0
    #: Σ year index × cost: the last objective when there are several years (earliest first).
    lateness: object = 0
    share_rows: list = field(default_factory=list)
    #: Variable name -> value of the plan kept when a later stage ends without a solution.
    fixed: dict[str, float] | None = None

    @property
    def solved(self) -> bool:
        """A plan was found (by the last stage, or kept from an earlier one)."""
        return self.fixed is not None or self.model.getNSols() > 0

    def value(self, var: Any) -> float:
        """The plan's value of a variable (a constant part is itself)."""
        if isinstance(var, (int, float)):
            return float(var)
        return self.fixed[var.name] if self.fixed is not None else self.model.getVal(var)


def _effects(action: Action, standard: Standard) -> dict[str, Fraction]:
    """Indicator -> change of the numerator per unit of the action (before any share)."""
    result = {}
    for ind in standard.indicator_ids:
        spec = standard.indicators[ind]
        basis_table = "facilities" if spec.basis == "facility" else "sections"
        if basis_table != action.table:
            continue
        amount = sum((Fraction(spec.terms.get(col, 0)) * per for col, per in action.columns), Fraction(0))
        if amount:
            result[ind] = amount * action.step
    return result


def section_frame(evaluation_sections: pd.DataFrame, raw_sections: pd.DataFrame, standard: Standard) -> pd.DataFrame:
    """One row per evaluated section: identity, share, the section's raw
    columns and, per indicator, numerator N₀ and the threshold/floor numerators."""
    wide = evaluation_sections.pivot_table(index=["school_id", "stage"], columns="indicator", values="numerator", aggfunc="first")
    wide.columns = [f"N_{c}" for c in wide.columns]
    keep = ["school_id", "stage", "school_name", "area_type", "students", "share"]
    keep += [c for c in ("district_id",) if c in raw_sections.columns]
    raw_cols = ["teachers", "teachers_above_degree", "key_teachers", "pe_arts_teachers", "certified_teachers"]
    frame = raw_sections[keep + raw_cols].merge(wide.reset_index(), on=["school_id", "stage"], how="inner")
    if "district_id" not in frame.columns:
        frame["district_id"] = ""
    frame["district_id"] = frame["district_id"].fillna("").astype(str)
    for ind in standard.indicator_ids:
        scale = float(standard.indicators[ind].scale)
        thr = frame["stage"].map(lambda st, i=ind: float(standard.threshold(i, st)))
        flo = frame["stage"].map(lambda st, i=ind: float(standard.floor(i, st)))
        frame[f"T_{ind}"] = thr
        frame[f"thrN_{ind}"] = thr * frame["students"] / scale
        frame[f"floorN_{ind}"] = flo * frame["students"] / scale
    return frame.reset_index(drop=True)


def _need(frame: pd.DataFrame, ind: str, standard: Standard) -> np.ndarray:
    """Numerator gain that brings each section to max(threshold, the stage's best value)."""
    scale = float(standard.indicators[ind].scale)
    value = frame[f"N_{ind}"] * scale / frame["students"]
    best = value.groupby([frame["district_id"], frame["stage"]]).transform("max")
    target = np.maximum(frame[f"T_{ind}"], best) * frame["students"] / scale
    return np.clip((target - frame[f"N_{ind}"]).to_numpy(float), 0, None)


@dataclass(frozen=True)
class Rules:
    """What constrains the plan besides the standard's verdict rules.

    Attributes
    ----------
    years : int
        Years from the period to the deadline; every action gets a year.
    rotation_share : Fraction
        Most a section gives up per year, as a share of its teachers.
    min_share : mapping of str to Fraction
        Column -> least share of the rotated ``share_of`` column, per district and year.
    share_of : str
    caps : tuple of AnnualCap
        Yearly caps per district (only those with a limit).
    excluded_schools : frozenset of str
    """

    years: int = 1
    rotation_share: Fraction = Fraction(0)
    min_share: Mapping[str, Fraction] = field(default_factory=dict)
    share_of: str = "teachers"
    caps: tuple[AnnualCap, ...] = ()
    excluded_schools: frozenset[str] = frozenset()


def _split(pm: PlanningModel, kind: str, key: tuple, total: Any, ub: int, years: int, free: bool = False) -> None:
    """Per-year integer parts of ``total`` (the total itself when there is one year).

    ``free``: no yearly rule touches it, so the whole amount in the first year is
    feasible and earliest; the parts are then ``[total, 0, …]`` (no variables).
    """
    if years == 1 or free:
        pm.by_year[(kind, *key)] = [total] + [0] * (years - 1)
        return
    parts = [pm.model.addVar(f"{total.name}_y{t}", vtype="I", lb=0, ub=ub) for t in range(years)]
    pm.model.addCons(total == quicksum(parts))
    pm.by_year[(kind, *key)] = parts


def build_model(
    frame: pd.DataFrame,
    standard: Standard,
    actions: dict[str, Action],
    rules: Rules = Rules(),
    *,
    budget: float | None = None,
    soft_sections: bool = False,
    soft_cv: bool = False,
    require_cv: bool = True,
    min_passing: int | None = None,
) -> PlanningModel:
    """Build the planning model; see the module docstring for the formulation."""
    m = Model("district-plan")
    m.hideOutput()
    # No NLP (Ipopt) solves: the cones are handled by outer approximation anyway, and
    # Ipopt's MUMPS/METIS ordering can corrupt the heap and abort the process
    # (scipopt/scip#211; seen here on a 200-section district).
    m.setParam("nlp/disable", True)
    pm = PlanningModel(model=m, sections=frame, actions=actions, years=rules.years)
    n, years = len(frame), rules.years
    gains: dict[tuple[int, str], list] = defaultdict(list)  # (section, indicator) -> [coef * var]
    allowed = ~frame["school_id"].isin(rules.excluded_schools).to_numpy()
    needs = {ind: _need(frame, ind, standard) for ind in standard.indicator_ids}
    rural = frame["area_type"].to_numpy() == "rural"
    district_of_school = frame.groupby("school_id", sort=False)["district_id"].first()
    # (action, district) -> [(per-year vars, cost per step)] for the yearly caps and objectives.
    spent: dict[tuple[str, str], list] = defaultdict(list)

    capped = {name for cap in rules.caps for name in cap.actions}

    def priced(action: Action, var: Any, key: tuple, ub: int, district: str, is_rural: bool, kind: str = "add") -> None:
        _split(pm, kind, key, var, ub, years, free=not action.rotation and action.name not in capped)
        cost = float(action.cost_per_step)
        spent[(action.name, district)].append((pm.by_year[(kind, *key)], cost))
        pm.cost_terms.append(cost * var)
        if is_rural:
            pm.rural_terms.append(cost * var)

    for action in (a for a in actions.values() if not a.rotation):
        effects = {k: float(v) for k, v in _effects(action, standard).items()}
        if not effects:
            continue
        if action.table == "sections":
            for s in np.flatnonzero(allowed):
                ub = max(ceil(needs[k][s] / e) for k, e in effects.items() if e > 0) if any(e > 0 for e in effects.values()) else 0
                if ub <= 0:
                    continue
                var = m.addVar(f"add_{action.name}_{s}", vtype="I", lb=0, ub=ub)
                pm.adds[(action.name, int(s))] = var
                for k, e in effects.items():
                    gains[(int(s), k)].append(e * var)
                priced(action, var, (action.name, int(s)), ub, frame.at[s, "district_id"], bool(rural[s]))
        else:
            for school, idx in frame.groupby("school_id", sort=False).indices.items():
                if school in rules.excluded_schools:
                    continue
                shares = frame["share"].to_numpy(float)[idx]
                ub = 0
                for k, e in effects.items():
                    for s, share in zip(idx, shares):
                        if e > 0 and share > 0:
                            ub = max(ub, ceil(needs[k][s] / (e * share)))
                if ub <= 0:
                    continue
                var = m.addVar(f"add_{action.name}_{school}", vtype="I", lb=0, ub=ub)
                pm.adds[(action.name, school)] = var
                for s, share in zip(idx, shares):
                    for k, e in effects.items():
                        gains[(int(s), k)].append(e * share * var)
                priced(action, var, (action.name, school), ub, district_of_school[school], bool(rural[idx].any()))

    rotations = [a for a in actions.values() if a.rotation]
    if rotations and rules.rotation_share > 0:
        yearly = np.floor(frame["teachers"].to_numpy(float) * float(rules.rotation_share)).astype(int)
        out_year: dict[tuple[int, int], list] = defaultdict(list)  # (section, year) -> out vars
        used: dict[tuple[int, str], list] = defaultdict(list)
        moved: dict[tuple[str, int], list] = defaultdict(list)  # (district, year) -> key-share terms
        for action in rotations:
            effects = {k: float(v) for k, v in _effects(action, standard).items()}
            cols = dict(action.columns)
            share_terms = sum(float(cols.get(c, 0) - rules.min_share[c] * cols.get(rules.share_of, 0)) for c in rules.min_share)
            avail = np.min([frame[c].to_numpy(float) / float(per) for c, per in cols.items() if per > 0], axis=0)
            out_ub = np.where(allowed, np.minimum(yearly * years, np.floor(avail)), 0).astype(int)
            for (district, stage), idx in frame.groupby(["district_id", "stage"], sort=False).indices.items():
                pool = int(out_ub[idx].sum())
                if pool <= 0:
                    continue
                outs, inns = [], []
                for s in idx:
                    if out_ub[s] > 0:
                        v = m.addVar(f"out_{action.name}_{s}", vtype="I", lb=0, ub=int(out_ub[s]))
                        pm.outs[(action.name, int(s))] = v
                        _split(pm, "out", (action.name, int(s)), v, min(int(out_ub[s]), int(yearly[s])), years)
                        outs.append(pm.by_year[("out", action.name, int(s))])
                        for t, part in enumerate(outs[-1]):
                            out_year[(int(s), t)].append(part)
                            if rules.min_share:
                                moved[(district, t)].append(share_terms * part)
                        for c, per in cols.items():
                            used[(int(s), c)].append(float(per) * v)
                        for k, e in effects.items():
                            gains[(int(s), k)].append(-e * v)
                    in_ub = min(pool, max((ceil(needs[k][s] / e) for k, e in effects.items() if e > 0), default=0))
                    if allowed[s] and in_ub > 0:
                        v = m.addVar(f"in_{action.name}_{s}", vtype="I", lb=0, ub=in_ub)
                        pm.inns[(action.name, int(s))] = v
                        priced(action, v, (action.name, int(s)), in_ub, district, bool(rural[s]), kind="inn")
                        inns.append(pm.by_year[("inn", action.name, int(s))])
                        for k, e in effects.items():
                            gains[(int(s), k)].append(e * v)
                    if rules.min_share and (action.name, int(s)) in pm.outs and (action.name, int(s)) in pm.inns:
                        # One direction per section and kind: a move to itself would count towards min_share.
                        z = m.addVar(f"gives_{action.name}_{s}", vtype="B")
                        m.addCons(pm.outs[(action.name, int(s))] <= int(out_ub[s]) * z)
                        m.addCons(pm.inns[(action.name, int(s))] <= in_ub * (1 - z))
                if outs and inns:
                    for t in range(years):
                        m.addCons(quicksum(o[t] for o in outs) == quicksum(i[t] for i in inns),
                                  name=f"balance_{action.name}_{district}_{stage}_y{t}")
                else:
                    for o in outs:
                        for part in o:
                            m.chgVarUb(part, 0)
        for (s, t), vs in out_year.items():
            m.addCons(quicksum(vs) <= int(yearly[s]), name=f"rotation_cap_{s}_y{t}")
        for (s, c), terms in used.items():
            m.addCons(quicksum(terms) <= float(frame.at[s, c]), name=f"available_{c}_{s}")
        for (district, t), terms in moved.items():
            pm.share_rows.append(m.addCons(quicksum(terms) >= 0, name=f"rotation_min_share_{district}_y{t}"))

    for cap in rules.caps:
        for district in frame["district_id"].unique():
            for t in range(years):
                terms = [
                    (cost if cap.measure == "cost" else 1.0) * parts[t]
                    for name in cap.actions for parts, cost in spent.get((name, district), [])
                ]
                if terms:
                    m.addCons(quicksum(terms) <= float(cap.limit), name=f"cap_{cap.name}_{district}_y{t}")
    if years > 1:
        late = [t * cost * parts[t] for entries in spent.values() for parts, cost in entries for t in range(1, years)
                if not isinstance(parts[t], int)]
        pm.lateness = quicksum(late) if late else 0

    numer = {}
    for s in range(n):
        for ind in standard.indicator_ids:
            numer[(s, ind)] = (float(frame.at[s, f"N_{ind}"]), gains.get((s, ind), []))

    # Per-section rule.
    min_met = standard.min_indicators_met
    for s in range(n):
        q = 1
        if soft_sections:
            q = m.addVar(f"pass_{s}", vtype="B")
            pm.passing[s] = q
        ys = []
        for ind in standard.indicator_ids:
            base, terms = numer[(s, ind)]
            thr, flo = float(frame.at[s, f"thrN_{ind}"]), float(frame.at[s, f"floorN_{ind}"])
            margin = RELATIVE_MARGIN * max(1.0, thr)
            if _integral(base, terms):
                # Whole numbers (teachers, rooms): N ≥ ⌈threshold⌉ exactly, no margin needed.
                thr, flo = _whole_need(standard, ind, frame.at[s, "stage"], frame.at[s, "students"])
                margin = 0.0
            can_fall = any(True for t in terms if _coefficient_negative(t))
            if base >= thr + margin + (1e-9 if margin else 0.0) and not can_fall:
                ys.append(1)
                continue
            y = m.addVar(f"met_{s}_{ind}", vtype="B")
            ys.append(y)
            m.addCons(base + quicksum(terms) >= (flo + margin) * q + (thr - flo) * y, name=f"rule_{s}_{ind}")
        m.addCons(quicksum(ys) >= min_met * q, name=f"section_{s}")
    if soft_sections and min_passing is not None:
        m.addCons(quicksum(pm.passing.values()) >= min_passing, name="min_passing")

    # District rule: one cone per district × stage × indicator.
    if require_cv:
        for (district, stage), idx in frame.groupby(["district_id", "stage"], sort=False).indices.items():
            limit = float(standard.cv_limit(stage)) * (1 - CV_MARGIN)
            students = frame["students"].to_numpy(float)[idx]
            total = students.sum()
            for ind in standard.indicator_ids:
                scale = float(standard.indicators[ind].scale)
                thr = frame[f"T_{ind}"].to_numpy(float)[idx]
                norm = scale / (students * thr)  # numerator -> value ÷ threshold
                values = [
                    (numer[(int(s), ind)][0] * f, [f * t for t in numer[(int(s), ind)][1]]) for s, f in zip(idx, norm)
                ]
                mean = m.addVar(f"mean_{district}_{stage}_{ind}", lb=0, ub=None)
                m.addCons(
                    mean == quicksum(p / total * (b + quicksum(ts)) for p, (b, ts) in zip(students, values)),
                    name=f"mean_{stage}_{ind}",
                )
                us = []
                for p, (b, ts) in zip(students, values):
                    u = m.addVar(lb=None, ub=None)
                    m.addCons(u == sqrt(p / total) * (b + quicksum(ts) - mean))
                    us.append(u)
                rhs = limit * mean
                if soft_cv:
                    sigma = m.addVar(f"cv_excess_{district}_{stage}_{ind}", lb=0, ub=None)
                    pm.slacks[(district, stage, ind)] = sigma
                    before = sum(p / total * b for p, (b, _) in zip(students, values))
                    pm.cone_scale[(district, stage, ind)] = max(limit * before, 1e-9)
                    rhs = rhs + sigma
                t = m.addVar(lb=0, ub=None)
                m.addCons(t == rhs)
                m.addCons(quicksum(u * u for u in us) <= t * t, name=f"cv_{district}_{stage}_{ind}")
    pm.cost = quicksum(pm.cost_terms) if pm.cost_terms else 0
    pm.rural = quicksum(pm.rural_terms) if pm.rural_terms else 0
    if budget is not None:
        m.addCons(pm.cost <= float(budget), name="budget")
    return pm


def _integral(base: float, terms: list) -> bool:
    """Whether a numerator only takes whole values: a whole base and whole coefficients."""
    return float(base).is_integer() and all(float(c).is_integer() for t in terms for c in t.terms.values())


def _whole_need(standard: Standard, ind: str, stage: str, students: Any) -> tuple[float, float]:
    """Least whole numerators at the threshold and at the floor (exact: ⌈T·P÷scale⌉)."""
    per = Fraction(int(students)) / standard.indicators[ind].scale
    return float(ceil(standard.threshold(ind, stage) * per)), float(ceil(standard.floor(ind, stage) * per))


def _coefficient_negative(term) -> bool:
    """Whether a linear term (coef × var) has a negative coefficient."""
    return any(coef < 0 for coef in term.terms.values())
