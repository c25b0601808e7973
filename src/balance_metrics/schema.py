"""The input data contract: tables, columns, types and official Chinese names.

This module is the single place that knows how a period's tables look. Headers
may be the canonical English names or the official Chinese names listed here;
category values may be the English codes or their Chinese labels. See
``docs/data-contract.md`` for the prose version.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Category code -> official Chinese label. Order is the natural reporting order.
SCHOOL_TYPES: dict[str, str] = {
    "primary": "小学",
    "junior": "初中",
    "nine_year": "九年一贯制",
    "twelve_year": "十二年一贯制",
    "complete_secondary": "完全中学",
    "teaching_point": "教学点",
    "special_education": "特殊教育学校",
    "vocational": "职业学校",
}
AREA_TYPES: dict[str, str] = {"urban": "城区", "town": "镇区", "rural": "乡村"}
OWNERSHIPS: dict[str, str] = {"public": "公办", "private": "民办"}
STAGES: dict[str, str] = {"primary": "小学", "junior": "初中", "senior": "高中"}
BOOLEANS: dict[str, bool] = {
    "true": True, "false": False, "yes": True, "no": False, "1": True, "0": False,
    "是": True, "否": False, "y": True, "n": False,
}

# Stages each school type must report (a combined school missing one is an error).
STAGES_BY_SCHOOL_TYPE: dict[str, tuple[str, ...]] = {
    "primary": ("primary",),
    "junior": ("junior",),
    "nine_year": ("primary", "junior"),
    "twelve_year": ("primary", "junior", "senior"),
    "complete_secondary": ("junior", "senior"),
    "teaching_point": ("primary",),
    "special_education": (),
    "vocational": (),
}


@dataclass(frozen=True)
class Column:
    """One column of an input table.

    ``kind`` is one of ``"id"`` (text key), ``"text"``, ``"count"`` (non-negative
    integer), ``"amount"`` (non-negative real), ``"bool"`` or ``"category"``.
    """

    name: str
    zh: str
    kind: str
    required: bool = True
    choices: dict[str, str] | None = None
    aliases: tuple[str, ...] = ()
    unit: str = ""

    @property
    def headers(self) -> tuple[str, ...]:
        """Every header text accepted for this column."""
        return (self.name, self.zh, *self.aliases)


@dataclass(frozen=True)
class Table:
    """An input table: its columns and the columns that identify a row."""

    name: str
    zh: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    required: bool = True
    description: str = ""
    # A whole column renamed on load, with a unit factor (e.g. 万元 -> 元).
    converted: dict[str, tuple[str, float]] = field(default_factory=dict)

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


SCHOOLS = Table(
    name="schools",
    zh="学校",
    key=("school_id",),
    description="One row per school or campus.",
    columns=(
        Column("school_id", "学校代码", "id", aliases=("学校标识码",)),
        Column("school_name", "学校名称", "text"),
        Column("school_type", "办学类型", "category", choices=SCHOOL_TYPES, aliases=("学校类型",)),
        Column("area_type", "城乡分类", "category", choices=AREA_TYPES, aliases=("城乡类型",)),
        Column("ownership", "举办者", "category", choices=OWNERSHIPS, aliases=("办学性质",)),
        Column("boarding", "是否寄宿制", "bool", aliases=("寄宿制",)),
        Column("parent_school_id", "所属学校代码", "id", required=False, aliases=("不计校数所属学校",)),
        Column("year_built", "建校年份", "count", required=False),
    ),
)

SECTIONS = Table(
    name="sections",
    zh="学段",
    key=("school_id", "stage"),
    description="One row per school x stage (primary / junior / senior).",
    columns=(
        Column("school_id", "学校代码", "id", aliases=("学校标识码",)),
        Column("stage", "学段", "category", choices=STAGES),
        Column("students", "在校生数", "count", unit="人"),
        Column("classes", "班数", "count", unit="个"),
        Column("teachers", "专任教师数", "count", unit="人"),
        Column("teachers_above_degree", "高于规定学历教师数", "count", unit="人"),
        Column("key_teachers", "县级及以上骨干教师数", "count", unit="人", aliases=("骨干教师数",)),
        Column("pe_arts_teachers", "体育艺术专任教师数", "count", unit="人", aliases=("体育、艺术（美术、音乐）专任教师数",)),
        Column("certified_teachers", "具有教师资格证教师数", "count", unit="人"),
        Column("largest_class", "最大班额", "count", unit="人"),
    ),
)

FACILITIES = Table(
    name="facilities",
    zh="办学条件",
    key=("school_id",),
    description="One row per school: whole-school facility totals.",
    converted={"equipment_value_wan": ("equipment_value_yuan", 10_000.0)},
    columns=(
        Column("school_id", "学校代码", "id", aliases=("学校标识码",)),
        Column("teaching_aux_area_m2", "教学及辅助用房面积", "amount", unit="m²"),
        Column("indoor_sports_area_m2", "室内体育用房面积", "amount", unit="m²"),
        Column("outdoor_sports_area_m2", "室外体育运动场地面积", "amount", unit="m²", aliases=("体育运动场地面积",)),
        Column("equipment_value_yuan", "教学仪器设备值（元）", "amount", unit="元", aliases=("教学仪器设备值",)),
        Column("multimedia_classrooms", "网络多媒体教室数", "count", unit="间"),
        Column("music_rooms", "音乐专用教室数", "count", unit="间"),
        Column("art_rooms", "美术专用教室数", "count", unit="间"),
        Column("smallest_music_room_m2", "最小音乐教室面积", "amount", unit="m²"),
        Column("smallest_art_room_m2", "最小美术教室面积", "amount", unit="m²"),
        Column("labour_rooms", "劳动实践教室数", "count", required=False, unit="间"),
    ),
)

# Accepted alternative for equipment value, reported in 万元 by the statistics.
EQUIPMENT_WAN = Column("equipment_value_wan", "教学仪器设备值（万元）", "amount", unit="万元")

CORE_TABLES: tuple[Table, ...] = (SCHOOLS, SECTIONS, FACILITIES)
TABLES: dict[str, Table] = {t.name: t for t in CORE_TABLES}


def table_aliases(table: Table) -> tuple[str, ...]:
    """File or sheet names accepted for ``table``."""
    return (table.name, table.zh)
