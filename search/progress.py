"""Progress lines with counts and an estimate of the time left, for long steps."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

ProgressFn = Callable[[str, int, int], None]
"""The one progress callback: ``progress(stage, done, total)``, e.g. ``("embed", 512, 9180)``."""


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


class ProgressPrinter:
    """Call as ``progress(stage, done, total)``; prints at most every ``every`` seconds."""

    def __init__(self, stream: TextIO | None = None, every: float = 2.0, log=None) -> None:
        self.stream = stream or sys.stderr
        self.every = every
        self.log = log  # optional callable(str), e.g. a Dagster logger
        self._started: dict[str, float] = {}
        self._last = 0.0

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        start = self._started.setdefault(stage, now)
        if done == 0 or (done < total and now - self._last < self.every):
            return
        self._last = now
        elapsed = now - start
        rate = done / elapsed if elapsed > 0 else 0.0
        left = (total - done) / rate if rate > 0 else 0.0
        pct = 100.0 * done / total if total else 100.0
        line = f"{stage}: {done}/{total} ({pct:.0f}%), {_duration(elapsed)} elapsed"
        if done < total and rate > 0:
            line += f", about {_duration(left)} left"
        if self.log:
            self.log(line)
        else:
            print(line, file=self.stream, flush=True)
