"""Shared fixtures: a small hand-made district written as CSV files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "raw"


def small_district() -> dict[str, pd.DataFrame]:
    """A valid 8-school district small enough to check by hand.

    P1–P3 primary, J1 junior, N1 nine-year (166 primary + 210 junior, as in
    STANDARD.md E2), C1 a 不计校数 campus of P1, T1 a teaching point under 50
    students, S1 a special-education school.
    """
    schools = pd.DataFrame(
        [
            ("P1", "东风小学", "primary", "urban", "public", "false", ""),
            ("P2", "西河小学", "primary", "town", "public", "false", ""),
            ("P3", "南苑小学", "primary", "rural", "private", "false", ""),
            ("J1", "北辰初中", "junior", "urban", "public", "false", ""),
            ("N1", "运河学校", "nine_year", "rural", "public", "true", ""),
            ("C1", "东风小学分校", "primary", "urban", "public", "false", "P1"),
            ("T1", "李庄教学点", "teaching_point", "rural", "public", "false", ""),
            ("S1", "启智学校", "special_education", "urban", "public", "false", ""),
        ],
        columns=["school_id", "school_name", "school_type", "area_type", "ownership", "boarding", "parent_school_id"],
    )
    sections = pd.DataFrame(
        [
            # school, stage, students, classes, teachers, above_degree, key, pe_arts, certified, largest
            ("P1", "primary", 900, 20, 60, 50, 10, 9, 60, 45),
            ("P2", "primary", 400, 10, 30, 20, 4, 4, 30, 42),
            ("P3", "primary", 300, 8, 20, 12, 2, 3, 20, 40),
            ("J1", "junior", 600, 14, 55, 40, 7, 6, 55, 48),
            ("N1", "primary", 166, 6, 14, 9, 2, 2, 14, 30),
            ("N1", "junior", 210, 6, 20, 14, 3, 2, 20, 38),
            ("C1", "primary", 100, 4, 8, 6, 1, 1, 8, 28),
            ("T1", "primary", 30, 3, 4, 2, 0, 0, 4, 12),
            ("S1", "primary", 80, 10, 20, 15, 2, 2, 20, 10),
        ],
        columns=[
            "school_id", "stage", "students", "classes", "teachers", "teachers_above_degree",
            "key_teachers", "pe_arts_teachers", "certified_teachers", "largest_class",
        ],
    )
    facilities = pd.DataFrame(
        [
            # school, teaching_aux, indoor_sports, outdoor_sports, equipment_yuan, multimedia, music, art, min music, min art
            ("P1", 5200.0, 400.0, 7000.0, 2_100_000.0, 23, 2, 2, 96.0, 90.0),
            ("P2", 2000.0, 0.0, 3100.0, 850_000.0, 10, 1, 1, 96.0, 90.0),
            ("P3", 1200.0, 0.0, 2000.0, 500_000.0, 6, 1, 1, 80.0, 90.0),
            ("J1", 3700.0, 300.0, 6500.0, 1_600_000.0, 15, 1, 1, 100.0, 95.0),
            ("N1", 23226.0, 0.0, 4000.0, 900_000.0, 9, 1, 1, 96.0, 90.0),
            ("C1", 500.0, 0.0, 600.0, 200_000.0, 2, 0, 0, 0.0, 0.0),
            ("T1", 200.0, 0.0, 300.0, 40_000.0, 1, 0, 0, 0.0, 0.0),
        ],
        columns=[
            "school_id", "teaching_aux_area_m2", "indoor_sports_area_m2", "outdoor_sports_area_m2",
            "equipment_value_yuan", "multimedia_classrooms", "music_rooms", "art_rooms",
            "smallest_music_room_m2", "smallest_art_room_m2",
        ],
    )
    return {"schools": schools, "sections": sections, "facilities": facilities}


def write_period(folder: Path, tables: dict[str, pd.DataFrame]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        frame.to_csv(folder / f"{name}.csv", index=False)
    return folder


@pytest.fixture
def district_dir(tmp_path: Path) -> Path:
    return write_period(tmp_path / "2022Q4", small_district())
