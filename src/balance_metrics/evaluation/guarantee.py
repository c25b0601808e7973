"""Government guarantee (政府保障程度) items G3–G15 that are computed from data.

G1, G2 and G10 are judged on evidence (:mod:`balance_metrics.evidence`). Every
number (room ratio, size and class limits, funding floors, percentages) comes
from the item's entry in the standard (``[items.G…]``); the rules here only
know how to measure. Units: persons (人), rooms (间), m², 元, percent (%).
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from math import floor
from typing import Any

import numpy as np
import pandas as pd

from balance_metrics.common.grouped import join_by_group

from balance_metrics.evaluation.checks import CHECK_COLUMNS, FAIL, PASS, NOT_APPLICABLE, check_frame, coded_texts, fmt, fmt_many, stack_checks
from balance_metrics.evaluation.context import Context, Rule
from balance_metrics.evaluation.ratios import Ratios
from balance_metrics.contract.schema import DISTRICT_ITEMS
from balance_metrics.engine.schoolview import in_scope, scope_mask
from balance_metrics.standard.loader import exact

#: District item holding the per-student public-fund base quota of each stage.
QUOTA_ITEMS: dict[str, str] = {
    "primary": "public_fund_quota_primary_yuan",
    "junior": "public_fund_quota_junior_yuan",
}
_ROOM_KINDS: dict[str, str] = {"music": "音乐专用教室", "art": "美术专用教室"}


def _school_columns(schools: pd.DataFrame) -> dict[str, np.ndarray]:
    return {"district": schools["_district"].to_numpy(np.int64), "school_id": schools["school_id"].astype(str).to_numpy(object),
            "school_name": schools["school_name"].astype(str).to_numpy(object)}


def _float_column(frame: pd.DataFrame, column: str) -> np.ndarray:
    return frame[column].astype("float64").to_numpy(float, na_value=np.nan)


def district_checks(ctx: Context, item_id: str, code: str, requirement: Fraction, comparison: str = ">=") -> pd.DataFrame:
    """Check one district figure of every district (see :data:`~balance_metrics.schema.DISTRICT_ITEMS`)."""
    item = DISTRICT_ITEMS[code]
    value = ctx.figures.exact(code)
    note = np.where(value.missing, f"区级指标表未填报 {code}（{item.zh}）", "").astype(object)
    return check_frame(item_id, code, item.zh, ctx.positions, value, requirement, comparison, item.unit, note=note)


def district_minimums(ctx: Context, item_id: str, spec: Mapping[str, Any]) -> pd.DataFrame:
    """Each district figure of ``spec["minimums"]`` (item code -> minimum) must reach it."""
    frames = [district_checks(ctx, item_id, code, exact(minimum)) for code, minimum in spec["minimums"].items()]
    return stack_checks(frames, [np.arange(len(ctx.ids)) * len(frames) + k for k in range(len(frames))])


def music_art_rooms(ctx: Context, item_id: str, spec: Mapping[str, Any]) -> pd.DataFrame:
    """G3: music and art rooms per ``classes_per_room`` classes, and their sizes.

    Rooms needed = ceil(compulsory classes / classes_per_room). A school built
    before ``area_exempt_built_before`` (0 = none) is exempt from the size part.
    """
    per = int(spec["classes_per_room"])
    exempt_before = int(spec.get("area_exempt_built_before", 0))
    schools = in_scope(ctx.schools, spec)
    schools = schools[schools["classes"].to_numpy() != 0]
    n = len(schools)
    classes = schools["classes"].to_numpy(np.int64)
    needed = Ratios.whole(-(-classes // per))
    built = schools["year_built"]
    exempt = (built < exempt_before).fillna(False).to_numpy(bool) if exempt_before else np.zeros(n, dtype=bool)
    # The four checks of every school (rooms and area of each kind) as a school × part
    # table, read row by row: part = 2 × kind + (0 rooms, 1 area); an area check only
    # where the school has rooms of that kind.
    present = np.ones((n, 4), dtype=bool)
    measured, required = [], []
    for k, kind in enumerate(_ROOM_KINDS):
        count = Ratios.of(_float_column(schools, f"{kind}_rooms"))
        present[:, 2 * k + 1] = ~count.missing & ~count.is_zero()
        measured += [count, Ratios.of(_float_column(schools, f"smallest_{kind}_room_m2"))]
        required += [needed, Ratios.const(exact(spec[f"min_{kind}_room_m2"]), n)]
    kept = np.flatnonzero(present.ravel())
    at, part = kept // 4, kept % 4
    area = part % 2 == 1
    area_exempt = area & exempt[at]
    # Notes by code: the text of each class count, of each exempt building year, "".
    class_code, class_counts = pd.factorize(classes)
    class_texts = [f"{c}个班，按每{per}个班1间需{-(-c // per)}间" for c in class_counts.tolist()]  # one per class count
    built_code, years = pd.factorize(built[exempt].astype(object).to_numpy(object))
    texts = class_texts + [f"{y}年建校，面积要求不适用" for y in years.tolist()] + [""]
    built_note = np.full(n, len(texts) - 1, dtype=np.int64)
    built_note[exempt] = len(class_texts) + built_code
    note = np.where(area, np.where(area_exempt, built_note[at], len(texts) - 1), class_code[at])
    meta = [row for kind, label in _ROOM_KINDS.items() for row in ((f"{kind}_rooms", f"{label}数", "间"), (f"{kind}_room_area", f"最小{label}面积", "m²"))]
    part_id, part_name, unit = (coded_texts(part, list(column)) for column in zip(*meta))
    status = np.array(["", NOT_APPLICABLE], dtype=object)[area_exempt.astype(np.int64)]
    ids = _school_columns(schools)
    return check_frame(item_id, part_id, part_name, ids["district"][at], _interleaved(measured, kept), _interleaved(required, kept),
                       ">=", unit, school_id=ids["school_id"][at], school_name=ids["school_name"][at], status=status,
                       note=coded_texts(note, texts))


def _interleaved(columns: list[Ratios], kept: np.ndarray) -> Ratios:
    """Row r of every column in turn (r × len(columns) + k is column k's row r), at ``kept``."""
    def joined(arrays: list[np.ndarray]) -> np.ndarray:
        dtype = arrays[0].dtype if all(a.dtype == arrays[0].dtype for a in arrays) else object
        return np.stack([a.astype(dtype) for a in arrays], axis=1).reshape(-1)[kept]
    return Ratios(joined([c.num for c in columns]), joined([c.den for c in columns]), joined([c.missing for c in columns]))


def school_size(ctx: Context, item_id: str, spec: Mapping[str, Any]) -> pd.DataFrame:
    """G4: compulsory-stage pupils of a school ≤ the limit for its type (``limits``)."""
    limits = spec["limits"]
    schools = ctx.schools[ctx.schools["school_type"].isin(list(limits)).to_numpy(bool)]
    campuses = schools["campuses"].astype(object).fillna("").to_numpy(object)
    note = np.where(campuses != "", "含不计校数校区 " + campuses, "").astype(object)
    kind, kinds = pd.factorize(schools["school_type"].to_numpy(object))  # every one has a limit (kept above)
    requirement = Ratios.mapped(kinds, {t: exact(v) for t, v in limits.items()}).take(kind)
    ids = _school_columns(schools)
    return check_frame(item_id, "students", "义务教育阶段在校生数", ids["district"], Ratios.whole(schools["students"].to_numpy(np.int64)),
                       requirement, "<=", "人", school_id=ids["school_id"], school_name=ids["school_name"], note=note)


def class_size(ctx: Context, item_id: str, spec: Mapping[str, Any]) -> pd.DataFrame:
    """G5: every class ≤ ``max_class[stage]`` pupils.

    Uses the ``classes`` table where a section has class rows; otherwise the
    section's largest class (every class within the limit ⇔ the largest is).
    One check per school section: measured = its largest class. Whole-column:
    class lists are reduced per section with grouped max / count.
    """
    limits = {stage: exact(v) for stage, v in spec["max_class"].items()}
    schools, sections = ctx.dataset.schools, ctx.dataset.sections
    school = ctx.school_rows("sections")
    in_scope = np.append(scope_mask(schools, spec), False)[school]
    stage, stages = pd.factorize(sections["stage"].to_numpy(object))
    # Class sizes are whole pupils: ≤ limit ⇔ ≤ floor(limit), exactly.
    whole_limits = np.array([floor(limits[s]) if s in limits else 0 for s in stages] + [0], dtype=np.int64)
    limited = np.array([s in limits for s in stages] + [False])[stage]
    keep = in_scope & limited & (sections["students"] != 0).fillna(False).to_numpy(bool)
    sec = sections[keep].reset_index(drop=True)
    school, stage = school[keep], stage[keep]
    whole_limit = whole_limits[stage]
    largest = sec["largest_class"].to_numpy(np.int64, na_value=0)
    note = pd.Series("未提供班级名单，按最大班额判断", index=sec.index, dtype=object)
    classes = ctx.dataset.table("classes")
    if classes is not None and len(sec):
        keys = pd.MultiIndex.from_frame(sec[["school_id", "stage"]].astype(object))
        listed = classes.dropna(subset=["school_id", "stage"]).assign(stage=lambda f: f["stage"].astype(object), school_id=lambda f: f["school_id"].astype(object))
        grouped = listed.groupby(["school_id", "stage"], sort=False)["students"].agg(["size", "max"]).reindex(keys)
        has = grouped["size"].notna().to_numpy(bool)
        largest = np.where(has, grouped["max"].fillna(0).to_numpy(np.int64), largest)
        position = pd.Series(np.arange(len(sec)), index=keys)
        listed = listed.assign(_section=position.reindex(pd.MultiIndex.from_frame(listed[["school_id", "stage"]])).to_numpy())
        listed = listed[listed["_section"].notna()]
        section_of = listed["_section"].to_numpy(np.int64)
        over_mask = listed["students"].to_numpy(np.int64) > whole_limit[section_of]
        over = listed[over_mask].assign(_section=section_of[over_mask])
        # Largest first, ties as pandas' default sort orders them (as in the reports so far);
        # the sort runs per offending section only.
        over = pd.concat([g.sort_values("students", ascending=False) for _, g in over.groupby("_section", sort=True)]) if len(over) else over
        texts = over["class_id"].astype(str).to_numpy(object) + "（" + over["students"].astype(str).to_numpy(object) + "人）"
        joined = join_by_group(over["_section"].to_numpy(np.int64), texts, len(sec), sep="；")
        count_over = np.bincount(over["_section"].to_numpy(np.int64), minlength=len(sec))
        total = grouped["size"].fillna(0).to_numpy(np.int64)
        limit_text = sec["stage"].map({stage: fmt(limit, "人") for stage, limit in limits.items()}).to_numpy(object)
        listed_note = np.where(
            count_over > 0,
            "超额班级" + count_over.astype(str).astype(object) + "个（共" + total.astype(str).astype(object) + "个班）：" + joined,
            "共" + total.astype(str).astype(object) + "个班均不超过" + limit_text,
        )
        note = pd.Series(np.where(has, listed_note, note.to_numpy(object)), index=sec.index, dtype=object)
    passed = largest <= whole_limit
    requirement = np.array([float(limits[s]) if s in limits else np.nan for s in stages] + [np.nan])[stage]
    frame = pd.DataFrame({
        "district_id": ctx.school_districts()[school],
        "item_id": item_id, "part": "class_size", "part_name": "最大班额",
        "school_id": sec["school_id"].astype(str).to_numpy(object),
        "school_name": schools["school_name"].astype(str).to_numpy(object)[school],
        "stage": sec["stage"].astype(str).to_numpy(object), "target": "",
        "measured": largest.astype(float), "requirement": requirement, "comparison": "<=", "unit": "人",
        "status": np.where(passed, PASS, FAIL).astype(object),
        "shortfall": np.where(passed, 0.0, largest - requirement),
        "note": note.to_numpy(object),
    })
    return frame[CHECK_COLUMNS]


def small_school_funds(ctx: Context, item_id: str, spec: Mapping[str, Any]) -> pd.DataFrame:
    """G6: schools under ``min_students`` pupils are funded as if they had that many.

    Measured: the pupils the school's public funds pay for at the district's
    base quotas (元/生·年, enrolment-weighted over its stages) — must be ≥
    ``min_students``.
    """
    minimum = int(spec["min_students"])
    schools = in_scope(ctx.schools, spec)
    stages = list(ctx.standard.stages)
    pupils = {st: schools[f"students_{st}"].to_numpy(np.int64) for st in stages}
    total = sum(np.where(p > 0, p, 0) for p in pupils.values())
    keep = (total != 0) & (total < minimum)
    schools, total = schools[keep], total[keep]
    pupils = {st: p[keep] for st, p in pupils.items()}
    n = len(schools)
    where = schools["_district"].to_numpy(np.int64)
    lacking = np.full(n, "", dtype=object)
    quota_sum = Ratios.whole(np.zeros(n, dtype=np.int64))
    for st in stages:  # a loop over the stages
        has_pupils = pupils[st] > 0
        quota = ctx.figures.exact(QUOTA_ITEMS[st]).take(where)
        lacks = has_pupils & (quota.missing | quota.is_zero())
        name = DISTRICT_ITEMS[QUOTA_ITEMS[st]].zh
        lacking = np.where(lacks, np.where(lacking == "", name, lacking + "、" + name), lacking).astype(object)
        weighted = quota.with_missing(~has_pupils) * Ratios.whole(pupils[st])
        quota_sum = quota_sum + weighted.where(has_pupils, Ratios.whole(np.zeros(n, dtype=np.int64)))
    funds = Ratios.of(_float_column(schools, "public_funds_yuan"))
    missing = (lacking != "") | funds.missing
    quota = (quota_sum / Ratios.whole(total)).with_missing(missing)
    funded = (funds / quota).with_missing(missing)
    why = np.where(lacking != "", lacking, "该校学校经费数据").astype(object)
    money = funds.floats()
    note = ("在校生" + total.astype(str).astype(object) + "人，公用经费" + fmt_many(money, "元") + "，按生均" + fmt_many(quota.floats(), "元")
            + "折合" + fmt_many(funded.floats(), "人") + f"；应按{minimum}人核定，即不少于" + fmt_many((quota * minimum).floats(), "元"))
    note = np.where(missing, "缺少" + why, note).astype(object)
    ids = _school_columns(schools)
    return check_frame(item_id, "funded_students", "公用经费核定学生数", ids["district"], funded, Fraction(minimum), ">=", "人",
                       school_id=ids["school_id"], school_name=ids["school_name"], note=note)


def special_education_funds(ctx: Context, item_id: str, spec: Mapping[str, Any]) -> pd.DataFrame:
    """G7: public funds per pupil of special-education schools ≥ ``min_yuan_per_student``.

    From the schools' budgets; when none of a district's has one, from the
    district figure ``special_ed_funds_per_student_yuan``; no school and no figure: n/a.
    """
    minimum = exact(spec["min_yuan_per_student"])
    special = in_scope(ctx.schools, spec)
    where = special["_district"].to_numpy(np.int64)
    any_finance = np.bincount(where, weights=special["has_finance"].to_numpy(bool), minlength=len(ctx.ids)) > 0
    reported = ~np.isnan(ctx.figures.get("special_ed_funds_per_student_yuan"))
    by_figure = reported & ~any_finance
    district = district_checks(ctx, item_id, "special_ed_funds_per_student_yuan", minimum)[by_figure]
    special = special[~by_figure[where]]
    # A special-education school may have no sections row (its sections are optional).
    pupils = special["all_students"].astype("float64").fillna(0).to_numpy(np.int64)
    funds = Ratios.of(_float_column(special, "public_funds_yuan"))
    per = funds / Ratios.whole(pupils)
    money = fmt_many(funds.floats(), "元")
    note = np.where(~per.missing, "公用经费" + money + "，在校生" + pupils.astype(str).astype(object) + "人",
                    np.where(funds.missing, "缺少该校学校经费数据", "缺少该校在校生数")).astype(object)
    ids = _school_columns(special)
    schools = check_frame(item_id, "funds_per_student", "生均公用经费", ids["district"], per, minimum, ">=", "元/生·年",
                          school_id=ids["school_id"], school_name=ids["school_name"], note=note)
    return stack_checks([district, schools])


def teacher_pay(ctx: Context, item_id: str, spec: Mapping[str, Any]) -> pd.DataFrame:
    """G8: teachers' average pay ≥ ``min_pay_ratio`` × civil servants'; performance pay approved."""
    teacher = ctx.figures.exact("teacher_avg_pay_yuan")
    civil = ctx.figures.exact("civil_servant_avg_pay_yuan")
    required = civil * Ratios.const(exact(spec["min_pay_ratio"]), len(ctx.ids))
    note = np.where(civil.missing, "区级指标表未填报公务员年平均工资收入", "当地公务员年平均工资收入" + fmt_many(civil.floats(), "元"))
    note = np.where(teacher.missing, "区级指标表未填报教师年平均工资收入", note).astype(object)
    pay = check_frame(item_id, "teacher_avg_pay_yuan", DISTRICT_ITEMS["teacher_avg_pay_yuan"].zh, ctx.positions, teacher.with_missing(civil.missing),
                      required, ">=", "元", note=note)
    performance = district_checks(ctx, item_id, "performance_pay_approved_percent", exact(spec["min_performance_pay_percent"]))
    return stack_checks([pay, performance], [np.arange(len(ctx.ids)) * 2, np.arange(len(ctx.ids)) * 2 + 1])


def rotation(ctx: Context, item_id: str, spec: Mapping[str, Any]) -> pd.DataFrame:
    """G11: rotated ÷ eligible ≥ ``min_rotation_percent``; key ÷ rotated ≥ ``min_key_percent`` (%)."""
    eligible = ctx.figures.exact("rotation_eligible_teachers")
    rotated = ctx.figures.exact("rotation_rotated_teachers")
    key = ctx.figures.exact("rotation_key_teachers")
    share = (rotated * 100 / eligible).with_missing(eligible.missing | eligible.is_zero() | rotated.missing)
    note = np.where(share.missing, "区级指标表缺少交流轮岗人数",
                    "交流轮岗" + fmt_many(rotated.floats(), "人") + "，符合条件" + fmt_many(eligible.floats(), "人")).astype(object)
    first = check_frame(item_id, "rotation_share", "交流轮岗教师比例", ctx.positions, share, exact(spec["min_rotation_percent"]), ">=", "%", note=note)
    none = rotated.is_zero()
    key_share = (key * 100 / rotated).with_missing(key.missing | rotated.missing | none)
    note = np.where(none, "本年度无交流轮岗教师", np.where(key_share.missing, "区级指标表缺少交流轮岗骨干教师数",
                    "骨干教师" + fmt_many(key.floats(), "人") + "，交流轮岗" + fmt_many(rotated.floats(), "人"))).astype(object)
    second = check_frame(item_id, "key_share", "交流轮岗教师中骨干教师比例", ctx.positions, key_share, exact(spec["min_key_percent"]), ">=", "%",
                         status=np.where(none, NOT_APPLICABLE, "").astype(object), note=note)
    return stack_checks([first, second], [np.arange(len(ctx.ids)) * 2, np.arange(len(ctx.ids)) * 2 + 1])


def certified_teachers(ctx: Context, item_id: str, spec: Mapping[str, Any]) -> pd.DataFrame:
    """G12: full-time teachers with a teaching certificate ÷ full-time teachers (compulsory stages, %).

    The district share decides; schools with uncertified teachers are listed too.
    """
    minimum = exact(spec["min_percent"])
    schools = ctx.schools[ctx.schools["teachers"].to_numpy() > 0]
    where = schools["_district"].to_numpy(np.int64)
    n = len(ctx.ids)
    teachers_all = schools["teachers"].to_numpy(np.int64)
    certified_all = schools["certified_teachers"].to_numpy(np.int64)
    teachers = np.bincount(where, weights=teachers_all, minlength=n).astype(np.int64)
    certified = np.bincount(where, weights=certified_all, minlength=n).astype(np.int64)
    share = Ratios.whole(certified * 100) / Ratios.whole(teachers)
    district = check_frame(item_id, "certified_share", "专任教师持证上岗率", ctx.positions, share, minimum, ">=", "%",
                           note="持证" + certified.astype(str).astype(object) + "人，专任教师" + teachers.astype(str).astype(object) + "人")
    lacking = teachers_all - certified_all
    listed = lacking != 0
    ids = _school_columns(schools[listed])
    per_school = check_frame(item_id, "certified_share", "专任教师持证上岗率", ids["district"],
                             Ratios.whole(certified_all[listed] * 100) / Ratios.whole(teachers_all[listed]), minimum, ">=", "%",
                             school_id=ids["school_id"], school_name=ids["school_name"],
                             note=lacking[listed].astype(str).astype(object) + "名专任教师未持教师资格证")
    return stack_checks([district, per_school], [np.arange(n), where[listed]])


RULES: dict[str, Rule] = {
    "district_minimums": district_minimums,
    "music_art_rooms": music_art_rooms,
    "school_size": school_size,
    "class_size": class_size,
    "small_school_funds": small_school_funds,
    "special_education_funds": special_education_funds,
    "teacher_pay": teacher_pay,
    "rotation": rotation,
    "certified_teachers": certified_teachers,
}
