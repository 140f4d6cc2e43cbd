"""The documents folder as a boundary: what a walk of it finds, and what it refuses to follow.

- The real tree is walked first, without following links; hidden names (starting with ".")
  are skipped, as before. Every other entry becomes one `Entry`.
- A link is never a second name. Access is decided by what a document is, so a file is read
  only under its real path, the one its policy rule is written for. Symlinks are resolved
  afterwards and each is refused with why: one that points outside the folder, dangles or
  loops; one whose target is hidden (a dot name anywhere on its real path: the walk never
  reads it, whatever links to it) or is the policy file; any other target is inside the real
  tree, so it is read under its own name already.
- A file with several names inside the folder (hard links) is read once, under the name
  `prefer` picks (the policy's strictest, see `Policy.strictest`; else the first in path
  order); the entry lists the other names as `aliases`, and each of them is reported.
- FIFOs, sockets and devices are refused from `lstat` alone: nothing here opens a file.
"""

from __future__ import annotations

import errno
import os
import stat as st
from collections import deque
from collections.abc import Callable, Sequence
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
    aliases: tuple[str, ...] = ()  # the file's other names inside the folder (hard links)


Prefer = Callable[[Sequence[str]], str]  # of a file's names, the one it is read under


def _printable(name: str) -> str:
    """A name that is safe to show: undecodable bytes as \\xNN escapes."""
    return os.fsencode(name).decode("utf-8", errors="backslashreplace")


class _Walk:
    def __init__(self, root: str) -> None:
        self.root = root
        self.entries: list[Entry] = []
        self.links: deque[tuple[str, str]] = deque()  # (rel, path of the link)
        self.folders: dict[tuple[int, int], str] = {}  # (device, inode) -> rel it is read as
        # (device, inode) -> every (rel, path, stat) it was found under, in walk order
        self.files: dict[tuple[int, int], list[tuple[str, str, os.stat_result]]] = {}

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
                if first is not None:  # the same folder mounted twice inside (a bind mount)
                    self.refuse(name, f"the folder {first} again (mounted twice); it is read once")
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
            self.file(rel, child.path, info)
        else:
            self.refuse(rel, special_file_reason(info.st_mode))

    def file(self, rel: str, path: str, info: os.stat_result) -> None:
        self.files.setdefault((info.st_dev, info.st_ino), []).append((rel, path, info))

    def files_read(self, prefer: Prefer) -> None:
        """One entry per file, under the name ``prefer`` picks; its other names reported."""
        for names in self.files.values():
            chosen = prefer([rel for rel, _, _ in names]) if len(names) > 1 else names[0][0]
            rel, path, info = next(name for name in names if name[0] == chosen)
            others = tuple(sorted(other for other, _, _ in names if other != chosen))
            self.entries.append(Entry(rel=rel, path=path, info=info, aliases=others))
            for other in others:
                self.refuse(
                    other,
                    f"the same file as {chosen} (a hard link): read once, as {chosen}, for "
                    "those who may read it under each of its names; remove one",
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
        inside = self.inside(real)
        if real != self.root and any(part.startswith(".") for part in inside.split("/")):
            self.refuse(
                rel,
                f"symlink to {_printable(inside)}, a hidden name: hidden files and folders are "
                "never indexed, whatever links to them; remove the link",
            )
        elif inside == POLICY_FILE:
            self.refuse(rel, "symlink to the access policy, which is never indexed; remove it")
        else:
            self.refuse(rel, self.second_name(real, inside))

    def second_name(self, real: str, inside: str) -> str:
        """Why a link into the real tree is not read: its target is, under its own name."""
        try:
            info = os.stat(real)
        except OSError as exc:
            return f"symlink to {_printable(inside)} ({exc.strerror}); fix or remove the link"
        if st.S_ISDIR(info.st_mode):
            if real == self.root:
                return "symlink to the documents folder itself, which is read already; remove it"
            what = f"the folder {_printable(inside)}"
        elif st.S_ISREG(info.st_mode):
            what = _printable(inside)
        else:
            return f"symlink to {_printable(inside)}: {special_file_reason(info.st_mode)}"
        return (
            f"symlink to {what}, which is read under its own name (a link is never a second "
            "name: its rule could differ); remove the link"
        )


def _first_in_path_order(names: Sequence[str]) -> str:
    return min(names)


def walk(root: str | os.PathLike, prefer: Prefer | None = None) -> list[Entry]:
    """Everything under `root` that is not hidden, sorted by relative path; a file with
    several names is read under the one `prefer` picks (default: the first in path order)."""
    state = _Walk(os.path.realpath(root))
    state.folder(state.root, "")
    while state.links:
        state.link(*state.links.popleft())
    state.files_read(prefer or _first_in_path_order)
    return sorted(state.entries, key=lambda entry: entry.rel)
