import os
import subprocess
import sys
import time

from tests.leftovers import RUN_VARIABLE, stop_leftovers


def _dead_pid() -> int:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    return gone.pid


def test_a_killed_runs_processes_are_stopped_and_a_live_runs_are_not():
    sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
    orphan = subprocess.Popen(sleeper, env={**os.environ, RUN_VARIABLE: str(_dead_pid())})
    ours = subprocess.Popen(sleeper, env={**os.environ, RUN_VARIABLE: str(os.getpid())})
    try:
        time.sleep(0.5)  # the environment is readable once the child has exec'd
        stopped = stop_leftovers()
        assert orphan.pid in stopped and ours.pid not in stopped
        assert orphan.wait(timeout=10) == -9 and ours.poll() is None
    finally:
        for proc in (orphan, ours):
            proc.kill()
            proc.wait()
