"""Document page: one document's indexed text and its original file (only while its bytes are
the ones indexed); a visit from a result or a
citation (``?doc=…&qid=…``) is logged as a click, at the rank the server recorded for it.
With ``&passage=N`` the page opens at that passage (the one that matched), highlighted; with
``&at=S-E`` too, only the words of the result's snippet in it (characters S to E). A
document the reader may not read gets the same answer as one that is not indexed."""

from __future__ import annotations

import streamlit as st
import streamlit.components.v1 as components

from app import runtime
from app.document_params import DocumentParams, passage_not_found
from app.render import document_html, md, original_link
from lifecycle.documents import document_file, read_document
from lifecycle.originals import Changed
from lifecycle.personal import record_click
from lifecycle.readers import NotFound

served, index = runtime.current_index()
reader = runtime.reader()
link, notes = DocumentParams.parse(st.query_params.to_dict())
doc_id = link.doc
try:
    view = read_document(index, reader, doc_id)
except NotFound:
    st.title("Document")
    for note in notes:
        st.info(md(note))
    st.warning(
        "This document is not in the index being served. It may have been removed; search again."
        if doc_id
        else "This link names no document; search for it instead."
    )
    st.stop()

logged_key = f"opened-{link.qid}-{doc_id}"
if link.qid and not st.session_state.get(logged_key):
    try:
        record_click(runtime.store(), reader, link.qid, doc_id, link.kind)
    except (NotFound, ValueError):
        pass  # a link from someone else's results: not a click to log
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
if meta.get("source"):  # from a connected store: where it lives there, and a way to it
    st.caption(f"source {md(meta['source'])} · {md(meta.get('source_url', ''))}")
    if original_link(meta):
        st.link_button("Open the original", original_link(meta))
try:
    original = document_file(
        index, reader, doc_id, runtime.settings().docs, runtime.settings().sources_dir
    )
    data = original.read()  # the bytes that were indexed, checked against their recorded hash
    st.download_button("Download the original", data=data, file_name=original.name)
except Changed:
    st.caption(
        "The original file changed since it was indexed; it can be downloaded again once the "
        "folder is re-indexed. The text below is the indexed one."
    )
except NotFound:
    pass  # indexed from a corpus file or no longer in the folder: the text below is all there is
passage = link.passage
chunks = index.chunks_of(doc_id)
if passage is not None and not any(c.position == passage for c in chunks):
    notes.append(passage_not_found(passage))  # a stale link: the document from its start
    passage = None
for note in notes:
    st.info(md(note))
if passage is not None:
    st.caption("The passage that matched your search is highlighted.")
window = link.at if passage is not None else None
st.markdown(document_html(chunks, passage, window), unsafe_allow_html=True)  # escaped there
if passage is not None:  # scroll the page (the parent of this component's frame) to it
    components.html(
        "<script>const m = window.parent.document.getElementById('ds-passage');"
        "if (m) m.scrollIntoView({block: 'center'});</script>",
        height=0,
    )
