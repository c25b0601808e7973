"""The whole evaluation of a period: :func:`evaluate` -> :class:`Evaluation`.

Resources (R1–R7 and the 差异系数), government guarantee G1–G15, education
quality Q1–Q9, social recognition S1 and the veto items, each as an item with
a status; a local plan's own targets; the readiness verdict with the items
blocking it; and the 问题清单.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from balance_metrics.common.results import Result
from balance_metrics.evaluation.checks import FAIL, MISSING, NOT_APPLICABLE, PASS, STATUS_LABELS
from balance_metrics.common.errors import problems_frame
from balance_metrics.evaluation.context import Context, build_context
from balance_metrics.contract.dataset import Dataset
from balance_metrics.evaluation.evidence import evidence_references
from balance_metrics.evaluation.issue_list import issue_list, issue_list_zh
from balance_metrics.evaluation.items import WORDED_COLUMNS, item_specs, item_statuses, run_items_whole, with_later_notes
from balance_metrics.evaluation.plan_targets import evaluate_plan
from balance_metrics.evaluation.readiness import Readiness, assess_readiness
from balance_metrics.engine.resources import ResourceEvaluation
from balance_metrics.evaluation.province import ProvinceEvaluation, WholeEvaluation, written_tables
from balance_metrics.standard.loader import DEFAULT_STANDARD, Standard, load_standard
from balance_metrics.evaluation.survey import context_satisfaction


@dataclass(frozen=True, repr=False)
class Evaluation(Result):
    """Result of :func:`evaluate`.

    Attributes
    ----------
    resources : ResourceEvaluation
        The resource-allocation evaluation (R1–R7 per section, CVs).
    items : DataFrame
        One row per item (RS, RC, G1–G15, Q1–Q9, S1, V1–V7): id, area,
        area_name, name (official Chinese), scope, rule, measured and
        requirement (text), status (pass / fail / evidence missing / not
        applicable), status_label, failing_schools, detail, evidence,
        responsible, source.
    checks : DataFrame
        Every comparison behind the items, one per district figure, school,
        section or evidence document (:data:`balance_metrics.checks.CHECK_COLUMNS`).
    plan_targets : DataFrame
        The local plan's own targets (empty for national-2017): target_id,
        name, scope, measured, requirement (float, in unit), unit, comparison,
        deadline (ISO date), status (pass / fail / data missing), …
    plan_checks : DataFrame
        The per-school / per-year checks behind the plan targets.
    satisfaction : DataFrame
        Satisfaction per respondent group and overall with Wilson intervals.
    readiness : Readiness
    issue_list : DataFrame
        The 问题清单 (:data:`balance_metrics.issues.ISSUE_COLUMNS`).
    standard : Standard
    period : str
    warnings : DataFrame
        The period's data warnings (file, row, column, value, rule): the
        dataset's plausibility warnings plus district totals that disagree with
        the sum of the schools' own figures (:mod:`~balance_metrics.evaluation.cross_checks`).
    """

    resources: ResourceEvaluation
    items: pd.DataFrame
    checks: pd.DataFrame
    plan_targets: pd.DataFrame
    plan_checks: pd.DataFrame
    satisfaction: pd.DataFrame
    readiness: Readiness
    issue_list: pd.DataFrame
    standard: Standard
    period: str
    warnings: pd.DataFrame = field(default_factory=lambda: problems_frame([]))

    @property
    def passed(self) -> bool:
        """Ready to apply for recognition (:attr:`Readiness.passed`)."""
        return self.readiness.passed

    def _display(self) -> tuple[str, str, list[str], list[tuple[str, pd.DataFrame]]]:
        counts = self.items["status_label"].value_counts()
        lines = ["items: " + ", ".join(f"{label} {n}" for label, n in counts.items()), f"问题清单: {len(self.issue_list)} line(s)"]
        blocking = self.readiness.blocking[["id", "name", "status_label"]]
        return (f"Evaluation {self.period} ({self.standard.label})", f"{self.readiness.verdict} ({self.readiness.label})",
                lines, [("failing items", blocking), ("CV by stage × indicator", self.resources.cv_table())])

    def summary(self) -> pd.DataFrame:
        """One row: period, standard, verdict, and item / plan-target counts by status."""
        row: dict[str, object] = {
            "period": self.period,
            "standard": self.standard.label,
            "verdict": self.readiness.verdict,
            "verdict_label": self.readiness.label,
            "blocking_items": len(self.readiness.blocking),
        }
        for status in (PASS, FAIL, MISSING, NOT_APPLICABLE):
            row[f"items_{status.replace(' ', '_')}"] = int((self.items["status"] == status).sum())
        for status, n in self.plan_targets["status"].value_counts().items():
            row[f"plan_targets_{status.replace(' ', '_')}"] = int(n)
        row["issues"] = len(self.issue_list)
        return pd.DataFrame([row])

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every result table by a name usable as a CSV file or XLSX sheet name."""
        return {
            "summary": self.summary(),
            "sections": self.resources.sections,
            "verdicts": self.resources.verdicts,
            "balance": self.resources.balance,
            "excluded": self.resources.excluded,
            "items": self.items,
            "checks": self.checks,
            "plan_targets": self.plan_targets,
            "plan_checks": self.plan_checks,
            "satisfaction": self.satisfaction,
            "readiness": self.readiness.blocking,
            "问题清单": issue_list_zh(self.issue_list),
        }


def evaluate(dataset: Dataset, standard: str | Standard = DEFAULT_STANDARD, district: str | list[str] | None = None):
    """Evaluate a period against every item of a standard.

    Every rule runs once over all the districts of the period (whole-column);
    a one-district period gives an :class:`Evaluation`, a period holding many
    a :class:`~balance_metrics.evaluation.province.ProvinceEvaluation` whose
    per-district Evaluations are views of the same whole tables.

    Parameters
    ----------
    dataset : Dataset
        From :func:`balance_metrics.load_period`. Optional tables it lacks make
        the items needing them "evidence missing", never "pass".
    standard : str, Path or Standard, default "national-2017"
        A built-in standard (``"beichen-2021"`` adds the plan's stricter
        numbers and its own targets) or a TOML override file.
    district : str or list of str, optional
        For a period holding many districts (``schools.district_id``): the
        district(s) to evaluate; default all.

    Returns
    -------
    Evaluation or ProvinceEvaluation
        An :class:`Evaluation` for a one-district period; a
        :class:`~balance_metrics.evaluation.province.ProvinceEvaluation` (one
        Evaluation per district and a ranking) for a period holding many.
    """
    std = load_standard(standard)
    if not dataset.multi_district:
        if district is not None:
            raise ValueError("this period holds one district (no schools.district_id column); leave district out")
        return evaluate_whole(dataset, std, np.array([""], dtype=object)).district("")
    known = dataset.districts()
    ids = list(known["district_id"]) if district is None else ([district] if isinstance(district, str) else list(district))
    unknown = sorted(set(ids) - set(known["district_id"]))
    if unknown:
        raise ValueError(f"unknown district_id(s) {unknown}")
    part = dataset if district is None else dataset.select(ids)
    whole = evaluate_whole(part, std, np.asarray(ids, dtype=object))
    names = dict(zip(known["district_id"], known["district_name"]))
    return ProvinceEvaluation(whole, names)


def evaluate_whole(dataset: Dataset, std: Standard, ids: np.ndarray) -> WholeEvaluation:
    """Every item, plan target, readiness and 问题清单 of every district of ``ids`` at once
    (the sentences are written when first asked for: :class:`WholeEvaluation`)."""
    specs = item_specs(std)
    ctx = build_context(dataset, std, ids=ids)
    checks, where, later = run_items_whole(ctx, specs)
    targets, target_checks, warnings = _plan_targets(ctx)
    resources = ctx.resources
    references = evidence_references(dataset, ctx)
    satisfaction_table = context_satisfaction(ctx)
    del ctx  # the schools view and the rules' shared views: freed before the summaries and the 问题清单 (the memory peak)
    if len(ids) == 1:  # one district: its sentences are what is read next; written now, statuses and lines taken from them
        checks, later = with_later_notes(checks, later, resources), ()
        written = written_tables(std, specs, checks, references, targets, target_checks, ids, where)
        statuses = written["items"].drop(columns=list(WORDED_COLUMNS))
        lines = written["issue_list"].drop(columns="description")
    else:
        written = None
        statuses = item_statuses(std, specs, checks, ids, where)
        lines = issue_list(statuses, checks, targets, target_checks, ids, where, described=False)
    return WholeEvaluation(
        ids=ids,
        resources=resources,
        base_checks=checks,
        later_notes=later,
        where=where,
        plan_targets=targets,
        plan_checks=target_checks,
        satisfaction=satisfaction_table,
        statuses=statuses,
        issue_lines=lines,
        references=references,
        specs=specs,
        standard=std,
        period=dataset.period,
        warnings=dataset.warnings,
        district_warnings=warnings,
        make=_view,
        _cache={} if written is None else {"worded": written},
    )


def evaluate_plan_targets(dataset: Dataset, standard: str | Standard = DEFAULT_STANDARD) -> tuple[ResourceEvaluation, pd.DataFrame]:
    """The resource evaluation and the plan targets of every district of a period, without the items.

    The same code as :func:`evaluate` (the same context, the same plan-target
    rules and cross-checks), for callers that need only these two results
    (the monitoring panel): the items, readiness and 问题清单 are not computed.

    Parameters
    ----------
    dataset : Dataset
    standard : str, Path or Standard, default "national-2017"

    Returns
    -------
    (ResourceEvaluation, DataFrame)
        As :attr:`Evaluation.resources` and :attr:`Evaluation.plan_targets`
        for a one-district period; for a period holding many, the resource
        tables and the plan targets carry ``district_id`` (as
        :class:`~balance_metrics.evaluation.province.ProvinceEvaluation`).
    """
    std = load_standard(standard)
    ids = dataset.districts()["district_id"].to_numpy(object) if dataset.multi_district else np.array([""], dtype=object)
    ctx = build_context(dataset, std, ids=ids)
    targets, _, _ = _plan_targets(ctx)
    if not dataset.multi_district:
        targets = targets.drop(columns="district_id").reset_index(drop=True)
    return ctx.resources, targets


def _plan_targets(ctx: Context) -> tuple[pd.DataFrame, pd.DataFrame, Mapping[str, pd.DataFrame]]:
    """The plan targets and cross-checks of every district at once (none for the
    national standard; a local plan is one district's, applied to each)."""
    return evaluate_plan(ctx)


def _view(whole: WholeEvaluation, district_id: str) -> Evaluation:
    """One district's :class:`Evaluation`: its rows of the whole tables."""
    resources = whole.resources if not whole.keyed else whole.district_resources(district_id)
    found = whole.district_warnings.get(district_id)
    warnings = pd.concat([whole.warnings, found], ignore_index=True) if found is not None else whole.warnings
    worded = whole.district_worded(district_id)
    blocking = worded["blocking"]
    return Evaluation(
        resources=resources,
        items=worded["items"],
        checks=whole.district_checks(district_id),
        plan_targets=whole.rows("plan_targets", district_id),
        plan_checks=whole.rows("plan_checks", district_id),
        satisfaction=whole.rows("satisfaction", district_id),
        readiness=Readiness(passed=blocking.empty, blocking=blocking),
        issue_list=worded["issue_list"],
        standard=whole.standard,
        period=whole.period,
        warnings=warnings,
    )


__all__ = ["Evaluation", "ProvinceEvaluation", "Readiness", "STATUS_LABELS", "assess_readiness", "evaluate"]
