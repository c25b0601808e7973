"""What a plan-target measure returns: :class:`Measurement`."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction


@dataclass(frozen=True)
class Measurement:
    """A target's value this period and the per-school (or per-year) checks behind it.

    ``incomplete`` is set when some schools lacked the data: the value then
    covers only the others.
    """

    value: Fraction | None
    details: list[dict[str, object]] = field(default_factory=list)
    note: str = ""
    incomplete: bool = False
