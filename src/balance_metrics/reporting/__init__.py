"""Reports: the report context, report sections, findings, presentation (labels, number formats,
HTML), charts, fonts, PDF, provenance, exported workbooks, the batch runner and the index page.

May import: every layer below (``common`` … ``analysis``).
"""
