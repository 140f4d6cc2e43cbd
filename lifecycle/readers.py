"""Who is asking: the reader every service call names, and what that allows.

A ``Reader`` is anything with a ``name``, an ``admin`` flag and ``principals()`` (the signed-in
``lifecycle.identity.User`` is one). Services search and show documents as that reader, keep
question texts to the reader who asked them, and keep the figures of everyone's traffic to
admins. Refusals are two exceptions the interfaces translate: ``NotFound`` (404: a document
the reader may not read is answered exactly like one that does not exist) and ``Forbidden``
(403: an admin's page or action).

Sessions carry their owner: a session id starts with a key derived from the reader's name
(``owner_key``, a hash: the feedback store never holds names in clear), so a click or a vote
is accepted only on a query the same reader ran.
"""

from __future__ import annotations

import dataclasses
import hashlib
import uuid
from collections.abc import Mapping
from typing import Protocol, runtime_checkable


@runtime_checkable
class Reader(Protocol):
    name: str
    admin: bool

    def principals(self) -> frozenset[str]: ...


class NotFound(LookupError):
    """Nothing the reader may see is there (or it is there and they may not see it)."""


class Forbidden(PermissionError):
    """The reader is signed in but this is for admins."""


def require_admin(reader: Reader) -> None:
    if not reader.admin:
        raise Forbidden(
            f"{reader.name} is not an admin; an admin can run `docsearch users add NAME --admin`"
        )


def owner_key(reader: Reader) -> str:
    """A stable pseudonym of the reader, the prefix of their session ids."""
    return "u" + hashlib.sha256(reader.name.encode()).hexdigest()[:16]


def new_session(reader: Reader) -> str:
    """A fresh session id owned by ``reader`` (50 characters: fits the store's 64)."""
    return f"{owner_key(reader)}-{uuid.uuid4().hex}"


def owns(reader: Reader, session_id: str) -> bool:
    return session_id.startswith(owner_key(reader) + "-")


def with_admin_group(reader, admin_group: str):
    """``reader`` as an admin when one of its groups is ``admin_group`` (the organisation's
    identity provider decides who administers, as well as ``docsearch users add --admin``)."""
    if reader.admin or f"group:{admin_group}" not in reader.principals():
        return reader
    return dataclasses.replace(reader, admin=True)


def claimed_identity(
    claims: Mapping, name_claim: str = "email", groups_claim: str = "groups"
) -> tuple[str, tuple[str, ...]]:
    """(name, groups) of a person signed in through OpenID Connect: the name from
    ``name_claim`` (``sub`` when absent), the groups from ``groups_claim`` (a list, or one
    string of names separated by spaces or commas)."""
    name = str(claims.get(name_claim) or claims.get("sub") or "").strip()
    if not name:
        raise ValueError(
            f"the identity token names nobody: it has neither {name_claim!r} nor 'sub'"
        )
    raw = claims.get(groups_claim) or ()
    if isinstance(raw, str):
        raw = raw.replace(",", " ").split()
    groups = tuple(dict.fromkeys(str(g).strip() for g in raw if str(g).strip()))
    return name, groups
