"""The whole evaluation: every item of the 2017 method and the local plan's targets.

Every rule runs once over all districts of a period (whole-column; check rows
carry ``district_id``); a one-district period is the case of one district "".

- :mod:`.items`: runs each ``[items.*]`` entry of the standard through its rule and
  summarises one row per item; the rules themselves live in :mod:`.resource_items`
  (RS, RC), :mod:`.guarantee` (G1–G15), :mod:`.quality` (Q1–Q9), :mod:`.survey`
  (S1, Wilson intervals) and :mod:`.evidence` (documents, vetoes V1–V7);
  :mod:`.item_checks` combines an item's checks per district into its status,
  :mod:`.item_texts` writes its sentences (measured, requirement, failing schools);
- :mod:`.checks`: comparison rows (measured vs requirement, built from columns by
  ``check_frame``) and their wording; :mod:`.ratios`: exact rationals a column at a time;
- :mod:`.context`, :mod:`.district`: what the rules share (all districts' schools and figures);
- :mod:`.plan_targets`: the plan's own targets (``[plan_targets.*]``), measured per period;
- :mod:`.issue_list`: the 问题清单, by severity; :mod:`.readiness`: ready to apply or not, and the blocking items;
- :mod:`.evaluate`: :func:`~.evaluate.evaluate` → :class:`~.evaluate.Evaluation`
  (``passed`` = readiness, ``summary()``, ``tables()``: the tables ``balance-metrics evaluate`` writes);
- :mod:`.province`: many districts — :class:`~.province.ProvinceEvaluation` (ranking, stacked
  tables) whose per-district Evaluations are views of the whole tables; the sentences
  (item texts, 问题清单) are written when asked for, for one district or for all.

An item's numbers (minimums, limits, school types) are in the standard; the names of
the rules and what each needs from the file are declared in
:mod:`balance_metrics.standard.checking`.

May import: ``common``, ``contract``, ``standard``, ``engine``.
"""
