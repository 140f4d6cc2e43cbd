"""The documents folder as a boundary: what a walk of it finds, and what it refuses to follow.

- The real tree is walked first, without following links; hidden names (starting with ".")
  are skipped, as before. Every other entry becomes one `Entry`.
- Symlinks are resolved afterwards. One that points outside the folder, dangles or loops is
  refused with where it points. One to a file inside is read under the link's name, unless
  that file is read already (under its own name, or through an earlier link); one to a folder
  inside is walked unless that folder is walked already: each file and folder is read at most
  once, so no link can loop.
- FIFOs, sockets and devices are refused from `lstat` alone: nothing here opens a file.
"""

from __future__ import annotations

import errno
import os
import stat as st
from collections import deque
from dataclasses import dataclass

from search.access import POLICY_FILE  # the access policy at the root is never a document
from search.ingest.files import special_file_reason


@dataclass(frozen=True)
class Entry:
    """One thing the walk saw: a regular file to read (`path`, `info`), or why it is not read."""

    rel: str
    path: str = ""
    info: os.stat_result | None = None
    reason: str = ""


def _printable(name: str) -> str:
    """A name that is safe to show: undecodable bytes as \\xNN escapes."""
    return os.fsencode(name).decode("utf-8", errors="backslashreplace")


class _Walk:
    def __init__(self, root: str) -> None:
        self.root = root
        self.entries: list[Entry] = []
        self.links: deque[tuple[str, str]] = deque()  # (rel, path of the link)
        self.folders: dict[tuple[int, int], str] = {}  # (device, inode) -> rel it is read as
        self.files: dict[tuple[int, int], str] = {}  # (device, inode) -> rel it is read under

    def inside(self, real: str) -> str:
        """`real` relative to the root, as shown to people."""
        rel = os.path.relpath(real, self.root).replace(os.sep, "/")
        return "the documents folder itself" if rel == "." else rel

    def refuse(self, rel: str, reason: str) -> None:
        self.entries.append(Entry(rel=_printable(rel), reason=reason))

    def folder(self, path: str, prefix: str) -> None:
        """Walk a real folder (no links followed here) in sorted order."""
        stack = [(path, prefix)]
        while stack:
            path, prefix = stack.pop()
            name = prefix.rstrip("/") or "."
            try:
                info = os.stat(path)
                first = self.folders.get((info.st_dev, info.st_ino))
                if first is not None:  # reached again inside a folder that a link led to
                    self.refuse(name, f"the folder {first} again (through a link); it is read once")
                    continue
                self.folders[(info.st_dev, info.st_ino)] = name
                with os.scandir(path) as scan:
                    children = sorted(scan, key=lambda child: child.name)
            except OSError as exc:
                self.refuse(
                    name, f"could not list this folder ({exc.strerror}); check its permissions"
                )
                continue
            subfolders: list[tuple[str, str]] = []
            for child in children:  # sorted, so links queue up in path order
                if not child.name.startswith(".") and (prefix or child.name != POLICY_FILE):
                    self.child(child, prefix + child.name, subfolders)
            stack.extend(reversed(subfolders))  # popped in sorted order

    def child(self, child: os.DirEntry, rel: str, subfolders: list) -> None:
        try:
            rel.encode("utf-8")
        except UnicodeEncodeError:
            self.refuse(rel, "the name is not valid UTF-8; rename it")
            return
        try:
            info = child.stat(follow_symlinks=False)
        except OSError as exc:
            self.refuse(rel, f"could not read its details ({exc.strerror}); check its permissions")
            return
        if st.S_ISLNK(info.st_mode):
            self.links.append((rel, child.path))
        elif st.S_ISDIR(info.st_mode):
            subfolders.append((child.path, rel + "/"))
        elif st.S_ISREG(info.st_mode):
            self.file(rel, child.path, info, via_link=False)
        else:
            self.refuse(rel, special_file_reason(info.st_mode))

    def file(self, rel: str, path: str, info: os.stat_result, via_link: bool) -> None:
        key = (info.st_dev, info.st_ino)
        first = self.files.get(key)
        if first is None:
            self.files[key] = rel
            self.entries.append(Entry(rel=rel, path=path, info=info))
        elif via_link:
            target = self.inside(path)
            read_as = "under its own name" if target == first else f"as {first}"
            self.refuse(rel, f"symlink to {target}, which is read {read_as}; remove the link")
        else:
            self.refuse(
                rel, f"the same file as {first} (a hard link), which is read once; remove one"
            )

    def link(self, rel: str, path: str) -> None:
        target = _printable(os.readlink(path))
        try:
            real = os.path.realpath(path, strict=True)
        except OSError as exc:
            what = "symlink loop" if exc.errno == errno.ELOOP else "broken symlink"
            self.refuse(rel, f"{what} to {target} ({exc.strerror}); fix or remove the link")
            return
        if os.path.commonpath([real, self.root]) != self.root:
            self.refuse(
                rel,
                f"symlink to {_printable(real)}, outside the documents folder; links are not "
                "followed out of it, so copy the file in or remove the link",
            )
            return
        info = os.stat(real)
        if st.S_ISDIR(info.st_mode):
            first = self.folders.get((info.st_dev, info.st_ino))
            if first is not None:
                where = "documents folder itself" if first == "." else f"folder {first}"
                self.refuse(rel, f"symlink to the {where}, which is read already; remove the link")
            else:
                self.folder(real, rel + "/")
        elif st.S_ISREG(info.st_mode):
            self.file(rel, real, info, via_link=True)
        else:
            self.refuse(rel, f"symlink to {self.inside(real)}: {special_file_reason(info.st_mode)}")


def walk(root: str | os.PathLike) -> list[Entry]:
    """Everything under `root` that is not hidden, sorted by relative path."""
    state = _Walk(os.path.realpath(root))
    state.folder(state.root, "")
    while state.links:  # after the real tree, so a file's own name wins over any link to it
        state.link(*state.links.popleft())
    return sorted(state.entries, key=lambda entry: entry.rel)
