"""One file: a bounded read that never blocks, never follows a link, never reads a swapped file."""

from __future__ import annotations

import os

import pytest

from search.ingest import DocumentError, ParseLimits, parse_file
from search.ingest.files import read_bounded

LIMITS = ParseLimits()


def test_read_bounded_never_opens_a_fifo_for_a_blocking_read(tmp_path):
    os.mkfifo(tmp_path / "pipe.txt")  # a blocking open would hang this test forever
    with pytest.raises(DocumentError, match=r"a named pipe \(FIFO\), not a regular file"):
        read_bounded(tmp_path / "pipe.txt", LIMITS)


def test_read_bounded_refuses_a_file_swapped_since_the_walk(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("first")
    seen = path.stat()
    path.rename(tmp_path / "old.txt")  # still there, so the new file cannot reuse its inode
    path.write_text("second")
    with pytest.raises(DocumentError, match="replaced while the folder was read"):
        read_bounded(path, LIMITS, (seen.st_dev, seen.st_ino))


def test_read_bounded_refuses_symlinks_and_sizes(tmp_path):
    (tmp_path / "a.txt").write_text("12345")
    os.symlink(tmp_path / "a.txt", tmp_path / "link.txt")
    with pytest.raises(DocumentError, match="could not open the file"):
        read_bounded(tmp_path / "link.txt", LIMITS)  # the walk resolves links, never the read
    with pytest.raises(DocumentError, match=r"5 bytes, more than the limit of 4 \(ParseLimits"):
        read_bounded(tmp_path / "a.txt", ParseLimits(max_file_bytes=4))


def test_parse_file_keeps_links_inside_the_root(tmp_path):
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    (root / "inner.txt").write_text("Inner text.")
    os.symlink(outside / "secret.txt", root / "out.txt")
    os.symlink(root / "inner.txt", root / "in.txt")
    with pytest.raises(DocumentError, match="outside"):
        parse_file(root / "out.txt", root)
    inner = parse_file(root / "in.txt", root)  # read under its real name, not the link's
    assert (inner.id, inner.text) == ("inner.txt", "Inner text.")
    (root / ".hidden.txt").write_text("Hidden text.")
    os.symlink(".hidden.txt", root / "shown.txt")
    with pytest.raises(DocumentError, match="hidden"):
        parse_file(root / "shown.txt", root)
