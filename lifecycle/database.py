"""The product's own SQL store (feedback, users and tokens, what monitoring reads): one URL,
``DOCSEARCH_DATABASE_URL``, opened here for everyone who uses it.

SQLite is the default (a WAL file under ``DOCSEARCH_HOME``); PostgreSQL (``postgresql+psycopg://``)
is tested for shared deployments. Opening a store brings its schema to the newest migration
(``lifecycle.migrations``), so no one ever creates or alters a table by hand.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import StaticPool

from lifecycle.migrations import upgrade

# Every table of the store, in one MetaData so a test can compare it with what the migrations
# build. Constraint names follow one convention, so later migrations can name what they alter.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class StoreUnavailable(ValueError):
    """The store cannot be reached or opened; the message names it and what to check."""


def open_database(url: str | Engine) -> Engine:
    """An engine for ``url`` (or the engine given), its schema upgraded to the newest migration.
    SQLite gets WAL mode and a busy timeout, so a Streamlit thread and a simulator in another
    process can write at the same time."""
    engine = url if isinstance(url, Engine) else engine_for(url)
    try:
        upgrade(engine)
    except OperationalError as exc:
        shown = engine.url.render_as_string(hide_password=True)
        reason = str(exc.orig or exc).strip().splitlines()[0][:200]
        raise StoreUnavailable(
            f"cannot open the store at {shown} ({reason}): start the database or fix "
            "DOCSEARCH_DATABASE_URL"
        ) from None
    return engine


def engine_for(url: str) -> Engine:
    """An engine for ``url`` with the settings the store relies on; the schema is untouched."""
    try:
        parsed = make_url(url)
    except Exception as exc:  # noqa: BLE001 - SQLAlchemy raises several types for a bad URL
        raise ValueError(
            f"DOCSEARCH_DATABASE_URL {url!r} is not a database URL ({exc}); write e.g. "
            "sqlite:////path/store.sqlite or postgresql+psycopg://user@host/db"
        ) from None
    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed, pool_pre_ping=True)
    database = parsed.database or ""
    if database in ("", ":memory:"):
        engine = create_engine(
            parsed, poolclass=StaticPool, connect_args={"check_same_thread": False}
        )
    else:
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        # busy_timeout first: switching to WAL itself needs a lock another process may hold
        cursor.execute("PRAGMA busy_timeout = 30000")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")  # durable across app crashes in WAL mode
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    return engine
