"""District planning: the cheapest set of actions that passes every resource rule.

:mod:`actions` (what the planner may do and what it costs, from the standard),
:mod:`model` (the mixed-integer second-order-cone programme, with a year for
every action), :mod:`solve` (:func:`plan_remediation` -> :class:`Plan`, solved
lexicographically: cost, then the rural share, then the earliest years),
:mod:`diagnosis` (when no plan passes: the caps and exclusions that block it).
"""

from balance_metrics.analysis.planning.actions import Action, planning_actions
from balance_metrics.analysis.planning.solve import PLAN_COLUMNS, Plan, plan_remediation

__all__ = ["PLAN_COLUMNS", "Action", "Plan", "plan_remediation", "planning_actions"]
