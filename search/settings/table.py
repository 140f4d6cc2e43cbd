"""Settings as people read them: the environment variable of each field, the README's
configuration table generated from the fields, and one line per malformed value."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, ValidationError

from search.settings.base import ENV_PREFIX, LIBRARY_ENVIRONMENT, PROJECT_ROOT
from search.settings.model import Settings


def env_name(field: str) -> str:
    """The environment variable a field is read from (its first alias, else the prefix)."""
    info = Settings.model_fields[field]
    alias = info.validation_alias
    if isinstance(alias, AliasChoices):
        return str(alias.choices[0])
    return f"{ENV_PREFIX}{field.upper()}"


def environment_table() -> str:
    """The README's configuration table, generated from the fields."""
    rows = ["| variable | default | meaning |", "| --- | --- | --- |"]
    for field, info in Settings.model_fields.items():
        default = info.default
        if isinstance(default, Path):
            shown = (
                default.relative_to(PROJECT_ROOT).as_posix()
                if default.is_relative_to(PROJECT_ROOT)
                else str(default)
            )
        else:
            shown = "" if default in (None, "") else str(default)
        rows.append(
            f"| `{env_name(field)}` | {f'`{shown}`' if shown else 'unset'} | {info.description} |"
        )
    for name, value in LIBRARY_ENVIRONMENT.items():
        rows.append(
            f"| `{name}` | `{value}` | set for the libraries underneath unless already set |"
        )
    return "\n".join(rows)


def explain(exc: ValidationError) -> str:
    """One line naming each malformed variable and what it must be."""
    problems = []
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else "?"
        name = env_name(field) if field in Settings.model_fields else field
        problems.append(f"{name}: {error['msg']}")
    return "bad setting: " + "; ".join(problems)
