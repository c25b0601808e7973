"""The input data contract: what a period folder must hold and how it is read.

- :mod:`.schema`: every table, column, unit and category (``docs/data-contract.md`` is generated
  from it and tested against it);
- :mod:`.reading`, :mod:`.cells`, :mod:`.tables`: files → text cells → typed columns;
  :mod:`.fastcsv` (plain CSV files split whole-file, the careful :mod:`.reading` as fallback),
  :mod:`.columns` (whole-column parsing on the cells' bytes, :mod:`.cells` for the rest) and
  :mod:`.workbooks` (calamine, openpyxl for sheets with formulas or error cells) are its fast paths;
- :mod:`.validation`, :mod:`.ids`: the rules a period's data must keep (every problem listed
  with file, row, column, value, rule);
- :mod:`.dataset`: :func:`~.dataset.load_period` → :class:`~.dataset.Dataset`;
- :mod:`.periods`: period labels (``2022Q4``, ``2022-10``), their order and end dates,
  finding period folders; :mod:`.writing`: writing a period folder back.

May import: ``common``.
"""
