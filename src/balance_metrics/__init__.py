"""balance_metrics: evaluate 义务教育优质均衡 (high-quality balanced compulsory education).

Main entry points
-----------------
load_period(path) -> Dataset
evaluate_resources(dataset, standard="national-2017") -> ResourceEvaluation
evaluate(dataset, standard="national-2017") -> Evaluation (every item, plan targets, 问题清单)
pupil_weighted_cv(values, weights) -> float
equity(evaluation, by="area_type", weighted=True) -> DataFrame (range, P5–P95, McLoone, Verstegen, Gini, Theil)
plan_remediation(dataset, standard, budget=None, rotation=True, ...) -> Plan (cheapest plan passing every resource rule)
apply_scenario(dataset, changes, standard) -> ScenarioResult (before/after of verdicts, CVs, items)
list_standards(), load_standard(name_or_path)
"""

from balance_metrics.common.runtime import prefer_small_pages

prefer_small_pages()  # before numpy is imported: see balance_metrics.common.runtime

from balance_metrics.analysis.inequality.battery import equity
from balance_metrics.analysis.planning import Plan, plan_remediation
from balance_metrics.analysis.scenarios import ScenarioResult, apply_scenario
from balance_metrics.engine.cv import pupil_weighted_cv
from balance_metrics.contract.dataset import Dataset, load_period
from balance_metrics.common.errors import DataValidationError, Problem, StandardError
from balance_metrics.evaluation.evaluate import Evaluation, evaluate
from balance_metrics.engine.resources import ResourceEvaluation, evaluate_resources
from balance_metrics.standard.loader import Standard, list_standards, load_standard

__version__ = "0.1.0"

__all__ = [
    "DataValidationError",
    "Dataset",
    "Evaluation",
    "Plan",
    "Problem",
    "ResourceEvaluation",
    "ScenarioResult",
    "Standard",
    "StandardError",
    "apply_scenario",
    "equity",
    "evaluate",
    "evaluate_resources",
    "list_standards",
    "load_period",
    "load_standard",
    "plan_remediation",
    "pupil_weighted_cv",
]
