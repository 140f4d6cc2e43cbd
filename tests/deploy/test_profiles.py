"""Environments: one profiles file, `DOCSEARCH_ENV` picks a table, the environment wins."""

from pathlib import Path

import pytest

from search.settings import PROFILES_FILE, Settings, SettingsError

PROFILES = """
[profiles.dev]

[profiles.prod]
home = "homes/prod"
mlflow_uri = "http://127.0.0.1:5100"
app_port = 8601
gate_floor = 0.6

[profiles.staging]
home = "/srv/staging"
registry_model = "search-staging"
"""


@pytest.fixture
def profiles(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "conf" / "docsearch.toml"
    path.parent.mkdir()
    path.write_text(PROFILES)
    for name in ("DOCSEARCH_HOME", "MLFLOW_TRACKING_URI", "DOCSEARCH_APP_PORT", "DOCSEARCH_ENV"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DOCSEARCH_CONFIG", str(path))
    return path


def test_the_profile_named_by_docsearch_env_supplies_the_settings(profiles, monkeypatch):
    monkeypatch.setenv("DOCSEARCH_ENV", "prod")
    settings = Settings.from_env()
    assert settings.env == "prod"
    assert settings.home == profiles.parent / "homes" / "prod"  # relative to the file
    assert settings.mlflow_uri == "http://127.0.0.1:5100"
    assert (settings.app_port, settings.gate_floor) == (8601, 0.6)
    # what the profile leaves out keeps its default, derived from the profile's home
    assert settings.feedback_url == f"sqlite:///{profiles.parent / 'homes/prod/feedback.sqlite'}"
    assert settings.dagster_port == 3000


def test_environment_variables_win_over_the_profile(profiles, monkeypatch, tmp_path):
    monkeypatch.setenv("DOCSEARCH_ENV", "prod")
    monkeypatch.setenv("DOCSEARCH_APP_PORT", "9001")
    monkeypatch.setenv("DOCSEARCH_HOME", str(tmp_path / "elsewhere"))
    settings = Settings.from_env()
    assert settings.app_port == 9001 and settings.home == tmp_path / "elsewhere"
    assert settings.mlflow_uri == "http://127.0.0.1:5100"  # not set in the environment


def test_another_profile_is_read_without_this_environment(profiles, monkeypatch, tmp_path):
    """`promote --to prod` run in dev: dev's environment variables must not leak into prod."""
    monkeypatch.setenv("DOCSEARCH_HOME", str(tmp_path / "dev-home"))
    dev = Settings.from_env()
    prod = Settings.from_profile("prod", dev.config_file)
    assert dev.env == "dev" and dev.home == tmp_path / "dev-home"
    assert prod.env == "prod" and prod.home == profiles.parent / "homes" / "prod"
    staging = Settings.from_profile("staging", dev.config_file)
    assert staging.home == Path("/srv/staging") and staging.registry_model == "search-staging"


def test_dev_needs_no_table_and_unknown_names_are_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCSEARCH_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.delenv("DOCSEARCH_ENV", raising=False)
    assert Settings.from_env().env == "dev"
    monkeypatch.setenv("DOCSEARCH_ENV", "qa")
    with pytest.raises(SettingsError, match=r"no profile 'qa'.*add a \[profiles\.qa\] table"):
        Settings.from_env()


def test_a_misspelt_key_or_broken_file_is_one_clear_error(tmp_path, monkeypatch):
    path = tmp_path / "docsearch.toml"
    monkeypatch.setenv("DOCSEARCH_CONFIG", str(path))
    monkeypatch.setenv("DOCSEARCH_ENV", "prod")
    path.write_text('[profiles.prod]\nhome_dir = "x"\n')
    with pytest.raises(SettingsError, match="unknown setting.*home_dir"):
        Settings.from_env()
    path.write_text("[profiles.prod\n")
    with pytest.raises(SettingsError, match="not readable TOML"):
        Settings.from_env()


def test_the_shipped_profiles_file_defines_dev_and_prod():
    prod = Settings.from_profile("prod", PROFILES_FILE)
    dev = Settings.from_profile("dev", PROFILES_FILE)
    assert prod.home == PROFILES_FILE.parent / ".docsearch" / "prod"
    assert prod.gate_floor is not None and prod.app_port != dev.app_port
    assert dev.gate_floor is None  # dev keeps the gate's defaults
