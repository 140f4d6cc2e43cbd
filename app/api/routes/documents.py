"""``/v1/documents/{doc_id}``: its text, its original file, similar documents. A document the
caller may not read is 404, exactly like one that does not exist; an original file that is not
the one indexed any more (changed, or swapped for a link) is 409, never its new content.

Document ids are paths (``hr/leave.pdf``), so the routes that end in ``/file`` and
``/similar`` are matched before the plain one."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from app.api.auth import reader, services
from app.api.limits import MAX_SIMILAR
from app.api.models import DocumentOut, Result, SimilarResponse
from app.api.problems import errors
from app.api.state import Services
from lifecycle.documents import document_file, read_document, similar_documents
from lifecycle.readers import Reader

router = APIRouter(prefix="/v1/documents", tags=["documents"])
ERRORS = errors(401, 404, 422, 429, 503)


@router.get(
    "/{doc_id:path}/file",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/octet-stream": {}}}, **errors(409), **ERRORS},
)
def original(
    doc_id: str, caller: Reader = Depends(reader), services: Services = Depends(services)
) -> StreamingResponse:
    """The document's original file, exactly as it was indexed (its bytes checked against
    the sha256 recorded then; 409 when the file changed since: re-index the folder); a
    connected source's document: its copy in the source's mirror, checked the same way."""
    current = services.current()
    found = document_file(
        current.index, caller, doc_id, services.settings.docs, services.settings.sources_dir
    )
    copy = found.open()  # checked before the first byte is sent
    return StreamingResponse(
        _blocks(copy),
        media_type="application/octet-stream",
        headers={"Content-Disposition": _attachment(found.name)},
    )


def _blocks(copy: BinaryIO) -> Iterator[bytes]:
    with copy:
        while block := copy.read(1024 * 1024):
            yield block


def _attachment(name: str) -> str:
    """A Content-Disposition for ``name`` (RFC 6266, non-ASCII names as RFC 5987), as
    Starlette's FileResponse writes it."""
    quoted = quote(name)
    if quoted != name:
        return f"attachment; filename*=utf-8''{quoted}"
    return f'attachment; filename="{name}"'


@router.get("/{doc_id:path}/similar", response_model=SimilarResponse, responses=ERRORS)
def similar(
    doc_id: str,
    k: int = Query(5, ge=1, le=MAX_SIMILAR),
    caller: Reader = Depends(reader),
    services: Services = Depends(services),
) -> SimilarResponse:
    """Documents nearest to this one by meaning, among those the caller may read."""
    found = similar_documents(services.current().index, caller, doc_id, k)
    return SimilarResponse(doc_id=doc_id, results=[Result.of(r) for r in found])


@router.get("/{doc_id:path}", response_model=DocumentOut, responses=ERRORS)
def document(
    doc_id: str, caller: Reader = Depends(reader), services: Services = Depends(services)
) -> DocumentOut:
    """The document's title, metadata and text."""
    view = read_document(services.current().index, caller, doc_id)
    return DocumentOut(doc_id=view.doc_id, title=view.title, metadata=view.metadata, text=view.text)
