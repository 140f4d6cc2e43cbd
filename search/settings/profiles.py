"""Profiles: one ``[profiles.NAME]`` table per environment in the profiles file, read as a
settings source below the environment variables and above the defaults."""

from __future__ import annotations

import contextvars
import tomllib
from pathlib import Path
from typing import Any

from pydantic.fields import FieldInfo
from pydantic_settings import PydanticBaseSettingsSource

from search.settings.base import DEFAULT_PROFILE, PROFILES_FILE, SettingsError

PATH_FIELDS = ("home", "docs", "sample_set", "eval_scifact")  # relative to the profiles file

# False while the settings of another environment are read (``Settings.from_profile``): the
# environment variables of this process configure this environment, not that one
READ_ENVIRONMENT = contextvars.ContextVar("docsearch_read_environment", default=True)


class ProfileSource(PydanticBaseSettingsSource):
    """The active profile's table of the profiles file: ``[profiles.NAME]`` with field names
    as keys (``home = "/srv/docsearch"``). The profile and the file come from the sources
    before it (arguments, then environment variables). ``dev`` needs no table; any other name
    must have one. Relative paths are taken from the file's folder."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # the whole table is read at once in __call__

    def __call__(self) -> dict[str, Any]:
        name = str(self.current_state.get("env") or DEFAULT_PROFILE)
        chosen = self.current_state.get("config_file") or self.current_state.get("DOCSEARCH_CONFIG")
        path = Path(chosen or PROFILES_FILE).expanduser()
        profiles = read_profiles(path)
        if name not in profiles:
            if name == DEFAULT_PROFILE:
                return {}
            known = ", ".join(sorted(profiles) or [DEFAULT_PROFILE])
            raise SettingsError(
                f"DOCSEARCH_ENV: no profile {name!r} in {path} (profiles: {known}); add a "
                f"[profiles.{name}] table there or pick another name"
            )
        table = dict(profiles[name])
        unknown = sorted(set(table) - set(self.settings_cls.model_fields))
        if unknown:
            raise SettingsError(
                f"{path} [profiles.{name}]: unknown setting(s) {', '.join(unknown)}; use the "
                "field names of the README's configuration table (home, mlflow_uri, ...)"
            )
        for key in PATH_FIELDS:
            if table.get(key):
                table[key] = str((path.parent / Path(table[key]).expanduser()).resolve())
        return table


def read_profiles(path: Path) -> dict[str, dict]:
    """``{name: table}`` of a profiles file; {} when there is none."""
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"DOCSEARCH_CONFIG: {path} is not readable TOML ({exc})") from None
    profiles = data.get("profiles", {})
    if not isinstance(profiles, dict):
        raise SettingsError(f"{path}: `profiles` must be a table of [profiles.NAME] tables")
    return profiles
