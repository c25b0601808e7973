"""Provenance of a report: what was computed, from what, with which code.

A :class:`ProvenanceRecord` holds the report's parameters, the standard (name,
version and the chain of standards it extends), every input file with its
SHA-256 and row count, the package version and git commit, the Python and
key library versions, and when the report was made and how long it took. It
is shown as a block in every report and written next to it as a JSON sidecar.

Only the times (:data:`VOLATILE_FIELDS`) differ between two runs on the same
inputs; everything else is a function of the inputs and the code.

Usage::

    recorder = provenance.start("district", {"period": "2022Q4", ...})
    ...                                   # load, evaluate, display
    record = recorder.finish(dataset, standard)
    provenance.write_sidecar(record, "reports/2022Q4/district.provenance.json")
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from balance_metrics.common.atomic import atomic_write_text

if TYPE_CHECKING:
    import pandas as pd

    from balance_metrics.contract.dataset import Dataset
    from balance_metrics.standard.loader import Standard

__all__ = [
    "KEY_LIBRARIES",
    "REPORT_KINDS",
    "VOLATILE_FIELDS",
    "ProvenanceRecord",
    "ProvenanceRecorder",
    "git_revision",
    "library_versions",
    "package_version",
    "read_sidecar",
    "start",
    "strip_volatile",
    "write_sidecar",
]

#: Distributions whose versions are recorded (PyPI names).
KEY_LIBRARIES: tuple[str, ...] = (
    "pandas", "numpy", "scipy", "matplotlib", "seaborn", "papermill", "nbconvert", "nbclient",
    "nbformat", "ipykernel", "weasyprint", "fonttools", "noto-cjk-sans-otc",
)  # fmt: skip
#: Fields that change on every run; everything else depends on inputs and code only.
VOLATILE_FIELDS: tuple[str, ...] = ("started_at", "finished_at", "duration_seconds")

#: What a record can describe: the HTML/PDF reports, or the workbooks of
#: ``balance-metrics evaluate`` and of the monitoring panel.
REPORT_KINDS: tuple[str, ...] = ("district", "school", "evaluation", "monitoring")

_PACKAGE = "balance-metrics"
_GIT_TIMEOUT_S = 10


def package_version() -> str:
    """Installed version of balance-metrics (the source's ``__version__`` outside an install)."""
    try:
        return metadata.version(_PACKAGE)
    except metadata.PackageNotFoundError:
        from balance_metrics import __version__

        return __version__


def library_versions(names: Sequence[str] = KEY_LIBRARIES) -> dict[str, str]:
    """Installed versions of ``names`` ("未安装" when a library is absent).

    Parameters
    ----------
    names : sequence of str
        Distribution names as on PyPI.

    Returns
    -------
    dict of str to str
        In the order of ``names``.
    """
    versions = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "未安装"
    return versions


def _git(args: Sequence[str], cwd: Path) -> str | None:
    try:
        done = subprocess.run(
            # --no-optional-locks: never take .git/index.lock (other people may
            # be committing in the same checkout while a report runs).
            ["git", "--no-optional-locks", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=_GIT_TIMEOUT_S,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        # No git, not a checkout, or git too slow: provenance without a commit.
        return None
    return done.stdout.strip()


def git_revision(path: str | os.PathLike[str] | None = None) -> tuple[str | None, bool | None]:
    """Commit checked out at ``path`` and whether tracked files differ from it.

    Parameters
    ----------
    path : str or os.PathLike, optional
        A directory inside the checkout; defaults to this package's source
        directory (an editable install lives in the repository).

    Returns
    -------
    (str or None, bool or None)
        ``git rev-parse HEAD`` and "tracked files modified"; ``(None, None)``
        when git is missing or ``path`` is not in a git checkout.
    """
    where = Path(path) if path is not None else Path(__file__).resolve().parent
    if not where.is_dir():
        return None, None
    commit = _git(["rev-parse", "HEAD"], where)
    if not commit:
        return None, None
    status = _git(["status", "--porcelain", "--untracked-files=no"], where)
    return commit, (None if status is None else bool(status))


@dataclass(frozen=True)
class ProvenanceRecord:
    """Everything needed to reproduce a report.

    Attributes
    ----------
    report : str
        One of :data:`REPORT_KINDS`.
    school_id : str
        The school of a school report, else "".
    parameters : dict
        The report's parameters as given (period, standard, data_dir, lang …).
    period : str
        The period reported on (``"latest"`` resolved).
    data_dir : str
        Absolute period folder read.
    standard : dict
        name, version, title, chain (standards merged, base first).
    inputs : list of dict
        One entry per table read: table, file, sheet, sha256, rows.
    package : dict
        name, version, git_commit (None outside a checkout), git_dirty.
    python : dict
        version, implementation, platform.
    libraries : dict
        Distribution → version (:data:`KEY_LIBRARIES`).
    started_at, finished_at : str
        ISO 8601 local times with UTC offset, to the second.
    duration_seconds : float
        Wall-clock time from :func:`start` to :meth:`ProvenanceRecorder.finish`.
    extra : dict
        Added by the caller (e.g. the report renderer's timings and outputs).
    """

    report: str
    school_id: str
    parameters: dict[str, Any]
    period: str
    data_dir: str
    standard: dict[str, Any]
    inputs: list[dict[str, Any]]
    package: dict[str, Any]
    python: dict[str, str]
    libraries: dict[str, str]
    started_at: str
    finished_at: str
    duration_seconds: float
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The record as plain JSON-compatible data, fields in a fixed order."""
        return _jsonable(asdict(self))

    def to_json(self) -> str:
        """The record as UTF-8 JSON text (Chinese kept readable, 2-space indent)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2) + "\n"

    def with_extra(self, **extra: Any) -> ProvenanceRecord:
        """A copy with ``extra`` merged into :attr:`extra`."""
        from dataclasses import replace

        return replace(self, extra={**self.extra, **extra})


def _jsonable(value: Any) -> Any:
    """Plain JSON types: numpy scalars to Python, paths and tuples converted."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if hasattr(value, "item") and callable(value.item):  # numpy scalar
        return value.item()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _now() -> dt.datetime:
    return dt.datetime.now().astimezone().replace(microsecond=0)


class ProvenanceRecorder:
    """Started when a report starts; :meth:`finish` produces the record.

    Parameters
    ----------
    report : {"district", "school", "evaluation", "monitoring"}
        Kind of report (:data:`REPORT_KINDS`).
    parameters : mapping
        The report's parameters.
    school_id : str, optional
        For school reports.
    """

    def __init__(self, report: str, parameters: Mapping[str, Any], school_id: str = "") -> None:
        if report not in REPORT_KINDS:
            raise ValueError(f"report must be one of {', '.join(map(repr, REPORT_KINDS))}, got {report!r}")
        self.report = report
        self.school_id = str(school_id or "")
        self.parameters = _jsonable(dict(parameters))
        self.started = _now()
        self._clock = time.perf_counter()

    def finish(self, dataset: Dataset, standard: Standard, **extra: Any) -> ProvenanceRecord:
        """Stop the clock and collect the record.

        Parameters
        ----------
        dataset : Dataset
            The period read (its ``sources`` become the inputs).
        standard : Standard
            The resolved standard.
        **extra
            Stored under :attr:`ProvenanceRecord.extra`.

        Returns
        -------
        ProvenanceRecord
        """
        return self.finish_sources(dataset.period, dataset.path, dataset.sources, standard, **extra)

    def finish_sources(
        self, period: str, data_dir: str | os.PathLike[str], sources: pd.DataFrame, standard: Standard, **extra: Any
    ) -> ProvenanceRecord:
        """Like :meth:`finish`, for inputs that are not one dataset (the periods of a monitoring panel).

        Parameters
        ----------
        period : str
            The period (or range of periods) the record describes.
        data_dir : str or os.PathLike
            The folder read.
        sources : DataFrame
            One row per file read, as :attr:`Dataset.sources` (table, file,
            sheet, sha256, rows; more columns, e.g. period, are kept).
        standard : Standard
        **extra
            Stored under :attr:`ProvenanceRecord.extra`.
        """
        duration = time.perf_counter() - self._clock
        commit, dirty = git_revision()
        inputs = [{k: _jsonable(v) for k, v in row.items()} for row in sources.to_dict("records")]
        return ProvenanceRecord(
            report=self.report,
            school_id=self.school_id,
            parameters=self.parameters,
            period=period,
            data_dir=str(data_dir),
            standard={
                "name": standard.name,
                "version": standard.version,
                "title": standard.title,
                "chain": list(standard.chain),
            },
            inputs=inputs,
            package={"name": _PACKAGE, "version": package_version(), "git_commit": commit, "git_dirty": dirty},
            python={
                "version": platform.python_version(),
                "implementation": platform.python_implementation(),
                "platform": platform.platform(),
            },
            libraries=library_versions(),
            started_at=self.started.isoformat(),
            finished_at=_now().isoformat(),
            duration_seconds=round(duration, 2),
            extra=_jsonable(extra),
        )


def start(report: str, parameters: Mapping[str, Any], school_id: str = "") -> ProvenanceRecorder:
    """Start recording a report's provenance (see :class:`ProvenanceRecorder`)."""
    return ProvenanceRecorder(report, parameters, school_id)


def write_sidecar(record: ProvenanceRecord | Mapping[str, Any], path: str | os.PathLike[str] | None) -> Path | None:
    """Write ``record`` as JSON to ``path`` atomically; nothing when ``path`` is None.

    Parameters
    ----------
    record : ProvenanceRecord or mapping
        The record (a mapping is written as is).
    path : str or os.PathLike, optional
        Destination, conventionally ``<report>.provenance.json``.

    Returns
    -------
    pathlib.Path or None
        The path written.
    """
    if path is None or path == "":
        return None
    text = record.to_json() if isinstance(record, ProvenanceRecord) else json.dumps(_jsonable(record), ensure_ascii=False, indent=2) + "\n"
    return atomic_write_text(path, text)


def read_sidecar(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a JSON sidecar written by :func:`write_sidecar`."""
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def strip_volatile(record: ProvenanceRecord | Mapping[str, Any]) -> dict[str, Any]:
    """The record without its times, for comparing two runs."""
    data = record.to_dict() if isinstance(record, ProvenanceRecord) else dict(record)
    return {k: v for k, v in data.items() if k not in VOLATILE_FIELDS}
