"""Engine benchmark: load_period, evaluate_resources and evaluate on national-size
data, side by side with the floor (plain pandas + numpy) in the same run.

    python benchmarks/bench_engine.py [--sizes 10000 50000 200000] [--evaluate-max 10000] [--data /tmp/bm-national]

For each size a seeded dataset is written by ``benchmarks/national.py`` (cached
under ``--data``) and measured in a fresh subprocess, so that the peak memory
(``ru_maxrss``) is that size's alone. In that subprocess, best of ``--repeat``
runs each:

- ``floor_read``: ``pd.read_csv`` of the same CSV files (no validation);
- ``floor_cv``: from those frames, the seven indicator values per section and the
  fourteen pupil-weighted CVs of every district with ``np.bincount`` (no
  exclusions, campuses or splits: the least any engine must do);
- ``load_period``: reading with full validation (best of ``--load-repeat``);
- ``evaluate_resources``; then, once, ``sections_table``: building its long
  one-row-per-section × indicator table (``ResourceEvaluation.sections``, built
  on first access) — callers that read it pay this on top;
- (up to ``--evaluate-max`` sections) the whole ``evaluate``.

``peak_mb`` is the process's peak resident memory after ``load_period`` +
``evaluate_resources`` + its long table, measured before the floor runs (the
floor's own frames are not in it).

Data: ``--data`` holds ``n<size>/2022Q4`` (e.g. ``/work/bench/n200000``) or the
generator's ``full-<size>/2022Q4``; missing sizes are generated.

Prints a Markdown table (seconds, ratios to the floor, peak MB) and the growth
exponent ``log(t_max / t_min) / log(n_max / n_min)`` of each measure.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
CORE = ("schools", "sections", "facilities")


def _best(fn, repeat: int) -> tuple[float, object]:
    best, result = math.inf, None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def sample_times(folder: Path, repeat: int = 20) -> dict[str, float]:
    """``load_period`` and ``evaluate`` (beichen-2021) of a small period in this process:
    one warm-up call each (imports, caches), then best and median of ``repeat``, seconds."""
    import statistics

    from balance_metrics import evaluate, load_period

    dataset = load_period(folder)
    evaluate(dataset, "beichen-2021")
    loads, wholes = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        dataset = load_period(folder)
        loads.append(time.perf_counter() - start)
        start = time.perf_counter()
        evaluate(dataset, "beichen-2021")
        wholes.append(time.perf_counter() - start)
    return {"load_period": min(loads), "evaluate": min(wholes), "load_period_median": statistics.median(loads),
            "evaluate_median": statistics.median(wholes), "repeat": repeat}


def sample_line(times: dict[str, float]) -> str:
    """The sample's figures as one line of the benchmark's output."""
    return (f"load_period {times['load_period']:.3f} s + evaluate {times['evaluate']:.3f} s = "
            f"{times['load_period'] + times['evaluate']:.3f} s (best of {times['repeat']}, after a warm-up call; medians "
            f"{times['load_period_median']:.3f} s + {times['evaluate_median']:.3f} s = "
            f"{times['load_period_median'] + times['evaluate_median']:.3f} s)")


def floor_read(folder: Path) -> dict[str, pd.DataFrame]:
    return {p.stem: pd.read_csv(p, low_memory=False) for p in sorted(folder.glob("*.csv"))}


def floor_cv(tables: dict[str, pd.DataFrame]) -> np.ndarray:
    """The fourteen pupil-weighted CVs per district, plain numpy (see module doc)."""
    schools, sections, facilities = (tables[t] for t in CORE)
    frame = sections.merge(facilities, on="school_id").merge(schools[["school_id", "district_id"]], on="school_id")
    frame = frame[frame["stage"].isin(["primary", "junior"])]
    students = frame["students"].to_numpy(float)
    values = np.stack([
        frame["teachers_above_degree"].to_numpy(float) * 100 / students,
        frame["key_teachers"].to_numpy(float) * 100 / students,
        frame["pe_arts_teachers"].to_numpy(float) * 100 / students,
        (frame["teaching_aux_area_m2"] - frame["indoor_sports_area_m2"]).to_numpy(float) / students,
        (frame["outdoor_sports_area_m2"] + frame["indoor_sports_area_m2"]).to_numpy(float) / students,
        frame["equipment_value_yuan"].to_numpy(float) / students,
        frame["multimedia_classrooms"].to_numpy(float) * 100 / students,
    ], axis=1)
    district = pd.factorize(frame["district_id"])[0]
    stage = (frame["stage"] == "junior").to_numpy(int)
    group = np.repeat((district * 2 + stage) * 7, 7) + np.tile(np.arange(7), len(frame))
    n = int(group.max()) + 1
    p, x = np.repeat(students, 7), values.ravel()
    total = np.bincount(group, weights=p, minlength=n)
    mean = np.bincount(group, weights=p * x, minlength=n) / total
    var = np.bincount(group, weights=p * (x - mean[group]) ** 2, minlength=n) / total
    return np.sqrt(var) / mean


def measure(folder: Path, repeat: int, whole: bool, load_repeat: int = 1) -> dict[str, float]:
    from balance_metrics import evaluate, evaluate_resources, load_period, load_standard

    out: dict[str, float] = {}
    standard = load_standard("national-2017")
    out["load_period"], dataset = _best(lambda: load_period(folder), load_repeat)
    evaluate_resources(dataset, standard)  # warm-up: imports, first-touch allocations
    out["evaluate_resources"], result = _best(lambda: evaluate_resources(dataset, standard), repeat)
    start = time.perf_counter()
    _ = result.sections
    out["sections_table"] = time.perf_counter() - start
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["sections"] = len(result.verdicts)
    out["districts"] = int(dataset.schools["district_id"].nunique())
    del result
    out["floor_read"], tables = _best(lambda: floor_read(folder), repeat)
    # The floor and the engine alternate, so that both see the same load on a shared machine.
    floor, engine = math.inf, math.inf
    for _ in range(repeat):
        floor = min(floor, _best(lambda: floor_cv(tables), 1)[0])
        engine = min(engine, _best(lambda: evaluate_resources(dataset, standard), 1)[0])
    out["floor_cv"], out["evaluate_resources"] = floor, min(engine, out["evaluate_resources"])
    if whole:
        out["evaluate"], _ = _best(lambda: evaluate(dataset), 1)
    return out


def dataset_for(size: int, data: Path, core_only: bool) -> Path:
    ready = data / f"n{size}" / "2022Q4"
    if not core_only and (ready / "schools.csv").exists():
        return ready
    folder = data / f"{'core' if core_only else 'full'}-{size}" / "2022Q4"
    if not (folder / "schools.csv").exists():
        subprocess.run([sys.executable, str(HERE / "national.py"), "--sections", str(size), "--out", str(folder),
                        *(["--core-only"] if core_only else [])], check=True)
    return folder


def exponent(rows: list[dict[str, float]], key: str) -> float:
    have = [r for r in rows if key in r]
    if len(have) < 2:
        return math.nan
    a, b = have[0], have[-1]
    return math.log(b[key] / a[key]) / math.log(b["sections"] / a["sections"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000, 200_000])
    parser.add_argument("--evaluate-max", type=int, default=10_000, help="run the whole evaluate up to this many sections")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--load-repeat", type=int, default=1, help="best of this many load_period runs")
    parser.add_argument("--data", type=Path, default=Path("/tmp/bm-national"), help="folder of n<size>/2022Q4 or generated data")
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--whole", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--sample", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sample:
        from balance_metrics import evaluate_resources, load_period, load_standard

        times = sample_times(args.sample)
        dataset, beichen = load_period(args.sample), load_standard("beichen-2021")
        evaluate_resources(dataset, beichen)
        resources, _ = _best(lambda: evaluate_resources(dataset, beichen), 20)
        print(f"{sample_line(times)}; beichen-2021, of which evaluate_resources {resources * 1000:.1f} ms (best of 20)")
        return
    if args.one:
        print(json.dumps(measure(args.one, args.repeat, args.whole, args.load_repeat)))
        return
    sample = HERE.parent / "data" / "raw" / "2022Q4"
    done = subprocess.run([sys.executable, __file__, "--sample", str(sample), "--repeat", str(args.repeat)],
                          check=True, capture_output=True, text=True)
    print(f"sample district {sample.name}: {done.stdout.strip()}")
    rows = []
    for size in args.sizes:
        folder = dataset_for(size, args.data, core_only=False)
        cmd = [sys.executable, __file__, "--one", str(folder), "--repeat", str(args.repeat), "--load-repeat", str(args.load_repeat)]
        if size <= args.evaluate_max:
            cmd.append("--whole")
        done = subprocess.run(cmd, check=True, capture_output=True, text=True)
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]) | {"size": size})
        print(rows[-1], file=sys.stderr)
    print("| sections (districts) | floor read | floor CVs | load_period | ÷ floor read | evaluate_resources | ÷ floor CVs "
          "| long sections table | evaluate | peak MB (load + evaluate_resources + table) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        whole = f"{r['evaluate']:.2f} s" if "evaluate" in r else "not run"
        print(f"| {r['sections']:,} ({r['districts']:,}) | {r['floor_read']:.3f} s | {r['floor_cv']:.3f} s | {r['load_period']:.2f} s | "
              f"{r['load_period'] / r['floor_read']:.1f}× | {r['evaluate_resources']:.3f} s | {r['evaluate_resources'] / r['floor_cv']:.2f}× | "
              f"{r['sections_table']:.3f} s | {whole} | {r['peak_mb']:.0f} |")
    print()
    print("growth exponents (time ∝ sections^k): " + ", ".join(
        f"{key} {exponent(rows, key):.2f}" for key in ("floor_read", "floor_cv", "load_period", "evaluate_resources", "sections_table", "peak_mb")))


if __name__ == "__main__":
    main()
