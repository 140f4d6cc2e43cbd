"""``docsearch feedback click|vote|answer``: a click or a vote on what a search or a chat turn
showed, through the REST API when it answers (``remote``), else here; either way into the same
feedback store and learning loop as the app's, accepted only on the caller's own results."""

from __future__ import annotations

import sys

from app.cli.arguments import positive_id, user_name
from app.cli.remote import api_for
from search.settings import Settings

CLICKS = ("open", "preview", "download", "citation")  # lifecycle.personal.CLICK_KINDS
VOTES = {"up": 1, "down": -1, "withdraw": 0}


def cmd_feedback(args, settings: Settings) -> int:
    body = _body(args)
    api = api_for(settings, args.as_user)
    if api is not None:
        made = api.post("/v1/feedback", body)["id"]
    else:
        made = _here(body, args.as_user, settings)
        if made is None:
            return 2
    print(f"{body['kind'].replace('_', ' ')} {made} recorded", file=sys.stderr)
    return 0


def _body(args) -> dict:
    """The API's feedback body (``app.api.models.Feedback``) for the command's arguments."""
    if args.action == "click":
        return {
            "kind": "click",
            "query_id": args.query_id,
            "doc_id": args.doc_id,
            "click": args.kind,
        }
    if args.action == "vote":
        return {"kind": "vote", "query_id": args.query_id, "doc_id": args.doc_id,
                "value": VOTES[args.value], "comment": args.comment}  # fmt: skip
    return {"kind": "answer_vote", "answer_id": args.answer_id, "value": VOTES[args.value],
            "comment": args.comment}  # fmt: skip


def _here(body: dict, as_user: str | None, settings: Settings) -> int | None:
    from lifecycle.command_line import command_line_reader
    from lifecycle.feedback import FeedbackStore
    from lifecycle.personal import record_answer_vote, record_click, record_vote
    from lifecycle.readers import NotFound

    reader = command_line_reader(settings, as_user).reader
    store = FeedbackStore(settings.feedback_url)
    try:
        if body["kind"] == "click":
            return record_click(store, reader, body["query_id"], body["doc_id"], body["click"])
        if body["kind"] == "vote":
            return record_vote(
                store, reader, body["value"], body["query_id"], body["doc_id"], body["comment"]
            )
        return record_answer_vote(store, reader, body["value"], body["answer_id"], body["comment"])
    except NotFound as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None
    finally:
        store.close()


def add_commands(sub, settings: Settings) -> None:
    feedback = sub.add_parser(
        "feedback", help="a click or a vote on a result or an answer you were shown"
    ).add_subparsers(dest="action", required=True, metavar="ACTION")
    as_user = {
        "type": user_name,
        "metavar": "NAME",
        "help": "as user NAME (on NAME's own results); without it, as the operator",
    }
    p = feedback.add_parser("click", help="a click on a result of your search QUERY_ID")
    p.add_argument("query_id", type=positive_id)
    p.add_argument("doc_id")
    p.add_argument("--kind", choices=CLICKS, default="open")
    p.add_argument("--as-user", **as_user)
    p.set_defaults(func=cmd_feedback)
    p = feedback.add_parser("vote", help="a vote on a result of your search QUERY_ID")
    p.add_argument("query_id", type=positive_id)
    p.add_argument("doc_id")
    p.add_argument("value", choices=list(VOTES))
    p.add_argument("--comment")
    p.add_argument("--as-user", **as_user)
    p.set_defaults(func=cmd_feedback)
    p = feedback.add_parser("answer", help="a vote on your chat answer ANSWER_ID")
    p.add_argument("answer_id", type=positive_id)
    p.add_argument("value", choices=list(VOTES))
    p.add_argument("--comment")
    p.add_argument("--as-user", **as_user)
    p.set_defaults(func=cmd_feedback)
