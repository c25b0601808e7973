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
# Scope of an evaluation item or target (district-wide, or judged school by school).
SCOPES: dict[str, str] = {"district": "全区", "school": "各校"}
BOOLEANS: dict[str, bool] = {
    "true": True, "false": False, "yes": True, "no": False, "1": True, "0": False,
    "是": True, "否": False, "y": True, "n": False,
}

#: Largest value accepted in a count column (pupils, classes, rooms, years ...).
MAX_COUNT = 1_000_000_000
#: Largest value accepted in an amount column (元, m², %, ...): far above any real school or
#: district figure, and small enough that sums and products stay exact enough in float64.
MAX_AMOUNT = 1e12

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


#: Optional district key of a dataset holding many districts (a province or the
#: country): in ``schools`` and in the per-district tables (district, evidence,
#: survey). Absent: the period is one district.
DISTRICT_ID = Column("district_id", "区县代码", "id", required=False, aliases=("区县编码", "行政区划代码"))
DISTRICT_NAME = Column("district_name", "区县名称", "text", required=False)

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
        DISTRICT_ID,
        DISTRICT_NAME,
        # Beichen plan §三(三)11: 学区化办学全覆盖; 帮扶 of rural and relatively weak schools.
        Column("school_cluster", "所属学区", "text", required=False, aliases=("学区",)),
        Column("weak_school", "相对薄弱学校", "bool", required=False),
        Column("partner_school_id", "结对帮扶学校代码", "id", required=False, aliases=("帮扶学校代码",)),
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
        # Beichen plan §三(一)4–5: multimedia in every indoor teaching space; broadband and full wireless coverage.
        Column("indoor_teaching_spaces", "室内教学场所数", "count", required=False, unit="间"),
        Column("multimedia_teaching_spaces", "已配备多媒体的室内教学场所数", "count", required=False, unit="间"),
        Column("broadband", "高速宽带接入", "bool", required=False),
        Column("wireless_full_coverage", "无线网络全覆盖", "bool", required=False),
    ),
)

# Accepted alternative for equipment value, reported in 万元 by the statistics.
EQUIPMENT_WAN = Column("equipment_value_wan", "教学仪器设备值（万元）", "amount", unit="万元")

CORE_TABLES: tuple[Table, ...] = (SCHOOLS, SECTIONS, FACILITIES)

# ---------------------------------------------------------------------------
# Optional tables for the whole evaluation (government guarantee, education
# quality, social recognition, vetoes). A period without one still loads; the
# evaluation then reports the items that need it as lacking evidence.
# ---------------------------------------------------------------------------

SURVEY_GROUPS: dict[str, str] = {
    "students": "学生",
    "parents": "家长",
    "teachers": "教师",
    "principals": "校长",
    "party_deputies": "党代表",
    "deputies": "人大代表",
    "cppcc": "政协委员",
    "residents": "社会人士",
}
#: Scale of the satisfaction score (the cut-off for "satisfied" is in the standard).
SURVEY_SCORE_RANGE: tuple[int, int] = (1, 5)
EVIDENCE_STATUSES: dict[str, str] = {"met": "达标", "not_met": "未达标", "pending": "待定"}

#: Item ids of the 2017 method that the evidence table may refer to: resource
#: summaries, government guarantee G1–G15, quality Q1–Q9, satisfaction S1, vetoes V1–V7.
ITEM_IDS: tuple[str, ...] = (
    "RS", "RC",
    *(f"G{i}" for i in range(1, 16)),
    *(f"Q{i}" for i in range(1, 10)),
    "S1",
    *(f"V{i}" for i in range(1, 8)),
)


@dataclass(frozen=True)
class DistrictItem:
    """One district-level figure of the ``district`` table.

    ``kind`` is ``"percent"`` (0–100), ``"count"`` (whole number) or
    ``"amount"`` (non-negative real). ``yearly`` items are given once per
    budget year, in consecutive years; every other item at most once.
    """

    code: str
    zh: str
    unit: str
    kind: str
    yearly: bool = False


DISTRICT_ITEMS: dict[str, DistrictItem] = {
    item.code: item
    for item in (
        DistrictItem("public_fund_quota_primary_yuan", "小学生均公用经费基准定额", "元/生·年", "amount"),
        DistrictItem("public_fund_quota_junior_yuan", "初中生均公用经费基准定额", "元/生·年", "amount"),
        DistrictItem("special_ed_funds_per_student_yuan", "特殊教育学校生均公用经费", "元/生·年", "amount"),
        DistrictItem("teacher_avg_pay_yuan", "义务教育学校教师年平均工资收入", "元", "amount"),
        DistrictItem("civil_servant_avg_pay_yuan", "当地公务员年平均工资收入", "元", "amount"),
        DistrictItem("performance_pay_approved_percent", "教师绩效工资总量核定到位比例", "%", "percent"),
        DistrictItem("training_360h_completion_percent", "教师5年360学时培训完成率", "%", "percent"),
        DistrictItem("new_teacher_72h_completion_percent", "入职不足5年教师每年72学时培训完成率", "%", "percent"),
        DistrictItem("rotation_eligible_teachers", "符合交流轮岗条件教师数", "人", "count"),
        DistrictItem("rotation_rotated_teachers", "交流轮岗教师数", "人", "count"),
        DistrictItem("rotation_key_teachers", "交流轮岗教师中骨干教师数", "人", "count"),
        DistrictItem("zoned_enrolment_primary_percent", "公办小学就近划片入学比例", "%", "percent"),
        DistrictItem("zoned_enrolment_junior_percent", "公办初中就近划片入学比例", "%", "percent"),
        DistrictItem("quota_allocation_percent", "优质高中招生名额分配比例", "%", "percent"),
        DistrictItem("migrant_public_percent", "符合条件随迁子女在公办学校和政府购买服务民办学校就读比例", "%", "percent"),
        DistrictItem("retention_grade7_enrolment", "三年前初一入学人数", "人", "count"),
        DistrictItem("retention_deaths", "三年内死亡学生数", "人", "count"),
        DistrictItem("retention_graduates", "初三毕业年级在校生数", "人", "count"),
        DistrictItem("retention_transfers_in", "三年内转入学生数", "人", "count"),
        DistrictItem("retention_transfers_out", "三年内转出学生数", "人", "count"),
        DistrictItem("disabled_school_age", "适龄残疾儿童少年数", "人", "count"),
        DistrictItem("disabled_enrolled", "适龄残疾儿童少年入学人数", "人", "count"),
        DistrictItem("education_budget_total_wan", "一般公共预算教育支出", "万元", "amount", yearly=True),
        DistrictItem("education_budget_per_student_yuan", "按在校学生人数平均的一般公共预算教育支出", "元/生", "amount", yearly=True),
        DistrictItem("fitness_pass_percent", "学生体质健康合格率", "%", "percent"),
        DistrictItem("ict_research_percent", "承担或参与区级信息化课题研究（或发表、获奖）教师比例", "%", "percent"),
        DistrictItem("places_added_primary", "方案实施以来累计新增小学学位数", "个", "count"),
        DistrictItem("places_added_junior", "方案实施以来累计新增初中学位数", "个", "count"),
        DistrictItem("teaching_area_added_primary_m2", "方案实施以来累计新增小学教学及辅助用房面积", "m²", "amount"),
        DistrictItem("teaching_area_added_junior_m2", "方案实施以来累计新增初中教学及辅助用房面积", "m²", "amount"),
        DistrictItem("sports_area_added_primary_m2", "方案实施以来累计新建小学体育运动场馆面积", "m²", "amount"),
        DistrictItem("sports_area_added_junior_m2", "方案实施以来累计新建初中体育运动场馆面积", "m²", "amount"),
        DistrictItem("c_grade_renovated_m2", "累计完成提升改造C级校舍面积", "m²", "amount"),
        DistrictItem("ict_training_sessions_district", "本学年区级组织教育信息化培训次数", "次", "count"),
        # The schools' own totals on the plan's baseline date, to cross-check the added figures above.
        DistrictItem("teaching_area_baseline_primary_m2", "基准日各校小学教学及辅助用房面积合计（不含室内体育用房）", "m²", "amount"),
        DistrictItem("teaching_area_baseline_junior_m2", "基准日各校初中教学及辅助用房面积合计（不含室内体育用房）", "m²", "amount"),
        DistrictItem("sports_area_baseline_primary_m2", "基准日各校小学体育运动场馆面积合计", "m²", "amount"),
        DistrictItem("sports_area_baseline_junior_m2", "基准日各校初中体育运动场馆面积合计", "m²", "amount"),
    )
}

CLASSES = Table(
    name="classes",
    zh="班级",
    key=("school_id", "stage", "class_id"),
    required=False,
    description="One row per class: every class is checked against the class-size limit. "
    "A section that has class rows must list all of them (count = sections.classes, "
    "students add up to sections.students).",
    columns=(
        Column("school_id", "学校代码", "id", aliases=("学校标识码",)),
        Column("stage", "学段", "category", choices=STAGES),
        Column("class_id", "班级编号", "id", aliases=("班级",)),
        Column("students", "班级人数", "count", unit="人", aliases=("班额",)),
    ),
)

FINANCE = Table(
    name="finance",
    zh="学校经费",
    key=("school_id",),
    required=False,
    description="One row per school: this year's public-fund budget and the part set aside for teacher training.",
    columns=(
        Column("school_id", "学校代码", "id", aliases=("学校标识码",)),
        Column("public_funds_yuan", "年度公用经费预算总额", "amount", unit="元", aliases=("公用经费",)),
        Column("training_funds_yuan", "教师培训经费", "amount", unit="元"),
    ),
)

STAFF_TRAINING = Table(
    name="staff_training",
    zh="教职工培训",
    key=("school_id",),
    required=False,
    description="One row per school: staff and how many of them took district-level (or higher) training this year; "
    "optionally the school's ICT training sessions in the last complete term and the staff who met the training "
    "requirement within the last three years.",
    columns=(
        Column("school_id", "学校代码", "id", aliases=("学校标识码",)),
        Column("staff", "教职工数", "count", unit="人"),
        Column("district_trained", "参加区级及以上培训教职工数", "count", unit="人"),
        # Beichen plan §三(二)7: ICT training each term; everyone trained within three years.
        Column("ict_sessions_last_term", "最近一学期校级教育信息化培训次数", "count", required=False, unit="次"),
        Column("trained_within_3y", "近三年达到培训结业要求的教职工数", "count", required=False, unit="人"),
    ),
)

DISTRICT = Table(
    name="district",
    zh="区级指标",
    key=("district_id", "item", "year"),
    required=False,
    description="One row per district-level figure (one per year for yearly items such as the budget).",
    columns=(
        DISTRICT_ID,
        Column("item", "指标代码", "category", choices={c: i.zh for c, i in DISTRICT_ITEMS.items()}, aliases=("指标",)),
        Column("year", "年度", "count", required=False),
        Column("value", "数值", "amount"),
        Column("reference", "数据来源", "text", required=False),
    ),
)

EVIDENCE = Table(
    name="evidence",
    zh="佐证材料",
    key=("district_id", "item_id", "reference"),
    required=False,
    description="One row per evidence document of an item judged on evidence (G1, G2, G10, Q3, Q5–Q8, "
    "the veto items, and the documented part of G14 and G15); for a veto item 'met' means the vetoed situation does not exist.",
    columns=(
        DISTRICT_ID,
        Column("item_id", "评估项目编号", "id", aliases=("指标编号",)),
        Column("status", "状态", "category", choices=EVIDENCE_STATUSES),
        Column("reference", "佐证材料", "text", required=False, aliases=("佐证材料名称或链接",)),
        Column("reviewer", "审核人", "text", required=False),
        Column("date", "审核日期", "text", required=False, unit="YYYY-MM-DD"),
        Column("note", "备注", "text", required=False),
    ),
)

SURVEY = Table(
    name="survey",
    zh="满意度调查",
    key=("respondent_id",),
    required=False,
    description="One row per respondent: a yes/no answer or a 1–5 score (never both).",
    columns=(
        DISTRICT_ID,
        Column("respondent_id", "问卷编号", "id"),
        Column("group", "调查对象", "category", choices=SURVEY_GROUPS, aliases=("群体",)),
        Column("school_id", "学校代码", "id", required=False, aliases=("学校标识码",)),
        Column("satisfied", "是否满意", "bool", required=False),
        Column("score", "满意度评分", "count", required=False, unit="1–5"),
    ),
)

QUALITY = Table(
    name="quality",
    zh="质量监测",
    key=("school_id", "stage", "subject"),
    required=False,
    description="One row per school x stage x subject of the national quality monitoring.",
    columns=(
        Column("school_id", "学校代码", "id", aliases=("学校标识码",)),
        Column("stage", "学段", "category", choices=STAGES),
        Column("subject", "学科", "text"),
        Column("students_tested", "测试学生数", "count", unit="人"),
        Column("level3_percent", "Ⅲ级及以上学生比例", "amount", unit="%", aliases=("III级及以上学生比例",)),
        Column("mean_score", "平均分", "amount", unit="分"),
        Column("score_sd", "标准差", "amount", required=False, unit="分"),
    ),
)

OPTIONAL_TABLES: tuple[Table, ...] = (CLASSES, FINANCE, STAFF_TRAINING, DISTRICT, EVIDENCE, SURVEY, QUALITY)
TABLES: dict[str, Table] = {t.name: t for t in (*CORE_TABLES, *OPTIONAL_TABLES)}


def table_aliases(table: Table) -> tuple[str, ...]:
    """File or sheet names accepted for ``table``."""
    return (table.name, table.zh)
