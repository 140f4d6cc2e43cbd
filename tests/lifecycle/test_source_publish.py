"""A source's documents published: an answer from one traces back to the object in its store
(its URL) and the version indexed, in JSON and in the command's text; and when the MLflow
champion serves, the version over the corpus goes through the gate as any build does."""

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


def test_when_the_registry_serves_a_sync_goes_through_the_gate(home, tmp_path):
    """The version over the corpus is evaluated, registered and promoted by the gate, as any
    build is, when the MLflow champion is what serves."""
    from lifecycle.builds import register_and_gate
    from lifecycle.registry import CHAMPION, Registry
    from lifecycle.serving import FROM_REGISTRY
    from search.index import IndexStore, build_and_store, encoder_for
    from search.ingest import load_folder
    from tests.dagster_project.conftest import make_labeled_folder

    labeled = make_labeled_folder(tmp_path)
    settings = Settings(home=home, docs=labeled / "docs", sample_set=labeled, model="hashing-128")
    config = settings.index_config()
    documents = load_folder(settings.docs).documents
    encoder = encoder_for(config, settings, documents)
    built = build_and_store(
        documents, config, encoder, settings, IndexStore(settings.index_root()), activate=False
    )
    assert register_and_gate(settings, built.path, encoder, config).promoted  # v1 serves

    share = tmp_path / "share"
    share.mkdir()
    (share / "canteen.md").write_text("# Canteen\n\nThe canteen opens at eight.")
    add_source(settings, "facilities", share.as_uri(), {})
    published = sync_sources(settings, {}).as_dict()["index"]
    # the labeled queries still find their documents first: no metric drops, so promoted
    assert published["outcome"] == "promoted" and published["documents"] == 6 + 1
    served = resolve_serving(settings)
    assert served.source == FROM_REGISTRY and served.version == published["version"]
    assert str(Registry.from_settings(settings).alias(CHAMPION).version) == "2"
