"""Benchmark of analysis.remediation.remediated_sections (the after-remediation scenario).

On synthetic districts (benchmarks/bench_planner.synthetic_district) with the
"threshold" plan given as items (every failing indicator brought to its
threshold: many rows land exactly on a bound), side by side in one run:

- ``remediated_sections``: whole columns, verdicts exact (float fast path,
  Fraction re-check near a bound);
- floor: the same gains, values and threshold/floor comparisons in plain
  pandas/numpy floats (no exactness, no section verdicts);
- per-row Fractions: the previous implementation's approach (one Fraction sum
  per row, every row compared exactly).

    PYTHONPATH=src .venv/bin/python benchmarks/bench_remediation.py [--sizes 500 2000]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd

import balance_metrics as bm
from balance_metrics.analysis.gaps import remediation_items
from balance_metrics.analysis.remediation import remediated_sections
from balance_metrics.standard.loader import exact

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_planner import synthetic_district  # noqa: E402


def floor(evaluation, items: pd.DataFrame) -> np.ndarray:
    """Plain pandas/numpy: gains by merge, values, ``value >= threshold`` in floats."""
    std = evaluation.standard
    rows = evaluation.sections
    facility = [i for i in std.indicator_ids if std.indicators[i].basis == "facility"]
    add = items.assign(add=items["add"].astype(float))
    sec = add[~add["indicator"].isin(facility)].groupby(["school_id", "stage", "indicator"], as_index=False)["add"].sum()
    sch = add[add["indicator"].isin(facility)].groupby(["school_id", "indicator"], as_index=False)["add"].max()
    merged = rows.merge(sec, on=["school_id", "stage", "indicator"], how="left").merge(
        sch.rename(columns={"add": "school_add"}), on=["school_id", "indicator"], how="left")
    gains = merged["add"].fillna(0).to_numpy() + merged["school_add"].fillna(0).to_numpy() * merged["share"].to_numpy()
    scale = merged["indicator"].map({i: float(std.indicators[i].scale) for i in std.indicator_ids}).to_numpy()
    values = (merged["numerator"].to_numpy() + gains) * scale / merged["students"].to_numpy()
    return values >= merged["threshold"].to_numpy()


def per_row(evaluation, items: pd.DataFrame) -> list[bool]:
    """One Fraction sum and comparison per row (the previous approach)."""
    std = evaluation.standard
    section_add, school_add = {}, {}
    for item in items.to_dict("records"):
        if std.indicators[item["indicator"]].basis == "facility":
            key = (item["school_id"], item["indicator"])
            school_add[key] = max(school_add.get(key, Fraction(0)), exact(item["add"]))
        else:
            key = (item["school_id"], item["stage"], item["indicator"])
            section_add[key] = section_add.get(key, Fraction(0)) + exact(item["add"])
    out = []
    rows = evaluation.sections.to_dict("records")
    for row, n, share in zip(rows, evaluation.exact_numerators(), evaluation.exact_shares()):
        ind = row["indicator"]
        if std.indicators[ind].basis == "facility":
            n += school_add.get((row["school_id"], ind), Fraction(0)) * share
        else:
            n += section_add.get((row["school_id"], row["stage"], ind), Fraction(0))
        out.append(n * std.indicators[ind].scale / int(row["students"]) >= std.threshold(ind, row["stage"]))
    return out


def best(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", nargs="+", type=int, default=[500, 2000])
    args = parser.parse_args()
    print(f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.2f}")
    print()
    print("| sections | rows | plan items | remediated_sections (s) | floor: pandas/numpy floats (s) | ratio to floor "
          "| per-row Fractions (s) | per-row / ours | same verdicts as per-row |")
    print("|" + "---|" * 9)
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            folder = Path(tmp) / f"n{n}" / "2022Q4"
            folder.mkdir(parents=True)
            for name, frame in synthetic_district(n).items():
                frame.to_csv(folder / f"{name}.csv", index=False)
            evaluation = bm.evaluate_resources(bm.load_period(folder), "national-2017")
            items = remediation_items(evaluation, "threshold")[["school_id", "stage", "indicator", "add"]]
            ours = best(lambda: remediated_sections(evaluation, items))
            plain = best(lambda: floor(evaluation, items))
            slow = best(lambda: per_row(evaluation, items), repeat=3)
            same = list(remediated_sections(evaluation, items)["met_after"]) == per_row(evaluation, items)
            print(f"| {len(evaluation.verdicts)} | {len(evaluation.sections)} | {len(items)} | {ours:.3f} | {plain:.3f} "
                  f"| {ours / plain:.1f} | {slow:.3f} | {slow / ours:.1f} | {'yes' if same else 'NO'} |")


if __name__ == "__main__":
    main()
