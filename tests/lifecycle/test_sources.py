"""Each kind of store, for real on loopback (moto's S3 server, Samba's smbd, a wsgidav WebDAV
library, a web site), added as a source, synced and searched; then one object changed and one
deleted: the next sync reports exactly that, encodes only the changed document's chunks, and
search follows. A store stopped part-way through a sync leaves the serving index as it was,
and the next sync completes."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.render import result_html
from lifecycle.sources import add_source, list_sources, sync_sources
from search.index import IndexStore
from search.settings import Settings
from tests import servers

pytestmark = pytest.mark.slow

DOCS = {  # path inside the store -> text; each has words no other document has
    "policies/leave.md": "# Parental leave\n\nParental leave is sixteen weeks, paid in full.",
    "policies/travel.txt": "Travel policy\n\nA hotel night in Oslo is refunded up to 180 euros.",
    "it/vpn.md": "# VPN\n\nError 809 means the firewall blocks the tunnel; call the helpdesk.",
}
CHANGED = "# Parental leave\n\nParental leave is twenty weeks since the new agreement."


@dataclass
class Store:
    """One running store and how a test writes to it."""

    name: str
    url: str
    options: dict[str, str]
    environ: dict[str, str]
    folder: Path | None = None  # the store's own files, written directly (SMB, WebDAV)
    s3: object = None
    process: object = None

    def put(self, path: str, text: str) -> None:
        if self.s3 is not None:
            self.s3.put_object(Bucket="bucket", Key=f"docs/{path}", Body=text.encode())
            return
        target = self.folder / path
        target.parent.mkdir(parents=True, exist_ok=True)
        existed = target.exists()
        target.write_text(text)
        if existed:  # a later time, so size-and-time versions change whatever the clock says
            later = target.stat().st_mtime + 10
            os.utime(target, (later, later))

    def delete(self, path: str) -> None:
        if self.s3 is not None:
            self.s3.delete_object(Bucket="bucket", Key=f"docs/{path}")
        else:
            (self.folder / path).unlink()


def _page(title: str, text: str) -> str:
    body = "".join(
        f"<p>{line} This page belongs to the intranet.</p>" for line in text.split("\n\n")[1:]
    )
    return f"<html><head><title>{title}</title></head><body><main><h1>{title}</h1>{body}</main></body></html>"


@pytest.fixture
def store(request, tmp_path):
    kind = request.param
    root = tmp_path / kind
    root.mkdir()
    if kind == "s3":
        import boto3

        process = servers.moto(root)
        process.start()
        endpoint = f"http://127.0.0.1:{process.port}"
        client = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        client.create_bucket(Bucket="bucket")
        found = Store(
            "s3-docs",
            "s3://bucket/docs",
            {"endpoint_url": endpoint, "access_key_env": "T_KEY", "secret_key_env": "T_SECRET"},
            {"T_KEY": "testing", "T_SECRET": "testing"},
            s3=client,
            process=process,
        )
    elif kind == "smb":
        share = root / "share"
        (share / "library").mkdir(parents=True)
        process = servers.smbd(root, share)
        process.start()
        found = Store(
            "hr-share",
            f"smb://127.0.0.1:{process.port}/docs/library",
            {"username": servers.SMB_USER, "password_file": str(root / "secret")},
            {},
            folder=share / "library",
            process=process,
        )
        (root / "secret").write_text(servers.SMB_PASSWORD + "\n")
    elif kind == "webdav":
        library = root / "library"
        library.mkdir()
        process = servers.wsgidav(root, library)
        process.start()
        found = Store(
            "nextcloud",
            f"webdav://127.0.0.1:{process.port}/library",
            {"username": servers.DAV_USER, "password_env": "T_DAV"},
            {"T_DAV": servers.DAV_PASSWORD},
            folder=library,
            process=process,
        )
    else:
        site = servers.Site(root / "site")
        site.root.mkdir()
        site.start()
        found = Store("intranet", f"{site.url}/", {}, {}, folder=site.root, process=site)
        links = "".join(f"<a href='{p}.html'>{p}</a>" for p in DOCS)
        (site.root / "index.html").write_text(  # a menu: crawled through, not indexed
            "<html><head><meta name='robots' content='noindex'></head>"
            f"<body><nav>{links}</nav></body></html>"
        )
    if kind == "web":  # pages named after the documents, their text in HTML
        found.put = _page_writer(found)
        found.delete = lambda path, folder=found.folder: (folder / f"{path}.html").unlink()
    yield found
    found.process.stop()


def _page_writer(found: Store):
    def put(path: str, text: str) -> None:
        target = found.folder / f"{path}.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        existed = target.exists()
        target.write_text(_page(text.split("\n")[0].lstrip("# "), text))
        if existed:
            later = target.stat().st_mtime + 10
            os.utime(target, (later, later))

    return put


def _doc_id(store: Store, path: str) -> str:
    return f"{store.name}/{path}.html" if store.url.startswith("http") else f"{store.name}/{path}"


@pytest.fixture
def settings(home, tmp_path) -> Settings:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "handbook.md").write_text("# Handbook\n\nThe handbook of the company, for everyone.")
    return Settings(
        home=home,
        docs=docs,
        model="hashing-128",
        source_retries=2,
        source_backoff_seconds=0.05,
        source_timeout_seconds=5,
        source_batch_size=2,
        crawl_delay_seconds=0,
    )


def _search(settings: Settings, query: str):
    index = IndexStore(settings.index_root()).load()
    return index, index.search(query, k=3)


@pytest.mark.parametrize("store", ["s3", "smb", "webdav", "web"], indirect=True)
def test_a_store_synced_searched_changed_and_deleted(store, settings):
    add_source(settings, store.name, store.url, store.options)
    for path, text in DOCS.items():
        store.put(path, text)

    first = sync_sources(settings, store.environ).as_dict()
    assert (first["added"], first["failed"], first["errors"]) == (3, 0, []), first
    for path, words in (
        ("policies/leave.md", "sixteen weeks parental leave"),
        ("policies/travel.txt", "hotel night in Oslo"),
        ("it/vpn.md", "error 809 firewall tunnel"),
    ):
        _, found = _search(settings, words)
        top = found[0]
        assert top.doc_id == _doc_id(store, path), (words, [r.doc_id for r in found])
        assert top.metadata["source"] == store.name
        assert top.metadata["source_url"] and top.metadata["source_version"]
        assert f"source {store.name}" in result_html(top)  # the result page names it
    assert (list_sources(settings)[0].status, first["index"]["outcome"]) == ("ok", "activated")

    store.put("policies/leave.md", CHANGED)
    store.delete("policies/travel.txt")
    second = sync_sources(settings, store.environ).as_dict()
    assert (second["added"], second["updated"], second["deleted"]) == (0, 1, 1), second
    assert (second["unchanged"], second["failed"]) == (1, 0)
    index, found = _search(settings, "twenty weeks new agreement")
    changed = _doc_id(store, "policies/leave.md")
    assert found[0].doc_id == changed
    # only the changed document's chunks were encoded; every other came from the cache
    assert second["index"]["chunks_embedded"] == len(index.chunks_of(changed)) >= 1
    assert second["index"]["chunks_reused"] == len(index.chunks) - len(index.chunks_of(changed))
    _, found = _search(settings, "hotel night in Oslo")
    assert _doc_id(store, "policies/travel.txt") not in {r.doc_id for r in found}
    assert _doc_id(store, "policies/travel.txt") not in index.documents

    third = sync_sources(settings, store.environ).as_dict()  # nothing changed: no new version
    assert (third["unchanged"], third["added"], third["updated"], third["deleted"]) == (2, 0, 0, 0)
    assert third["index"] is None


@pytest.mark.parametrize("store", ["webdav"], indirect=True)
def test_a_store_stopped_mid_sync_leaves_the_index_serving_and_the_next_sync_completes(
    store, settings
):
    names = [f"notes/note-{i}.md" for i in range(6)]
    add_source(settings, store.name, store.url, store.options)
    for i, path in enumerate(names):
        store.put(path, f"# Note {i}\n\nThe first edition of note {i} mentions walrus{i}.")
    assert sync_sources(settings, store.environ).as_dict()["added"] == 6
    serving = IndexStore(settings.index_root()).current()

    for i, path in enumerate(names):
        store.put(path, f"# Note {i}\n\nThe second edition of note {i} mentions narwhal{i}.")

    def stop_after_first_batch(stage: str, done: int, total: int) -> None:
        if stage == "fetch" and done == 2:  # batches of two: the rest meets a stopped server
            store.process.stop()

    stopped = sync_sources(settings, store.environ, progress=stop_after_first_batch)
    report = stopped.as_dict()
    assert not stopped.ok and report["errors"][0]["source"] == store.name
    assert "after 2 attempts" in report["errors"][0]["error"]
    assert (report["updated"], report["deleted"], report["index"]) == (2, 0, None)
    assert report["held_back_by"] == [store.name]
    assert IndexStore(settings.index_root()).current() == serving  # what served still serves
    index, found = _search(settings, "walrus3")
    assert found[0].doc_id == f"{store.name}/notes/note-3.md"
    assert list_sources(settings)[0].status == "failed"

    down = sync_sources(settings, store.environ).as_dict()  # a store that is down: same
    assert down["errors"] and down["index"] is None and down["deleted"] == 0
    assert IndexStore(settings.index_root()).current() == serving

    store.process.start()  # back on the same port
    resumed = sync_sources(settings, store.environ).as_dict()
    assert (resumed["updated"], resumed["unchanged"], resumed["errors"]) == (4, 2, [])
    assert resumed["index"]["outcome"] == "activated"
    for i in range(6):
        _, found = _search(settings, f"narwhal{i}")
        assert found[0].doc_id == f"{store.name}/notes/note-{i}.md"
        assert f"walrus{i}" not in found[0].snippet.text
