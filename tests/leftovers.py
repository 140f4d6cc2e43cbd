"""Processes a killed test run left behind, found and stopped by the next run.

Every process a test session starts (servers, workers, their own children) inherits
``DOCSEARCH_TEST_RUN=<pid of the pytest process>``. A session whose pytest was killed (SIGKILL,
the OOM killer) never ran its fixtures' teardown, and its MLflow servers, moto endpoints and
Celery workers would otherwise live on, holding gigabytes. At the start of a session, every
process whose run variable names a pytest that is no longer alive is killed; the servers of
test sessions still running (another checkout's, say) are left alone.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

RUN_VARIABLE = "DOCSEARCH_TEST_RUN"


def mark_this_run() -> None:
    """Make this process's children recognisable as this test run's."""
    os.environ[RUN_VARIABLE] = str(os.getpid())


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _run_of(pid_dir: Path) -> int | None:
    try:
        environ = (pid_dir / "environ").read_bytes()
    except OSError:
        return None
    prefix = f"{RUN_VARIABLE}=".encode()
    for entry in environ.split(b"\0"):
        if entry.startswith(prefix) and entry[len(prefix) :].isdigit():
            return int(entry[len(prefix) :])
    return None


def stop_leftovers() -> list[int]:
    """Kill the processes of test runs whose pytest is gone; their pids."""
    stopped = []
    for pid_dir in Path("/proc").glob("[0-9]*"):
        run = _run_of(pid_dir)
        if run is None or run == os.getpid() or _alive(run):
            continue
        try:
            os.kill(int(pid_dir.name), signal.SIGKILL)
            stopped.append(int(pid_dir.name))
        except OSError:
            pass
    return stopped
