"""The one settings object: every environment variable is read there, documented in the README."""

import ast
from pathlib import Path

import pytest

from search.settings import Settings, SettingsError, environment_table

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = ("search", "evaluation", "lifecycle")
INTERFACES = ("app", "dagster_project", "scripts")


def test_readme_configuration_table_is_generated_from_the_settings():
    readme = (ROOT / "README.md").read_text()
    start, end = "<!-- settings-table:start -->", "<!-- settings-table:end -->"
    assert start in readme and end in readme
    table = readme.split(start, 1)[1].split(end, 1)[0].strip()
    assert table == environment_table(), "run `python -m search.settings` and paste its table"


def test_environment_overrides_defaults_and_bad_values_name_the_variable(monkeypatch, tmp_path):
    monkeypatch.setenv("DOCSEARCH_HOME", str(tmp_path / "h"))
    monkeypatch.setenv("DOCSEARCH_APP_PORT", "9001")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5555")
    settings = Settings.from_env()
    assert settings.home == tmp_path / "h"
    assert settings.app_port == 9001
    assert settings.mlflow_uri == "http://127.0.0.1:5555"
    assert settings.feedback_url == f"sqlite:///{tmp_path / 'h' / 'feedback.sqlite'}"
    assert Settings.from_env(home=str(tmp_path / "x")).home == tmp_path / "x"  # override wins
    monkeypatch.setenv("DOCSEARCH_APP_PORT", "eighty")
    with pytest.raises(SettingsError, match="DOCSEARCH_APP_PORT"):
        Settings.from_env()


def _environ_uses(path: Path) -> list[tuple[int, str]]:
    """(line, what) for each read of the environment: os.environ[...], .get, os.getenv."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "putenv"):
            if isinstance(node.value, ast.Name) and node.value.id == "os":
                found.append((node.lineno, node.attr))
    return found


def _python_files(*folders: str) -> list[Path]:
    return [p for folder in folders for p in sorted((ROOT / folder).rglob("*.py"))]


def test_the_library_never_reads_or_writes_the_environment():
    offenders = {
        str(p.relative_to(ROOT)): uses
        for p in _python_files(*LIBRARY)
        if (uses := _environ_uses(p))
    }
    assert offenders == {}, "read settings through search.settings.Settings, at the edges"


def test_interfaces_only_apply_the_library_environment():
    """Interfaces set LIBRARY_ENVIRONMENT for the libraries and pass the environment to child
    processes; every value they read comes from Settings."""
    for path in _python_files(*INTERFACES):
        text = path.read_text()
        for call in ("os.environ.get(", "os.getenv(", "os.environ["):
            assert call not in text, f"{path.relative_to(ROOT)} reads {call}: use Settings"
