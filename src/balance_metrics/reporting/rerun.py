"""Incremental reruns: skip a report whose inputs and outputs are unchanged.

Every rendered report records a *render key* in its provenance sidecar
(``extra.render_key``): a hash of everything the report is a function of —

* the content of every input file of the period and of the earlier periods
  its history reads, the resolved standard, and the package's source code and
  standard data (:func:`balance_metrics.reporting.context.inputs_key`);
* the package version and the versions of the font package;
* the notebook file;
* the report's parameters (kind, school, period, standard, data folder,
  formats, language; the district of a period holding many).

A rerun renders a report again only if its key differs from the recorded one,
an output file is missing, or its last render failed (a
``notebooks/<name>.failed.ipynb`` is present); ``force=True`` renders every
report.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path

from balance_metrics.reporting.provenance import library_versions, package_version
from balance_metrics.reporting.tasks import ReportTask

__all__ = ["is_current", "render_key"]


@cache
def _file_sha(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def render_key(task: ReportTask, inputs_key: str) -> str:
    """The render key of ``task`` given the period's :func:`inputs_key`.

    Returns
    -------
    str
        64 hex digits.
    """
    data = {
        "inputs": inputs_key,
        "package": package_version(),
        "libraries": library_versions(["noto-cjk-sans-otc"]),
        "notebook": _file_sha(task.notebook),
        "report": [task.kind, task.school_id, task.school_name, task.period, task.standard, task.data_dir,
                   list(task.formats), task.lang],
    }  # fmt: skip
    if task.district_id:  # a period holding many districts (one-district keys unchanged)
        data["district"] = [task.district_id, task.district_name]
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def is_current(task: ReportTask) -> bool:
    """Whether the outputs of ``task`` exist and were rendered with its render key."""
    if not task.render_key or task.path("failed_notebook").exists():
        return False
    wanted = [task.path(what) for what in (*task.formats, "notebook", "provenance")]
    if not all(path.is_file() for path in wanted):
        return False
    try:
        record = json.loads(task.path("provenance").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return record.get("extra", {}).get("render_key") == task.render_key
