"""A new index version over the corpus (documents folder and every source's mirror), made to
serve the way any build does: through the registry's gate when the registry's champion
serves, else as the local CURRENT.

Only changed text is encoded: every chunk goes through the embedding cache, so a sync that
changed one document encodes that document's chunks alone (``chunks_embedded`` says how
many). A corpus identical to a stored version's reuses it. ``UNPUBLISHED`` (a file in the
sources folder) says that a mirror changed, or a source was removed, since the corpus was
last published; it is cleared when a version over the corpus has been settled.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from search.settings import Settings

UNPUBLISHED = ".unpublished"


def mark_unpublished(settings: Settings) -> None:
    settings.sources_dir.mkdir(parents=True, exist_ok=True)
    (settings.sources_dir / UNPUBLISHED).touch()


def unpublished(settings: Settings) -> bool:
    return (settings.sources_dir / UNPUBLISHED).exists()


@dataclass(frozen=True)
class Published:
    """The version made over the corpus and how it came to serve (or not)."""

    version: str
    documents: int
    chunks: int
    chunks_embedded: int
    chunks_reused: int
    reused: bool  # an identical version was stored already
    serving: str | None  # the version that serves now
    outcome: str  # "served already", "activated", "promoted", "challenger: <reason>"
    rejected: int = 0  # files and objects of the corpus that could not be parsed

    def as_dict(self) -> dict:
        return asdict(self)


def publish(settings: Settings, progress=None) -> Published:
    """Build (or reuse) the version over the corpus and let it serve; see the module doc."""
    from lifecycle.builds import keep_learned_state, serving_model
    from lifecycle.housekeeping import open_store
    from search.encoding import EmbeddingCache
    from search.index import SearchIndex, corpus_fingerprint, encoder_for
    from search.sources import load_corpus

    report = load_corpus(settings.docs, settings.sources_dir, progress=progress)
    store = open_store(settings, settings.index_name)
    config = settings.index_config(model=serving_model(settings, store))
    encoder = encoder_for(config, settings, report.documents)
    version = store.find_reusable(corpus_fingerprint(report.documents), config, encoder)
    reused = version is not None
    if version is None:
        from lifecycle.access import current_policy, enforce

        cache = EmbeddingCache(settings.cache_path)
        try:
            index = SearchIndex.build(report.documents, config, encoder, cache, progress=progress)
        finally:
            cache.close()
        stats = index.build_stats
        index = enforce(keep_learned_state(index, store), current_policy(settings).policy)
        version = store.write(index, activate=False)
        chunks, embedded, kept = stats.chunks, stats.chunks_embedded, stats.chunks_reused
    else:
        from search.index import read_manifest

        counts = read_manifest(store.path(version)).get("counts", {})
        chunks, embedded, kept = int(counts.get("chunks", 0)), 0, int(counts.get("chunks", 0))
    version, outcome = _serve(settings, store, version, encoder, config)
    (settings.sources_dir / UNPUBLISHED).unlink(missing_ok=True)
    return Published(
        version=version,
        documents=len(report.documents),
        chunks=chunks,
        chunks_embedded=embedded,
        chunks_reused=kept,
        reused=reused,
        serving=store.current(),
        outcome=outcome,
        rejected=len(report.rejected),
    )


def _serve(settings: Settings, store, version: str, encoder, config) -> tuple[str, str]:
    """Make ``version`` serve as the deployment decides; (the version, what happened)."""
    from lifecycle.access import with_policy
    from lifecycle.serving import FROM_REGISTRY, resolve_serving

    version = with_policy(settings, store, version).version  # the policy in force, always
    served = resolve_serving(settings)
    if served is None or served.source != FROM_REGISTRY:
        if store.current() == version:
            return version, "served already"
        store.activate(version)
        return version, "activated"
    if served.version == version:
        return version, "served already"
    from lifecycle.builds import register_and_gate

    settled = register_and_gate(settings, store.path(version), encoder, config)
    return version, "promoted" if settled.promoted else f"challenger: {settled.reason}"
