"""The command line when it runs here (no API answers it): who it acts as, and its search.

Without ``--as-user`` the command line is the operator's tool: it reads every document of the
served version, the access policy not applied. With ``--as-user NAME`` it is user NAME under
the policy in force for the version's documents; NAME is looked up before any index or model loads, so a name that is
empty or unknown is refused at once. The search is the app's and the API's
(``lifecycle.documents.search_as``): logged under the reader's own session (its ``query_id``
takes clicks, votes and ``docsearch lineage``), corrected from the corpus's spelling.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from lifecycle.readers import Reader, new_session
from search.settings import Settings

if TYPE_CHECKING:  # the search service loads the index's libraries: only when it searches
    from lifecycle.documents import Page

OPERATOR = "local"  # who the command line acts as without --as-user (the app's local user)
SOURCE = "cli"  # how the feedback store tells the command line's searches from others


@dataclass(frozen=True)
class Operator:
    """The command line's own user without ``--as-user``: whoever can run it here can read the
    documents folder and the index files anyway, so no access policy narrows what it finds
    (``principals()`` None restricts nothing, even in a version that records its policy)."""

    name: str = OPERATOR
    admin: bool = True

    def principals(self) -> None:
        return None


class UnknownUser(ValueError):
    """``--as-user`` names nobody: one line, exit code 2."""


@dataclass(frozen=True)
class CommandLineReader:
    """Who the command line acts as, and whether the access policy applies to them."""

    reader: Reader
    under_policy: bool


def command_line_reader(settings: Settings, name: str | None) -> CommandLineReader:
    """User ``name`` under the policy in force, or the operator (every document) for None;
    UnknownUser for an empty name or one the identity store does not hold."""
    from lifecycle.identity import Identities

    if name is None:
        return CommandLineReader(Operator(), False)
    if not name.strip():
        raise UnknownUser("--as-user needs a user name; `docsearch users list` shows them")
    identities = Identities(settings.feedback_url)
    try:
        found = identities.user(name)
    finally:
        identities.close()
    if found is None:
        raise UnknownUser(f"no user {name!r}; `docsearch users list` shows them")
    return CommandLineReader(found, True)


def served_index(settings: Settings, who: CommandLineReader, *, folder=None, name=None):
    """(version, index) the command answers from: the version that serves (the MLflow
    champion, else the local CURRENT), or the index ``folder`` / the current version of index
    ``name`` when given; carrying the policy in force for its documents (the one the version
    records, wherever it was built from) when the reader is under it."""
    from search.index import IndexStore, SearchIndex

    if folder is not None:
        version, index = folder.name, SearchIndex.load(folder)
    elif name is not None and name != settings.index_name:
        store = IndexStore(settings.index_root(name))
        version = store.pick().version
        index = store.load(version)
    else:
        from lifecycle.serving import resolve_serving

        served = resolve_serving(settings)
        if served is None:
            raise ValueError("no index has been built yet; run `docsearch build` first")
        version, index = served.version, SearchIndex.load(served.path)
    if who.under_policy:
        from lifecycle.access import enforce, version_policy

        index = enforce(index, version_policy(settings, index).policy)
    return version, index


def search_from_command_line(
    settings: Settings,
    query: str,
    who: CommandLineReader,
    *,
    k: int = 10,
    method: str | None = None,
    filters=None,
    fusion: str | None = None,
    folder=None,
    name: str | None = None,
    weaker: bool = False,
) -> Page:
    """``docsearch search`` run here: the search service of the app and the API."""
    from lifecycle.documents import search_as
    from lifecycle.feedback import FeedbackStore

    version, index = served_index(settings, who, folder=folder, name=name)
    if fusion:  # the operator trying another fusion on this process's own copy of the index
        index.config = index.config.replace(fusion=fusion)
    store = FeedbackStore(settings.feedback_url)
    try:
        return search_as(
            index,
            store,
            who.reader,
            query,
            session_id=new_session(who.reader),
            version=version,
            k=k,
            method=method,
            filters=filters,
            source=SOURCE,
            weaker=weaker,
        )
    finally:
        store.close()
