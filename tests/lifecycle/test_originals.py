"""An original file is handed out only while its bytes are the ones indexed: changed, swapped
for a link (the file or a folder above it) is ``Changed``; gone is ``NotFound``."""

from __future__ import annotations

import hashlib
import os

import pytest

from lifecycle.originals import Changed, original_file
from lifecycle.readers import NotFound

TEXT = b"Parental leave is sixteen weeks."


def _indexed(root, rel: str = "hr/leave.txt"):
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(TEXT)
    metadata = {
        "path": rel,
        "format": "text",
        "size": len(TEXT),
        "content_hash": hashlib.sha256(TEXT).hexdigest(),
    }
    return original_file(root, rel, metadata)


def test_the_indexed_bytes_are_handed_out(tmp_path):
    original = _indexed(tmp_path)
    assert (original.name, original.read()) == ("leave.txt", TEXT)


def test_a_changed_file_is_refused_even_at_the_same_size(tmp_path):
    original = _indexed(tmp_path)
    (tmp_path / "hr/leave.txt").write_bytes(TEXT.replace(b"sixteen", b"fifteen"))
    with pytest.raises(Changed, match="its content is not what was indexed"):
        original.read()
    (tmp_path / "hr/leave.txt").write_bytes(TEXT + b" And more.")  # longer: never read past
    with pytest.raises(Changed):
        original.read()


def test_a_link_swapped_in_for_the_file_or_a_folder_above_it_is_refused(tmp_path):
    original = _indexed(tmp_path)
    twin = tmp_path / "elsewhere" / "leave.txt"
    twin.parent.mkdir()
    twin.write_bytes(TEXT)  # the very bytes: still not the file that was indexed
    (tmp_path / "hr/leave.txt").unlink()
    os.symlink(twin, tmp_path / "hr/leave.txt")
    with pytest.raises(Changed, match="a link stands at its path"):
        original.read()
    os.rename(tmp_path / "hr", tmp_path / "hr-old")
    os.symlink(tmp_path / "elsewhere", tmp_path / "hr")
    with pytest.raises(Changed, match="a link or a file stands where one of its folders was"):
        original.read()


def test_a_file_that_is_gone_is_not_found(tmp_path):
    original = _indexed(tmp_path)
    (tmp_path / "hr/leave.txt").unlink()
    with pytest.raises(NotFound) as err:
        original.read()
    assert not isinstance(err.value, Changed)


@pytest.mark.parametrize("rel", ["../outside.txt", "/etc/passwd", "hr/../x.txt", "hr//x.txt"])
def test_a_path_that_could_leave_the_folder_has_no_original(tmp_path, rel):
    metadata = {"path": rel, "format": "text", "size": 1, "content_hash": "0" * 64}
    assert original_file(tmp_path, rel, metadata) is None


def test_a_corpus_record_has_no_original(tmp_path):
    metadata = {"path": "d1", "format": "beir", "size": 1, "content_hash": "0" * 64}
    assert original_file(tmp_path, "d1", metadata) is None
