"""Text encoders and the embedding cache."""

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
    load_encoder,
    packaged_model_path,
    pick_device,
    query_fingerprint,
    resolve_model,
    weights_fingerprint,
    write_query_encoder_pairing,
)

__all__ = [
    "EmbeddingCache",
    "Encoder",
    "HashingEncoder",
    "ProgressFn",
    "QUERY_ENCODER_FILE",
    "QueryTunedEncoder",
    "SentenceTransformerEncoder",
    "document_encoder",
    "embed_with_cache",
    "load_encoder",
    "packaged_model_path",
    "pick_device",
    "query_fingerprint",
    "resolve_model",
    "text_hash",
    "weights_fingerprint",
    "write_query_encoder_pairing",
]
