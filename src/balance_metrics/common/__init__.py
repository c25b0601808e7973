"""Foundation shared by every layer; imports nothing else of ``balance_metrics``.

- :mod:`.errors`: ``Problem`` / ``DataValidationError`` (bad data) and
  ``StandardProblem`` / ``StandardError`` (bad standard), each listing every problem;
- :mod:`.labels`: the Chinese label of every status vocabulary (items, readiness,
  indicator status against threshold and floor, progress) and ``percent_text``;
- :mod:`.results`: the ``Result`` mixin (compact ``repr`` / ``_repr_html_``) of every result object;
- :mod:`.atomic`: atomic writes and ``write_csv`` (UTF-8 with BOM, for Excel);
  :mod:`.staging`: a folder of files replaced as one set; :mod:`.paths`: output paths;
- :mod:`.grouped`: whole-column helpers for grouped text;
- :mod:`.runtime`: process settings made before numpy is imported (huge pages off).
"""
