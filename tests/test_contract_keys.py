"""The integer fast paths of the contract rules give exactly what the plain pandas paths give.

Texts compared as 64-bit words (``schoolkeys.id_words``: ASCII of at most 8 bytes), cells
grouped by their bytes (``ByteColumn.factorize``) and the rules rebuilt on them
(``stages_offered``, ``_unknown_stage``, district names, school-id collisions, pupils per
school) are checked against plain implementations — texts hashed by pandas, the rules as
they were written before (kept here as references) — on random columns (hypothesis) with
the awkward cases: NA, upper/lower case, NUL characters, non-ASCII, ids longer than 8,
ids of digits with leading zeros and around the 17-digit limit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from balance_metrics.common.errors import Problem
from balance_metrics.contract.columns import ByteColumn
from balance_metrics.contract import districtfigures
from balance_metrics.contract.districts import _renamed
from balance_metrics.contract.problems import _problem, _text
from balance_metrics.contract.ids import _file_keys, _plain, file_name_rule, school_id_problems
from balance_metrics.contract.schema import STAGES_BY_SCHOOL_TYPE
from balance_metrics.contract.schoolkeys import SchoolIndex, column_codes, found_in, id_words
from balance_metrics.contract.validation import _students_of_school, _unknown_stage, problems_at, stages_offered

ID = st.one_of(
    st.sampled_from(["S0000001", "S0000002", "s0000001", "A-1_b", "ab", "S000000100", "学校1", "a\x00", "a", "", "con",
                     "3110000001", "03110000001", "3110000001 ", "12345678", "123456789", "0123456789", "00000000000000000",
                     "99999999999999999", "999999999999999999", "1e10000000"]),
    st.text(alphabet="aAbB01-_.中\x00 ", max_size=10),
    st.text(alphabet="0123456789", min_size=7, max_size=19),  # 学校标识码-like ids, around the 8- and 17-digit limits
)
IDS = st.lists(st.one_of(ID, st.none()), max_size=25)
TYPES = list(STAGES_BY_SCHOOL_TYPE)
STAGE = st.sampled_from(["primary", "junior", "senior", None])


def _strings(values: list) -> pd.Series:
    return pd.Series(pd.array(values, dtype="string"))


def _frame(**columns: list) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    frame = pd.DataFrame({k: pd.array(v, dtype="string") for k, v in columns.items()})
    return frame.assign(_source="t.csv", _row=np.arange(2, n + 2))


@settings(max_examples=200, deadline=None)
@given(IDS)
def test_codes_are_equal_exactly_when_texts_are(values):
    column = _strings(values)
    where = column.notna().to_numpy(bool)
    codes = column_codes(column, where)
    texts = column.to_numpy(object)[where]
    assert (codes[:, None] == codes[None, :]).tolist() == (texts[:, None] == texts[None, :]).tolist()


def test_words_keep_nul_and_length():
    words = id_words(np.array(["a", "a\x00", "ab", "S0000001", "S000000", "中"], dtype=object))
    assert words is None  # a NUL or a non-ASCII text: texts are compared as texts
    words = id_words(np.array(["a", "ab", "S0000001", "S000000", "A"], dtype=object))
    assert words is not None and len(set(words.tolist())) == 5
    assert id_words(np.array(["S00000001"], dtype=object)) is None  # 9 characters, not all digits



@settings(max_examples=200, deadline=None)
@given(IDS, IDS)
def test_school_rows_and_found_in_equal_pandas(schools_ids, ids):
    schools = _frame(school_id=schools_ids)
    column = _strings(ids)
    plain_ids = schools["school_id"]
    first = (~plain_ids.duplicated() & plain_ids.notna()).to_numpy(bool)
    index = pd.Index(plain_ids.to_numpy(object)[first], dtype=object)
    where = index.get_indexer(column.to_numpy(object))
    expected = np.append(np.flatnonzero(first), -1)[np.where(column.notna().to_numpy(bool), where, -1)]
    assert SchoolIndex(schools).rows(column).tolist() == expected.tolist()
    assert found_in(column, plain_ids).tolist() == (column.notna() & column.isin(plain_ids.dropna())).tolist()


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(alphabet="ab中 ,", max_size=40).filter(lambda t: "\n" not in t), max_size=30))
def test_byte_groups_equal_the_texts(texts):
    buf = np.frombuffer("\n".join(texts).encode(), np.uint8)
    ends = np.concatenate([np.flatnonzero(buf == 10), [len(buf)]]) if texts else np.zeros(0, np.int64)
    starts = np.concatenate([[0], ends[:-1] + 1]) if texts else np.zeros(0, np.int64)
    column = ByteColumn(buf, starts, ends)
    assert column.objects().tolist() == texts
    grouped = column.factorize()
    if grouped is not None:
        codes, distinct = grouped
        assert [distinct.texts()[c] for c in codes] == texts
        assert len(set(distinct.texts())) == len(distinct)


# ---------------------------------------------------------------------------
# the rules against their plain versions
# ---------------------------------------------------------------------------


def _school_id_problems_plain(schools: pd.DataFrame) -> list[Problem]:
    ids = schools["school_id"]
    given = ids.notna().to_numpy(bool)
    texts = ids.to_numpy(object)[given].tolist()
    position = np.flatnonzero(given)
    rules: dict[int, str] = {}
    for i in np.flatnonzero(~_plain(texts)):
        rule = file_name_rule(texts[i])
        if rule is not None:
            rules[int(i)] = rule
    usable = np.ones(len(texts), bool)
    usable[list(rules)] = False
    keys = pd.Series(_file_keys(texts), dtype=object)[usable]
    names = pd.Series(texts, dtype=object)[usable]
    first = names.groupby(keys.to_numpy(), sort=False).transform("first")
    for i in np.flatnonzero((names != first).to_numpy(bool)):
        rules[int(names.index[i])] = f"names the same report file as school_id '{first.iloc[i]}' where case or character width is ignored (Windows, macOS)"
    sources, rows = schools["_source"].to_numpy(object), schools["_row"].to_numpy()
    return [Problem(str(sources[position[i]]), int(rows[position[i]]), "school_id", texts[i], rules[i]) for i in sorted(rules)]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(["S0000001", "s0000001", "S0000001", "ABCDE", "abcde", "AbCdE", "ab", "a.b", "ＡＢＣＤＥ", "nul", "x" * 9, "X" * 9]), ID, st.none()), max_size=25))
def test_school_id_problems_equal_the_plain_rule(ids):
    schools = _frame(school_id=ids)
    assert school_id_problems(schools) == _school_id_problems_plain(schools)


def _stages_offered_plain(sections: pd.DataFrame, schools: pd.DataFrame) -> list[Problem]:
    def keys(frame: pd.DataFrame) -> np.ndarray:
        return SchoolIndex(schools).rows(frame["school_id"])

    listed = schools.dropna(subset=["school_id", "school_type"])
    stages_of = {school_type: sorted(stages) or [None] for school_type, stages in STAGES_BY_SCHOOL_TYPE.items()}
    expected = listed.assign(stage=listed["school_type"].astype(object).map(stages_of)).explode("stage").dropna(subset=["stage"])
    have = set(zip(keys(sections), sections["stage"].astype(object)))
    missing = np.array([(k, s) not in have for k, s in zip(keys(expected), expected["stage"])], bool)
    problems = problems_at(expected, missing, "school_type",
                           lambda bad: "school type " + bad["school_type"].astype(str) + " needs a '" + bad["stage"].astype(str) + "' row in sections, none found")
    at = keys(sections)
    types = pd.Series(np.where(at >= 0, schools["school_type"].to_numpy(object)[np.maximum(at, 0)] if len(schools) else None, None), dtype=object)
    checked = sections["stage"].notna() & types.notna() & ~types.isin(["special_education", "vocational"])
    offered = pd.Series(False, index=sections.index)
    for school_type, stages in STAGES_BY_SCHOOL_TYPE.items():
        offered |= (types == school_type) & sections["stage"].isin(list(stages))
    wrong = (checked & ~offered).to_numpy(bool)
    return problems + problems_at(sections, wrong, "stage", lambda bad: "stage not offered by a school of type " + types[wrong].astype(str).to_numpy(object))


SCHOOL = st.sampled_from(["S1", "S2", "S3", "S4", None])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(SCHOOL, st.one_of(st.sampled_from(TYPES), st.none())), max_size=8),
       st.lists(st.tuples(st.one_of(SCHOOL, st.just("S9")), STAGE), max_size=10),
       st.lists(st.tuples(st.one_of(SCHOOL, st.just("S9")), STAGE), max_size=6))
def test_stage_rules_equal_the_plain_rules(schools, sections, quality):
    schools = _frame(school_id=[s for s, _ in schools], school_type=[t for _, t in schools])
    sections = _frame(school_id=[s for s, _ in sections], stage=[t for _, t in sections])
    quality = _frame(school_id=[s for s, _ in quality], stage=[t for _, t in quality])
    assert stages_offered(sections, schools) == _stages_offered_plain(sections, schools)
    at, held = SchoolIndex(schools).rows(quality["school_id"]), set(zip(SchoolIndex(schools).rows(sections["school_id"]), sections["stage"].astype(object)))
    bad = np.array([a >= 0 and s is not pd.NA and (a, s) not in held for a, s in zip(at, quality["stage"].astype(object))], bool)
    expected = problems_at(quality, bad, "stage", "this school has no such stage in the sections table")
    assert _unknown_stage(quality, {"sections": sections, "schools": schools}) == expected


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["110000", "120000", "1100001", "京", None]), st.sampled_from(["甲", "乙", None])), max_size=20))
def test_district_names_equal_the_groupby(rows):
    schools = _frame(district_id=[k for k, _ in rows], district_name=[n for _, n in rows])
    named = schools.dropna(subset=["district_id", "district_name"])
    first = named.groupby("district_id")["district_name"].transform("first")
    expected = np.zeros(len(schools), bool)
    expected[named.index[(named["district_name"] != first).to_numpy(bool)]] = True
    assert _renamed(schools).tolist() == expected.tolist()


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["S1", "S2", "S3", "S4"]), st.one_of(st.integers(0, 3000), st.none())), max_size=12),
       st.lists(st.sampled_from(["S1", "S2", "S3", "S4"]), max_size=6))
def test_pupils_per_school_row_equal_the_groupby(sections, facilities):
    schools = _frame(school_id=["S1", "S2", "S3", "S4"])
    frame = _frame(school_id=[s for s, _ in sections]).assign(students=pd.array([n for _, n in sections], dtype="Int64"))
    facilities = _frame(school_id=facilities)
    fast = _students_of_school(frame, facilities, schools)
    plain = _students_of_school(frame, facilities, None)
    pd.testing.assert_series_equal(fast, plain, check_names=False)


def _class_lists_plain(classes: pd.DataFrame, sections: pd.DataFrame) -> list[Problem]:
    listed = classes.dropna(subset=["school_id", "stage"]).groupby(["school_id", "stage"], observed=True)
    summary = pd.DataFrame({"_count": listed.size(), "_total": listed["students"].sum(min_count=1)})
    keyed = sections.dropna(subset=["school_id", "stage"])
    found = keyed.join(summary, on=["school_id", "stage"], how="inner")
    wrong_count = (found["classes"].notna() & (found["_count"] != found["classes"])).fillna(False)
    wrong_total = (found["students"].notna() & found["_total"].notna() & (found["_total"] != found["students"])).fillna(False)
    return (
        problems_at(found, wrong_count, "classes", lambda bad: "the classes table lists " + bad["_count"].astype(str) + " classes for this section")
        + problems_at(found, wrong_total, "students",
                      lambda bad: "the classes of this section in the classes table add up to " + bad["_total"].astype(str) + " students")
    )


COUNT = st.one_of(st.integers(0, 60), st.none())


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(SCHOOL, STAGE, COUNT), max_size=12), st.lists(st.tuples(SCHOOL, STAGE, COUNT, COUNT), max_size=6))
def test_class_lists_equal_the_groupby(classes, sections):
    from balance_metrics.contract.validation import _class_lists_complete

    classes = _frame(school_id=[r[0] for r in classes], stage=[r[1] for r in classes]).assign(
        students=pd.array([r[2] for r in classes], dtype="Int64"))
    sections = _frame(school_id=[r[0] for r in sections], stage=[r[1] for r in sections]).assign(
        students=pd.array([r[2] for r in sections], dtype="Int64"), classes=pd.array([r[3] for r in sections], dtype="Int64"))
    assert _class_lists_complete(classes, sections) == _class_lists_plain(classes, sections)


def _district_subsets_plain(single, by):
    """The subset and retention rules on the district × item table (``unstack``)."""
    key = single[by[0]].astype(object) if by else pd.Series("", index=single.index, dtype=object)
    wide = pd.Series(single["value"].astype(float).to_numpy(), index=pd.MultiIndex.from_arrays([key, single["item"].astype(object)])).unstack()
    located = single.assign(_key=key.to_numpy()).set_index(["_key", "item"])
    problems = []
    for part, whole in districtfigures.DISTRICT_SUBSETS:  # a loop over the four rules
        if part not in wide.columns or whole not in wide.columns:
            continue
        over = wide.index[(wide[part] > wide[whole]).fillna(False).to_numpy(bool)]
        for district in over:  # offending districts only
            r = located.loc[(district, part)]
            problems.append(_problem(r, "value", r["value"], f"{part} is larger than {whole} ({_text(wide.at[district, whole])})"))
    return problems + _retention_rate(wide, located)




def _retention_rate(wide, located):
    # The junior three-year retention rate is a rate: inputs giving more than
    # 100 % (or a negative rate) contradict each other.
    names = districtfigures.RETENTION_ITEMS
    if not all(n in wide.columns for n in names):
        return []
    complete = wide[list(names)].notna().all(axis=1)
    v = wide[complete]
    base = v["retention_grade7_enrolment"] - v["retention_deaths"]
    kept = v["retention_graduates"] - v["retention_transfers_in"] + v["retention_transfers_out"]
    bad = v.index[((base <= 0) | (kept < 0) | (kept > base)).to_numpy(bool)]
    problems = []
    for district in bad:  # offending districts only
        r = located.loc[(district, "retention_graduates")]
        problems.append(_problem(r, "value", r["value"], districtfigures._retention_rule(kept[district], base[district])))
    return problems


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["120113", "110000", "120114", None]),
                          st.sampled_from(["rotation_rotated_teachers", "rotation_eligible_teachers", "rotation_key_teachers",
                                           "disabled_enrolled", "disabled_school_age", "retention_grade7_enrolment", "retention_deaths",
                                           "retention_graduates", "retention_transfers_in", "retention_transfers_out"]),
                          st.one_of(st.integers(-5, 120).map(float), st.sampled_from([0.5, 2.25]), st.none())), max_size=40),
       st.booleans())
def test_district_subsets_equal_the_wide_table(rows, keyed):
    from balance_metrics.contract.districtfigures import _district_subsets_by_item

    frame = _frame(district_id=[r[0] for r in rows], item=[r[1] for r in rows]).assign(value=pd.array([r[2] for r in rows], dtype="Float64"))
    by = ["district_id"] if keyed else []
    single = frame.drop_duplicates([*by, "item"])
    assert _district_subsets_by_item(single, by) == _district_subsets_plain(single, by)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(SCHOOL, ID, st.one_of(st.integers(0, 3), st.none())), max_size=20), st.integers(1, 3),
       st.lists(st.one_of(SCHOOL, st.just("S1")), max_size=6))
def test_duplicate_keys_equal_the_frame_duplicated(rows, width, school_ids):
    from balance_metrics.contract.validation import duplicate_keys

    frame = _frame(school_id=[r[0] for r in rows], b=[r[1] for r in rows]).assign(c=pd.array([r[2] for r in rows], dtype="Int64"))
    key = ("school_id", "b", "c")[:width]
    keys = frame[list(key)]
    complete = keys.notna().all(axis=1).to_numpy(bool)
    dup = np.zeros(len(frame), bool)
    dup[complete] = keys[complete].duplicated(keep="first").to_numpy(bool)
    expected = frame["_row"][dup].tolist()
    assert [p.row for p in duplicate_keys(frame, key, "key")] == expected
    assert [p.row for p in duplicate_keys(frame, key, "key", _frame(school_id=school_ids))] == expected


def _section_sizes_plain(sections: pd.DataFrame, schools: pd.DataFrame) -> list[Problem]:
    at = SchoolIndex(schools).rows(sections["school_id"])
    types = pd.Series(np.append(schools["school_type"].to_numpy(object), None)[at], index=sections.index, dtype=object)
    known = types.notna() & sections["students"].notna()
    evaluated = ~types.isin(["special_education", "vocational", "teaching_point"])
    empty = (known & (sections["students"] == 0) & evaluated).fillna(False)
    no_class = (known & (sections["students"] > 0) & (sections["classes"] == 0)).fillna(False)
    too_large = (known & (sections["largest_class"] > sections["students"])).fillna(False)
    return (
        problems_at(sections, empty, "students", "a section of an evaluated school must have students (omit the row if the stage is not offered)", pd.Series(0, index=sections.index))
        + problems_at(sections, no_class, "classes", "a section with students must have at least one class")
        + problems_at(sections, too_large, "largest_class",
                      lambda bad: "largest class is larger than the section's students (" + bad["students"].astype(str) + ")")
    )


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(SCHOOL, st.one_of(st.sampled_from(TYPES), st.none())), max_size=6),
       st.lists(st.tuples(st.one_of(SCHOOL, st.just("S9")), COUNT, COUNT, COUNT), max_size=10))
def test_section_sizes_equal_the_plain_rule(schools, sections):
    from balance_metrics.contract.validation import section_sizes

    schools = _frame(school_id=[s for s, _ in schools], school_type=[t for _, t in schools])
    sections = _frame(school_id=[r[0] for r in sections]).assign(
        students=pd.array([r[1] for r in sections], dtype="Int64"), classes=pd.array([r[2] for r in sections], dtype="Int64"),
        largest_class=pd.array([r[3] for r in sections], dtype="Int64"))
    assert section_sizes(sections, schools) == _section_sizes_plain(sections, schools)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(SCHOOL, st.one_of(SCHOOL, st.just("S9"))), max_size=8))
def test_support_partners_equal_the_row_by_row_rule(rows):
    from balance_metrics.contract.validation import support_partners

    schools = _frame(school_id=[r[0] for r in rows], partner_school_id=[r[1] for r in rows])
    known = set(schools["school_id"].dropna())
    expected = [Problem("t.csv", int(r["_row"]), "partner_school_id", r["partner_school_id"],
                        "partner school not found in the schools table (or the school itself)")
                for _, r in schools.iterrows() if r["partner_school_id"] is not pd.NA
                and (r["partner_school_id"] not in known or (r["school_id"] is not pd.NA and r["partner_school_id"] == r["school_id"]))]
    assert support_partners(schools) == expected


# Columns of short ASCII ids (compared as words) and of digit ids like a 学校标识码
# (10 digits: compared as texts), alone and side by side.
WORDED = st.lists(st.one_of(st.text(alphabet="0123456789", min_size=1, max_size=17),
                            st.sampled_from(["S0000001", "s0000001", "ABCDE", "abcde", "3110000001", "03110000001", "ab"]),
                            st.none()), max_size=25)


@settings(max_examples=200, deadline=None)
@given(WORDED, WORDED)
def test_digit_ids_and_short_ids_equal_the_texts(schools_ids, ids):
    column, other = _strings(ids), _strings(schools_ids)
    for values in (column, other):
        where = values.notna().to_numpy(bool)
        codes, texts = column_codes(values, where), values.to_numpy(object)[where]
        assert (codes[:, None] == codes[None, :]).tolist() == (texts[:, None] == texts[None, :]).tolist()
    schools = _frame(school_id=schools_ids)
    plain_ids = schools["school_id"]
    first = (~plain_ids.duplicated() & plain_ids.notna()).to_numpy(bool)
    where = pd.Index(plain_ids.to_numpy(object)[first], dtype=object).get_indexer(column.to_numpy(object))
    expected = np.append(np.flatnonzero(first), -1)[np.where(column.notna().to_numpy(bool), where, -1)]
    assert SchoolIndex(schools).rows(column).tolist() == expected.tolist()
    assert found_in(column, plain_ids).tolist() == (column.notna() & column.isin(plain_ids.dropna())).tolist()
    assert school_id_problems(schools) == _school_id_problems_plain(schools)
