"""Deployment settings: the one place that reads environment variables.

``Settings.from_env()`` is called by the interfaces only (the CLI, the Streamlit app, the Dagster
definitions, ``make run``, the benchmarks); the layers below receive a ``Settings`` or plain
values and never read or write ``os.environ``. Each field documents itself: the README's
configuration table is generated from these fields (``python -m search.settings``) and a test
checks that the two agree. The fields come in groups, one module each (``core``, ``access``,
``deployment``,
``sources``); ``model`` composes them into ``Settings``.
"""

from search.settings.base import (
    DEFAULT_PROFILE,
    LIBRARY_ENVIRONMENT,
    PROFILES_FILE,
    PROJECT_ROOT,
    SAMPLE_SET,
    SettingsError,
)
from search.settings.model import Settings
from search.settings.table import env_name, environment_table

__all__ = [
    "DEFAULT_PROFILE",
    "LIBRARY_ENVIRONMENT",
    "PROFILES_FILE",
    "PROJECT_ROOT",
    "SAMPLE_SET",
    "Settings",
    "SettingsError",
    "env_name",
    "environment_table",
]
