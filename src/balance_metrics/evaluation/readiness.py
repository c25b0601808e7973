"""Readiness: whether a district can apply for recognition, and the items blocking it.

An item blocks when its status is one of the standard's ``[evaluation]
blocking_statuses`` (fail, evidence missing); plan targets never block.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from balance_metrics.common.labels import READY_LABELS
from balance_metrics.standard.loader import Standard

BLOCKING_COLUMNS = ["id", "area", "area_name", "name", "status", "status_label", "veto", "measured", "requirement"]


@dataclass(frozen=True)
class Readiness:
    """Whether the district can apply for recognition now.

    Attributes
    ----------
    passed : bool
        No item fails or lacks evidence (plan targets do not count): ready to apply.
    blocking : DataFrame
        The items that prevent it (columns :data:`BLOCKING_COLUMNS`), vetoes first.
    """

    passed: bool
    blocking: pd.DataFrame

    @property
    def verdict(self) -> str:
        """``"ready"`` or ``"not ready"``."""
        return "ready" if self.passed else "not ready"

    @property
    def label(self) -> str:
        """The verdict in Chinese."""
        return READY_LABELS[self.passed]


def assess_readiness(items: pd.DataFrame, standard: Standard) -> Readiness:
    """Ready when no item has a blocking status (``[evaluation] blocking_statuses``)."""
    blocking = blocking_items(items, standard)
    return Readiness(passed=blocking.empty, blocking=blocking[BLOCKING_COLUMNS].reset_index(drop=True))


def blocking_items(items: pd.DataFrame, standard: Standard, ids: object = None) -> pd.DataFrame:
    """The items blocking recognition, district by district (in ``ids`` order), vetoes first."""
    blocking = items[_blocks(items, standard)].assign(veto=lambda f: f["area"] == "veto")
    if ids is None or "district_id" not in blocking.columns:
        return blocking.sort_values("veto", ascending=False, kind="stable").reset_index(drop=True)
    district = pd.Index(np.asarray(ids, dtype=object)).get_indexer(blocking["district_id"].to_numpy(object))
    blocking = blocking.assign(_district=district).sort_values(["_district", "veto"], ascending=[True, False], kind="stable")
    return blocking[["district_id", *BLOCKING_COLUMNS]].reset_index(drop=True)


def blocking_counts(items: pd.DataFrame, standard: Standard, ids: object) -> np.ndarray:
    """How many items block each district of ``ids`` (the rows :func:`blocking_items`
    gives it); ``items`` needs only district_id and status."""
    index = pd.Index(np.asarray(ids, dtype=object))
    where = index.get_indexer(items["district_id"].to_numpy(object))
    return np.bincount(where[_blocks(items, standard)], minlength=len(index))


def _blocks(items: pd.DataFrame, standard: Standard) -> np.ndarray:
    """Whether each item's status blocks recognition (bool array)."""
    return items["status"].isin(list(standard.blocking_statuses)).to_numpy(bool)
