"""``docsearch search``: through the REST API when it answers (``remote``), else here, through
the same search service as the app and the API (``lifecycle.command_line``); the page shown
the same way whichever ran it, with the service's spelling correction and notices."""

from __future__ import annotations

import sys

from app.cli.arguments import (
    MAX_K,
    bounded_int,
    date_range,
    existing_dir,
    index_name,
    iso_date,
    query_text,
    user_name,
)
from app.cli.output import print_json
from app.cli.remote import api_for
from search.config import Fusion, Method
from search.settings import Settings

FORMATS = ("pdf", "docx", "html", "markdown", "text", "beir")


def cmd_search(args, settings: Settings) -> int:
    date_range(args.after, args.before)
    # another index, folder or fusion is the operator's experiment: only this machine has it
    elsewhere = args.index or args.fusion or args.name != settings.index_name
    api = None if elsewhere else api_for(settings, args.as_user)
    page = _through(api, args) if api else _here(args, settings)
    if args.json:
        print_json(page)
        return 0
    show(page)
    via = f"through the API at {api.base}" if api else "here"
    print(
        f"({len(page['results'])} results in {page['latency_ms']:.0f} ms, {via})", file=sys.stderr
    )
    return 0


def _through(api, args) -> dict:
    params = [("q", args.query), ("k", str(args.k)), ("method", args.method)]
    params += [("weaker", "true")] if args.weaker else []
    params += [("format", f) for f in args.format or ()]
    params += [(name, value) for name in ("path_prefix", "after", "before")
               if (value := getattr(args, name))]  # fmt: skip
    found = api.get("/v1/search", params)
    rows = [
        {
            **{key: r.get(key) for key in ("rank", "doc_id", "title", "score")},
            **{key: r.get(key) for key in ("bm25_score", "dense_score", "chunk_id")},
            "snippet": r["snippet"],
            "highlights": r.get("highlights", []),
            "path": (r.get("metadata") or {}).get("path"),
            "replaced_by": r.get("replaced_by") or [],
        }
        for r in found["results"]
    ]
    return _page(args.query, found, rows, "api", found["took_ms"])


def _here(args, settings: Settings) -> dict:
    from lifecycle.command_line import command_line_reader, search_from_command_line

    who = command_line_reader(settings, args.as_user)  # a bad name fails before any load
    from search.retrieval import Filters

    filters = Filters.of(args.format or (), args.path_prefix or "", args.after or "",
                         args.before or "")  # fmt: skip
    found = search_from_command_line(
        settings, args.query, who, k=args.k, method=args.method, filters=filters,
        fusion=args.fusion, folder=args.index, name=args.name, weaker=args.weaker,
    )  # fmt: skip
    rows = [
        {
            "rank": r.rank,
            "doc_id": r.doc_id,
            "title": r.title,
            "score": r.shown_score,  # the calibrated relevance, as the app and the API show
            "bm25_score": r.bm25_score,
            "dense_score": r.dense_score,
            "chunk_id": r.chunk_id,
            "snippet": r.snippet.text,
            "highlights": [list(h) for h in r.snippet.highlights],
            "path": r.metadata.get("path"),
            "replaced_by": [{"doc_id": d, "title": t} for d, t in r.replaced_by],
        }
        for r in found.results
    ]
    page = {name: getattr(found, name, None) for name in ("query_id", "index_version")}
    page |= {name: getattr(found, name, None) for name in _SERVICE_SAYS}
    return _page(args.query, page, rows, "here", found.took_ms)


# what the search service says beside its results, shown as it says it (whichever way it ran):
# its spelling, and what the relevance floor held back
_SERVICE_SAYS = (
    "did_you_mean",
    "corrected_query",
    "notice",
    "found",
    "held_back",
    "floor",
    "good_match",
)


def _page(query: str, found: dict, rows: list[dict], via: str, took_ms: float) -> dict:
    return {
        "query": query,
        "query_id": found.get("query_id"),
        "index_version": found.get("index_version"),
        "latency_ms": round(float(took_ms), 1),
        **{name: found.get(name) for name in _SERVICE_SAYS},
        "via": via,
        "results": rows,
    }


def show(page: dict) -> None:
    """The page as text: what the service says first, then each result with its snippet."""
    for line in service_lines(page):
        print(line)
    if not page["results"] and page.get("good_match") is not False:
        print("No results. Try fewer or different words, or remove filters.")
    for r in page["results"]:
        print(f"{r['rank']:>2}. {r['title']}  [{r['doc_id']}]  score {r['score']:.3f}")
        print(f"    {marked(r['snippet'], r['highlights'])}")
        for newer in r.get("replaced_by") or []:
            print(f"    replaced by {newer['title']}  [{newer['doc_id']}]")
    if page["query_id"] is not None:
        print(
            f"query {page['query_id']}: `docsearch feedback click|vote {page['query_id']} DOC_ID`, "
            f"`docsearch lineage {page['query_id']}`",
            file=sys.stderr,
        )


def service_lines(page: dict) -> list[str]:
    """The spelling correction and any notice, in the app's words."""
    lines = []
    corrected, suggested = page.get("corrected_query"), page.get("did_you_mean")
    if corrected:
        lines.append(f'Showing results for "{corrected}". Search instead for "{page["query"]}".')
    elif suggested:
        lines.append(f'Did you mean "{suggested}"?')
    if page.get("notice"):
        lines.append(str(page["notice"]))
    if page.get("good_match") is False:
        lines.append("No good match: no document matches this query well.")
    if page.get("held_back"):
        lines.append(
            f"{page['held_back']} weaker matches held back below the relevance floor; "
            "--weaker shows them."
        )
    return lines


def marked(text: str, highlights) -> str:
    """The snippet with the query's terms in **bold** (as ``Snippet.render`` marks them)."""
    out, last = [], 0
    for start, end in highlights:
        out += [text[last:start], f"**{text[start:end]}**"]
        last = end
    return "".join(out) + text[last:]


def add_commands(sub, settings: Settings) -> None:
    p = sub.add_parser("search", help="search the served index (through the API when it answers)")
    p.add_argument("query", type=query_text)
    p.add_argument(
        "--index", type=existing_dir, help="an index folder (default: the version that serves)"
    )
    p.add_argument(
        "--name",
        type=index_name,
        default=settings.index_name,
        help="index name (default: %(default)s)",
    )
    p.add_argument(
        "--k",
        type=bounded_int(1, MAX_K),
        default=10,
        help=f"results, 1 to {MAX_K} (default: %(default)s)",
    )
    p.add_argument("--method", choices=[m.value for m in Method], default=Method.HYBRID.value)
    p.add_argument("--fusion", choices=[f.value for f in Fusion], help="another fusion (runs here)")
    p.add_argument(
        "--weaker",
        action="store_true",
        help="also show the matches below the relevance floor (held back by default)",
    )
    p.add_argument(
        "--format", action="append", choices=FORMATS, help="only this format (repeatable)"
    )
    p.add_argument("--path-prefix", help="only documents under this folder")
    p.add_argument("--after", type=iso_date, help="modified on or after this date (YYYY-MM-DD)")
    p.add_argument("--before", type=iso_date, help="modified before this date (YYYY-MM-DD)")
    p.add_argument(
        "--as-user",
        type=user_name,
        metavar="NAME",
        help="only what user NAME may read, under the access policy in force (through the "
        "API with the token kept for NAME when it answers); without it the command shows "
        "every document: it is an operator's tool",
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_search)
