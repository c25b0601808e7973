"""Analysis on top of evaluations.

- :mod:`.gaps`: per-section shortfalls and the cheapest remediation (unit costs from
  ``[remediation]`` of the standard); :mod:`.scenarios`: what-if changes to a period;
- :mod:`.planning`: the cheapest set of actions that passes every resource rule;
- :mod:`.equity`, :mod:`.inequality`, :mod:`.cv_diagnostics`: group gaps, inequality
  measures, what drives a 差异系数;
- :mod:`.monitoring`: many periods lined up (panel, changes, history/trends,
  progress projections, CSV writing).

May import: every layer below (``common`` … ``evaluation``).
"""
