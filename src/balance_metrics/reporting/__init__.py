"""Reports in Simplified Chinese: district and school HTML/PDF reports and their batch runner.

- :mod:`.context`: :func:`~.context.load_context`, everything one report needs;
- report sections: :mod:`.district_sections`, :mod:`.school_sections`,
  :mod:`.plan_sections` (each function returns one section's HTML; the notebooks
  in ``notebooks/`` call them), built from :mod:`.findings` (verdict sentences, the
  问题清单 table, per-school tables);
- :mod:`.labels` (column labels), :mod:`.formats` (number formats), :mod:`.presentation` (HTML tables); :mod:`.plots`
  (house style, matplotlib) and :mod:`.heatmap` (seaborn) charts; :mod:`.fonts`,
  :mod:`.font_subsets`, :mod:`.batch_font`: the Chinese font and glyph guard;
- :mod:`.pdf`, :mod:`.provenance`, :mod:`.export` (CSV + XLSX), :mod:`.index_page`;
- the batch: :mod:`.batch`, :mod:`.tasks`, :mod:`.render`, :mod:`.kernels`,
  :mod:`.executors`, :mod:`.rerun`.

Sentences that state a rule (floors, "6 of 7", CV limits) take their numbers from
the standard (``Standard.floor_percent``, ``min_indicators_met``, ``cv_limit``).

May import: every layer below (``common`` … ``analysis``).
"""
