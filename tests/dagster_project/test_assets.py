"""Assets called directly with ``dg.build_asset_context``: each one's value, metadata and checks."""

import dagster as dg
import numpy as np

from dagster_project.assets.indexing import chunks, embeddings, index_version
from dagster_project.assets.ingestion import source_documents
from search.encoding import EmbeddingCache
from search.index import read_manifest


def _context(resources):
    """A context for direct invocation (no IO manager: values are passed by hand)."""
    return dg.build_asset_context(
        resources={k: v for k, v in resources.items() if k != "io_manager"}
    )


def _outputs(resources):
    with _context(resources) as context:
        events = list(source_documents(context))
    outputs = {e.output_name: e for e in events if isinstance(e, dg.Output)}
    checks = [e for e in events if isinstance(e, dg.AssetCheckResult)]
    return outputs, checks


def test_source_documents_accounts_for_every_file(resources):
    outputs, checks = _outputs(resources)
    documents = outputs["source_documents"].value
    # 7 files: d1..d6.txt parsed, scan.xyz rejected as an unsupported type
    assert sorted(d.id for d in documents) == [f"d{i}.txt" for i in range(1, 7)]
    assert [r["path"] for r in outputs["parse_report"].value] == ["scan.xyz"]
    assert outputs["parse_report"].metadata["seen"].value == 7
    assert outputs["source_documents"].metadata["new"].value == 6  # no index yet: all new
    (check,) = checks
    assert check.check_name == "files_accounted" and check.passed


def test_chunks_embeddings_and_index_version(resources, docsearch, monkeypatch):
    outputs, _ = _outputs(resources)
    documents = outputs["source_documents"].value
    with _context(resources) as context:
        chunked = chunks(context, source_documents=documents)
    # each fixture document is one or two sentences, far below 256 tokens: one chunk each
    assert len(chunked.value) == 6
    assert chunked.check_results[0].passed

    with _context(resources) as context:
        embedded = embeddings(context, chunks=chunked.value)
    assert embedded.value.vectors.shape == (6, 128)
    assert embedded.metadata["chunks_embedded"] == 6 and embedded.metadata["chunks_reused"] == 0
    np.testing.assert_allclose(np.linalg.norm(embedded.value.vectors, axis=1), 1.0, rtol=1e-5)

    with _context(resources) as context:
        again = embeddings(context, chunks=chunked.value)
    assert again.metadata["chunks_embedded"] == 0 and again.metadata["chunks_reused"] == 6

    def refuse(*_args, **_kwargs):
        raise AssertionError("index_version redid the chunks or embeddings assets' work")

    # the index is made from the chunks and vectors handed in: no chunking, no cache read
    monkeypatch.setattr("search.index.build.chunk_documents", refuse)
    monkeypatch.setattr(EmbeddingCache, "get_many", refuse)
    with _context(resources) as context:
        built = index_version(
            context, source_documents=documents, chunks=chunked.value, embeddings=embedded.value
        )
    store = docsearch.store()
    assert built.value["version"] in store.versions()
    assert built.value["reused"] is False
    assert store.current() is None  # CURRENT moves only when the gate promotes the version
    assert built.check_results[0].passed
    assert built.metadata["chunks"] == 6 and built.metadata["documents"] == 6
    stats = read_manifest(store.path(built.value["version"]))["build"]
    # the build stats are the embeddings step's: 6 encoded on its first run
    assert (stats["chunks_embedded"], stats["chunks_reused"]) == (6, 0)
    assert stats["encode_seconds"] == embedded.value.seconds

    with _context(resources) as context:
        same = index_version(
            context, source_documents=documents, chunks=chunked.value, embeddings=embedded.value
        )
    assert same.value == {**built.value, "reused": True}  # nothing changed: no new version
