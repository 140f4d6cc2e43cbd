"""``make bench-load``: concurrent searches and feedback for a fixed time, through the app's
logging path and through the REST API at once, on loopback only; then every acknowledged
click and vote is looked up in the store.

- **app**: threads in this process, one per reader, calling the lifecycle services the
  Streamlit pages call (``search_as``, ``record_click``, ``record_vote``) on one shared loaded
  index and feedback store, as the Streamlit server's session threads do.
- **api**: ``docsearch api`` in a subprocess on 127.0.0.1, driven by locust users with bearer
  tokens (``scripts/bench_load_api.py``, a process of its own: locust patches the standard
  library with gevent).

Everything runs in a temporary ``DOCSEARCH_HOME`` with the sample index built from
``data/sample`` and users created through the users service. Prints one JSON object: per path
requests/s, p50/p95 latency (ms) and errors; feedback sent, acknowledged and stored. Exit code
1 when an acknowledged event is missing from the store, or a path acknowledged none.

    python -m scripts.bench_load [--seconds 30] [--app-users 4] [--api-users 4] [--model M]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
RATE_LIMIT = 1_000_000  # requests per minute per token: the bench measures, it is not limited


def arguments(argv: list[str] | None):
    p = argparse.ArgumentParser(prog="bench_load", description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=30.0, help="how long both paths run")
    p.add_argument("--app-users", type=int, default=4, help="reader threads on the app path")
    p.add_argument("--api-users", type=int, default=4, help="locust users on the REST API")
    p.add_argument("--model", default="", help="encoder (default: the product's default)")
    p.add_argument("--docs", type=Path, default=SAMPLE / "docs")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument(
        "--share-from",
        type=Path,
        help="a DOCSEARCH_HOME whose embedding cache and exported encoders the run reuses "
        "(read through links; nothing else of it is touched)",
    )
    return p.parse_args(argv)


def share(home: Path, source: Path | None) -> None:
    """Link the embedding cache and the exported encoders of ``source`` into ``home``, so a
    run does not embed the sample or export the encoder again."""
    if source is None:
        return
    for part in ("cache", "models/exported"):
        (source / part).mkdir(parents=True, exist_ok=True)
        (home / part).parent.mkdir(parents=True, exist_ok=True)
        (home / part).symlink_to((source / part).resolve(), target_is_directory=True)


def environment(home: Path, docs: Path, model: str) -> dict[str, str]:
    """This process's environment without any DOCSEARCH_ setting of the caller's, pointed at
    ``home``; offline."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCSEARCH_")}
    env |= {
        "DOCSEARCH_HOME": str(home),
        "DOCSEARCH_DOCS": str(docs),
        "DOCSEARCH_API_RATE_LIMIT": str(RATE_LIMIT),
        "HF_HUB_OFFLINE": "1",
        "PYTHONPATH": str(ROOT),
    }
    if model:
        env["DOCSEARCH_MODEL"] = model
    return env


def prepare(app_users: int, api_users: int) -> tuple[dict, list, list[str]]:
    """Build the index (``docsearch build``) and create the readers (the users service):
    (build summary, app readers, API tokens)."""
    from app.cli import main as cli
    from lifecycle.identity import Identities
    from search.settings import Settings

    out = tempfile.SpooledTemporaryFile(mode="w+")
    with contextlib.redirect_stdout(out):
        if cli(["build", "--json"]) != 0:
            raise SystemExit("bench_load: the sample index could not be built")
    out.seek(0)
    built = json.loads(out.read().strip().splitlines()[-1])
    identities = Identities(Settings.from_env().database_url)
    try:
        for i in range(app_users):
            identities.add_user(f"load-app-{i}")
        readers = [identities.user(f"load-app-{i}") for i in range(app_users)]
        tokens = [identities.add_user(f"load-api-{i}") for i in range(api_users)]
    finally:
        identities.close()
    return built, readers, tokens


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_api(env: dict, port: int, log: Path, token: str, query: str) -> subprocess.Popen:
    """``docsearch api`` on 127.0.0.1:port, answering a first (warm-up) search."""
    server = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "api", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/v1/search?" + urllib.parse.urlencode({"q": query})
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"bench_load: the API exited: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                if response.status == 200:
                    return server
        except OSError:
            time.sleep(0.5)
    server.terminate()
    raise SystemExit("bench_load: the API did not answer within 180 s")


def figures(latencies: dict[str, list[float]], errors: dict[str, int], seconds: float) -> dict:
    """requests/s, p50/p95 ms and errors, overall and per operation."""

    def one(values: list[float], failed: int) -> dict:
        done = len(values) + failed
        return {
            "requests": done,
            "requests_per_s": round(done / seconds, 2),
            "p50_ms": round(float(np.percentile(values, 50)), 1) if values else None,
            "p95_ms": round(float(np.percentile(values, 95)), 1) if values else None,
            "errors": failed,
        }

    every = [v for values in latencies.values() for v in values]
    return {
        **one(every, sum(errors.values())),
        "operations": {op: one(latencies[op], errors[op]) for op in ("search", "click", "vote")},
    }


class AppPath:
    """Readers in threads calling the services the Streamlit search page calls."""

    def __init__(self, settings, readers: list, queries: list[str], seed: int) -> None:
        from lifecycle.access import served_index
        from lifecycle.feedback import FeedbackStore
        from lifecycle.serving import LoadedIndexes, resolve_serving

        self.served = resolve_serving(settings)
        self.index = served_index(settings, LoadedIndexes(), self.served)[0]
        self.store = FeedbackStore(settings.feedback_url)  # one per process, as the app's
        self.readers, self.queries, self.seed = readers, queries, seed
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.messages: list[str] = []
        self.sent = {"click": 0, "vote": 0}
        self.acked: dict[str, list[int]] = {"click": [], "vote": []}
        self._lock = threading.Lock()

    def _timed(self, op: str, call, *args, **kwargs):
        started = time.perf_counter()
        try:
            value = call(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - a failure under load is a figure, not a stop
            with self._lock:
                self.errors[op] += 1
                if len(self.messages) < 10:
                    self.messages.append(f"{op}: {type(exc).__name__}: {str(exc)[:200]}")
            return None
        with self._lock:
            self.latencies[op].append((time.perf_counter() - started) * 1000)
            if op in self.acked:
                self.acked[op].append(int(value))
        return value

    def reader_loop(self, number: int, deadline: float) -> None:
        from lifecycle.documents import search_as
        from lifecycle.personal import record_click, record_vote
        from lifecycle.readers import new_session

        reader = self.readers[number]
        session, rng = new_session(reader), random.Random(self.seed + 1000 + number)
        while time.monotonic() < deadline:
            query = rng.choice(self.queries)
            page = self._timed(
                "search", search_as, self.index, self.store, reader, query,
                session_id=session, version=self.served.version, k=10, method="hybrid",
            )  # fmt: skip
            if page is None or not page.results:
                continue
            shown = rng.choice(page.results)
            with self._lock:
                self.sent["click"] += 1
                self.sent["vote"] += 1
            qid, doc_id = page.query_id, shown.doc_id
            self._timed("click", record_click, self.store, reader, qid, doc_id, rank=shown.rank)
            vote = rng.choice((1, -1))
            self._timed("vote", record_vote, self.store, reader, vote, qid, doc_id)

    def run(self, seconds: float) -> dict:
        deadline = time.monotonic() + seconds
        started = time.perf_counter()
        threads = [
            threading.Thread(target=self.reader_loop, args=(i, deadline), daemon=True)
            for i in range(len(self.readers))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        return {
            "seconds": round(elapsed, 2),
            "users": len(self.readers),
            **figures(self.latencies, self.errors, elapsed),
            "error_messages": self.messages,
        }


def stored_feedback(settings, acked: list[dict[str, list[int]]]) -> dict:
    """Every acknowledged click and vote looked up in the store by its id."""
    from lifecycle.feedback import FeedbackStore

    store = FeedbackStore(settings.feedback_url)
    try:
        stored = {"click": {r["id"] for r in store.rows("clicks")}}
        stored["vote"] = {r["id"] for r in store.rows("votes")}
    finally:
        store.close()
    missing = {kind: sorted({i for a in acked for i in a[kind]} - stored[kind]) for kind in stored}
    return {
        "acknowledged": sum(len(a[kind]) for a in acked for kind in stored),
        "stored": {"clicks": len(stored["click"]), "votes": len(stored["vote"])},
        "missing": missing,
        "all_stored": not any(missing.values()),
    }


def run_api_path(env: dict, home: Path, host: str, tokens, queries, args) -> subprocess.Popen:
    config = home / "locust.json"
    config.write_text(
        json.dumps(
            {
                "host": host,
                "tokens": tokens,
                "queries": queries,
                "users": args.api_users,
                "seconds": args.seconds,
                "seed": args.seed,
            }
        )
    )
    return subprocess.Popen(
        [sys.executable, "-m", "scripts.bench_load_api", str(config)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=(home / "locust.log").open("w"),
        text=True,
    )


def bench(args, home: Path) -> dict:
    from search.settings import Settings

    share(home, args.share_from)
    env = environment(home, args.docs, args.model)
    os.environ.clear()
    os.environ.update(env)
    settings = Settings.from_env()
    queries = [json.loads(line)["text"] for line in (SAMPLE / "queries.jsonl").open()]
    built, readers, tokens = prepare(args.app_users, args.api_users)
    port = free_port()
    server = start_api(env, port, home / "api.log", tokens[0], queries[0])
    try:
        app = AppPath(settings, readers, queries, args.seed)
        load_before = os.getloadavg()
        locust = run_api_path(env, home, f"http://127.0.0.1:{port}", tokens, queries, args)
        app_figures = app.run(args.seconds)
        out, _ = locust.communicate(timeout=args.seconds + 120)
        if locust.returncode != 0:
            raise SystemExit(f"bench_load: locust failed: {(home / 'locust.log').read_text()}")
        api_figures = json.loads(out.strip().splitlines()[-1])
    finally:
        server.terminate()
        server.wait(timeout=30)
    api_acked = api_figures.pop("acknowledged")
    return {
        "model": settings.model,
        "index_version": app.served.version,
        "documents": built["documents"],
        "chunks": built["chunks"],
        "machine": {"cpus": os.cpu_count(), "load_average_1m_before": round(load_before[0], 2)},
        "app": app_figures,
        "api": api_figures,
        "feedback": {
            "sent": {"app": app.sent, "api": api_figures.pop("sent")},
            **stored_feedback(settings, [app.acked, api_acked]),
            "acknowledged_by_path": {
                "app": sum(map(len, app.acked.values())),
                "api": sum(map(len, api_acked.values())),
            },
        },
    }


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    with tempfile.TemporaryDirectory(prefix="docsearch-load-") as home:
        report = bench(args, Path(home))
    print(json.dumps(report))
    feedback = report["feedback"]
    return 0 if feedback["all_stored"] and all(feedback["acknowledged_by_path"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
