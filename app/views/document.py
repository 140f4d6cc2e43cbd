"""Document page: one document's text and its original file; a visit from a result or a
citation (``?doc=…&qid=…&rank=…``) is logged as a click."""

from __future__ import annotations

import streamlit as st

from app import runtime
from app.render import md

served, index = runtime.current_index()
params = st.query_params
doc_id = params.get("doc", "")
info = index.documents.get(doc_id)
if info is None:
    st.title("Document")
    st.warning(
        "This document is not in the index being served. It may have been removed; search again."
    )
    st.stop()

qid = params.get("qid", "")
logged_key = f"opened-{qid}-{doc_id}"
if qid.isdigit() and not st.session_state.get(logged_key):
    rank = params.get("rank", "")
    kind = params.get("kind", "open") if params.get("kind") in ("open", "citation") else "open"
    runtime.store().log_click(int(qid), doc_id, int(rank) if rank.isdigit() else None, kind=kind)
    st.session_state[logged_key] = True

meta = info["metadata"]
st.title(md(info["title"] or doc_id))
st.caption(
    " · ".join(
        md(x)
        for x in (meta.get("path", doc_id), meta.get("format", ""), meta.get("modified", ""))
        if x
    )
)
path = runtime.document_file(doc_id, meta)
if path:
    st.download_button("Download the original", data=path.read_bytes, file_name=path.name)
st.text(index.document_text(doc_id))
