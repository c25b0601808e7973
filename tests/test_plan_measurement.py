"""The plan measures' details as arrays (:mod:`balance_metrics.evaluation.measurement`):
built per target with :func:`detail_columns`, made one frame at the end with
:func:`details_frame` — the frame the per-target frames concatenated used to give."""

from __future__ import annotations

import numpy as np
import pandas as pd

from balance_metrics.evaluation.checks import CHECK_COLUMNS
from balance_metrics.evaluation.measurement import DETAIL_COLUMNS, detail_columns, details_frame, frame_details, no_details, take_rows


def _part(where, item):
    return detail_columns(np.array(where), {"item_id": item, "school_name": np.array([f"{item}{k}" for k in range(len(where))], dtype=object),
                                            "measured": np.arange(len(where), dtype=float), "status": "pass"})


def test_detail_columns_fill_every_column():
    part = _part([0, 1], "P1")
    assert list(part) == DETAIL_COLUMNS
    assert all(len(v) == 2 for v in part.values())
    assert list(part["stage"]) == ["", ""] and np.isnan(part["shortfall"]).all() and part["measured"].dtype == float


def test_details_frame_is_the_concatenation_sorted_by_district_stably():
    ids = np.array(["d0", "d1", "d2"], dtype=object)
    parts = [_part([1, 0, 1], "P1"), no_details(), _part([0, 2], "P2")]
    got = details_frame(parts, ids)
    frames = [pd.DataFrame({c: pd.Series(p[c], dtype=float if c in ("measured", "requirement", "shortfall") else object) for c in DETAIL_COLUMNS})
              for p in parts]
    plain = pd.concat(frames, ignore_index=True)
    plain = plain.iloc[np.argsort(plain["_district"].to_numpy(np.int64), kind="stable")].reset_index(drop=True)
    plain = plain.assign(district_id=ids[plain["_district"].to_numpy(np.int64)])[CHECK_COLUMNS]
    pd.testing.assert_frame_equal(got, plain)
    assert list(got["school_name"]) == ["P11", "P20", "P10", "P12", "P21"]  # district by district, parts in order
    assert all(got[c].dtype == object for c in CHECK_COLUMNS[1:] if c not in ("measured", "requirement", "shortfall"))


def test_frame_details_and_take_rows_round_trip():
    part = _part([0, 1, 1], "P3")
    frame = pd.DataFrame({**{c: part[c] for c in CHECK_COLUMNS if c != "district_id"}, "district_id": part["_district"]})[CHECK_COLUMNS]
    back = frame_details(frame)
    for column in DETAIL_COLUMNS:
        np.testing.assert_array_equal(back[column], part[column])
    kept = take_rows(back, back["_district"] == 1)
    assert list(kept["school_name"]) == ["P31", "P32"]
