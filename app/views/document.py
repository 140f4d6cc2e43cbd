"""Document page: one document's text and its original file; a visit from a result or a
citation (``?doc=…&qid=…``) is logged as a click, at the rank the server recorded for it.
With ``&passage=N`` the page opens at that passage (the one that matched), highlighted; with
``&at=S-E`` too, only the words of the result's snippet in it (characters S to E). A
document the reader may not read gets the same answer as one that is not indexed."""

from __future__ import annotations

import streamlit as st
import streamlit.components.v1 as components

from app import runtime
from app.render import document_html, md, parse_window
from lifecycle.documents import document_file, read_document
from lifecycle.personal import record_click
from lifecycle.readers import NotFound

served, index = runtime.current_index()
reader = runtime.reader()
params = st.query_params
doc_id = params.get("doc", "")
try:
    view = read_document(index, reader, doc_id)
except NotFound:
    st.title("Document")
    st.warning(
        "This document is not in the index being served. It may have been removed; search again."
    )
    st.stop()

qid = params.get("qid", "")
logged_key = f"opened-{qid}-{doc_id}"
if qid.isdigit() and not st.session_state.get(logged_key):
    kind = params.get("kind", "open") if params.get("kind") in ("open", "citation") else "open"
    try:
        record_click(runtime.store(), reader, qid, doc_id, kind)
    except (NotFound, ValueError):
        pass  # a link from someone else's results, or a mangled one: not a click to log
    st.session_state[logged_key] = True

meta = view.metadata
st.title(md(view.title or doc_id))
st.caption(
    " · ".join(
        md(x)
        for x in (meta.get("path", doc_id), meta.get("format", ""), meta.get("modified", ""))
        if x
    )
)
try:
    path = document_file(index, reader, doc_id, runtime.settings().docs)
    st.download_button("Download the original", data=path.read_bytes, file_name=path.name)
except NotFound:
    pass  # indexed from a corpus file or no longer in the folder: the text below is all there is
passage = params.get("passage", "")
passage = int(passage) if passage.isdigit() else None
chunks = index.chunks_of(doc_id)
if passage is not None and not any(c.position == passage for c in chunks):
    passage = None  # a stale or mangled link: the document from its start
if passage is not None:
    st.caption("The passage that matched your search is highlighted.")
window = parse_window(params.get("at", "")) if passage is not None else None
st.markdown(document_html(chunks, passage, window), unsafe_allow_html=True)  # escaped there
if passage is not None:  # scroll the page (the parent of this component's frame) to it
    components.html(
        "<script>const m = window.parent.document.getElementById('ds-passage');"
        "if (m) m.scrollIntoView({block: 'center'});</script>",
        height=0,
    )
