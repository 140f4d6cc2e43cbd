"""One chat turn: the question rewritten only when it refers back, searched and logged as the
reader who asked (so only passages they may read are retrieved and cited), answered from the
passages with citations, and the answer logged. The app's chat page, the command line and the
REST API all call ``ask``; ``Conversations`` keeps the API's conversations, each owned by the
reader who started it. The command line keeps no conversation in memory: ``ask_from_command_line``
continues one from the answers the feedback store logged under its id (a session id)."""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field

from lifecycle.documents import restricted
from lifecycle.feedback import FeedbackStore, search_and_log_forgiving
from lifecycle.readers import NotFound, Reader, new_session, owner_key, owns
from search.chat import (
    EXTRACTIVE,
    PASSAGES_PER_ANSWER,
    Answer,
    LLMConfig,
    answer_from,
    rewrite_question,
)
from search.index import SearchIndex
from search.settings import Settings


@dataclass(frozen=True)
class Turn:
    """A question, what was searched for it, the answer, and the ids the store gave them."""

    question: str
    searched_for: str  # the question as retrieved with (rewritten only for follow-ups)
    answer: Answer
    query_id: int  # the retrieval behind the answer (its results and clicks)
    answer_id: int  # the answer (its votes)


def ask(
    index: SearchIndex,
    store: FeedbackStore,
    question: str,
    *,
    reader: Reader,
    session_id: str,
    version: str,
    history: Sequence[Turn] = (),
    llm: LLMConfig | None = None,
) -> Turn:
    """Answer ``question`` for ``reader`` in a conversation whose earlier turns are
    ``history``: retrieval is restricted to what the reader may read, so are the citations."""
    started = time.perf_counter()
    searched_for = rewrite_question(question, [t.searched_for for t in history])
    query_id, found = search_and_log_forgiving(
        index,
        store,
        searched_for,
        session_id,
        version,
        weaker=True,  # answer_from applies the relevance floor itself
        k=PASSAGES_PER_ANSWER,
        filters=restricted(None, reader),
        source="chat",
    )
    searched_for = found.corrected_query or searched_for  # misspellings forgiven, as in search
    results = found.results.results
    answer = answer_from(
        index, question, searched_for, results, llm=llm, history=[t.question for t in history]
    )
    answer_id = store.log_answer(
        session_id=session_id,
        question=question,
        rewritten_query=searched_for,
        answer=answer.text,
        cited_doc_ids=[p.doc_id for p in answer.cited()],
        index_version=version,
        mode=answer.mode,
        query_id=query_id,
        latency_ms=(time.perf_counter() - started) * 1000,
    )
    return Turn(question, searched_for, answer, query_id, answer_id)


@dataclass
class Conversation:
    """The turns of one conversation and the reader it belongs to (by ``owner_key``)."""

    id: str
    owner: str
    session_id: str
    turns: list[Turn] = field(default_factory=list)


class Conversations:
    """Conversations held in memory for the REST API, the most recent ``keep`` kept, each
    with at most ``max_turns`` turns of history. Another reader's conversation id is answered
    like an unknown one (NotFound). Thread-safe."""

    def __init__(self, keep: int = 1000, max_turns: int = 20) -> None:
        self.keep, self.max_turns = keep, max_turns
        self._items: OrderedDict[str, Conversation] = OrderedDict()
        self._lock = threading.Lock()

    def start(self, reader: Reader, session_id: str) -> Conversation:
        conversation = Conversation(uuid.uuid4().hex, owner_key(reader), session_id)
        with self._lock:
            self._items[conversation.id] = conversation
            while len(self._items) > self.keep:
                self._items.popitem(last=False)
        return conversation

    def get(self, reader: Reader, conversation_id: str) -> Conversation:
        with self._lock:
            found = self._items.get(conversation_id)
            if found is None or found.owner != owner_key(reader):
                raise NotFound(
                    f"no conversation {conversation_id!r}; leave conversation_id out to start one"
                )
            self._items.move_to_end(conversation_id)
            return found

    def add(self, conversation: Conversation, turn: Turn) -> None:
        with self._lock:
            conversation.turns = [*conversation.turns, turn][-self.max_turns :]

    def session_of_answer(self, reader: Reader, answer_id: int) -> str | None:
        """The session of the reader's conversation that gave ``answer_id``; None when no
        conversation of the reader's gave it."""
        key = owner_key(reader)
        with self._lock:
            for c in self._items.values():
                if c.owner == key and any(t.answer_id == answer_id for t in c.turns):
                    return c.session_id
        return None


def logged_turns(store: FeedbackStore, reader: Reader, conversation_id: str) -> list[Turn]:
    """The turns of a conversation as the feedback store logged them (its id is the session
    id its answers were logged under), oldest first; NotFound when it is not ``reader``'s."""
    from sqlalchemy import select

    from lifecycle.feedback.schema import answers

    rows = []
    if owns(reader, conversation_id):
        with store.engine.connect() as conn:
            query = select(answers).where(answers.c.session_id == conversation_id)
            rows = conn.execute(query.order_by(answers.c.id)).all()
    if not rows:
        raise NotFound(
            f"no conversation {conversation_id!r}; leave --conversation out to start one"
        )
    return [
        Turn(
            r.question,
            r.rewritten_query,
            Answer(r.answer, (), r.mode or EXTRACTIVE),
            r.query_id or 0,
            r.id,
        )
        for r in rows
    ]


def ask_from_command_line(
    settings: Settings, question: str, *, user: str | None = None, conversation: str | None = None
) -> tuple[Turn, str]:
    """``docsearch ask``: (the turn, the conversation id) for ``question`` asked of the version
    that serves, as ``user`` (or the operator), continuing ``conversation`` when given."""
    from lifecycle.command_line import command_line_reader, served_index
    from lifecycle.warmup import keep_sentence_vectors

    who = command_line_reader(settings, user)  # before anything loads: a bad name fails fast
    keep_sentence_vectors(settings)  # sentences a serving process or an earlier ask embedded
    reader = who.reader
    store = FeedbackStore(settings.feedback_url)
    try:
        history = logged_turns(store, reader, conversation) if conversation else []
        version, index = served_index(settings, who)
        session_id = conversation or new_session(reader)
        llm = LLMConfig.configured(settings.llm_url, settings.llm_model, settings.llm_api_key)
        turn = ask(
            index,
            store,
            question,
            reader=reader,
            session_id=session_id,
            version=version,
            history=history,
            llm=llm,
        )
    finally:
        store.close()
    return turn, session_id
