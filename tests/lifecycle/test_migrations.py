"""The store's schema comes from its migrations, on SQLite and PostgreSQL: fresh, concurrent, and
upgraded in place from a store the release before migrations wrote (main 6360f09)."""

import multiprocessing
import shutil
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, Table, create_engine, func, inspect, select, text

import lifecycle.experiments  # noqa: F401 - declares the experiment tables in the shared metadata
import lifecycle.identity  # noqa: F401 - declares the identity tables in the shared metadata
import lifecycle.sources.catalog  # noqa: F401 - and the sources table
from lifecycle.database import engine_for, metadata
from lifecycle.feedback import FeedbackStore
from lifecycle.identity import Identities
from lifecycle.migrations import current, head, upgrade

LEGACY = Path(__file__).parent.parent / "fixtures" / "legacy_store" / "feedback.sqlite"
FEEDBACK_TABLES = ("queries", "shown", "clicks", "answers", "votes")  # foreign keys point left
# the fixture's rows, counted when it was written (tests/fixtures/legacy_store/README.md)
LEGACY_ROWS = {"queries": 4, "shown": 6, "clicks": 5, "answers": 1, "votes": 4}


def test_the_migrations_build_exactly_the_declared_tables(database_url):
    engine = engine_for(database_url)
    assert current(engine) is None
    upgrade(engine)
    assert current(engine) == head()
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []
    upgrade(engine)  # nothing to do the second time
    engine.dispose()


def test_the_first_revision_is_the_schema_the_old_release_created(tmp_path):
    """Migration 0001 adopts old stores, so it must build what ``create_all`` built then."""
    old = create_engine(f"sqlite:///{LEGACY}")
    new = engine_for(f"sqlite:///{tmp_path / 'new.sqlite'}")
    upgrade(new, "0001")
    for table in FEEDBACK_TABLES:
        assert _shape(old, table) == _shape(new, table), table
    old.dispose()
    new.dispose()


def _shape(engine, table: str) -> tuple:
    found = inspect(engine)
    columns = [(c["name"], str(c["type"]), c["nullable"]) for c in found.get_columns(table)]
    indexes = sorted((i["name"], tuple(i["column_names"])) for i in found.get_indexes(table))
    keys = sorted(
        (tuple(k["constrained_columns"]), k["referred_table"], k["options"].get("ondelete"))
        for k in found.get_foreign_keys(table)
    )
    checks = sorted(c["name"] for c in found.get_check_constraints(table))
    return columns, indexes, keys, found.get_pk_constraint(table)["constrained_columns"], checks


def _legacy_store(database_url: str) -> None:
    """The fixture store at ``database_url``: the file itself for SQLite; for PostgreSQL the
    same tables (0001, with no trace of Alembic, as ``create_all`` left them) and rows."""
    if database_url.startswith("sqlite"):
        shutil.copy(LEGACY, database_url.removeprefix("sqlite:///"))
        return
    engine = engine_for(database_url)
    upgrade(engine, "0001")
    source = create_engine(f"sqlite:///{LEGACY}")
    written = MetaData()
    written.reflect(source)
    with source.connect() as old, engine.begin() as new:
        new.execute(text("DROP TABLE alembic_version"))
        for table in FEEDBACK_TABLES:
            rows = [dict(r._mapping) for r in old.execute(select(written.tables[table]))]
            new.execute(Table(table, MetaData(), autoload_with=new).insert(), rows)
            if "id" in rows[0]:  # the sequence where inserting the rows one by one leaves it
                new.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {len(rows)})")
                )
    source.dispose()
    engine.dispose()


def test_a_store_written_before_migrations_upgrades_in_place(database_url):
    _legacy_store(database_url)
    store = FeedbackStore(database_url)
    assert current(store.engine) == head()
    assert {t: len(store.rows(t)) for t in FEEDBACK_TABLES} == LEGACY_ROWS
    tables = set(inspect(store.engine).get_table_names())
    assert {"users", "memberships", "tokens", "alembic_version"} <= tables
    # rows read back as they were written
    first, *_, empty = store.rows("queries")
    assert (first["query"], first["filters"], first["user_name"]) == (
        "vpn error 809",
        {"formats": ["md"]},
        None,
    )
    assert empty["n_results"] == 0
    assert [v["comment"] for v in store.rows("votes")] == ["exactly this", None, None, "helpful"]
    (answer,) = store.rows("answers")
    assert answer["cited_doc_ids"] == ["hr/leave.md"] and answer["answer"] == "Sixteen weeks [1]."
    # the click stored twice is kept, marked as a repeat; labels read it once
    repeats = [(c["doc_id"], c["kind"]) for c in store.rows("clicks") if c["is_repeat"]]
    assert repeats == [("it/wifi.md", "open")]
    impression = next(store.impressions())
    assert sorted(c.kind for c in impression.clicks) == ["download", "open"]
    # the upgraded store takes new feedback, and the new tables work
    q = store.log_query(
        session_id="s9",
        query="new",
        index_version="v3",
        method="bm25",
        latency_ms=1.0,
        results=[],
        user="alice",
    )
    assert q == 5 and store.rows("queries")[-1]["user_name"] == "alice"
    identities = Identities(store.engine)
    assert identities.authenticate(identities.add_user("alice")).name == "alice"
    store.close()


def _open(url: str) -> str | None:
    store = FeedbackStore(url)
    Identities(store.engine)
    revision = current(store.engine)
    store.close()
    return revision


def test_processes_opening_a_new_store_at_once_migrate_it_once(database_url):
    # an executor, not a Pool: a worker that dies fails the test instead of hanging it
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=4, mp_context=spawn) as pool:
        revisions = list(pool.map(_open, [database_url] * 4, timeout=240))
    assert revisions == [head()] * 4
    engine = engine_for(database_url)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(text("alembic_version"))).scalar() == 1
    engine.dispose()


def test_downgrades_undo_and_upgrades_redo_keeping_the_feedback(database_url):
    store = FeedbackStore(database_url)
    store.log_query(
        session_id="s", query="q", index_version="v", method="bm25", latency_ms=1, results=[]
    )
    from alembic import command

    from lifecycle.migrations import alembic_config

    with store.engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0001")
    assert current(store.engine) == "0001"
    assert "users" not in inspect(store.engine).get_table_names()
    upgrade(store.engine)
    assert current(store.engine) == head() and len(store.rows("queries")) == 1
    store.close()


def test_a_store_that_cannot_be_opened_is_a_one_line_error(tmp_path):
    import pytest

    from lifecycle.database import StoreUnavailable
    from lifecycle.migrations import SchemaTooNew

    with pytest.raises(StoreUnavailable, match="cannot open the store at postgresql") as caught:
        FeedbackStore("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")
    assert "DOCSEARCH_DATABASE_URL" in str(caught.value) and "\n" not in str(caught.value)
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    FeedbackStore(url).close()
    engine = engine_for(url)
    with engine.begin() as conn:  # as if a newer docsearch had migrated it
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(SchemaTooNew, match="revision 9999, newer than this docsearch knows"):
        FeedbackStore(url)
    with pytest.raises(ValueError, match="is not a database URL"):
        FeedbackStore("not a url")
    engine.dispose()
