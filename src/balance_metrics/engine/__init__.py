"""The resource engine: school sections (exclusions, campus merge, combined-school split:
:mod:`sections`), indicators R1–R7 (:mod:`indicators`), per-section verdicts (:mod:`verdicts`),
the pupil-weighted 差异系数 (:mod:`cv`), district balance (:mod:`balance`) and
:func:`evaluate_resources` (:mod:`resources`).

May import: ``common``, ``contract``, ``standard``.
"""
