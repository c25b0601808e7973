"""The docstring examples of every module run (also ``make test``: ``pytest --doctest-modules src``)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import balance_metrics

MODULES = sorted(m.name for m in pkgutil.walk_packages(balance_metrics.__path__, "balance_metrics.") if not m.name.endswith("__main__"))


def test_some_modules_have_examples():
    finder = doctest.DocTestFinder()
    with_examples = [m for m in MODULES if any(t.examples for t in finder.find(importlib.import_module(m)))]
    assert len(with_examples) >= 5, with_examples


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, report=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} example(s) failed in {name}"
