"""The HTTP server in front of the API: uvicorn over httptools, with each request's head
(request line and headers) bounded while it arrives.

Without this, httptools buffers a header of any size before the app sees the request: a 154 MB
header was read for a minute while the server's memory grew by 300 MB and ``/healthz`` waited,
and a URL over httptools' own 65,535-byte limit got a plain-text 400 "Invalid HTTP request
received.". Here the head is fed to the parser 8 KB at a time; past ``MAX_URL_BYTES`` of URL the
answer is 414, past ``MAX_HEAD_BYTES`` of head 431, a head still incomplete after
``HEAD_TIMEOUT_S`` 408, any other malformed request 400; each as problem+json, before any
authentication or app code runs. The rest of what the client sends is then read and dropped
for at most ``LINGER_S`` (so it reads the answer rather than a connection reset), never kept.
"""

from __future__ import annotations

import asyncio

import uvicorn
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from app.api.limits import MAX_HEAD_BYTES, MAX_URL_BYTES, head_too_large, url_too_long
from app.api.problems import PROBLEM_JSON, problem_of

HEAD_SLICE = 8 * 1024  # bytes handed to the parser at a time while a head arrives
HEAD_TIMEOUT_S = 20.0  # a head trickling in slower than this ties a connection up: 408
LINGER_S = 2.0  # how long the rest of a refused request is read and dropped


class _UrlTooLong(Exception):
    """Raised from the parser's URL callback: httptools stops parsing the request there."""


class BoundedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, refusing oversized or slow request heads as they arrive
    and answering every malformed request with problem+json."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = True  # between a request's first byte and the end of its headers
        self._head_bytes = 0
        self._head_timer: asyncio.TimerHandle | None = None
        self._refusal: tuple[int, str] | None = None
        self._refused = False

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head, self._head_bytes = True, 0
        self._head_timer = self.loop.call_later(HEAD_TIMEOUT_S, self._head_too_slow)

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        if len(self.url) > MAX_URL_BYTES:
            self._refusal = (414, url_too_long())
            raise _UrlTooLong  # the parser fails, and uvicorn calls send_400_response

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._cancel_head_timer()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_head = True  # what comes next on this connection is the next request's head

    def data_received(self, data: bytes) -> None:
        start = 0
        while start < len(data) and not self._refused:
            end = start + HEAD_SLICE if self._in_head else len(data)
            piece, start = data[start:end], end
            super().data_received(piece)
            if self._refused or self.transport.is_closing():
                return
            if self._in_head:
                self._head_bytes += len(piece)
                if self._head_bytes > MAX_HEAD_BYTES:
                    self._refuse(431, head_too_large())

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to a request the parser refused: ours is problem+json."""
        self._refuse(*(self._refusal or (400, f"the request is not valid HTTP/1.1 ({msg})")))

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def _head_too_slow(self) -> None:
        if self._in_head and not self._refused:
            self._refuse(408, f"the request's headers took over {HEAD_TIMEOUT_S:g} s to arrive")

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _refuse(self, status: int, detail: str) -> None:
        """Answer ``status`` and close: the answer goes out, what the client still sends is
        dropped for LINGER_S, then the connection closes."""
        self._refused = True
        self._cancel_head_timer()
        if self.transport.is_closing():
            return
        body = problem_of(status, detail).model_dump_json().encode()
        head = [STATUS_LINE[status]]
        for name, value in self.server_state.default_headers:
            head += [name, b": ", value, b"\r\n"]
        head += [
            b"content-type: " + PROBLEM_JSON.encode() + b"\r\n",
            b"content-length: " + str(len(body)).encode() + b"\r\n",
            b"connection: close\r\n\r\n",
        ]
        self.transport.write(b"".join(head) + body)
        if self.transport.can_write_eof():
            self.transport.write_eof()  # the client sees the end of the answer
        self.loop.call_later(LINGER_S, self.transport.close)


def serve(app, host: str, port: int) -> None:
    """Serve ``app`` (``create_app``'s) on ``host``:``port`` until interrupted."""
    # proxy_headers off: uvicorn would otherwise take X-Forwarded-For from any local client as
    # the caller's address, and the limit on failed sign-ins is counted per address
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        http=BoundedHttpProtocol,
        proxy_headers=False,
    )
    uvicorn.Server(config).run()
