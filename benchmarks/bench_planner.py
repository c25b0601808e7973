"""Benchmark of the district planner (balance_metrics.analysis.planning).

For the sample district (2022Q4, beichen-2021) and synthetic districts of 50,
100, 200 and 500 sections, measures the solver's wall-clock time and reported
optimality gap, and compares side by side on the same data the planner's cost
with the naive plan (every failing section brought to every threshold) and the
per-section cheapest plans (gaps.cheapest_remediation), saying whether those
pass the 差异系数 limits. Then the same districts planned over three years
with yearly caps (hiring, capital) set so that the one-year plan does not fit
in one year: time, gap, cost against the one-year plan and the cost per year.
Writes Markdown tables to stdout.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_planner.py [--sizes 50 100 200 500] [--time-limit 60]
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from math import ceil
from pathlib import Path

import numpy as np
import pandas as pd

import balance_metrics as bm
from balance_metrics.analysis.gaps import cheapest_remediation, remediation_items
from balance_metrics.analysis.remediation import balance_after_remediation
from balance_metrics.analysis.planning import plan_remediation

REPO = Path(__file__).resolve().parents[1]


def synthetic_district(n_sections: int, seed: int = 2021) -> dict[str, pd.DataFrame]:
    """``n_sections`` school sections: about 65 % primary schools, 25 % junior, 10 % in nine-year schools.

    Indicator values scatter around the thresholds (log-normal), so that some
    sections fail and some CVs (key teachers, multimedia rooms) exceed their limits.
    """
    rng = np.random.default_rng(seed)
    schools, sections, facilities = [], [], []
    n_nine = max(1, n_sections // 20)  # each has 2 sections
    n_junior = max(1, int(n_sections * 0.25))
    n_primary = n_sections - 2 * n_nine - n_junior
    kinds = [("P", "primary", ("primary",))] * n_primary + [("J", "junior", ("junior",))] * n_junior
    kinds += [("N", "nine_year", ("primary", "junior"))] * n_nine
    for i, (prefix, school_type, stages) in enumerate(kinds):
        sid = f"{prefix}{i:04d}"
        area = rng.choice(["urban", "town", "rural"], p=[0.5, 0.3, 0.2])
        schools.append((sid, f"学校{i}", school_type, area, "public", "false", ""))
        total = 0
        for stage in stages:
            students = int(rng.integers(150, 2000)) if area != "rural" else int(rng.integers(60, 500))
            total += students
            per100 = students / 100
            key = max(0, int(round(per100 * rng.lognormal(np.log(1.5), 0.55))))
            degree = int(ceil(per100 * rng.lognormal(np.log(6.0), 0.25)))
            pe = int(ceil(per100 * rng.lognormal(np.log(1.1), 0.25)))
            teachers = max(degree, key, pe) + int(per100 * 2)
            sections.append((sid, stage, students, max(1, students // 42), teachers, degree, min(key, degree), pe, teachers,
                             min(45, students)))
        scale = total
        facilities.append((
            sid, round(scale * rng.lognormal(np.log(6.0), 0.22), 1), 0.0, round(scale * rng.lognormal(np.log(10.0), 0.3), 1),
            round(scale * rng.lognormal(np.log(3500), 0.35), 0), max(1, int(round(scale / 100 * rng.lognormal(np.log(3.0), 0.4)))),
            max(1, ceil(total / 500)), max(1, ceil(total / 500)), 96.0, 90.0,
        ))
    return {
        "schools": pd.DataFrame(schools, columns=["school_id", "school_name", "school_type", "area_type", "ownership", "boarding",
                                                  "parent_school_id"]),
        "sections": pd.DataFrame(sections, columns=["school_id", "stage", "students", "classes", "teachers",
                                                    "teachers_above_degree", "key_teachers", "pe_arts_teachers",
                                                    "certified_teachers", "largest_class"]),
        "facilities": pd.DataFrame(facilities, columns=["school_id", "teaching_aux_area_m2", "indoor_sports_area_m2",
                                                        "outdoor_sports_area_m2", "equipment_value_yuan",
                                                        "multimedia_classrooms", "music_rooms", "art_rooms",
                                                        "smallest_music_room_m2", "smallest_art_room_m2"]),
    }


def baselines(evaluation) -> dict[str, object]:
    """Cost (元) of the naive and per-section cheapest plans and whether their CVs pass."""
    failing = evaluation.verdicts.loc[~evaluation.verdicts["passed"], ["school_id", "stage"]]
    naive = remediation_items(evaluation, "threshold").merge(failing, on=["school_id", "stage"])
    cheapest = cheapest_remediation(evaluation)
    naive_cv = balance_after_remediation(evaluation, naive) if len(naive) else evaluation.balance.assign(passed_after=evaluation.balance["passed"])
    cheap_cv = balance_after_remediation(evaluation, "cheapest")
    return {
        "naive_cost": float(naive["cost"].sum()),
        "naive_cv_pass": bool(naive_cv["passed_after"].all()),
        "cheapest_cost": float(cheapest["total_cost"].sum()),
        "cheapest_cv_pass": bool(cheap_cv["passed_after"].all()),
    }


HIRES = ("hire_degree_teacher", "hire_key_teacher", "hire_pe_arts_teacher")
CAPITAL = ("build_teaching_rooms", "build_sports_ground", "buy_equipment", "equip_multimedia_room")


def capped(plan, standard: str, folder: Path, years: int) -> Path:
    """An override of ``standard`` whose yearly caps force the one-year plan over ``years`` years:
    hiring ≤ ⌈hires ÷ years⌉ a year, capital ≤ the largest of ⌈capital ÷ years⌉ and its dearest school a year."""
    items = plan.items[plan.items["cost"] > 0]
    hired = items[items["action"].isin(HIRES)].groupby("district_id")["amount"].sum()
    hires = float(hired.max()) if len(hired) else 0.0
    per_school = items[items["action"].isin(CAPITAL)].groupby(["school_id", "action"])["cost"].sum()
    capital = max(per_school.sum() / years, per_school.max()) if len(per_school) else 0
    path = folder / "capped.toml"
    path.write_text(
        f'extends = "{standard}"\nname = "capped"\n[planning.annual_caps.hiring]\nlimit = "{ceil(hires / years)}"\n'
        f'[planning.annual_caps.capital]\nlimit = "{ceil(capital)}"\n', encoding="utf-8")
    return path


def run(label: str, dataset, standard: str, time_limit: float, gap: float, folder: Path, years: int = 3) -> dict[str, object]:
    evaluation = bm.evaluate_resources(dataset, standard)
    started = time.perf_counter()
    plan = plan_remediation(dataset, standard, time_limit=time_limit, gap=gap)
    seconds = time.perf_counter() - started
    fixed = plan_remediation(dataset, standard, time_limit=time_limit, gap=gap, rotation=False)
    first = int(dataset.period[:4])
    multi = plan_remediation(dataset, capped(plan, standard, folder, years), time_limit=time_limit, gap=gap,
                             deadline=first + years - 1)
    floor_started = time.perf_counter()
    base = baselines(evaluation)
    floor_seconds = time.perf_counter() - floor_started
    return {
        "district": label,
        "sections": len(evaluation.verdicts),
        "failing": int((~evaluation.verdicts["passed"]).sum()),
        "cv_failing": int((~evaluation.balance["passed"]).sum()),
        "status": plan.status,
        "seconds": seconds,
        "gap": plan.gap,
        "passed": plan.passed,
        "cost": plan.cost,
        "no_rotation_cost": fixed.cost,
        "no_rotation_seconds": fixed.seconds,
        "no_rotation_gap": fixed.gap,
        "multi_status": multi.status,
        "multi_cost": multi.cost,
        "multi_seconds": multi.seconds,
        "multi_gap": multi.gap,
        "multi_passed": multi.passed,
        "multi_years": multi.items.groupby("year")["cost"].sum().round(-3).astype(int).to_dict() if multi.passed else {},
        **base,
        "baseline_seconds": floor_seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", nargs="+", type=int, default=[50, 100, 200, 500])
    parser.add_argument("--time-limit", type=float, default=60)
    parser.add_argument("--gap", type=float, default=0.01)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows = [run("sample 2022Q4", bm.load_period(REPO / "data" / "raw" / "2022Q4"), "beichen-2021", args.time_limit, 0.001,
                    Path(tmp))]
        for n in args.sizes:
            folder = Path(tmp) / f"n{n}" / "2022Q4"
            folder.mkdir(parents=True)
            for name, frame in synthetic_district(n).items():
                frame.to_csv(folder / f"{name}.csv", index=False)
            rows.append(run(f"synthetic {n}", bm.load_period(folder), "national-2017", args.time_limit, args.gap, folder.parent))
    print(f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.2f}")
    print()
    print("| district | sections | failing sections | CVs over limit | status | solve (s) | gap | plan passes | planner cost (元) "
          "| without rotation (元, s, gap) | naive plan (元) | naive passes CVs | per-section cheapest (元) | cheapest passes CVs "
          "| planner / naive | planner / cheapest |")
    print("|" + "---|" * 16)
    for r in rows:
        print(f"| {r['district']} | {r['sections']} | {r['failing']} | {r['cv_failing']} | {r['status']} | {r['seconds']:.1f} "
              f"| {r['gap']:.3%} | {'yes' if r['passed'] else 'no'} | {r['cost']:,.0f} "
              f"| {r['no_rotation_cost']:,.0f} ({r['no_rotation_seconds']:.1f} s, {r['no_rotation_gap']:.2%}) | {r['naive_cost']:,.0f} "
              f"| {'yes' if r['naive_cv_pass'] else 'no'} | {r['cheapest_cost']:,.0f} | {'yes' if r['cheapest_cv_pass'] else 'no'} "
              f"| {r['cost'] / r['naive_cost'] if r['naive_cost'] else float('nan'):.2f} "
              f"| {r['cost'] / r['cheapest_cost'] if r['cheapest_cost'] else float('nan'):.2f} |")
    print()
    print("Three years (deadline = period year + 2) with yearly caps that force the one-year plan apart:")
    print()
    print("| district | status | solve (s) | gap | plan passes | cost (元) | cost / one-year plan | cost per year (元) |")
    print("|" + "---|" * 8)
    for r in rows:
        years = ", ".join(f"{y}: {c:,}" for y, c in r["multi_years"].items())
        print(f"| {r['district']} | {r['multi_status']} | {r['multi_seconds']:.1f} | {r['multi_gap']:.3%} "
              f"| {'yes' if r['multi_passed'] else 'no'} | {r['multi_cost']:,.0f} "
              f"| {r['multi_cost'] / r['cost'] if r['cost'] else float('nan'):.3f} | {years} |")


if __name__ == "__main__":
    main()
