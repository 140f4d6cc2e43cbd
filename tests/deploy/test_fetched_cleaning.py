"""Champions a serving home fetched are cleaned when another comes to serve: the newest
``keep_versions`` stay, never the one serving or the one served before it (another process
may still read it), and a fetch interrupted long ago leaves no staging folder behind."""

from __future__ import annotations

import os

from lifecycle.gate import GatePolicy
from lifecycle.registry import Registry
from lifecycle.registry.serving import STAGING_HOURS, clean_fetched, fetched_folder
from lifecycle.serving import FROM_REGISTRY, resolve_serving
from search.settings import Settings
from tests.deploy.builds import build_version, register


def test_a_serving_home_keeps_only_the_champions_it_may_still_need(tmp_path):
    tracking = f"sqlite:///{tmp_path / 'mlflow.db'}"  # one store, two homes
    builder = Settings(home=tmp_path / "builder", mlflow_uri=tracking, model="hashing-128")
    server = Settings(home=tmp_path / "server", mlflow_uri=tracking, keep_versions=1)
    registry = Registry.from_settings(builder)
    models = server.models_dir
    interrupted = models / f".{registry.model_name}-v9-abc"
    served = []
    for weight in (0.2, 0.4, 0.6):
        number = register(builder, build_version(builder, dense_weight=weight), 0.9)
        registry.promote(number, GatePolicy(floor=0.5), force=True)
        serving = resolve_serving(server)
        assert serving.source == FROM_REGISTRY and serving.path.startswith(str(models))
        served.append(number)
        if len(served) == 1:  # a fetch that died half way, two hours ago
            interrupted.mkdir()
            stale = os.stat(interrupted).st_mtime - 2 * STAGING_HOURS * 3600
            os.utime(interrupted, (stale, stale))
    # keep 1: v3 serves, v2 served before it (protected), v1 and the staging folder are gone
    left = sorted(p.name for p in models.iterdir() if p.is_dir())
    assert left == [fetched_folder(models, registry.model_name, n).name for n in served[1:]]
    assert resolve_serving(server).path == serving.path  # nothing re-fetched, still serving


def test_the_folder_serving_is_never_removed(tmp_path):
    for number in (1, 2, 3):
        (fetched_folder(tmp_path, "m", number) / "index_model").mkdir(parents=True)
        os.utime(fetched_folder(tmp_path, "m", number), (number, number))  # v3 fetched last
    (tmp_path / "m-v2-encoder").mkdir()  # not a fetched version (a fine-tuned encoder, say)
    serving = fetched_folder(tmp_path, "m", 1) / "index_model"
    removed = clean_fetched(tmp_path, "m", keep=1, protect={serving})
    # keep 1 keeps v3, the newest; v1 serves; only v2 goes, nothing that is not a fetch
    assert [p.name for p in removed] == ["m-v2"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m-v1", "m-v2-encoder", "m-v3"]
