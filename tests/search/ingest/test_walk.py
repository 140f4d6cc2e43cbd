"""The documents folder is a boundary: what the walk reads, follows once, or refuses and why."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from search.ingest.walk import walk


@pytest.fixture
def tree(tmp_path) -> Path:
    root, outside = tmp_path / "root", tmp_path / "outside"
    for folder in (root / "a", root / ".hidden" / "deep", outside):
        folder.mkdir(parents=True)
    (root / "a" / "one.txt").write_text("one")
    (root / ".hidden" / "deep" / "two.txt").write_text("two")
    (root / ".dotfile.txt").write_text("hidden")
    (outside / "secret.txt").write_text("secret")
    os.link(root / "a" / "one.txt", root / "a" / "z-hard.txt")
    os.symlink(outside / "secret.txt", root / "out-file.txt")
    os.symlink(outside, root / "out-folder")
    os.symlink("nowhere.txt", root / "dangling.txt")
    os.symlink("loop2.txt", root / "loop1.txt")
    os.symlink("loop1.txt", root / "loop2.txt")
    os.symlink("a/one.txt", root / "same.txt")
    os.symlink("a", root / "a-again")
    os.symlink(".", root / "a" / "self")
    os.symlink("..", root / "a" / "parent")
    os.symlink(".hidden", root / "hidden-1")
    os.symlink(".hidden/deep", root / "hidden-2")
    os.symlink(".dotfile.txt", root / "dot-link.txt")
    os.mkfifo(root / "pipe.txt")
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(root / "sock"))
    server.close()
    os.close(os.open(os.fsencode(root) + b"/caf\xe9.txt", os.O_CREAT | os.O_WRONLY))
    return root


def test_every_entry_is_read_once_or_refused_with_a_reason(tree):
    entries = {e.rel: e for e in walk(tree)}
    read = {rel: Path(e.path).relative_to(tree).as_posix() for rel, e in entries.items() if e.path}
    # a file is read under its real path alone: no link is a second name, none leads to a
    # hidden place; the hard link is the same file, read once with its other name beside it
    assert read == {"a/one.txt": "a/one.txt"}
    assert entries["a/one.txt"].aliases == ("a/z-hard.txt",)
    reasons = {rel: e.reason for rel, e in entries.items() if not e.path}
    outside = tree.parent / "outside"
    own_name = "which is read under its own name (a link is never a second name: its rule could differ); remove the link"
    hidden = "a hidden name: hidden files and folders are never indexed, whatever links to them; remove the link"
    assert reasons == {
        "a-again": f"symlink to the folder a, {own_name}",
        "a/z-hard.txt": "the same file as a/one.txt (a hard link): read once, as a/one.txt, for "
        "those who may read it under each of its names; remove one",
        "a/parent": "symlink to the documents folder itself, which is read already; remove it",
        "a/self": f"symlink to the folder a, {own_name}",
        "caf\\xe9.txt": "the name is not valid UTF-8; rename it",
        "dangling.txt": "broken symlink to nowhere.txt (No such file or directory); "
        "fix or remove the link",
        "dot-link.txt": f"symlink to .dotfile.txt, {hidden}",
        "hidden-1": f"symlink to .hidden, {hidden}",
        "hidden-2": f"symlink to .hidden/deep, {hidden}",
        "loop1.txt": "symlink loop to loop2.txt (Too many levels of symbolic links); "
        "fix or remove the link",
        "loop2.txt": "symlink loop to loop1.txt (Too many levels of symbolic links); "
        "fix or remove the link",
        "out-file.txt": f"symlink to {outside}/secret.txt, outside the documents folder; links "
        "are not followed out of it, so copy the file in or remove the link",
        "out-folder": f"symlink to {outside}, outside the documents folder; links are not "
        "followed out of it, so copy the file in or remove the link",
        "pipe.txt": "a named pipe (FIFO), not a regular file; it is never opened, "
        "so move it out of the folder",
        "same.txt": f"symlink to a/one.txt, {own_name}",
        "sock": "a socket, not a regular file; it is never opened, so move it out of the folder",
    }


def test_a_hard_link_is_read_under_the_name_prefer_picks(tree):
    entries = {e.rel: e for e in walk(tree, prefer=max)}  # the last in path order, here
    assert entries["a/z-hard.txt"].path and entries["a/z-hard.txt"].aliases == ("a/one.txt",)
    assert entries["a/one.txt"].reason.startswith("the same file as a/z-hard.txt (a hard link)")


def test_the_walk_is_sorted_and_skips_hidden_names(tree):
    rels = [e.rel for e in walk(tree)]
    assert rels == sorted(rels)
    assert not any(part.startswith(".") for rel in rels for part in rel.split("/"))


def test_a_root_given_through_a_symlink_is_the_folder_it_names(tree, tmp_path):
    os.symlink(tree, tmp_path / "root-link")
    assert [e.rel for e in walk(tmp_path / "root-link")] == [e.rel for e in walk(tree)]
