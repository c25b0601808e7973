"""Command line: ``balance-metrics evaluate | standards``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from . import __version__
from .dataset import load_period
from .errors import DataValidationError, StandardError
from .export import write_tables
from .resources import evaluate_resources
from .schema import STAGES
from .standards import DEFAULT_STANDARD, list_standards

EXIT_INVALID_DATA = 2


def _print_problems(error: DataValidationError) -> None:
    frame = error.problems.fillna("")
    print(f"数据校验未通过 / invalid input: {len(frame)} problem(s) in {error.source}", file=sys.stderr)
    with pd.option_context("display.max_rows", None, "display.max_colwidth", 90, "display.width", 200):
        print(frame.to_string(index=False), file=sys.stderr)


def _summary(result) -> str:
    lines = [f"{result.period} · standard {result.standard.label}"]
    for _, row in result.summary().iterrows():
        lines.append(
            f"  {STAGES[row['stage']]}: {row['sections_passed']}/{row['sections']} sections pass, "
            f"{row['cv_passed']}/{row['indicators']} CVs within limit (max CV {row['max_cv']:.3f})"
        )
    failing = result.balance[~result.balance["passed"]]
    for _, row in failing.iterrows():
        lines.append(f"  CV over limit: {STAGES[row['stage']]} {row['indicator']} {row['cv']:.3f} > {row['limit']:.2f}")
    return "\n".join(lines)


def cmd_evaluate(args: argparse.Namespace) -> int:
    dataset = load_period(args.period_dir)
    result = evaluate_resources(dataset, args.standard)
    out = Path(args.out) if args.out else Path("data/processed") / dataset.period
    tables = {
        "sections": result.sections,
        "verdicts": result.verdicts,
        "balance": result.balance,
        "excluded": result.excluded,
        "warnings": dataset.warnings,
    }
    written = write_tables(tables, out)
    print(_summary(result))
    if len(dataset.warnings):
        print(f"  {len(dataset.warnings)} data warning(s): see {out / 'warnings.csv'}")
    print(f"wrote {len(written)} files to {out}")
    return 0


def cmd_standards(_args: argparse.Namespace) -> int:
    print(list_standards().to_string(index=False))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="balance-metrics", description="义务教育优质均衡 evaluation and reports")
    parser.add_argument("--version", action="version", version=f"balance-metrics {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    ev = sub.add_parser("evaluate", help="evaluate one period folder and write result tables")
    ev.add_argument("period_dir", help="folder of one period, e.g. data/raw/2022Q4")
    ev.add_argument("--standard", default=DEFAULT_STANDARD, help="built-in standard name or a TOML file")
    ev.add_argument("--out", help="output folder (default data/processed/<period>)")
    ev.set_defaults(func=cmd_evaluate)

    st = sub.add_parser("standards", help="list the built-in standards")
    st.set_defaults(func=cmd_standards)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except DataValidationError as error:
        _print_problems(error)
        return EXIT_INVALID_DATA
    except StandardError as error:
        print(f"standard error: {error}", file=sys.stderr)
        return EXIT_INVALID_DATA


if __name__ == "__main__":
    sys.exit(main())
