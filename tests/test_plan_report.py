"""达标路径 in the district and school reports."""

from __future__ import annotations

import re

import pytest
from conftest import SAMPLE

from balance_metrics.reporting import plan_sections
from balance_metrics.reporting.context import load_context


@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("BALANCE_METRICS_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    yield load_context(SAMPLE, "2022Q4", "beichen-2021", with_panel=False)
    mp.undo()


def text(html) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", str(html)))


def test_district_section_shows_cost_actions_and_cvs(ctx):
    plan = plan_sections.plan_for(ctx)
    out = text(plan_sections.district(ctx))
    assert f"合计 {plan.cost:,.0f} 元" in out
    assert "实施前差异系数" in out and "0.526" in out  # primary R2 before
    assert "调出" in out and "调入" in out
    assert "至少6项指标" in out and "10%" in out  # built from the standard's values
    assert "每年交流轮岗教师中县级及以上骨干教师不低于20%" in out  # [planning.rotation.min_share]
    # Cached: the school report reads the same plan without solving again.
    assert plan_sections.plan_for(ctx).cost == plan.cost


def test_school_section_shows_its_part(ctx):
    plan = plan_sections.plan_for(ctx)
    giver = plan.items.loc[plan.items["amount"] < 0, "school_id"].iloc[0]
    assert "调出" in text(plan_sections.school(ctx, giver))
    untouched = sorted(set(plan.before.verdicts["school_id"]) - set(plan.items["school_id"]))[0]
    assert "本校无需采取措施" in text(plan_sections.school(ctx, untouched))
