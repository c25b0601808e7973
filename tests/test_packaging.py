"""environment.yml mirrors pyproject.toml's requirements; jupyterlab stays a dev extra."""

from __future__ import annotations

import re
import tomllib

from conftest import REPO


def _names(requirements: list[str]) -> set[str]:
    return {re.split(r"[<>=!~\[ ;]", r, maxsplit=1)[0].lower() for r in requirements}


def test_environment_yml_mirrors_pyproject():
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = _names(project["dependencies"]) | _names(project["optional-dependencies"]["dev"])
    env = (REPO / "environment.yml").read_text(encoding="utf-8").lower()
    listed = set(re.findall(r"^\s*- ([a-z0-9_.-]+)", env, flags=re.M))
    assert wanted - listed == set()


def test_jupyterlab_is_not_a_runtime_dependency():
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert "jupyterlab" not in _names(project["dependencies"])
    assert "jupyterlab" in _names(project["optional-dependencies"]["dev"])
