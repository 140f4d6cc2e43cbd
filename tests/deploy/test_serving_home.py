"""A serving machine (a home of its own, no folder shared with the builder) serves the
registry's champion: fetched from the artifact store through the tracking server, verified
against its manifest's checksums, switched to atomically when the alias moves, and never
replaced by a fetch that failed."""

from __future__ import annotations

import pytest

from lifecycle.gate import GatePolicy
from lifecycle.registry import CHAMPION, Registry
from lifecycle.serving import FROM_REGISTRY, LoadedIndexes, ServingFollower, resolve_serving
from search.settings import Settings
from tests.deploy.builds import build_version, damaged_copy, register

pytestmark = pytest.mark.slow
POLICY = GatePolicy(floor=0.5, tolerance=0.01)


def _homes(tmp_path, tracking) -> tuple[Settings, Settings]:
    """A builder and a serving home on one tracking server, with a registered model of
    their own (the server is shared by the session's tests)."""
    model = f"docsearch-index-{tmp_path.name[-20:]}"
    builder = Settings.from_profile(
        "dev",
        home=str(tmp_path / "builder"),
        mlflow_uri=tracking.uri,
        model="hashing-128",
        registry_model=model,
    )
    server = Settings.from_profile(
        "dev",
        home=str(tmp_path / "server"),
        mlflow_uri=tracking.uri,
        serve_poll_seconds=0,
        registry_model=model,
    )
    return builder, server


def test_a_second_home_serves_the_champion_it_fetched_and_verified(tmp_path, tracking, s3_or_none):
    builder, server = _homes(tmp_path, tracking)
    registry = Registry.from_settings(builder)
    first = build_version(builder)
    v1 = register(builder, first, 0.9)
    assert registry.promote(v1, POLICY)[1]

    served = resolve_serving(server)
    assert served.source == FROM_REGISTRY and served.label == f"{registry.model_name} v{v1}"
    assert served.version == first.name  # the builder's index id, so feedback lines up
    assert served.path.startswith(str(server.models_dir))  # a copy, not the builder's folder
    assert str(builder.home) not in served.path
    top = LoadedIndexes().index(served).search("vpn error 809", k=1)[0]
    assert top.doc_id == "d2"
    if tracking.engine == "services":  # the artifacts are in the bucket, not on the builder
        keys = s3_or_none.keys("mlflow/")
        assert any(k.endswith(f"index_model/artifacts/{first.name}/manifest.json") for k in keys)
        assert not (builder.home / "mlflow").exists()


def test_the_server_follows_the_alias_and_refuses_a_damaged_version(tmp_path, tracking):
    builder, server = _homes(tmp_path, tracking)
    registry = Registry.from_settings(builder)
    v1 = register(builder, build_version(builder), 0.9)
    registry.promote(v1, POLICY)
    follower = ServingFollower(server)
    assert follower.current().label == f"{registry.model_name} v{v1}"

    second = build_version(builder, dense_weight=0.3)
    v2 = register(builder, second, 0.95)
    registry.promote(v2, POLICY)
    now = follower.current()  # poll: the alias moved, the new version is fetched and served
    assert (now.label, now.version) == (f"{registry.model_name} v{v2}", second.name)

    # v3's uploaded files do not match its manifest (damaged in store or in transit)
    v3 = register(builder, damaged_copy(build_version(builder, dense_weight=0.4), tmp_path), 0.99)
    registry.promote(v3, POLICY)
    assert str(registry.alias(CHAMPION).version) == v3
    kept = follower.current()
    assert kept.label == f"{registry.model_name} v{v2}" and kept.path == now.path
    assert resolve_serving(server).note.startswith(f"{registry.model_name} v{v3} was not served")
    assert "does not match the sha256" in resolve_serving(server).note
    # nothing of the failed fetch is left behind, and a later good version is served
    fetched = sorted(p.name for p in server.models_dir.iterdir() if p.is_dir())
    assert fetched == [f"{registry.model_name}-v{v1}", f"{registry.model_name}-v{v2}"]
    v4 = register(builder, build_version(builder, dense_weight=0.6), 0.99)
    registry.promote(v4, POLICY)
    assert follower.current().label == f"{registry.model_name} v{v4}"


@pytest.fixture
def s3_or_none(tracking, request):
    return request.getfixturevalue("s3") if tracking.engine == "services" else None
