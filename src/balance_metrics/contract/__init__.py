"""The input data contract: tables and columns (:mod:`schema`), reading files (:mod:`tables`),
validation rules (:mod:`validation`) and the loaded period (:mod:`dataset`).

May import: ``common``.
"""
