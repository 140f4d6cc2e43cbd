"""A model's own query/passage prompts (config_sentence_transformers.json), on every backend."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from search.encoding import SentenceTransformerEncoder, load_encoder, packaged_model_path
from search.encoding.prompts import Prompts

E5 = {"query": "query: ", "passage": "passage: "}


def test_prompts_are_read_by_their_sentence_transformers_names():
    assert Prompts.from_mapping(E5) == Prompts("query: ", "passage: ")
    bge = {"query": "Represent this sentence for searching relevant passages: ", "document": ""}
    assert Prompts.from_mapping(bge).query.startswith("Represent this sentence")
    assert Prompts.from_mapping({"corpus": "doc: "}) == Prompts("", "doc: ")
    assert not Prompts.from_mapping(None) and not Prompts.from_mapping({"classification": "x"})


def test_prompts_are_prepended_and_change_the_fingerprint_only_when_present():
    prompts = Prompts("query: ", "passage: ")
    assert prompts.queries(["a"]) == ["query: a"] and prompts.passages(["b"]) == ["passage: b"]
    assert Prompts().fingerprint("abc") == "abc"  # models without prompts keep their identity
    assert prompts.fingerprint("abc") != "abc"
    assert prompts.fingerprint("abc") != Prompts("query: ", "").fingerprint("abc")


@pytest.fixture(scope="module")
def e5_style_model(tmp_path_factory) -> Path:
    """The packaged MiniLM's files, with e5-style prompts in its sentence-transformers config."""
    folder = tmp_path_factory.mktemp("e5-style")
    source = packaged_model_path()
    for item in source.iterdir():
        if item.name != "config_sentence_transformers.json":
            (folder / item.name).symlink_to(item)
    config = json.loads((source / "config_sentence_transformers.json").read_text())
    (folder / "config_sentence_transformers.json").write_text(json.dumps(config | {"prompts": E5}))
    return folder


@pytest.mark.slow
def test_a_model_with_prompts_encodes_queries_and_passages_with_them(e5_style_model, real_encoder):
    encoder = SentenceTransformerEncoder(str(e5_style_model), device="cpu")
    assert encoder.prompts == Prompts("query: ", "passage: ")
    assert encoder.fingerprint != real_encoder.fingerprint  # same weights, other vectors
    text = "How many days of parental leave do I get?"
    np.testing.assert_allclose(
        encoder.encode_queries([text]), real_encoder.encode_queries([f"query: {text}"]), atol=1e-5
    )
    np.testing.assert_allclose(
        encoder.encode([text]), real_encoder.encode([f"passage: {text}"]), atol=1e-5
    )


@pytest.mark.slow
def test_exported_backends_use_the_same_prompts(e5_style_model, tmp_path):
    exported = load_encoder(str(e5_style_model), backend="onnx", export_dir=tmp_path)
    plain = SentenceTransformerEncoder(str(e5_style_model), device="cpu")
    assert exported.prompts == plain.prompts
    text = "Reset a forgotten password"
    np.testing.assert_allclose(
        exported.encode_queries([text]), plain.encode_queries([text]), atol=1e-4
    )
    assert not np.allclose(exported.encode_queries([text]), exported.encode([text]), atol=1e-3)
