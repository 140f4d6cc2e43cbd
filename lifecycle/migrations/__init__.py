"""Schema migrations of the product's store (Alembic), applied whenever a store is opened.

``upgrade(engine)`` brings a database to the newest revision; ``FeedbackStore`` and
``Identities`` call it through ``lifecycle.database.open_database``, and ``docsearch migrate``
(run by ``make setup``) calls it once ahead of time. It is idempotent, and safe when several
processes open the same store at once: on PostgreSQL the upgrade holds a transaction-scoped
advisory lock and runs in one transaction (PostgreSQL's DDL is transactional); on SQLite the
processes take turns on a lock file beside the database.

A store written before migrations existed (tables made by ``metadata.create_all``, no
``alembic_version`` table) is upgraded in place: the first revision creates only the tables
that are missing, so it adopts the old ones with every row they hold.

Layout: ``env.py`` (how Alembic runs here: on the connection it is handed, never from an
``alembic.ini``), ``script.py.mako`` (the template of a new revision), ``versions/`` (one file
per revision, named ``NNNN_what.py``, revision ids ``"NNNN"``). To add one, change the tables
(``lifecycle/feedback/schema.py``, ``lifecycle/identity.py``,
``lifecycle/sources/catalog.py``), then

    python -m lifecycle.migrations revision "what changes"

writes ``versions/NNNN_what_changes.py`` with the differences Alembic detects between the
newest revision and the tables; read it, finish it by hand (data moves, SQLite's limits: use
``op.batch_alter_table`` to alter a column), and run ``tests/lifecycle/test_migrations.py``:
it builds the schema from the migrations and compares it with the tables, on SQLite and on
PostgreSQL.
"""

from __future__ import annotations

import fcntl
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.engine import Engine

HERE = Path(__file__).resolve().parent
# PostgreSQL advisory lock key of the upgrade: any 64-bit number no other program uses
_PG_LOCK = int.from_bytes(hashlib.sha256(b"docsearch-migrations").digest()[:8], "big", signed=True)


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration, made in code: this package's scripts, ``connection`` to run on."""
    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.set_main_option("version_path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@cache
def head() -> str:
    """The newest revision id."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current(engine: Engine) -> str | None:
    """The revision ``engine``'s database is at (None: never migrated)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


class SchemaTooNew(ValueError):
    """The store was migrated by a newer docsearch than this one."""


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to ``revision`` (the newest by default); nothing to do is cheap."""
    at = current(engine)
    if revision == "head" and at == head():
        return
    if at is not None and at not in _known():
        shown = engine.url.render_as_string(hide_password=True)
        raise SchemaTooNew(
            f"the store at {shown} has schema revision {at}, newer than this docsearch knows "
            f"({head()}): run the docsearch that migrated it, or upgrade this one"
        )
    with _exclusive(engine) as connection:
        command.upgrade(alembic_config(connection), revision)


@cache
def _known() -> frozenset[str]:
    script = ScriptDirectory.from_config(alembic_config())
    return frozenset(r.revision for r in script.walk_revisions())


@contextmanager
def _exclusive(engine: Engine) -> Iterator[Connection]:
    """A connection that no other process migrates through at the same time."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK})
            yield connection
        return
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        with engine.begin() as connection:  # one process owns it: nothing to coordinate
            yield connection
        return
    lock_path = Path(database).expanduser().with_name(Path(database).name + ".migrate-lock")
    with open(lock_path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        with engine.begin() as connection:
            yield connection
