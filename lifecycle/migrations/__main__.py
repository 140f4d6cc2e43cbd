"""``python -m lifecycle.migrations revision "what changes"``: draft the next migration.

Alembic compares the newest revision (applied to a scratch SQLite database) with the tables
the code declares and writes the differences into ``versions/NNNN_what_changes.py``; read it
and finish it by hand before committing it.
"""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

from alembic import command


def draft(message: str) -> Path:
    """Write the next revision file; returns its path."""
    # the modules that declare tables, so the metadata holds every one of them
    import lifecycle.feedback.schema  # noqa: F401
    import lifecycle.identity  # noqa: F401
    import lifecycle.sources.catalog  # noqa: F401
    from lifecycle.database import engine_for, metadata
    from lifecycle.migrations import HERE, alembic_config, head, upgrade

    number = f"{int(head()) + 1:04d}"
    slug = re.sub(r"[^a-z0-9]+", "_", message.lower()).strip("_")[:40] or "change"
    with tempfile.TemporaryDirectory() as scratch:
        engine = engine_for(f"sqlite:///{scratch}/scratch.sqlite")
        upgrade(engine)
        with engine.begin() as connection:
            config = alembic_config(connection)
            config.attributes["target_metadata"] = metadata
            command.revision(config, message, autogenerate=True, rev_id=number, head="head")
        engine.dispose()
    written = next((HERE / "versions").glob(f"{number}_*.py"))
    return written.rename(written.with_name(f"{number}_{slug}.py"))


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "revision":
        print('usage: python -m lifecycle.migrations revision "what changes"', file=sys.stderr)
        sys.exit(2)
    print(draft(sys.argv[2]))
