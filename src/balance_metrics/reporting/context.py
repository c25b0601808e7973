"""Everything a report needs about one period, loaded once: :func:`load_context`.

A report notebook calls :func:`load_context` and passes the resulting
:class:`ReportContext` to the section builders
(:mod:`balance_metrics.district_sections`, :mod:`balance_metrics.school_sections`).

A batch evaluates once: the batch runner builds the context in its own process,
writes it with :func:`write_context_cache` and gives every notebook the file's
path and SHA-256 as parameters; :func:`load_context` then reads it back
(checking the hash) instead of evaluating again. A notebook run by hand has no
cache file and evaluates everything itself, with the same numbers.

Building the multi-period panel evaluates every earlier period (≈ 0.5 s per
period). Every report of a run needs the same panel, so it is cached on disk
under a key made of the input files' contents, the standard and the package's
source code (:func:`load_panel`); a change to any of them misses the cache.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
from dataclasses import dataclass, replace
from pathlib import Path
from collections.abc import Callable
from typing import Any, TypeVar

from balance_metrics.analysis import monitoring
from balance_metrics.common.atomic import atomic_write_bytes
from balance_metrics.contract.dataset import Dataset, load_period
from balance_metrics.contract.periods import find_periods, frequency_of, latest_period, period_sort_key
from balance_metrics.evaluation.evaluate import Evaluation, evaluate
from balance_metrics.reporting.presentation import check_lang
from balance_metrics.engine.resources import ResourceEvaluation
from balance_metrics.standard.loader import DEFAULT_STANDARD, Standard, load_standard

__all__ = [
    "ContextCacheError",
    "ReportContext",
    "district_context",
    "inputs_key",
    "load_context",
    "load_panel",
    "read_context_cache",
    "resolve_period",
    "write_context_cache",
]


# --------------------------------------------------------------------------
# Periods
# --------------------------------------------------------------------------


def resolve_period(data_dir: str | os.PathLike[str], period: str) -> str:
    """The period label to report on; ``"latest"`` means the newest folder.

    Period discovery is :func:`balance_metrics.contract.periods.find_periods`; this
    only adds the report's choice of "latest" and the error messages.

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
    folder = Path(data_dir).resolve()
    if period == "latest":
        quarters = find_periods(folder, "quarterly")
        return quarters[-1] if quarters else latest_period(folder)
    period_sort_key(period)  # raises ValueError for a malformed label
    labels = find_periods(folder)
    if period not in labels:
        known = ", ".join(labels) or "none"
        raise FileNotFoundError(f"period {period} not found in {folder} (periods: {known})")
    return period


# --------------------------------------------------------------------------
# Panel cache
# --------------------------------------------------------------------------

_CACHE_ENV = "BALANCE_METRICS_CACHE_DIR"
_NO_CACHE_ENV = "BALANCE_METRICS_NO_PANEL_CACHE"
_CACHE_KEEP = 16
#: Folder of the per-period panel cache, beside ``<data_dir>`` under ``processed``.
PERIOD_CACHE = "panel_periods"
T = TypeVar("T")


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
    package = Path(__file__).resolve().parents[1]
    for path in sorted([*package.rglob("*.py"), *package.rglob("*.toml")]):
        digest.update(str(path.relative_to(package)).encode())
        digest.update(path.read_bytes())
    return digest.digest()


def inputs_key(data_dir: str | os.PathLike[str], period: str, standard: Standard) -> str:
    """Hash of everything a period's reports depend on.

    The package's source code and standard data files, the resolved standard
    and the content of every input file of ``period`` and of the earlier
    periods of the same frequency (the history the reports show).

    Returns
    -------
    str
        32 hex digits.
    """
    folder = Path(data_dir).resolve()
    return _panel_key(folder, _periods_up_to(folder, period), standard)


def _periods_up_to(folder: Path, period: str) -> list[str]:
    return [p for p in find_periods(folder, frequency_of(period)) if period_sort_key(p) <= period_sort_key(period)]


def _panel_key(data_dir: Path, periods: list[str], standard: Standard) -> str:
    digest = hashlib.sha256()
    digest.update(_code_digest())
    digest.update(json.dumps([standard.name, list(standard.chain), standard.data], sort_keys=True, default=str).encode())
    for label in periods:
        digest.update(label.encode())
        _hash_folder(digest, data_dir / label)
    return digest.hexdigest()[:32]


def _prune(folder: Path, kind: str) -> None:
    entries = sorted(folder.glob(f"{kind}-*.pkl"), key=lambda p: p.stat().st_mtime, reverse=True)
    for stale in entries[_CACHE_KEEP:]:
        stale.unlink(missing_ok=True)


def cached(kind: str, key: str, build: Callable[[], T]) -> T:
    """``build()``, or its result pickled earlier under ``kind`` and ``key``.

    Entries live in ``<cache>/<kind>s/<kind>-<key>.pkl`` (the cache folder of
    :func:`load_panel`), only this function writes them, a stale or truncated
    entry is rebuilt, and ``BALANCE_METRICS_NO_PANEL_CACHE=1`` bypasses them.
    """
    panels = None if os.environ.get(_NO_CACHE_ENV) else _cache_dir()
    target = panels.parent / f"{kind}s" / f"{kind}-{key}.pkl" if panels is not None else None
    if target is not None and target.is_file():
        try:
            with target.open("rb") as handle:
                return pickle.load(handle)
        except Exception:  # noqa: BLE001 - a stale or truncated cache entry is rebuilt
            target.unlink(missing_ok=True)
    result = build()
    if target is not None:
        try:
            atomic_write_bytes(target, pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))
            _prune(target.parent, kind)
        except OSError:
            pass  # an unwritable cache only costs the next run the rebuild
    return result


def load_panel(data_dir: str | os.PathLike[str], period: str, standard: str | Standard = DEFAULT_STANDARD) -> monitoring.Panel:
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
    balance_metrics.monitoring.Panel
        Earlier periods with invalid data are skipped and listed in
        ``Panel.failed_periods``.

    Notes
    -----
    Cache files live in ``$BALANCE_METRICS_CACHE_DIR/panels`` (default
    ``~/.cache/balance_metrics/panels``), are pickles written by this
    function, and are only read back from there; each period's part of the
    panel is also cached, beside the data, in ``<data_dir>/../processed/panel_periods``
    (:mod:`balance_metrics.analysis.monitoring.cache`). Set
    ``BALANCE_METRICS_NO_PANEL_CACHE=1`` to bypass both.
    """
    std = load_standard(standard)
    folder = Path(data_dir).resolve()
    periods = _periods_up_to(folder, period)
    # Each period's pieces are cached too: next quarter's panel re-reads this quarter's periods.
    per_period = None if os.environ.get(_NO_CACHE_ENV) else folder.parent / "processed" / PERIOD_CACHE
    return cached("panel", _panel_key(folder, periods, std),
                  lambda: monitoring.build_panel(folder, std, periods=periods, on_error="skip", cache_dir=per_period))


# --------------------------------------------------------------------------
# The context
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportContext:
    """One period, evaluated, with its multi-period panel.

    Attributes
    ----------
    period : str
        The period (``"latest"`` resolved).
    data_dir : Path
        Folder of period folders (absolute).
    dataset : Dataset
    standard : Standard
    resources : ResourceEvaluation
    evaluation : balance_metrics.evaluation.Evaluation
        :func:`balance_metrics.evaluation.evaluate` result.
    panel : balance_metrics.monitoring.Panel or None
        The panel up to this period (None when loaded with ``with_panel=False``);
        for one district of a period holding many, that district's rows
        (:meth:`~balance_metrics.analysis.monitoring.Panel.select`).
    lang : str
    district_id : str
        For a period holding many districts: the district this context is
        about (``dataset``, ``resources`` and ``evaluation`` are that
        district's); empty for a one-district period.
    district_name : str
        Its name (``schools.district_name``), empty if not given.
    """

    period: str
    data_dir: Path
    dataset: Dataset
    standard: Standard
    resources: ResourceEvaluation
    evaluation: Evaluation
    panel: monitoring.Panel | None
    lang: str = "zh-CN"
    district_id: str = ""
    district_name: str = ""

    @property
    def decimals(self) -> int:
        """Decimals for indicator values, ratios and CVs (the standard's)."""
        return self.standard.display_decimals


def load_context(
    data_dir: str | os.PathLike[str],
    period: str = "latest",
    standard: str | os.PathLike[str] | Standard = DEFAULT_STANDARD,
    *,
    lang: str = "zh-CN",
    with_panel: bool = True,
    cache: str | os.PathLike[str] | None = None,
    cache_sha256: str | None = None,
    district: str | None = None,
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
        Build the multi-period panel (trends, history).
    cache : str or os.PathLike, optional
        A context file written by :func:`write_context_cache` for these
        parameters (the batch runner passes one): read instead of evaluating.
    cache_sha256 : str, optional
        Its SHA-256, checked before it is read (required with ``cache``).
    district : str, optional
        For a period holding many districts (``schools.district_id``): the
        district to report on (required there; must be None for a
        one-district period). Its panel is that district's rows of the province's panel.

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
        No such data folder or period; a district missing, unknown or given
        for a one-district period.
    ContextCacheError
        The cache file is not the one named by ``cache_sha256`` or holds
        another period, standard or data folder.
    """
    language = check_lang(lang)
    folder = Path(data_dir).resolve()
    label = resolve_period(folder, period)
    if cache is not None:
        ctx = read_context_cache(cache, cache_sha256)
        standard_name = standard.name if isinstance(standard, Standard) else None
        wrong = [
            f"{what} {have!r} (asked for {want!r})"
            for what, have, want in (
                ("period", ctx.period, label),
                ("data folder", str(ctx.data_dir), str(folder)),
                ("standard", ctx.standard.name, standard_name or ctx.standard.name),
                ("district", ctx.district_id, district or ""),
            )
            if have != want
        ]
        if not isinstance(standard, Standard) and load_standard(standard).data != ctx.standard.data:
            wrong.append(f"standard {ctx.standard.name!r} differs from {os.fspath(standard)!r}")
        if wrong:
            raise ContextCacheError(f"context cache {cache} holds another " + "; ".join(wrong))
        if not with_panel:
            ctx = replace(ctx, panel=None)
        return replace(ctx, lang=language)
    std = load_standard(standard)
    dataset = load_period(folder / label)
    if dataset.multi_district or district is not None:
        ctx = district_context(dataset, std, folder, district, lang=language)
        return replace(ctx, panel=load_panel(folder, label, std).select(ctx.district_id)) if with_panel else ctx
    evaluation = evaluate(dataset, std)
    panel = load_panel(folder, label, std) if with_panel else None
    return ReportContext(
        period=label,
        data_dir=folder,
        dataset=dataset,
        standard=std,
        resources=evaluation.resources,
        evaluation=evaluation,
        panel=panel,
        lang=language,
    )


def district_context(
    dataset: Dataset, standard: Standard, data_dir: Path, district: str | None, *, lang: str = "zh-CN",
    evaluation: Any = None,
) -> ReportContext:
    """The context of one district of a period holding many.

    Parameters
    ----------
    dataset : Dataset
        The whole period (every district).
    standard : Standard
    data_dir : Path
        Folder of period folders.
    district : str
        ``schools.district_id`` of the district.
    lang : str, default "zh-CN"
    evaluation : ProvinceEvaluation, optional
        The period's evaluation (:func:`balance_metrics.evaluate`) if already
        made (a batch evaluates once); else the district is evaluated here.

    Returns
    -------
    ReportContext
        ``dataset``, ``resources`` and ``evaluation`` restricted to the
        district; no panel.

    Raises
    ------
    ValueError
        The period holds one district, no district is given, or it is unknown.
    """
    known = dataset.districts() if dataset.multi_district else None
    if known is None:
        raise ValueError(f"period {dataset.period} holds one district (no schools.district_id column): leave the district out")
    ids = list(known["district_id"])
    if not district:
        raise ValueError(
            f"period {dataset.period} holds {len(ids)} districts (schools.district_id): choose one "
            f"(e.g. {', '.join(ids[:5])})"
        )
    if district not in ids:
        raise ValueError(f"unknown district {district!r} in period {dataset.period} (districts: {', '.join(ids[:20])})")
    if evaluation is None:
        evaluation = evaluate(dataset, standard, district=[district])
    mine = evaluation.district(district)
    name = str(known.set_index("district_id").at[district, "district_name"] or "")
    return ReportContext(
        period=dataset.period, data_dir=Path(data_dir).resolve(), dataset=dataset.select(district), standard=standard,
        resources=mine.resources, evaluation=mine, panel=None, lang=lang, district_id=district, district_name=name,
    )  # fmt: skip


# --------------------------------------------------------------------------
# Context cache (evaluate once per batch)
# --------------------------------------------------------------------------


class ContextCacheError(ValueError):
    """A context cache file is missing, altered or for other parameters."""


_CONTEXT_KEEP = 4


def write_context_cache(ctx: ReportContext, directory: str | os.PathLike[str]) -> tuple[Path, str]:
    """Write ``ctx`` for the notebooks of a batch.

    Parameters
    ----------
    ctx : ReportContext
    directory : str or os.PathLike
        Folder every worker can read (for a Dask cluster: shared storage).
        Older context files there are removed (the newest few are kept).

    Returns
    -------
    (Path, str)
        The file ``context-<sha256>.pkl`` and its SHA-256 (hex), the values of
        the notebooks' ``context_cache`` and ``context_sha256`` parameters.
    """
    data = pickle.dumps(ctx, protocol=pickle.HIGHEST_PROTOCOL)
    sha = hashlib.sha256(data).hexdigest()
    folder = Path(directory)
    target = folder / f"context-{sha[:32]}.pkl"
    if not target.is_file():
        atomic_write_bytes(target, data)
    os.utime(target)
    entries = sorted(folder.glob("context-*.pkl"), key=lambda p: p.stat().st_mtime, reverse=True)
    for stale in entries[_CONTEXT_KEEP:]:
        stale.unlink(missing_ok=True)
    return target, sha


def read_context_cache(path: str | os.PathLike[str], sha256: str | None) -> ReportContext:
    """Read a file written by :func:`write_context_cache`, checking its SHA-256.

    Raises
    ------
    ContextCacheError
        No such file, no hash given, or the content does not match it.
    """
    if not sha256:
        raise ContextCacheError(f"context cache {path} given without its SHA-256 (parameter context_sha256)")
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise ContextCacheError(f"context cache {path} cannot be read: {error}") from error
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha256:
        raise ContextCacheError(f"context cache {path} has SHA-256 {actual}, expected {sha256}: it was changed")
    ctx = pickle.loads(data)
    if not isinstance(ctx, ReportContext):
        raise ContextCacheError(f"context cache {path} holds a {type(ctx).__name__}, not a ReportContext")
    return ctx
