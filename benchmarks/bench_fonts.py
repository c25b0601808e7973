"""Benchmark a repeated ``use_chinese_font()`` call against the floor (setting rcParams by hand).

Notebooks and plot helpers call ``use_chinese_font()`` before every chart; after the first
call it must cost no more than assigning the two rcParams entries itself. This replaces the
timed assertion that was in tests/test_fonts.py. Prints a Markdown table for
docs/performance.md ("Repeated use_chinese_font()").

Usage::

    .venv/bin/python benchmarks/bench_fonts.py [--calls 2000] [--repeat 7]
"""

from __future__ import annotations

import argparse
import statistics
import time

import matplotlib

from balance_metrics.reporting import chart_fonts


def per_call(fn, calls: int, repeat: int) -> float:
    """Median over ``repeat`` runs of the mean seconds per call."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        times.append((time.perf_counter() - start) / calls)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    family = chart_fonts.use_chinese_font()  # first call: registers the font (not measured)
    rc = matplotlib.rcParams

    def floor() -> None:
        rc["font.sans-serif"] = [family, *[f for f in rc["font.sans-serif"] if f != family]]
        rc["axes.unicode_minus"] = False

    ours = per_call(chart_fonts.use_chinese_font, args.calls, args.repeat)
    base = per_call(floor, args.calls, args.repeat)
    print("| call | µs per call (median of %d × %d calls) |" % (args.repeat, args.calls))
    print("|---|---|")
    print(f"| `use_chinese_font()` (repeated) | {ours * 1e6:.1f} |")
    print(f"| floor: assign the rcParams by hand | {base * 1e6:.1f} |")
    print(f"| ratio | {ours / base:.2f} |")


if __name__ == "__main__":
    main()
