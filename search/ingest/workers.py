"""Worker-process isolation: every file is parsed in a bounded child process.

A worker is a fresh interpreter (`python -c "...serve()"`), not a fork, so it inherits no
threads or locks from the caller (the CLI, Dagster or a test runner). In its own process
group, before it imports any parser, it sets its limits:
- memory: RLIMIT_AS = ParseLimits.max_memory_bytes; a parser over it gets MemoryError (or
  dies), the file is rejected naming the limit, and the worker is replaced;
- time: the parent gives each file `timeout_seconds` of wall-clock time and then kills the
  worker's group; the worker also renews RLIMIT_CPU a second above that budget for each
  file, so a worker left without its parent still stops (SIGXCPU); no core dumps;
- lifetime: on Linux it asks for SIGKILL when its parent dies (prctl PR_SET_PDEATHSIG), then
  checks that the parent did not die before the request took hold.
The parent reaps every worker it started on every way out of `WorkerPool` (the end,
an exception, Ctrl-C). Messages are length-prefixed JSON, never pickle, so a subverted
parser cannot run code in the parent, and the parent checks what a worker sends back.
"""

from __future__ import annotations

import ctypes
import json
import logging
import math
import os
import select
import signal
import struct
import subprocess
import sys
import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from search.ingest.files import read_bounded, to_document
from search.ingest.model import Document, DocumentError, ParseLimits, Rejection

_HEADER = struct.Struct(">Q")
_START_SECONDS = 120.0  # a fresh interpreter on a loaded machine; not counted against any file
_STOP_SECONDS = 2.0  # an idle worker exits at once when its task pipe closes
_MAX_WARNINGS = 20
_ENTRY = "from search.ingest.workers import serve; serve()"
_PR_SET_PDEATHSIG = 1
_NEAR_LIMIT = 0.9  # a failure with memory use this close to the limit is blamed on the limit


@dataclass(frozen=True)
class Task:
    """One file for a worker: its document id, the real path to open and what the walk saw."""

    rel: str
    path: str
    fmt: str
    dev: int
    ino: int


# --------------------------------------------------------------------------- messages


def _send(fd: int, message: dict) -> None:
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


def _receive(fd: int) -> dict | None:
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


def _death_reason(returncode: int, limits: ParseLimits) -> str:
    if returncode == -signal.SIGXCPU:
        return (
            f"parsing used more than {_cpu_budget(limits)} s of CPU time "
            "(ParseLimits.timeout_seconds); split the file, remove it, or raise the limit"
        )
    how = f"signal {signal.Signals(-returncode).name}" if returncode < 0 else f"exit {returncode}"
    return (
        f"the parser process died on this file ({how}); the file may be malformed or need more "
        f"than {_mib(limits.max_memory_bytes)} of memory (ParseLimits.max_memory_bytes): "
        "re-save it, remove it, or raise the limit"
    )


# --------------------------------------------------------------------------- the worker side


def _cpu_budget(limits: ParseLimits) -> int:
    return math.ceil(limits.timeout_seconds) + 1


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
    _set_limit(resource.RLIMIT_CPU, int(usage.ru_utime + usage.ru_stime) + _cpu_budget(limits))


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
        if len(self.messages) < _MAX_WARNINGS:
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
    """A worker's life: `python -c "<_ENTRY>" PARENT_PID LIMITS_JSON`, files in, results out."""
    parent, limits = int(sys.argv[1]), ParseLimits(**json.loads(sys.argv[2]))
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
    _send(results, {"ready": True})
    while (task := _receive(tasks)) is not None:
        _limit_cpu_for_next_file(limits)
        try:
            reply = _parse(task, limits, log)
            _send(results, reply)
        except MemoryError:  # e.g. encoding the reply: the document is too big for the limit
            reply = {"reason": memory_reason(limits), "retire": True, "warnings": []}
            _send(results, reply)
        if reply.get("retire"):
            return  # a MemoryError can leave a library half-updated: a fresh worker follows


# --------------------------------------------------------------------------- the parent side


def _child_env() -> dict[str, str]:
    """The caller's environment, with this copy of the package first on the worker's path."""
    env = dict(os.environ)
    here = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (here, env.get("PYTHONPATH")) if p)
    return env


class _Worker:
    """One worker process and the two pipes to it."""

    def __init__(self, limits: ParseLimits) -> None:
        task_read, self.tasks = os.pipe()
        self.results, result_write = os.pipe()
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-c", _ENTRY, str(os.getpid()), json.dumps(asdict(limits))],
                stdin=task_read,
                stdout=result_write,
                env=_child_env(),
                process_group=0,  # its own group: a terminal's Ctrl-C goes to the parent only
            )
        except BaseException:
            for fd in (self.tasks, self.results):
                os.close(fd)
            raise
        finally:
            os.close(task_read)
            os.close(result_write)
        self.ready = False
        self.job: int | None = None
        self.deadline = time.monotonic() + _START_SECONDS

    def give(self, job: int, task: Task, limits: ParseLimits) -> None:
        _send(self.tasks, asdict(task))
        self.job = job
        self.deadline = time.monotonic() + limits.timeout_seconds

    def stop(self, kill: bool) -> None:
        """Reap the worker: ask it to finish (EOF on its task pipe), kill it if it does not."""
        if self.tasks >= 0:
            os.close(self.tasks)
            self.tasks = -1
        if not kill:
            try:
                self.process.wait(timeout=_STOP_SECONDS)
            except subprocess.TimeoutExpired:
                kill = True
        if kill:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)  # the group: anything it started
            except (ProcessLookupError, PermissionError):
                pass  # gone already
            self.process.wait()
        if self.results >= 0:
            os.close(self.results)
            self.results = -1


def _checked_document(message: dict, task: Task) -> Document | None:
    """The worker's Document if it is well formed and for the file it was given."""
    try:
        document = Document(**message["document"])
    except (TypeError, KeyError):
        return None
    ok = document.id == task.rel and isinstance(document.text, str)
    return document if ok and isinstance(document.title, str) else None


class WorkerPool:
    """Up to `size` bounded workers, each given one file at a time; see the module docstring."""

    def __init__(self, limits: ParseLimits, size: int) -> None:
        self.limits = limits
        self.size = max(1, size)
        self.workers: list[_Worker] = []

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, kind, value, traceback) -> None:
        self.close(kill=kind is not None)

    def close(self, kill: bool = False) -> None:
        """Reap every worker; `kill` skips asking them to finish (on an error or Ctrl-C)."""
        workers, self.workers = self.workers, []
        for worker in workers:
            worker.stop(kill)

    def _retire(self, worker: _Worker, kill: bool) -> None:
        self.workers.remove(worker)
        worker.stop(kill)

    def run(self, tasks: Sequence[Task]) -> Iterator[tuple[int, Document | Rejection, list[str]]]:
        """(position in `tasks`, outcome, warnings) for every task, in the order they finish."""
        queue = deque(range(len(tasks)))
        while queue or any(w.job is not None for w in self.workers):
            busy = sum(w.job is not None for w in self.workers)
            while len(self.workers) < min(self.size, busy + len(queue)):
                self.workers.append(_Worker(self.limits))
            for worker in self.workers:
                if queue and worker.ready and worker.job is None:
                    job = queue.popleft()
                    try:
                        worker.give(job, tasks[job], self.limits)
                    except BrokenPipeError:
                        queue.appendleft(job)  # it died idle; its EOF is handled below
            yield from self._collect(tasks)

    def _collect(
        self, tasks: Sequence[Task]
    ) -> Iterator[tuple[int, Document | Rejection, list[str]]]:
        """Wait for the next message, death or deadline, and settle it."""
        poller = select.poll()
        by_fd = {w.results: w for w in self.workers}
        for fd in by_fd:
            poller.register(fd, select.POLLIN)
        wait = min(w.deadline for w in self.workers) - time.monotonic()
        events = poller.poll(max(0, math.ceil(wait * 1000)))
        for fd, _ in events:
            yield from self._message(by_fd[fd], tasks)
        now = time.monotonic()
        for worker in [
            w for w in self.workers if w.deadline <= now and (w.job is not None or not w.ready)
        ]:
            if not worker.ready:
                self._retire(worker, kill=True)
                raise RuntimeError(
                    f"a parse worker did not start within {_START_SECONDS:g} s; is the machine "
                    "overloaded? Run again when it is less busy"
                )
            job, worker.job = worker.job, None
            self._retire(worker, kill=True)
            yield job, Rejection(tasks[job].rel, timeout_reason(self.limits)), []

    def _message(self, worker: _Worker, tasks: Sequence[Task]):
        message = _receive(worker.results)
        if message is None:  # the worker died
            job, worker.job = worker.job, None
            self._retire(worker, kill=True)
            if not worker.ready:
                raise RuntimeError(
                    f"a parse worker failed to start (exit {worker.process.returncode}); "
                    f"run `{sys.executable} -c 'import search.ingest.workers'` to see why"
                )
            if job is not None:
                reason = _death_reason(worker.process.returncode, self.limits)
                yield job, Rejection(tasks[job].rel, reason), []
            return
        if message.get("ready"):
            worker.ready = True
            worker.deadline = math.inf
            return
        job, worker.job = worker.job, None
        task = tasks[job]
        if "document" in message:
            outcome = _checked_document(message, task) or Rejection(
                task.rel, "the parse worker sent back a malformed result; report this as a bug"
            )
        else:
            outcome = Rejection(task.rel, str(message.get("reason")))
        if message.get("retire"):
            self._retire(worker, kill=False)
        else:
            worker.deadline = math.inf
        yield job, outcome, [str(w) for w in message.get("warnings", [])][:_MAX_WARNINGS]
