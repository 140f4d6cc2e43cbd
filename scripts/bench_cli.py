"""``make bench-cli``: the wall time of ``docsearch`` commands as a person types them, each a
fresh process, in a temporary home with the sample index.

- ``users_list_s``: ``docsearch users list`` (needs no index and no model);
- ``search_local_s``: ``docsearch search QUERY --as-user bench`` with no API answering: the
  command loads the served index and its encoder itself;
- ``search_with_api_s``: the same command while ``docsearch api`` serves (warmed up, /readyz):
  it sends bench's kept token to the API.

Each figure is the median of ``--calls`` calls (default 5); every call's time is printed too,
with the machine's load average before and after (the machine may be shared) and the median
CPU time of each command's process (``cpu_s``: close to its wall time on an idle machine; the
API server's share of a search through it is not in it, the page's ``latency_ms`` is). Prints one JSON
object. The embedding cache and exported encoders of ``--share-from`` (a DOCSEARCH_HOME) are
reused, so nothing is embedded or exported twice.

    python -m scripts.bench_cli [--calls 5] [--share-from HOME] [--baseline DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from scripts.bench_load import ROOT, SAMPLE, environment, free_port, share

QUERY = "how many days of parental leave do I get"
USER = "bench"


def arguments(argv: list[str] | None):
    p = argparse.ArgumentParser(prog="bench_cli", description=__doc__.split("\n\n")[0])
    p.add_argument("--calls", type=int, default=5, help="calls per figure (the median is kept)")
    p.add_argument("--share-from", type=Path, help="a DOCSEARCH_HOME to reuse embeddings from")
    p.add_argument(
        "--baseline",
        type=Path,
        help="the source tree of another docsearch (`git archive REV | tar -x -C DIR`): its "
        "`users list` and `search` (run here, as the same user) are timed in the same run",
    )
    return p.parse_args(argv)


def docsearch(env: dict, *args: str) -> tuple[float, subprocess.CompletedProcess]:
    """One ``docsearch`` process: (wall seconds, its result); a failure stops the bench."""
    return docsearch_cpu(env, *args)[:2]


def docsearch_cpu(env: dict, *args: str) -> tuple[float, subprocess.CompletedProcess, float]:
    """``docsearch`` with the CPU seconds (user and system) the process used besides: on a
    busy machine the wall time is mostly waiting for a core, the CPU time is not."""
    cpu_before = _children_cpu()
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env=env,
        cwd=env.get("PYTHONPATH", ROOT),  # `-m` reads the package from here first
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    cpu = _children_cpu() - cpu_before
    if done.returncode != 0:
        raise SystemExit(f"bench_cli: docsearch {' '.join(args)} failed: {done.stderr[-2000:]}")
    return seconds, done, cpu


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(env: dict, calls: int, *args: str, via: str | None = None) -> dict:
    """The median and every wall time of ``calls`` runs of ``docsearch ARGS``; with ``via``,
    each ``--json`` page must say it ran that way."""
    times, cpu = [], []
    for _ in range(calls):
        seconds, done, used = docsearch_cpu(env, *args)
        if via is not None and json.loads(done.stdout)["via"] != via:
            raise SystemExit(f"bench_cli: the search ran {json.loads(done.stdout)['via']!r}")
        times.append(round(seconds, 3))
        cpu.append(used)
    return {
        "median_s": round(statistics.median(times), 3),
        "calls_s": times,
        "cpu_median_s": round(statistics.median(cpu), 3),
    }


def start_api(env: dict, port: int, log: Path) -> subprocess.Popen:
    """``docsearch api`` on 127.0.0.1:port, returned once /readyz says it is warmed up."""
    server = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "api", "--host", "127.0.0.1", "--port", str(port)],
        env=env, cwd=ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"bench_cli: the API exited: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as r:
                if r.status == 200:
                    return server
        except OSError:
            time.sleep(0.5)
    server.terminate()
    raise SystemExit("bench_cli: the API was not ready within 600 s")


def bench(args, home: Path) -> dict:
    share(home, args.share_from)
    port = free_port()
    env = environment(home, SAMPLE / "docs", "") | {"DOCSEARCH_API_PORT": str(port)}
    _, built = docsearch(env, "build", "--json")
    docsearch(env, "users", "add", USER, "--groups", "hr")  # keeps bench's token
    search = ("search", QUERY, "--as-user", USER, "--json")
    load = [round(os.getloadavg()[0], 2)]
    figures = {"users_list": timed(env, args.calls, "users", "list")}
    figures["search_local"] = timed(env, args.calls, *search, via="here")
    if args.baseline:  # before the API starts: the earlier code has no API path to take
        earlier = env | {"PYTHONPATH": str(args.baseline.resolve())}
        figures["baseline_users_list"] = timed(earlier, args.calls, "users", "list")
        figures["baseline_search"] = timed(earlier, args.calls, *search[:-1])
    server = start_api(env, port, home / "api.log")
    try:
        figures["search_with_api"] = timed(env, args.calls, *search, via="api")
    finally:
        server.terminate()
        server.wait(timeout=30)
    load.append(round(os.getloadavg()[0], 2))
    return {
        **{f"{name}_s": f["median_s"] for name, f in figures.items()},
        "calls_s": {name: f["calls_s"] for name, f in figures.items()},
        "cpu_s": {name: f["cpu_median_s"] for name, f in figures.items()},
        "query": QUERY,
        "documents": json.loads(built.stdout)["documents"],
        "machine": {"cpus": os.cpu_count(), "load_average_1m_before_after": load},
    }


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    with tempfile.TemporaryDirectory(prefix="docsearch-cli-") as home:
        print(json.dumps(bench(args, Path(home))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
