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

from balance_metrics.evaluation.checks import CHECK_COLUMNS, FAIL, PASS, NOT_APPLICABLE, check_row, fmt
from balance_metrics.evaluation.context import Context, Rule
from balance_metrics.contract.schema import DISTRICT_ITEMS
from balance_metrics.engine.schoolview import in_scope
from balance_metrics.standard.loader import exact

#: District item holding the per-student public-fund base quota of each stage.
QUOTA_ITEMS: dict[str, str] = {
    "primary": "public_fund_quota_primary_yuan",
    "junior": "public_fund_quota_junior_yuan",
}
_ROOM_KINDS: dict[str, str] = {"music": "音乐专用教室", "art": "美术专用教室"}


def _frac(value: object) -> Fraction | None:
    """A data value as an exact number; ``None`` for a missing one."""
    if value is None or pd.isna(value):
        return None
    return exact(float(value))


def district_row(ctx: Context, item_id: str, code: str, requirement: Fraction, comparison: str = ">=") -> dict[str, object]:
    """Check one district figure (see :data:`~balance_metrics.schema.DISTRICT_ITEMS`)."""
    item = DISTRICT_ITEMS[code]
    value = ctx.district.get(code)
    note = "" if value is not None else f"区级指标表未填报 {code}（{item.zh}）"
    return check_row(item_id, code, item.zh, value, requirement, comparison, item.unit, note=note)


def district_minimums(ctx: Context, item_id: str, spec: Mapping[str, Any]) -> list[dict[str, object]]:
    """Each district figure of ``spec["minimums"]`` (item code -> minimum) must reach it."""
    return [district_row(ctx, item_id, code, exact(minimum)) for code, minimum in spec["minimums"].items()]


def music_art_rooms(ctx: Context, item_id: str, spec: Mapping[str, Any]) -> list[dict[str, object]]:
    """G3: music and art rooms per ``classes_per_room`` classes, and their sizes.

    Rooms needed = ceil(compulsory classes / classes_per_room). A school built
    before ``area_exempt_built_before`` (0 = none) is exempt from the size part.
    """
    per = int(spec["classes_per_room"])
    exempt_before = int(spec.get("area_exempt_built_before", 0))
    rows = []
    for _, school in in_scope(ctx.schools, spec).iterrows():
        classes = int(school["classes"])
        if classes == 0:
            continue
        needed = -(-classes // per)
        note = f"{classes}个班，按每{per}个班1间需{needed}间"
        for kind, label in _ROOM_KINDS.items():
            count = _frac(school[f"{kind}_rooms"])
            rows.append(check_row(item_id, f"{kind}_rooms", f"{label}数", count, Fraction(needed), ">=", "间", school=school, note=note))
            if count:
                minimum = exact(spec[f"min_{kind}_room_m2"])
                exempt = bool(exempt_before) and pd.notna(school["year_built"]) and school["year_built"] < exempt_before
                rows.append(check_row(
                    item_id, f"{kind}_room_area", f"最小{label}面积", _frac(school[f"smallest_{kind}_room_m2"]), minimum, ">=", "m²",
                    school=school, status=NOT_APPLICABLE if exempt else None,
                    note=f"{school['year_built']}年建校，面积要求不适用" if exempt else "",
                ))
    return rows


def school_size(ctx: Context, item_id: str, spec: Mapping[str, Any]) -> list[dict[str, object]]:
    """G4: compulsory-stage pupils of a school ≤ the limit for its type (``limits``)."""
    limits = spec["limits"]
    rows = []
    for _, school in ctx.schools[ctx.schools["school_type"].isin(list(limits))].iterrows():
        note = f"含不计校数校区 {school['campuses']}" if school["campuses"] else ""
        rows.append(check_row(
            item_id, "students", "义务教育阶段在校生数", Fraction(int(school["students"])), exact(limits[school["school_type"]]), "<=", "人",
            school=school, note=note,
        ))
    return rows


def class_size(ctx: Context, item_id: str, spec: Mapping[str, Any]) -> pd.DataFrame:
    """G5: every class ≤ ``max_class[stage]`` pupils.

    Uses the ``classes`` table where a section has class rows; otherwise the
    section's largest class (every class within the limit ⇔ the largest is).
    One check per school section: measured = its largest class. Whole-column:
    class lists are reduced per section with grouped max / count.
    """
    limits = {stage: exact(v) for stage, v in spec["max_class"].items()}
    names = in_scope(ctx.dataset.schools, spec).drop_duplicates("school_id").set_index("school_id")["school_name"]
    sections = ctx.dataset.sections
    keep = (sections["stage"].isin(list(limits)) & sections["school_id"].isin(names.index) & (sections["students"] != 0)).fillna(False)
    sec = sections[keep.to_numpy(bool)].reset_index(drop=True)
    # Class sizes are whole pupils: ≤ limit ⇔ ≤ floor(limit), exactly.
    whole_limit = sec["stage"].map({stage: floor(limit) for stage, limit in limits.items()}).to_numpy(np.int64)
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
    requirement = sec["stage"].map({stage: float(limit) for stage, limit in limits.items()}).to_numpy(float)
    frame = pd.DataFrame({
        "item_id": item_id, "part": "class_size", "part_name": "最大班额",
        "school_id": sec["school_id"].astype(str).to_numpy(object),
        "school_name": sec["school_id"].map(names).astype(str).to_numpy(object),
        "stage": sec["stage"].astype(str).to_numpy(object), "target": "",
        "measured": largest.astype(float), "requirement": requirement, "comparison": "<=", "unit": "人",
        "status": np.where(passed, PASS, FAIL).astype(object),
        "shortfall": np.where(passed, 0.0, largest - requirement),
        "note": note.to_numpy(object),
    })
    return frame[CHECK_COLUMNS]


def small_school_funds(ctx: Context, item_id: str, spec: Mapping[str, Any]) -> list[dict[str, object]]:
    """G6: schools under ``min_students`` pupils are funded as if they had that many.

    Measured: the pupils the school's public funds pay for at the district's
    base quotas (元/生·年, enrolment-weighted over its stages) — must be ≥
    ``min_students``.
    """
    minimum = int(spec["min_students"])
    rows = []
    for _, school in in_scope(ctx.schools, spec).iterrows():
        pupils = {st: int(school[f"students_{st}"]) for st in ctx.standard.stages if school[f"students_{st}"] > 0}
        total = sum(pupils.values())
        if total == 0 or total >= minimum:
            continue
        rows.append(_funding_row(ctx, item_id, school, pupils, minimum))
    return rows


def _funding_row(ctx: Context, item_id: str, school: pd.Series, pupils: dict[str, int], minimum: int) -> dict[str, object]:
    total = sum(pupils.values())
    quotas = {st: ctx.district.get(QUOTA_ITEMS[st]) for st in pupils}
    lacking = [DISTRICT_ITEMS[QUOTA_ITEMS[st]].zh for st, q in quotas.items() if not q]
    funds = _frac(school["public_funds_yuan"])
    if lacking or funds is None:
        why = "、".join(lacking) if lacking else "该校学校经费数据"
        return check_row(item_id, "funded_students", "公用经费核定学生数", None, Fraction(minimum), ">=", "人", school=school, note=f"缺少{why}")
    quota = sum(quotas[st] * n for st, n in pupils.items()) / total
    funded = funds / quota
    note = (f"在校生{total}人，公用经费{fmt(funds, '元')}，按生均{fmt(quota, '元')}折合{fmt(funded, '人')}；"
            f"应按{minimum}人核定，即不少于{fmt(quota * minimum, '元')}")
    return check_row(item_id, "funded_students", "公用经费核定学生数", funded, Fraction(minimum), ">=", "人", school=school, note=note)


def special_education_funds(ctx: Context, item_id: str, spec: Mapping[str, Any]) -> list[dict[str, object]]:
    """G7: public funds per pupil of special-education schools ≥ ``min_yuan_per_student``.

    From the schools' budgets; when none of them has one, from the district
    figure ``special_ed_funds_per_student_yuan``; no school and no figure: n/a.
    """
    minimum = exact(spec["min_yuan_per_student"])
    special = in_scope(ctx.schools, spec)
    reported = ctx.district.get("special_ed_funds_per_student_yuan")
    if reported is not None and not special["has_finance"].any():
        return [district_row(ctx, item_id, "special_ed_funds_per_student_yuan", minimum)]
    rows = []
    for _, school in special.iterrows():
        # A special-education school may have no sections row (its sections are optional).
        pupils = 0 if pd.isna(school["all_students"]) else int(school["all_students"])
        funds = _frac(school["public_funds_yuan"])
        per = funds / pupils if funds is not None and pupils else None
        note = f"公用经费{fmt(funds, '元')}，在校生{pupils}人" if per is not None else "缺少该校学校经费数据" if funds is None else "缺少该校在校生数"
        rows.append(check_row(item_id, "funds_per_student", "生均公用经费", per, minimum, ">=", "元/生·年", school=school, note=note))
    return rows


def teacher_pay(ctx: Context, item_id: str, spec: Mapping[str, Any]) -> list[dict[str, object]]:
    """G8: teachers' average pay ≥ ``min_pay_ratio`` × civil servants'; performance pay approved."""
    teacher = ctx.district.get("teacher_avg_pay_yuan")
    civil = ctx.district.get("civil_servant_avg_pay_yuan")
    ratio = exact(spec["min_pay_ratio"])
    required = None if civil is None else civil * ratio
    note = f"当地公务员年平均工资收入{fmt(civil, '元')}" if civil is not None else "区级指标表未填报公务员年平均工资收入"
    if teacher is None:
        note = "区级指标表未填报教师年平均工资收入"
    pay = check_row(item_id, "teacher_avg_pay_yuan", DISTRICT_ITEMS["teacher_avg_pay_yuan"].zh, teacher if required is not None else None,
                    required, ">=", "元", note=note)
    performance = district_row(ctx, item_id, "performance_pay_approved_percent", exact(spec["min_performance_pay_percent"]))
    return [pay, performance]


def rotation(ctx: Context, item_id: str, spec: Mapping[str, Any]) -> list[dict[str, object]]:
    """G11: rotated ÷ eligible ≥ ``min_rotation_percent``; key ÷ rotated ≥ ``min_key_percent`` (%)."""
    eligible = ctx.district.get("rotation_eligible_teachers")
    rotated = ctx.district.get("rotation_rotated_teachers")
    key = ctx.district.get("rotation_key_teachers")
    share = rotated / eligible * 100 if eligible and rotated is not None else None
    note = f"交流轮岗{fmt(rotated, '人')}，符合条件{fmt(eligible, '人')}" if share is not None else "区级指标表缺少交流轮岗人数"
    rows = [check_row(item_id, "rotation_share", "交流轮岗教师比例", share, exact(spec["min_rotation_percent"]), ">=", "%", note=note)]
    key_minimum = exact(spec["min_key_percent"])
    if rotated == 0:
        rows.append(check_row(item_id, "key_share", "交流轮岗教师中骨干教师比例", None, key_minimum, ">=", "%",
                              status=NOT_APPLICABLE, note="本年度无交流轮岗教师"))
    else:
        key_share = key / rotated * 100 if key is not None and rotated is not None else None
        note = f"骨干教师{fmt(key, '人')}，交流轮岗{fmt(rotated, '人')}" if key_share is not None else "区级指标表缺少交流轮岗骨干教师数"
        rows.append(check_row(item_id, "key_share", "交流轮岗教师中骨干教师比例", key_share, key_minimum, ">=", "%", note=note))
    return rows


def certified_teachers(ctx: Context, item_id: str, spec: Mapping[str, Any]) -> list[dict[str, object]]:
    """G12: full-time teachers with a teaching certificate ÷ full-time teachers (compulsory stages, %).

    The district share decides; schools with uncertified teachers are listed too.
    """
    minimum = exact(spec["min_percent"])
    schools = ctx.schools[ctx.schools["teachers"] > 0]
    teachers, certified = int(schools["teachers"].sum()), int(schools["certified_teachers"].sum())
    share = Fraction(certified * 100, teachers) if teachers else None
    rows = [check_row(item_id, "certified_share", "专任教师持证上岗率", share, minimum, ">=", "%",
                      note=f"持证{certified}人，专任教师{teachers}人")]
    for _, school in schools.iterrows():
        lacking = int(school["teachers"] - school["certified_teachers"])
        if lacking:
            rows.append(check_row(item_id, "certified_share", "专任教师持证上岗率", Fraction(int(school["certified_teachers"]) * 100, int(school["teachers"])),
                                  minimum, ">=", "%", school=school, note=f"{lacking}名专任教师未持教师资格证"))
    return rows


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
