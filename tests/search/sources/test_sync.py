"""A sync against a folder (``file://``): what an unchanged, edited, renamed, emptied or
vanished store does to the mirror, and that one bad object never stops the rest."""

from __future__ import annotations

import os

import pytest

from search.sources import Mirror, SourceSpec, SourceUnavailable, load_corpus, open_connector, sync
from search.sources.model import Known, RemoteObject
from search.sources.secrets import read_secret
from search.sources.sync import listing_digest


@pytest.fixture
def store(tmp_path):
    root = tmp_path / "store"
    (root / "hr").mkdir(parents=True)
    (root / "hr" / "leave.md").write_text("# Leave\n\nParental leave is sixteen weeks.")
    (root / "hr" / "travel.txt").write_text("Travel\n\nHotels in Oslo cost 180 euros a night.")
    (root / "notes.txt").write_text("Notes\n\nThe canteen opens at eight.")
    return root


def _sync(root, mirror):
    return sync("files", open_connector(SourceSpec("files", root.as_uri()), {}), mirror)


def test_unchanged_edited_renamed_and_deleted(store, tmp_path):
    mirror = Mirror(tmp_path / "mirror")
    first = _sync(store, mirror)
    assert (first.added, first.updated, first.deleted, first.unchanged) == (3, 0, 0, 0)
    generation = mirror.generation

    again = _sync(store, mirror)  # nothing changed: nothing fetched, parsed or written
    assert (again.added, again.updated, again.unchanged) == (0, 0, 3)
    assert mirror.generation == generation

    (store / "hr" / "leave.md").write_text("# Leave\n\nParental leave is twenty weeks now.")
    os.utime(store / "hr" / "leave.md", (1e9, 1e9))  # a different time whatever the clock
    os.rename(store / "notes.txt", store / "canteen.txt")  # a rename: gone here, new there
    (store / "hr" / "travel.txt").unlink()
    third = _sync(store, mirror)
    assert (third.added, third.updated, third.deleted, third.unchanged) == (1, 1, 2, 0)
    texts = {e.path: e.document.text for e in mirror.entries()}
    assert sorted(texts) == ["canteen.txt", "hr/leave.md"]
    assert "twenty weeks" in texts["hr/leave.md"]
    assert not (mirror.files / "hr" / "travel.txt").exists()
    assert mirror.meta("cursor") and not mirror.incomplete
    mirror.close()


def test_one_bad_object_fails_alone_with_its_reason(store, tmp_path):
    (store / "broken.pdf").write_bytes(b"%PDF-1.7 not really a pdf")
    (store / "empty.txt").write_bytes(b"")
    (store / "outside.txt").symlink_to("/etc/hostname")
    (store / ".hidden.txt").write_text("never listed")
    mirror = Mirror(tmp_path / "mirror")
    report = _sync(store, mirror)
    failed = {f.path: f.reason for f in report.failed}
    assert sorted(failed) == ["broken.pdf", "empty.txt", "outside.txt"]
    assert "outside the documents folder" in failed["outside.txt"]
    assert "file is empty" in failed["empty.txt"]
    assert report.added == 3 and not report.error
    again = _sync(store, mirror)  # a file that parsed badly is not parsed again unchanged
    assert sorted(f.path for f in again.failed) == ["empty.txt", "outside.txt"]
    assert again.unchanged == 4  # the three documents and broken.pdf (kept as rejected)
    mirror.close()


def test_a_vanished_store_changes_nothing(store, tmp_path):
    mirror = Mirror(tmp_path / "mirror")
    _sync(store, mirror)
    store.rename(tmp_path / "unmounted")
    report = _sync(store, mirror)
    assert "is not a folder" in report.error and report.deleted == 0
    assert len(list(mirror.entries())) == 3  # a failed listing is never taken for deletions
    mirror.close()


class _Flaky:
    """A store that lists four objects and goes down after serving two of them."""

    def __init__(self) -> None:
        self.served = 0

    def objects(self, known):
        for i in range(4):
            yield RemoteObject(f"n{i}.txt", "v2", url=f"test://n{i}.txt")

    def fetch(self, obj):
        self.served += 1
        if self.served > 2:
            raise SourceUnavailable("reading test://: connection refused")
        return f"Note {obj.path}\n\nSecond edition.".encode()

    def close(self):
        pass


def test_a_store_down_part_way_keeps_what_was_fetched_and_is_marked_incomplete(tmp_path):
    from search.sources.sync import SyncOptions

    mirror = Mirror(tmp_path / "mirror")
    options = SyncOptions(threads=1, batch=2)
    report = sync("notes", _Flaky(), mirror, options)
    assert report.error and (report.added, report.deleted) == (2, 0)
    assert mirror.incomplete and sorted(mirror.known()) == ["n0.txt", "n1.txt"]
    assert mirror.meta("complete_generation") == ""  # the corpus signature does not move
    done = sync("notes", _Working(), mirror, options)  # the rest, and the mark is gone
    assert (done.added, done.unchanged, done.error) == (2, 2, "")
    assert not mirror.incomplete and mirror.meta("complete_generation")
    assert mirror.meta("cursor") == listing_digest(
        {p: RemoteObject(p, "v2") for p in ("n0.txt", "n1.txt", "n2.txt", "n3.txt")}
    )
    mirror.close()


class _Working(_Flaky):
    def fetch(self, obj):
        return f"Note {obj.path}\n\nSecond edition.".encode()


def test_the_corpus_prefixes_ids_and_names_the_object(store, tmp_path):
    docs = tmp_path / "docs"
    (docs / "files").mkdir(parents=True)  # a folder named like the source: its ids collide
    (docs / "files" / "a.txt").write_text("A file of the documents folder.")
    (docs / "b.txt").write_text("Another file of the documents folder.")
    sources = tmp_path / "sources"
    with Mirror(sources / "hr") as mirror:
        _sync(store, mirror)
    with Mirror(sources / "files") as mirror:
        _sync(store, mirror)
    report = load_corpus(docs, sources)
    ids = sorted(d.id for d in report.documents)
    assert ids == ["b.txt", "files/a.txt", "hr/hr/leave.md", "hr/hr/travel.txt", "hr/notes.txt"]
    leave = next(d for d in report.documents if d.id == "hr/hr/leave.md")
    assert leave.metadata["source"] == "hr" and leave.metadata["source_path"] == "hr/leave.md"
    assert leave.metadata["path"] == "hr/hr/leave.md"
    assert leave.metadata["source_url"] == (store / "hr" / "leave.md").as_uri()
    assert leave.metadata["source_version"].count("-") == 1  # size-mtime
    assert "source_link" not in leave.metadata  # a folder's file is downloaded, not linked
    assert {r.path for r in report.rejected} == {"files/hr/leave.md", "files/hr/travel.txt",
                                                 "files/notes.txt"}  # fmt: skip
    assert report.seen == 2 + 3 + 3


def test_secrets_come_from_the_named_variable_or_file(tmp_path):
    (tmp_path / "pw").write_text("from-a-file\n")
    assert read_secret({"password_env": "PW"}, "password", {"PW": "from-env"}) == "from-env"
    assert read_secret({"password_file": str(tmp_path / "pw")}, "password", {}) == "from-a-file"
    assert read_secret({}, "password", {"PW": "x"}) is None
    with pytest.raises(ValueError, match="PW .* is not set"):
        read_secret({"password_env": "PW"}, "password", {})
    assert Known("v", "indexed").links == ()


def test_a_second_sync_of_the_same_source_at_once_is_refused(store, tmp_path):
    mirror = Mirror(tmp_path / "mirror")
    with Mirror(tmp_path / "mirror").syncing():  # another process's sync, as far as flock sees
        report = _sync(store, mirror)
    assert "another sync of this source is running" in report.error
    assert (report.added, mirror.known()) == (0, {})
    assert _sync(store, mirror).added == 3  # once it is done
    mirror.close()
