"""Search page: query, filters, results with highlighted snippets, votes and logged clicks."""

from __future__ import annotations

import time

import streamlit as st

from app import runtime
from app.render import empty_message, md, result_html
from lifecycle.feedback import search_and_log
from search.retrieval import Filters

served, index = runtime.current_index()
store = runtime.store()
session = runtime.session_id()

formats = sorted({d["metadata"].get("format", "") for d in index.documents.values()} - {""})
folders = sorted(
    {
        p.rsplit("/", 1)[0] + "/"
        for d in index.documents.values()
        if "/" in (p := str(d["metadata"].get("path", "")))
    }
)

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
        started = time.perf_counter()
        query_id, results = search_and_log(
            index, store, query, session, served.version, k=10, method=method, filters=filters
        )
        st.session_state.last_search = {
            "latency_ms": (time.perf_counter() - started) * 1000,
            "query_id": query_id,
            "query": query,
            "results": results,
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
    store.log_click(query_id, doc_id, rank, kind=kind)


def _preview(key: str, query_id: int, doc_id: str, rank: int) -> None:
    if st.session_state.get(key):  # opened, not closed
        store.log_click(query_id, doc_id, rank, kind="preview")


def _vote(key: str, query_id: int, doc_id: str) -> None:
    value = st.session_state.get(key)  # 1 thumbs-up, 0 thumbs-down, None withdrawn
    store.log_vote(
        {1: 1, 0: -1}.get(value, 0), query_id=query_id, doc_id=doc_id, session_id=session
    )


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
                    path = runtime.document_file(r.doc_id, r.metadata)
                    st.download_button(
                        "Download",
                        data=path.read_bytes
                        if path
                        else (lambda d=r.doc_id: index.document_text(d)),
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
                        st.text(index.document_text(r.doc_id))
