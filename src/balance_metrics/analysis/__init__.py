"""Analysis on top of evaluations: gaps and remediation (:mod:`gaps`), equity measures
(:mod:`equity`) and monitoring over many periods (:mod:`monitoring`).

May import: every layer below (``common`` … ``evaluation``).
"""
