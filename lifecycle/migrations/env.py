"""How Alembic runs the product's migrations: on the connection ``lifecycle.migrations`` hands
it (no ``alembic.ini``, no URL of its own), in that connection's transaction."""

from alembic import context

config = context.config
connection = config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=config.attributes.get("target_metadata"),
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
