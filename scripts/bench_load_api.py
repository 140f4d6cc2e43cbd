"""The REST API half of ``make bench-load``: locust users on loopback, each searching
(``GET /v1/search``) then clicking and voting on one result it was shown (``POST
/v1/feedback``), for a fixed time. Run by ``scripts/bench_load.py`` in a process of its own
(locust patches the standard library with gevent on import); prints one JSON object.

    python -m scripts.bench_load_api CONFIG.json   # {"host", "tokens", "queries", "users",
                                                   #  "seconds", "seed"}
"""

from __future__ import annotations

import itertools
import json
import random
import sys
import time

import gevent
from locust import FastHttpUser, constant, task
from locust.env import Environment

CONFIG: dict = {}
ACKED: dict[str, list[int]] = {"click": [], "vote": []}  # ids the API answered 201 with
SENT = {"click": 0, "vote": 0}
_next_user = itertools.count()


class ApiReader(FastHttpUser):
    """One person with a bearer token: search, then click and vote on a result shown."""

    wait_time = constant(0)

    def on_start(self) -> None:
        number = next(_next_user)
        tokens = CONFIG["tokens"]
        self.headers = {"Authorization": f"Bearer {tokens[number % len(tokens)]}"}
        self.random = random.Random(CONFIG["seed"] + number)

    @task
    def search_and_feedback(self) -> None:
        query = self.random.choice(CONFIG["queries"])
        with self.client.get(
            "/v1/search",
            params={"q": query, "k": 10},
            headers=self.headers,
            name="search",
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
                return
            page = response.json()
        if not page["results"]:
            return
        doc_id = self.random.choice(page["results"])["doc_id"]
        qid = page["query_id"]
        self._feedback("click", {"kind": "click", "query_id": qid, "doc_id": doc_id})
        vote = self.random.choice((1, -1))
        self._feedback("vote", {"kind": "vote", "query_id": qid, "doc_id": doc_id, "value": vote})

    def _feedback(self, kind: str, body: dict) -> None:
        SENT[kind] += 1
        with self.client.post(
            "/v1/feedback", json=body, headers=self.headers, name=kind, catch_response=True
        ) as response:
            if response.status_code != 201:
                response.failure(f"HTTP {response.status_code}: {response.text[:200]}")
                return
            ACKED[kind].append(int(response.json()["id"]))


def entry_figures(entry, seconds: float) -> dict:
    """Throughput, latency percentiles and errors of one locust stats entry."""
    return {
        "requests": entry.num_requests,
        "requests_per_s": round(entry.num_requests / seconds, 2),
        "p50_ms": entry.get_response_time_percentile(0.5),
        "p95_ms": entry.get_response_time_percentile(0.95),
        "errors": entry.num_failures,
    }


def run(config: dict) -> dict:
    CONFIG.update(config)
    # stop_timeout: at the end each user finishes the search and feedback it is in (nothing
    # sent is cut off half-way, so every event sent is answered)
    env = Environment(user_classes=[ApiReader], host=config["host"], stop_timeout=60)
    runner = env.create_local_runner()
    started = time.perf_counter()
    runner.start(config["users"], spawn_rate=config["users"])
    gevent.sleep(config["seconds"])
    runner.quit()
    seconds = time.perf_counter() - started
    errors = [
        {"name": e.name, "error": str(e.error)[:200], "count": e.occurrences}
        for e in env.stats.errors.values()
    ]
    return {
        "seconds": round(seconds, 2),
        "users": config["users"],
        **entry_figures(env.stats.total, seconds),
        "operations": {
            name: entry_figures(env.stats.get(name, method), seconds)
            for name, method in (("search", "GET"), ("click", "POST"), ("vote", "POST"))
        },
        "error_messages": errors[:10],
        "sent": dict(SENT),
        "acknowledged": {k: sorted(v) for k, v in ACKED.items()},
    }


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as config_file:
        print(json.dumps(run(json.load(config_file))))
