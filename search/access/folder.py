"""The documents folder's side of a policy: where its policy file is, and whether its file
system tells ``HR`` from ``hr``.

A policy that does not say ``case_sensitive:`` matches paths as the folder's file system names
files: a share that folds case (SMB, macOS, Windows, ext4 with casefold) holds ``HR/upper.txt``
in the very folder ``hr/`` names, so the rule for ``hr/`` must cover it. The probe reads
nothing and writes nothing: it looks a name up with its case swapped.
"""

from __future__ import annotations

import os
from pathlib import Path

from search.access.policy import POLICY_FILE

PROBES = 64  # names of the folder tried before deciding it tells case apart


def policy_file_of(folder: str | os.PathLike) -> Path:
    """The policy file of a documents folder: ``access.yaml`` at its root (never indexed)."""
    return Path(folder) / POLICY_FILE


def names_are_case_sensitive(folder: str | os.PathLike) -> bool:
    """Whether ``folder``'s file system tells names apart by case: a name with its case swapped
    that opens the same file (device and inode) while the listing does not hold it means the
    file system folds case. True when nothing in the folder can tell (no name with letters,
    an unreadable folder)."""
    folder = Path(os.path.realpath(folder))
    try:
        names = sorted(os.listdir(folder))[:PROBES]
    except OSError:
        return True
    # names inside first: the folder may be a mount point whose own name lives on another
    # file system (a share mounted at /mnt/share: "/mnt" decides nothing about the share)
    for parent, name in [*((folder, n) for n in names), (folder.parent, folder.name)]:
        swapped = name.swapcase()
        if swapped == name:
            continue
        try:
            own, other = os.lstat(parent / name), os.lstat(parent / swapped)
        except FileNotFoundError:
            return True  # the other case is another name, and there is no such file
        except OSError:
            continue
        if (own.st_dev, own.st_ino) != (other.st_dev, other.st_ino):
            return True  # two files whose names differ by case
        try:
            return swapped in os.listdir(parent)  # both listed: two hard links, not folding
        except OSError:
            continue
    return True
