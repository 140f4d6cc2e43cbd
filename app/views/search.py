"""Search page: query, filters, results with highlighted snippets, votes and logged clicks."""

from __future__ import annotations

import streamlit as st

from app import runtime
from app.render import empty_message, md, result_html
from lifecycle.documents import document_file, facets, read_document, search_as
from lifecycle.personal import record_click, record_vote
from lifecycle.readers import NotFound
from search.retrieval import Filters

served, index = runtime.current_index()
store = runtime.store()
reader = runtime.reader()
session = runtime.session_id()

formats, folders = facets(index, reader)  # of the documents this reader may read

st.title("Search")
with st.form("search", border=False):
    query = st.text_input("Query", placeholder="e.g. vpn error 809", key="query")
    cols = st.columns([2, 2, 2, 2, 1])
    chosen_formats = cols[0].multiselect("Format", formats, key="formats")
    folder = cols[1].selectbox("Folder", ["(any)", *folders], key="folder")
    after = cols[2].date_input("Modified after", value=None, key="after")
    before = cols[3].date_input("Modified before", value=None, key="before")
    method = cols[4].selectbox("Method", ["hybrid", "bm25", "dense"], key="method")
    submitted = st.form_submit_button("Search", type="primary")

if submitted:
    filters = Filters.of(
        formats=chosen_formats,
        path_prefix="" if folder == "(any)" else folder,
        modified_after=after.isoformat() if after else "",
        modified_before=before.isoformat() if before else "",
    )
    if query.strip():
        page = search_as(
            index,
            store,
            reader,
            query,
            session_id=session,
            version=served.version,
            k=10,
            method=method,
            filters=filters,
        )
        st.session_state.last_search = {
            "latency_ms": page.took_ms,
            "query_id": page.query_id,
            "query": query,
            "results": page.results,
            "filtered": not filters.is_empty(),
            "method": method,
            "version": served.version,
        }
    else:
        st.session_state.last_search = {
            "query": "",
            "results": [],
            "filtered": False,
            "method": method,
        }


def _click(query_id: int, doc_id: str, rank: int, kind: str) -> None:
    record_click(store, reader, query_id, doc_id, kind=kind, rank=rank)


def _preview(key: str, query_id: int, doc_id: str, rank: int) -> None:
    if st.session_state.get(key):  # opened, not closed
        record_click(store, reader, query_id, doc_id, kind="preview", rank=rank)


def _vote(key: str, query_id: int, doc_id: str) -> None:
    value = st.session_state.get(key)  # 1 thumbs-up, 0 thumbs-down, None withdrawn
    record_vote(store, reader, {1: 1, 0: -1}.get(value, 0), query_id, doc_id)


def _original(doc_id: str):
    try:
        return document_file(index, reader, doc_id, runtime.settings().docs)
    except NotFound:
        return None


last = st.session_state.get("last_search")
if last:
    results = last["results"]
    if not results:
        st.info(empty_message(last["query"], last["filtered"], last["method"]))
    else:
        qid = last["query_id"]
        st.caption(
            f"{len(results)} results for “{md(last['query'])}” · "
            f"{last['latency_ms']:.0f} ms · index {last['version']}"
        )
        lineage = runtime.version_links(last["version"])
        for r in results:
            with st.container(border=True, key=f"result-{qid}-{r.rank}"):
                details = result_html(r, lineage, qid)  # escaped in result_html
                st.markdown(details, unsafe_allow_html=True)
                cols = st.columns([1, 1, 1, 5], vertical_alignment="center")
                with cols[0]:
                    vote_key = f"vote-{qid}-{r.rank}"
                    st.feedback(
                        "thumbs", key=vote_key, on_change=_vote, args=(vote_key, qid, r.doc_id)
                    )
                with cols[1]:
                    path = _original(r.doc_id)
                    st.download_button(
                        "Download",
                        data=path.read_bytes
                        if path
                        else (lambda d=r.doc_id: read_document(index, reader, d).text),
                        file_name=path.name if path else f"{r.doc_id.replace('/', '_')}.txt",
                        key=f"download-{qid}-{r.rank}",
                        on_click=_click,
                        args=(qid, r.doc_id, r.rank, "download"),
                    )
                with cols[2]:
                    st.page_link(
                        "views/document.py",
                        label="Open",
                        icon=":material/open_in_new:",
                        query_params={"doc": r.doc_id, "qid": str(qid), "rank": str(r.rank)},
                    )
                preview_key = f"preview-{qid}-{r.rank}"
                with st.expander(
                    "Preview",
                    key=preview_key,
                    on_change=_preview,
                    args=(preview_key, qid, r.doc_id, r.rank),
                ) as preview:
                    if preview.open:
                        st.text(read_document(index, reader, r.doc_id).text)
