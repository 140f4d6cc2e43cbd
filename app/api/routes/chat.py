"""``POST /v1/chat``: one chat turn as the caller, in a conversation the caller owns."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from app.api.auth import reader, services
from app.api.models import ChatRequest, ChatResponse, Citation
from app.api.problems import BODY, errors
from app.api.state import Services
from lifecycle.conversation import ask
from lifecycle.readers import Reader, new_session

router = APIRouter(prefix="/v1", tags=["chat"])


@router.post("/chat", response_model=ChatResponse, responses=errors(*BODY, 401, 404, 429, 503))
def chat(
    body: ChatRequest, caller: Reader = Depends(reader), services: Services = Depends(services)
) -> ChatResponse:
    """An answer from the passages the caller may read, with its citations. Leave
    ``conversation_id`` out to start a conversation; send it back for a follow-up."""
    current = services.current()
    conversations = services.conversations
    if body.conversation_id:
        conversation = conversations.get(caller, body.conversation_id)
    else:
        conversation = conversations.start(caller, new_session(caller))
    turn = ask(
        current.index,
        services.store,
        body.message,
        reader=caller,
        session_id=conversation.session_id,
        version=current.served.version,
        history=conversation.turns,
        llm=services.llm(),
    )
    conversations.add(conversation, turn)
    return ChatResponse(
        answer=turn.answer.text,
        answered=turn.answer.answered,
        citations=[
            Citation(number=p.number, doc_id=p.doc_id, title=p.title, path=p.path, text=p.text)
            for p in turn.answer.cited()
        ],
        conversation_id=conversation.id,
        query_id=turn.query_id,
        answer_id=turn.answer_id,
        searched_for=turn.searched_for,
        mode=turn.answer.mode,
    )
