"""The evaluation standard as data: the TOML files in ``data/`` (national-2017, tianjin-2021,
beichen-2021) and their loading, merging and checking (:mod:`loader`). Every threshold lives here.

May import: ``common``.
"""
