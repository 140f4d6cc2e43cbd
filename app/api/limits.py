"""Bounds on what one client can ask, each enforced before anything costlier runs: the size of a
request's head (URL and headers) and body, requests per minute per token, and failed sign-ins
per minute per client address.

The server (``app.api.server``) refuses an oversized head while it is still arriving; the
middleware here checks head and body again, so the app keeps its bounds under any ASGI server
(a test client, another server in front). Every refusal is problem+json.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque

from app.api.problems import ApiError, problem

MAX_URL_BYTES = 32 * 1024  # a 1000-character query of 4-byte characters, percent-encoded: 12 KB
MAX_HEAD_BYTES = 64 * 1024  # request line and every header together
MAX_BODY_BYTES = 64 * 1024
MAX_QUERY_CHARS = 1000
MAX_MESSAGE_CHARS = 4000
MAX_K = 100
MAX_OFFSET = 1000
MAX_SIMILAR = 50


def url_too_long(size: int | None = None) -> str:
    """Why a URL is refused (414), with the limit a client needs to know."""
    sent = f"is {size:,} bytes, " if size else ""
    return (
        f"the request's URL {sent}over the limit of {MAX_URL_BYTES:,} bytes; a query has at "
        f"most {MAX_QUERY_CHARS:,} characters"
    )


def head_too_large(size: int | None = None) -> str:
    """Why a request's headers are refused (431)."""
    sent = f"are {size:,} bytes, " if size else "are "
    return (
        f"the request's URL and headers {sent}over the limit of {MAX_HEAD_BYTES:,} bytes; "
        "send fewer or shorter headers"
    )


def body_too_large(limit: int = MAX_BODY_BYTES) -> str:
    return f"the request body is over {limit:,} bytes; send a shorter message"


class RequestLimits:
    """ASGI middleware: a URL over MAX_URL_BYTES (414), a head over MAX_HEAD_BYTES (431), or a
    body over ``body_limit`` bytes (413, by its Content-Length or as it streams in) is refused
    before the app reads the request."""

    def __init__(self, app, body_limit: int = MAX_BODY_BYTES) -> None:
        self.app, self.body_limit = app, body_limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = scope.get("headers") or []
        url = len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"") + 1
        head = url + sum(len(name) + len(value) + 4 for name, value in headers)  # ": ", CRLF
        if url > MAX_URL_BYTES:
            return await problem(414, url_too_long(url))(scope, receive, send)
        if head > MAX_HEAD_BYTES:
            return await problem(431, head_too_large(head))(scope, receive, send)
        declared = dict(headers).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.body_limit):
            return await problem(413, body_too_large(self.body_limit))(scope, receive, send)
        seen, over, started = 0, False, False

        async def limited():
            nonlocal seen, over
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.body_limit:
                over = True
                raise ApiError(413, body_too_large(self.body_limit))  # stops the app reading
            return message

        async def answer(message):
            # FastAPI answers any failure to read a body with its own 400: while nothing has
            # been sent, the app's answer to an oversized body is replaced by the 413 below
            nonlocal started
            if not over or started:
                started = True
                await send(message)

        try:
            await self.app(scope, limited, answer)
        except ApiError:
            if not over:
                raise
        if over and not started:
            await problem(413, body_too_large(self.body_limit))(scope, receive, send)


class RateLimiter:
    """At most ``per_minute`` events per key in any sliding minute; over it, ApiError 429 with
    Retry-After (seconds until the oldest event of the minute expires). ``what`` names the
    events in the refusal ("requests", "failed sign-ins from this address")."""

    def __init__(self, per_minute: int, what: str = "requests", clock=time.monotonic) -> None:
        self.per_minute, self.what, self.clock = per_minute, what, clock
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, key: str, count: bool = True) -> None:
        """429 when ``key`` is at its limit; otherwise the event is counted (unless ``count``
        is False: a look before the event, which ``count`` records once it happens)."""
        with self._lock:
            times, now = self._recent(key)
            if len(times) >= self.per_minute:
                wait = max(1, math.ceil(times[0] + 60 - now))
                raise ApiError(
                    429,
                    f"more than {self.per_minute} {self.what} in a minute; retry in {wait} s",
                    {"Retry-After": str(wait)},
                )
            if count:
                times.append(now)

    def count(self, key: str) -> None:
        with self._lock:
            times, now = self._recent(key)
            times.append(now)

    def _recent(self, key: str) -> tuple[deque[float], float]:
        """``key``'s events of the last minute (older ones dropped), and the time now."""
        now = self.clock()
        if len(self._seen) > 10_000:  # forget idle keys
            for stale in [k for k, v in self._seen.items() if not v or v[-1] <= now - 60]:
                del self._seen[stale]
        times = self._seen.setdefault(key, deque())
        while times and times[0] <= now - 60:
            times.popleft()
        return times, now
