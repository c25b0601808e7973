"""The items of the whole evaluation: their definitions in the standard, running
their rules, and one summary row per district × item.

Items live in the standard under ``[items.<id>]`` with ``area``, ``name``
(official Chinese wording), ``scope`` (district / school) and either ``rule``
(a rule name, with the numbers the rule needs) or ``same_as`` (an item whose
checks it shares, e.g. the veto on social recognition below 85 %). An item's
status is combined from its checks (:mod:`.item_checks`); its sentences are
written by :mod:`.item_texts`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from balance_metrics.evaluation import evidence
from balance_metrics.evaluation import guarantee
from balance_metrics.evaluation import quality
from balance_metrics.evaluation import resource_items
from balance_metrics.evaluation import survey
from balance_metrics.evaluation.checks import CHECK_COLUMNS, STATUS_LABELS, checks_frame, coded_texts, lookup
from balance_metrics.engine.resources import ResourceEvaluation
from balance_metrics.evaluation.context import Context, Rule
from balance_metrics.evaluation.item_checks import CheckColumns, ItemChecks, combine_per_district, item_rows
from balance_metrics.evaluation.item_texts import evidence_measured, evidence_requirement, failing_schools, item_detail, item_measured, item_requirement
from balance_metrics.standard.checking import AREAS
from balance_metrics.standard.loader import Standard

AREA_ORDER: tuple[str, ...] = AREAS


RULES: dict[str, Rule] = {
    **resource_items.RULES, **guarantee.RULES, **quality.RULES, **survey.RULES, **evidence.RULES,
}


ITEM_COLUMNS = [
    "id", "area", "area_name", "name", "scope", "rule", "measured", "requirement", "status", "status_label",
    "failing_schools", "detail", "evidence", "responsible", "source",
]


def item_specs(standard: Standard) -> dict[str, Mapping[str, Any]]:
    """The standard's items in reporting order (area, then file order): id -> the
    item's table. Checked at load (:mod:`balance_metrics.standard.checking`)."""
    return {item_id: item.params for item_id, item in standard.items.items()}


def run_items(ctx: Context, specs: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """Every item's checks for every district of ``ctx`` (see
    :data:`balance_metrics.checks.CHECK_COLUMNS`), item by item; within one
    district the rows are in the order the rules give them."""
    checks, _, later = run_items_whole(ctx, specs)
    return with_later_notes(checks, later, ctx.resources)


@dataclass(frozen=True)
class LaterNotes:
    """Check rows whose notes their rule writes after the checks
    (:data:`~balance_metrics.evaluation.resource_items.LATER_NOTES`).

    Attributes
    ----------
    rows : ndarray of int
        Their positions in the check table, ascending.
    write : callable
        ResourceEvaluation -> the notes of those rows of its districts, in order.
    """

    rows: np.ndarray
    write: Callable[[ResourceEvaluation], np.ndarray]


def run_items_whole(ctx: Context, specs: Mapping[str, Mapping[str, Any]]) -> tuple[pd.DataFrame, np.ndarray, tuple[LaterNotes, ...]]:
    """:func:`run_items` without the notes written later, each check's district
    position in ``ctx.ids``, and the rows whose notes are written later
    (:func:`with_later_notes`)."""
    parts: list[pd.DataFrame] = []
    owners: list[str] = []
    later: list[tuple[int, int, Callable[[ResourceEvaluation], np.ndarray]]] = []  # (part, rows of its rule, write)
    for item_id, spec in specs.items():  # a loop over the item definitions
        source_id = spec.get("same_as", item_id)
        source = specs[source_id]
        frame = RULES[source["rule"]](ctx, source_id, source)
        if len(frame) and source["rule"] in resource_items.LATER_NOTES:
            later.append((len(parts), len(frame), resource_items.LATER_NOTES[source["rule"]]))
        if source.get("evidence_part") and source["rule"] != "evidence":
            # A computed item with a part judged on documents: both must pass.
            documents = evidence.evidence_rule(ctx, source_id, source)
            frame = pd.concat([frame, documents.assign(part_name=str(source["evidence_part"]))], ignore_index=True)
        if len(frame):
            parts.append(frame)
            owners.append(item_id)
    if not parts:
        return checks_frame([]), np.zeros(0, dtype=np.int64), ()
    where = np.concatenate([p["district_id"].to_numpy(np.int64) for p in parts])  # rules name districts by position
    item = np.repeat(np.arange(len(parts)), [len(p) for p in parts])
    # One table, column by column: the item ids and district ids taken from the few
    # texts (not a text per row to check), each other column concatenated once.
    columns = {"district_id": coded_texts(where, ctx.ids), "item_id": coded_texts(item, owners)}
    for column in CHECK_COLUMNS[2:]:
        columns[column] = _stacked([p[column] for p in parts])
    starts = np.r_[0, np.cumsum([len(p) for p in parts])]
    notes = tuple(LaterNotes(np.arange(starts[k], starts[k] + n), write) for k, n, write in later)
    return pd.DataFrame(columns, columns=CHECK_COLUMNS, copy=False), where, notes


def with_later_notes(checks: pd.DataFrame, later: tuple[LaterNotes, ...], resources: ResourceEvaluation,
                     rows: np.ndarray | None = None) -> pd.DataFrame:
    """``checks`` with the notes written later filled in.

    Parameters
    ----------
    checks : DataFrame
        The check table of :func:`run_items_whole`, or its rows at ``rows``.
    later : tuple of LaterNotes
    resources : ResourceEvaluation
        The resource evaluation of the districts of those checks.
    rows : array of int, optional
        Positions (ascending) of ``checks`` in the whole table: one district's.
    """
    if not later or not len(checks):
        return checks
    note = checks["note"].array.copy()
    for block in later:
        at = block.rows if rows is None else _within(rows, block.rows)
        written = block.write(resources)
        if len(written) != len(at):
            raise ValueError(f"{len(written)} notes written for {len(at)} check rows")  # the rule's rows and notes disagree
        note[at] = written
    return checks.assign(note=note)


def _within(rows: np.ndarray, block: np.ndarray) -> np.ndarray:
    """Positions in ``rows`` of the rows that are in ``block`` (both ascending)."""
    found = np.searchsorted(block, rows)
    hit = found < len(block)
    hit[hit] = block[found[hit]] == rows[hit]
    return np.flatnonzero(hit)


def _stacked(pieces: list[pd.Series]) -> object:
    """The pieces one under the other: their arrays joined directly when they share a
    dtype (no index to build or align, as ``pd.concat`` does per column), else ``pd.concat``
    (also for object columns: a frame would infer ``str`` from their joined array)."""
    arrays = [piece.array for piece in pieces]
    if not pd.api.types.is_object_dtype(arrays[0].dtype) and all(a.dtype == arrays[0].dtype for a in arrays):
        return type(arrays[0])._concat_same_type(arrays)
    return pd.concat(pieces, ignore_index=True)


def summarise_items(standard: Standard, specs: Mapping[str, Mapping[str, Any]], checks: pd.DataFrame, references: pd.Series,
                    ids: object = ("",), where: np.ndarray | None = None) -> pd.DataFrame:
    """One row per district × item: measured and requirement as text, status, failing schools.

    Parameters
    ----------
    references : Series
        (district_id, item id) -> evidence documents (:func:`~balance_metrics.evaluation.evidence.evidence_references`).
    ids : array of str
        The districts, in order ("" for a one-district period).
    where : array of int, optional
        Each check's district position in ``ids`` (computed when not given).

    Returns
    -------
    DataFrame
        Columns ``district_id`` and :data:`ITEM_COLUMNS`, district by district,
        items in the standard's order. ``status`` is pass / fail / evidence
        missing / not applicable; ``status_label`` its Chinese label.
    """
    return _summarised(standard, specs, checks, references, ids, where, worded=True)


def item_statuses(standard: Standard, specs: Mapping[str, Mapping[str, Any]], checks: pd.DataFrame,
                  ids: object = ("",), where: np.ndarray | None = None) -> pd.DataFrame:
    """:func:`summarise_items` without the texts written per district
    (:data:`WORDED_COLUMNS`): each item's status, for a verdict or a ranking
    that needs no sentences. The same rows, the same statuses."""
    return _summarised(standard, specs, checks, pd.Series([], dtype=object), ids, where, worded=False)


#: Columns of the item table written as sentences per district (left out by :func:`item_statuses`).
WORDED_COLUMNS = ("measured", "requirement", "failing_schools", "detail", "evidence")


def _summarised(standard: Standard, specs: Mapping[str, Mapping[str, Any]], checks: pd.DataFrame, references: pd.Series,
                ids: object, where: np.ndarray | None, worded: bool) -> pd.DataFrame:
    ids = np.asarray(ids, dtype=object)
    n = len(ids)
    if where is None:
        where = pd.Index(ids).get_indexer(checks["district_id"].to_numpy(object))
    columns = CheckColumns(checks, np.asarray(where, dtype=np.int64))
    by_item = item_rows(columns["item_id"])
    evidence_texts = _evidence_texts(references, ids)
    texts: dict[str, list[np.ndarray]] = {c: [] for c in _PER_DISTRICT if worded or c not in WORDED_COLUMNS}
    for item_id, spec in specs.items():  # a loop over the item definitions
        mine = ItemChecks(columns, by_item.get(item_id, np.zeros(0, dtype=np.int64)), n)
        texts["status"].append(combine_per_district(mine))
        if not worded:
            continue
        evidence_based = specs[spec.get("same_as", item_id)].get("rule") == "evidence"
        texts["measured"].append(evidence_measured(mine) if evidence_based else item_measured(mine, spec))
        texts["requirement"].append(np.full(n, evidence_requirement(spec), dtype=object) if evidence_based else item_requirement(mine, spec))
        texts["failing_schools"].append(failing_schools(mine))
        texts["detail"].append(item_detail(mine))
        texts["evidence"].append(evidence_texts.get(item_id, _no_texts)(n))
    names = [c for c in ITEM_COLUMNS if worded or c not in WORDED_COLUMNS]
    if not specs or not n:
        return pd.DataFrame(columns=["district_id", *names])
    return _item_table(standard, specs, ids, texts, names)


# Columns of the item table computed per district (the others are the item's own).
_PER_DISTRICT = ("measured", "requirement", "status", "failing_schools", "detail", "evidence")


def _no_texts(n: int) -> np.ndarray:
    return np.full(n, "", dtype=object)


def _evidence_texts(references: pd.Series, ids: np.ndarray) -> dict[str, Callable[[int], np.ndarray]]:
    """Item id -> a function giving that item's evidence text per district."""
    if not len(references):
        return {}
    where = pd.Index(ids).get_indexer(references.index.get_level_values(0).to_numpy(object))
    items = references.index.get_level_values(1).to_numpy(object)
    values = references.to_numpy(object)
    out = {}
    for item_id in pd.unique(items):  # a loop over the items with documents

        def texts(n: int, mask: np.ndarray = (items == item_id) & (where >= 0)) -> np.ndarray:
            text = np.full(n, "", dtype=object)
            text[where[mask]] = values[mask]
            return text

        out[item_id] = texts
    return out


def _item_table(standard: Standard, specs: Mapping[str, Mapping[str, Any]], ids: np.ndarray,
                texts: dict[str, list[np.ndarray]], names: list[str]) -> pd.DataFrame:
    """The item table, district by district (row d·k + j: district d, item j of k)."""
    n, k = len(ids), len(specs)
    own = {
        "id": list(specs),
        "area": [spec["area"] for spec in specs.values()],
        "area_name": [standard.items[i].area_name for i in specs],
        "name": [standard.items[i].name for i in specs],
        "scope": [spec["scope"] for spec in specs.values()],
        "rule": [spec.get("rule", f"same_as {spec.get('same_as')}") for spec in specs.values()],
        "responsible": [spec.get("responsible", "") for spec in specs.values()],
        "source": [spec.get("source", "") for spec in specs.values()],
    }
    item = np.tile(np.arange(k), n)
    # the few texts of a column taken by position (not a text per row to check)
    frame: dict[str, object] = {"district_id": coded_texts(np.repeat(np.arange(n), k), ids)}
    for column in names:
        if column in own:
            frame[column] = coded_texts(item, own[column])
        elif column == "status_label":
            continue
        else:
            frame[column] = pd.array(np.stack(texts[column]).T.ravel(), dtype="str")
    status = frame["status"]
    frame["status_label"] = pd.array(lookup(np.asarray(status, dtype=object), STATUS_LABELS.get), dtype="str")
    return pd.DataFrame({c: frame[c] for c in ["district_id", *names]}, copy=False)
