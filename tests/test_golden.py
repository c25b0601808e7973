"""Golden comparison: every table `balance-metrics evaluate` writes for the sample's 2022Q4.

The files under ``tests/golden/`` were written by the engine before the package
restructure. A change that alters any number fails here; a change that is meant to
alter results (a rule fixed to follow the method) regenerates the files with
``python tests/test_golden.py`` and says why in its commit.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import SAMPLE

from balance_metrics.cli import main

GOLDEN = Path(__file__).resolve().parent / "golden"
CASES = [("2022Q4", "beichen-2021"), ("2022Q4", "national-2017")]


def evaluate_to(out: Path, period: str, standard: str) -> None:
    code = main(["evaluate", str(SAMPLE / period), "--standard", standard, "--out", str(out)])
    assert code == 0


@pytest.mark.parametrize(("period", "standard"), CASES)
def test_evaluate_outputs_match_golden(tmp_path, period, standard):
    expected_dir = GOLDEN / f"{period}-{standard}"
    evaluate_to(tmp_path, period, standard)
    expected = sorted(p.name for p in expected_dir.glob("*.csv"))
    assert sorted(p.name for p in tmp_path.glob("*.csv")) == expected
    for name in expected:
        want = pd.read_csv(expected_dir / name, encoding="utf-8-sig", keep_default_na=False)
        got = pd.read_csv(tmp_path / name, encoding="utf-8-sig", keep_default_na=False)
        pd.testing.assert_frame_equal(numeric(got), numeric(want), check_exact=False, rtol=1e-12, obj=name)


def numeric(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns of numbers with blanks (read as text) as floats, so that rtol applies to them too."""
    out = frame.copy()
    for column in out.select_dtypes(exclude=["number", "bool"]).columns:
        values = out[column].astype(object).replace("", None)
        parsed = pd.to_numeric(values, errors="coerce")
        if values.notna().any() and parsed.notna().sum() == values.notna().sum():
            out[column] = parsed.astype(float)
    return out


if __name__ == "__main__":  # regenerate on purpose: python tests/test_golden.py
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    for period, standard in CASES:
        folder = GOLDEN / f"{period}-{standard}"
        evaluate_to(folder, period, standard)
        (folder / "evaluation.xlsx").unlink()
        (folder / "manifest.json").unlink(missing_ok=True)  # the set's manifest (paths, hashes) is not a result
