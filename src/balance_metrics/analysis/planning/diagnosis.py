"""Why no plan passes: the constraints whose relaxation makes a plan possible.

When the planning model has no solution, :func:`blocking_constraints` re-solves
it (for feasibility only) once per *relaxable* constraint — each yearly cap,
the rotation's yearly share and its least shares, each excluded school and
action, rotation switched off, the deadline — with that one constraint lifted,
and reports those whose lifting makes a passing plan exist. When none does on
its own, it tries lifting all of them together. :func:`elastic_blocking` adds
what cannot be met: the sections and 差异系数 an elastic solve had to give up.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import pandas as pd

from balance_metrics.analysis.planning.actions import Action
from balance_metrics.analysis.planning.model import PlanningModel, Rules, build_model
from balance_metrics.common.labels import percent_text
from balance_metrics.contract.schema import SECTIONS, STAGES
from balance_metrics.standard.loader import Standard

__all__ = ["BLOCKING_COLUMNS", "Setup", "blocking_constraints", "elastic_blocking", "relaxations"]

#: Columns of :attr:`Plan.blocking`: ``kind`` is ``section``/``cv`` (a rule that
#: cannot be met), or the family of a constraint that blocks every plan
#: (``annual_cap``, ``rotation_share``, ``rotation_min_share``, ``excluded_school``,
#: ``excluded_action``, ``rotation_off``, ``deadline``);
#: ``constraint`` names it as the option or standard key that sets it.
BLOCKING_COLUMNS = ["kind", "constraint", "district_id", "stage", "indicator", "school_id", "detail"]


@dataclass(frozen=True)
class Setup:
    """What one solve may use: the actions and the rules."""

    actions: Mapping[str, Action]
    rules: Rules


@dataclass(frozen=True)
class Relaxation:
    """One constraint lifted: its family, its name, the reader's sentence and the setup without it."""

    kind: str
    constraint: str
    detail: str
    setup: Setup


def _number(value: Fraction) -> str:
    return f"{float(value):,.6g}"


def relaxations(
    setup: Setup,
    all_actions: Mapping[str, Action],
    standard: Standard,
    *,
    excluded_actions: Iterable[str],
    rotation: bool,
) -> list[Relaxation]:
    """Every constraint of ``setup`` that a user or the standard could lift, each as the setup without it."""
    rules, result = setup.rules, []

    def add(kind: str, constraint: str, detail: str, actions: Mapping[str, Action] | None = None, **changes: Any) -> None:
        result.append(Relaxation(kind, constraint, detail, Setup(dict(actions or setup.actions),
                                                                 dataclasses.replace(rules, **changes))))

    for cap in rules.caps:
        add("annual_cap", f"planning.annual_caps.{cap.name}",
            f"年度上限“{cap.label}”（不超过{_number(cap.limit)}{cap.unit}）",
            caps=tuple(c for c in rules.caps if c is not cap))
    rotating = any(a.rotation for a in setup.actions.values())
    if rotating and rules.rotation_share < 1:
        add("rotation_share", "planning.rotation.max_out_share_per_year",
            f"每校每年交流轮岗教师不超过其教师数的{percent_text(rules.rotation_share)}", rotation_share=Fraction(1))
    for column, share in rules.min_share.items() if rotating else ():
        add("rotation_min_share", f"planning.rotation.min_share.{column}",
            f"交流轮岗教师中{SECTIONS.column(column).zh.removesuffix('数')}不低于{percent_text(share)}",
            min_share={c: v for c, v in rules.min_share.items() if c != column})
    for school in sorted(rules.excluded_schools):
        add("excluded_school", f"exclude_schools={school}", f"排除学校{school}",
            excluded_schools=rules.excluded_schools - {school})
    for name in excluded_actions:
        back = {k: a for k, a in all_actions.items() if k == name or (name == "rotate" and a.rotation)}
        if back:
            add("excluded_action", f"exclude_actions={name}", f"不采用措施“{'、'.join(a.label for a in back.values())}”",
                actions={**setup.actions, **back})
    if not rotation:
        back = {k: a for k, a in all_actions.items() if a.rotation}
        add("rotation_off", "rotation=False", "不安排交流轮岗", actions={**setup.actions, **back},
            rotation_share=rules.rotation_share or _standard_share(standard))
    if rules.caps or (rotating and rules.rotation_share > 0):
        add("deadline", "deadline", f"期限（{rules.years}年）", years=rules.years + 1)
    return result


def _standard_share(standard: Standard) -> Fraction:
    rotation = standard.planning.rotation if standard.planning else None
    return rotation.max_out_share_per_year if rotation else Fraction(0)


def _feasible(frame: pd.DataFrame, standard: Standard, setup: Setup, time_limit: float) -> bool:
    pm = build_model(frame, standard, dict(setup.actions), setup.rules)
    m = pm.model
    m.setObjective(pm.cost, "minimize")
    m.setParam("limits/solutions", 1)
    m.setParam("limits/time", max(float(time_limit), 1.0))
    m.optimize()
    return m.getNSols() > 0


def blocking_constraints(
    frame: pd.DataFrame,
    standard: Standard,
    candidates: list[Relaxation],
    time_limit: float,
    feasible: Callable[[pd.DataFrame, Standard, Setup, float], bool] = _feasible,
) -> pd.DataFrame:
    """The relaxations after which a passing plan exists (one row each), or all of them when only together.

    Parameters
    ----------
    frame : DataFrame
        :func:`~balance_metrics.analysis.planning.model.section_frame`.
    candidates : list of Relaxation
        From :func:`relaxations`.
    time_limit : float
        Seconds per feasibility solve.
    """
    rows = []
    for relax in candidates:
        if feasible(frame, standard, relax.setup, time_limit):
            rows.append({"kind": relax.kind, "constraint": relax.constraint,
                         "detail": f"{relax.detail}使任何方案都无法达标：放宽这一条即有可行方案"})
    if not rows and len(candidates) > 1:
        together = candidates[0].setup
        for relax in candidates[1:]:
            merged_actions = {**together.actions, **relax.setup.actions}
            r = relax.setup.rules
            merged = dataclasses.replace(
                together.rules, caps=tuple(c for c in together.rules.caps if c in r.caps),
                rotation_share=max(together.rules.rotation_share, r.rotation_share),
                min_share={c: v for c, v in together.rules.min_share.items() if c in r.min_share},
                excluded_schools=together.rules.excluded_schools & r.excluded_schools,
                years=max(together.rules.years, r.years),
            )
            together = Setup(merged_actions, merged)
        if feasible(frame, standard, together, time_limit):
            rows += [{"kind": relax.kind, "constraint": relax.constraint,
                      "detail": f"{relax.detail}：须与其余各条同时放宽才有可行方案"} for relax in candidates]
    return pd.DataFrame([dict.fromkeys(BLOCKING_COLUMNS, "") | row for row in rows], columns=BLOCKING_COLUMNS)


def elastic_blocking(pm: PlanningModel) -> pd.DataFrame:
    """Constraints an elastic solve had to give up: failing sections and CVs over their limit."""
    frame, rows = pm.sections, []
    for s, q in pm.passing.items():
        if pm.value(q) < 0.5:
            rows.append({"kind": "section", "constraint": "", "district_id": frame.at[s, "district_id"],
                         "stage": frame.at[s, "stage"], "indicator": "", "school_id": frame.at[s, "school_id"],
                         "detail": f"{frame.at[s, 'school_name']}（{frame.at[s, 'school_id']}）无法以允许的措施达标"})
    for (district, stage, ind), sigma in pm.slacks.items():
        if pm.value(sigma) > 1e-6:
            rows.append({"kind": "cv", "constraint": "", "district_id": district, "stage": stage, "indicator": ind,
                         "school_id": "", "detail": f"{STAGES.get(stage, stage)}{ind}差异系数无法降到限值以内"})
    return pd.DataFrame(rows, columns=BLOCKING_COLUMNS)
