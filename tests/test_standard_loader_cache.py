"""load_standard is cached by the bytes of every file of the extends chain."""

from __future__ import annotations

import pytest

from balance_metrics.common.errors import StandardError
from balance_metrics.standard import loader
from balance_metrics.standard.loader import load_standard


def test_unchanged_standard_is_the_same_object():
    assert load_standard("beichen-2021") is load_standard("beichen-2021")
    assert load_standard("national-2017") is not load_standard("beichen-2021")


def test_a_changed_file_is_read_again(tmp_path):
    base = tmp_path / "base.toml"
    user = tmp_path / "user.toml"
    base.write_text('extends = "national-2017"\nname = "base"\n[balance.cv_limits]\nprimary = "0.40"\n', encoding="utf-8")
    user.write_text(f'extends = "{base.as_posix()}"\nname = "user"\n', encoding="utf-8")
    first = load_standard(user)
    assert load_standard(user) is first
    # The parent changes: the child must see it although its own bytes did not change.
    base.write_text('extends = "national-2017"\nname = "base"\n[balance.cv_limits]\nprimary = "0.45"\n', encoding="utf-8")
    second = load_standard(user)
    assert second is not first
    assert second.data["balance"]["cv_limits"]["primary"] == "0.45"
    assert first.data["balance"]["cv_limits"]["primary"] == "0.40"  # the earlier object is untouched


def test_cached_equals_a_fresh_load(tmp_path, monkeypatch):
    cached = load_standard("beichen-2021")
    monkeypatch.setattr(loader, "_loaded", type(loader._loaded)())
    fresh = load_standard("beichen-2021")
    assert fresh is not cached and fresh == cached


def test_errors_are_not_cached(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("extends = [", encoding="utf-8")
    for _ in range(2):
        with pytest.raises(StandardError, match="not valid TOML"):
            load_standard(bad)
    bad.write_text('extends = "national-2017"\nname = "fixed"\n', encoding="utf-8")
    assert load_standard(bad).name == "fixed"


def test_cache_is_bounded(tmp_path):
    for i in range(loader.CACHE_SIZE + 3):
        path = tmp_path / f"s{i}.toml"
        path.write_text(f'extends = "national-2017"\nname = "s{i}"\n', encoding="utf-8")
        load_standard(path)
    assert len(loader._loaded) <= loader.CACHE_SIZE
