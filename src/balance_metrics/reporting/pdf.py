"""HTML to PDF with the packaged Chinese font and nothing else.

WeasyPrint lays text out with Pango and fontconfig, which silently fall back
to whatever system font covers a character — on a server without Chinese fonts
that means empty boxes, and on a desktop a different-looking font. This module
closes every path to that outcome:

1. before rendering, the text the page will show is checked against the font
   (:func:`balance_metrics.fonts.check_glyphs`);
2. a subset of the font covering exactly that text is embedded as an
   ``@font-face`` rule and forced onto every element (in the Regular style:
   the package has no bold, and WeasyPrint does not synthesise one);
3. after rendering, the fonts WeasyPrint actually used are inspected; text
   that still reached another font (generated content such as CJK list
   counters that is not in the HTML text) triggers one re-render with those
   characters added to the subset, and anything left is an error;
4. the PDF is written atomically, so a failure never leaves a half-written
   file in place of the previous report.
"""

from __future__ import annotations

import os
import re
import warnings
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from balance_metrics.common.atomic import atomic_write_bytes
from balance_metrics.reporting.font_subsets import FontSubset, font_face_css
from balance_metrics.reporting.fonts import (
    CSS_FONT_FAMILY,
    CSS_FONT_STACK,
    MissingGlyphError,
    check_glyphs,
    missing_glyphs,
)

__all__ = [
    "FontFallbackError",
    "html_to_pdf",
    "inject_font_css",
    "render_pdf_bytes",
    "renderable_text",
    "visible_text",
]

# Elements whose content is never drawn as text.
_HIDDEN_ELEMENTS = frozenset({"script", "style", "template", "title"})
# Quotation marks WeasyPrint generates for <q> and `content: open-quote`.
_QUOTE_MARKS = "\u201c\u201d\u2018\u2019"
# CSS Paged Media margin boxes.
_PAGE_MARGIN_BOXES = (
    "top-left-corner", "top-left", "top-center", "top-right", "top-right-corner",
    "bottom-left-corner", "bottom-left", "bottom-center", "bottom-right",
    "bottom-right-corner", "left-top", "left-middle", "left-bottom",
    "right-top", "right-middle", "right-bottom",
)  # fmt: skip
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_CSS_STRING = re.compile(r""""((?:[^"\\\n]|\\.)*)"|'((?:[^'\\\n]|\\.)*)'""", re.DOTALL)
_CSS_ESCAPE = re.compile(r"\\([0-9a-fA-F]{1,6})[ \t\n]?|\\(.)", re.DOTALL)
_HEAD_TAG = re.compile(r"<head(?=[\s>/])[^>]*>", re.IGNORECASE)
_HTML_TAG = re.compile(r"<html(?=[\s>/])[^>]*>", re.IGNORECASE)
_DOCTYPE = re.compile(r"^\s*<!doctype[^>]*>", re.IGNORECASE)
_SVG_OPEN = re.compile(r"<svg(?=[\s>])[^>]*(?<!/)>", re.IGNORECASE)


class FontFallbackError(RuntimeError):
    """WeasyPrint drew text with a font other than the embedded subset.

    Parameters
    ----------
    families : dict of str to str
        Font family used → characters drawn with it.
    """

    def __init__(self, families: dict[str, str]) -> None:
        self.families = dict(families)
        details = "; ".join(
            f"{family!r}: {''.join(sorted(chars))!r}" for family, chars in sorted(families.items())
        )
        super().__init__(
            f"text was drawn with font(s) other than {CSS_FONT_FAMILY!r} — {details}. "
            "A rule that outranks the injected ones sets another font-family, e.g. "
            "an !important declaration inside an SVG, or text in an SVG loaded "
            "through <img>; draw chart text as paths (matplotlib "
            "svg.fonttype='path', set by use_chinese_font())."
        )


# --------------------------------------------------------------------------
# What the page will show
# --------------------------------------------------------------------------


class _TextCollector(HTMLParser):
    """Collect drawable text: element content, ``alt`` text and CSS strings."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text_parts: list[str] = []
        self.css_parts: list[str] = []
        self.uses_quotes = False
        self._hidden_depth = 0
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN_ELEMENTS:
            self._hidden_depth += 1
            self._in_style = tag == "style"
        if tag == "q":
            self.uses_quotes = True
        for name, value in attrs:
            if value is None:
                continue
            if name == "style":
                self.css_parts.append(value)
            elif name == "alt" and tag == "img":
                # Drawn by WeasyPrint when the image cannot be loaded.
                self.alt_text(value)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # <img/> and friends: attributes only; void elements never nest.
        if tag in _HIDDEN_ELEMENTS:
            return
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN_ELEMENTS and self._hidden_depth:
            self._hidden_depth -= 1
            self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.css_parts.append(data)
        elif not self._hidden_depth:
            self.text_parts.append(data)

    def alt_text(self, value: str) -> None:
        self.text_parts.append(" " + value + " ")


def _collect(html: str) -> _TextCollector:
    collector = _TextCollector()
    collector.feed(html)
    collector.close()
    return collector


def visible_text(html: str) -> str:
    """Text content of an HTML document as it will appear on the page.

    Parameters
    ----------
    html : str
        HTML document or fragment.

    Returns
    -------
    str
        Character data outside ``<script>``, ``<style>``, ``<template>`` and
        ``<title>``, with entities decoded, plus image ``alt`` text.
        Whitespace is kept as is.
    """
    return "".join(_collect(html).text_parts)


def _unescape_css(value: str) -> str:
    def replace(match: re.Match[str]) -> str:
        if match.group(1):
            code = int(match.group(1), 16)
            return chr(code) if 0 < code <= 0x10FFFF else "\ufffd"
        return "" if match.group(2) == "\n" else match.group(2)

    return _CSS_ESCAPE.sub(replace, value)


def _css_strings(css: str) -> str:
    """Characters of CSS string literals (``content: "第" counter(page) "页"``)."""
    without_comments = _CSS_COMMENT.sub(" ", css)
    literals = [
        _unescape_css(match.group(1) if match.group(1) is not None else match.group(2))
        for match in _CSS_STRING.finditer(without_comments)
    ]
    return " ".join(literals)


def renderable_text(html: str) -> str:
    """All characters the renderer may draw for ``html``.

    Parameters
    ----------
    html : str
        HTML document.

    Returns
    -------
    str
        :func:`visible_text` plus the string literals of inline stylesheets
        and ``style`` attributes (generated content such as page footers),
        plus quotation marks when ``<q>`` or ``open-quote`` is used. This is
        the text to check glyphs for and to subset the font to.
    """
    collector = _collect(html)
    css = "\n".join(collector.css_parts)
    parts = [*collector.text_parts, " ", _css_strings(css)]
    if collector.uses_quotes or "open-quote" in css or "close-quote" in css:
        parts.append(_QUOTE_MARKS)
    return "".join(parts)


# --------------------------------------------------------------------------
# Font injection
# --------------------------------------------------------------------------


def _font_css(text: str, font: FontSubset | None, linked: bool = False) -> str:
    # The batch's shared subset when it covers the text (the usual case),
    # else a subset of exactly this text.
    if font is not None and font.covers(text):
        return font.linked_css if linked else font.css
    return font_face_css(text, flavor=None)


def _font_rules(text: str, font: FontSubset | None = None, linked: bool = False) -> str:
    # One selector per rule: a selector the engine does not know (::marker in
    # an old engine) would otherwise invalidate the whole rule.
    forced = f"font-family: {CSS_FONT_STACK} !important;"
    # Margin boxes (running headers/footers) are not matched by "*" and do
    # not inherit an !important declaration over their own font-family.
    margins = " ".join(f"@{name} {{ {forced} }}" for name in _PAGE_MARGIN_BOXES)
    # WeasyPrint synthesises neither bold nor italic, so with a single Regular
    # face <h1>, <strong> and <em> look regular anyway. Saying so explicitly
    # keeps one font description, hence one embedded copy of the font (a bold
    # "description" of the same file would be embedded a second time).
    regular = "font-weight: normal !important; font-style: normal !important;"
    return (
        _font_css(text, font, linked)
        + f"@page {{ {forced} {margins} }}\n"
        + f"html {{ {forced} }}\n"
        + f"* {{ {forced} {regular} }}\n"
        + f"*::before {{ {forced} }}\n"
        + f"*::after {{ {forced} }}\n"
        + f"*::marker {{ {forced} }}\n"
    )


def _force_font_in_svgs(html: str) -> str:
    """Give every inline ``<svg>`` its own font rule.

    WeasyPrint styles inline SVG only with the ``<style>`` elements inside
    it, so the document-level rules never reach SVG ``<text>``.
    """
    rule = (
        '<style data-balance-metrics="font">'
        f"text, tspan, textPath {{ font-family: {CSS_FONT_STACK} !important; }}"
        "</style>"
    )
    return _SVG_OPEN.sub(lambda match: match.group(0) + rule, html)


def inject_font_css(html: str, text: str | None = None, *, font: FontSubset | None = None, linked: bool = False) -> str:
    """Add the embedded-font stylesheet to the head of ``html``.

    Parameters
    ----------
    html : str
        HTML document.
    text : str, optional
        Text to subset the font to; defaults to :func:`renderable_text`.
    font : FontSubset, optional
        A batch's shared subset (:func:`balance_metrics.reporting.font_subsets.batch_subset`),
        embedded instead of a subset of ``text`` when it covers ``text``.
    linked : bool, default False
        Name ``font``'s file instead of inlining it (:attr:`FontSubset.linked_css`):
        for documents rendered to PDF right away, never for HTML that is kept.

    Returns
    -------
    str
        The document with a ``<style>`` element holding the ``@font-face``
        rule (subset inlined as a base64 OpenType ``data:`` URI) and rules
        forcing that family — in its one Regular style — on every element
        and page margin box, inserted at the start of ``<head>`` so the
        document's own styles still apply to everything but the font; each
        inline ``<svg>`` gets the same ``font-family`` rule. Meant for PDF
        rendering; for HTML that browsers open, use
        :func:`balance_metrics.reporting.font_subsets.font_face_css` (WOFF, bold synthesised).

    Raises
    ------
    MissingGlyphError
        If the text contains characters the font cannot draw.
    """
    subset_text = renderable_text(html) if text is None else text
    style = f'<style data-balance-metrics="font">\n{_font_rules(subset_text, font, linked)}</style>'
    html = _force_font_in_svgs(html)
    head = _HEAD_TAG.search(html)
    if head:
        return html[: head.end()] + style + html[head.end() :]
    root = _HTML_TAG.search(html)
    if root:
        return html[: root.end()] + f"<head>{style}</head>" + html[root.end() :]
    doctype = _DOCTYPE.match(html)
    position = doctype.end() if doctype else 0
    return html[:position] + style + html[position:]


# --------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------


def _weasyprint() -> tuple[Any, Any]:
    """Import WeasyPrint's ``HTML`` and ``FontConfiguration`` lazily.

    Importing WeasyPrint costs about a second, which modules that only build
    HTML should not pay. Without the system HarfBuzz-Subset library it warns
    (DeprecationWarning) on import that it will subset fonts with fontTools;
    we never let it subset (our font is subset already, see
    :func:`_render_once`), so the warning is silenced rather than turned into
    an error by strict warning filters.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message=".*HarfBuzz-Subset.*", category=DeprecationWarning
        )
        from weasyprint import HTML
        from weasyprint.text.fonts import FontConfiguration
    return HTML, FontConfiguration


def _render_once(html: str, text: str, base_url: str | None, font: FontSubset | None = None) -> tuple[bytes, Any]:
    HTML, FontConfiguration = _weasyprint()  # noqa: N806 - class objects

    # The batch's subset is read from its file (same bytes as inlined, without
    # WeasyPrint tokenising a ~200 KB data: URI for every document).
    prepared = inject_font_css(html, text, font=font, linked=True)
    # A fresh FontConfiguration per document: @font-face rules are added to
    # it, and a shared one would let one report's subset serve another's text.
    document = HTML(string=prepared, base_url=base_url).render(font_config=FontConfiguration())
    # The embedded font is already a subset of exactly the document's
    # characters: a second subset by WeasyPrint (with fontTools, as the
    # HarfBuzz-Subset library is usually missing) took 2/3 of the rendering
    # time and stamps the current time into the font, making PDFs differ
    # from run to run.
    return document.write_pdf(full_fonts=True), document


def _foreign_text(document: Any) -> dict[str, str]:
    """Characters drawn with a font other than the embedded subset, by family."""
    foreign: dict[str, set[str]] = {}
    for font in document.fonts.values():
        if font.family == CSS_FONT_FAMILY:
            continue
        to_unicode = getattr(font, "to_unicode", {})
        chars = {char for text in to_unicode.values() for char in text}
        foreign.setdefault(font.family, set()).update(chars)
    return {family: "".join(sorted(chars)) for family, chars in foreign.items()}


def _notdef_text(document: Any) -> str:
    """Characters rendered as ``.notdef`` (empty box) in any font."""
    codes = {code for font in document.fonts.values() for code in getattr(font, "missing", {})}
    return "".join(chr(code) for code in sorted(codes))


def render_pdf_bytes(
    html: str, *, base_url: str | os.PathLike[str] | None = None, font: FontSubset | None = None
) -> bytes:
    """Render ``html`` to PDF using only the embedded Chinese font subset.

    Parameters
    ----------
    html : str
        HTML document.
    base_url : str or os.PathLike, optional
        Base for relative URLs (images, stylesheets); a directory path or URL.
    font : FontSubset, optional
        A batch's shared subset, embedded when it covers the text (see
        :func:`inject_font_css`).

    Returns
    -------
    bytes
        The PDF.

    Raises
    ------
    MissingGlyphError
        If the document contains characters the font cannot draw; raised
        before rendering for document text, after rendering for generated
        text.
    FontFallbackError
        If a stylesheet forced another font onto some text.
    """
    text = renderable_text(html)
    check_glyphs(text, context="HTML document")
    url = os.fspath(base_url) if base_url is not None else None

    pdf, document = _render_once(html, text, url, font)
    generated = "".join(_foreign_text(document).values()) + _notdef_text(document)
    if generated:
        # Generated content (CJK list counters, quotes, attr()) is not in the
        # HTML text, so the subset lacked it: it was drawn with a fallback
        # font or as .notdef. Add it to the subset and render once more.
        check_glyphs(generated, context="generated content")
        text = text + " " + generated
        pdf, document = _render_once(html, text, url, font)

    notdef = _notdef_text(document)
    if notdef:
        raise MissingGlyphError(list(notdef), text, "rendered PDF (.notdef glyphs)")
    still_foreign = _foreign_text(document)
    if still_foreign:
        unrenderable = missing_glyphs("".join(still_foreign.values()))
        if unrenderable:
            raise MissingGlyphError(unrenderable, text, "rendered PDF")
        raise FontFallbackError(still_foreign)
    return pdf


def html_to_pdf(
    html: str,
    out_path: str | os.PathLike[str],
    *,
    base_url: str | os.PathLike[str] | None = None,
) -> Path:
    """Render ``html`` to a PDF file with the embedded Chinese font.

    Parameters
    ----------
    html : str
        HTML document.
    out_path : str or os.PathLike
        Destination PDF. Written atomically: on any error the previous file
        (if any) is left untouched and no partial file is created.
    base_url : str or os.PathLike, optional
        Base for relative URLs; defaults to none (relative URLs fail).

    Returns
    -------
    pathlib.Path
        ``out_path``.

    Raises
    ------
    MissingGlyphError
        If a character cannot be drawn with the font (before anything is
        written).
    FontFallbackError
        If a stylesheet forced another font onto some text.
    """
    pdf = render_pdf_bytes(html, base_url=base_url)
    return atomic_write_bytes(out_path, pdf)
