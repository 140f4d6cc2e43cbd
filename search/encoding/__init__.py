"""Text encoders, their inference backends and the embedding cache."""

from search.encoding.backend import (
    DEFAULT_BACKEND,
    Backend,
    backend_fingerprint,
    cpu_threads,
    parse_backend,
)
from search.encoding.cache import (
    EmbeddingCache,
    embed_with_cache,
    text_hash,
)
from search.encoding.encoder import (
    QUERY_ENCODER_FILE,
    Encoder,
    HashingEncoder,
    ProgressFn,
    QueryTunedEncoder,
    SentenceTransformerEncoder,
    document_encoder,
    encoder_backend,
    load_encoder,
    packaged_model_path,
    pick_device,
    query_backend,
    query_fingerprint,
    resolve_model,
    weights_fingerprint,
    write_query_encoder_pairing,
)
from search.encoding.export import calibration_sample

__all__ = [
    "Backend",
    "DEFAULT_BACKEND",
    "EmbeddingCache",
    "Encoder",
    "HashingEncoder",
    "ProgressFn",
    "QUERY_ENCODER_FILE",
    "QueryTunedEncoder",
    "SentenceTransformerEncoder",
    "backend_fingerprint",
    "calibration_sample",
    "cpu_threads",
    "document_encoder",
    "embed_with_cache",
    "encoder_backend",
    "load_encoder",
    "packaged_model_path",
    "parse_backend",
    "pick_device",
    "query_backend",
    "query_fingerprint",
    "resolve_model",
    "text_hash",
    "weights_fingerprint",
    "write_query_encoder_pairing",
]
