"""Argument types that refuse nonsense with one line (argparse turns them into exit code 2)."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

# the most results one search returns: the REST API's bound (``app.api.limits.MAX_K``; a test
# keeps the two equal; importing the API here would cost every command seconds)
MAX_K = 100
MAX_QUERY_CHARS = 1000  # the longest query: the REST API's bound too


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
    if not path.exists():
        raise argparse.ArgumentTypeError(f"the folder {text} does not exist (check the path)")
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a file, not a folder")
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


def positive_id(text: str) -> int:
    """A record id (a query id, say): a whole number from 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an id (a whole number)") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not an id (ids start at 1)")
    return value


positive_id.__name__ = "id"


def index_name(text: str) -> str:
    """An index name: one folder under the home (letters, digits, '.', '_', '-'), never a path."""
    if not text or text.startswith(".") or not all(c.isalnum() or c in "._-" for c in text):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an index name; use letters, digits, '.', '_' or '-'"
        )
    return text


index_name.__name__ = "name"


def query_text(text: str) -> str:
    """A query: some words, at most MAX_QUERY_CHARS characters."""
    if not text.strip():
        raise argparse.ArgumentTypeError("the query is empty; give some words to search for")
    if len(text) > MAX_QUERY_CHARS:
        raise argparse.ArgumentTypeError(
            f"the query has {len(text)} characters; use at most {MAX_QUERY_CHARS}"
        )
    return text


query_text.__name__ = "query"


def user_name(text: str) -> str:
    """A user name for ``--as-user``: an empty one (an unset variable in a script) is refused,
    never read as "no user", which would show every document."""
    if not text.strip():
        raise argparse.ArgumentTypeError(
            "a user name is needed (it is empty); `docsearch users list` shows them"
        )
    return text


user_name.__name__ = "user name"


def date_range(after: str | None, before: str | None) -> None:
    """Refuse ``--after`` on or past ``--before``: no document could match."""
    if after and before and after >= before:
        raise ValueError(
            f"--after {after} is not before --before {before}: no document can match both"
        )


class OneLineParser(argparse.ArgumentParser):
    """A parser whose refusals are one line on stderr and exit code 2 (no usage block): the
    line names the command, the argument and why, and points at ``--help``."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")
