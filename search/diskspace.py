"""Running out of disk space, said in one line: which folder, about how much the write needed,
how much is free, and what to do.

Writers that can fill a disk (an index version, the embedding cache, the store's pointer files)
check the free space before they start where they know their size, and turn a write that fails
for lack of space (``ENOSPC``, ``EDQUOT``, SQLite's "database or disk is full") into
``DiskFull``, after removing what they half-wrote. The CLI prints its message as the one line.
"""

from __future__ import annotations

import contextlib
import errno
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

_NO_SPACE = (errno.ENOSPC, errno.EDQUOT)
_SQLITE_FULL = 13  # SQLITE_FULL: "database or disk is full"


class DiskFull(OSError):
    """Not enough disk space in ``folder`` for ``what`` (``needed`` bytes, ``free`` free)."""

    def __init__(self, folder: str | Path, what: str, needed: int, free: int) -> None:
        self.folder, self.what, self.needed, self.free = Path(folder), what, needed, free
        super().__init__(errno.ENOSPC, str(self))

    def __str__(self) -> str:
        return (
            f"not enough disk space in {self.folder} for {self.what}: it needs about "
            f"{size_text(self.needed)} and {size_text(self.free)} is free; free some space "
            "there (a lower DOCSEARCH_KEEP_VERSIONS keeps fewer index versions) or move "
            "DOCSEARCH_HOME to a larger disk"
        )


def size_text(n: int) -> str:
    """``n`` bytes for a person: "512 bytes", "40 KB", "3.2 MB", "1.5 GB" (1 KB = 1024)."""
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= scale:
            value = n / scale
            return f"{value:.1f} {unit}" if value < 10 else f"{value:,.0f} {unit}"
    return f"{n} bytes"


def free_bytes(folder: str | Path) -> int:
    """Free space (for this user) on the file system holding ``folder`` or its nearest parent
    that exists."""
    path = Path(folder).absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return shutil.disk_usage(path).free


def is_out_of_space(exc: BaseException) -> bool:
    """Whether ``exc`` says the disk (or the user's quota) is full."""
    if isinstance(exc, DiskFull):
        return True
    if isinstance(exc, sqlite3.OperationalError):
        return getattr(exc, "sqlite_errorcode", None) == _SQLITE_FULL
    return isinstance(exc, OSError) and exc.errno in _NO_SPACE


def require_space(folder: str | Path, what: str, needed: int) -> None:
    """DiskFull before anything is written when ``folder``'s disk has under ``needed`` free."""
    free = free_bytes(folder)
    if free < needed:
        raise DiskFull(folder, what, needed, free)


@contextlib.contextmanager
def space_for(folder: str | Path, what: str, needed: int) -> Iterator[None]:
    """Run a write of about ``needed`` bytes into ``folder``: refused up front when that much
    is not free, and a failure for lack of space during it raised as DiskFull (the block
    cleans up after itself before the exception leaves it)."""
    require_space(folder, what, needed)
    try:
        yield
    except Exception as exc:
        if is_out_of_space(exc) and not isinstance(exc, DiskFull):
            raise DiskFull(folder, what, needed, free_bytes(folder)) from exc
        raise
