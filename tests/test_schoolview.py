"""The coded :func:`~balance_metrics.engine.schoolview.schools_view` (integer school
codes, ``np.bincount``) gives the context's schools table exactly as the plain
pandas version (string keys, groupby / pivot / join) kept here as the reference."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from balance_metrics import evaluate_resources, load_period
from balance_metrics.contract.dataset import Dataset
from balance_metrics.engine.schoolview import SCHOOL_ATTRIBUTES, owner_of
from balance_metrics.evaluation.context import build_context
from balance_metrics.standard.loader import Standard, load_standard

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

_ROOM_COUNTS = ("music_rooms", "art_rooms", "labour_rooms")
_ROOM_SIZES = {"smallest_music_room_m2": "music_rooms", "smallest_art_room_m2": "art_rooms"}
_OPTIONAL = {"finance": ("public_funds_yuan", "training_funds_yuan"), "staff_training": ("staff", "district_trained")}
_COUNTS = ("teachers", "key_teachers", "certified_teachers", "all_students")


def plain_schools(dataset: Dataset, standard: Standard, ids: np.ndarray) -> pd.DataFrame:
    """The context's schools table with string keys (the implementation before the codes)."""
    owner = owner_of(dataset, standard)
    schools = dataset.schools[dataset.schools["school_id"].map(owner) == dataset.schools["school_id"]]
    view = schools.set_index("school_id")[SCHOOL_ATTRIBUTES].copy()
    campuses = dataset.schools[dataset.schools["school_id"].map(owner) != dataset.schools["school_id"]]
    view["campuses"] = campuses.groupby(campuses["school_id"].map(owner))["school_id"].agg(lambda s: ",".join(sorted(s)))
    view["campuses"] = view["campuses"].fillna("")
    sections = dataset.sections.assign(owner=dataset.sections["school_id"].map(owner))
    by_stage = sections.pivot_table(index="owner", columns="stage", values=["students", "classes"], aggfunc="sum", fill_value=0)
    by_stage.columns = [f"{value}_{stage}" for value, stage in by_stage.columns]
    compulsory = sections[sections["stage"].isin(standard.stages)]
    sums = compulsory.groupby("owner")[["students", "classes", "teachers", "key_teachers", "certified_teachers"]].sum()
    totals = by_stage.join(sums, how="outer").fillna(0)
    totals["all_students"] = sections.groupby("owner")["students"].sum()
    for stage in ("primary", "junior", "senior"):
        for value in ("students", "classes"):
            if f"{value}_{stage}" not in totals:
                totals[f"{value}_{stage}"] = 0
    view = view.join(totals.astype("int64"))
    fac = dataset.facilities.assign(owner=dataset.facilities["school_id"].map(owner))
    rooms = fac.groupby("owner")[list(_ROOM_COUNTS)].sum(min_count=1)
    for size, count in _ROOM_SIZES.items():
        rooms[size] = fac[(fac[count] > 0).fillna(False)].groupby("owner")[size].min()
    view = view.join(rooms)
    for table, columns in _OPTIONAL.items():
        frame = dataset.table(table)
        if frame is None:
            amounts = pd.DataFrame({**{c: pd.Series(dtype=float) for c in columns}, f"has_{table}": pd.Series(dtype=bool)})
        else:
            amounts = frame.assign(owner=frame["school_id"].map(owner)).groupby("owner")[list(columns)].sum(min_count=1).astype(float)
            amounts[f"has_{table}"] = True
        view = view.join(amounts)
        view[f"has_{table}"] = view[f"has_{table}"].astype("boolean").fillna(False).astype(bool)
    schools = view.reset_index()
    district_of = dataset.schools.set_index("school_id")
    key = (schools["school_id"].map(district_of["district_id"].astype(object)).to_numpy(object)
           if "district_id" in district_of.columns else np.full(len(schools), "", dtype=object))
    schools.insert(0, "district_id", key)
    counts = [c for c in schools.columns if c.split("_")[0] in ("students", "classes") or c in _COUNTS]
    schools[counts] = schools[counts].fillna(0).astype("int64")
    for column in ("school_id", "school_name"):
        schools[column] = schools[column].astype(str).astype(object)
    schools["_district"] = pd.Index(ids).get_indexer(key)
    return schools


def assert_same_schools(dataset: Dataset, standard: str, resources: object = None) -> None:
    std = load_standard(standard)
    ids = dataset.districts()["district_id"].to_numpy(object) if dataset.multi_district else np.array([""], dtype=object)
    coded = build_context(dataset, std, resources=resources, ids=ids).schools
    plain = plain_schools(dataset, std, ids)
    # The column order of the plain version (stages as its pivot sorts them) is kept too.
    pd.testing.assert_frame_equal(coded, plain[coded.columns], check_dtype=True)
    assert list(coded.columns) == list(plain.columns)


@pytest.mark.parametrize("standard", ["national-2017", "beichen-2021"])
def test_sample_district(standard):
    assert_same_schools(load_period(ROOT / "data" / "raw" / "2022Q4"), standard)


def _generated(tmp_path: Path, seed: int, edit=None) -> Dataset:
    from national import make_national, write

    tables = make_national(300, seed=seed)
    if edit is not None:
        edit(tables)
    write(tables, tmp_path)
    return load_period(tmp_path)


@pytest.mark.parametrize("standard", ["national-2017", "beichen-2021"])
def test_generated_districts(tmp_path, standard):
    """Campuses (merged by the national standard), schools without sections or facilities."""
    assert_same_schools(_generated(tmp_path, 3), standard)


def test_missing_values_and_tables(tmp_path):
    """Beyond what validation lets through, as the rules might still meet it: room
    counts and sizes missing, pupils missing, no senior stage anywhere, no
    finance table, facilities and sections of a school not in the schools table."""
    dataset = _generated(tmp_path, 5)
    fac, sec = dataset.facilities.copy(), dataset.sections.copy()
    fac.loc[fac.index[::3], "music_rooms"] = pd.NA
    fac.loc[fac.index[1::4], "smallest_art_room_m2"] = pd.NA
    fac.loc[fac.index[2::5], "art_rooms"] = 0
    fac.loc[fac.index[4], "school_id"] = "nowhere"
    sec.loc[sec.index[::7], "students"] = pd.NA
    sec.loc[sec.index[5], "school_id"] = "nowhere"
    sec = sec[(sec["stage"] != "senior").to_numpy(bool)]
    tables = {name: frame for name, frame in dataset.tables.items() if name != "finance"}
    edited = replace(dataset, tables={**tables, "facilities": fac, "sections": sec})
    assert edited.table("finance") is None
    # (the resource engine refuses missing pupils: the schools table alone is compared)
    assert_same_schools(edited, "national-2017", resources=evaluate_resources(dataset, "national-2017"))


def test_school_codes_equal_an_index_lookup():
    """One hash of run heads = looking every id up in the schools' index (unsorted
    tables, runs, ids not in schools, missing ids, campuses with unknown parents)."""
    from types import SimpleNamespace

    from balance_metrics.engine.schoolview import school_codes

    rng = np.random.default_rng(4)
    for _ in range(100):
        n = int(rng.integers(1, 12))
        ids = np.array([f"s{i}" for i in rng.permutation(20)[:n]], dtype=object)
        pool = np.concatenate([ids, np.array(["x1", "x2", None], dtype=object)])
        parent = np.where(rng.random(n) < 0.3, rng.choice(pool, n), None)
        schools = pd.DataFrame({"school_id": pd.array(ids, dtype="string"), "parent_school_id": pd.array(parent, dtype="string")})
        rows = pd.DataFrame({"school_id": pd.array(np.repeat(rng.choice(pool, 15), rng.integers(1, 3, 15)), dtype="string")})
        dataset = SimpleNamespace(schools=schools, table=lambda name: rows if name == "sections" else None)
        codes = school_codes(dataset, ("sections", "finance"))
        index = pd.Index(ids)
        assert codes["sections"].tolist() == index.get_indexer(rows["school_id"].to_numpy(object)).tolist()
        expected = np.where(pd.isna(parent), -1, index.get_indexer(np.where(pd.isna(parent), "", parent).astype(object)))
        assert codes["parent"].tolist() == expected.tolist()
        assert "finance" not in codes


def test_school_codes_refuse_a_school_twice():
    from types import SimpleNamespace

    from balance_metrics.engine.schoolview import school_codes

    schools = pd.DataFrame({"school_id": pd.array(["a", "b", "a"], dtype="string")})
    with pytest.raises(ValueError, match="more than once"):
        school_codes(SimpleNamespace(schools=schools, table=lambda name: None), ())
