"""Parse one text cell against its column of the contract (our number rules, not Python's).

Accepted numbers (``docs/data-contract.md``, "Numbers"): the digits 0–9 with an optional
decimal point (``13274.2``); thousands separators in groups of three (``1,234,567.5``);
full-width digits, point and comma as a Chinese input method types them (``１２３４``);
in amount columns also Excel's exponent form (``1.44E+07``). A count may end in ``.0``.
Everything else is rejected with a reason: ``1_000``, ``nan``, ``inf``, non-ASCII digits
such as ``١٢``, placeholders such as ``N/A``, an exponent in a count, values above
:data:`~balance_metrics.contract.schema.MAX_COUNT` / ``MAX_AMOUNT``.
"""

from __future__ import annotations

import re
import unicodedata

from balance_metrics.contract.schema import BOOLEANS, MAX_AMOUNT, MAX_COUNT, Column

_FULL_WIDTH = str.maketrans("０１２３４５６７８９．，－＋", "0123456789.,-+")
_PLAIN = re.compile(r"[0-9]+(?:\.[0-9]+)?", re.ASCII)
_GROUPED = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?", re.ASCII)
_EXPONENT = re.compile(r"[0-9]+(?:\.[0-9]+)?[eE][+-]?[0-9]{1,3}", re.ASCII)
_WHOLE = re.compile(r"([0-9]+)(?:\.0+)?", re.ASCII)
PLACEHOLDERS = frozenset({"n/a", "na", "null", "none", "nil", "-", "--", "—", "/", "无", "空", "#n/a"})
NOT_FINITE = frozenset({"nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"})


def parse_cell(col: Column, text: str) -> tuple[object, str | None]:
    """Parse one cell; return (value, rule broken or None)."""
    text = text.strip()
    if text == "":
        if col.required:
            return None, f"{col.name} ({col.zh}) is required"
        return None, None
    kind = col.kind
    if kind in ("id", "text"):
        return text, None
    if kind == "bool":
        value = BOOLEANS.get(text.lower())
        return (value, None) if value is not None else (None, "expected a yes/no value (true/false, 是/否, 1/0)")
    if kind == "category":
        assert col.choices is not None
        if text in col.choices:
            return text, None
        for code, label in col.choices.items():
            if text == label:
                return code, None
        allowed = ", ".join(f"{c} {z}" for c, z in col.choices.items())
        return None, f"unknown {col.name}; allowed: {allowed}"
    return parse_number(text, whole=kind == "count")


def parse_number(text: str, *, whole: bool) -> tuple[int | float | None, str | None]:
    """Parse a non-negative number written by our rules; ``whole`` for count columns."""
    text = text.translate(_FULL_WIDTH).strip()
    lowered = text.lower()
    if lowered in PLACEHOLDERS:
        return None, "not a number but a placeholder: leave the cell empty when the column is optional, or enter the value"
    if lowered in NOT_FINITE:
        return None, "not a number (nan/inf are not values); leave the cell empty when the column is optional"
    if text.startswith("-") and parse_number(text[1:], whole=whole)[1] is None:
        return None, "must not be negative"
    if any(ch.isdigit() and not ("0" <= ch <= "9") for ch in text):
        odd = next(ch for ch in text if ch.isdigit() and not "0" <= ch <= "9")
        return None, f"not a number: write digits as 0–9 (found {unicodedata.name(odd, repr(odd)).lower()})"
    if "_" in text:
        return None, "not a number: '_' is not a digit separator; write 1000, not 1_000"
    if _GROUPED.fullmatch(text):
        text = text.replace(",", "")
    elif "," in text:
        return None, "not a number: a comma may only separate thousands (1,234,567); use '.' for decimals"
    if whole:
        match = _WHOLE.fullmatch(text)
        if match is None:
            if _PLAIN.fullmatch(text):
                return None, "must be a whole number"
            if _EXPONENT.fullmatch(text):
                return None, "a count must be written out in digits (no exponent such as 1e3)"
            return None, "not a number"
        digits = match.group(1).lstrip("0") or "0"
        if len(digits) > len(str(MAX_COUNT)) or int(digits) > MAX_COUNT:
            return None, f"larger than the largest count accepted ({MAX_COUNT:,})"
        return int(digits), None
    if not (_PLAIN.fullmatch(text) or _EXPONENT.fullmatch(text)):
        return None, "not a number"
    number = float(text)
    if number > MAX_AMOUNT:
        return None, f"larger than the largest amount accepted ({MAX_AMOUNT:,.0f})"
    return number, None
