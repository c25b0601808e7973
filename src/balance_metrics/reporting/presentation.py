"""Display helpers for reports: HTML blocks and tables (labels: :mod:`.labels`; number
formats: :mod:`.formats`, re-exported here).

Everything a report notebook shows goes through this module, so notebooks hold
no formatting logic. Output is plain, deterministic HTML (no random ids, no
dates): the same data always give the same bytes.

* :func:`format_number` — half-up rounding to a fixed number of decimals;
* :class:`Html` — a block of markup that Jupyter displays as HTML;
* :func:`table` with :class:`Col` — a DataFrame as an HTML table with Chinese
  column labels, category codes shown as their Chinese labels and 达标/未达标
  marks;
* :func:`notice`, :func:`bullet_list`,
  :func:`key_values`, :func:`title_block` (charts: :func:`balance_metrics.plots.figure_html`);
* :func:`html_document` — wraps an exported notebook body into a complete
  A4-printable HTML document (``templates/report.css``).
"""

from __future__ import annotations

import html as html_lib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import pandas as pd

from balance_metrics.reporting.formats import (
    _DASH, LANGUAGES, _missing, check_lang, format_exact, format_int, format_money, format_number, format_percent,
)
from balance_metrics.reporting.labels import BOOL_LABELS, COLUMN_LABELS, PROVENANCE_LABELS, VALUE_LABELS, column_label

__all__ = [
    "BOOL_LABELS",
    "COLUMN_LABELS",
    "LANGUAGES",
    "Col",
    "Html",
    "bullet_list",
    "check_lang",
    "escape",
    "format_exact",
    "format_int",
    "format_money",
    "format_number",
    "format_percent",
    "html_document",
    "join",
    "key_values",
    "notice",
    "report_css",
    "table",
    "title_block",
]

# --------------------------------------------------------------------------
# HTML blocks
# --------------------------------------------------------------------------


def escape(text: Any) -> str:
    """HTML-escape ``text`` (any object, via ``str``)."""
    return html_lib.escape(str(text), quote=True)


class Html:
    """A block of HTML markup that Jupyter displays as HTML.

    Parameters
    ----------
    markup : str
        Trusted markup (build it with the helpers of this module, which
        escape every value).
    """

    __slots__ = ("markup",)

    def __init__(self, markup: str) -> None:
        self.markup = markup

    def _repr_html_(self) -> str:
        return self.markup

    def __str__(self) -> str:
        return self.markup

    def __repr__(self) -> str:
        return f"Html({len(self.markup)} chars)"

    def __add__(self, other: Html) -> Html:
        return Html(self.markup + "\n" + str(other))


def join(blocks: Iterable[Html | str | None]) -> Html:
    """Concatenate blocks (``None`` entries are skipped)."""
    return Html("\n".join(str(b) for b in blocks if b is not None))


def notice(text: str, kind: str = "info") -> Html:
    """A highlighted paragraph.

    Parameters
    ----------
    text : str
        Plain text (escaped).
    kind : {"info", "warning", "error", "ok"}
        Visual style.
    """
    if kind not in {"info", "warning", "error", "ok"}:
        raise ValueError(f"notice kind must be info, warning, error or ok, got {kind!r}")
    return Html(f'<p class="bm-notice bm-notice-{kind}">{escape(text)}</p>')


def bullet_list(lines: Sequence[str], *, ordered: bool = False, empty: str = "（无）") -> Html:
    """Lines as an HTML list (``empty`` when there are none)."""
    if not lines:
        return Html(f'<p class="bm-empty">{escape(empty)}</p>')
    tag = "ol" if ordered else "ul"
    items = "".join(f"<li>{escape(line)}</li>" for line in lines)
    return Html(f'<{tag} class="bm-list">{items}</{tag}>')


def key_values(pairs: Sequence[tuple[str, Any]] | Mapping[str, Any], *, css_class: str = "bm-kv") -> Html:
    """A two-column table of labels and values (values escaped).

    A value may be an :class:`Html` block, inserted as is.
    """
    items = pairs.items() if isinstance(pairs, Mapping) else pairs
    rows = "".join(
        f"<tr><th>{escape(label)}</th><td>{value if isinstance(value, Html) else escape(value)}</td></tr>"
        for label, value in items
    )
    return Html(f'<table class="{css_class}"><tbody>{rows}</tbody></table>')


def title_block(title: str, subtitle_lines: Sequence[str] = ()) -> Html:
    """The report title (``<h1>``) and a few lines under it."""
    lines = "".join(f'<p class="bm-subtitle">{escape(line)}</p>' for line in subtitle_lines)
    return Html(f'<header class="bm-title"><h1>{escape(title)}</h1>{lines}</header>')


# --------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------

_KINDS = frozenset({"text", "code", "int", "num", "exact", "money", "pass", "yesno", "percent", "html"})


@dataclass(frozen=True)
class Col:
    """One column of an HTML table.

    Parameters
    ----------
    key : str
        Column of the DataFrame.
    label : str, optional
        Header; defaults to :data:`COLUMN_LABELS` or the key.
    kind : str, default "text"
        ``"text"`` (escaped as is), ``"code"`` (category code shown with its
        Chinese label from :data:`VALUE_LABELS` or ``labels``), ``"int"``,
        ``"num"`` (``decimals`` places, half-up), ``"exact"`` (a number from
        a standard file as written: 4.2, 0.765, 2000), ``"money"`` (whole 元 with
        separators), ``"percent"``, ``"pass"`` (True → 达标, False → 未达标),
        ``"yesno"`` (是/否) or ``"html"`` (trusted markup).
    decimals : int, optional
        For ``"num"``; defaults to the table's ``decimals``.
    labels : mapping, optional
        Code → label for ``"code"`` columns.
    nowrap : bool, default False
        Keep the cell on one line (short units and labels).
    """

    key: str
    label: str | None = None
    kind: str = "text"
    decimals: int | None = None
    labels: Mapping[str, str] | None = field(default=None, hash=False)
    nowrap: bool = False

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValueError(f"Col({self.key!r}): kind must be one of {sorted(_KINDS)}, got {self.kind!r}")

    @property
    def header(self) -> str:
        return self.label if self.label is not None else (column_label(self.key) or self.key)


def _cell(col: Col, value: Any, decimals: int) -> tuple[str, str]:
    """(markup, css class) of one cell."""
    if col.kind == "html":
        return ("" if _missing(value) else str(value)), ""
    if col.kind in {"pass", "yesno"}:
        if _missing(value):
            return _DASH, ""
        ok = bool(value)
        words = BOOL_LABELS if col.kind == "pass" else ("是", "否")
        css = ("bm-pass" if ok else "bm-fail") if col.kind == "pass" else ""
        return escape(words[0] if ok else words[1]), css
    if col.kind == "int":
        return format_int(value), "bm-num"
    if col.kind == "num":
        return format_number(value, col.decimals if col.decimals is not None else decimals), "bm-num"
    if col.kind == "exact":
        return format_exact(value), "bm-num"
    if col.kind == "money":
        return format_money(value), "bm-num"
    if col.kind == "percent":
        return format_percent(value, col.decimals if col.decimals is not None else 1), "bm-num"
    if _missing(value):
        return "", ""
    if col.kind == "code":
        labels = col.labels if col.labels is not None else VALUE_LABELS.get(col.key, {})
        text = ",".join(labels.get(part, part) for part in str(value).split(",")) if value != "" else ""
        return escape(text), ""
    return escape(value), ""


#: Columns of names that must never be squeezed to one character per line.
NAME_COLUMNS: frozenset[str] = frozenset({"school_name", "group_name"})


def _one_line(col: Col) -> bool:
    """Cells (and header) kept on one line: short codes, verdicts and names."""
    return col.nowrap or col.kind in {"code", "pass", "yesno"} or col.key in NAME_COLUMNS


def table(
    frame: pd.DataFrame,
    columns: Sequence[Col | str],
    *,
    decimals: int = 3,
    caption: str | None = None,
    css_class: str = "",
    empty: str = "（无）",
    fail_column: str | None = None,
) -> Html:
    """A DataFrame as an HTML table with Chinese headers.

    Parameters
    ----------
    frame : DataFrame
        The rows, in the order they are shown.
    columns : sequence of Col or str
        Columns to show, in order; a plain string is ``Col(key)``.
    decimals : int, default 3
        Default decimals of ``"num"`` columns (the standard's
        ``display_decimals``).
    caption : str, optional
        Table caption.
    css_class : str, optional
        Extra CSS class (e.g. ``"bm-balance"``); tests and stylesheets use it.
    empty : str, default "（无）"
        Shown instead of an empty table.
    fail_column : str, optional
        Boolean column; rows where it is False get the ``bm-row-fail`` class.

    Returns
    -------
    Html

    Raises
    ------
    ValueError
        If a requested column is not in ``frame``.
    """
    cols = [c if isinstance(c, Col) else Col(c) for c in columns]
    missing = [c.key for c in cols if c.key not in frame.columns]
    if fail_column is not None and fail_column not in frame.columns:
        missing.append(fail_column)
    if missing:
        raise ValueError(f"table: column(s) {', '.join(missing)} not in the data (has {', '.join(map(str, frame.columns))})")
    cap = f"<caption>{escape(caption)}</caption>" if caption else ""
    if frame.empty:
        return Html(f'<p class="bm-empty">{escape((caption + "：") if caption else "")}{escape(empty)}</p>')
    header = "".join(f'<th class="bm-nw">{escape(c.header)}</th>' if _one_line(c) else f"<th>{escape(c.header)}</th>" for c in cols)
    body = []
    for record in frame.to_dict("records"):
        cells = []
        for col in cols:
            markup, css = _cell(col, record[col.key], decimals)
            if _one_line(col):
                css = f"{css} bm-nw".strip()
            cells.append(f'<td class="{css}">{markup}</td>' if css else f"<td>{markup}</td>")
        failing = fail_column is not None and not _missing(record[fail_column]) and not bool(record[fail_column])
        row_class = ' class="bm-row-fail"' if failing else ""
        body.append(f"<tr{row_class}>{''.join(cells)}</tr>")
    classes = " ".join(filter(None, ["bm-table", css_class]))
    return Html(f'<table class="{classes}">{cap}<thead><tr>{header}</tr></thead><tbody>{"".join(body)}</tbody></table>')


# --------------------------------------------------------------------------
# Whole documents
# --------------------------------------------------------------------------


@cache
def report_css() -> str:
    """The report stylesheet (screen and A4 print), ``templates/report.css``."""
    return resources.files("balance_metrics.reporting").joinpath("templates", "report.css").read_text(encoding="utf-8")


def html_document(body: str, *, title: str, lang: str = "zh-CN", extra_head: str = "") -> str:
    """A complete HTML document around exported notebook cells.

    Parameters
    ----------
    body : str
        HTML of the report body (nbconvert "basic" template output).
    title : str
        Document title (browser tab, PDF metadata).
    lang : str, default "zh-CN"
        Language of the document.
    extra_head : str, optional
        Markup appended to ``<head>``.

    Returns
    -------
    str
        ``<!DOCTYPE html>`` document with the report stylesheet inlined, so
        the file is self-contained.
    """
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{escape(check_lang(lang))}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>\n{report_css()}</style>\n{extra_head}</head>\n"
        f'<body>\n<main class="bm-report">\n{body}\n</main>\n</body>\n</html>\n'
    )


# --------------------------------------------------------------------------
# Provenance
# --------------------------------------------------------------------------

#: CSS class of the values that change on every run (times); everything else
#: in a report depends on its inputs and the code only.
VOLATILE_CLASS = "bm-volatile"


#: Report parameters naming the batch's evaluated-context file (see
#: :func:`balance_metrics.reporting.context.write_context_cache`).
CACHE_PARAMETERS: tuple[str, ...] = ("context_cache", "context_sha256")


def _volatile(text: str) -> Html:
    return Html(f'<span class="{VOLATILE_CLASS}">{escape(text)}</span>')


def provenance_block(record: Any) -> Html:
    """The provenance record as a block of tables.

    Parameters
    ----------
    record : ProvenanceRecord
        From :meth:`balance_metrics.provenance.ProvenanceRecorder.finish`.

    Returns
    -------
    Html
        Parameters, standard, input files (SHA-256, rows), code version,
        environment, and the run times wrapped in ``<span class="bm-volatile">``
        so that two runs can be compared without them.
    """
    data = record.to_dict() if hasattr(record, "to_dict") else dict(record)
    package = data["package"]
    commit = package.get("git_commit") or "（不在 git 仓库中，无法确定）"
    if package.get("git_commit") and package.get("git_dirty"):
        commit += "（工作区有未提交的修改）"
    standard = data["standard"]
    parameters = dict(data["parameters"])
    # The batch's evaluated-context file is named after its content, which
    # differs from run to run (pickles are not canonical): shown, but volatile.
    cache = {k: parameters.pop(k) for k in CACHE_PARAMETERS if k in parameters}
    params = "；".join(f"{k} = {v}" for k, v in parameters.items())
    cache_text = (
        f"{cache['context_cache']}（SHA-256 {cache.get('context_sha256')}）" if cache.get("context_cache") else "无（本报告自行读取并评估数据）"
    )
    general = key_values(
        [
            (PROVENANCE_LABELS["report"], "全区报告" if data["report"] == "district" else f"学校报告（{data['school_id']}）"),
            (PROVENANCE_LABELS["period"], data["period"]),
            (PROVENANCE_LABELS["parameters"], params),
            (PROVENANCE_LABELS["context"], _volatile(cache_text)),
            (PROVENANCE_LABELS["standard"], f"{standard['title']}（{standard['name']} v{standard['version']}）"),
            (PROVENANCE_LABELS["chain"], " → ".join(standard["chain"])),
            (PROVENANCE_LABELS["data_dir"], data["data_dir"]),
            (PROVENANCE_LABELS["package"], f"{package['name']} {package['version']}"),
            (PROVENANCE_LABELS["git_commit"], Html(f"<code>{escape(commit)}</code>")),
            (PROVENANCE_LABELS["python"], f"{data['python']['implementation']} {data['python']['version']}（{data['python']['platform']}）"),
            (PROVENANCE_LABELS["libraries"], "，".join(f"{k} {v}" for k, v in data["libraries"].items())),
            (PROVENANCE_LABELS["started_at"], _volatile(data["started_at"])),
            (PROVENANCE_LABELS["finished_at"], _volatile(data["finished_at"])),
            (PROVENANCE_LABELS["duration_seconds"], _volatile(format_number(data["duration_seconds"], 2))),
        ],
        css_class="bm-kv bm-provenance",
    )
    inputs = pd.DataFrame(data["inputs"], columns=["table", "file", "sheet", "rows", "sha256"])
    # The hash inside <code> wraps anywhere instead of widening the table.
    inputs["sha256"] = [f"<code>{escape(h)}</code>" for h in inputs["sha256"]]
    files = table(
        inputs,
        [Col("table"), Col("file"), Col("sheet"), Col("rows", kind="int"), Col("sha256", kind="html")],
        caption=PROVENANCE_LABELS["inputs"],
        css_class="bm-sources bm-provenance",
        empty="未记录输入文件",
    )
    return join([general, files])
