"""What the parent and a worker say to each other, and the reasons a worker's end is given."""

from __future__ import annotations

import json
import math
import os
import signal
import struct
from dataclasses import dataclass

from search.ingest.model import ParseLimits

_HEADER = struct.Struct(">Q")
MAX_WARNINGS = 20  # library warnings kept per file


@dataclass(frozen=True)
class Task:
    """One file for a worker: its document id, the real path to open and what the walk saw."""

    rel: str
    path: str
    fmt: str
    dev: int
    ino: int


def send(fd: int, message: dict) -> None:
    data = json.dumps(message).encode("utf-8")
    view = memoryview(_HEADER.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view) :]


def _read_exact(fd: int, size: int) -> bytes | None:
    chunks, left = [], size
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            return None  # the other side is gone
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def receive(fd: int) -> dict | None:
    header = _read_exact(fd, _HEADER.size)
    if header is None:
        return None
    body = _read_exact(fd, _HEADER.unpack(header)[0])
    return None if body is None else json.loads(body)


def _mib(size: int) -> str:
    return f"{size / 1024**2:,.0f} MiB"


def timeout_reason(limits: ParseLimits) -> str:
    return (
        f"parsing took longer than {limits.timeout_seconds:g} s (ParseLimits.timeout_seconds); "
        "the file may be malformed or hostile: split it, remove it, or raise the limit"
    )


def memory_reason(limits: ParseLimits) -> str:
    return (
        f"parsing needed more than {_mib(limits.max_memory_bytes)} of memory "
        "(ParseLimits.max_memory_bytes); split the file, remove it, or raise the limit"
    )


def death_reason(returncode: int, limits: ParseLimits) -> str:
    if returncode == -signal.SIGXCPU:
        return (
            f"parsing used more than {cpu_budget(limits)} s of CPU time "
            "(ParseLimits.timeout_seconds); split the file, remove it, or raise the limit"
        )
    how = f"signal {signal.Signals(-returncode).name}" if returncode < 0 else f"exit {returncode}"
    return (
        f"the parser process died on this file ({how}); the file may be malformed or need more "
        f"than {_mib(limits.max_memory_bytes)} of memory (ParseLimits.max_memory_bytes): "
        "re-save it, remove it, or raise the limit"
    )


def cpu_budget(limits: ParseLimits) -> int:
    """Seconds of CPU a worker may spend on one file: a second above the wall-clock limit."""
    return math.ceil(limits.timeout_seconds) + 1
