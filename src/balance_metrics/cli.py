"""Command line: ``balance-metrics evaluate | plan | scenario | standards | report``."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from balance_metrics import __version__
from balance_metrics.contract.dataset import load_period
from balance_metrics.common.errors import DataValidationError, StandardError
from balance_metrics.common.paths import OutputError
from balance_metrics.common.staging import write_set
from balance_metrics.reporting.export import write_tables
from balance_metrics.contract.schema import STAGES
from balance_metrics.standard.loader import DEFAULT_STANDARD, list_standards

EXIT_OK = 0
EXIT_REPORT_FAILED = 1
EXIT_INVALID_DATA = 2
#: What a shell reports for a command stopped by a closed pipe (128 + SIGPIPE), e.g. ``| head``.
EXIT_CLOSED_PIPE = 141
EXIT_CODES = "exit status: 0 done; 1 some reports failed (the others are written); 2 invalid data, standard, arguments or output folder (nothing written); 141 the reader of the output went away (e.g. | head)"


def _print_problems(error: DataValidationError) -> None:
    frame = error.problems.astype(object).fillna("")
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
    if "district_id" in failing.columns:
        lines.append(f"  {failing['district_id'].nunique()} district(s) with a CV over its limit ({len(failing)} CVs)")
        return "\n".join(lines)
    for _, row in failing.iterrows():
        lines.append(f"  CV over limit: {STAGES[row['stage']]} {row['indicator']} {row['cv']:.3f} > {row['limit']:.2f}")
    return "\n".join(lines)


def cmd_evaluate(args: argparse.Namespace) -> int:
    # The whole evaluation: the resource tables plus items, plan targets,
    # satisfaction, readiness and the 问题清单 (see balance_metrics.evaluation).
    from balance_metrics.evaluation.evaluate import evaluate

    from balance_metrics.reporting import provenance

    recorder = provenance.start("evaluation", {"period_dir": args.period_dir, "standard": args.standard, "lang": args.lang})
    dataset = load_period(args.period_dir)
    evaluation = evaluate(dataset, args.standard, district=args.district)
    result = evaluation.resources
    out = Path(args.out) if args.out else Path("data/processed") / dataset.period
    # One district: the data warnings plus district totals that disagree with the schools.
    warnings = getattr(evaluation, "warnings", dataset.warnings)
    tables = {**evaluation.tables(), "warnings": warnings}
    # The tables are one set: written into a staging folder that replaces `out` whole.
    workbook = None if args.no_workbook else "evaluation.xlsx"
    expected = [f"{name}.csv" for name in tables] + ([workbook] if workbook else [])
    about = {"period": dataset.period, "standard": result.standard.label, "data": str(dataset.path)}
    record = recorder.finish(dataset, evaluation.standard)
    written = write_set(
        out,
        lambda folder: write_tables(tables, folder, workbook, lang=args.lang, csv_lang=args.csv_lang,
                                    standard=evaluation.standard, provenance=record),
        expected=expected,
        about=about,
    )
    print(_summary(result))
    if hasattr(evaluation, "districts"):  # a period holding many districts
        ranking = evaluation.summary()
        print(f"  districts: {int(ranking['passed'].sum())}/{len(ranking)} ready; ranking: see {out / 'districts.csv'}")
        print(f"wrote {len(written)} files to {out}")
        return 0
    items = evaluation.items["status"].value_counts()
    print(f"  items: {items.get('pass', 0)} pass, {items.get('fail', 0)} fail, "
          f"{items.get('evidence missing', 0)} evidence missing, {items.get('not applicable', 0)} not applicable")
    if len(evaluation.plan_targets):
        targets = evaluation.plan_targets["status"].value_counts()
        print(f"  plan targets: {targets.get('pass', 0)} pass, {targets.get('fail', 0)} fail, "
              f"{targets.get('data missing', 0)} data missing")
    readiness = evaluation.readiness
    blocking = ", ".join(readiness.blocking["id"])
    print(f"  readiness: {readiness.verdict} ({readiness.label})" + (f"; blocking: {blocking}" if blocking else ""))
    print(f"  问题清单: {len(evaluation.issue_list)} line(s): see {out / '问题清单.csv'}")
    if len(warnings):
        print(f"  {len(warnings)} data warning(s): see {out / 'warnings.csv'}")
    print(f"wrote {len(written)} files to {out}")
    return 0


def cmd_standards(_args: argparse.Namespace) -> int:
    print(list_standards().to_string(index=False))
    return 0



def cmd_report(args: argparse.Namespace) -> int:
    """Render the district and school reports of one period (see balance_metrics.reporting)."""
    # Imported here: papermill, nbconvert and WeasyPrint are slow to import
    # and only this subcommand needs them.
    from balance_metrics.reporting.batch import ReportError, render_reports

    schools: list[str] = args.schools
    try:
        run = render_reports(
            period=args.period,
            data_dir=args.data_dir,
            out_dir=args.out,
            schools="all" if schools == ["all"] else schools,
            formats=args.format,
            jobs=args.jobs,
            standard=args.standard,
            district=not args.no_district,
            executor=args.executor,
            scheduler=args.scheduler,
            force=args.force,
            districts=args.districts,
        )
    except (ReportError, FileNotFoundError) as error:
        print(f"report error: {error}", file=sys.stderr)
        return EXIT_INVALID_DATA
    print(run.summary())
    return EXIT_OK if run.passed else EXIT_REPORT_FAILED


EXIT_NO_PLAN = 1


def cmd_plan(args: argparse.Namespace) -> int:
    """The cheapest district plan that passes every resource rule (see balance_metrics.analysis.planning)."""
    from balance_metrics.analysis.planning import plan_remediation
    from balance_metrics.analysis.scenarios import apply_changes
    from balance_metrics.contract.dataset import is_period_label
    from balance_metrics.contract.writing import write_period

    dataset = load_period(args.period_dir)
    plan = plan_remediation(
        dataset,
        args.standard,
        budget=args.budget,
        exclude_schools=args.exclude_schools,
        exclude_actions=args.exclude_actions,
        rotation=not args.no_rotation,
        deadline=args.deadline,
        prefer_rural=args.prefer_rural,
        time_limit=args.time_limit,
    )
    out = Path(args.out) if args.out else Path("data/processed") / dataset.period / "plan"
    tables = dict(plan.tables())
    if plan.after is not None:
        tables |= {"after_verdicts": plan.after.verdicts, "after_balance": plan.after.balance}
    # plan.csv keeps the canonical names: it is also a scenario file (balance-metrics scenario).
    written = write_tables(tables, out, workbook="plan.xlsx", standard=plan.before.standard)
    print(f"{dataset.period} · standard {plan.before.standard.label} · plan {plan.status}, "
          f"cost {plan.cost:,.0f} 元, gap {plan.gap:.3%}, {plan.seconds:.1f} s")
    for row in plan.summary().itertuples():
        print(f"  {row.label}: {row.amount:g} → {row.cost:,.0f} 元")
    if plan.after is None:
        print(plan.message)
    for row in plan.blocking.itertuples():
        print(f"  blocking: {row.detail}" + (f" [{row.constraint}]" if row.constraint else ""))
    if plan.after is not None:
        print(_summary(plan.after))
    if args.write_after and plan.after is not None:
        folder = Path(args.write_after)
        folder = folder if is_period_label(folder.name) else folder / dataset.period
        after = apply_changes(dataset, plan.as_scenario(), "plan")
        write_period(after.tables, folder, note=f"after-plan data derived by balance-metrics plan from {dataset.path}")
        print(f"wrote the after-plan period to {folder}")
    print(f"wrote {len(written)} files to {out}")
    return 0 if plan.passed else EXIT_NO_PLAN


def cmd_scenario(args: argparse.Namespace) -> int:
    """Apply a scenario file to a period in memory and write the before/after tables."""
    from balance_metrics.analysis.scenarios import apply_scenario
    from balance_metrics.contract.dataset import is_period_label
    from balance_metrics.contract.writing import write_period

    dataset = load_period(args.period_dir)
    result = apply_scenario(dataset, args.changes, args.standard, items=args.items)
    out = Path(args.out) if args.out else Path("data/processed") / dataset.period / "scenario"
    written = write_tables(result.tables(), out, workbook="scenario.xlsx")
    print(f"{dataset.period} · scenario {args.changes}")
    for row in result.summary().itertuples():
        print(f"  {row.measure}: {row.before} → {row.after}")
    print(_summary(result.after))
    if args.write_after:
        folder = Path(args.write_after)
        folder = folder if is_period_label(folder.name) else folder / dataset.period
        write_period(result.dataset.tables, folder, note=f"scenario {args.changes} applied by balance-metrics to {dataset.path}")
        print(f"wrote the scenario's period to {folder}")
    print(f"wrote {len(written)} files to {out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="balance-metrics", description="义务教育优质均衡 evaluation and reports", epilog=EXIT_CODES)
    parser.add_argument("--version", action="version", version=f"balance-metrics {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    ev = sub.add_parser("evaluate", help="evaluate one period folder and write result tables")
    ev.add_argument("period_dir", help="folder of one period, e.g. data/raw/2022Q4")
    ev.add_argument("--standard", default=DEFAULT_STANDARD, help="built-in standard name or a TOML file")
    ev.add_argument("--out", help="output folder (default data/processed/<period>)")
    ev.add_argument("--lang", choices=("zh", "en"), default="zh",
                    help="language of evaluation.xlsx: zh (default: Chinese sheets, headers and labels) or en "
                    "(the canonical English table and column names)")
    ev.add_argument("--csv-lang", choices=("en", "zh"), default="en",
                    help="CSV headers: en (default: canonical English column names) or zh (the workbook's Chinese headers)")
    ev.add_argument("--no-workbook", action="store_true",
                    help="write the CSV tables only, no evaluation.xlsx (for a province: the formatted "
                         "workbook of every check row takes minutes; the CSVs hold the same values)")
    ev.add_argument("--district", nargs="+", default=None, metavar="ID",
                    help="for a period holding many districts: evaluate only these district_id(s) (default all)")
    ev.set_defaults(func=cmd_evaluate)

    pl = sub.add_parser(
        "plan",
        help="the cheapest district plan (hires, building, equipment, rotation) that passes every resource rule",
        description="Write plan.csv (one row per action × data-contract column: school, stage, column, amount, "
        "cost in 元, year), plan.xlsx and the after-plan evaluation. Exit 0 when the plan passes every rule, "
        "1 when no plan does (the blocking constraints are printed), 2 for invalid data or options.",
    )
    pl.add_argument("period_dir", help="folder of one period, e.g. data/raw/2022Q4")
    pl.add_argument("--standard", default=DEFAULT_STANDARD, help="built-in standard name or a TOML file (unit costs, actions)")
    pl.add_argument("--budget", type=float, help="cost cap in 元: maximise passing sections, then minimise the worst CV")
    pl.add_argument("--no-rotation", action="store_true", help="do not rotate teachers between schools")
    pl.add_argument("--exclude-schools", nargs="+", default=[], metavar="ID", help="schools that take no action")
    pl.add_argument("--exclude-actions", nargs="+", default=[], metavar="ACTION", help="actions not to use, e.g. hire_key_teacher")
    pl.add_argument("--deadline", help="last year of the plan: each action gets a year, the standard's yearly caps "
                    "([planning.annual_caps]) and rotation rules hold per year")
    pl.add_argument("--prefer-rural", action="store_true", help="break cost ties in favour of rural schools")
    pl.add_argument("--time-limit", type=float, help="solver time limit in seconds (default from the standard)")
    pl.add_argument("--out", help="output folder (default data/processed/<period>/plan)")
    pl.add_argument("--write-after", metavar="DIR", help="also write the after-plan data as a period folder")
    pl.set_defaults(func=cmd_plan)

    sc = sub.add_parser(
        "scenario",
        help="apply changes (add, move, rotate, open, close, merge, split) to a period in memory and compare",
        description="Read a change table (CSV, XLSX or TOML with [[change]] entries; a plan.csv works too), apply it "
        "to the period without touching its files, re-evaluate and write the before/after verdicts and CVs.",
    )
    sc.add_argument("period_dir", help="folder of one period, e.g. data/raw/2022Q4")
    sc.add_argument("changes", help="the scenario file")
    sc.add_argument("--standard", default=DEFAULT_STANDARD, help="built-in standard name or a TOML file")
    sc.add_argument("--items", action="store_true", help="also compare every evaluation item (G/Q/S)")
    sc.add_argument("--out", help="output folder (default data/processed/<period>/scenario)")
    sc.add_argument("--write-after", metavar="DIR", help="also write the changed data as a period folder")
    sc.set_defaults(func=cmd_scenario)

    st = sub.add_parser("standards", help="list the built-in standards")
    st.set_defaults(func=cmd_standards)

    rp = sub.add_parser(
        "report",
        help="render the district and school reports (HTML, PDF) of one period (of every district for a province)",
        description="Render reports/<period>/district.{html,pdf}, schools/<id>.{html,pdf}, the executed "
        "notebooks, JSON provenance sidecars and index.html. Reports whose inputs, parameters, standard and "
        "program version are unchanged since the last run, and whose files exist, are skipped (--force renders "
        "them anyway). Exit 0 when every report was rendered or unchanged, 1 when some failed (the others are "
        "still written), 2 for invalid data or arguments.",
    )
    rp.add_argument("--period", required=True, help="period label (2022Q4, 2022-10) or 'latest'")
    rp.add_argument("--data-dir", default="data/raw", help="folder of period folders (default data/raw)")
    rp.add_argument("--schools", nargs="+", default=["all"], metavar="ID",
                    help="'all' (default), 'none', or school ids to render school reports for")
    rp.add_argument("--format", default="html,pdf", help="comma-separated formats: html, pdf (default html,pdf)")
    rp.add_argument("--jobs", type=int, default=None,
                    help="worker processes, or workers of the local Dask cluster (default: number of CPUs)")
    rp.add_argument("--executor", choices=["processes", "dask"], default="processes",
                    help="where reports render: a process pool on this machine (default) or a Dask cluster")
    rp.add_argument("--scheduler", metavar="ADDRESS",
                    help="Dask scheduler address (tcp://host:8786) of a running cluster; without it "
                    "--executor dask starts a local cluster of --jobs workers")
    rp.add_argument("--force", action="store_true",
                    help="render every report, also those whose inputs and outputs are unchanged since the last run")
    rp.add_argument("--standard", default=DEFAULT_STANDARD, help="built-in standard name or a TOML file")
    rp.add_argument("--out", default="reports", help="reports root; files go to <out>/<period>/ (default reports)")
    rp.add_argument("--no-district", action="store_true", help="skip the district report(s)")
    rp.add_argument("--districts", nargs="+", default=None, metavar="ID",
                    help="for a period holding many districts (schools.district_id; required there): 'all' or "
                    "district ids; each district's reports go to <out>/<period>/<district_id>/ and "
                    "<out>/<period>/index.html ranks the districts")
    rp.set_defaults(func=cmd_report)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _run(args)
    except BrokenPipeError:
        _stop_writing()
        return EXIT_CLOSED_PIPE


def _run(args: argparse.Namespace) -> int:
    try:
        return args.func(args)
    except DataValidationError as error:
        return _told(EXIT_INVALID_DATA, lambda: _print_problems(error))
    except StandardError as error:
        return _told(EXIT_INVALID_DATA, lambda: print(f"standard error: {error}", file=sys.stderr))
    except OutputError as error:
        return _told(EXIT_INVALID_DATA, lambda: print(f"output error: {error}", file=sys.stderr))


def _told(status: int, tell) -> int:
    """``status`` after ``tell()`` has printed why; a reader that stopped reading
    (``2>&1 | head``) does not turn an invalid-data exit into another one."""
    try:
        tell()
        sys.stderr.flush()
    except BrokenPipeError:
        _stop_writing()
    return status


def _stop_writing() -> None:
    """Point stdout and stderr at the null device: the pipe's reader is gone, and
    the interpreter's last flush would otherwise fail again at exit."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    for stream in (sys.stdout, sys.stderr):
        try:
            os.dup2(devnull, stream.fileno())
        except (AttributeError, OSError, ValueError):  # not a file (a test's capture): nothing to flush
            continue


if __name__ == "__main__":
    sys.exit(main())
