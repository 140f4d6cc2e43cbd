"""The parent side: a few workers, one file each at a time, deadlines, deaths and reaping."""

from __future__ import annotations

import json
import math
import os
import select
import signal
import subprocess
import sys
import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import asdict, fields
from pathlib import Path

from search.ingest.model import Document, ParseLimits, Rejection
from search.ingest.workers.child import ENTRY
from search.ingest.workers.protocol import (
    MAX_WARNINGS,
    Task,
    death_reason,
    receive,
    send,
    timeout_reason,
)

_START_SECONDS = 120.0  # a fresh interpreter on a loaded machine; not counted against any file
_STOP_SECONDS = 2.0  # an idle worker exits at once when its task pipe closes
_MALFORMED = "the parse worker sent back a malformed result; report this as a bug"


_PACKAGE_ROOT = str(Path(__file__).resolve().parents[3])  # the folder holding search/


class _Worker:
    """One worker process and the two pipes to it."""

    def __init__(self, limits: ParseLimits) -> None:
        task_read, self.tasks = os.pipe()
        self.results, result_write = os.pipe()
        try:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    ENTRY,
                    _PACKAGE_ROOT,
                    str(os.getpid()),
                    json.dumps(asdict(limits)),
                ],
                stdin=task_read,
                stdout=result_write,
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
        send(self.tasks, asdict(task))
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
    values = message["document"]
    if not isinstance(values, dict) or set(values) != {f.name for f in fields(Document)}:
        return None
    document = Document(**values)
    ok = document.id == task.rel and isinstance(document.metadata, dict)
    return (
        document
        if ok and isinstance(document.title, str) and isinstance(document.text, str)
        else None
    )


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
        # No deadline (only idle workers, e.g. one that died idle): block until its end arrives.
        events = poller.poll(-1 if math.isinf(wait) else max(0, math.ceil(wait * 1000)))
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
        try:
            message = receive(worker.results)
        except ValueError:  # not JSON: the worker is not speaking the protocol
            message = {}
        if message is None:  # the worker died
            yield from self._died(worker, tasks)
            return
        if isinstance(message, dict) and message.get("ready") is True and not worker.ready:
            worker.ready, worker.deadline = True, math.inf
            return
        job, worker.job = worker.job, None
        if job is None or not isinstance(message, dict) or message.get("ready"):
            self._retire(worker, kill=True)  # a message nobody asked for: stop listening to it
            if job is not None:
                yield job, Rejection(tasks[job].rel, _MALFORMED), []
            return
        outcome: Document | Rejection | None = None
        if "document" in message:
            outcome = _checked_document(message, tasks[job])
        elif isinstance(message.get("reason"), str):
            outcome = Rejection(tasks[job].rel, message["reason"])
        if message.get("retire") or outcome is None:
            self._retire(worker, kill=outcome is None)
        else:
            worker.deadline = math.inf
        warnings = message.get("warnings")
        warnings = [str(w) for w in warnings][:MAX_WARNINGS] if isinstance(warnings, list) else []
        yield job, outcome or Rejection(tasks[job].rel, _MALFORMED), warnings

    def _died(self, worker: _Worker, tasks: Sequence[Task]):
        job, worker.job = worker.job, None
        self._retire(worker, kill=True)
        if not worker.ready:
            raise RuntimeError(
                f"a parse worker failed to start (exit {worker.process.returncode}); its error "
                "is printed above: fix it (is the package installed in this interpreter?)"
            )
        if job is not None:
            reason = death_reason(worker.process.returncode, self.limits)
            yield job, Rejection(tasks[job].rel, reason), []
