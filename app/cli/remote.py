"""The REST API as the command line's back end: when it answers, ``search``, ``ask``,
``feedback`` and ``lineage`` are sent there with the caller's token and answer in well under a
second (the API holds the index, the encoder and MLflow loaded), instead of loading them here.

Which token, and so who the command acts as:

- ``--as-user NAME``: the token ``docsearch users add NAME`` / ``tokens issue NAME`` kept for
  NAME (``saved_tokens``). Without a kept token, or with no API answering, the command runs
  here as NAME under the policy in force: the same person either way.
- no ``--as-user`` and ``DOCSEARCH_API_TOKEN`` set: that token's user, through the API only
  (no API answering is an error, never a silent switch to the operator, who reads everything).
- neither: the operator, here (``lifecycle.command_line``).

The API decides what the token may read; the command line never gets more than the token
allows. Plain ``urllib``: an HTTP library's import would cost more than the call.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from app.cli.saved_tokens import saved_token
from search.settings import Settings

PROBE_TIMEOUT_S = 1.0  # how long `GET /healthz` may take before the API counts as not there
CALL_TIMEOUT_S = 120.0  # a chat turn on a busy machine


class ApiRefused(Exception):
    """The API answered with an error: its problem detail, one line; ``status`` says which."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status


@dataclass(frozen=True)
class Api:
    """The API at ``base`` called with ``token``; ``who`` names whose token it is."""

    base: str
    token: str
    who: str

    def answers(self) -> bool:
        """Whether an API answers at ``base`` now (its unauthenticated health check)."""
        try:
            with urllib.request.urlopen(f"{self.base}/healthz", timeout=PROBE_TIMEOUT_S) as r:
                return r.status == 200
        except (OSError, ValueError):
            return False

    def get(self, path: str, params: list[tuple[str, str]] | None = None) -> dict:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        return self._call(urllib.request.Request(f"{self.base}{path}{query}"))

    def post(self, path: str, body: dict) -> dict:
        request = urllib.request.Request(
            f"{self.base}{path}",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        return self._call(request)

    def _call(self, request: urllib.request.Request) -> dict:
        request.add_header("Authorization", f"Bearer {self.token}")
        request.add_header("Accept", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=CALL_TIMEOUT_S) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise ApiRefused(exc.code, self._detail(exc)) from None
        except (OSError, ValueError) as exc:
            raise ApiRefused(0, f"the API at {self.base} did not answer ({exc})") from None

    def _detail(self, error: urllib.error.HTTPError) -> str:
        try:
            problem = json.loads(error.read())
            detail = str(problem.get("detail") or problem.get("title") or error.reason)
        except (OSError, ValueError, AttributeError):
            detail = str(error.reason)
        if error.code == 401:
            return f"the API at {self.base} refused {self.who}: {detail}"
        return detail


def api_for(settings: Settings, as_user: str | None) -> Api | None:
    """The API to send the command to with the caller's token; None to run it here. Raises
    ApiRefused when ``DOCSEARCH_API_TOKEN`` is set and no API answers."""
    if as_user is not None:
        token = saved_token(settings, as_user) if as_user.strip() else None
        if token is None:
            return None
        api = Api(
            settings.api_address,
            token,
            f"the token kept for {as_user!r} (revoked? `docsearch tokens issue {as_user}` "
            "keeps a new one)",
        )
        return api if api.answers() else None
    if not settings.api_token:
        return None
    api = Api(settings.api_address, settings.api_token, "DOCSEARCH_API_TOKEN")
    if not api.answers():
        raise ApiRefused(
            0,
            f"DOCSEARCH_API_TOKEN is set but no API answers at {settings.api_address}; start "
            "it (`make run`, `docsearch api`) or unset DOCSEARCH_API_TOKEN to work here",
        )
    return api
