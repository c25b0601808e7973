"""Per-section verdicts: ≥ 6 of 7 indicators met and the rest ≥ the 85 % floor.

This module is the one home of the section rule. Comparisons are exact: in
binary floating point 4.5 × 0.85 is 3.8249999…, which would wrongly fail a
section at the floor. They are made for all rows at once on floats, and every
row whose float value lies within a tight band (10⁻⁹ of the value's magnitude)
of its bound is re-checked in exact rational arithmetic; floating-point error is
about a million times smaller than that band, so no verdict can differ from
exact arithmetic.

A rounding rule of the standard (``compare_decimals``: round half-up before
comparing) is folded into the bound: ``round(v) ≥ t`` ⇔ ``v ≥`` :func:`minimum_bound`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from math import ceil, floor

import numpy as np
import pandas as pd

from balance_metrics.common.grouped import dense_codes, first_rows, join_by_group
from balance_metrics.standard.loader import Standard

#: Relative width of the band re-checked exactly (see module doc).
EXACT_BAND = 1e-9
VERDICT_COLUMNS = [
    "school_id", "stage", "school_name", "school_type", "area_type", "students",
    "indicators_met", "indicators_below_floor", "failed_indicators", "passed",
]

ExactValues = Callable[[np.ndarray], Sequence[Fraction]]


def round_half_up(value: Fraction, decimals: int | None) -> Fraction:
    """``value`` rounded half-up to ``decimals`` places; unchanged when ``None``."""
    if decimals is None:
        return value
    scale = Fraction(10) ** decimals
    sign = -1 if value < 0 else 1
    return sign * Fraction(floor(abs(value) * scale + Fraction(1, 2))) / scale


def minimum_bound(requirement: Fraction, decimals: int | None) -> Fraction:
    """The least value that meets ``requirement`` once rounded half-up to ``decimals``.

    ``round_half_up(v, decimals) >= requirement`` ⇔ ``v >= minimum_bound(...)``
    for ``v ≥ 0`` (indicator values are never negative).

    Examples
    --------
    >>> minimum_bound(Fraction("4.5"), 1), minimum_bound(Fraction("3.825"), 2)
    (Fraction(89, 20), Fraction(153, 40))
    """
    if decimals is None:
        return requirement
    step = Fraction(1, 10**decimals)
    return (ceil(requirement / step) - Fraction(1, 2)) * step


def float_at_most(limit: Fraction, decimals: int | None) -> float:
    """The largest float ``x`` with ``round_half_up(Fraction(x), decimals) <= limit``
    (``x ≥ 0``): ``x <= float_at_most(...)`` is then an exact test on floats."""
    if decimals is None:
        bound, strict = limit, False
    else:
        step = Fraction(1, 10**decimals)
        bound, strict = (floor(limit / step) + Fraction(1, 2)) * step, True
    candidate = float(bound)
    while Fraction(candidate) > bound or (strict and Fraction(candidate) == bound):
        candidate = float(np.nextafter(candidate, -np.inf))
    return candidate


def exact_at_least(
    values: np.ndarray, magnitudes: np.ndarray, bound_codes: np.ndarray, bounds: Sequence[Fraction], exact_values: ExactValues
) -> np.ndarray:
    """``value >= bound`` for every row, decided exactly.

    Parameters
    ----------
    values : ndarray of float
        Each row's value as computed in floating point.
    magnitudes : ndarray of float
        Scale of each value's rounding error (Σ of the absolute terms).
    bound_codes : ndarray of int
        Index into ``bounds`` of each row's bound.
    bounds : sequence of Fraction
    exact_values : callable
        Row positions -> their exact values; called only for rows in the band.
    """
    floats = np.array([float(b) for b in bounds], dtype=float)[bound_codes] if len(bounds) else np.zeros(0)
    return _at_least(values, magnitudes, floats, lambda rows: bound_codes[rows], bounds, exact_values)


def _at_least(values: np.ndarray, magnitudes: np.ndarray, floats: np.ndarray, codes_of: Callable[[np.ndarray], np.ndarray],
              bounds: Sequence[Fraction], exact_values: ExactValues) -> np.ndarray:
    """:func:`exact_at_least` with each row's bound already as a float (``floats``)
    and the code of the bounds of given rows (``codes_of``)."""
    distance = np.subtract(values, floats)
    result = distance >= 0  # ⇔ values >= floats for finite bounds (a float difference is 0 only for equal floats)
    band = np.abs(magnitudes)
    band += np.abs(floats)
    band *= EXACT_BAND
    band += 1e-300
    np.abs(distance, out=distance)
    near = np.flatnonzero(distance <= band)
    if near.size:
        exact = exact_values(near)
        result[near] = [v >= bounds[c] for v, c in zip(exact, codes_of(near))]
    return result


def section_passed(indicators_met: np.ndarray | pd.Series, indicators_below_floor: np.ndarray | pd.Series, standard: Standard):
    """The per-section rule: at least ``min_indicators_met`` met and none below its floor."""
    return (indicators_met >= standard.min_indicators_met) & (indicators_below_floor == 0)


def _bounds(indicators: pd.DataFrame, standard: Standard) -> tuple[np.ndarray, list[tuple[str, str]]]:
    """Code of each row's (indicator, stage) pair and the pairs."""
    if "indicator_code" in indicators and "stage_code" in indicators:
        ids, stages = standard.indicator_ids, standard.stages
        codes = indicators["stage_code"].to_numpy() * len(ids) + indicators["indicator_code"].to_numpy()
        pairs = [(ind, stage) for stage in stages for ind in ids]
    else:
        ind_codes, ind_values = pd.factorize(indicators["indicator"])
        stage_codes, stage_values = pd.factorize(indicators["stage"])
        codes = stage_codes * len(ind_values) + ind_codes
        pairs = [(ind, stage) for stage in stage_values for ind in ind_values]
    used, codes = dense_codes(codes)
    return codes, [pairs[i] for i in used]


def _marks(values: np.ndarray, magnitudes: np.ndarray, codes: np.ndarray, pairs: Sequence[tuple[str, str]],
           standard: Standard, exact_values: ExactValues) -> dict[str, np.ndarray]:
    """threshold, floor, met, above_floor, ratio, shortfall of every row (see :func:`judge_sections`)."""
    digits = standard.compare_decimals
    thresholds = [standard.threshold(ind, stage) for ind, stage in pairs]
    floors = [standard.floor(ind, stage) for ind, stage in pairs]
    met = exact_at_least(values, magnitudes, codes, [minimum_bound(t, digits) for t in thresholds], exact_values)
    above = exact_at_least(values, magnitudes, codes, [minimum_bound(f, digits) for f in floors], exact_values)
    threshold = np.array([float(t) for t in thresholds])[codes] if pairs else np.zeros(0)
    ratio = _ratio(values, threshold, digits)
    return {
        "threshold": threshold,
        "floor": np.array([float(f) for f in floors])[codes] if pairs else np.zeros(0),
        "met": met,
        "above_floor": above,
        "ratio": ratio,
        "shortfall": np.maximum(threshold - values, 0),
    }


def _ratio(values: np.ndarray, threshold: np.ndarray, digits: int | None) -> np.ndarray:
    """Value (rounded half-up to ``digits`` when given) ÷ threshold; NaN for a zero threshold."""
    shown = values if digits is None else np.floor(values * 10.0**digits + 0.5) / 10.0**digits
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(threshold != 0, shown / threshold, np.nan)


def judge_sections(
    indicators: pd.DataFrame, standard: Standard, exact_values: ExactValues | None = None, group: np.ndarray | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Add threshold, floor, met, above_floor, ratio, shortfall to every indicator
    row and derive the section verdicts.

    Parameters
    ----------
    indicators : DataFrame
        One row per section × indicator with indicator, stage, value (float)
        and, optionally, ``magnitude`` and ``value_exact`` (Fractions).
    standard : Standard
    exact_values : callable, optional
        Row positions -> exact values, for re-checking rows near a bound;
        default: the ``value_exact`` column.
    group : ndarray of int, optional
        Section number of each row (default: by school_id × stage, and
        district_id when present).

    Returns
    -------
    (DataFrame, DataFrame)
        The judged indicator rows, and one verdict row per section:
        [district_id,] school_id, stage, school_name, school_type, area_type,
        students, indicators_met, indicators_below_floor, failed_indicators, passed.
    """
    if exact_values is None:
        exact_column = indicators["value_exact"].to_numpy(object)

        def exact_values(rows: np.ndarray) -> Sequence[Fraction]:
            return [Fraction(v) for v in exact_column[rows]]

    codes, pairs = _bounds(indicators, standard)
    values = indicators["value"].to_numpy(float)
    magnitudes = indicators["magnitude"].to_numpy(float) if "magnitude" in indicators else np.abs(values)
    rows = indicators.assign(**_marks(values, magnitudes, codes, pairs, standard, exact_values))
    return rows, section_verdicts(rows, standard, group)


def section_verdicts(judged: pd.DataFrame, standard: Standard, group: np.ndarray | None = None) -> pd.DataFrame:
    """One verdict row per section from judged indicator rows (see :func:`judge_sections`)."""
    keys = [k for k in ("district_id", "school_id", "stage") if k in judged.columns]
    if group is None:
        group = judged.groupby(keys, sort=False).ngroup().to_numpy()
    n = int(group.max()) + 1 if len(group) else 0
    first = first_rows(group, n)
    met = judged["met"].to_numpy(bool)
    below = ~judged["above_floor"].to_numpy(bool)
    verdicts = judged.iloc[first][[*keys, "school_name", "school_type", "area_type", "students"]].reset_index(drop=True)
    verdicts["indicators_met"] = np.bincount(group, weights=met, minlength=n).astype(int)
    verdicts["indicators_below_floor"] = np.bincount(group, weights=below, minlength=n).astype(int)
    verdicts["failed_indicators"] = join_by_group(group[~met], judged["indicator"].to_numpy(object)[~met], n)
    verdicts["passed"] = np.asarray(section_passed(verdicts["indicators_met"], verdicts["indicators_below_floor"], standard), dtype=bool)
    verdicts["students"] = verdicts["students"].astype(int)
    extra = [k for k in keys if k == "district_id"]
    return verdicts[[*extra, *VERDICT_COLUMNS]]



@dataclass(frozen=True)
class Judgement:
    """Marks of every section × indicator, arrays shaped (indicators, sections)
    like :class:`~balance_metrics.engine.indicators.IndicatorMatrix`.

    Attributes
    ----------
    threshold, floor : ndarray of float
    met, above_floor : ndarray of bool
        Decided exactly (see module doc).
    values : ndarray of float
        The judged values.
    digits : int or None
        The standard's ``compare_decimals``.
    """

    threshold: np.ndarray
    floor: np.ndarray
    met: np.ndarray
    above_floor: np.ndarray
    values: np.ndarray
    digits: int | None = None

    @property
    def ratio(self) -> np.ndarray:
        """Value (after the standard's rounding) ÷ threshold."""
        return _ratio(self.values, self.threshold, self.digits)

    @property
    def shortfall(self) -> np.ndarray:
        """max(threshold − value, 0)."""
        return np.maximum(self.threshold - self.values, 0)

    def take(self, rows: np.ndarray) -> "Judgement":
        """The marks of the sections at ``rows``."""
        return Judgement(self.threshold[:, rows], self.floor[:, rows], self.met[:, rows], self.above_floor[:, rows],
                         self.values[:, rows], self.digits)


def judge_matrix(values: np.ndarray, magnitudes: np.ndarray, stage_code: np.ndarray, ids: Sequence[str],
                 standard: Standard, exact_values: ExactValues) -> Judgement:
    """:func:`judge_sections` on (indicators × sections) arrays.

    Parameters
    ----------
    values, magnitudes : ndarray of float, shape (k, n)
    stage_code : ndarray of int, shape (n,)
        Each section's stage (position in ``standard.stages``).
    ids : sequence of str
        The k indicator ids.
    exact_values : callable
        Flat positions (``indicator × n + section``) -> exact values.
    """
    k, stages = len(ids), standard.stages
    digits = standard.compare_decimals
    stage_code = np.asarray(stage_code, dtype=np.int64)
    n = len(stage_code)
    flat_values, flat_magnitudes = values.ravel(), magnitudes.ravel()
    marks, least = {}, {}
    for name, bound in (("threshold", standard.threshold), ("floor", standard.floor)):
        exact = [[bound(ind, stage) for ind in ids] for stage in stages]
        marks[name] = np.array([[float(b) for b in row] for row in exact]).reshape(len(stages), k).T[:, stage_code]
        least[name] = [minimum_bound(b, digits) for row in exact for b in row]

    def judge(name: str, rows: np.ndarray | None) -> np.ndarray:
        """``value >= bound`` exactly, for all flat positions or only ``rows``."""
        table = np.array([float(b) for b in least[name]]).reshape(len(stages), k).T
        floats = (marks[name] if digits is None else table[:, stage_code]).ravel()
        at = (lambda r: r) if rows is None else (lambda r: rows[r])

        def codes_of(r: np.ndarray) -> np.ndarray:  # flat position -> (stage, indicator) code
            return stage_code[at(r) % n] * k + at(r) // n

        def exact_at(r: np.ndarray):
            return exact_values(at(r))

        if rows is None:
            return _at_least(flat_values, flat_magnitudes, floats, codes_of, least[name], exact_at)
        return _at_least(flat_values[rows], flat_magnitudes[rows], floats[rows], codes_of, least[name], exact_at)

    met = judge("threshold", None)
    if all(f <= t for f, t in zip(least["floor"], least["threshold"])):
        # A value that meets its threshold is above its floor: judge the floor only where the threshold is missed.
        above = met.copy()
        missed = np.flatnonzero(~met)
        above[missed] = judge("floor", missed)
    else:
        above = judge("floor", None)
    marks["threshold_met"], marks["floor_met"] = met.reshape(values.shape), above.reshape(values.shape)
    return Judgement(marks["threshold"], marks["floor"], marks["threshold_met"], marks["floor_met"], values, digits)


def failed_texts(met: np.ndarray, ids: Sequence[str], sep: str = ",") -> np.ndarray:
    """The ids of the indicators each row of ``met`` (n × k) misses, joined by ``sep``
    (one lookup in a table of the 2^k possible texts).

    Examples
    --------
    >>> failed_texts(np.array([[True, False, False], [True, True, True]]), ["R1", "R2", "R3"]).tolist()
    ['R2,R3', '']
    """
    k = len(ids)
    if k > 16:
        rows, cols = np.nonzero(~met)
        return join_by_group(rows, np.asarray(ids, dtype=object)[cols], len(met), sep)
    table = np.array([sep.join(i for j, i in enumerate(ids) if mask >> j & 1) for mask in range(1 << k)], dtype=object)
    code = np.zeros(len(met), dtype=np.int64)
    for j in range(k):
        code |= (~met[:, j]).astype(np.int64) << j
    return table[code]


def matrix_verdicts(sections: pd.DataFrame, judgement: Judgement, ids: Sequence[str], standard: Standard) -> pd.DataFrame:
    """One verdict row per section (row ``i`` of ``sections``; see :func:`section_verdicts`)."""
    keys = [k for k in ("district_id",) if k in sections.columns]
    met = judgement.met.sum(axis=0).astype(np.int64)
    below = (~judgement.above_floor).sum(axis=0).astype(np.int64)
    columns = {c: sections[c].array for c in [*keys, *VERDICT_COLUMNS[:5]]}
    columns |= {
        "students": sections["students"].to_numpy(np.int64),
        "indicators_met": met,
        "indicators_below_floor": below,
        "failed_indicators": pd.array(failed_texts(judgement.met.T, ids), dtype="str"),
        "passed": np.asarray(section_passed(met, below, standard), dtype=bool),
    }
    return pd.DataFrame(columns, copy=False)


def judge_values(values: Mapping[str, Fraction], stage: str, standard: Standard) -> pd.DataFrame:
    """Judge one section's indicator values against thresholds and floors.

    Parameters
    ----------
    values : mapping
        Indicator id -> exact value (Fraction, int or decimal string).
    stage : {"primary", "junior"}
    standard : Standard

    Returns
    -------
    DataFrame
        indicator, threshold, floor, met, above_floor, ratio (value ÷ threshold).
    """
    exact = [Fraction(v) for v in values.values()]
    frame = pd.DataFrame({"indicator": list(values), "stage": stage, "value": [float(v) for v in exact]})
    judged, _ = judge_sections(frame.assign(school_id="", school_name="", school_type="", area_type="", students=0),
                               standard, exact_values=lambda rows: [exact[i] for i in rows])
    return judged[["indicator", "threshold", "floor", "met", "above_floor", "ratio"]]


def section_passes(met: pd.Series, above_floor: pd.Series, standard: Standard) -> bool:
    """The per-section rule for one section's indicator marks."""
    return bool(section_passed(int(met.sum()), int((~above_floor).sum()), standard))
