"""Limits the running server enforces before any app code or authentication: ``docsearch api``
on a free port, spoken to over raw sockets (so a request can be as malformed or as large as an
attacker makes it), its memory read from /proc."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from pathlib import Path

import pytest

from app.api.limits import MAX_HEAD_BYTES, MAX_QUERY_CHARS, MAX_URL_BYTES
from tests.conftest import free_port, wait_for_http

ROOT = Path(__file__).resolve().parents[2]
PROBLEM = "application/problem+json"
MB = 1024 * 1024
HEAD_TIMEOUT_S = 1.5  # the server's, shortened for the slow-head test
SERVE = (
    "import sys, app.api.server as server; server.HEAD_TIMEOUT_S = {timeout}; "
    "from app.cli.main import main; sys.exit(main(['api', '--port', '{port}']))"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """(port, pid) of ``docsearch api`` over an empty home (no index is needed to refuse)."""
    home = tmp_path_factory.mktemp("limits-home")
    port = free_port()
    env = {
        **os.environ,
        "DOCSEARCH_HOME": str(home),
        "DOCSEARCH_AUTH_SECRETS": str(home / "no-secrets.toml"),
        "PYTHONPATH": str(ROOT),
    }
    code = SERVE.format(timeout=HEAD_TIMEOUT_S, port=port)
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/healthz", timeout=120, proc=proc)
        yield port, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def _exchange(
    port: int, *parts: bytes | Iterable[bytes], timeout: float = 10.0
) -> tuple[int, dict, bytes]:
    """Send ``parts`` (bytes, or iterables of bytes sent as they come) on a new connection,
    then read the answer: (status, headers, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
        try:
            for part in parts:
                for piece in [part] if isinstance(part, bytes) else part:
                    conn.sendall(piece)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and stopped listening: its answer is still to be read
        raw = b""
        while b"\r\n\r\n" not in raw or len(raw) < _length(raw):
            chunk = conn.recv(65536)
            if not chunk:
                break
            raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:] if ": " in line)
    return int(lines[0].split()[1]), headers, body


def _length(raw: bytes) -> int:
    head, _, _ = raw.partition(b"\r\n\r\n")
    for line in head.decode("latin-1").lower().split("\r\n"):
        if line.startswith("content-length:"):
            return len(head) + 4 + int(line.split(":")[1])
    return len(raw)


def _get(path: str, headers: str = "", method: str = "GET") -> bytes:
    return f"{method} {path} HTTP/1.1\r\nHost: localhost\r\n{headers}\r\n".encode()


def _problem(headers: dict, body: bytes, status: int) -> dict:
    assert headers["content-type"] == PROBLEM
    found = json.loads(body)
    assert found["status"] == status and found["detail"]
    return found


@pytest.mark.slow
def test_an_8_mb_header_is_refused_within_a_second_and_memory_stays_flat(server):
    port, pid = server
    before = _rss_mb(pid)
    started = time.monotonic()
    head = _get("/healthz").removesuffix(b"\r\n")
    status, headers, body = _exchange(port, head, b"X-Big: " + b"a" * (8 * MB), b"\r\n\r\n")
    took = time.monotonic() - started
    assert status == 431 and took < 1.0, (status, took)
    detail = _problem(headers, body, 431)["detail"]
    assert f"{MAX_HEAD_BYTES:,} bytes" in detail  # 65,536: the limit is named
    # the 8 MB were read and dropped, never kept: the server grew by well under their size
    assert _rss_mb(pid) - before < 4, (before, _rss_mb(pid))


@pytest.mark.slow
def test_healthz_stays_fast_while_big_headers_arrive(server):
    port, _ = server
    refused: list[int] = []
    head, megabyte = _get("/v1/index").removesuffix(b"\r\n") + b"X-Big: ", b"b" * MB

    def attacker():  # a 40 MB header, a megabyte every 20 ms
        refused.append(_exchange(port, head, _trickle(megabyte, 40, 0.02))[0])

    threads = [threading.Thread(target=attacker) for _ in range(3)]
    for thread in threads:
        thread.start()
    waits = []
    while any(thread.is_alive() for thread in threads) or len(waits) < 5:
        started = time.monotonic()
        status, _, body = _exchange(port, _get("/healthz"))
        waits.append(time.monotonic() - started)
        assert (status, json.loads(body)) == (200, {"status": "ok"})
        time.sleep(0.05)
    assert refused == [431] * 3
    # was 6.5 s with three 40 MB headers arriving (15 s on this machine at load 16, where
    # this took 0.46 s at most, the attackers and the server sharing its 2 cores)
    assert max(waits) < 1.0, waits


def _trickle(piece: bytes, count: int, pause: float):
    for _ in range(count):
        yield piece
        time.sleep(pause)


@pytest.mark.slow
def test_a_100000_character_query_is_a_problem_naming_the_limit(server):
    port, _ = server
    status, headers, body = _exchange(port, _get("/v1/search?q=" + "x" * 100_000))
    detail = _problem(headers, body, 414)["detail"]
    assert f"{MAX_URL_BYTES:,} bytes" in detail and f"{MAX_QUERY_CHARS:,} characters" in detail


@pytest.mark.slow
def test_malformed_slow_and_oversized_requests_are_problems_too(server):
    port, _ = server
    status, headers, body = _exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n")
    assert "not valid HTTP/1.1" in _problem(headers, body, 400)["detail"]
    # a head that stops arriving: 408 once HEAD_TIMEOUT_S has passed
    started = time.monotonic()
    status, headers, body = _exchange(port, b"GET /healthz HTTP/1.1\r\nX-Slow: a")
    took = time.monotonic() - started
    assert status == 408 and HEAD_TIMEOUT_S - 0.1 < took < HEAD_TIMEOUT_S + 2, took
    _problem(headers, body, 408)
    # an 8 MB body, declared or streamed in chunks, is refused before any token is looked at
    json_body = "Content-Type: application/json\r\n"
    declared = _get("/v1/chat", f"Content-Length: {8 * MB}\r\n{json_body}", "POST")
    status, headers, body = _exchange(port, declared, b"{" + b" " * (8 * MB - 2) + b"}")
    _problem(headers, body, 413)
    chunk = b"%x\r\n%s\r\n" % (MB, b" " * MB)
    chunked = _get("/v1/chat", f"Transfer-Encoding: chunked\r\n{json_body}", "POST")
    status, headers, body = _exchange(port, chunked, b"1\r\n{\r\n", *[chunk] * 8)
    _problem(headers, body, 413)


@pytest.mark.slow
def test_300_made_up_tokens_get_429_long_before_the_end(server):
    port, _ = server
    codes = []
    for i in range(300):
        # each claims another address: the server counts the socket's, not X-Forwarded-For
        forged = f"X-Forwarded-For: 10.0.{i // 250}.{i % 250}\r\n"
        request = _get("/v1/index", f"Authorization: Bearer ds_{i}\r\n{forged}")
        status, headers, _ = _exchange(port, request)
        codes.append(status)
    assert codes[:20] == [401] * 20  # api_auth_failures: 20 a minute from one address
    assert codes[20:] == [429] * 280
    assert 1 <= int(headers["retry-after"]) <= 60
