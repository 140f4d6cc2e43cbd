"""``docsearch ask``: one chat turn from the command line: through the REST API when it answers
(``remote``), else here through the same service call as the app's chat page and the API
(``lifecycle.conversation.ask``)."""

from __future__ import annotations

import argparse
import sys

from app.cli.arguments import user_name
from app.cli.output import print_json
from app.cli.remote import api_for
from search.settings import Settings

MAX_QUESTION_CHARS = 4000


def question_text(text: str) -> str:
    """A question: some words, at most MAX_QUESTION_CHARS characters."""
    if not text.strip():
        raise argparse.ArgumentTypeError("the question is empty; ask something")
    if len(text) > MAX_QUESTION_CHARS:
        raise argparse.ArgumentTypeError(
            f"the question has {len(text)} characters; keep it under {MAX_QUESTION_CHARS}"
        )
    return text.strip()


question_text.__name__ = "question"


def conversation_id(text: str) -> str:
    if not text or len(text) > 64 or not text.replace("-", "").isalnum():
        raise argparse.ArgumentTypeError(f"{text[:70]!r} is not a conversation id")
    return text


conversation_id.__name__ = "conversation id"


def turn_json(turn, conversation: str) -> dict:
    """The ``--json`` object (the API's chat response has the same fields)."""
    return {
        "answer": turn.answer.text,
        "answered": turn.answer.answered,
        "citations": [
            {
                "number": p.number,
                "doc_id": p.doc_id,
                "title": p.title,
                "path": p.path,
                "text": p.text,
            }
            for p in turn.answer.cited()
        ],
        "conversation_id": conversation,
        "searched_for": turn.searched_for,
        "mode": turn.answer.mode,
        "query_id": turn.query_id,
        "answer_id": turn.answer_id,
    }


def cmd_ask(args, settings: Settings) -> int:
    """One chat turn: through the API when it answers (``remote``), else here. A conversation
    continues where it started: the API keeps its own; one begun here (its id is the session
    id it was logged under, "u...-...") is read back from the feedback store, here."""
    begun_here = bool(args.conversation and "-" in args.conversation)
    as_token_user = args.as_user is None and bool(settings.api_token)
    api = None if begun_here and not as_token_user else api_for(settings, args.as_user)
    if api is not None:
        body = {"message": args.question, "conversation_id": args.conversation}
        turn = api.post("/v1/chat", body)
    else:
        turn = _ask_here(args, settings)
        if turn is None:
            return 2
    if args.json:
        print_json(turn | {"via": "api" if api else "here"})
        return 0
    if turn.get("note"):
        print(turn["note"], file=sys.stderr)
    print(turn["answer"])
    for p in turn["citations"]:
        print(f"  [{p['number']}] {p['title']}  ({p['path']})")
    if turn["searched_for"] != args.question:
        print(f"searched for: {turn['searched_for']}", file=sys.stderr)
    print(f"follow up with: --conversation {turn['conversation_id']}", file=sys.stderr)
    if turn.get("answer_id"):
        print(
            f"vote on it: `docsearch feedback answer {turn['answer_id']} up|down`", file=sys.stderr
        )
    return 0


def _ask_here(args, settings: Settings) -> dict | None:
    from lifecycle.conversation import ask_from_command_line
    from lifecycle.readers import NotFound

    try:
        turn, conversation = ask_from_command_line(
            settings, args.question, user=args.as_user, conversation=args.conversation
        )
    except NotFound as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None
    return turn_json(turn, conversation) | {"note": turn.answer.note}


def add_commands(sub, settings: Settings) -> None:
    p = sub.add_parser(
        "ask", help="ask the documents a question: an answer quoted from them, with citations"
    )
    p.add_argument("question", type=question_text)
    p.add_argument(
        "--conversation",
        type=conversation_id,
        metavar="ID",
        help="continue this conversation (the id an earlier ask printed)",
    )
    p.add_argument(
        "--as-user",
        type=user_name,
        metavar="NAME",
        help="only what user NAME may read, under the access policy in force (through the "
        "API with the token kept for NAME when it answers); without it the command answers "
        "from every document: it is an operator's tool",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_ask)
