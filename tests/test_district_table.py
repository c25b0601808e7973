"""district_table on codes equals the plain pandas version (string map, reindex,
drop_duplicates keeping the last row, pivot), kept here as the reference."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd

from balance_metrics import load_period
from balance_metrics.contract.schema import DISTRICT_ITEMS
from balance_metrics.evaluation.district import district_table

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "raw" / "2022Q4"


def plain_table(table: pd.DataFrame, ids: np.ndarray) -> pd.DataFrame:
    once = table[~table["item"].map({code: item.yearly for code, item in DISTRICT_ITEMS.items()}).astype(bool).to_numpy()]
    key = once["district_id"].astype(object) if "district_id" in once.columns else pd.Series("", index=once.index, dtype=object)
    position = pd.Series(np.arange(len(ids)), index=pd.Index(ids)).reindex(key.to_numpy()).to_numpy()
    kept = ~np.isnan(position)
    frame = pd.DataFrame({"position": position[kept].astype(np.int64), "item": once["item"].to_numpy(object)[kept],
                          "value": once["value"].to_numpy(float)[kept]})
    wide = frame.drop_duplicates(["position", "item"], keep="last").pivot(index="position", columns="item", values="value")
    return wide.reindex(range(len(ids)))


def test_sample_district():
    dataset = load_period(SAMPLE)
    ids = np.array([""], dtype=object)
    pd.testing.assert_frame_equal(district_table(dataset, ids).values, plain_table(dataset.table("district"), ids))


def test_random_tables():
    """Repeated items (the last row wins), yearly items left out, districts not
    evaluated, unknown items, missing values, districts not in runs."""
    rng = np.random.default_rng(2)
    codes = np.array([*list(DISTRICT_ITEMS)[:12], "no_such_item"], dtype=object)
    for _ in range(100):
        n = int(rng.integers(1, 40))
        districts = rng.choice(np.array(["d1", "d2", "d3", "d4"], dtype=object), n)
        table = pd.DataFrame({
            "district_id": pd.array(districts, dtype="string"),
            "item": pd.array(rng.choice(codes, n), dtype="string"),
            "value": pd.array(np.where(rng.random(n) < 0.1, np.nan, rng.integers(0, 100, n).astype(float)), dtype="Float64"),
        })
        ids = np.array(["d3", "d1", "d2"], dtype=object)
        coded = district_table(SimpleNamespace(table=lambda name: table), ids).values
        expected = plain_table(table, ids)
        if expected.columns.empty:
            assert coded.shape == (3, 0)
            continue
        pd.testing.assert_frame_equal(coded, expected)
