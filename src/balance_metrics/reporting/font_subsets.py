"""Subsets of the Chinese font for embedding in HTML and PDF reports.

A report embeds only the glyphs it shows: :func:`subset_font_bytes` (bytes),
:func:`subset_font` (a content-addressed file), :func:`font_face_css` (an
``@font-face`` rule with the subset inlined). Subsetting the 65 535-glyph
face costs 0.5-2 s, so a batch of reports makes one subset for the union of
the characters the whole batch may show (:func:`batch_subset`) and every HTML
and PDF of the batch embeds that same :class:`FontSubset`.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import io
import os
from dataclasses import dataclass, field
from pathlib import Path

from balance_metrics.common.atomic import atomic_write_bytes
from balance_metrics.reporting.fonts import (
    CSS_FONT_FAMILY,
    FONT_PACKAGE_VERSION,
    available_codepoints,
    cache_dir,
    check_glyphs,
    face_index,
    font_path,
    needs_no_glyph,
)

__all__ = [
    "BASE_CHARACTERS",
    "FontSubset",
    "batch_subset",
    "font_face_css",
    "load_subset",
    "subset_font",
    "subset_font_bytes",
]

#: Characters always put into a subset besides the text itself: printable
#: ASCII (digits, Latin letters and punctuation used in numbers, units and
#: codes) and the characters a renderer may draw on its own account — list
#: bullets (disc, circle, square), the hyphen of automatic hyphenation, the
#: ellipsis of ``text-overflow``, and the no-break / ideographic spaces.
BASE_CHARACTERS = (
    "".join(chr(code) for code in range(0x20, 0x7F))
    + "\u00a0\u3000\u2022\u25e6\u25aa\u2010\u2026"
)


# --------------------------------------------------------------------------
# One subset for one text
# --------------------------------------------------------------------------


def _subset_codepoints(text: str) -> tuple[int, ...]:
    """Sorted code points to keep: the text's plus :data:`BASE_CHARACTERS`."""
    wanted = {char for char in text if not needs_no_glyph(char)}
    available = available_codepoints()
    wanted.update(char for char in BASE_CHARACTERS if ord(char) in available)
    return tuple(sorted(ord(char) for char in wanted))


@functools.lru_cache(maxsize=32)
def _subset_bytes_cached(codepoints: tuple[int, ...], flavor: str | None) -> bytes:
    # Cached because subsetting the 65 535-glyph CFF face takes 0.5-2 s and a
    # report renders the same text as HTML and PDF.
    return _make_subset(codepoints, flavor)


def _make_subset(codepoints: tuple[int, ...], flavor: str | None) -> bytes:
    from fontTools import subset

    options = subset.Options()
    options.font_number = face_index()
    options.flavor = flavor
    # pyftsubset defaults, spelled out because output must be reproducible:
    # no timestamp stamped into 'head', bounding boxes kept from the full
    # font (a valid superset; recomputing them costs a second per subset).
    options.recalc_timestamp = False
    options.recalc_bounds = False
    # Draw a visible box rather than nothing if a renderer ever asks for a
    # glyph we did not keep; makes such a bug obvious on the page.
    options.notdef_outline = True
    # Keep copyright, trademark and licence records: the OFL requires the
    # licence to travel with the font, embedded subsets included.
    options.name_IDs = [0, 1, 2, 3, 4, 5, 6, 7, 13, 14]
    # Plain zlib WOFF (zopfli is slower and brings nothing here).
    options.with_zopfli = False
    # The SC face already maps every character to its mainland form; 'locl'
    # only adds the Japanese/Korean/Traditional alternates of each glyph,
    # which almost doubled the subset (1 000 hanzi: 1 999 -> 1 108 glyphs).
    options.layout_features = [tag for tag in options.layout_features if tag != "locl"]
    # Hints only matter for low-resolution screens; dropping them (as
    # WeasyPrint does for its own PDF subsets) and flattening subroutines
    # shrinks the WOFF by a fifth (1 000 hanzi: 239 KB -> 193 KB).
    options.hinting = False
    options.desubroutinize = True

    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=codepoints)
    face = subset.load_font(str(font_path()), options, lazy=True)
    try:
        subsetter.subset(face)
        buffer = io.BytesIO()
        # save_font applies options.flavor; TTFont.save alone would not.
        subset.save_font(face, buffer, options)
    finally:
        face.close()
    return buffer.getvalue()


def subset_font_bytes(text: str, *, flavor: str | None = "woff") -> bytes:
    """Subset of the Simplified Chinese face covering ``text``.

    Parameters
    ----------
    text : str
        All text that will be drawn with the font.
    flavor : {"woff", None}, default "woff"
        ``"woff"`` for a zlib-compressed WOFF 1.0 file (readable by every
        browser and by WeasyPrint without brotli), ``None`` for a bare
        OpenType (CFF) file.

    Returns
    -------
    bytes
        Font file content; identical bytes for the same set of characters,
        whatever their order or repetition in ``text``.

    Raises
    ------
    MissingGlyphError
        If ``text`` contains characters the font cannot draw.
    """
    if flavor not in ("woff", None):
        raise ValueError(f"unsupported flavor {flavor!r}; use 'woff' or None")
    check_glyphs(text, context="font subset")
    return _subset_bytes_cached(_subset_codepoints(text), flavor)


def _subset_suffix(flavor: str | None) -> str:
    return ".woff" if flavor == "woff" else ".otf"


def subset_font(
    text: str, out_dir: str | os.PathLike[str], *, flavor: str | None = "woff"
) -> Path:
    """Write a subset of the font covering ``text`` into ``out_dir``.

    Parameters
    ----------
    text : str
        All text that will be drawn with the font.
    out_dir : str or os.PathLike
        Destination directory (created if missing).
    flavor : {"woff", None}, default "woff"
        See :func:`subset_font_bytes`.

    Returns
    -------
    pathlib.Path
        ``BMNotoSansSC-<hash>.woff`` (or ``.otf``); the name is derived from
        the content, so the same text always gives the same file and files
        for different texts never overwrite each other.
    """
    data = subset_font_bytes(text, flavor=flavor)
    digest = hashlib.sha256(data).hexdigest()[:16]
    name = f"{CSS_FONT_FAMILY.replace(' ', '')}-{digest}{_subset_suffix(flavor)}"
    return atomic_write_bytes(Path(out_dir) / name, data)


_CSS_FORMATS = {"woff": ("font/woff", "woff"), None: ("font/otf", "opentype")}


def font_face_css(
    text: str, *, family: str = CSS_FONT_FAMILY, flavor: str | None = "woff"
) -> str:
    """Self-contained ``@font-face`` rule embedding a subset for ``text``.

    Parameters
    ----------
    text : str
        All text of the document that will use the font (see
        :func:`balance_metrics.pdf.renderable_text` for HTML).
    family : str, default :data:`CSS_FONT_FAMILY`
        Family name to declare.
    flavor : {"woff", None}, default "woff"
        Container of the inlined font: WOFF (smallest, for HTML that browsers
        open) or bare OpenType (used for PDF rendering, where WeasyPrint would
        otherwise re-encode the WOFF with a fresh timestamp).

    Returns
    -------
    str
        CSS with the WOFF subset inlined as a ``data:`` URI; use it with
        ``font-family: "BM Noto Sans SC", sans-serif``
        (:data:`CSS_FONT_STACK`).

    Raises
    ------
    MissingGlyphError
        If ``text`` contains characters the font cannot draw.
    """
    return _font_face_rule(subset_font_bytes(text, flavor=flavor), flavor, family)


def _font_face_rule(data: bytes, flavor: str | None, family: str) -> str:
    mime, css_format = _CSS_FORMATS[flavor]
    encoded = base64.b64encode(data).decode("ascii")
    # No font-weight descriptor on purpose: it defaults to 400, so browsers
    # synthesise bold for <h1>/<strong> instead of using Regular as bold.
    return (
        "@font-face {\n"
        f'  font-family: "{family}";\n'
        "  font-style: normal;\n"
        f'  src: url("data:{mime};base64,{encoded}") format("{css_format}");\n'
        "}\n"
    )


# --------------------------------------------------------------------------
# One subset for a whole batch
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class FontSubset:
    """A bare OpenType (CFF) subset of the face and the characters it covers.

    Attributes
    ----------
    data : bytes
        The font file.
    codepoints : frozenset of int
        Characters it has glyphs for.
    path : Path or None
        Where it is stored (content-addressed), if on disk.
    """

    data: bytes = field(repr=False)
    codepoints: frozenset[int] = field(repr=False)
    path: Path | None = None

    def __repr__(self) -> str:
        return f"FontSubset({len(self.codepoints)} characters, {len(self.data) / 1024:.0f} KiB)"

    def covers(self, text: str) -> bool:
        """Whether every drawable character of ``text`` is in the subset."""
        return all(ord(c) in self.codepoints or needs_no_glyph(c) for c in set(text))

    @functools.cached_property
    def css(self) -> str:
        """``@font-face`` rule with the subset inlined (see :func:`font_face_css`)."""
        return _font_face_rule(self.data, None, CSS_FONT_FAMILY)

    @functools.cached_property
    def linked_css(self) -> str:
        """``@font-face`` rule naming the subset's file (``file://`` URL) instead of inlining it.

        For PDF rendering only (:func:`balance_metrics.reporting.pdf.render_pdf_bytes`): WeasyPrint
        then reads the file instead of tokenising and decoding a ~200 KB ``data:`` URI
        for every document, and embeds the same bytes. Falls back to :attr:`css`
        when the subset has no file.
        """
        if self.path is None:
            return self.css
        return (
            "@font-face {\n"
            f'  font-family: "{CSS_FONT_FAMILY}";\n'
            "  font-style: normal;\n"
            f'  src: url("{Path(self.path).resolve().as_uri()}") format("{_CSS_FORMATS[None][1]}");\n'
            "}\n"
        )


def batch_subset(text: str, directory: str | os.PathLike[str] | None = None) -> FontSubset:
    """One subset covering ``text``, written once, for every report of a batch.

    Parameters
    ----------
    text : str
        Every character the batch may draw. Characters the font lacks are
        left out (a report that really shows one fails its own glyph check).
    directory : str or os.PathLike, optional
        Where the file goes (default :func:`balance_metrics.reporting.fonts.cache_dir`
        ``/subsets``); the name is derived from the content.

    Returns
    -------
    FontSubset
    """
    available = available_codepoints()
    drawable = "".join(c for c in set(text) if ord(c) in available)
    codepoints = _subset_codepoints(drawable)
    folder = Path(directory) if directory is not None else cache_dir() / "subsets"
    key = hashlib.sha256(repr((FONT_PACKAGE_VERSION, codepoints)).encode()).hexdigest()[:16]
    target = folder / f"{CSS_FONT_FAMILY.replace(' ', '')}-batch-{key}.otf"
    if target.is_file():
        # Named after the characters: a run on the same inputs reuses it.
        return load_subset(target)
    data = subset_font_bytes(drawable, flavor=None)
    atomic_write_bytes(target, data)
    return FontSubset(data=data, codepoints=frozenset(codepoints), path=target)


@functools.lru_cache(maxsize=4)
def load_subset(path: str | os.PathLike[str]) -> FontSubset:
    """Read a subset written by :func:`batch_subset` (cached per process).

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    FontSubset
    """
    from fontTools.ttLib import TTFont

    data = Path(path).read_bytes()
    face = TTFont(io.BytesIO(data), lazy=True)
    try:
        codepoints = frozenset(face.getBestCmap())
    finally:
        face.close()
    return FontSubset(data=data, codepoints=codepoints, path=Path(path))
