"""Monitoring over many periods: panels, changes, trends, progress and school history.

The Beichen plan (§四(四)) asks for monthly and quarterly reports on every
school and on the district. This package evaluates every period folder under
``data/raw`` with the same standard and lines the results up by period:

- :mod:`.panel`: :func:`build_panel` -> :class:`Panel`, every period evaluated
  (in worker processes when the inputs are large: ``jobs``), lined up; for
  periods holding many districts every table carries ``district_id`` and
  :meth:`Panel.select` gives one district's panel;
- :mod:`.pieces`: one period loaded, evaluated (resources; plan targets only
  when the standard has some) and reduced at once to what the panel keeps;
- :mod:`.stacking`: the periods' tables one under the other; the long
  ``indicators`` table is handed over in wide form and written into the
  panel's columns as each period arrives;
- :mod:`.cache`: those pieces on disk, per period (``build_panel(cache_dir=...)``);
- :mod:`.roster`: each period's roster and the schools that opened, closed or
  changed between consecutive periods (``Panel.changes``), whole-column;
- :mod:`.changes`: :func:`section_changes`, sections that newly fail or newly pass;
- :mod:`.history`: :func:`trends` (district values and CVs over time) and
  :func:`school_history` (one school over time, for the per-school report);
- :mod:`.progress`: :func:`progress`, straight-line projection of every target
  to the plan deadline and to the next inspection (:func:`linear_projection`),
  every target of every district at once;
- :mod:`.projection`: :func:`~.projection.fit_lines`, the least-squares lines of
  many series at once (the arithmetic of ``scipy.stats.linregress``);
- :mod:`.writing`: :func:`panel_tables` and :func:`write_panel`, the panel and derived tables as CSV.

Period labels and discovery (:func:`find_periods`, :func:`latest_period`,
:func:`period_end`) live in :mod:`balance_metrics.contract.periods`; deadlines
and the at-risk tolerance in the standard's ``[monitoring]`` table
(:class:`balance_metrics.standard.model.MonitoringRules`).
"""

from balance_metrics.analysis.monitoring.changes import section_changes
from balance_metrics.analysis.monitoring.history import school_history, trends
from balance_metrics.analysis.monitoring.panel import Panel, build_panel
from balance_metrics.analysis.monitoring.progress import Projection, linear_projection, monitoring_rules, progress
from balance_metrics.analysis.monitoring.writing import panel_tables, write_panel
from balance_metrics.contract.periods import find_periods, latest_period, period_end
from balance_metrics.standard.model import MonitoringRules

__all__ = [
    "MonitoringRules",
    "Panel",
    "Projection",
    "build_panel",
    "find_periods",
    "latest_period",
    "linear_projection",
    "monitoring_rules",
    "panel_tables",
    "period_end",
    "progress",
    "school_history",
    "section_changes",
    "trends",
    "write_panel",
]
