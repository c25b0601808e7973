"""The resource engine: the seven indicators R1–R7 and their two rules.

- :mod:`.sections`, :mod:`.campuses`, :mod:`.schoolview`: which school sections count
  (exclusions, campus merge, combined-school split by ``split_weights``), on integer
  codes (each school id hashed once);
- :mod:`.indicators`: the indicator formula, value = Σ coefficient × column × scale ÷
  students (coefficients, scale and basis come from ``[indicators.*]`` of the standard);
- :mod:`.verdicts`: the per-section rule (≥ ``min_indicators_met`` at the threshold,
  the rest ≥ ``floor_factor`` × threshold), exact;
- :mod:`.cv`, :mod:`.balance`: the pupil-weighted 差异系数 and the district balance
  against ``[balance] cv_limits``;
- :mod:`.resources`: :func:`~.resources.evaluate_resources` →
  :class:`~.resources.ResourceEvaluation` (``passed``, ``summary()``, ``tables()``).

Indicators, verdicts and CVs are computed on (indicators × sections) arrays
(:class:`~.indicators.IndicatorMatrix`, :class:`~.verdicts.Judgement`); the long
one-row-per-section × indicator table is built only when read.

Thresholds and limits are never written here: they are read from the standard.

May import: ``common``, ``contract``, ``standard``.
"""
