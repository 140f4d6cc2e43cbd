"""Worker-process isolation: every file is parsed in a bounded child process.

A worker (`child`) is a fresh interpreter, not a fork, so it inherits no threads or locks
from the caller (the CLI, Dagster or a test runner). In its own process group, before it
imports any parser, it sets its limits:
- memory: RLIMIT_AS = ParseLimits.max_memory_bytes; a parser over it gets MemoryError (or
  dies), the file is rejected naming the limit, and the worker is replaced;
- time: the parent gives each file `timeout_seconds` of wall-clock time and then kills the
  worker's group; the worker also renews RLIMIT_CPU a second above that budget for each
  file, so a worker left without its parent still stops (SIGXCPU); no core dumps;
- lifetime: on Linux it asks for SIGKILL when its parent dies (prctl PR_SET_PDEATHSIG), then
  checks that the parent did not die before the request took hold.
The parent (`pool`) reaps every worker it started on every way out of `WorkerPool` (the
end, an exception, Ctrl-C). Messages (`protocol`) are length-prefixed JSON, never pickle, so
a subverted parser cannot run code in the parent, and the parent checks what it gets back.
"""

from search.ingest.workers.pool import WorkerPool
from search.ingest.workers.protocol import Task

__all__ = ["Task", "WorkerPool"]
