"""Evaluation standards held as data: :func:`list_standards`, :func:`load_standard`.

A standard is a TOML file. ``national-2017`` is complete; local standards name
the standard they ``extend`` and list only what differs; a user's override file
does the same (``extends = "beichen-2021"``). Tables merge key by key, so an
override of one threshold keeps every other. Numbers that must compare exactly
are written as strings ("0.85") and read as :class:`fractions.Fraction`.
"""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from balance_metrics.common.errors import StandardError

DEFAULT_STANDARD = "national-2017"
_PACKAGE_DIR = "data"


@dataclass(frozen=True)
class Standard:
    """A resolved standard: its own metadata plus the merged rule data.

    Attributes
    ----------
    name, title, version : str
    chain : tuple of str
        The standards merged, base first (e.g. national-2017, tianjin-2021, beichen-2021).
    data : Mapping
        The merged TOML tables.
    """

    name: str
    title: str
    version: str
    chain: tuple[str, ...]
    data: Mapping[str, Any]

    # -- resource indicators -------------------------------------------------
    @property
    def indicator_ids(self) -> list[str]:
        return sorted(self.data["indicators"], key=lambda i: (len(i), i))

    @property
    def stages(self) -> list[str]:
        return list(self.data["scope"]["stages"])

    def indicator(self, indicator_id: str) -> Mapping[str, Any]:
        return self.data["indicators"][indicator_id]

    def threshold(self, indicator_id: str, stage: str) -> Fraction:
        """Threshold of an indicator for a stage, exact."""
        return exact(self.indicator(indicator_id)["thresholds"][stage])

    def floor(self, indicator_id: str, stage: str) -> Fraction:
        """The 85 % floor (``floor_factor`` × threshold), exact."""
        return self.threshold(indicator_id, stage) * self.floor_factor

    @property
    def floor_factor(self) -> Fraction:
        return exact(self.data["section_rule"]["floor_factor"])

    @property
    def min_indicators_met(self) -> int:
        return int(self.data["section_rule"]["min_indicators_met"])

    def cv_limit(self, stage: str) -> Fraction:
        return exact(self.data["balance"]["cv_limits"][stage])

    @property
    def compare_decimals(self) -> int | None:
        """Decimals to round to (half-up) before comparing; ``None`` = unrounded."""
        digits = int(self.data["balance"].get("compare_decimals", -1))
        return None if digits < 0 else digits

    @property
    def display_decimals(self) -> int:
        return int(self.data["balance"].get("display_decimals", 3))

    def split_weights(self, school_type: str) -> dict[str, Fraction] | None:
        weights = self.data["split_weights"].get(school_type)
        if weights is None:
            return None
        return {stage: exact(w) for stage, w in weights.items() if stage != "source"}

    def indicators_frame(self) -> pd.DataFrame:
        """One row per indicator × stage: names, unit, threshold, floor."""
        rows = []
        for ind in self.indicator_ids:
            spec = self.indicator(ind)
            for stage in self.stages:
                rows.append(
                    {
                        "indicator": ind,
                        "name": spec["name"],
                        "name_en": spec.get("name_en", ""),
                        "unit": spec.get("unit", ""),
                        "stage": stage,
                        "threshold": float(self.threshold(ind, stage)),
                        "floor": float(self.floor(ind, stage)),
                        "cv_limit": float(self.cv_limit(stage)),
                        "source": spec.get("source", ""),
                    }
                )
        return pd.DataFrame(rows)

    def get(self, dotted: str, default: Any = None) -> Any:
        """A value by dotted path, e.g. ``standard.get("guarantee.G4.limits")``."""
        node: Any = self.data
        for part in dotted.split("."):
            if not isinstance(node, Mapping) or part not in node:
                return default
            node = node[part]
        return node

    @property
    def label(self) -> str:
        return f"{self.name} v{self.version}"


def exact(value: Any) -> Fraction:
    """A number from a standard file as an exact fraction.

    Strings and ints convert exactly; floats go through their shortest ``repr``
    so that ``4.5`` means 9/2, not the binary approximation.
    """
    if isinstance(value, bool):
        raise StandardError(f"expected a number, got {value!r}")
    if isinstance(value, float):
        value = repr(value)
    try:
        return Fraction(value)
    except (TypeError, ValueError) as exc:
        raise StandardError(f"expected a number, got {value!r}") from exc


def _builtin_path(name: str) -> Path | None:
    candidate = resources.files("balance_metrics.standard").joinpath(_PACKAGE_DIR, f"{name}.toml")
    return Path(str(candidate)) if candidate.is_file() else None


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise StandardError(f"{path}: not valid TOML: {exc}") from exc


def _merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _resolve(name_or_path: str | Path, seen: tuple[str, ...]) -> tuple[dict[str, Any], tuple[str, ...]]:
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.exists():
        if not path.is_file():
            raise StandardError(f"standard file not found: {path}")
        label = str(path)
    else:
        found = _builtin_path(str(name_or_path))
        if found is None:
            known = ", ".join(list_standards()["name"])
            raise StandardError(f"unknown standard {name_or_path!r}; built-in standards: {known}; or give a .toml file")
        path, label = found, str(name_or_path)
    if label in seen:
        raise StandardError(f"standard {label} extends itself through {' -> '.join(seen)}")
    own = _read(path)
    parent = own.get("extends")
    if not parent:
        return own, (own.get("name", label),)
    base, chain = _resolve(parent, (*seen, label))
    return _merge(base, own), (*chain, own.get("name", label))


def load_standard(name_or_path: str | Path | Standard = DEFAULT_STANDARD) -> Standard:
    """Load a built-in standard by name or a TOML file by path.

    Parameters
    ----------
    name_or_path : str, Path or Standard
        ``"national-2017"``, ``"tianjin-2021"``, ``"beichen-2021"``, or the path
        of a user's TOML file that ``extends`` one of them. A :class:`Standard`
        is returned unchanged.

    Raises
    ------
    StandardError
        Unknown name, unreadable file, a cycle of ``extends``, or a required
        part missing.
    """
    if isinstance(name_or_path, Standard):
        return name_or_path
    data, chain = _resolve(name_or_path, ())
    _check(data, str(name_or_path))
    return Standard(
        name=str(data.get("name", name_or_path)),
        title=str(data.get("title", "")),
        version=str(data.get("version", "")),
        chain=chain,
        data=data,
    )


def _check(data: Mapping[str, Any], label: str) -> None:
    missing = [key for key in ("scope", "split_weights", "section_rule", "balance", "indicators") if key not in data]
    if missing:
        raise StandardError(f"standard {label} lacks {', '.join(missing)} (does it extend national-2017?)")
    stages = data["scope"]["stages"]
    errors = []
    for ind, spec in data["indicators"].items():
        for key in ("name", "basis", "terms", "scale", "thresholds"):
            if key not in spec:
                errors.append(f"indicator {ind} lacks '{key}'")
        if spec.get("basis") not in ("section", "facility"):
            errors.append(f"indicator {ind}: basis must be 'section' or 'facility'")
        for stage in stages:
            if stage not in spec.get("thresholds", {}):
                errors.append(f"indicator {ind} has no threshold for stage {stage}")
            else:
                exact(spec["thresholds"][stage])
    for stage in stages:
        if stage not in data["balance"]["cv_limits"]:
            errors.append(f"no CV limit for stage {stage}")
    if errors:
        raise StandardError(f"standard {label}: " + "; ".join(errors))


def list_standards() -> pd.DataFrame:
    """The built-in standards: name, title, version, extends."""
    folder = resources.files("balance_metrics.standard").joinpath(_PACKAGE_DIR)
    rows = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            data = tomllib.loads(entry.read_text(encoding="utf-8"))
            rows.append(
                {
                    "name": data.get("name", entry.name[:-5]),
                    "title": data.get("title", ""),
                    "version": data.get("version", ""),
                    "extends": data.get("extends", ""),
                }
            )
    return pd.DataFrame(rows, columns=["name", "title", "version", "extends"])
