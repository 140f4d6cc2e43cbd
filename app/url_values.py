"""One URL parameter's value, checked. A page's URL is untrusted (anyone can edit a link or a
bookmark), so each parser here returns the value it accepts, or a default with one plain
sentence for the reader saying which part of the link was ignored and why; never an exception,
whatever the value (a 4,301-digit number is beyond what ``int()`` converts, "²" is a digit to
``str.isdigit``). Pure: no Streamlit, so the pages and their tests share it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

MAX_DIGITS = 19  # 2**63 - 1, the largest id a database column holds, has 19 digits
SHOWN_CHARS = 24  # of a rejected value, quoted in the sentence
IGNORED = "; it was ignored."


def shown(value: str) -> str:
    """``value`` quoted for a message; a long one cut, with its length."""
    if len(value) <= SHOWN_CHARS:
        return f"“{value}”"
    return f"“{value[:SHOWN_CHARS]}…” ({len(value):,} characters)"


def whole(value: str, what: str, low: int, high: int, expected: str = "") -> tuple[int | None, str]:
    """A whole number in [low, high] (None and a sentence otherwise, which says what was
    ``expected``, by default the range; None alone when empty)."""
    value = value.strip()
    if not value:
        return None, ""
    if value.isascii() and value.isdigit() and len(value) <= MAX_DIGITS:
        if low <= int(value) <= high:
            return int(value), ""
    expected = expected or f"a number from {low:,} to {high:,}"
    return None, f"The link's {what} {shown(value)} is not {expected}{IGNORED}"


def iso_date(value: str, what: str) -> tuple[str, str]:
    """A date as YYYY-MM-DD ("" and a sentence otherwise)."""
    value = value.strip()
    if not value:
        return "", ""
    try:
        return date.fromisoformat(value).isoformat(), ""
    except ValueError:
        return "", f"The link's {what} {shown(value)} is not a date written YYYY-MM-DD{IGNORED}"


def choice(value: str, what: str, allowed: Sequence[str], default: str) -> tuple[str, str]:
    """One of ``allowed`` (``default`` and a sentence otherwise; ``default`` alone if empty)."""
    value = value.strip()
    if not value or value in allowed:
        return value or default, ""
    return default, f"The link's {what} {shown(value)} is not one of {', '.join(allowed)}{IGNORED}"


def text(value: str, what: str, max_chars: int) -> tuple[str, str]:
    """Text of at most ``max_chars`` characters, without control characters ("" and a
    sentence otherwise)."""
    value = value.strip()
    if len(value) > max_chars:
        too_long = f"has {len(value):,} characters, over the {max_chars:,} allowed"
        return "", f"The link's {what} {too_long}{IGNORED}"
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        return "", f"The link's {what} {shown(value)} holds control characters{IGNORED}"
    return value, ""
