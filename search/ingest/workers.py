"""Worker-process isolation: risky parsers run in a process that is killed when a file hangs it."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from search.ingest.files import parse_file
from search.ingest.model import Document, DocumentError, ParseLimits

# Formats whose parsers are complex enough that a hostile file could hang or bloat them.
ISOLATED_FORMATS = frozenset({"pdf", "docx"})


class IsolatedParser:
    """One reusable worker process for risky formats, killed and restarted when a file hangs it."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None

    def parse(self, path: Path, root: Path, limits: ParseLimits) -> Document:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=1)
        future = self._pool.submit(parse_file, path, root, limits)
        try:
            return future.result(timeout=limits.timeout_seconds)
        except TimeoutError as exc:
            self.close(kill=True)
            raise DocumentError(
                f"parsing took longer than {limits.timeout_seconds:g}s; the file may be malformed"
            ) from exc
        except BrokenProcessPool as exc:
            self.close(kill=True)
            raise DocumentError(
                "the parser crashed on this file (out of memory?); the file may be malformed"
            ) from exc

    def close(self, kill: bool = False) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        if kill:
            # ProcessPoolExecutor has no public way to stop a busy worker before Python 3.14.
            for process in list((getattr(pool, "_processes", None) or {}).values()):
                process.kill()
        pool.shutdown(wait=True, cancel_futures=True)  # joins the workers: no zombies left
