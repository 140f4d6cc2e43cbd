"""Bounds on what one client can ask: request body size and requests per minute per token."""

from __future__ import annotations

import math
import threading
import time
from collections import deque

from app.api.problems import ApiError, problem

MAX_BODY_BYTES = 64 * 1024
MAX_QUERY_CHARS = 1000
MAX_MESSAGE_CHARS = 4000
MAX_K = 100
MAX_OFFSET = 1000
MAX_SIMILAR = 50


class BodyLimit:
    """ASGI middleware: a request body over ``limit`` bytes is refused with 413 before it is
    read whole (by its Content-Length, or as it streams in)."""

    def __init__(self, app, limit: int = MAX_BODY_BYTES) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            return await self._refuse(scope, receive, send)
        seen = 0

        async def limited():
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise ApiError(413, self._detail())
            return message

        return await self.app(scope, limited, send)

    def _detail(self) -> str:
        return f"the request body is over {self.limit} bytes; send a shorter message"

    async def _refuse(self, scope, receive, send):
        await problem(413, self._detail())(scope, receive, send)


class RateLimiter:
    """At most ``per_minute`` requests per key in any sliding minute; over it, ApiError 429
    with Retry-After (seconds until the oldest request of the minute expires)."""

    def __init__(self, per_minute: int, clock=time.monotonic) -> None:
        self.per_minute, self.clock = per_minute, clock
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, key: str) -> None:
        now = self.clock()
        with self._lock:
            times = self._seen.setdefault(key, deque())
            while times and times[0] <= now - 60:
                times.popleft()
            if len(times) >= self.per_minute:
                wait = max(1, math.ceil(times[0] + 60 - now))
                raise ApiError(
                    429,
                    f"more than {self.per_minute} requests in a minute; retry in {wait} s",
                    {"Retry-After": str(wait)},
                )
            times.append(now)
            if len(self._seen) > 10_000:  # forget idle keys
                for stale in [k for k, v in self._seen.items() if not v or v[-1] <= now - 60]:
                    del self._seen[stale]
