"""Lineage of an answer from a connected source: the query traces back to the object in the
store (its URL) and the version of it that was indexed, in JSON and in the command's text."""

from __future__ import annotations

import hashlib

from app.cli.deploy_commands import describe
from lifecycle.feedback import FeedbackStore, search_and_log
from lifecycle.lineage import trace
from lifecycle.serving import LoadedIndexes, resolve_serving
from lifecycle.sources import add_source, sync_sources
from search.settings import Settings


def test_an_answer_traces_back_to_the_object_in_its_store(home, tmp_path):
    docs, share = tmp_path / "docs", tmp_path / "share"
    docs.mkdir()
    (docs / "handbook.md").write_text("# Handbook\n\nThe handbook of the company.")
    (share / "hr").mkdir(parents=True)
    leave = share / "hr" / "leave.md"
    leave.write_text("# Leave\n\nParental leave is sixteen weeks.")
    settings = Settings(home=home, docs=docs, model="hashing-128")
    add_source(settings, "hr-share", share.as_uri(), {})
    sync_sources(settings, {})

    served = resolve_serving(settings)
    store = FeedbackStore(settings.feedback_url)
    query_id, _ = search_and_log(
        LoadedIndexes().index(served), store, "parental leave", "s1", served.version, k=2
    )
    store.close()
    top = trace(settings, query_id).results[0]
    info = leave.stat()
    assert (top["doc_id"], top["source"]) == ("hr-share/hr/leave.md", "hr-share")
    assert top["source_url"] == leave.as_uri()
    assert top["source_version"] == f"{info.st_size}-{info.st_mtime_ns}"  # size and time
    assert top["content_hash"] == hashlib.sha256(leave.read_bytes()).hexdigest()
    text = describe(trace(settings, query_id))
    assert f"from source hr-share: {leave.as_uri()} (version {top['source_version']})" in text
