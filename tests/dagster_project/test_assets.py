"""Assets called directly with ``dg.build_asset_context``: each one's value, metadata and checks."""

import dagster as dg
import numpy as np

from dagster_project.assets.batches import (
    chunk_documents,
    chunks,
    embed_chunks,
    embeddings,
    plan_chunking,
    plan_embedding,
)
from dagster_project.assets.indexing import index_version
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


def _op_context(resources):
    return dg.build_op_context(resources={k: v for k, v in resources.items() if k != "io_manager"})


def _materialize_batched(resources):
    """source_documents -> chunks -> embeddings (graph assets: plan, batches, collect)."""
    result = dg.materialize(
        [source_documents, chunks, embeddings],
        resources={**resources, "io_manager": dg.InMemoryIOManager()},
    )
    assert result.success
    metadata = {
        m.asset_key.to_user_string(): {k: v.value for k, v in m.materialization.metadata.items()}
        for m in result.get_asset_materialization_events()
    }
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    values = {k: result.asset_value(k) for k in ("source_documents", "chunks", "embeddings")}
    return values, metadata, checks


def test_plan_and_batch_steps_called_directly(resources, monkeypatch):
    outputs, _ = _outputs(resources)
    documents = outputs["source_documents"].value
    monkeypatch.setenv("DOCSEARCH_BATCH_SIZE", "4")  # 6 documents: batches of 4 and 2
    with _op_context(resources) as context:
        planned = list(plan_chunking(context, documents=documents))
    batches = [o.value for o in planned]
    assert [len(b.items) for b in batches] == [4, 2]
    assert [o.mapping_key for o in planned] == ["batch_00000", "batch_00001"]
    assert batches[1].config["model"] == "hashing-128"  # the builder's choice travels along
    with _op_context(resources) as context:
        number, cut = chunk_documents(context, batch=batches[1])
    assert number == 1 and [c.id for c in cut] == ["d5.txt#0", "d6.txt#0"]
    with _op_context(resources) as context:
        (embedding_batch,) = [o.value for o in plan_embedding(context, chunks=cut)]
    with _op_context(resources) as context:
        done = embed_chunks(context, batch=embedding_batch)
    assert done.embeddings.vectors.shape == (2, 128) and done.embeddings.chunks_embedded == 2


def test_chunks_embeddings_and_index_version(resources, docsearch, monkeypatch):
    monkeypatch.setenv("DOCSEARCH_BATCH_SIZE", "4")  # 6 documents: batches of 4 and 2
    values, metadata, checks = _materialize_batched(resources)
    documents, chunked = values["source_documents"], values["chunks"]
    # each fixture document is one or two sentences, far below 256 tokens: one chunk each,
    # in document order whatever order the batches came back in
    assert [c.id for c in chunked] == [f"{d.id}#0" for d in documents]
    assert metadata["chunks"]["batches"] == 2 and metadata["embeddings"]["batches"] == 2
    assert checks["no_empty_chunks"] and checks["one_vector_per_chunk"]
    embedded = values["embeddings"]
    assert embedded.vectors.shape == (6, 128)
    assert (embedded.chunks_embedded, embedded.chunks_reused) == (6, 0)
    np.testing.assert_allclose(np.linalg.norm(embedded.vectors, axis=1), 1.0, rtol=1e-5)

    again, metadata, _ = _materialize_batched(resources)
    assert (again["embeddings"].chunks_embedded, again["embeddings"].chunks_reused) == (0, 6)
    np.testing.assert_array_equal(again["embeddings"].vectors, embedded.vectors)

    def refuse(*_args, **_kwargs):
        raise AssertionError("index_version redid the chunks or embeddings assets' work")

    # the index is made from the chunks and vectors handed in: no chunking, no cache read
    monkeypatch.setattr("search.index.build.chunk_documents", refuse)
    monkeypatch.setattr(EmbeddingCache, "get_many", refuse)
    with _context(resources) as context:
        built = index_version(
            context, source_documents=documents, chunks=chunked, embeddings=embedded
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
    assert stats["encode_seconds"] == embedded.seconds

    with _context(resources) as context:
        same = index_version(
            context, source_documents=documents, chunks=chunked, embeddings=embedded
        )
    assert same.value == {**built.value, "reused": True}  # nothing changed: no new version
