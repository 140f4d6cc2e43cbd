"""The product's store on both engines it supports: every test that takes ``database_url`` runs
once on SQLite and once on PostgreSQL (127.0.0.1:5432, trust auth), each PostgreSQL test in a
schema of its own inside one database made for this test session and dropped at its end.

Where PostgreSQL is not reachable the tests run on SQLite only, and the run ends with one line
saying that PostgreSQL was not tested (never a silent skip).
"""

from __future__ import annotations

import os
import uuid
from collections import Counter
from functools import cache

import pytest

POSTGRES_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
ENGINES_RUN: Counter[str] = Counter()  # tests run per engine, for the closing line


@cache
def postgres_problem() -> str | None:
    """Why PostgreSQL cannot be used for the tests (None when it can)."""
    try:
        import psycopg

        psycopg.connect(
            "host=127.0.0.1 port=5432 user=postgres dbname=postgres", connect_timeout=3
        ).close()
    except Exception as exc:  # noqa: BLE001 - any failure means: test SQLite only
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return None


def pytest_generate_tests(metafunc):
    if "database_url" in metafunc.fixturenames:
        engines = ["sqlite"] if postgres_problem() else ["sqlite", "postgresql"]
        metafunc.parametrize("database_url", engines, indirect=True)


def _admin(autocommit: bool = True):
    import psycopg

    return psycopg.connect(
        "host=127.0.0.1 port=5432 user=postgres dbname=postgres", autocommit=autocommit
    )


@pytest.fixture(scope="session")
def postgres_database() -> str:
    """A database of this test session's own (``docsearch_test_<pid>_<random>``), dropped at
    the end with whatever connections are still open to it."""
    name = f"docsearch_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with _admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    with _admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def database_url(request, tmp_path) -> str:
    """The URL of an empty store: a SQLite file, or a fresh PostgreSQL schema."""
    ENGINES_RUN[request.param] += 1
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.sqlite'}"
        return
    import psycopg

    database = request.getfixturevalue("postgres_database")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    conninfo = f"host=127.0.0.1 port=5432 user=postgres dbname={database.rsplit('/', 1)[1]}"
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    yield f"{database}?options=-csearch_path%3D{schema}"
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def pytest_terminal_summary(terminalreporter):
    if not ENGINES_RUN:
        return
    problem = postgres_problem()
    if problem:
        terminalreporter.write_line(
            f"PostgreSQL NOT tested: 127.0.0.1:5432 not reachable ({problem}); "
            f"{ENGINES_RUN['sqlite']} store, identity and migration tests ran on SQLite only",
            yellow=True,
        )
    else:
        terminalreporter.write_line(
            f"store, identity and migration tests: {ENGINES_RUN['sqlite']} on SQLite, "
            f"{ENGINES_RUN['postgresql']} on PostgreSQL (127.0.0.1:5432)"
        )


@pytest.fixture
def store(database_url):
    """An empty feedback store, on each engine (overrides the SQLite-only one of tests/)."""
    from lifecycle.feedback import FeedbackStore

    store = FeedbackStore(database_url)
    yield store
    store.close()
