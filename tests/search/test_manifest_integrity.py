"""A manifest that vouches for itself: every edit of it is refused with one clear message
naming the file and the fix (never a traceback), and the store serves the version activated
before a corrupt one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from search.index import (
    ACTIVATIONS,
    CURRENT,
    DENSE,
    MANIFEST,
    IndexLoadError,
    IndexStore,
    SearchIndex,
    manifest_sha256,
    read_manifest,
)


@pytest.fixture
def two_versions(index, tmp_path) -> tuple[IndexStore, str, str]:
    store = IndexStore(tmp_path / "store")
    first = store.write(index)
    second = store.write(index)
    return store, first, second


def _edit(folder: Path, change) -> None:
    manifest = json.loads((folder / MANIFEST).read_text())
    change(manifest)
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2))


def _refused(folder: Path, *words: str, encoder=None) -> str:
    with pytest.raises(IndexLoadError) as caught:
        SearchIndex.load(folder, encoder)
    message = str(caught.value)
    assert str(folder / MANIFEST) in message or str(folder) in message
    for word in words:
        assert word in message
    assert "\n" not in message
    return message


def test_activation_records_the_manifest_hash(two_versions):
    store, first, second = two_versions
    sha = manifest_sha256(store.path(second))
    assert (store.root / CURRENT).read_text().split() == [second, sha]
    assert [line.split()[0] for line in (store.root / ACTIVATIONS).read_text().splitlines()] == [
        first,
        second,
    ]
    assert store.recorded_sha256(first) == manifest_sha256(store.path(first))


def test_emptied_files_map_is_refused_and_the_previous_version_serves(
    two_versions, hashing_encoder
):
    store, first, second = two_versions
    _edit(store.path(second), lambda m: m.update(files={}))
    _refused(store.path(second), "field 'files' must list", "docsearch build")
    with pytest.raises(IndexLoadError, match="was changed after the version was activated"):
        store.check(second)
    picked = store.pick()
    assert picked.version == first and f"version {second} refused" in picked.note
    assert store.load(encoder=hashing_encoder).manifest == read_manifest(store.path(first))


def test_emptied_files_map_with_flipped_data_bytes_is_refused(two_versions, hashing_encoder):
    store, first, second = two_versions
    dense = store.path(second) / DENSE
    data = bytearray(dense.read_bytes())
    data[-8] ^= 0xFF
    dense.write_bytes(bytes(data))
    _refused(store.path(second), "checksum of dense.faiss", encoder=hashing_encoder)
    assert store.pick().version == first  # the manifest is intact, its files are not
    _edit(store.path(second), lambda m: m.update(files={}))
    _refused(store.path(second), "field 'files'", encoder=hashing_encoder)
    assert store.pick().version == first


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda m: m.update(dense_index="ivf_pq"), ["field 'dense_index' must be one of"]),
        (lambda m: m.update(dense_index="hnsw_ip"), ["'hnsw_ip' but dense.faiss is not one"]),
        (lambda m: m["model"].update(dim="384"), ["field 'model.dim' must be a positive"]),
        (lambda m: m["model"].update(id=""), ["field 'model.id' must be a non-empty string"]),
        (lambda m: m.update(model="minilm"), ["field 'model' must be an object"]),
        (lambda m: m.pop("counts"), ["field 'counts' must be an object"]),
        (lambda m: m["counts"].update(chunks=-1), ["field 'counts.chunks' must be a count"]),
        (lambda m: m.update(format_version=7), ["'format_version' is 7"]),
        (lambda m: m["files"].update({"../x": "0" * 64}), ["not a file inside the index"]),
        (lambda m: m["files"].update({DENSE: "abc"}), ["checksum that is not a sha256"]),
        (lambda m: m["config"].update(fusion="vote"), ["field 'config' is not an index"]),
        (lambda m: m["config"].update(rrf_k="60"), ["field 'config.rrf_k' must be int"]),
        (lambda m: m["config"].update(title_in_chunks=1), ["'config.title_in_chunks' must be"]),
        (lambda m: m["config"].update(chunk_tokens=True), ["'config.chunk_tokens' must be int"]),
    ],
)
def test_edited_fields_are_refused_naming_the_field(index, tmp_path, change, words):
    folder = index.save(tmp_path / "idx")
    _edit(folder, change)
    _refused(folder, *words, "rebuild with `docsearch build`")


def test_a_file_dropped_from_the_map_is_refused(index, tmp_path):
    folder = index.save(tmp_path / "idx")
    _edit(folder, lambda m: m["files"].pop("sparse/vocab.index.json"))
    _refused(folder, "does not list sparse/vocab.index.json")


def test_an_edited_model_id_is_refused_without_a_traceback(two_versions, hashing_encoder):
    store, first, second = two_versions
    _edit(store.path(second), lambda m: m["model"].update(id="no/such-model"))
    _refused(store.path(second), "no/such-model", "cannot be loaded")  # its encoder is loaded
    _edit(store.path(second), lambda m: m["model"].update(fingerprint="f" * 16))
    _refused(store.path(second), "was built with encoder no/such-model", encoder=hashing_encoder)
    assert store.pick().version == first  # refused by the hash before any encoder is loaded


@pytest.mark.parametrize("raw", [b"\xca\xfe\xba\xbe", b'{"format_version": 1', b"[1, 2]"])
def test_an_unreadable_manifest_names_the_file(two_versions, raw):
    store, first, second = two_versions
    (store.path(second) / MANIFEST).write_bytes(raw)
    message = _refused(store.path(second))
    assert str(store.path(second) / MANIFEST) in message
    assert store.pick().version == first


def test_with_no_good_version_left_the_error_names_the_current_one(two_versions):
    store, first, second = two_versions
    for version in (first, second):
        _edit(store.path(version), lambda m: m.update(files={}))
    with pytest.raises(IndexLoadError, match="no earlier version .* checks"):
        store.pick()


def test_activate_refuses_a_manifest_that_is_not_the_recorded_one(two_versions):
    store, first, second = two_versions
    with pytest.raises(IndexLoadError, match="changed after"):
        store.activate(first, manifest_sha256="0" * 64)
    assert store.current() == second
    store.activate(first, manifest_sha256=manifest_sha256(store.path(first)))
    assert store.current() == first


def test_a_current_pointer_written_before_hashes_still_serves(two_versions, hashing_encoder):
    store, first, second = two_versions
    (store.root / CURRENT).write_text(first + "\n")
    (store.root / ACTIVATIONS).unlink()
    assert store.pick().version == first
    assert store.load(encoder=hashing_encoder).manifest["counts"]["documents"] > 0


def _any_json():
    from hypothesis import strategies as st

    scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
        max_leaves=6,
    )


def test_any_edit_of_any_field_is_loaded_or_refused_never_a_traceback(index, tmp_path):
    """Property: one field (top level or one level down) set to any JSON value."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    folder = index.save(tmp_path / "idx")
    original = json.loads((folder / MANIFEST).read_text())
    paths = [(k,) for k in original] + [
        (k, sub) for k, v in original.items() if isinstance(v, dict) for sub in v
    ]

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(path=st.sampled_from(paths), value=_any_json(), drop=st.booleans())
    def edit_one(path, value, drop):
        manifest = json.loads(json.dumps(original))
        target = manifest if len(path) == 1 else manifest[path[0]]
        if drop:
            target.pop(path[-1])
        else:
            target[path[-1]] = value
        (folder / MANIFEST).write_text(json.dumps(manifest))
        try:
            SearchIndex.load(folder)  # its own encoder: what the manifest names is loaded
        except IndexLoadError as exc:
            assert "\n" not in str(exc) and str(folder) in str(exc)

    edit_one()
