"""``make bench-ready``: how long a start of the search app and the REST API takes to be ready
(``scripts/serve.py app api``, as ``make run`` starts them: ready once the API's /readyz says it
is warmed up and the app's first search page rendered), then how long chat turns take once it
is: through the API (``POST /v1/chat``) and through the app's service
(``lifecycle.conversation.ask`` on an index loaded as the app loads it), and a search page of
a new session.

Runs in a temporary home with the sample index; ``--share-from`` (a DOCSEARCH_HOME) lends its
embedding cache and exported encoders, so a repeated run finds the chat's sentence vectors
embedded by an earlier one (``embeddings_kept_before_start``: vectors in that cache before the
start, chunks and sentences). Prints one JSON object.

    python -m scripts.bench_ready [--turns 10] [--share-from HOME]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from scripts.bench_cli import USER, docsearch
from scripts.bench_load import ROOT, SAMPLE, environment, free_port, share


def arguments(argv: list[str] | None):
    p = argparse.ArgumentParser(prog="bench_ready", description=__doc__.split("\n\n")[0])
    p.add_argument("--turns", type=int, default=10, help="chat turns per path")
    p.add_argument("--share-from", type=Path, help="a DOCSEARCH_HOME to reuse embeddings from")
    return p.parse_args(argv)


def start(env: dict, log: Path) -> tuple[subprocess.Popen, dict]:
    """``serve.py app api``; returns once it printed its addresses: (the process, what its
    lines said: seconds to ready, to the API warmed up, the first page's render time)."""
    started = time.monotonic()
    serve = subprocess.Popen(
        [sys.executable, str(ROOT / "scripts" / "serve.py"), "app", "api"], env=env, cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip
    said, lines = {}, []
    for line in serve.stdout:
        lines.append(line)
        if "REST API warmed up" in line:
            said["api_warmed_up_s"] = round(time.monotonic() - started, 1)
        if match := re.search(r"rendered a search with (\d+) results in ([\d.]+) s", line):
            said["first_page_results"] = int(match.group(1))
            said["first_page_render_s"] = float(match.group(2))
        if line.startswith("docsearch is running"):
            said["ready_s"] = round(time.monotonic() - started, 1)
            return serve, said
    log.write_text("".join(lines))
    raise SystemExit(f"bench_ready: serve.py stopped before it was ready:\n{''.join(lines)}")


def seconds(times: list[float]) -> dict:
    ordered = sorted(times)
    return {
        "first": round(times[0], 3),
        "median": round(statistics.median(times), 3),
        "p95": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 3),
    }


def api_turns(port: int, token: str, questions: list[str]) -> list[float]:
    times = []
    for question in questions:
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/v1/chat",
            data=json.dumps({"message": question}).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=120) as response:
            json.loads(response.read())
        times.append(time.perf_counter() - started)
    return times


def app_service_turns(questions: list[str]) -> list[float]:
    """Turns as the app's chat page runs them: one loaded index, the kept sentence vectors."""
    from lifecycle.access import current_policy
    from lifecycle.conversation import ask
    from lifecycle.feedback import FeedbackStore
    from lifecycle.identity import Identities
    from lifecycle.readers import new_session
    from lifecycle.serving import LoadedIndexes, resolve_serving
    from lifecycle.warmup import keep_sentence_vectors
    from search.settings import Settings

    settings = Settings.from_env()
    keep_sentence_vectors(settings)
    served = resolve_serving(settings)
    index = LoadedIndexes().index(served, current_policy(settings).policy)
    reader = Identities(settings.feedback_url).user(USER)
    store = FeedbackStore(settings.feedback_url)
    times = []
    for question in questions:
        started = time.perf_counter()
        ask(index, store, question, reader=reader, session_id=new_session(reader),
            version=served.version)  # fmt: skip
        times.append(time.perf_counter() - started)
    store.close()
    return times


def kept_vectors(home: Path) -> int:
    import sqlite3

    path = home / "cache" / "embeddings.sqlite"
    if not path.is_file():
        return 0
    with sqlite3.connect(path) as db:
        return db.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0]


def bench(args, home: Path) -> dict:
    from app.first_page import fetch_search_page

    share(home, args.share_from)
    ports = {"DOCSEARCH_APP_PORT": str(free_port()), "DOCSEARCH_API_PORT": str(free_port())}
    env = environment(home, SAMPLE / "docs", "") | ports
    docsearch(env, "build", "--json")
    _, added = docsearch(env, "users", "add", USER, "--groups", "hr")
    token = added.stdout.strip().splitlines()[-1]
    os.environ.clear()
    os.environ.update(env)
    rows = [json.loads(line) for line in (SAMPLE / "chat_questions.jsonl").open()]
    questions = [r["question"] for r in rows if r.get("kind") == "answer"]
    kept_before = kept_vectors(home)
    load = [round(os.getloadavg()[0], 2)]
    serve, said = start(env, home / "serve.log")
    try:
        api = api_turns(int(ports["DOCSEARCH_API_PORT"]), token, questions[: args.turns])
        page = fetch_search_page(f"http://127.0.0.1:{ports['DOCSEARCH_APP_PORT']}", questions[0])
        app = app_service_turns(questions[args.turns : 2 * args.turns])
    finally:
        os.killpg(serve.pid, signal.SIGINT)
        serve.wait(timeout=60)
    load.append(round(os.getloadavg()[0], 2))
    return {
        **said,
        "chat_turn_api_s": seconds(api),
        "chat_turn_app_service_s": seconds(app),
        "search_page_new_session_s": page.seconds,
        "embeddings_kept_before_start": kept_before,
        "machine": {"cpus": os.cpu_count(), "load_average_1m_before_after": load},
    }


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    with tempfile.TemporaryDirectory(prefix="docsearch-ready-") as home:
        print(json.dumps(bench(args, Path(home))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
