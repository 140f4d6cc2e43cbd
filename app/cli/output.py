"""What a command prints on stdout: with ``--json``, one JSON document and nothing else.

While a ``--json`` command runs, ``sys.stdout`` is stderr, so whatever else would land on stdout
(NNCF's quantisation bars on a first build, a library's notices, a stray print) goes to stderr;
the command's JSON goes to the stdout it started with, through ``print_json``. Output a C
library writes to file descriptor 1 itself is sent to stderr the same way when stdout is the
process's own.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator
from contextvars import ContextVar
from typing import TextIO

_json_stream: ContextVar[TextIO | None] = ContextVar("json_stream", default=None)


def print_json(data, **dumps) -> None:
    """``data`` as JSON on the command's stdout (``json.dumps`` options in ``dumps``)."""
    stream = _json_stream.get() or sys.stdout
    print(json.dumps(data, **dumps), file=stream, flush=True)


@contextlib.contextmanager
def only_json_on_stdout() -> Iterator[None]:
    """Everything but ``print_json`` goes to stderr until the block ends."""
    previous = sys.stdout
    previous.flush()
    json_stream, saved = previous, None
    if _is_descriptor_one(previous):  # C libraries write to descriptor 1, not to sys.stdout
        saved = os.dup(1)
        os.dup2(sys.stderr.fileno(), 1)
        json_stream = open(saved, "w", closefd=False, encoding=previous.encoding)  # noqa: SIM115
    token = _json_stream.set(json_stream)
    sys.stdout = sys.stderr
    try:
        yield
    finally:
        sys.stderr.flush()
        json_stream.flush()
        sys.stdout = previous
        _json_stream.reset(token)
        if saved is not None:
            os.dup2(saved, 1)
            os.close(saved)


def _is_descriptor_one(stream: TextIO) -> bool:
    """Whether ``stream`` writes to the process's descriptor 1 (not a test's capture or a
    StringIO, which are redirected at the Python level only)."""
    try:
        return stream.fileno() == 1
    except (OSError, ValueError, AttributeError):
        return False
