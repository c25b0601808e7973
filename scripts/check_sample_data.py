#!/usr/bin/env python3
"""Dev aid: print the resource-indicator story of the generated sample data.

    python scripts/check_sample_data.py [data/raw] [--period 2021Q1 ...] [--detail]

Reads each period folder as written (CSV files with a ``#`` first line, or the
Chinese ``统计报表.xlsx`` workbook), merges 不计校数 campuses into their parent,
drops excluded schools, splits combined schools' facilities by weighted
enrolment, and prints per stage: counted sections, failing sections, and the 7
pupil-weighted coefficients of variation (CV = sqrt(Σ P_i (X_i − X̄)² / P) / X̄,
X̄ = Σ P_i X_i / P), and checks that the district's added teaching space and sports
venues equal the schools' R4/R5 totals now minus their baseline totals. Thresholds, weights and limits come from the national
standard file in ``src/balance_metrics/standard/data``. Pass/fail of a section uses
exact rational arithmetic. This is NOT the engine (that lives in src/); it only
lets us check that the synthetic story holds.
"""

from __future__ import annotations

import argparse
import math
import sys
import tomllib
from fractions import Fraction
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
from balance_metrics.contract import schema  # noqa: E402

STANDARD_FILE = ROOT / "src" / "balance_metrics" / "standard" / "data" / "national-2017.toml"
INDICATORS = ("R1", "R2", "R3", "R4", "R5", "R6", "R7")


def load_standard(path: Path = STANDARD_FILE) -> dict:
    with open(path, "rb") as fh:
        std = tomllib.load(fh)
    ind = {
        r: {
            "terms": {k: Fraction(str(v)) for k, v in std["indicators"][r]["terms"].items()},
            "scale": Fraction(str(std["indicators"][r]["scale"])),
            "basis": std["indicators"][r]["basis"],
            "thr": {st: Fraction(v) for st, v in std["indicators"][r]["thresholds"].items()},
        }
        for r in INDICATORS
    }
    return {
        "ind": ind,
        "weights": {t: {st: Fraction(v) for st, v in w.items()}
                    for t, w in std["split_weights"].items() if isinstance(w, dict)},
        "floor": Fraction(std["section_rule"]["floor_factor"]),
        "min_met": int(std["section_rule"]["min_indicators_met"]),
        "cv_limit": {st: float(v) for st, v in std["balance"]["cv_limits"].items()},
        "excluded": set(std["scope"]["excluded_school_types"]),
        "tp_type": std["scope"]["teaching_point_type"],
        "tp_min": int(std["scope"]["teaching_point_min_students"]),
    }


# --- reading -----------------------------------------------------------------


def _canonical(table: schema.Table, df: pd.DataFrame) -> pd.DataFrame:
    rename = {}
    for col in table.columns:
        for header in col.headers:
            if header in df.columns:
                rename[header] = col.name
    df = df.rename(columns=rename)
    for col in table.columns:
        if col.name not in df.columns:
            continue
        if col.kind == "category" and col.choices:
            back = {zh: code for code, zh in col.choices.items()}
            df[col.name] = df[col.name].map(lambda v, b=back: b.get(v, v))
        elif col.kind == "bool":
            df[col.name] = df[col.name].map(lambda v: schema.BOOLEANS.get(str(v).strip().lower(), False))
        elif col.kind in ("id", "text"):
            df[col.name] = df[col.name].fillna("").astype(str)
    return df


def read_period(folder: Path) -> dict[str, pd.DataFrame]:
    tables: dict[str, pd.DataFrame] = {}
    books = sorted(folder.glob("*.xlsx"))
    for table in (*schema.CORE_TABLES, schema.DISTRICT):
        csv = folder / f"{table.name}.csv"
        if csv.exists():
            df = pd.read_csv(csv, comment="#", dtype={"school_id": str, "parent_school_id": str, "partner_school_id": str},
                             keep_default_na=False, na_values=[""])
        elif books:
            df = pd.read_excel(books[0], engine="openpyxl", sheet_name=table.zh, dtype={"学校代码": str, "所属学校代码": str, "结对帮扶学校代码": str})
        elif table.required:
            raise FileNotFoundError(f"{folder}: no {table.name}")
        else:
            continue
        tables[table.name] = _canonical(table, df)
    if "district" in tables:  # the workbook gives Chinese item names
        names = {item.zh: code for code, item in schema.DISTRICT_ITEMS.items()}
        tables["district"]["item"] = tables["district"]["item"].map(lambda v: names.get(v, v))
    return tables


# --- computing -----------------------------------------------------------------


def section_values(tables: dict[str, pd.DataFrame], std: dict) -> list[dict]:
    """Counted sections with exact indicator values (Fractions)."""
    schools = tables["schools"].set_index("school_id")
    secs = tables["sections"].copy()
    fac = tables["facilities"].copy()
    parent = schools["parent_school_id"].to_dict()
    unit = {sid: (p if p else sid) for sid, p in parent.items()}
    secs["unit"] = secs["school_id"].map(unit)
    fac["unit"] = fac["school_id"].map(unit)
    num_cols = [c for c in schema.SECTIONS.names if c not in ("school_id", "stage")]
    fac_cols = [c for c in schema.FACILITIES.names if c != "school_id"]
    secs = secs.groupby(["unit", "stage"], sort=False)[num_cols].sum().reset_index()
    fac = fac.groupby("unit", sort=False)[fac_cols].sum()
    rows = []
    for sid, grp in secs.groupby("unit", sort=False):
        stype = schools.loc[sid, "school_type"]
        students = {r.stage: int(r.students) for r in grp.itertuples()}
        if stype in std["excluded"]:
            continue
        if stype == std["tp_type"] and sum(students.values()) < std["tp_min"]:
            continue
        weights = std["weights"].get(stype, {st: Fraction(1) for st in students})
        weighted = sum(weights[st] * students[st] for st in students)
        for r in grp.itertuples():
            if r.stage not in ("primary", "junior"):
                continue
            vals, nums = {}, {}
            for ind, spec in std["ind"].items():
                if spec["basis"] == "section":
                    num = sum(c * Fraction(str(getattr(r, col))) for col, c in spec["terms"].items())
                    vals[ind] = num * spec["scale"] / r.students
                else:
                    total = sum(c * Fraction(str(fac.loc[sid, col])) for col, c in spec["terms"].items())
                    share = weights[r.stage] * r.students / weighted
                    vals[ind] = total * share * spec["scale"] / r.students
                    nums[ind] = total * share
            rows.append({"school_id": sid, "stage": r.stage, "students": int(r.students), "values": vals, "numerators": nums})
    return rows


def judge(row: dict, std: dict) -> tuple[bool, list[str]]:
    misses, below_floor = [], False
    for ind in INDICATORS:
        thr = std["ind"][ind]["thr"][row["stage"]]
        v = row["values"][ind]
        if v < thr:
            misses.append(f"{ind}={float(v / thr):.2f}")
            if v < thr * std["floor"]:
                below_floor = True
    ok = (len(INDICATORS) - len(misses)) >= std["min_met"] and not below_floor
    return ok, misses


def weighted_cv(pairs: list[tuple[int, float]]) -> float:
    p = sum(w for w, _ in pairs)
    mean = sum(w * x for w, x in pairs) / p
    if mean == 0:
        return 0.0
    return math.sqrt(sum(w * (x - mean) ** 2 for w, x in pairs) / p) / mean


def summarise(tables: dict[str, pd.DataFrame], std: dict) -> dict:
    rows = section_values(tables, std)
    out = {}
    for stage in ("primary", "junior"):
        srows = [r for r in rows if r["stage"] == stage]
        verdicts = [(r, *judge(r, std)) for r in srows]
        cvs = {ind: weighted_cv([(r["students"], float(r["values"][ind])) for r in srows]) for ind in INDICATORS}
        out[stage] = {
            "n": len(srows),
            "students": sum(r["students"] for r in srows),
            "failing": [(r["school_id"], misses) for r, ok, misses in verdicts if not ok],
            "one_gap": [(r["school_id"], misses) for r, ok, misses in verdicts if ok and misses],
            "cv": cvs,
            "cv_fail": [ind for ind, cv in cvs.items() if cv > std["cv_limit"][stage]],
        }
    return out


#: District figures of area added since the plan's baseline, and what the schools' tables say.
AREA_ADDED = {
    "teaching_area_added_primary_m2": ("R4", "primary", "teaching_area_baseline_primary_m2"),
    "teaching_area_added_junior_m2": ("R4", "junior", "teaching_area_baseline_junior_m2"),
    "sports_area_added_primary_m2": ("R5", "primary", "sports_area_baseline_primary_m2"),
    "sports_area_added_junior_m2": ("R5", "junior", "sports_area_baseline_junior_m2"),
}
AREA_TOLERANCE = Fraction(1, 100)  # as beichen-2021's cross_check_tolerance_percent


def area_checks(tables: dict[str, pd.DataFrame], std: dict) -> list[tuple[str, float, float, bool]]:
    """(item, reported, schools now − baseline, agrees) for each added-area district figure."""
    district = tables.get("district")
    if district is None:
        return []
    figures = {r.item: Fraction(str(r.value)) for r in district.itertuples()}
    rows = section_values(tables, std)
    out = []
    for item, (ind, stage, base) in AREA_ADDED.items():
        if item not in figures or base not in figures:
            continue
        now = sum(r["numerators"][ind] for r in rows if r["stage"] == stage)
        from_schools = now - figures[base]
        agrees = abs(figures[item] - from_schools) <= abs(figures[item]) * AREA_TOLERANCE
        out.append((item, float(figures[item]), float(from_schools), agrees))
    return out


def report(period: str, summary: dict, std: dict, detail: bool) -> str:
    lines = [f"== {period} =="]
    lines.append(f"{'stage':8} {'sections':>8} {'pupils':>7} {'failing':>7}   "
                 + "  ".join(f"{ind:>6}" for ind in INDICATORS) + "   CV limit")
    for stage, s in summary.items():
        limit = std["cv_limit"][stage]
        cells = "  ".join(f"{s['cv'][ind]:.3f}" + ("*" if s["cv"][ind] > limit else " ") for ind in INDICATORS)
        lines.append(f"{stage:8} {s['n']:>8} {s['students']:>7} {len(s['failing']):>7}   {cells}   {limit:.2f}")
    total = sum(s["n"] for s in summary.values())
    failing = sum(len(s["failing"]) for s in summary.values())
    cv_fail = [f"{stage}:{ind}" for stage, s in summary.items() for ind in s["cv_fail"]]
    lines.append(f"failing sections {failing}/{total} ({100 * failing / total:.0f}%); "
                 f"failing CVs ({'*'}) {len(cv_fail)}: {', '.join(cv_fail) or '-'}")
    if detail:
        for stage, s in summary.items():
            for sid, misses in s["failing"]:
                lines.append(f"  FAIL {stage:7} {sid:9} misses {' '.join(misses)}")
            for sid, misses in s["one_gap"]:
                lines.append(f"  pass {stage:7} {sid:9} one gap {' '.join(misses)}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", nargs="?", type=Path, default=ROOT / "data" / "raw")
    parser.add_argument("--period", action="append", help="only these periods")
    parser.add_argument("--detail", action="store_true", help="list failing and one-gap sections")
    args = parser.parse_args(argv)
    std = load_standard()
    folders = sorted(p for p in args.root.iterdir() if p.is_dir() and (not args.period or p.name in args.period))
    trend, disagreeing = [], []
    for folder in folders:
        tables = read_period(folder)
        summary = summarise(tables, std)
        print(report(folder.name, summary, std, args.detail))
        for item, reported, from_schools, agrees in area_checks(tables, std):
            print(f"  {item}: district {reported:,.0f} m², schools (now − baseline) {from_schools:,.1f} m²"
                  + ("" if agrees else "  <-- DISAGREE"))
            if not agrees:
                disagreeing.append(f"{folder.name} {item}")
        print()
        trend.append((folder.name, sum(len(s["failing"]) for s in summary.values()),
                      sum(len(s["cv_fail"]) for s in summary.values())))
    if len(trend) > 1:
        print("trend (period: failing sections / failing CVs): "
              + ", ".join(f"{p}: {f}/{c}" for p, f, c in trend))
    if disagreeing:
        print("district area figures disagree with the school tables: " + ", ".join(disagreeing))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
