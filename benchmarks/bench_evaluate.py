"""Whole-evaluation benchmark (issue #8): ``evaluate`` — every item, readiness and
问题清单 of every district — on national-size periods, side by side with the floor.

    python benchmarks/bench_evaluate.py [--sizes 10000 50000 200000] [--data /work/bench]
                                        [--panel-size 10000] [--periods 8] [--repeat 2]

Datasets are ``--data/n<size>/2022Q4`` (written by ``benchmarks/national.py`` when
missing). Each size is measured in a fresh subprocess; the period is loaded once
(``load_period`` is measured by ``bench_engine.py``), then best of ``--repeat``:

- ``floor``: ``pd.read_csv`` of the CSVs + the fourteen pupil-weighted CVs of
  every district with ``np.bincount`` (``bench_engine.floor_read`` / ``floor_cv``);
- ``evaluate_resources``: the resource engine alone;
- ``evaluate``: the whole evaluation — every check, item status, plan target,
  readiness verdict, ranking and 问题清单 line of every district; ``items`` =
  evaluate − evaluate_resources (the part this benchmark is about);
- ``sentences``: then writing every district's sentences (the items' texts,
  the blocking items, the 问题清单 descriptions: ``WholeEvaluation.write_texts``),
  which ``evaluate`` leaves until they are asked for (one district alone: ms).

Memory: ``peak`` is the resident peak of ``load_period`` + one ``evaluate``
(Linux ``VmHWM``, restarted after the floor's tables are freed; each later
repeat drops the previous result first), ``peak with sentences`` the same once
every sentence is written, beside the resident size of the loaded period
(``loaded``); ``process peak`` is the whole subprocess's ``ru_maxrss`` (the
floor's ``read_csv`` tables included).

Also: the sample district (``data/raw/2022Q4``, beichen-2021) ``load_period`` +
``evaluate`` (``bench_engine.sample_times``: best of 20 after a warm-up call, and the
medians); and the monitoring panel (:func:`balance_metrics.analysis.monitoring.build_panel`)
over ``--periods`` period folders that are links to the ``--panel-size`` dataset
(the same data under eight period labels), cold, beside its floor (``pd.read_csv``
of every period); ``--jobs`` sets its worker processes, ``--warm`` adds the
per-period cache (filled, then read back). Peak memory: this process
(``ru_maxrss``), and this process with its worker processes (``/proc`` sampled
every 0.1 s by a separate process, so a short spike can be missed; a sampling
thread would change the workers' start method); also the start method used and
the CPU time of this process and of its workers.
Prints a Markdown table and the growth exponent ``log(t_max / t_min) / log(n_max / n_min)``.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_engine import _best, exponent, floor_cv, floor_read, sample_line, sample_times  # noqa: E402

PERIOD_LABELS = ("2021Q1", "2021Q2", "2021Q3", "2021Q4", "2022Q1", "2022Q2", "2022Q3", "2022Q4",
                 "2023Q1", "2023Q2", "2023Q3", "2023Q4")


def measure(folder: Path, repeat: int) -> dict[str, float]:
    from balance_metrics import evaluate, evaluate_resources, load_period

    floor, _ = _best(lambda: floor_cv(floor_read(folder)), repeat)
    # The floor's tables are freed and the peak restarted: the peak below is that of
    # load_period + evaluate holding one result, not the floor's nor two results.
    restarted = _restart_peak()
    dataset = load_period(folder)
    loaded = _status_mb("VmRSS")
    start = time.perf_counter()
    result = evaluate(dataset)
    whole = time.perf_counter() - start
    evaluate_peak = _status_mb("VmHWM") if restarted else math.nan
    start = time.perf_counter()
    _write(result)
    sentences = time.perf_counter() - start
    peak = _status_mb("VmHWM") if restarted else math.nan
    districts = len(result.whole.ids) if hasattr(result, "whole") else 1
    checks = len(result.whole.checks) if districts > 1 else len(result.checks)
    del result
    resources, _ = _fresh_best(lambda: evaluate_resources(dataset), repeat)
    for _ in range(repeat - 1):
        gc.collect()
        again = _evaluate_then_write(evaluate, dataset)
        whole, sentences = min(whole, again[0]), min(sentences, again[1])
        del again
    return {
        "sections": len(dataset.sections), "districts": districts, "checks": checks,
        "floor": floor, "evaluate_resources": resources, "evaluate": whole, "items": whole - resources,
        "sentences": sentences, "loaded_mb": loaded, "evaluate_peak_mb": evaluate_peak, "sentences_peak_mb": peak,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _evaluate_then_write(evaluate, dataset) -> tuple[float, float, object]:
    """Seconds of ``evaluate``, then of writing every district's sentences, and the result."""
    start = time.perf_counter()
    result = evaluate(dataset)
    middle = time.perf_counter()
    _write(result)
    return middle - start, time.perf_counter() - middle, result


def _write(result) -> None:
    """Write every district's sentences (one district: its Evaluation holds them already)."""
    if hasattr(result, "whole"):
        result.whole.write_texts()


def _fresh_best(fn, repeat: int) -> tuple[float, None]:
    """Best time of ``repeat`` calls, each result dropped before the next call
    (``bench_engine._best`` holds the previous result while the next is computed)."""
    best = math.inf
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best, None


def _status_mb(field: str) -> float:
    """``VmRSS`` / ``VmHWM`` (peak resident memory) of this process, MB (Linux ``/proc``)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return math.nan


def _restart_peak() -> bool:
    """Free what can be freed (garbage, malloc's free pages) and restart the
    process's peak resident memory (``VmHWM``) at its current size; False where
    Linux' ``/proc/self/clear_refs`` is unavailable."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


#: The memory sampler, run as its own process (``python -c``, standard library only): a
#: sampling *thread* here would make ``build_panel`` start its workers with ``forkserver``
#: (it forks only single-threaded processes), which is not what a user's script or the CLI gets.
TREE_SAMPLER = """
import os, select, sys
from pathlib import Path

def tree_rss_mb(root, me):
    parents, rss = {}, {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            fields = dict(line.split(":", 1) for line in (entry / "status").read_text().splitlines() if ":" in line)
        except OSError:
            continue
        parents[int(entry.name)] = int(fields.get("PPid", "0"))
        rss[int(entry.name)] = int(fields.get("VmRSS", "0 kB").split()[0])
    tree, grown = {root}, True
    while grown:
        more = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree |= more
        grown = bool(more)
    return sum(rss.get(pid, 0) for pid in tree) / 1024

root, peak = int(sys.argv[1]), 0.0
while not select.select([sys.stdin], [], [], 0.1)[0]:
    peak = max(peak, tree_rss_mb(root, os.getpid()))
print(peak)
"""


class TreePeak:
    """Resident memory of this process and its workers (itself left out), sampled every
    0.1 s by a separate process (:data:`TREE_SAMPLER`); ``peak`` in MB."""

    def __enter__(self) -> "TreePeak":
        self.peak = 0.0
        self._sampler = subprocess.Popen([sys.executable, "-c", TREE_SAMPLER, str(os.getpid())],
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        return self

    def __exit__(self, *exc: object) -> None:
        out, _ = self._sampler.communicate("")  # closing its stdin stops it
        self.peak = float(out)


def panel(folder: Path, periods: int, jobs: int | None, warm: bool) -> dict[str, float]:
    """8 period links to one dataset: the floor (``pd.read_csv`` of every CSV of
    every period), then ``build_panel`` cold (no cache) and, with ``warm``, once
    to fill a per-period cache and once reading it back."""
    from balance_metrics.analysis.monitoring import build_panel
    from balance_metrics.analysis.monitoring.panel import _start_method

    with tempfile.TemporaryDirectory() as tmp:
        for label in PERIOD_LABELS[:periods]:
            (Path(tmp) / label).symlink_to(folder.resolve(), target_is_directory=True)
        start = time.perf_counter()
        for label in PERIOD_LABELS[:periods]:
            floor_read(Path(tmp) / label)
        floor = time.perf_counter() - start
        with TreePeak() as tree:
            method = _start_method().get_start_method()  # what build_panel will use: this process is single-threaded
            before = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            built = build_panel(tmp, jobs=jobs)
            seconds = time.perf_counter() - start
            after = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        rows = len(built.indicators)
        del built
        cpu = [a.ru_utime + a.ru_stime - b.ru_utime - b.ru_stime for a, b in zip(after, before)]
        result = {"periods": periods, "indicator_rows": rows, "floor": floor, "seconds": seconds, "start_method": method,
                  "parent_cpu": cpu[0], "workers_cpu": cpu[1],
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "tree_peak_mb": tree.peak}
        if warm:
            store = Path(tmp) / ".cache"
            start = time.perf_counter()
            build_panel(tmp, jobs=jobs, cache_dir=store)
            result["filling"] = time.perf_counter() - start
            start = time.perf_counter()
            build_panel(tmp, jobs=jobs, cache_dir=store)
            result["warm"] = time.perf_counter() - start
    return result


def dataset_for(size: int, data: Path) -> Path:
    folder = data / f"n{size}" / "2022Q4"
    if not (folder / "schools.csv").exists():
        subprocess.run([sys.executable, str(HERE / "national.py"), "--sections", str(size), "--out", str(folder)], check=True)
    return folder


def _run(*args: str) -> dict[str, float]:
    done = subprocess.run([sys.executable, __file__, *args], check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000, 200_000])
    parser.add_argument("--data", type=Path, default=Path("/work/bench"))
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--panel-size", type=int, default=10_000, help="sections of each panel period (0: no panel)")
    parser.add_argument("--periods", type=int, default=8)
    parser.add_argument("--jobs", type=int, default=None, help="panel worker processes (default: build_panel's)")
    parser.add_argument("--warm", action="store_true", help="also time the panel with a per-period cache, filled then read")
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--sample", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--panel", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.repeat)))
        return
    if args.sample:
        print(json.dumps(sample_times(args.sample)))
        return
    if args.panel:
        print(json.dumps(panel(args.panel, args.periods, args.jobs, args.warm)))
        return
    one = _run("--sample", str(HERE.parent / "data" / "raw" / "2022Q4"), "--repeat", str(args.repeat))
    print(f"sample district (beichen-2021): {sample_line(one)}")
    rows = []
    for size in args.sizes:
        rows.append(_run("--one", str(dataset_for(size, args.data)), "--repeat", str(args.repeat)))
        print(rows[-1], file=sys.stderr)
    print()
    print("| sections (districts) | checks | floor (read + CVs) | evaluate_resources | evaluate (whole) | items part | ÷ floor "
          "| + every sentence | loaded MB | peak MB (load + evaluate) | peak MB with sentences | process peak MB |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['sections']:,} ({r['districts']:,}) | {r['checks']:,} | {r['floor']:.2f} s | {r['evaluate_resources']:.2f} s | "
              f"{r['evaluate']:.2f} s | {r['items']:.2f} s | {r['evaluate'] / r['floor']:.1f}× | {r['sentences']:.2f} s | "
              f"{r['loaded_mb']:.0f} | {r['evaluate_peak_mb']:.0f} | {r['sentences_peak_mb']:.0f} | {r['peak_mb']:.0f} |")
    print()
    print("growth exponents (time ∝ sections^k): " + ", ".join(
        f"{key} {exponent(rows, key):.2f}" for key in ("floor", "evaluate_resources", "evaluate", "items", "sentences")))
    if args.panel_size:
        extra = [*(["--jobs", str(args.jobs)] if args.jobs else []), *(["--warm"] if args.warm else [])]
        built = _run("--panel", str(dataset_for(args.panel_size, args.data)), "--periods", str(args.periods), *extra)
        print(f"monitoring panel: {built['periods']} periods × {args.panel_size:,} sections (links to one dataset): "
              f"floor (read_csv of every period) {built['floor']:.1f} s; build_panel cold {built['seconds']:.1f} s "
              f"({built['seconds'] / built['floor']:.1f}× floor; start method {built['start_method']}, CPU "
              f"{built['parent_cpu']:.1f} s here + {built['workers_cpu']:.1f} s in workers), peak {built['peak_mb']:.0f} MB in this process, "
              f"{built['tree_peak_mb']:.0f} MB with its workers (sampled)"
              + (f"; cache filling {built['filling']:.1f} s, warm {built['warm']:.1f} s" if "warm" in built else ""))


if __name__ == "__main__":
    main()
