"""``make bench-sync``: a source of N small documents (10,000 by default) on a local S3
server (moto, loopback), synced three times through the product's one sync service
(``lifecycle.sources.sync_sources``, what ``docsearch sources sync`` runs):

1. **first**: every object listed, downloaded, parsed, encoded and indexed; a version serves;
2. **noop**: nothing changed: the listing alone (no download, parse, encoding or new version);
3. **one change**: one object rewritten: that object downloaded and parsed, its chunks alone
   encoded, a new version over the corpus built from the cached vectors.

Everything runs in a temporary ``DOCSEARCH_HOME`` (an empty documents folder, the source's
mirror and the index). Prints one JSON object: ``first_sync_s``, ``noop_sync_s``,
``one_change_sync_s``, their counts, ``noop_share`` (noop / first) and the load average; exit
code 1 when the unchanged re-sync took more than 5% of the first sync's time.

    python -m scripts.bench_sync [--documents 10000] [--model M]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

BUCKET, PREFIX = "bench", "docs"
KEYS = {"BENCH_S3_KEY": "testing", "BENCH_S3_SECRET": "testing"}
TOPICS = (
    "travel hotel receipt flight", "parental leave weeks policy", "vpn error firewall tunnel",
    "canteen menu lunch vegetarian", "laptop warranty repair", "expense report approval",
    "security badge visitor", "pension contribution payroll", "printer toner floor",
    "holiday calendar public", "onboarding checklist manager", "parking garage permit",
)  # fmt: skip
MAX_NOOP_SHARE = 0.05


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_moto(log: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    moto = Path(sys.executable).parent / "moto_server"
    proc = subprocess.Popen(
        [str(moto), "-H", "127.0.0.1", "-p", str(port)],
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/moto-api/", timeout=5).close()
            return proc, url
        except OSError:
            time.sleep(0.5)
    proc.terminate()
    raise RuntimeError(f"moto did not start: {log.read_text()[-2000:]}")


def document(i: int, edition: int = 1) -> bytes:
    """A small memo (a title and three sentences) with words of its own."""
    topic = TOPICS[i % len(TOPICS)]
    return (
        f"Memo {i}: {topic}\n\nThis memo number {i} (edition {edition}) is about {topic}. "
        f"Reference code R{i * 7919 % 100003} applies to team {i % 97}. "
        f"Questions go to desk {i % 13} before day {i % 28 + 1}.\n"
    ).encode()


def key(i: int) -> str:
    return f"{PREFIX}/{i // 1000:02d}/memo-{i:05d}.txt"


def fill(client, n: int) -> float:
    started = time.perf_counter()
    client.create_bucket(Bucket=BUCKET)

    def put(i: int) -> None:
        client.put_object(Bucket=BUCKET, Key=key(i), Body=document(i))

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(put, range(n)))
    return time.perf_counter() - started


def timed_sync(settings) -> tuple[float, dict]:
    from lifecycle.sources import sync_sources

    started = time.perf_counter()
    outcome = sync_sources(settings, KEYS)
    return time.perf_counter() - started, outcome.as_dict()


def summary(report: dict) -> dict:
    index = report["index"] or {}
    return {
        **{k: report[k] for k in ("added", "updated", "deleted", "unchanged", "failed")},
        "listing_s": round(report["sources"][0]["listing_seconds"], 3),
        "new_version": bool(index),
        "chunks_embedded": index.get("chunks_embedded", 0),
        "chunks_reused": index.get("chunks_reused", 0),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=10_000)
    parser.add_argument("--model", help="encoder (default: the product's, DOCSEARCH_MODEL)")
    args = parser.parse_args(argv)

    import boto3

    from lifecycle.sources import add_source
    from search.settings import LIBRARY_ENVIRONMENT, Settings

    for name, value in LIBRARY_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    with tempfile.TemporaryDirectory(prefix="bench-sync-") as scratch:
        root = Path(scratch)
        (root / "docs").mkdir()
        proc, endpoint = start_moto(root / "moto.log")
        try:
            client = boto3.client(
                "s3", endpoint_url=endpoint, region_name="us-east-1",
                aws_access_key_id="testing", aws_secret_access_key="testing",
            )  # fmt: skip
            upload_s = fill(client, args.documents)
            overrides = {"model": args.model} if args.model else {}
            settings = Settings.from_env(home=str(root / "home"), docs=str(root / "docs"),
                                         database_url="", mlflow_uri="", **overrides)  # fmt: skip
            options = {
                "endpoint_url": endpoint,
                "access_key_env": "BENCH_S3_KEY",
                "secret_key_env": "BENCH_S3_SECRET",
            }
            add_source(settings, "bench", f"s3://{BUCKET}/{PREFIX}", options)
            load_before = os.getloadavg()
            first_s, first = timed_sync(settings)
            noop_s, noop = timed_sync(settings)
            changed = args.documents // 2  # an object that exists, whatever the size
            client.put_object(Bucket=BUCKET, Key=key(changed), Body=document(changed, edition=2))
            change_s, change = timed_sync(settings)
            load_after = os.getloadavg()
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    share = noop_s / first_s
    result = {
        "documents": args.documents,
        "encoder": settings.model,
        "encoder_backend": settings.encoder_backend,
        "upload_s": round(upload_s, 2),
        "first_sync_s": round(first_s, 2),
        "noop_sync_s": round(noop_s, 2),
        "one_change_sync_s": round(change_s, 2),
        "noop_share": round(share, 4),
        "noop_within_5_percent": share <= MAX_NOOP_SHARE,
        "first": summary(first),
        "noop": summary(noop),
        "one_change": summary(change),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
    }
    print(json.dumps(result))
    return 0 if share <= MAX_NOOP_SHARE else 1


if __name__ == "__main__":
    sys.exit(main())
