"""CV diagnostics: shares of the CV², leave-one-out CVs and ranked drivers."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SAMPLE

from balance_metrics import evaluate_resources, load_period, pupil_weighted_cv
from balance_metrics.analysis.cv_diagnostics import cv_contributions, cv_drivers


@pytest.fixture(scope="module")
def sample():
    return evaluate_resources(load_period(SAMPLE / "2022Q4"), "beichen-2021")


def test_shares_sum_to_one_and_loo_is_the_cv_of_the_rest(sample):
    table = cv_contributions(sample)
    assert len(table) == len(sample.sections)
    sums = table.groupby(["stage", "indicator"])["share_of_cv2"].sum()
    assert np.allclose(sums.to_numpy(), 1.0)
    part = sample.sections.query("stage == 'primary' and indicator == 'R2'").reset_index(drop=True)
    diag = table.query("stage == 'primary' and indicator == 'R2'").reset_index(drop=True)
    for i in (0, 7, 20):
        rest = part.drop(index=i)
        expected = pupil_weighted_cv(rest["value"].to_numpy(float), rest["students"].to_numpy(float))
        assert diag.loc[i, "loo_cv"] == pytest.approx(expected, rel=1e-9)
    # share_i = P_i (X_i − X̄)² / Σ: check one section by hand.
    x, p = part["value"].to_numpy(float), part["students"].to_numpy(float)
    mean = np.dot(p, x) / p.sum()
    assert diag.loc[7, "share_of_cv2"] == pytest.approx(p[7] * (x[7] - mean) ** 2 / np.dot(p, (x - mean) ** 2))


def test_drivers_of_the_failing_cvs(sample):
    drivers = cv_drivers(sample, top=3)
    # The sample fails primary R2 and junior R7.
    assert sorted(set(zip(drivers["stage"], drivers["indicator"]))) == [("junior", "R7"), ("primary", "R2")]
    assert drivers.groupby(["stage", "indicator"])["rank"].apply(list).tolist() == [[1, 2, 3], [1, 2, 3]]
    first = drivers.iloc[0]
    shares = cv_contributions(sample).query("stage == @first.stage and indicator == @first.indicator")
    assert first["share_of_cv2"] == shares["share_of_cv2"].max()
    assert (drivers["cv"] > drivers["limit"]).all()
