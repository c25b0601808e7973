"""Simplified Chinese font handling for charts, HTML and PDF reports.

Reports must render Chinese on machines that have no Chinese font installed
(CI containers, fresh servers at a district bureau). The font therefore comes
from a PyPI package, never from the operating system:

* package ``noto-cjk-sans-otc`` ships ``NotoSansCJK-Regular.ttc``, the Noto
  Sans CJK OpenType Collection (SIL Open Font License 1.1);
* the collection holds one face per region; we always select the Simplified
  Chinese face ("Noto Sans CJK SC"), whose default glyph forms follow the
  mainland GB 18030 standard.

The module offers two things:

1. locating the font (:func:`font_path`, :func:`face_index`);
2. a glyph guard that fails loudly instead of printing empty boxes
   (:func:`missing_glyphs`, :func:`check_glyphs`).

matplotlib set-up and its glyph guard are
:mod:`balance_metrics.reporting.chart_fonts`; subsets of the font for
embedding in HTML and PDF are :mod:`balance_metrics.reporting.font_subsets`.

Notes
-----
The package only ships the Regular weight. Browsers synthesise bold for
``<h1>``/``<strong>``; WeasyPrint does not synthesise bold or italic at all
(Kozea/WeasyPrint#1470), so PDFs set such text in the Regular weight — give
headings size or colour rather than relying on weight alone.
"""

from __future__ import annotations

import functools
import importlib.util
import io
import os
import tempfile
import unicodedata
from pathlib import Path
from typing import Any

from balance_metrics.common.atomic import atomic_write_bytes

__all__ = [
    "CSS_FONT_FAMILY",
    "CSS_FONT_STACK",
    "FONT_FAMILY",
    "FONT_PACKAGE",
    "FontPackageMissingError",
    "MissingGlyphError",
    "available_codepoints",
    "cache_dir",
    "check_glyphs",
    "extract_face",
    "face_index",
    "font_path",
    "has_glyph",
    "missing_glyphs",
    "needs_no_glyph",
]

#: PyPI distribution that ships the font file.
FONT_PACKAGE = "noto-cjk-sans-otc"
#: Version the module was written and tested against.
FONT_PACKAGE_VERSION = "0.0.1"
_FONT_MODULE = "noto_cjk_sans_otc"
_FONT_FILE = "NotoSansCJK-Regular.ttc"
#: PostScript name of the Simplified Chinese face inside the collection.
_SC_POSTSCRIPT_NAME = "NotoSansCJKsc-Regular"

#: Family name of the face, as matplotlib and fontconfig know it.
FONT_FAMILY = "Noto Sans CJK SC"
#: Family name given to the embedded subset in ``@font-face`` rules. It differs
#: from :data:`FONT_FAMILY` so that a locally installed full font can never be
#: picked instead of the embedded subset (or the other way round).
CSS_FONT_FAMILY = "BM Noto Sans SC"
#: CSS ``font-family`` value to use with the embedded subset
#: (:func:`balance_metrics.reporting.font_subsets.font_face_css`).
CSS_FONT_STACK = f'"{CSS_FONT_FAMILY}", sans-serif'

_CACHE_ENV = "BALANCE_METRICS_CACHE_DIR"
_CONTEXT_RADIUS = 12



class FontPackageMissingError(ImportError):
    """The PyPI package that ships the Chinese font is not installed."""


class MissingGlyphError(ValueError):
    """Text contains characters the Chinese font cannot draw.

    Parameters
    ----------
    chars : list of str
        Offending characters, unique, in order of first appearance.
    text : str
        The text that was checked.
    context : str, optional
        Where the text comes from (figure title, report section, file …).

    Attributes
    ----------
    chars : list of str
        Offending characters.
    text : str
        The text that was checked.
    context : str
        Where the text comes from.
    """

    def __init__(self, chars: list[str], text: str, context: str = "") -> None:
        self.chars = list(chars)
        self.text = text
        self.context = context
        super().__init__(_describe_missing(self.chars, text, context))


def _describe_missing(chars: list[str], text: str, context: str) -> str:
    where = f" in {context}" if context else ""
    lines = [
        f"{len(chars)} character(s){where} cannot be rendered with "
        f"{FONT_FAMILY} (package {FONT_PACKAGE}):"
    ]
    for char in chars:
        snippet = _surrounding(text, char)
        where_in_text = f" in {snippet!r}" if snippet else ""
        lines.append(f"  {char!r} {_codepoint_label(char)}{where_in_text}")
    return "\n".join(lines)


_UNNAMED_CATEGORIES = {"Co": "private use", "Cn": "unassigned", "Cs": "surrogate"}


def _codepoint_label(char: str) -> str:
    category = unicodedata.category(char)
    name = unicodedata.name(char, "") or f"<{_UNNAMED_CATEGORIES.get(category, category)}>"
    return f"U+{ord(char):04X} {name}"


def _surrounding(text: str, char: str) -> str:
    """Text around the first occurrence of ``char``, on one line."""
    position = text.find(char)
    if position < 0:
        return ""
    start = max(0, position - _CONTEXT_RADIUS)
    end = position + _CONTEXT_RADIUS + 1
    snippet = " ".join(text[start:end].split())
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) else ""
    return f"{prefix}{snippet}{suffix}"


# --------------------------------------------------------------------------
# Locating the font
# --------------------------------------------------------------------------


@functools.cache
def font_path() -> Path:
    """Path of the font collection shipped by :data:`FONT_PACKAGE`.

    Returns
    -------
    pathlib.Path
        ``NotoSansCJK-Regular.ttc``, an OpenType collection; the Simplified
        Chinese face inside it is at :func:`face_index`.

    Raises
    ------
    FontPackageMissingError
        If the package is not installed.
    """
    spec = importlib.util.find_spec(_FONT_MODULE)
    if spec is None or not spec.submodule_search_locations:
        raise FontPackageMissingError(
            f"The Simplified Chinese font is missing: install the PyPI package "
            f"{FONT_PACKAGE!r} (pip install {FONT_PACKAGE}=={FONT_PACKAGE_VERSION})."
        )
    for location in spec.submodule_search_locations:
        candidate = Path(location) / _FONT_FILE
        if candidate.is_file():
            return candidate
    raise FontPackageMissingError(
        f"Package {FONT_PACKAGE!r} is installed but {_FONT_FILE} was not found "
        f"in it; reinstall it (pip install --force-reinstall {FONT_PACKAGE})."
    )


@functools.cache
def face_index() -> int:
    """Index of the Simplified Chinese face inside :func:`font_path`.

    Looked up by PostScript name rather than hard-coded, so a re-ordered
    collection in a later package version cannot silently switch us to the
    Japanese or Traditional Chinese glyph forms.

    Returns
    -------
    int
        Face index (``fontNumber`` for fontTools, ``face_index`` for FreeType).
    """
    from fontTools.ttLib import TTCollection

    collection = TTCollection(str(font_path()), lazy=True)
    try:
        for index, face in enumerate(collection.fonts):
            if face["name"].getDebugName(6) == _SC_POSTSCRIPT_NAME:
                return index
    finally:
        collection.close()
    raise FontPackageMissingError(
        f"{font_path()} has no face named {_SC_POSTSCRIPT_NAME!r}; "
        f"expected {FONT_PACKAGE}=={FONT_PACKAGE_VERSION}."
    )


def _open_face(*, lazy: bool | None = True) -> Any:
    """Open the Simplified Chinese face with fontTools.

    ``recalcTimestamp=False`` keeps ``head.modified`` as shipped; otherwise
    fontTools stamps the current time on save and subsets would differ from
    one run to the next.
    """
    from fontTools.ttLib import TTFont

    return TTFont(
        str(font_path()), fontNumber=face_index(), lazy=lazy, recalcTimestamp=False
    )


@functools.cache
def available_codepoints() -> frozenset[int]:
    """Code points the Simplified Chinese face maps to a glyph."""
    face = _open_face()
    try:
        return frozenset(face.getBestCmap())
    finally:
        face.close()


def cache_dir() -> Path:
    """Directory for derived font files (extracted face).

    Returns
    -------
    pathlib.Path
        ``$BALANCE_METRICS_CACHE_DIR`` if set, else the user cache directory
        (``$XDG_CACHE_HOME`` or ``~/.cache``) under ``balance_metrics/fonts``;
        if that is not writable, a per-user directory in the temp dir.
    """
    override = os.environ.get(_CACHE_ENV)
    if override:
        candidates = [Path(override)]
    else:
        base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        candidates = [Path(base) / "balance_metrics" / "fonts"]
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    candidates.append(Path(tempfile.gettempdir()) / f"balance_metrics-{uid}" / "fonts")
    for directory in candidates:
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(directory, os.W_OK):
            return directory
    raise OSError(f"no writable cache directory among {candidates}")


def extract_face(directory: str | os.PathLike[str] | None = None) -> Path:
    """Write the Simplified Chinese face as a standalone OpenType file.

    Only needed by consumers that cannot select a face inside a collection
    (matplotlib before 3.11 always read face 0, the Japanese one). The file is
    written once and reused.

    Parameters
    ----------
    directory : str or os.PathLike, optional
        Where to write; defaults to :func:`cache_dir`.

    Returns
    -------
    pathlib.Path
        Path of ``NotoSansCJKsc-Regular.otf`` (about 16 MB).
    """
    folder = Path(directory) if directory is not None else cache_dir()
    # The package version is in the name so an upgrade never reuses a stale file.
    target = folder / f"{_SC_POSTSCRIPT_NAME}-{FONT_PACKAGE}-{FONT_PACKAGE_VERSION}.otf"
    if target.is_file() and target.stat().st_size > 0:
        return target
    face = _open_face(lazy=False)
    try:
        buffer = io.BytesIO()
        face.save(buffer)
    finally:
        face.close()
    return atomic_write_bytes(target, buffer.getvalue())


# --------------------------------------------------------------------------
# Glyph guard
# --------------------------------------------------------------------------


def needs_no_glyph(char: str) -> bool:
    """Characters that never need a glyph.

    Control characters (newline, tab) are layout, format characters (zero
    width space, BOM, joiners) and variation selectors are invisible; text
    engines skip them instead of drawing ``.notdef``.
    """
    code = ord(char)
    if 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF:
        return True
    return unicodedata.category(char) in {"Cc", "Cf"}


def has_glyph(char: str) -> bool:
    """Whether the Simplified Chinese face has a glyph for ``char``.

    Parameters
    ----------
    char : str
        A single character.

    Returns
    -------
    bool
        True if the character is drawable (or needs no glyph).
    """
    return needs_no_glyph(char) or ord(char) in available_codepoints()


def missing_glyphs(text: str) -> list[str]:
    """Characters of ``text`` that the font cannot draw.

    Parameters
    ----------
    text : str
        Text to be rendered.

    Returns
    -------
    list of str
        Unique offending characters, in order of first appearance; empty if
        everything renders.

    Examples
    --------
    >>> missing_glyphs("差异系数 0.35")
    []
    >>> missing_glyphs("\\ue000")
    ['\\ue000']
    """
    return [char for char in dict.fromkeys(text) if not has_glyph(char)]


def check_glyphs(text: str, context: str = "") -> None:
    """Raise if ``text`` contains characters the font cannot draw.

    Parameters
    ----------
    text : str
        Text to be rendered.
    context : str, optional
        Where the text comes from; repeated in the error message.

    Raises
    ------
    MissingGlyphError
        Listing each offending character with its ``U+XXXX`` code and the
        text around it.
    """
    missing = missing_glyphs(text)
    if missing:
        raise MissingGlyphError(missing, text, context)
