"""The whole evaluation: every item of the 2017 method and the local plan's targets.

- :mod:`.items`: runs each ``[items.*]`` entry of the standard through its rule and
  summarises one row per item; the rules themselves live in :mod:`.resource_items`
  (RS, RC), :mod:`.guarantee` (G1–G15), :mod:`.quality` (Q1–Q9), :mod:`.survey`
  (S1, Wilson intervals) and :mod:`.evidence` (documents, vetoes V1–V7);
- :mod:`.checks`: one comparison row (measured vs requirement) and its wording;
- :mod:`.plan_targets`: the plan's own targets (``[plan_targets.*]``), measured per period;
- :mod:`.issue_list`: the 问题清单, by severity;
- :mod:`.evaluate`: :func:`~.evaluate.evaluate` → :class:`~.evaluate.Evaluation`
  (``passed`` = readiness, ``summary()``, ``tables()``: the tables ``balance-metrics evaluate`` writes).

An item's numbers (minimums, limits, school types) are in the standard; the names of
the rules and what each needs from the file are declared in
:mod:`balance_metrics.standard.checking`.

May import: ``common``, ``contract``, ``standard``, ``engine``.
"""
