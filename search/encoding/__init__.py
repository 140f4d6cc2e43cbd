"""Text encoders, their inference backends and the embedding cache.

Names are resolved on first use (as in ``search``): reading the backend's name (a setting's
check) loads neither numpy nor a runtime.
"""

from importlib import import_module

_EXPORTS = {
    "Backend": "search.encoding.backend",
    "DEFAULT_BACKEND": "search.encoding.backend",
    "EmbeddingCache": "search.encoding.cache",
    "Encoder": "search.encoding.encoder",
    "HashingEncoder": "search.encoding.encoder",
    "ProgressFn": "search.encoding.encoder",
    "QUERY_ENCODER_FILE": "search.encoding.encoder",
    "QueryTunedEncoder": "search.encoding.encoder",
    "SentenceTransformerEncoder": "search.encoding.encoder",
    "backend_fingerprint": "search.encoding.backend",
    "calibration_sample": "search.encoding.export",
    "cpu_threads": "search.encoding.backend",
    "document_encoder": "search.encoding.encoder",
    "embed_with_cache": "search.encoding.cache",
    "encoder_backend": "search.encoding.encoder",
    "load_encoder": "search.encoding.encoder",
    "packaged_model_path": "search.encoding.encoder",
    "parse_backend": "search.encoding.backend",
    "pick_device": "search.encoding.encoder",
    "query_backend": "search.encoding.encoder",
    "query_fingerprint": "search.encoding.encoder",
    "resolve_model": "search.encoding.encoder",
    "text_hash": "search.encoding.cache",
    "weights_fingerprint": "search.encoding.encoder",
    "write_query_encoder_pairing": "search.encoding.encoder",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'search.encoding' has no attribute {name!r}")
