"""The data contract document names every table and column the loader accepts."""

from __future__ import annotations

from conftest import REPO

from balance_metrics.contract.schema import TABLES


def test_data_contract_lists_every_column():
    text = (REPO / "docs" / "data-contract.md").read_text(encoding="utf-8")
    missing = [
        f"{t.name}.{c.name}"
        for t in TABLES.values()
        for c in t.columns
        if f"`{c.name}`" not in text or c.zh not in text
    ]
    missing += [t.name for t in TABLES.values() if f"`{t.name}`" not in text]
    assert not missing, f"docs/data-contract.md lacks: {missing}"
