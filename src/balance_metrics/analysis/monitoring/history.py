"""History: district values and CVs over time (:func:`trends`) and one school over
time (:func:`school_history`, for the per-school report)."""

from __future__ import annotations

import pandas as pd

from balance_metrics.analysis.monitoring.panel import Panel, by_period, standard_order
from balance_metrics.contract.periods import period_end


def trends(panel: Panel) -> pd.DataFrame:
    """District value and CV of every stage × indicator over time.

    Returns
    -------
    DataFrame
        One row per [district ×] stage × indicator × period: [district_id,]
        stage, indicator, name, period, period_end, sections, students,
        district_value (the indicator's unit), cv, limit, passed,
        sections_met, district_value_change and cv_change (since the previous
        period in which the pair was evaluated; NaN in its first),
        baseline_period (the first such period), district_value_since_baseline
        and cv_since_baseline. ``district_id`` only for a panel of many
        districts (each district's series on its own).
    """
    keys = [*panel.keys, "stage", "indicator"]
    columns = [*keys, "name", "period", "period_end", "sections", "students", "district_value", "cv",
               "limit", "passed", "sections_met", "district_value_change", "cv_change", "baseline_period",
               "district_value_since_baseline", "cv_since_baseline"]
    if panel.balance.empty:
        return pd.DataFrame(columns=columns)
    frame = by_period(panel.balance, keys)
    ends = {p: period_end(p) for p in frame["period"].unique()}
    frame["period_end"] = frame["period"].map(ends)
    groups = frame.groupby(keys, sort=False)
    for col in ("district_value", "cv"):
        frame[f"{col}_change"] = groups[col].diff()
        frame[f"{col}_since_baseline"] = frame[col] - groups[col].transform("first")
    frame["baseline_period"] = groups["period"].transform("first")
    frame = frame.sort_values(keys, key=standard_order(panel.standard), kind="stable")
    return frame[columns].reset_index(drop=True)


# -- one school over time -------------------------------------------------------------------


def school_history(panel: Panel, school_id: str) -> pd.DataFrame:
    """One school's indicator values, verdicts and changes over time.

    Parameters
    ----------
    panel : Panel
    school_id : str

    Returns
    -------
    DataFrame
        One row per period × evaluated stage × indicator: period, period_end,
        school_id, school_name, school_type, stage, students, indicator, name,
        unit, value (the indicator's unit), threshold, met, value_change (since
        the school's previous period), section_passed, indicators_met,
        failed_indicators, events (the period's changes, Chinese, "；"-joined)
        and note. Periods in which the school was reported but not evaluated
        (excluded, merged into a parent campus) or in which it closed get one
        row with an empty indicator and the reason in ``note``.

    Raises
    ------
    KeyError
        The school appears in no period of the panel.
    """
    roster = panel.schools[panel.schools["school_id"] == school_id]
    changes = panel.changes[panel.changes["school_id"] == school_id]
    if roster.empty and changes.empty:
        span = f"{panel.periods[0]}–{panel.periods[-1]}" if panel.periods else "empty panel"
        raise KeyError(f"school {school_id} is in no period of the panel ({span})")
    events = changes.groupby("period")["description"].agg("；".join)
    values = _school_values(panel, school_id)
    others = _school_notes(panel, school_id, roster, changes, set(values["period"]))
    frame = pd.concat([f for f in (values, others) if len(f)], ignore_index=True)
    frame["events"] = frame["period"].map(lambda p: events.get(p, ""))
    frame["period_end"] = frame["period"].map(period_end)
    frame = frame.sort_values(["stage", "indicator"], key=standard_order(panel.standard), kind="stable")
    frame = frame.sort_values("period_end", kind="stable")
    return frame[HISTORY_COLUMNS].reset_index(drop=True)


HISTORY_COLUMNS = [
    "period", "period_end", "school_id", "school_name", "school_type", "stage", "students", "indicator", "name",
    "unit", "value", "threshold", "met", "value_change", "section_passed", "indicators_met", "failed_indicators",
    "events", "note",
]


def _school_values(panel: Panel, school_id: str) -> pd.DataFrame:
    ind = panel.indicators[panel.indicators["school_id"] == school_id]
    if ind.empty:
        return pd.DataFrame(columns=HISTORY_COLUMNS)
    ind = by_period(ind, ["stage", "indicator"])
    ind["value_change"] = ind.groupby(["stage", "indicator"], sort=False)["value"].diff()
    verdicts = panel.verdicts[panel.verdicts["school_id"] == school_id][
        ["period", "stage", "passed", "indicators_met", "failed_indicators"]
    ].rename(columns={"passed": "section_passed"})
    out = ind.merge(verdicts, on=["period", "stage"], how="left")
    out["note"] = ""
    return out


def _school_notes(panel: Panel, school_id: str, roster: pd.DataFrame, changes: pd.DataFrame,
                  evaluated: set[str]) -> pd.DataFrame:
    """Rows for periods without indicator values: why the school has none."""
    rows = []
    excluded = panel.excluded[panel.excluded["school_id"] == school_id]
    names = panel.schools.set_index(["period", "school_id"])["school_name"]
    for r in roster.itertuples():
        if r.period in evaluated:
            continue
        reasons = excluded.loc[excluded["period"] == r.period, "reason"].tolist()
        if pd.notna(r.parent_school_id) and r.parent_school_id:
            parent = names.get((r.period, r.parent_school_id), r.parent_school_id)
            reasons.append(f"不计校数的分校区，并入{parent}（{r.parent_school_id}）计算")
        rows.append({"period": r.period, "school_id": school_id, "school_name": r.school_name,
                     "school_type": r.school_type, "stage": r.stages, "students": r.students, "indicator": "",
                     "note": "；".join(reasons) or "本期未参与计算"})
    for c in changes[changes["change"] == "closed"].itertuples():
        rows.append({"period": c.period, "school_id": school_id, "school_name": c.school_name,
                     "school_type": c.before, "stage": "", "students": pd.NA, "indicator": "", "note": c.description})
    return pd.DataFrame(rows, columns=[c for c in HISTORY_COLUMNS if c not in ("events", "period_end")])
