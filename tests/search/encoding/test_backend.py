"""The backend is part of the encoder's identity: fingerprints and cache keys follow it."""

import numpy as np
import pytest

from search.config import IndexConfig
from search.encoding import (
    Backend,
    EmbeddingCache,
    HashingEncoder,
    backend_fingerprint,
    embed_with_cache,
    load_encoder,
    parse_backend,
)


def test_torch_keeps_the_weights_fingerprint_and_every_other_backend_has_its_own():
    weights = "0123456789abcdef"
    # caches and indexes written before backends existed stay valid for PyTorch fp32
    assert backend_fingerprint(weights, Backend.TORCH) == weights
    others = {backend_fingerprint(weights, b) for b in Backend if b != Backend.TORCH}
    assert len(others) == len(Backend) - 1 and weights not in others
    # another calibration gives other int8 ranges: another identity
    int8 = Backend.OPENVINO_INT8
    assert backend_fingerprint(weights, int8, "aa") != backend_fingerprint(weights, int8, "bb")


def test_backend_names_are_parsed_or_refused_with_the_valid_ones():
    assert parse_backend(" OpenVINO-int8 ") is Backend.OPENVINO_INT8
    with pytest.raises(ValueError, match="use one of torch, torch-fp16, onnx"):
        parse_backend("tensorrt")
    with pytest.raises(ValueError, match="Unknown encoder backend"):
        load_encoder("all-MiniLM-L6-v2", backend="tensorrt")


class _Backended(HashingEncoder):
    """The same (hashing) weights run by a named backend: only the identity differs."""

    def __init__(self, backend: Backend) -> None:
        super().__init__(dim=16)
        self.backend = backend
        self.fingerprint = backend_fingerprint(self.fingerprint, backend)


def test_the_embedding_cache_never_hands_one_backends_vectors_to_another(tmp_path):
    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    texts = ["alpha beta", "gamma", "alpha beta"]  # two distinct texts
    torch_side, int8_side = _Backended(Backend.TORCH), _Backended(Backend.ONNX_INT8)
    _, encoded = embed_with_cache(torch_side, texts, cache)
    assert encoded == 2
    vectors, encoded = embed_with_cache(int8_side, texts, cache)
    assert encoded == 2 and int8_side.calls == 2  # nothing reused across backends
    _, encoded = embed_with_cache(_Backended(Backend.ONNX_INT8), texts, cache)
    assert encoded == 0  # the same backend reuses everything
    assert np.allclose(vectors[0], vectors[2])


def test_the_config_names_the_backend_and_old_configs_read_as_torch():
    config = IndexConfig()
    assert IndexConfig.from_dict(config.to_dict()) == config
    before_backends = {k: v for k, v in config.to_dict().items() if k != "encoder_backend"}
    assert IndexConfig.from_dict(before_backends).encoder_backend == "torch"
    # the backend tells versions apart through the encoder's fingerprint (compared on its own),
    # so the build fingerprint of a version written before backends existed stays valid
    torch_config = config.replace(encoder_backend="torch")
    assert torch_config.build_fingerprint() == config.build_fingerprint()
