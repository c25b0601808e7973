"""Long run of the mutation fuzzer (tests/fuzzing.py): ≥ 10,000 cases, written up in docs/robustness.md.

Each case copies a valid period (a small random valid district, or the sample's 2022Q4),
applies one mutation and loads it; loaded cases are also evaluated with the default
standard. Counts outcomes by mutation kind and lists every case that broke the contract
(an exception other than DataValidationError, an error not naming the mutated file or not
at the mutated row, an invalid number accepted, valid data rejected or read differently).

Usage::

    .venv/bin/python benchmarks/fuzz_periods.py --cases 10000 --sample-share 0.15 --jobs 2 \\
        --log fuzz-outcomes.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from fuzzing import KINDS, Outcome, run_case, summary  # noqa: E402


def _plan(cases: int, sample_share: float, first_seed: int) -> list[tuple[int, str, str]]:
    """(seed, base, kind): kinds in turn, every k-th case on the sample period."""
    every = max(1, round(1 / sample_share)) if sample_share > 0 else 0
    return [
        (first_seed + i, "sample" if every and i % every == 0 else "small", KINDS[i % len(KINDS)])
        for i in range(cases)
    ]


def _run(job: tuple[int, str, str, bool]) -> dict:
    seed, base, kind, evaluate = job
    with tempfile.TemporaryDirectory(prefix="fuzz-") as tmp:
        started = time.perf_counter()
        outcome = run_case(seed, base, Path(tmp), kind=kind, evaluate=evaluate)
        return {**outcome.__dict__, "seconds": round(time.perf_counter() - started, 3)}


def _markdown(table) -> str:
    head = ["kind", *table.columns]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join([str(kind), *map(str, row)]) + " |" for kind, row in zip(table.index, table.values.tolist())]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--sample-share", type=float, default=0.15, help="share of cases on the sample's 2022Q4")
    parser.add_argument("--first-seed", type=int, default=1_000_000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--no-evaluate", action="store_true", help="only load (skip evaluate on loaded cases)")
    parser.add_argument("--log", type=Path, default=Path("fuzz-outcomes.jsonl"))
    args = parser.parse_args()

    jobs = [(seed, base, kind, not args.no_evaluate) for seed, base, kind in _plan(args.cases, args.sample_share, args.first_seed)]
    started = time.perf_counter()
    outcomes: list[Outcome] = []
    with args.log.open("w", encoding="utf-8") as log, ProcessPoolExecutor(args.jobs) as pool:
        for record in pool.map(_run, jobs, chunksize=8):
            log.write(json.dumps(record, ensure_ascii=False) + "\n")
            log.flush()
            outcomes.append(Outcome(**{k: v for k, v in record.items() if k != "seconds"}))
    wall = time.perf_counter() - started
    table = summary(outcomes)
    print(f"{len(outcomes)} cases in {wall:.0f} s with {args.jobs} jobs "
          f"({sum(o.base == 'sample' for o in outcomes)} on the sample's 2022Q4, the rest on small random districts)")
    print(_markdown(table))
    failures = [o for o in outcomes if o.failure]
    for o in failures[:50]:
        print(f"\n{o.kind} {o.base} seed {o.seed}: {o.failure}\n{o.detail}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
