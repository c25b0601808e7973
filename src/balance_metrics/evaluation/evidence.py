"""Items judged on documents (G1, G2, G10, Q3, Q5–Q8, the veto items).

They are not computed: the ``evidence`` table tracks, per item, each document
with its status (met / not met / pending), reviewer and date. An item with no
document, or any document pending, lacks evidence; any document "not met"
fails it. For a veto item "met" means the vetoed situation does not exist.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from balance_metrics.common.grouped import join_by_group
from balance_metrics.evaluation.checks import FAIL, MISSING, PASS, check_frame, checks_frame, lookup
from balance_metrics.evaluation.context import Context, Rule, district_key
from balance_metrics.contract.dataset import Dataset
from balance_metrics.contract.schema import EVIDENCE_STATUSES
from balance_metrics.contract.validation import iso_date

_STATUS = {"met": PASS, "not_met": FAIL, "pending": MISSING}


def evidence_rule(ctx: Context, item_id: str, spec: Mapping[str, Any]) -> pd.DataFrame:
    """One check per evidence document of the item (none: evidence missing)."""
    table = ctx.dataset.table("evidence")
    if table is None:
        return check_frame(item_id, "evidence", "佐证材料", ctx.positions, None, None, "", "", note="未提供佐证材料表（evidence）")
    every = ctx.once("evidence", lambda: _documents(ctx, table))
    mine = np.flatnonzero((every["item_id"] == item_id) & (every["where"] >= 0))
    where = every["where"][mine]
    lacking = ctx.positions[np.bincount(where, minlength=len(ctx.ids)) == 0]
    if not len(lacking) + len(mine):
        return checks_frame([])
    # Districts without a document first, then one check per document: one frame.
    none, found = np.zeros(len(lacking), dtype=np.int64), np.ones(len(mine), dtype=np.int64)
    kind = np.concatenate([none, found])

    def column(first: object, rest: np.ndarray) -> np.ndarray:
        return np.concatenate([np.full(len(lacking), first, dtype=object), np.asarray(rest, dtype=object)])

    return check_frame(item_id, np.array(["evidence", "document"], dtype=object)[kind], "佐证材料", np.concatenate([lacking, where]),
                       None, None, "", "", status=column("", every["status"][mine]), target=column("", every["reference"][mine]),
                       note=column("无佐证材料记录", every["text"][mine]))


def _documents(ctx: Context, table: pd.DataFrame) -> dict[str, np.ndarray]:
    """Every document of the evidence table, its district position and text (once for all items)."""
    return {
        "item_id": table["item_id"].to_numpy(object), "where": ctx.position(district_key(table)),
        "status": lookup(table["status"].to_numpy(object), _STATUS.get), "reference": _texts(table["reference"]),
        "text": document_texts(table),
    }


def document_texts(documents: pd.DataFrame) -> np.ndarray:
    """:func:`document_text` of every row of an evidence table."""
    date = _texts(documents["date"])
    unique = pd.unique(date)
    iso = pd.Series([iso_date(d) or d if d else "" for d in unique], index=unique, dtype=object)  # one per distinct date
    date = iso.reindex(date).to_numpy(object)
    reviewer = _texts(documents["reviewer"])
    who = np.where((reviewer != "") & (date != ""), reviewer + "，" + date, reviewer + date).astype(object)
    reference = _texts(documents["reference"])
    text = np.where(reference != "", reference, "（未注明材料）").astype(object)
    text = np.where(who != "", text + "（" + who + "）", text)
    text = text + "：" + lookup(documents["status"].to_numpy(object), EVIDENCE_STATUSES.get)
    note = _texts(documents["note"])
    return np.where(note != "", text + "；" + note, text).astype(object)


def document_text(row: pd.Series) -> str:
    """``《…》（审核人 张三，2022-11-05）：待定；备注`` for one evidence row."""
    return str(document_texts(pd.DataFrame([row]))[0])


def evidence_references(dataset: Dataset, ctx: Context | None = None) -> pd.Series:
    """(district_id, item id) -> the item's evidence documents, one line each
    (for any item, computed or not); district_id "" for a one-district period.

    With the evaluation's ``ctx`` the document texts its evidence rules wrote are
    reused (not written again)."""
    table = dataset.table("evidence")
    if table is None or table.empty:
        return pd.Series([], index=pd.MultiIndex.from_arrays([[], []], names=["district_id", "item_id"]), dtype=object)
    texts = document_texts(table) if ctx is None else ctx.once("evidence", lambda: _documents(ctx, table))["text"]
    keys = pd.MultiIndex.from_arrays([district_key(table), table["item_id"].astype(object).to_numpy()], names=["district_id", "item_id"])
    codes, uniques = pd.factorize(keys)
    return pd.Series(join_by_group(codes, texts, len(uniques), sep="\n"), index=uniques)


def _texts(values: pd.Series) -> np.ndarray:
    return values.astype(object).where(values.notna(), "").astype(str).to_numpy(object)


RULES: dict[str, Rule] = {"evidence": evidence_rule}
