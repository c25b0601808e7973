"""Load one reporting period's data: :func:`load_period` and :class:`Dataset`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from balance_metrics.common.errors import DataValidationError, Problem, problems_frame
from balance_metrics.contract.ids import school_id_problems
from balance_metrics.contract.periods import PERIOD_PATTERN, is_period_label, period_sort_key
from balance_metrics.contract.schema import TABLES
from balance_metrics.contract.schoolkeys import forget_words
from balance_metrics.contract.tables import find_tables, parse_table, sha256
from balance_metrics.contract.districts import district_key_problems, without_empty_district_key
from balance_metrics.contract.validation import TABLE_RULES, cross_table_problems, plausibility_warnings

__all__ = ["PERIOD_PATTERN", "Dataset", "is_period_label", "load_period", "period_sort_key"]


@dataclass(frozen=True)
class Dataset:
    """A validated reporting period.

    Attributes
    ----------
    period : str
        Period label taken from the folder name, e.g. ``"2022Q4"`` or ``"2022-10"``.
    path : Path
        The period folder.
    tables : Mapping[str, DataFrame]
        Every table found, with canonical column names, typed values and the
        bookkeeping columns ``_source`` and ``_row``.
    warnings : DataFrame
        Plausibility warnings (file, row, column, value, rule); not errors.
    sources : DataFrame
        One row per table read: table, file, sheet, sha256, rows.
    """

    period: str
    path: Path
    tables: Mapping[str, pd.DataFrame]
    warnings: pd.DataFrame
    sources: pd.DataFrame = field(repr=False)

    @property
    def schools(self) -> pd.DataFrame:
        return self.tables["schools"]

    @property
    def sections(self) -> pd.DataFrame:
        return self.tables["sections"]

    @property
    def facilities(self) -> pd.DataFrame:
        return self.tables["facilities"]

    def table(self, name: str) -> pd.DataFrame | None:
        """An optional table, or ``None`` when the period does not have it."""
        return self.tables.get(name)

    @property
    def multi_district(self) -> bool:
        """Whether the period holds several districts (``schools.district_id`` given)."""
        return "district_id" in self.schools.columns

    def districts(self) -> pd.DataFrame:
        """district_id, district_name, schools — one row per district, by id
        (one row with an empty id for a single-district period)."""
        if not self.multi_district:
            return pd.DataFrame({"district_id": [""], "district_name": [""], "schools": [len(self.schools)]})
        names = self.schools["district_name"] if "district_name" in self.schools else pd.Series("", index=self.schools.index)
        frame = pd.DataFrame({"district_id": self.schools["district_id"].astype(object), "district_name": names.fillna("").astype(object)})
        return frame.groupby("district_id", sort=True).agg(district_name=("district_name", "first"), schools=("district_name", "size")).reset_index()

    def select(self, district_ids: str | list[str]) -> "Dataset":
        """The same period restricted to some districts (every table filtered by
        its district key or by its schools' district)."""
        wanted = [district_ids] if isinstance(district_ids, str) else list(district_ids)
        if not self.multi_district:
            raise ValueError("this period holds one district (no schools.district_id column); nothing to select")
        unknown = sorted(set(wanted) - set(self.schools["district_id"]))
        if unknown:
            raise ValueError(f"unknown district_id(s) {unknown}; known: {', '.join(self.districts()['district_id'][:20])}")
        schools = self.schools[self.schools["district_id"].isin(wanted)]
        ids = set(schools["school_id"])
        tables = {}
        for name, frame in self.tables.items():
            if "district_id" in frame.columns:
                tables[name] = frame[frame["district_id"].isin(wanted)]
            elif "school_id" in frame.columns:
                tables[name] = frame[frame["school_id"].isin(ids)]
            else:
                tables[name] = frame
        return Dataset(self.period, self.path, tables, self.warnings, self.sources)


def load_period(path: str | Path) -> Dataset:
    """Read and validate one period folder.

    Parameters
    ----------
    path : str or Path
        Folder holding the period's tables as ``<table>.csv`` files and/or sheets
        of ``*.xlsx`` workbooks; table, column and category names may be English
        or the official Chinese names (see ``docs/data-contract.md``).

    Returns
    -------
    Dataset

    Raises
    ------
    DataValidationError
        Listing every problem found (file, row, column, value, rule).
    """
    folder = Path(path).resolve()
    if not folder.is_dir():
        raise DataValidationError([Problem(str(folder), None, "", "", "period folder not found")], str(folder))

    try:
        return _load(folder)
    finally:
        forget_words()


def _load(folder: Path) -> Dataset:
    """:func:`load_period` of an existing folder."""
    raw_tables, problems = find_tables(folder, list(TABLES.values()))
    parsed: dict[str, pd.DataFrame] = {}
    warnings: list[Problem] = []
    read: dict[str, tuple[Path, str | None, int]] = {}
    for name in list(raw_tables):
        raw = raw_tables.pop(name)  # its cells (a file's bytes) are let go once parsed
        read[name] = (raw.path, raw.sheet, len(raw.rows))
        frame, table_problems, unused = parse_table(raw)
        parsed[name] = without_empty_district_key(frame)
        problems.extend(table_problems)
        warnings.extend(Problem(raw.source, None, col, "", "column not used by balance_metrics") for col in unused)

    if "schools" in parsed:
        problems.extend(school_id_problems(parsed["schools"]))
    problems.extend(district_key_problems(parsed))
    if {"schools", "sections", "facilities"} <= parsed.keys():
        problems.extend(cross_table_problems(parsed["schools"], parsed["sections"], parsed["facilities"]))
        if not problems:  # warnings are shown only for a period without problems
            warnings.extend(plausibility_warnings(parsed["sections"], parsed["facilities"], parsed["schools"]))
    for name, frame in parsed.items():
        check = TABLE_RULES.get(name)
        if check is not None:
            problems.extend(check(frame, parsed))

    if problems:
        raise DataValidationError(problems, str(folder))
    sources = pd.DataFrame(
        [
            {"table": name, "file": path.name, "sheet": sheet or "", "sha256": sha256(path), "rows": rows}
            for name, (path, sheet, rows) in sorted(read.items())
        ]
    )
    return Dataset(
        period=folder.name,
        path=folder,
        tables=parsed,
        warnings=problems_frame(warnings),
        sources=sources,
    )
