"""Everything a report needs about one period, loaded once: :func:`load_context`.

A report notebook calls :func:`load_context` and passes the resulting
:class:`ReportContext` to the section builders
(:mod:`balance_metrics.district_sections`, :mod:`balance_metrics.school_sections`).

Some analyses live in modules that may not be installed yet (the full
evaluation, multi-period monitoring, gap costing, equity). They are detected
here (:func:`optional_module`); a report then states what it does not cover
("本期报告尚未覆盖：…") instead of failing.

Building the multi-period panel evaluates every earlier period (≈ 0.5 s per
period). Every report of a run needs the same panel, so it is cached on disk
under a key made of the input files' contents, the standard and the package's
source code (:func:`load_panel`); a change to any of them misses the cache.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import pickle
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from .atomic import atomic_write_bytes
from .dataset import Dataset, is_period_label, load_period, period_sort_key
from .presentation import check_lang
from .resources import ResourceEvaluation, evaluate_resources
from .standards import DEFAULT_STANDARD, Standard, load_standard

__all__ = [
    "FEATURES",
    "Feature",
    "ReportContext",
    "find_period_labels",
    "load_context",
    "load_panel",
    "optional_module",
    "resolve_period",
]


@dataclass(frozen=True)
class Feature:
    """An optional analysis module.

    Attributes
    ----------
    key : str
        Short name.
    module : str
        Import path.
    functions : tuple of str
        Functions the reports call; a module lacking one counts as absent.
    topic : str
        What the report cannot show without it (Chinese).
    """

    key: str
    module: str
    functions: tuple[str, ...]
    topic: str


FEATURES: dict[str, Feature] = {
    f.key: f
    for f in (
        Feature(
            "evaluation",
            "balance_metrics.evaluation",
            ("evaluate",),
            "政府保障程度（G1–G15）、教育质量（Q1–Q9）、社会认可度与否决项的评估及创建准备情况",
        ),
        Feature(
            "monitoring",
            "balance_metrics.monitoring",
            ("build_panel", "find_periods", "trends", "section_changes", "progress", "school_history"),
            "多期趋势、达标变化与目标进度",
        ),
        Feature(
            "gaps",
            "balance_metrics.gaps",
            ("resource_gaps", "cheapest_remediation", "district_gaps", "balance_after_remediation"),
            "资源差距测算与最低成本整改方案",
        ),
        Feature("equity", "balance_metrics.equity", ("group_gaps",), "城区、镇区、乡村之间的群体差距"),
    )
}


def optional_module(key: str) -> ModuleType | None:
    """The optional module ``key`` if it is installed and complete, else None.

    Parameters
    ----------
    key : str
        A key of :data:`FEATURES`.

    Raises
    ------
    KeyError
        Unknown key.
    ImportError
        The module exists but fails to import because *another* module is
        missing: that is a bug to fix, not a feature to skip.
    """
    feature = FEATURES[key]
    try:
        module = importlib.import_module(feature.module)
    except ModuleNotFoundError as error:
        if error.name == feature.module:
            return None
        raise
    if not all(callable(getattr(module, name, None)) for name in feature.functions):
        return None
    return module


# --------------------------------------------------------------------------
# Periods
# --------------------------------------------------------------------------


def find_period_labels(data_dir: str | os.PathLike[str]) -> list[str]:
    """Period folders under ``data_dir`` (``2022Q4``, ``2022-10``), oldest first.

    Raises
    ------
    FileNotFoundError
        If ``data_dir`` is not a folder.
    """
    folder = Path(data_dir)
    if not folder.is_dir():
        raise FileNotFoundError(f"data folder not found: {folder.resolve()}")
    labels = [p.name for p in folder.iterdir() if p.is_dir() and is_period_label(p.name)]
    return sorted(labels, key=period_sort_key)


def resolve_period(data_dir: str | os.PathLike[str], period: str) -> str:
    """The period label to report on; ``"latest"`` means the newest folder.

    Parameters
    ----------
    data_dir : str or os.PathLike
        Folder of period folders.
    period : str
        ``"2022Q4"``, ``"2022-10"`` or ``"latest"`` (newest quarter if any
        quarterly folder exists, else the newest month).

    Returns
    -------
    str

    Raises
    ------
    FileNotFoundError
        No such period folder, or no period folder at all.
    ValueError
        ``period`` is not a period label.
    """
    labels = find_period_labels(data_dir)
    if period == "latest":
        if not labels:
            raise FileNotFoundError(f"no period folders (named like 2022Q4 or 2022-10) in {Path(data_dir).resolve()}")
        quarters = [p for p in labels if "Q" in p]
        return (quarters or labels)[-1]
    period_sort_key(period)  # raises ValueError for a malformed label
    if period not in labels:
        known = ", ".join(labels) or "none"
        raise FileNotFoundError(f"period {period} not found in {Path(data_dir).resolve()} (periods: {known})")
    return period


# --------------------------------------------------------------------------
# Panel cache
# --------------------------------------------------------------------------

_CACHE_ENV = "BALANCE_METRICS_CACHE_DIR"
_NO_CACHE_ENV = "BALANCE_METRICS_NO_PANEL_CACHE"
_CACHE_KEEP = 16


def _cache_dir() -> Path | None:
    override = os.environ.get(_CACHE_ENV)
    base = Path(override) if override else Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "balance_metrics"
    folder = base / "panels"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return folder if os.access(folder, os.W_OK) else None


def _hash_folder(digest: Any, folder: Path) -> None:
    for path in sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith((".", "~$"))):
        digest.update(path.name.encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())


def _code_digest() -> bytes:
    # The panel is a result of the code as much as of the data: a developer
    # fixing the engine must not get yesterday's numbers from the cache.
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent
    for path in sorted([*package.glob("*.py"), *package.glob("standards/*.toml")]):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.digest()


def _panel_key(data_dir: Path, periods: list[str], standard: Standard) -> str:
    digest = hashlib.sha256()
    digest.update(_code_digest())
    digest.update(json.dumps([standard.name, list(standard.chain), standard.data], sort_keys=True, default=str).encode())
    for label in periods:
        digest.update(label.encode())
        _hash_folder(digest, data_dir / label)
    return digest.hexdigest()[:32]


def _prune(folder: Path) -> None:
    entries = sorted(folder.glob("panel-*.pkl"), key=lambda p: p.stat().st_mtime, reverse=True)
    for stale in entries[_CACHE_KEEP:]:
        stale.unlink(missing_ok=True)


def load_panel(data_dir: str | os.PathLike[str], period: str, standard: str | Standard = DEFAULT_STANDARD) -> Any | None:
    """The monitoring panel of every period up to ``period``, cached on disk.

    Parameters
    ----------
    data_dir : str or os.PathLike
        Folder of period folders.
    period : str
        Last period included; only periods of the same frequency (quarters
        for ``2022Q4``, months for ``2022-10``) are taken.
    standard : str, Path or Standard
        Applied to every period.

    Returns
    -------
    balance_metrics.monitoring.Panel or None
        None when the monitoring module is not available. Earlier periods
        with invalid data are skipped and listed in ``Panel.failed_periods``.

    Notes
    -----
    Cache files live in ``$BALANCE_METRICS_CACHE_DIR/panels`` (default
    ``~/.cache/balance_metrics/panels``), are pickles written by this
    function, and are only read back from there; set
    ``BALANCE_METRICS_NO_PANEL_CACHE=1`` to bypass the cache.
    """
    monitoring = optional_module("monitoring")
    if monitoring is None:
        return None
    std = load_standard(standard)
    folder = Path(data_dir).resolve()
    quarterly = "Q" in period
    periods = [
        p for p in find_period_labels(folder) if ("Q" in p) == quarterly and period_sort_key(p) <= period_sort_key(period)
    ]
    cache = None if os.environ.get(_NO_CACHE_ENV) else _cache_dir()
    target = cache / f"panel-{_panel_key(folder, periods, std)}.pkl" if cache else None
    if target is not None and target.is_file():
        try:
            with target.open("rb") as handle:
                return pickle.load(handle)
        except Exception:  # noqa: BLE001 - a stale or truncated cache entry is rebuilt
            target.unlink(missing_ok=True)
    panel = monitoring.build_panel(folder, std, periods=periods, on_error="skip")
    if target is not None:
        atomic_write_bytes(target, pickle.dumps(panel, protocol=pickle.HIGHEST_PROTOCOL))
        _prune(target.parent)
    return panel


# --------------------------------------------------------------------------
# The context
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportContext:
    """One period, evaluated, with the optional analyses that are available.

    Attributes
    ----------
    period : str
        The period (``"latest"`` resolved).
    data_dir : Path
        Folder of period folders (absolute).
    dataset : Dataset
    standard : Standard
    resources : ResourceEvaluation
    evaluation : object or None
        ``balance_metrics.evaluation.evaluate`` result, when available.
    panel : object or None
        ``balance_metrics.monitoring.Panel`` up to this period, when available.
    modules : mapping
        Feature key → module or None.
    lang : str
    """

    period: str
    data_dir: Path
    dataset: Dataset
    standard: Standard
    resources: ResourceEvaluation
    evaluation: Any
    panel: Any
    modules: Mapping[str, ModuleType | None] = field(repr=False)
    lang: str = "zh-CN"

    @property
    def decimals(self) -> int:
        """Decimals for indicator values, ratios and CVs (the standard's)."""
        return self.standard.display_decimals

    def module(self, key: str) -> ModuleType | None:
        """The optional module ``key`` (None when absent)."""
        return self.modules.get(key)

    def missing_topics(self, *keys: str) -> list[str]:
        """Chinese descriptions of the absent features among ``keys`` (all if none given)."""
        wanted = keys or tuple(FEATURES)
        return [FEATURES[k].topic for k in wanted if self.modules.get(k) is None]


def load_context(
    data_dir: str | os.PathLike[str],
    period: str = "latest",
    standard: str | os.PathLike[str] | Standard = DEFAULT_STANDARD,
    *,
    lang: str = "zh-CN",
    with_panel: bool = True,
) -> ReportContext:
    """Load, validate and evaluate one period for a report.

    Parameters
    ----------
    data_dir : str or os.PathLike
        Folder of period folders (``data/raw``); relative paths are taken
        from the current directory.
    period : str, default "latest"
        Period label or ``"latest"``.
    standard : str, Path or Standard, default "national-2017"
        Built-in standard name or TOML file.
    lang : str, default "zh-CN"
        Report language (only Simplified Chinese is implemented).
    with_panel : bool, default True
        Build the multi-period panel (trends, history) when monitoring is
        available.

    Returns
    -------
    ReportContext

    Raises
    ------
    DataValidationError
        The period's data break the data contract.
    StandardError
        The standard cannot be loaded.
    FileNotFoundError, ValueError
        No such data folder or period.
    """
    language = check_lang(lang)
    folder = Path(data_dir).resolve()
    label = resolve_period(folder, period)
    std = load_standard(standard)
    dataset = load_period(folder / label)
    modules = {key: optional_module(key) for key in FEATURES}
    evaluation = None
    if modules["evaluation"] is not None:
        evaluation = modules["evaluation"].evaluate(dataset, std)
        resources = evaluation.resources
    else:
        resources = evaluate_resources(dataset, std)
    panel = load_panel(folder, label, std) if with_panel else None
    return ReportContext(
        period=label,
        data_dir=folder,
        dataset=dataset,
        standard=std,
        resources=resources,
        evaluation=evaluation,
        panel=panel,
        modules=modules,
        lang=language,
    )
