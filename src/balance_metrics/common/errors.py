"""Error types shared by every layer."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

PROBLEM_COLUMNS = ("file", "row", "column", "value", "rule")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, located precisely enough to fix it.

    ``row`` is the row number as a person sees it when opening the file: the
    line number in a CSV (comment and header lines counted) or the row number in
    an Excel sheet. ``None`` when the problem concerns a whole table or column.
    """

    file: str
    row: int | None
    column: str
    value: str
    rule: str

    def __str__(self) -> str:
        where = self.file if self.row is None else f"{self.file}:{self.row}"
        col = f" [{self.column}]" if self.column else ""
        val = f" = {self.value!r}" if self.value != "" else ""
        return f"{where}{col}{val}: {self.rule}"


def problems_frame(problems: list[Problem]) -> pd.DataFrame:
    """Problems as a DataFrame with the columns of :data:`PROBLEM_COLUMNS`."""
    rows = [{k: getattr(p, k) for k in PROBLEM_COLUMNS} for p in problems]
    frame = pd.DataFrame(rows, columns=list(PROBLEM_COLUMNS))
    frame["row"] = frame["row"].astype("Int64")
    return frame


class DataValidationError(ValueError):
    """A period's input data break the data contract.

    Carries *every* problem found, not only the first. ``problems`` gives them
    as a DataFrame (file, row, column, value, rule).
    """

    def __init__(self, problems: list[Problem], source: str = "") -> None:
        self.problem_list = list(problems)
        self.source = source
        head = f"{len(self.problem_list)} problem(s) in {source or 'input data'}:"
        lines = [head, *(f"  - {p}" for p in self.problem_list)]
        super().__init__("\n".join(lines))

    @property
    def problems(self) -> pd.DataFrame:
        return problems_frame(self.problem_list)


STANDARD_PROBLEM_COLUMNS = ("file", "key", "value", "rule")


@dataclass(frozen=True)
class StandardProblem:
    """One thing wrong with a standard file: the file that set (or should set) the
    key, the dotted key, the value found (``""`` when missing) and the rule broken."""

    file: str
    key: str
    value: str
    rule: str

    def __str__(self) -> str:
        val = f" = {self.value}" if self.value != "" else ""
        return f"{self.file} [{self.key}]{val}: {self.rule}"


class StandardError(ValueError):
    """A standard file is missing, malformed or inconsistent.

    Raised with a message, or with every :class:`StandardProblem` found when a
    standard is checked at load; ``problems`` gives them as a DataFrame
    (file, key, value, rule).
    """

    def __init__(self, message: str | list[StandardProblem], source: str = "") -> None:
        if isinstance(message, str):
            self.problem_list: list[StandardProblem] = []
            super().__init__(message)
            return
        self.problem_list = list(message)
        head = f"{len(self.problem_list)} problem(s) in standard {source or ''}".rstrip() + ":"
        super().__init__("\n".join([head, *(f"  - {p}" for p in self.problem_list)]))

    @property
    def problems(self) -> pd.DataFrame:
        rows = [{k: getattr(p, k) for k in STANDARD_PROBLEM_COLUMNS} for p in self.problem_list]
        return pd.DataFrame(rows, columns=list(STANDARD_PROBLEM_COLUMNS))
