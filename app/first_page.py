"""The app's search page fetched as a browser fetches it, without a browser: one session over
Streamlit's websocket (``/_stcore/stream``), the page run with a query in its URL, the rendered
elements read until the script finishes. ``make run`` calls it before it says the app is ready,
so the index, the encoder and MLflow are loaded in the app's process by then, not at the first
person's search (29 s on 2 busy cores), and a page that fails to render stops the start.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import urlencode

RESULT_MARK = 'class="ds-result"'  # what app.render.result_html wraps each result in
SIGN_IN_MARK = "Sign in to search"  # app.runtime's sign-in page: no index before a sign-in


@dataclass(frozen=True)
class Rendered:
    """What one run of the page showed, and how long it took."""

    seconds: float
    results: int  # result cards on the page
    sign_in: bool  # the sign-in page (an identity provider is configured)
    error: str = ""  # the exception the page showed, if one


def fetch_search_page(base: str, query: str, timeout: float = 300.0) -> Rendered:
    """Run the search page of the app at ``base`` (http://HOST:PORT) for ``query``."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    from websockets.sync.client import connect

    started = time.monotonic()
    url = base.replace("http://", "ws://", 1).replace("https://", "wss://", 1)
    request = BackMsg()
    request.rerun_script.query_string = urlencode({"q": query})
    results, sign_in, error = 0, False, ""
    with connect(f"{url}/_stcore/stream", subprotocols=["streamlit"], max_size=None,
                 open_timeout=30) as session:  # fmt: skip
        session.send(request.SerializeToString())
        while True:
            message = ForwardMsg()
            message.ParseFromString(
                session.recv(timeout=max(1.0, started + timeout - time.monotonic()))
            )
            kind = message.WhichOneof("type")
            if kind == "delta":
                element = message.delta.new_element
                shown = element.WhichOneof("type")
                if shown == "exception":
                    error = error or f"{element.exception.type}: {element.exception.message}"
                text = element.markdown.body if shown == "markdown" else ""
                results += text.count(RESULT_MARK)
                sign_in = sign_in or SIGN_IN_MARK in text
            elif kind == "script_finished":
                status = ForwardMsg.ScriptFinishedStatus.Name(message.script_finished)
                if status == "FINISHED_WITH_COMPILE_ERROR":
                    error = error or "the page does not compile"
                if status != "FINISHED_EARLY_FOR_RERUN":
                    break
    return Rendered(round(time.monotonic() - started, 2), results, sign_in, error)
