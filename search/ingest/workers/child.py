"""The worker side: limits itself, then parses one file per message until its pipe closes."""

from __future__ import annotations

import ctypes
import json
import logging
import os
import signal
import sys
from dataclasses import asdict

from search.ingest.files import read_bounded, to_document
from search.ingest.model import DocumentError, ParseLimits
from search.ingest.workers.protocol import (
    MAX_WARNINGS,
    cpu_budget,
    memory_reason,
    receive,
    send,
)

# `python -c ENTRY PACKAGE_ROOT PARENT_PID LIMITS_JSON`: this copy of the package comes first on
# the worker's path whatever the caller's environment holds
ENTRY = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "from search.ingest.workers.child import serve; serve()"
)
_PR_SET_PDEATHSIG = 1
_NEAR_LIMIT = 0.9  # a failure with memory use this close to the limit is blamed on the limit


def _die_with_parent(parent: int) -> None:
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the request took hold
        os._exit(1)


def _set_limit(kind: int, soft: int) -> None:
    import resource

    hard = resource.getrlimit(kind)[1]
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(kind, (soft, hard))


def _limit_process(limits: ParseLimits) -> None:
    import resource

    _set_limit(resource.RLIMIT_AS, limits.max_memory_bytes)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _limit_cpu_for_next_file(limits: ParseLimits) -> None:
    """RLIMIT_CPU counts the process's whole life, so each file gets `used + budget`."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    _set_limit(resource.RLIMIT_CPU, int(usage.ru_utime + usage.ru_stime) + cpu_budget(limits))


def _preload() -> None:
    """Import the parsers before saying ready, so no file's time limit pays for it."""
    import charset_normalizer
    import cmarkgfm  # noqa: F401
    import docx  # noqa: F401
    import lxml.etree  # noqa: F401
    import pypdf  # noqa: F401

    charset_normalizer.from_bytes("préchauffage".encode("latin-1")).best()


class _Warnings(logging.Handler):
    """Collects what the libraries log while one file is parsed, to be sent to the parent."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if len(self.messages) < MAX_WARNINGS:
            self.messages.append(record.getMessage()[:300])


def _peak_memory() -> int:
    """The most address space this process has held (VmPeak), in bytes; 0 where unknown."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmPeak:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _parse(task: dict, limits: ParseLimits, log: _Warnings) -> dict:
    log.messages = []
    try:
        raw, info = read_bounded(task["path"], limits, (task["dev"], task["ino"]))
        document, warnings = to_document(raw, info, task["rel"], task["fmt"], limits)
        reply: dict = {"document": asdict(document)}
    except DocumentError as exc:
        reply, warnings = {"reason": str(exc)}, []
        # C libraries report a failed allocation in their own words (lxml: "unknown error").
        if _peak_memory() >= _NEAR_LIMIT * limits.max_memory_bytes:
            reply["reason"] = memory_reason(limits)
    except MemoryError:
        return {"reason": memory_reason(limits), "retire": True, "warnings": []}
    except Exception as exc:  # a bug or an OS error, not the file's fault: still a reason
        reply, warnings = {"reason": f"could not read the file ({type(exc).__name__}: {exc})"}, []
    reply["warnings"] = warnings + log.messages
    # A worker that has used over half its memory retires, so the peak seen above is always
    # the current file's, and no file inherits a fragmented heap.
    reply["retire"] = _peak_memory() > limits.max_memory_bytes / 2
    return reply


def serve() -> None:
    """A worker's life: `python -c "<ENTRY>" ROOT PARENT_PID LIMITS_JSON`, files in, results out."""
    parent, limits = int(sys.argv[2]), ParseLimits(**json.loads(sys.argv[3]))
    _die_with_parent(parent)
    # The protocol gets its own descriptors; a library that prints writes to stderr instead.
    tasks, results = os.dup(0), os.dup(1)
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    os.dup2(2, 1)
    _limit_process(limits)
    log = _Warnings()
    logging.getLogger().addHandler(log)
    logging.captureWarnings(True)
    _preload()
    send(results, {"ready": True})
    while (task := receive(tasks)) is not None:
        _limit_cpu_for_next_file(limits)
        try:
            reply = _parse(task, limits, log)
            send(results, reply)
        except MemoryError:  # e.g. encoding the reply: the document is too big for the limit
            reply = {"reason": memory_reason(limits), "retire": True, "warnings": []}
            send(results, reply)
        if reply.get("retire"):
            return  # a MemoryError can leave a library half-updated: a fresh worker follows
