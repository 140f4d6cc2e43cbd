"""API tokens the command line keeps for ``--as-user NAME``: one file per user under
``$DOCSEARCH_HOME/tokens``, readable by this account only.

``docsearch users add`` and ``tokens issue`` save the token they print; ``tokens revoke`` and
``users remove`` delete it. Whoever can run those commands on this home administers it (they
can issue anyone a token), so keeping a copy here gives nobody a right they did not have; it
lets ``--as-user NAME`` go through the REST API as NAME, where the API decides what NAME may
read. The identity store itself still holds only each token's hash.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote

from search.settings import Settings


def token_file(settings: Settings, name: str) -> Path:
    """The file of ``name``'s token (any user name is one safe file name: ``..`` included)."""
    return settings.tokens_dir / f"user-{quote(name, safe='')}"


def save_token(settings: Settings, name: str, token: str) -> Path:
    """Keep ``token`` as ``name``'s, replacing the one kept before (written whole or not at
    all: a crash leaves the previous file or the new one)."""
    folder = settings.tokens_dir
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    target = token_file(settings, name)
    staging = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    descriptor = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as out:
        out.write(token + "\n")
    os.replace(staging, target)
    return target


def saved_token(settings: Settings, name: str) -> str | None:
    """``name``'s kept token; None when none is kept (or this account may not read it)."""
    try:
        return token_file(settings, name).read_text().strip() or None
    except OSError:
        return None


def forget_token(settings: Settings, name: str) -> None:
    token_file(settings, name).unlink(missing_ok=True)
