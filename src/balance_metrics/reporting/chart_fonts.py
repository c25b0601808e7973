"""matplotlib with the packaged Chinese font, and its missing-glyph guard.

:func:`use_chinese_font` registers the Simplified Chinese face
(:func:`balance_metrics.reporting.fonts.font_path`) with matplotlib and makes
it the first sans-serif family; :class:`glyph_warnings_as_errors` turns
matplotlib's "Glyph … missing from font" warning, after which it would draw an
empty box, into :class:`~balance_metrics.reporting.fonts.MissingGlyphError`
naming the character and the text.
"""

from __future__ import annotations

import contextlib
import re
import warnings
from types import TracebackType
from typing import Any

from balance_metrics.reporting.fonts import FONT_FAMILY, MissingGlyphError, extract_face, font_path

__all__ = ["glyph_warnings_as_errors", "use_chinese_font"]

# "Glyph 57344 (\ue000) missing from font(s) Noto Sans CJK SC." (matplotlib
# >= 3.6) or "Glyph 57344 missing from current font." (older versions).
_MPL_GLYPH_WARNING = re.compile(
    r"Glyph (?P<code>\d+) (?:\(.*\) )?missing from (?:current )?font", re.DOTALL
)


def _is_registered(font_manager: Any) -> bool:
    return any(entry.name == FONT_FAMILY for entry in font_manager.fontManager.ttflist)


def _register_with_matplotlib(font_manager: Any) -> None:
    # matplotlib >= 3.11 registers every face of a collection; older versions
    # only read face 0 (Japanese), so fall back to a standalone SC file.
    font_manager.fontManager.addfont(str(font_path()))
    if not _is_registered(font_manager):
        font_manager.fontManager.addfont(str(extract_face()))
    if not _is_registered(font_manager):
        raise RuntimeError(f"matplotlib did not register the {FONT_FAMILY!r} family")


def _apply_rc_params(rc_params: Any) -> None:
    others = [name for name in rc_params["font.sans-serif"] if name != FONT_FAMILY]
    rc_params["font.family"] = ["sans-serif"]
    # DejaVu Sans stays second: matplotlib falls back to it per glyph for the
    # few symbols the CJK font lacks.
    rc_params["font.sans-serif"] = [FONT_FAMILY, *others]
    # Tick labels would otherwise use U+2212 MINUS SIGN; the HTML tables print
    # negative numbers with ASCII '-', and the ASCII form is guaranteed in any
    # fallback font.
    rc_params["axes.unicode_minus"] = False
    # SVG charts are inlined into HTML/PDF reports: outlines make them
    # independent of the fonts available to the viewer or to WeasyPrint.
    rc_params["svg.fonttype"] = "path"


def use_chinese_font() -> str:
    """Make matplotlib draw Chinese with the packaged font.

    Registers the Simplified Chinese face with matplotlib's font manager (once
    per process) and sets ``rcParams`` so that it is the first sans-serif
    family. Calling it again only re-applies the ``rcParams`` (cheap), which
    also repairs them after ``plt.rcdefaults()`` or a style change.

    Returns
    -------
    str
        The family name, ``"Noto Sans CJK SC"``, usable in ``fontfamily=``.

    Raises
    ------
    FontPackageMissingError
        If the font package is not installed.
    """
    import matplotlib
    from matplotlib import font_manager

    if not _is_registered(font_manager):
        _register_with_matplotlib(font_manager)
    _apply_rc_params(matplotlib.rcParams)
    return FONT_FAMILY


def _offending_text(traceback: TracebackType | None, char: str) -> str:
    """Find the string matplotlib was drawing when a glyph was missing.

    The warning only names the glyph; the Text artist being laid out is the
    ``self`` of one of the frames in the traceback.
    """
    found = ""
    while traceback is not None:
        frame_locals = traceback.tb_frame.f_locals
        owner = frame_locals.get("self")
        if callable(getattr(owner, "get_text", None)) and type(owner).__module__.startswith(
            "matplotlib"
        ):
            text = owner.get_text()
            if isinstance(text, str) and char in text:
                found = text
        for name in ("s", "text", "clean_line"):
            value = frame_locals.get(name)
            if not found and isinstance(value, str) and char in value:
                found = value
        traceback = traceback.tb_next
    return found or char


class glyph_warnings_as_errors(contextlib.ContextDecorator):  # noqa: N801 - used like a function
    """Turn matplotlib's missing-glyph warnings into :class:`MissingGlyphError`.

    matplotlib only *warns* ("Glyph 57344 (\\ue000) missing from font(s) …")
    and then draws an empty box. Inside this context manager the warning
    aborts the drawing call instead, with an error naming the character and
    the text it occurs in. Other warnings are untouched.

    Parameters
    ----------
    context : str, optional
        Label for the error message (e.g. the figure's file name).

    Examples
    --------
    >>> with glyph_warnings_as_errors("fig1.png"):  # doctest: +SKIP
    ...     fig.savefig("fig1.png")
    """

    def __init__(self, context: str = "") -> None:
        self.context = context
        self._catcher: warnings.catch_warnings | None = None

    def __enter__(self) -> glyph_warnings_as_errors:
        self._catcher = warnings.catch_warnings()
        self._catcher.__enter__()
        warnings.filterwarnings("error", message=_MPL_GLYPH_WARNING.pattern, category=UserWarning)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        assert self._catcher is not None
        self._catcher.__exit__(None, None, None)
        self._catcher = None
        if not isinstance(exc, UserWarning):
            return None
        match = _MPL_GLYPH_WARNING.match(str(exc))
        if match is None:
            return None
        char = chr(int(match.group("code")))
        text = _offending_text(traceback, char)
        raise MissingGlyphError([char], text, self.context or "matplotlib text") from exc
