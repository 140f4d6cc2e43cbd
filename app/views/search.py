"""Search page: query, filters, pages of results with highlighted snippets, votes and logged
clicks. The search (query, filters, method, page and the logged query id) lives in the URL, so
it can be shared or bookmarked, and Back or a reload shows the same page with the reader's
votes as they were cast (read back from the feedback store)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import streamlit as st

from app import runtime
from app.render import (
    correction_message,
    empty_message,
    filters_message,
    held_back_message,
    md,
    passage_number,
    result_html,
    score_text,
    window_param,
)
from app.search_params import ANY_FOLDER, MAX_QUERY_CHARS, METHODS, SearchParams, contradictions
from lifecycle.documents import (
    document_file,
    facets,
    page_as,
    read_document,
    restricted,
    search_as,
)
from lifecycle.personal import own_query, record_click, record_vote
from lifecycle.readers import NotFound
from lifecycle.serving import (
    MAX_RESULTS,
    PAGE_SIZE,
    filter_counts,
    paginate,
    shown_again,
)
from search.retrieval import Filters

served, index = runtime.current_index()
store = runtime.store()
reader = runtime.reader()
session = runtime.session_id()
formats, folders = facets(index, reader)  # of the documents this reader may read
url, link_notes = SearchParams.parse(st.query_params.to_dict(), formats)
if not url.query and st.session_state.get("last_search"):  # back through the menu
    url = st.session_state.last_search["params"]


def _seed(params: SearchParams) -> None:
    """Put the URL's search into the form's widgets that have no state (a new session, or
    back from another page, where Streamlit dropped the widgets' state)."""
    values = {
        "query": params.query,
        "formats": [f for f in params.formats if f in formats],
        "folder": params.folder if params.folder in folders else ANY_FOLDER,
        "after": date.fromisoformat(params.after) if params.after else None,
        "before": date.fromisoformat(params.before) if params.before else None,
        "method": params.method,
    }
    for key, value in values.items():
        if key not in st.session_state:
            st.session_state[key] = value


def _from_form() -> SearchParams:
    state = st.session_state
    after, before = state.get("after"), state.get("before")
    return SearchParams(
        query=state.get("query", "").strip(),
        method=state.get("method", "hybrid"),
        formats=tuple(state.get("formats") or ()),
        folder="" if state.get("folder") in (None, ANY_FOLDER) else state["folder"],
        after=after.isoformat() if after else "",
        before=before.isoformat() if before else "",
    )


def _filters(params: SearchParams) -> Filters:
    return Filters.of(
        formats=list(params.formats),
        path_prefix=params.folder,
        modified_after=params.after,
        modified_before=params.before,
    )


def _restored(params: SearchParams, offset: int):
    """The results the reader's own logged query ``params.qid`` showed, or None."""
    logged = own_query(store, reader, params.qid) if params.qid else None
    if logged is None or logged.query != params.query or logged.index_version != served.version:
        return None
    shown = [(s.rank, s.doc_id) for s in logged.shown if s.rank > offset]
    filters = restricted(_filters(params), reader)
    return shown_again(index, shown, params.query, params.method, filters)


def _search(params: SearchParams, offset: int):
    return search_as(
        index,
        store,
        reader,
        params.query,
        session_id=session,
        version=served.version,
        k=PAGE_SIZE,
        offset=offset,
        method=params.method,
        filters=_filters(params),
        weaker=params.weaker,
        correct=not params.exact,
        experiment=runtime.experiment(),
    )


def _page(params: SearchParams) -> dict:
    """The page of results ``params`` names: the one on screen, the reader's own logged page
    again (Back, a reload, a bookmark: nothing logged again), or a new logged search. Its
    total (what can be paged through: the results above the relevance floor, or every one
    with weaker matches) comes from the search itself, so a corrected query pages through
    its own results."""
    last = st.session_state.get("last_search")
    if last and last["params"] == params:
        return last
    wanted = min(max(0, (params.page - 1) * PAGE_SIZE), MAX_RESULTS - PAGE_SIZE)
    logged = own_query(store, reader, params.qid) if params.qid else None
    if logged and logged.query == params.query and logged.index_version == served.version:
        found = page_as(
            index,
            reader,
            params.query,
            k=PAGE_SIZE,
            method=params.method,
            filters=_filters(params),
            weaker=params.weaker,
            correct=not params.exact,
        )
        page, took, qid = found.results, None, params.qid
        corrected, did_you_mean = found.corrected_query, found.did_you_mean
        pages = paginate(
            min(page.found, MAX_RESULTS), params.page, page.found > MAX_RESULTS, PAGE_SIZE
        )
        results = _restored(params, pages.offset) or []
    else:
        page = _search(params, wanted)
        pages = paginate(
            min(page.found, MAX_RESULTS), params.page, page.found > MAX_RESULTS, PAGE_SIZE
        )
        if pages.offset != wanted:  # past the last page: the last page
            page = _search(params, pages.offset)
        results, took, qid = page.results, page.took_ms, page.query_id
        corrected, did_you_mean = page.corrected_query, page.did_you_mean
    last = {
        "params": replace(params, page=pages.page, qid=qid),
        "pages": pages,
        "results": results,
        "took_ms": took,
        "version": served.version,
        "good_match": page.good_match,
        "held_back": page.held_back,
        "correction": correction_message(corrected, did_you_mean, params.query),
        "corrected": corrected or did_you_mean,
    }
    st.session_state.last_search = last
    return last


def _described(params: SearchParams) -> dict[str, str]:
    dates = " and ".join(
        x
        for x in (
            f"modified after {params.after}" if params.after else "",
            f"modified before {params.before}" if params.before else "",
        )
        if x
    )
    return {
        "format": "format " + " or ".join(params.formats),
        "folder": f"folder {params.folder}",
        "dates": dates,
    }


def _goto(page: int) -> None:
    st.session_state.goto_page = page


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
        settings = runtime.settings()
        return document_file(index, reader, doc_id, settings.docs, settings.sources_dir)
    except NotFound:
        return None


def _download(original, doc_id: str) -> bytes:
    """The original's bytes when they are still the indexed ones (read on click), else the
    indexed text: never what the path holds now."""
    if original is not None:
        try:
            return original.read()
        except NotFound:  # Changed is one: changed or swapped since the index was built
            pass
    return read_document(index, reader, doc_id).text.encode()


def _seed_votes(qid: int, results) -> None:
    """Show the votes in force on this page as the reader cast them (the store's record: a
    widget's own state is gone after Back or a reload)."""
    logged = own_query(store, reader, qid)
    in_force = logged.votes_in_force() if logged else {}
    for r in results:
        key = f"vote-{qid}-{r.rank}"
        if key not in st.session_state and r.doc_id in in_force:
            st.session_state[key] = 1 if in_force[r.doc_id] > 0 else 0


def _card(r, qid: int, lineage) -> None:
    score = score_text(r)
    with st.container(border=True, key=f"result-{qid}-{r.rank}"):
        st.markdown(result_html(r, lineage, qid, score), unsafe_allow_html=True)  # escaped there
        cols = st.columns([1, 1, 1, 5], vertical_alignment="center")
        vote_key = f"vote-{qid}-{r.rank}"
        with cols[0]:
            st.feedback("thumbs", key=vote_key, on_change=_vote, args=(vote_key, qid, r.doc_id))
        with cols[1]:
            original = _original(r.doc_id)
            st.download_button(
                "Download",
                data=lambda o=original, d=r.doc_id: _download(o, d),
                file_name=original.name if original else f"{r.doc_id.replace('/', '_')}.txt",
                key=f"download-{qid}-{r.rank}",
                on_click=_click,
                args=(qid, r.doc_id, r.rank, "download"),
            )
        with cols[2]:
            link = {"doc": r.doc_id, "qid": str(qid)}
            passage = passage_number(r.chunk_id)
            if passage is not None:
                link["passage"] = str(passage)
                if window_param(r):  # the snippet's own words, not the passage's heading
                    link["at"] = window_param(r)
            st.page_link(
                "views/document.py", label="Open", icon=":material/open_in_new:", query_params=link
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


def _pager(pages) -> None:
    if not (pages.has_previous or pages.has_next):
        return
    cols = st.columns([1, 1, 6], vertical_alignment="center")
    cols[0].button(
        "Previous", disabled=not pages.has_previous, on_click=_goto, args=(pages.page - 1,)
    )
    cols[1].button(
        "More results", disabled=not pages.has_next, on_click=_goto, args=(pages.page + 1,)
    )
    cols[2].caption(f"Page {pages.page} of {pages.last}")


def _show_weaker() -> None:
    st.session_state.goto_weaker = True


def _search_instead(exact: bool, text: str) -> None:
    st.session_state.goto_query = (text, exact)


def _spelling(last: dict) -> None:
    """ "Showing results for X. Search instead for Y" (or "Did you mean X?") with its link."""
    params = last["params"]
    if not last["correction"]:
        return
    st.info(last["correction"])
    if params.query and last["corrected"] and "Showing results" in last["correction"]:
        st.button(
            f"Search instead for “{params.query}”",
            on_click=_search_instead,
            args=(True, params.query),
            key="search-instead",
        )
    elif last["corrected"]:
        st.button(
            f"Search for “{last['corrected']}”",
            on_click=_search_instead,
            args=(False, last["corrected"]),
            key="did-you-mean",
        )


def _show(last: dict) -> None:
    params, results, pages = last["params"], last["results"], last["pages"]
    _spelling(last)
    if not last["good_match"]:  # decided by the best result of the search: the same on every page
        st.warning(
            "No good match: no document matches this question well. Try other words, or check "
            "the spelling."
        )
    if not results:
        filtered = bool(params.formats or params.folder or params.after or params.before)
        if filtered:
            counts = filter_counts(index, restricted(_filters(params), reader))
            why = filters_message(counts, _described(params))
            if why:
                st.warning(why)
        if last["good_match"]:
            st.info(empty_message(params.query, filtered, params.method))
        _held_back(last)
        return
    took = f" · {last['took_ms']:.0f} ms" if last["took_ms"] is not None else ""
    version = f" · index {last['version']}" if reader.admin else ""  # an operator's detail
    st.caption(f"{pages.label()} for “{md(params.query)}”{took}{version}")
    _seed_votes(params.qid, results)
    # the runs behind the index, for admins only: MLflow and Dagster show document text
    # to whoever reaches them, without a sign-in of their own
    lineage = runtime.version_links(last["version"]) if reader.admin else None
    for r in results:
        _card(r, params.qid, lineage)
    _pager(pages)
    _held_back(last)


def _held_back(last: dict) -> None:
    """How many weaker matches the relevance floor held back, and the control that shows them."""
    held, weaker = last["held_back"], last["params"].weaker
    message = held_back_message(held, weaker)
    if message:
        st.caption(message)
    if held and not weaker:
        noun = "match" if held == 1 else "matches"
        st.button(f"Show {held} weaker {noun}", on_click=_show_weaker, key="show-weaker")


st.title("Search")
_seed(url)
with st.form("search", border=False):
    st.text_input("Query", placeholder="e.g. vpn error 809", key="query", max_chars=MAX_QUERY_CHARS)
    cols = st.columns([2, 2, 2, 2, 1])
    cols[0].multiselect("Format", formats, key="formats")
    cols[1].selectbox("Folder", [ANY_FOLDER, *folders], key="folder")
    cols[2].date_input("Modified after", key="after")
    cols[3].date_input("Modified before", key="before")
    cols[4].selectbox("Method", list(METHODS), key="method")
    submitted = st.form_submit_button("Search", type="primary")

wanted = _from_form() if submitted else url
if not submitted and "goto_page" in st.session_state:
    wanted = url.at_page(st.session_state.pop("goto_page"))
if not submitted and st.session_state.pop("goto_weaker", False):
    wanted = replace(url, weaker=True, page=1, qid=None)
if not submitted and "goto_query" in st.session_state:
    text, exact = st.session_state.pop("goto_query")
    wanted = replace(url, query=text, exact=exact, page=1, qid=None)
    st.session_state["query"] = text
problems = contradictions(wanted.after, wanted.before)
for note in [] if submitted else link_notes:  # what of the link was ignored, and why
    st.info(md(note))
if submitted and not wanted.query:
    st.query_params.clear()
    st.session_state.pop("last_search", None)
    st.info(empty_message("", False, wanted.method))
elif problems:
    st.query_params.from_dict(replace(wanted, qid=None).to_url())
    for problem in problems:
        st.warning(problem)
elif wanted.query:
    shown = _page(wanted)
    if st.query_params.to_dict() != shown["params"].to_url():
        st.query_params.from_dict(shown["params"].to_url())
    _show(shown)
