"""Argument types that refuse nonsense with one line (argparse turns them into exit code 2)."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path


def bounded_int(low: int, high: int):
    """An integer in [low, high]: ``--k -5`` or ``--k 0`` is refused, not silently accepted."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is out of range; use {low} to {high}")
        return value

    parse.__name__ = "number"
    return parse


def iso_date(text: str) -> str:
    """A calendar date, YYYY-MM-DD."""
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date; write it as YYYY-MM-DD, e.g. 2025-12-31"
        ) from None


iso_date.__name__ = "date"


def existing_dir(text: str) -> Path:
    """A folder that exists."""
    path = Path(text).expanduser()
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is not a folder (check the path)")
    return path.resolve()


existing_dir.__name__ = "folder"


def probability(text: str) -> float:
    """A number between 0 and 1."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{value} is not between 0 and 1")
    return value


probability.__name__ = "probability"


def non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative")
    return value


non_negative_float.__name__ = "number"
