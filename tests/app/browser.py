"""The search app in a real browser: a Streamlit server started the way `make run` starts it
(from the repository root, so the committed .streamlit/config.toml applies), and signing a
person in through the OpenID Connect mock provider."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import free_port, wait_for_http
from tests.oidc import provider, secrets_toml

ROOT = Path(__file__).resolve().parents[2]


def start_app(settings, port: int, secrets: Path | None, log: Path) -> subprocess.Popen:
    """``streamlit run app/streamlit_app.py`` on ``port`` over ``settings``' home and documents,
    with the ``[auth]`` section of ``secrets`` when given."""
    env = {
        **os.environ,
        "DOCSEARCH_HOME": str(settings.home),
        "DOCSEARCH_DOCS": str(settings.docs),
        "DOCSEARCH_MODEL": "hashing-128",
        "PYTHONPATH": str(ROOT),
    }
    for name in ("DOCSEARCH_FEEDBACK_URL", "DOCSEARCH_DATABASE_URL", "MLFLOW_TRACKING_URI"):
        env.pop(name, None)
    command = [sys.executable, "-m", "streamlit", "run", "app/streamlit_app.py",
               "--server.address", "127.0.0.1", "--server.port", str(port),
               "--server.headless", "true"]  # fmt: skip
    if secrets is not None:
        command += ["--secrets.files", str(secrets)]
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT
    )


@contextlib.contextmanager
def app_with_sign_in(
    settings, people: dict[str, list[str]], monkeypatch, tmp_path
) -> Iterator[str]:
    """The app's address, signing ``people`` ({email: groups}) in through the mock provider;
    the app and the provider are stopped afterwards."""
    port = free_port()
    url = f"http://localhost:{port}"  # the redirect address: the sign-in cookie belongs to it
    with provider(people, monkeypatch) as issuer:
        secrets = tmp_path / "secrets.toml"
        secrets.write_text(secrets_toml(issuer, f"{url}/oauth2callback"))
        proc = start_app(settings, port, secrets, tmp_path / "streamlit.log")
        try:
            wait_for_http(f"http://127.0.0.1:{port}/_stcore/health", timeout=120, proc=proc)
            yield url
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def idle(page) -> None:
    """Wait until the app has finished running the page."""
    page.wait_for_timeout(300)
    page.locator("[data-testid=stStatusWidget]").wait_for(state="hidden", timeout=30_000)


def sign_in(page, url: str, email: str) -> None:
    """Sign ``email`` in through the mock provider's form (it asks no password)."""
    page.goto(url)
    page.get_by_role("button", name="Sign in").click()
    page.locator("input[name=sub]").fill(email)
    page.get_by_role("button", name="Authorize").click()
    page.get_by_text(f"Signed in as {email}").wait_for(timeout=60_000)
    idle(page)
