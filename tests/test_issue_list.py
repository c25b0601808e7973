"""The 问题清单 texts written with one join (common.grouped.join_rows_by_group) equal the row by
row wording: describe() per check, join_groups of the texts per line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from balance_metrics import evaluate, load_period
from balance_metrics.common.grouped import join_rows_by_group
from balance_metrics.evaluation.issue_list import describe, describe_many, issue_list
from balance_metrics.evaluation.wording import join_groups

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "raw"
TEXT = st.text(alphabet=st.sampled_from(["a", "说", "明", "；", "\x00", "（", "1"]), max_size=4)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), TEXT, TEXT, TEXT), max_size=30))
def test_joined_is_concatenation_then_join_groups(rows):
    """Grouped or not, with texts holding the end mark or the separator."""
    n_groups = 6
    group = np.array([r[0] for r in rows], dtype=np.int64)
    parts = [np.array([r[k] for r in rows], dtype=object) for k in (1, 2, 3)]
    row_texts = np.array(["".join(r[1:]) for r in rows], dtype=object)
    assert join_rows_by_group(np.arange(len(rows)), parts, len(rows)).tolist() == row_texts.tolist()
    used = np.unique(group)
    dense = np.searchsorted(used, group)  # codes 0 … k − 1, all used
    expected = join_groups(dense, row_texts, len(used), sep="；")
    assert join_rows_by_group(dense, parts, len(used), sep="；").tolist() == expected.tolist()


@pytest.fixture(scope="module")
def sample():
    return evaluate(load_period(SAMPLE / "2022Q4"), "beichen-2021")


def test_a_note_holding_the_end_mark_is_written_as_it_is(sample):
    checks = sample.checks.copy()
    noted = np.flatnonzero((checks["note"] != "").to_numpy(bool))[:3]
    checks.loc[noted, "note"] = checks.loc[noted, "note"] + "\x00尾"
    assert describe_many(checks).tolist() == [describe(r) for _, r in checks.iterrows()]
    failing = checks.assign(status=np.where(np.arange(len(checks)) % 2 == 0, "fail", checks["status"]))
    lines = issue_list(sample.items.assign(district_id=""), failing.assign(district_id=""), sample.plan_targets.assign(district_id=""),
                       sample.plan_checks.assign(district_id=""))
    assert lines["description"].str.contains("\x00尾").sum() >= 1
