"""The evaluation standard as data. Every threshold, floor, CV limit, item rule's
numbers, plan target, deadline and unit cost lives in the TOML files of ``data/``
(national-2017 → tianjin-2021 → beichen-2021 → a user's override file).

- :mod:`.model`: the typed, frozen parts (:class:`~.model.Standard`, indicators,
  section rule, balance, items, survey settings, remediation, monitoring, plan targets);
- :mod:`.loader`: finding, reading and merging the files (:func:`~.loader.load_standard`);
- :mod:`.checking`: checking the merged standard whole — one
  :class:`~balance_metrics.common.errors.StandardError` lists every problem
  (file, key, value, rule) before anything is computed;
- :mod:`.kinds`: the value kinds and what each item rule and plan measure needs
  from the file (its keys, required or not).

May import: ``common``, ``contract``.
"""
