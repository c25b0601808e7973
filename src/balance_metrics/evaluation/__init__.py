"""The whole evaluation: government-guarantee (:mod:`guarantee`), quality (:mod:`quality`),
satisfaction (:mod:`survey`) and evidence items, plan targets (:mod:`plan_targets`), the 问题清单
(:mod:`issue_list`), readiness and :func:`evaluate` (:mod:`evaluate`).

May import: ``common``, ``contract``, ``standard``, ``engine``.
"""
