"""What every result object shares: ``passed``, ``summary()``, ``tables()`` and a compact
display in a terminal (``repr``) and in JupyterLab (``_repr_html_``).

A result class mixes in :class:`Result` and says what to show in :meth:`Result._display`:
a title, its verdict, a few lines and a few small tables — never a dump of every frame.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

#: Rows of a table shown in a repr before "… n more".
MAX_ROWS = 12


class Result:
    """Mixin: compact ``__repr__`` and ``_repr_html_`` from :meth:`_display`.

    Subclasses are frozen dataclasses declared with ``repr=False`` and define
    ``passed``, ``summary()`` and ``tables()``.
    """

    def _display(self) -> tuple[str, str, list[str], list[tuple[str, pd.DataFrame]]]:
        """(title, verdict, lines, [(caption, table), ...])."""
        raise NotImplementedError

    def __repr__(self) -> str:
        title, verdict, lines, frames = self._display()
        out = [f"{title}: {verdict}", *(f"  {line}" for line in lines)]
        for caption, frame in frames:
            out.append(f"{caption}:")
            shown = frame.head(MAX_ROWS).to_string(index=False) if len(frame) else "(none)"
            out += [f"  {row}" for row in shown.splitlines()]
            if len(frame) > MAX_ROWS:
                out.append(f"  … {len(frame) - MAX_ROWS} more")
        return "\n".join(out)

    def _repr_html_(self) -> str:
        title, verdict, lines, frames = self._display()
        parts = [f"<div class='bm-result'><strong>{html.escape(title)}</strong>: {html.escape(verdict)}"]
        if lines:
            parts.append("<ul>" + "".join(f"<li>{html.escape(line)}</li>" for line in lines) + "</ul>")
        for caption, frame in frames:
            parts.append(f"<p><em>{html.escape(caption)}</em></p>")
            if len(frame):
                parts.append(frame.head(MAX_ROWS).to_html(index=False, border=0, float_format=lambda v: f"{v:.3f}"))
                if len(frame) > MAX_ROWS:
                    parts.append(f"<p>… {len(frame) - MAX_ROWS} more</p>")
            else:
                parts.append("<p>(none)</p>")
        parts.append("</div>")
        return "".join(parts)


def verdict_word(passed: bool) -> str:
    """``"passed"`` or ``"not passed"``."""
    return "passed" if passed else "not passed"
