"""Who is asking: users, their groups and their API tokens, kept in the product's SQL store.

A user has a name, groups and an admin flag; what they may read is decided by principals
(``everyone``, ``user:NAME``, ``group:NAME``: the words of the access policy). API tokens are
random (``secrets.token_urlsafe(32)``, 256 bits), shown once when issued and stored only as
their SHA-256: a token is as unguessable as a key, so a plain hash is enough to make a stolen
table useless, and a lookup by hash costs one index probe. Revoking takes effect at once:
``authenticate`` reads the table on every call, nothing is cached.

Single sign-on (OpenID Connect) needs no token: ``sign_in`` records the person the identity
provider vouched for, with the groups of its claim replacing the stored ones.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Table,
    delete,
    false,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from lifecycle.database import metadata, open_database
from search.access import principals_of

TOKEN_PREFIX = "ds_"  # lets secret scanners and people recognise a docsearch token
MAX_NAME = 128

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(MAX_NAME), nullable=False, unique=True),
    Column("admin", Boolean, nullable=False, server_default=false()),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
memberships = Table(
    "memberships",
    metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("group_name", String(MAX_NAME), primary_key=True),
)
tokens = Table(
    "tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
)


class IdentityError(ValueError):
    """A bad name, an unknown user, a user that exists already: the message says what to do."""


@dataclass(frozen=True)
class User:
    name: str
    groups: frozenset[str]
    admin: bool

    def principals(self) -> frozenset[str]:
        """What this user reads as: everyone, their own user, each of their groups."""
        return principals_of(self.name, self.groups)


def check_name(name: object, what: str = "user name") -> str:
    """``name`` when it can name a user or group: 1-128 printable characters without spaces or
    commas (the command line separates groups with commas), not starting with ``-``."""
    if not isinstance(name, str) or not name:
        raise IdentityError(f"a {what} is needed")
    if (
        len(name) > MAX_NAME
        or name.startswith("-")
        or "," in name
        or any(c.isspace() or not c.isprintable() for c in name)
    ):
        raise IdentityError(
            f"{what} {name[:40]!r} is not allowed: use up to {MAX_NAME} printable characters "
            "without spaces or commas, not starting with '-'"
        )
    return name


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Identities:
    """Users, groups and tokens in the store at ``url`` (or on an open engine)."""

    def __init__(self, url: str | Engine) -> None:
        self.engine = open_database(url)

    def close(self) -> None:
        self.engine.dispose()

    # ------------------------------------------------------------------ users
    def add_user(self, name: str, groups: Iterable[str] = (), admin: bool = False) -> str:
        """Create a user; returns their first API token (shown once, stored only hashed)."""
        name, wanted = check_name(name), _groups(groups)
        try:
            with self.engine.begin() as conn:
                user_id = conn.execute(
                    insert(users).values(name=name, admin=bool(admin), created_at=_now())
                ).inserted_primary_key[0]
                _set_groups(conn, user_id, wanted)
                return _new_token(conn, user_id)
        except IntegrityError:
            raise IdentityError(
                f"user {name!r} exists already; `docsearch tokens issue {name}` gives them "
                "another token"
            ) from None

    def issue_token(self, name: str) -> str:
        """Another API token for an existing user (their other tokens stay valid)."""
        with self.engine.begin() as conn:
            return _new_token(conn, _user_id(conn, name))

    def list_users(self) -> list[User]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(users.c.id, users.c.name, users.c.admin)).all()
            groups = _groups_of(conn, [r.id for r in rows])
        return sorted(
            (User(r.name, groups.get(r.id, frozenset()), bool(r.admin)) for r in rows),
            key=lambda u: u.name,
        )

    def user(self, name: str) -> User | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(users.c.id, users.c.admin).where(users.c.name == name)
            ).first()
            if row is None:
                return None
            return User(name, _groups_of(conn, [row.id]).get(row.id, frozenset()), row.admin)

    def remove_user(self, name: str) -> None:
        """Delete a user with their groups and tokens (their feedback stays, under their name)."""
        with self.engine.begin() as conn:
            user_id = _user_id(conn, name)
            conn.execute(delete(tokens).where(tokens.c.user_id == user_id))
            conn.execute(delete(memberships).where(memberships.c.user_id == user_id))
            conn.execute(delete(users).where(users.c.id == user_id))

    def sign_in(self, name: str, groups: Iterable[str]) -> User:
        """Record a person the identity provider signed in: created when new, their groups
        replaced by the provider's claim (the provider is the source of truth for them); the
        admin flag stays what the store says."""
        name, wanted = check_name(name), _groups(groups)
        for _attempt in range(2):  # two first sign-ins at once: the loser reads the winner's row
            try:
                with self.engine.begin() as conn:
                    row = conn.execute(
                        select(users.c.id, users.c.admin).where(users.c.name == name)
                    ).first()
                    if row is None:
                        user_id = conn.execute(
                            insert(users).values(name=name, admin=False, created_at=_now())
                        ).inserted_primary_key[0]
                        row = (user_id, False)
                    _set_groups(conn, row[0], wanted)
                    return User(name, wanted, bool(row[1]))
            except IntegrityError:
                continue
        raise IdentityError(f"could not record the sign-in of {name!r}; try again")

    # ----------------------------------------------------------------- tokens
    def revoke_tokens(self, name: str) -> int:
        """Revoke every valid token of a user at once; returns how many were revoked."""
        with self.engine.begin() as conn:
            user_id = _user_id(conn, name)
            result = conn.execute(
                update(tokens)
                .where(tokens.c.user_id == user_id, tokens.c.revoked_at.is_(None))
                .values(revoked_at=_now())
            )
            return int(result.rowcount or 0)

    def authenticate(self, token: object) -> User | None:
        """The user a token belongs to; None for an unknown, revoked or malformed token."""
        if not isinstance(token, str) or not token.startswith(TOKEN_PREFIX) or len(token) > 256:
            return None
        with self.engine.connect() as conn:
            row = conn.execute(
                select(users.c.id, users.c.name, users.c.admin)
                .join(tokens, tokens.c.user_id == users.c.id)
                .where(tokens.c.token_hash == token_hash(token), tokens.c.revoked_at.is_(None))
            ).first()
            if row is None:
                return None
            return User(row.name, _groups_of(conn, [row.id]).get(row.id, frozenset()), row.admin)

    def count_tokens(self, name: str) -> int:
        """Valid (unrevoked) tokens of a user."""
        with self.engine.connect() as conn:
            user_id = _user_id(conn, name)
            return int(
                conn.execute(
                    select(func.count()).where(
                        tokens.c.user_id == user_id, tokens.c.revoked_at.is_(None)
                    )
                ).scalar()
                or 0
            )


# ----------------------------------------------------------------------------------- helpers
def _now() -> datetime:
    return datetime.now(UTC)


def _groups(groups: Iterable[str]) -> frozenset[str]:
    if isinstance(groups, str):  # one group given as a string, not its characters
        groups = [groups]
    return frozenset(check_name(g, "group name") for g in groups)


def _user_id(conn: Connection, name: str) -> int:
    user_id = conn.execute(select(users.c.id).where(users.c.name == name)).scalar()
    if user_id is None:
        raise IdentityError(f"there is no user {name!r}; `docsearch users list` shows them")
    return int(user_id)


def _set_groups(conn: Connection, user_id: int, groups: frozenset[str]) -> None:
    conn.execute(delete(memberships).where(memberships.c.user_id == user_id))
    if groups:
        conn.execute(
            insert(memberships), [{"user_id": user_id, "group_name": g} for g in sorted(groups)]
        )


def _groups_of(conn: Connection, user_ids: list[int]) -> dict[int, frozenset[str]]:
    found: dict[int, set[str]] = {}
    if user_ids:
        for row in conn.execute(
            select(memberships.c.user_id, memberships.c.group_name).where(
                memberships.c.user_id.in_(user_ids)
            )
        ):
            found.setdefault(row.user_id, set()).add(row.group_name)
    return {user_id: frozenset(groups) for user_id, groups in found.items()}


def _new_token(conn: Connection, user_id: int) -> str:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    conn.execute(
        insert(tokens).values(user_id=user_id, token_hash=token_hash(token), created_at=_now())
    )
    return token
