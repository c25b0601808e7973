"""Loading benchmark (issue #8): ``load_period`` with full validation against the floor, in one run.

    python benchmarks/bench_loading.py [--sizes 10000 50000 200000] [--repeat 3] [--data /tmp/bm-national]
                                       [--excel-size 10000]

For each size the seeded national dataset of ``benchmarks/national.py`` (cached under
``--data``, shared with ``bench_engine.py``) is measured in fresh subprocesses:

- ``floor read``: ``pd.read_csv`` of every CSV file of the period (type inference, no
  validation), best of ``--repeat``;
- ``floor text``: ``pd.read_csv(dtype=str, keep_default_na=False)`` of the same files
  (every cell as text, as the loader needs them), best of ``--repeat``;
- ``load_period``: reading, parsing and every validation rule, best of ``--repeat``;
- the same two measures again in CPU seconds of the process (``time.process_time``),
  less inflated than wall time when other jobs share the cores;
- peak memory: ``ru_maxrss`` of a subprocess that only imports and runs the floor read
  once, and of one that only runs ``load_period`` once.

One more row (``--code-ids-size``, default 200,000) measures the same dataset with 10-digit
school ids in the form of a real 学校标识码 (``national.py --school-ids code``): ids longer
than 8 characters are compared as texts, not as 64-bit words.

The sample district (``data/raw/2022Q4``, 61 schools) is measured the same way (best of
``10 × --repeat``): its ``load_period`` time is the fixed cost every period pays.

Then one workbook holding every table of the ``--excel-size`` dataset as sheets
(written once with openpyxl, cached) is read four ways: pandas ``read_excel`` of all
sheets with ``engine="calamine"`` and with ``engine="openpyxl"`` (floors), and
``load_period`` of a folder holding only that workbook, with calamine (the default)
and with openpyxl for every sheet.

Prints Markdown tables and the growth exponent ``log(t_max/t_min) / log(n_max/n_min)``.
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

import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_engine import dataset_for  # noqa: E402


def _best(fn, repeat: int, clock=time.perf_counter) -> float:
    best = math.inf
    for _ in range(repeat):
        start = clock()
        fn()
        best = min(best, clock() - start)
    return best


def floor_read(folder: Path, text: bool = False) -> dict[str, pd.DataFrame]:
    options = {"dtype": str, "keep_default_na": False} if text else {}
    return {p.stem: pd.read_csv(p, low_memory=False, **options) for p in sorted(folder.glob("*.csv"))}


def measure(folder: Path, repeat: int) -> dict[str, float]:
    from balance_metrics import load_period

    out = {"floor_read": _best(lambda: floor_read(folder), repeat),
           "floor_text": _best(lambda: floor_read(folder, text=True), repeat),
           "load_period": _best(lambda: load_period(folder), repeat)}
    # CPU seconds of this process (less inflated than wall time when other jobs share the cores)
    out["floor_read_cpu"] = _best(lambda: floor_read(folder), repeat, time.process_time)
    out["load_period_cpu"] = _best(lambda: load_period(folder), repeat, time.process_time)
    out["sections"] = len(load_period(folder).sections)
    return out


def peak(folder: Path, what: str) -> float:
    """Peak resident memory (MB) of a process that runs ``what`` once."""
    if what == "floor":
        floor_read(folder)
    else:
        from balance_metrics import load_period

        load_period(folder)
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def workbook_for(folder: Path, data: Path) -> Path:
    book = data / f"xlsx-{folder.parent.name}" / "2022Q4"
    target = book / "统计报表.xlsx"
    if not target.exists():
        book.mkdir(parents=True, exist_ok=True)
        with pd.ExcelWriter(target.with_suffix(".tmp.xlsx"), engine="openpyxl") as writer:
            for path in sorted(folder.glob("*.csv")):
                pd.read_csv(path, low_memory=False).to_excel(writer, sheet_name=path.stem, index=False)  # numbers as numbers
        target.with_suffix(".tmp.xlsx").rename(target)
    return book


def measure_excel(book: Path, repeat: int) -> dict[str, float]:
    from balance_metrics import load_period
    from balance_metrics.contract import workbooks

    path = book / "统计报表.xlsx"
    out = {"pandas_calamine": _best(lambda: pd.read_excel(path, sheet_name=None, engine="calamine", dtype=str), repeat),
           "pandas_openpyxl": _best(lambda: pd.read_excel(path, sheet_name=None, engine="openpyxl", dtype=str), repeat),
           "load_calamine": _best(lambda: load_period(book), repeat)}
    workbooks._plain_sheets = lambda _path: {}  # every sheet through openpyxl, as before calamine
    out["load_openpyxl"] = _best(lambda: load_period(book), repeat)
    out["sections"] = len(load_period(book).sections)
    return out


def _run(*args: str) -> dict:
    done = subprocess.run([sys.executable, __file__, *args], check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000, 200_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data", type=Path, default=Path("/tmp/bm-national"))
    parser.add_argument("--excel-size", type=int, default=10_000, help="dataset written as one workbook (0: skip)")
    parser.add_argument("--code-ids-size", type=int, default=200_000,
                        help="also this size with 10-digit school ids like a 学校标识码 (0: skip)")
    parser.add_argument("--sample", type=Path, default=HERE.parent / "data" / "raw" / "2022Q4", help="small period for the fixed cost")
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--peak", choices=["floor", "load"], help=argparse.SUPPRESS)
    parser.add_argument("--excel", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one and args.peak:
        print(json.dumps({"peak_mb": peak(args.one, args.peak)}))
        return
    if args.one:
        print(json.dumps(measure(args.one, args.repeat)))
        return
    if args.excel:
        print(json.dumps(measure_excel(args.excel, args.repeat)))
        return
    rows = []
    for size in args.sizes:
        folder = dataset_for(size, args.data, core_only=False)
        row = _run("--one", str(folder), "--repeat", str(args.repeat)) | {"size": size}
        row["floor_mb"] = _run("--one", str(folder), "--peak", "floor")["peak_mb"]
        row["load_mb"] = _run("--one", str(folder), "--peak", "load")["peak_mb"]
        rows.append(row)
        print(row, file=sys.stderr)
    print("| section rows | floor read | floor text | `load_period` | ÷ floor read | ÷ floor text | CPU: floor read | CPU: `load_period` | CPU ratio | peak MB floor | peak MB `load_period` |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['sections']:,} | {r['floor_read']:.3f} s | {r['floor_text']:.3f} s | {r['load_period']:.3f} s | "
              f"{r['load_period'] / r['floor_read']:.1f}× | {r['load_period'] / r['floor_text']:.1f}× | {r['floor_read_cpu']:.3f} s | "
              f"{r['load_period_cpu']:.3f} s | {r['load_period_cpu'] / r['floor_read_cpu']:.1f}× | {r['floor_mb']:.0f} | {r['load_mb']:.0f} |")
    if args.code_ids_size:
        folder = args.data / f"code{args.code_ids_size}" / "2022Q4"
        if not (folder / "schools.csv").exists():
            subprocess.run([sys.executable, str(HERE / "national.py"), "--sections", str(args.code_ids_size), "--out", str(folder),
                            "--school-ids", "code"], check=True)
        r = _run("--one", str(folder), "--repeat", str(args.repeat))
        print(f"| {r['sections']:,}, 10-digit school ids | {r['floor_read']:.3f} s | {r['floor_text']:.3f} s | {r['load_period']:.3f} s | "
              f"{r['load_period'] / r['floor_read']:.1f}× | {r['load_period'] / r['floor_text']:.1f}× | {r['floor_read_cpu']:.3f} s | "
              f"{r['load_period_cpu']:.3f} s | {r['load_period_cpu'] / r['floor_read_cpu']:.1f}× | | |")
    if len(rows) > 1:
        a, b = rows[0], rows[-1]
        print("\ngrowth exponents (time ∝ sections^k): " + ", ".join(
            f"{key} {math.log(b[key] / a[key]) / math.log(b['sections'] / a['sections']):.2f}" for key in ("floor_read", "floor_text", "load_period")))
    if args.sample.is_dir():
        r = _run("--one", str(args.sample), "--repeat", str(10 * args.repeat))
        print(f"\nsample district ({r['sections']} sections): floor read {r['floor_read'] * 1000:.1f} ms, `load_period` "
              f"{r['load_period'] * 1000:.1f} ms ({r['load_period'] / r['floor_read']:.1f}×); CPU {r['floor_read_cpu'] * 1000:.1f} ms, "
              f"{r['load_period_cpu'] * 1000:.1f} ms ({r['load_period_cpu'] / r['floor_read_cpu']:.1f}×)")
    if args.excel_size:
        book = workbook_for(dataset_for(args.excel_size, args.data, core_only=False), args.data)
        r = _run("--excel", str(book), "--repeat", str(args.repeat))
        print(f"\nworkbook ({r['sections']:,} sections, every table a sheet): "
              "| pandas calamine | pandas openpyxl | `load_period` calamine | `load_period` openpyxl | openpyxl ÷ calamine (load) |")
        print("|---|---|---|---|---|")
        print(f"| {r['pandas_calamine']:.2f} s | {r['pandas_openpyxl']:.2f} s | {r['load_calamine']:.2f} s | {r['load_openpyxl']:.2f} s | "
              f"{r['load_openpyxl'] / r['load_calamine']:.1f}× |")


if __name__ == "__main__":
    main()
