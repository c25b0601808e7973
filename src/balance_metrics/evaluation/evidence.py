"""Items judged on documents (G1, G2, G10, Q3, Q5–Q8, the veto items).

They are not computed: the ``evidence`` table tracks, per item, each document
with its status (met / not met / pending), reviewer and date. An item with no
document, or any document pending, lacks evidence; any document "not met"
fails it. For a veto item "met" means the vetoed situation does not exist.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from balance_metrics.evaluation.checks import FAIL, MISSING, PASS, check_row
from balance_metrics.evaluation.context import Context, Rule
from balance_metrics.contract.dataset import Dataset
from balance_metrics.contract.schema import EVIDENCE_STATUSES
from balance_metrics.contract.validation import iso_date

_STATUS = {"met": PASS, "not_met": FAIL, "pending": MISSING}


def evidence_rule(ctx: Context, item_id: str, spec: Mapping[str, Any]) -> list[dict[str, object]]:
    """One check per evidence document of the item (none: evidence missing)."""
    table = ctx.dataset.table("evidence")
    if table is None:
        return [check_row(item_id, "evidence", "佐证材料", None, None, "", "", note="未提供佐证材料表（evidence）")]
    documents = table[table["item_id"] == item_id]
    if documents.empty:
        return [check_row(item_id, "evidence", "佐证材料", None, None, "", "", note="无佐证材料记录")]
    return [
        check_row(item_id, "document", "佐证材料", None, None, "", "", status=_STATUS[row["status"]],
                  target=_text(row["reference"]), note=document_text(row))
        for _, row in documents.iterrows()
    ]


def document_text(row: pd.Series) -> str:
    """``《…》（审核人 张三，2022-11-05）：待定；备注`` for one evidence row."""
    date = iso_date(_text(row["date"])) or _text(row["date"]) if _text(row["date"]) else ""
    who = "，".join(x for x in (_text(row["reviewer"]), date) if x)
    text = _text(row["reference"]) or "（未注明材料）"
    if who:
        text += f"（{who}）"
    text += f"：{EVIDENCE_STATUSES[row['status']]}"
    if _text(row["note"]):
        text += f"；{row['note']}"
    return text


def evidence_references(dataset: Dataset) -> dict[str, str]:
    """Item id -> its evidence documents as one line each (for any item, computed or not)."""
    table = dataset.table("evidence")
    if table is None:
        return {}
    return {item: "\n".join(document_text(r) for _, r in group.iterrows()) for item, group in table.groupby("item_id", sort=False)}


def _text(value: object) -> str:
    return "" if value is None or pd.isna(value) else str(value)


RULES: dict[str, Rule] = {"evidence": evidence_rule}
