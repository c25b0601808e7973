"""What-if scenarios: apply changes to a period's data without touching its files.

A scenario is a small table (or TOML ``[[change]]`` list), one change per row:

=========  ==============================================================
action     meaning (columns used)
=========  ==============================================================
add        add ``amount`` (signed, contract units) to ``column`` of the
           school's ``stage`` row (sections columns) or of its facilities
           row (facilities columns; ``stage`` empty). A plan's rows
           (hire_…, build_…, rotate_…) are adds.
move       move ``amount`` of ``column`` (default students) of ``stage``
           from ``school_id`` to ``to_school_id``
rotate     with ``to_school_id``: move ``amount`` teachers of the rotation
           kind named in ``column`` (``key_teacher`` …, the standard's
           ``[planning.rotation.kinds]``) with every attribute they carry
open       a new school ``school_id`` with ``school_name``, ``school_type``,
           ``area_type`` (and ``ownership``); give it counts with adds
close      close ``school_id``: its sections' counts go to ``to_school_id``
           (same stages); its facilities are given up
merge      merge ``school_id`` into ``to_school_id``: counts and facilities
split      move the share ``amount`` (0–1) of every count and facility of
           ``school_id`` to a new school ``to_school_id`` (counts rounded down)
=========  ==============================================================

Problems (an unknown school, column or stage, more moved than a school has,
a negative result) are collected over the whole scenario and raised together
as one :class:`~balance_metrics.common.errors.DataValidationError`.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import pandas as pd

from balance_metrics.common.errors import DataValidationError, Problem
from balance_metrics.contract.dataset import Dataset
from balance_metrics.contract.schema import FACILITIES, SECTIONS, STAGES, STAGES_BY_SCHOOL_TYPE
from balance_metrics.engine.resources import ResourceEvaluation, evaluate_resources
from balance_metrics.standard.loader import DEFAULT_STANDARD, Standard, exact, load_standard

CHANGE_COLUMNS = ["action", "school_id", "stage", "column", "amount", "to_school_id"]
OPEN_COLUMNS = ["school_name", "school_type", "area_type", "ownership"]
SECTION_COUNTS = [c.name for c in SECTIONS.columns if c.kind == "count"]
FACILITY_AMOUNTS = [c.name for c in FACILITIES.columns if c.kind in ("count", "amount") and c.name != "labour_rooms"]
ADJUSTING = ("add", "hire", "build", "buy", "equip", "rotate")
ACTIONS = ("add", "move", "rotate", "open", "close", "merge", "split")


def read_scenario(path: str | Path) -> pd.DataFrame:
    """A scenario file as a change table: CSV, XLSX or TOML (``[[change]]`` entries)."""
    path = Path(path)
    if path.suffix.lower() == ".toml":
        with path.open("rb") as fh:
            data = tomllib.load(fh)
        return pd.DataFrame(data.get("change", []))
    if path.suffix.lower() in (".xlsx", ".xls"):
        return pd.read_excel(path, dtype=str, engine="calamine")
    return pd.read_csv(path, dtype=str, comment="#", keep_default_na=False)


def _verb(action: str, target: str = "") -> str:
    action = str(action).strip()
    if action == "rotate" and target:
        return "rotate"
    return "add" if action.split("_")[0] in ADJUSTING else action


class _Tables:
    """Mutable working copy of the tables a scenario changes."""

    def __init__(self, dataset: Dataset, source: str) -> None:
        self.dataset = dataset
        self.source = source
        self.tables = {name: frame.copy() for name, frame in dataset.tables.items()}
        self.problems: list[Problem] = []

    # -- lookups ---------------------------------------------------------------
    def schools(self) -> set[str]:
        return set(self.tables["schools"]["school_id"].astype(str))

    def section_index(self, school: str, stage: str) -> Any:
        sec = self.tables["sections"]
        hit = sec.index[(sec["school_id"] == school) & (sec["stage"] == stage)]
        return hit[0] if len(hit) else None

    def facility_index(self, school: str) -> Any:
        fac = self.tables["facilities"]
        hit = fac.index[fac["school_id"] == school]
        return hit[0] if len(hit) else None

    def problem(self, row: int, column: str, value: Any, rule: str) -> None:
        self.problems.append(Problem(self.source, row, column, "" if value is None else str(value), rule))

    # -- edits -----------------------------------------------------------------
    def adjust(self, row: int, table: str, index: Any, column: str, delta: Fraction) -> None:
        frame = self.tables[table]
        old = frame.at[index, column]
        old = Fraction(0) if pd.isna(old) else _num(old)
        new = old + delta
        if new < 0:
            who = frame.at[index, "school_id"]
            self.problem(row, column, float(delta), f"{who} has {float(old):g} of {column}; the change would leave {float(new):g} (< 0)")
            return
        if (FACILITIES if table == "facilities" else SECTIONS).column(column).kind == "count":
            if new.denominator != 1:
                self.problem(row, column, float(delta), f"{column} is a whole number; {float(new):g} is not")
                return
            frame.at[index, column] = int(new)
        else:
            frame.at[index, column] = float(new)

    def add(self, row: int, school: str, stage: str, column: str, amount: Fraction) -> None:
        if column in SECTIONS.names and column in SECTION_COUNTS:
            index = self.section_index(school, stage)
            if index is None:
                self.problem(row, "stage", stage, f"{school} has no {stage!r} section (stages: {', '.join(STAGES)})")
                return
            self.adjust(row, "sections", index, column, amount)
        elif column in FACILITY_AMOUNTS or column == "labour_rooms":
            index = self.facility_index(school)
            if index is None:
                self.problem(row, "school_id", school, f"{school} has no facilities row")
                return
            self.adjust(row, "facilities", index, column, amount)
        else:
            known = ", ".join(SECTION_COUNTS + FACILITY_AMOUNTS)
            self.problem(row, "column", column, f"unknown column; a change can set: {known}")

    def drop_school(self, school: str) -> None:
        for name, frame in self.tables.items():
            if "school_id" in frame.columns and name != "survey":
                self.tables[name] = frame[frame["school_id"] != school]
        sch = self.tables["schools"]
        if "parent_school_id" in sch.columns:
            sch.loc[sch["parent_school_id"] == school, "parent_school_id"] = pd.NA

    def ensure_section(self, school: str, stage: str, like: Any) -> Any:
        index = self.section_index(school, stage)
        if index is not None:
            return index
        sec = self.tables["sections"]
        new = {c: 0 for c in SECTION_COUNTS} | {"school_id": school, "stage": stage}
        row = pd.DataFrame([new]).astype({c: sec[c].dtype for c in new if c in sec.columns})
        self.tables["sections"] = pd.concat([sec, row], ignore_index=True)
        return self.section_index(school, stage)


def _num(value: Any) -> Fraction:
    """An exact number from a table cell (NumPy/pandas scalars included)."""
    return exact(float(value))


def _text(value: Any) -> str:
    return "" if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA else str(value).strip()


def _apply_row(t: _Tables, row: int, change: Mapping[str, Any], kinds: Mapping[str, Any]) -> None:
    school, stage, column = _text(change.get("school_id")), _text(change.get("stage")), _text(change.get("column"))
    target = _text(change.get("to_school_id"))
    action = _verb(_text(change.get("action")), target)
    if action not in ACTIONS:
        t.problem(row, "action", change.get("action"), f"unknown action; allowed: {', '.join(ACTIONS)} (or a plan's hire_/build_/rotate_ action)")
        return
    schools = t.schools()
    if action == "open":
        if school in schools:
            t.problem(row, "school_id", school, "a school with this id already exists")
            return
        _open_school(t, row, school, change)
        return
    if school not in schools:
        t.problem(row, "school_id", school, "unknown school")
        return
    if action in ("move", "rotate", "close", "merge") and target not in schools:
        t.problem(row, "to_school_id", target, "unknown school")
        return
    amount_text = _text(change.get("amount"))
    amount = None
    if action in ("add", "move", "rotate", "split"):
        try:
            amount = exact(float(amount_text) if amount_text else float("nan"))
        except (ValueError, TypeError):
            t.problem(row, "amount", amount_text, "not a number")
            return
    if action == "add":
        t.add(row, school, stage, column, amount)
    elif action == "move":
        column = column or "students"
        if amount <= 0:
            t.problem(row, "amount", amount_text, "a move needs a positive amount")
            return
        before = len(t.problems)
        t.add(row, school, stage, column, -amount)
        if len(t.problems) == before:
            t.add(row, target, stage, column, amount)
    elif action == "rotate":
        if column not in kinds:
            t.problem(row, "column", column, f"unknown rotation kind; the standard's kinds: {', '.join(kinds) or '(none)'}")
            return
        if amount <= 0 or amount.denominator != 1:
            t.problem(row, "amount", amount_text, "a rotation moves a positive whole number of teachers")
            return
        before = len(t.problems)
        bundle = [(c, exact(per) * amount) for c, per in (kinds[column].get("columns") or {}).items()]
        for c, moved in bundle:
            t.add(row, school, stage, c, -moved)
        if len(t.problems) == before:
            for c, moved in bundle:
                t.add(row, target, stage, c, moved)
    elif action in ("close", "merge"):
        _fold(t, row, school, target, with_facilities=action == "merge")
    elif action == "split":
        _split(t, row, school, target, amount)


def _fold(t: _Tables, row: int, school: str, target: str, with_facilities: bool) -> None:
    sec = t.tables["sections"]
    for index in sec.index[sec["school_id"] == school]:
        stage = sec.at[index, "stage"]
        if with_facilities:
            dest = t.ensure_section(target, stage, index)
        else:
            dest = t.section_index(target, stage)
            if dest is None:
                t.problem(row, "to_school_id", target, f"{target} has no {stage} section to take the pupils of {school}")
                continue
        for column in SECTION_COUNTS:
            value = t.tables["sections"].at[index, column]
            if column == "largest_class":
                other = t.tables["sections"].at[dest, column]
                t.tables["sections"].at[dest, column] = max(int(value or 0), int(other or 0))
            elif not pd.isna(value):
                t.adjust(row, "sections", dest, column, _num(value))
    if with_facilities:
        src, dest = t.facility_index(school), t.facility_index(target)
        if src is not None and dest is not None:
            for column in FACILITY_AMOUNTS:
                if column.startswith("smallest_"):
                    continue
                value = t.tables["facilities"].at[src, column]
                if not pd.isna(value):
                    t.adjust(row, "facilities", dest, column, _num(value))
    t.drop_school(school)


def _open_school(t: _Tables, row: int, school: str, change: Mapping[str, Any]) -> None:
    sch = t.tables["schools"]
    record = {c: pd.NA for c in sch.columns if not c.startswith("_")}
    record.update(school_id=school, boarding=False)
    for column in OPEN_COLUMNS:
        value = _text(change.get(column))
        if not value and column != "ownership":
            t.problem(row, column, "", f"opening a school needs {column}")
        record[column] = value or "public"
    t.tables["schools"] = pd.concat([sch, pd.DataFrame([record]).astype({c: sch[c].dtype for c in record})], ignore_index=True)
    fac = t.tables["facilities"]
    new = {c: 0 for c in FACILITY_AMOUNTS} | {"school_id": school}
    t.tables["facilities"] = pd.concat([fac, pd.DataFrame([new]).astype({c: fac[c].dtype for c in new})], ignore_index=True)
    for stage in _stages_of(record["school_type"]):
        t.ensure_section(school, stage, None)


def _stages_of(school_type: str) -> tuple[str, ...]:
    return STAGES_BY_SCHOOL_TYPE.get(school_type, ())


def _split(t: _Tables, row: int, school: str, new: str, share: Fraction) -> None:
    if not 0 < share < 1:
        t.problem(row, "amount", float(share), "a split moves a share strictly between 0 and 1")
        return
    if not new or new in t.schools():
        t.problem(row, "to_school_id", new, "a split needs a new, unused school id")
        return
    sch = t.tables["schools"]
    record = sch[sch["school_id"] == school].iloc[0].to_dict()
    record.update(school_id=new, school_name=f"{record['school_name']}（分设）")
    t.tables["schools"] = pd.concat([sch, pd.DataFrame([record]).astype(sch.dtypes.to_dict())], ignore_index=True)
    sec = t.tables["sections"]
    for index in list(sec.index[sec["school_id"] == school]):
        dest = t.ensure_section(new, t.tables["sections"].at[index, "stage"], index)
        for column in SECTION_COUNTS:
            value = t.tables["sections"].at[index, column]
            if column == "largest_class":
                t.tables["sections"].at[dest, column] = value
                continue
            moved = Fraction(int(_num(value) * share)) if not pd.isna(value) else Fraction(0)
            t.adjust(row, "sections", index, column, -moved)
            t.adjust(row, "sections", dest, column, moved)
    fac = t.tables["facilities"]
    src = t.facility_index(school)
    if src is not None:
        new_row = {c: 0 for c in FACILITY_AMOUNTS} | {"school_id": new}
        t.tables["facilities"] = pd.concat([fac, pd.DataFrame([new_row]).astype({c: fac[c].dtype for c in new_row})], ignore_index=True)
        dest = t.facility_index(new)
        for column in FACILITY_AMOUNTS:
            value = t.tables["facilities"].at[src, column]
            if pd.isna(value):
                continue
            if column.startswith("smallest_"):
                t.tables["facilities"].at[dest, column] = value
                continue
            whole = column in ("multimedia_classrooms", "music_rooms", "art_rooms")
            moved = Fraction(int(_num(value) * share)) if whole else exact(round(float(_num(value) * share), 2))
            t.adjust(row, "facilities", src, column, -moved)
            t.adjust(row, "facilities", dest, column, moved)


def apply_changes(
    dataset: Dataset, changes: pd.DataFrame, source: str = "scenario", rotation_kinds: Mapping[str, Any] | None = None
) -> Dataset:
    """A new :class:`Dataset` with the changes applied (the input is not modified).

    Parameters
    ----------
    dataset : Dataset
    changes : DataFrame
        One change per row with the columns of :data:`CHANGE_COLUMNS` (and
        :data:`OPEN_COLUMNS` for ``open``); see the module docstring.
    source : str
        Name used in error messages (a file name).
    rotation_kinds : mapping, optional
        The standard's ``planning.rotation.kinds`` (for ``rotate`` rows).

    Raises
    ------
    DataValidationError
        Listing every problem of the scenario (row = row number of the table, 1-based).
    """
    t = _Tables(dataset, source)
    missing = {"action", "school_id"} - set(changes.columns)
    if missing:
        raise DataValidationError([Problem(source, None, c, "", "required column of a scenario table") for c in sorted(missing)], source)
    for i, change in enumerate(changes.to_dict("records"), start=1):
        _apply_row(t, i, change, rotation_kinds or {})
    if t.problems:
        raise DataValidationError(t.problems, source)
    tables = {name: frame.reset_index(drop=True) for name, frame in t.tables.items()}
    return replace(dataset, tables=tables)


@dataclass(frozen=True)
class ScenarioResult:
    """Result of :func:`apply_scenario`: the changed data and what changed.

    Attributes
    ----------
    dataset : Dataset
        The period after the scenario (in memory).
    before, after : ResourceEvaluation
    verdicts : DataFrame
        One row per section present before or after: school_id, stage,
        school_name, passed_before, passed_after, indicators_met_before/after, changed.
    balance : DataFrame
        One row per stage × indicator: cv_before, cv_after, passed_before,
        passed_after, district_value_before/after, changed.
    items : DataFrame
        id, name, status_before, status_after, changed (the whole evaluation's
        items) — only when ``items=True``.
    """

    dataset: Dataset
    before: ResourceEvaluation
    after: ResourceEvaluation
    verdicts: pd.DataFrame
    balance: pd.DataFrame
    items: pd.DataFrame

    @property
    def passed(self) -> bool:
        """The resource rules all pass after the scenario."""
        return self.after.passed

    def summary(self) -> pd.DataFrame:
        """Counts before and after: sections passing, CVs passing, items passing."""
        v, b = self.verdicts, self.balance
        rows = [
            ("sections_passed", int(v["passed_before"].fillna(False).sum()), int(v["passed_after"].fillna(False).sum())),
            ("cv_passed", int(b["passed_before"].sum()), int(b["passed_after"].sum())),
        ]
        if not self.items.empty:
            rows.append(("items_passed", int((self.items["status_before"] == "pass").sum()), int((self.items["status_after"] == "pass").sum())))
        return pd.DataFrame(rows, columns=["measure", "before", "after"])

    def tables(self) -> dict[str, pd.DataFrame]:
        return {"summary": self.summary(), "verdicts": self.verdicts, "balance": self.balance, "items": self.items}

    def __repr__(self) -> str:
        s = self.summary().set_index("measure")
        return "ScenarioResult(" + ", ".join(f"{m} {r.before}→{r.after}" for m, r in s.iterrows()) + ")"


def compare_resources(before: ResourceEvaluation, after: ResourceEvaluation) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Before/after tables of section verdicts and district balance."""
    keys = [k for k in ("district_id", "school_id", "stage") if k in before.verdicts.columns]
    cols = ["school_name", "passed", "indicators_met", "failed_indicators"]
    v = before.verdicts[keys + cols].merge(after.verdicts[keys + cols], on=keys, how="outer", suffixes=("_before", "_after"))
    v["school_name"] = v["school_name_before"].fillna(v["school_name_after"])
    v = v.drop(columns=["school_name_before", "school_name_after"])
    v["changed"] = (v["passed_before"] != v["passed_after"]) | (v["indicators_met_before"] != v["indicators_met_after"])
    keys = [k for k in ("district_id", "stage", "indicator") if k in before.balance.columns]
    cols = ["district_value", "cv", "passed"]
    b = before.balance[keys + ["name", "limit"] + cols].merge(after.balance[keys + cols], on=keys, how="outer", suffixes=("_before", "_after"))
    b["changed"] = (b["passed_before"] != b["passed_after"]) | ((b["cv_before"] - b["cv_after"]).abs() > 1e-12)
    return v.reset_index(drop=True), b


def apply_scenario(
    dataset: Dataset,
    changes: pd.DataFrame | str | Path,
    standard: str | Standard = DEFAULT_STANDARD,
    items: bool = False,
) -> ScenarioResult:
    """Apply a scenario and re-evaluate: before/after of every verdict, CV (and item).

    Parameters
    ----------
    dataset : Dataset
        The period (its files are never touched).
    changes : DataFrame or path
        A change table (see the module docstring), a CSV/XLSX/TOML scenario
        file, or a plan's ``items`` (:func:`~balance_metrics.analysis.planning.plan_remediation`).
    standard : str, Path or Standard
    items : bool, default False
        Also run the whole evaluation (G/Q items) before and after.

    Returns
    -------
    ScenarioResult
    """
    std = load_standard(standard)
    source = str(changes) if isinstance(changes, (str, Path)) else "scenario"
    table = read_scenario(changes) if isinstance(changes, (str, Path)) else changes
    after_data = apply_changes(dataset, table, source, std.get("planning.rotation.kinds") or {})
    before, after = evaluate_resources(dataset, std), evaluate_resources(after_data, std)
    verdicts, balance = compare_resources(before, after)
    item_table = pd.DataFrame(columns=["id", "name", "status_before", "status_after", "changed"])
    if items:
        from balance_metrics.evaluation.evaluate import evaluate

        b, a = evaluate(dataset, std).items, evaluate(after_data, std).items
        item_table = b[["id", "name", "status"]].merge(a[["id", "status"]], on="id", how="outer", suffixes=("_before", "_after"))
        item_table["changed"] = item_table["status_before"] != item_table["status_after"]
    return ScenarioResult(after_data, before, after, verdicts, balance, item_table)
