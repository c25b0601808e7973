"""Seeded synthetic national-size dataset for the engine benchmarks.

    python benchmarks/national.py --sections 200000 --out /tmp/national/2022Q4 [--seed 7] [--core-only]

Writes one period folder in the input contract (``docs/data-contract.md``) holding
many districts: ``schools`` carries ``district_id`` / ``district_name``, and the
per-district tables (``district``, ``evidence``, ``survey``) carry ``district_id``.
About one district per 69 sections (2,900 districts at 200,000 sections), with
realistic shares of school types: primary and junior schools, 九年一贯制,
十二年一贯制 and 完全中学 (combined schools split by weighted enrolment),
不计校数 campuses, teaching points (some under 50 pupils, excluded), special-
education and vocational schools (excluded). Numbers are drawn around the 2017
thresholds so that most sections pass and some fail. Everything is invented and
generated whole-column with numpy: 200,000 sections take a few seconds.

The per-district optional tables reuse the sample district's 2022Q4 ``district``
and ``evidence`` tables as templates (values jittered per district).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "raw" / "2022Q4"
SECTIONS_PER_DISTRICT = 69
#: (school type, share of schools, stages) — shares of a typical county's school list.
TYPES = (
    ("primary", 0.50, ("primary",)),
    ("junior", 0.17, ("junior",)),
    ("nine_year", 0.09, ("primary", "junior")),
    ("twelve_year", 0.015, ("primary", "junior", "senior")),
    ("complete_secondary", 0.035, ("junior", "senior")),
    ("teaching_point", 0.09, ("primary",)),
    ("special_education", 0.015, ("primary",)),
    ("vocational", 0.015, ()),
)
CAMPUS_SHARE = 0.03  # of primary schools, a 不计校数 campus of another primary school
SURVEY_PER_DISTRICT = 70
GROUPS = ("students", "parents", "teachers", "principals", "deputies", "cppcc", "residents")
SUBJECTS = ("数学", "语文")


def _ids(prefix: str, numbers: np.ndarray, width: int) -> np.ndarray:
    return (pd.Series(numbers).astype(str).str.zfill(width).radd(prefix)).to_numpy(object)


def _school_codes(district_id: np.ndarray, district: np.ndarray) -> np.ndarray:
    """``3`` + district code + the school's number within its district (3 digits; ``district`` is sorted)."""
    within = np.arange(len(district)) - np.searchsorted(district, district)
    if len(within) and within.max() > 999:
        raise ValueError("more than 1,000 schools in a district: 10-digit school codes do not fit")
    return ("3" + pd.Series(district_id) + pd.Series(within).astype(str).str.zfill(3)).to_numpy(object)


def make_national(n_sections: int, seed: int = 7, core_only: bool = False, school_ids: str = "short") -> dict[str, pd.DataFrame]:
    """The tables of one synthetic national period with about ``n_sections`` sections.

    ``school_ids``: ``"short"`` (``S0000001``, 8 characters) or ``"code"`` (10-digit ids in
    the form of a 学校标识码: ``3``, the district's code, the school's number in its district).
    """
    rng = np.random.default_rng(seed)
    stages_per_school = sum(share * max(len(stages), 1) for _, share, stages in TYPES) + CAMPUS_SHARE * 0.5
    n_schools = int(round(n_sections / stages_per_school))
    n_districts = max(1, int(round(n_sections / SECTIONS_PER_DISTRICT)))
    types = np.array([t for t, _, _ in TYPES], dtype=object)
    shares = np.array([s for _, s, _ in TYPES])
    school_type = rng.choice(types, size=n_schools, p=shares / shares.sum())
    district = np.sort(rng.integers(0, n_districts, n_schools))
    district_id = _ids("", 110000 + district * 3, 6)
    school_id = _ids("S", np.arange(n_schools), 7) if school_ids == "short" else _school_codes(district_id, district)
    parent = np.full(n_schools, None, dtype=object)
    primary = np.flatnonzero(school_type == "primary")
    campus = rng.choice(primary, size=int(len(primary) * CAMPUS_SHARE), replace=False)
    # A campus belongs to the previous top-level primary school of its district (if any).
    top = np.setdiff1d(primary, campus)
    candidate = top[np.clip(np.searchsorted(top, campus) - 1, 0, None)] if len(top) else campus
    ok = (district[candidate] == district[campus]) & (candidate != campus)
    parent[campus[ok]] = school_id[candidate[ok]]
    area = rng.choice(np.array(["urban", "town", "rural"], dtype=object), n_schools, p=[0.4, 0.3, 0.3])
    schools = pd.DataFrame({
        "district_id": district_id,
        "district_name": pd.Series(district).astype(str).radd("第").add("县").to_numpy(object),
        "school_id": school_id,
        "school_name": pd.Series(np.arange(n_schools)).astype(str).radd("学校").to_numpy(object),
        "school_type": school_type,
        "area_type": area,
        "ownership": rng.choice(np.array(["public", "private"], dtype=object), n_schools, p=[0.92, 0.08]),
        "boarding": rng.choice(np.array(["true", "false"], dtype=object), n_schools, p=[0.1, 0.9]),
        "parent_school_id": parent,
        "year_built": rng.integers(1950, 2021, n_schools),
    })

    # Sections: one row per school × stage its type offers.
    stage_lists = {t: stages for t, _, stages in TYPES}
    counts = pd.Series(school_type).map({t: len(s) for t, s in stage_lists.items()}).to_numpy(int)
    owner = np.repeat(np.arange(n_schools), counts)
    rank = np.arange(len(owner)) - np.repeat(np.cumsum(counts) - counts, counts)
    stage = np.array([stage_lists[t][r] for t, r in zip(school_type[owner], rank)], dtype=object) if len(owner) else np.array([], dtype=object)
    kind = school_type[owner]
    size = np.where(kind == "teaching_point", rng.integers(10, 120, len(owner)),
                    np.where(kind == "special_education", rng.integers(30, 200, len(owner)), rng.integers(150, 1900, len(owner))))
    size = np.where(np.isin(owner, campus), rng.integers(60, 400, len(owner)), size)
    classes = np.maximum(1, np.ceil(size / rng.uniform(30, 44, len(owner)))).astype(int)
    largest = np.minimum(size, np.ceil(size / classes) + rng.integers(0, 6, len(owner))).astype(int)
    level = rng.lognormal(0.15, 0.22, len(owner))  # resource level around 1.16 × threshold
    threshold_r1 = np.where(stage == "junior", 5.3, 4.2)
    teachers_above = np.round(level * threshold_r1 * size / 100 * rng.uniform(0.9, 1.1, len(owner))).astype(int)
    teachers = teachers_above + rng.integers(0, 6, len(owner))
    key = np.minimum(teachers, np.round(level * size / 100 * rng.uniform(0.8, 1.4, len(owner)))).astype(int)
    pe_arts = np.minimum(teachers, np.round(level * 0.9 * size / 100 * rng.uniform(0.85, 1.3, len(owner)))).astype(int)
    certified = teachers - (rng.random(len(owner)) < 0.03)
    sections = pd.DataFrame({
        "school_id": school_id[owner], "stage": stage, "students": size, "classes": classes,
        "teachers": teachers, "teachers_above_degree": teachers_above, "key_teachers": key,
        "pe_arts_teachers": pe_arts, "certified_teachers": np.maximum(certified, 0), "largest_class": largest,
    })

    # Facilities: one row per school (not special-education / vocational).
    with_fac = ~np.isin(school_type, ["special_education", "vocational"])
    pupils = np.bincount(owner, weights=size, minlength=n_schools)
    level_s = rng.lognormal(0.15, 0.2, n_schools)
    idx = np.flatnonzero(with_fac)
    indoor = np.round(pupils * rng.uniform(0, 0.6, n_schools), 1)
    facilities = pd.DataFrame({
        "school_id": school_id[idx],
        "teaching_aux_area_m2": np.round(pupils * 5.0 * level_s + indoor, 1)[idx],
        "indoor_sports_area_m2": indoor[idx],
        "outdoor_sports_area_m2": np.round(pupils * 8.5 * rng.lognormal(0.1, 0.25, n_schools), 1)[idx],
        "equipment_value_yuan": np.round(pupils * 2200 * rng.lognormal(0.1, 0.25, n_schools), -2)[idx],
        "multimedia_classrooms": np.ceil(pupils * 0.025 * level_s)[idx].astype(int),
        "music_rooms": np.maximum(1, np.ceil(pupils / 500))[idx].astype(int),
        "art_rooms": np.maximum(1, np.ceil(pupils / 520))[idx].astype(int),
        "smallest_music_room_m2": np.round(rng.uniform(88, 120, n_schools), 1)[idx],
        "smallest_art_room_m2": np.round(rng.uniform(85, 115, n_schools), 1)[idx],
        "labour_rooms": rng.integers(0, 3, n_schools)[idx],
    })
    tables = {"schools": schools, "sections": sections, "facilities": facilities}
    if core_only:
        return tables
    return tables | _optional(rng, schools, sections, pupils, np.unique(district_id))


def _optional(rng: np.random.Generator, schools: pd.DataFrame, sections: pd.DataFrame, pupils: np.ndarray,
              districts: np.ndarray) -> dict[str, pd.DataFrame]:
    n = len(schools)
    public = np.round(pupils * rng.uniform(900, 1400, n), -2)
    finance = pd.DataFrame({"school_id": schools["school_id"], "public_funds_yuan": public,
                            "training_funds_yuan": np.round(public * rng.uniform(0.035, 0.08, n), -2)})
    staff = np.maximum(1, np.round(pupils / rng.uniform(10, 16, n))).astype(int)
    training = pd.DataFrame({"school_id": schools["school_id"], "staff": staff,
                             "district_trained": np.round(staff * rng.uniform(0.3, 0.9, n)).astype(int)})
    quality = sections[sections["stage"].isin(["primary", "junior"]) & (sections["students"] >= 30)]
    quality = quality.loc[quality.index.repeat(len(SUBJECTS)), ["school_id", "stage"]].reset_index(drop=True)
    m = len(quality)
    quality["subject"] = np.tile(np.array(SUBJECTS, dtype=object), m // len(SUBJECTS))
    quality["students_tested"] = rng.integers(20, 60, m)
    quality["level3_percent"] = np.round(rng.uniform(70, 98, m), 1)
    quality["mean_score"] = np.round(rng.normal(510, 25, m), 1)
    quality["score_sd"] = np.round(rng.uniform(70, 95, m), 1)
    k = len(districts)

    def per_district(template: pd.DataFrame) -> pd.DataFrame:
        rows = template.loc[np.tile(template.index, k)].reset_index(drop=True)
        rows.insert(0, "district_id", np.repeat(districts, len(template)))
        return rows

    district = per_district(_template("district"))
    numeric = pd.to_numeric(district["value"], errors="coerce")
    jitter = rng.uniform(0.97, 1.0, len(district))
    percent = district["item"].str.endswith("_percent")
    district["value"] = np.where(percent, np.round(np.minimum(numeric * jitter, 100), 1), numeric)
    evidence = per_district(_template("evidence"))
    group = rng.choice(np.array(GROUPS, dtype=object), k * SURVEY_PER_DISTRICT)
    survey = pd.DataFrame({
        "district_id": np.repeat(districts, SURVEY_PER_DISTRICT),
        "respondent_id": _ids("R", np.arange(k * SURVEY_PER_DISTRICT), 8),
        "group": group,
        "satisfied": np.where(rng.random(k * SURVEY_PER_DISTRICT) < 0.93, "true", "false"),
    })
    return {"finance": finance, "staff_training": training, "quality": quality, "district": district,
            "evidence": evidence, "survey": survey}


def _template(name: str) -> pd.DataFrame:
    return pd.read_csv(SAMPLE / f"{name}.csv", comment="#", dtype=str, keep_default_na=False)


def write(tables: dict[str, pd.DataFrame], folder: Path) -> Path:
    """Write each table as ``<name>.csv`` into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        frame.to_csv(folder / f"{name}.csv", index=False)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sections", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--core-only", action="store_true", help="only schools, sections, facilities")
    parser.add_argument("--school-ids", choices=["short", "code"], default="short",
                        help="short: S0000001; code: 10-digit ids like a 学校标识码")
    args = parser.parse_args()
    tables = make_national(args.sections, args.seed, args.core_only, args.school_ids)
    write(tables, args.out)
    print(f"{args.out}: {len(tables['sections'])} sections, {tables['schools']['district_id'].nunique()} districts")


if __name__ == "__main__":
    main()
