"""`make run`: build and promote the default index if nothing serves yet, then start the Dagster
UI, the MLflow UI, the Streamlit app and the REST API on 127.0.0.1; Ctrl-C stops them all.

Ports and address come from the settings (DOCSEARCH_DAGSTER_PORT, DOCSEARCH_MLFLOW_PORT,
DOCSEARCH_APP_PORT, DOCSEARCH_API_PORT, DOCSEARCH_HOST; see the README's configuration table). Dagster keeps its runs,
schedules and sensor state in SQLite under <DOCSEARCH_HOME>/dagster.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

from search.settings import LIBRARY_ENVIRONMENT, Settings, SettingsError  # noqa: E402

DAGSTER_YAML = """\
# Dagster instance for docsearch: the default SQLite storage under this folder.
telemetry:
  enabled: false
"""


def _environment(settings: Settings) -> dict[str, str]:
    env = {**LIBRARY_ENVIRONMENT, **os.environ}
    env["DOCSEARCH_HOME"] = str(settings.home)
    dagster_home = settings.dagster_home
    dagster_home.mkdir(parents=True, exist_ok=True)
    if not (dagster_home / "dagster.yaml").exists():
        (dagster_home / "dagster.yaml").write_text(DAGSTER_YAML)
    env["DAGSTER_HOME"] = str(dagster_home)
    env["MLFLOW_TRACKING_URI"] = settings.mlflow_uri
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    return env


def _wait(name: str, url: str, proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with code {proc.returncode} before answering {url}")
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(1)
    raise TimeoutError(f"{name} did not answer {url} within {timeout:.0f}s")


def _stop(procs: dict[str, subprocess.Popen]) -> None:
    """SIGTERM each process group, then SIGKILL whatever is still there after 20 seconds."""
    for proc in procs.values():
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + 20
    for proc in procs.values():
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # also reaps children that outlived their parent
        except ProcessLookupError:
            pass
        proc.wait()


def ensure_champion(settings: Settings, env: dict[str, str]) -> None:
    from lifecycle.registry import resolve_champion

    champion = resolve_champion(settings)
    if champion is not None:
        print(f"serving {champion.label} from {champion.path}", flush=True)
        return
    print("no champion yet: running index_job (build, evaluate, register, promote)", flush=True)
    cmd = [str(BIN / "dagster"), "job", "execute", "-m", "dagster_project", "-j", "index_job"]
    if subprocess.run(cmd, cwd=ROOT, env=env).returncode != 0:
        raise SystemExit("index_job failed; see the log above")
    champion = resolve_champion(settings)
    print(f"serving {champion.label}" if champion else "index_job ran; the gate promoted nothing")


def services(settings: Settings) -> dict[str, tuple[list[str], str, str]]:
    """Each UI as (command, base URL, health path), bound to the configured host and ports."""
    host = settings.host
    dagster = [str(BIN / "dagster"), "dev", "-m", "dagster_project"]
    dagster += ["-h", host, "-p", str(settings.dagster_port)]
    mlflow = [str(BIN / "mlflow"), "server", "--backend-store-uri", settings.mlflow_uri]
    mlflow += ["--default-artifact-root", settings.mlflow_artifacts.resolve().as_uri()]
    mlflow += ["--host", host, "--port", str(settings.mlflow_port), "--workers", "1"]
    app = [str(BIN / "streamlit"), "run", "app/streamlit_app.py", "--server.address", host]
    app += ["--server.port", str(settings.app_port), "--server.headless", "true"]
    app += ["--browser.gatherUsageStats", "false"]
    if settings.auth_secrets.is_file():  # the [auth] section: sign-in through OpenID Connect
        app += ["--secrets.files", str(settings.auth_secrets)]
    api = [str(BIN / "docsearch"), "api", "--host", host, "--port", str(settings.api_port)]
    return {
        "Dagster UI": (dagster, f"http://{host}:{settings.dagster_port}", "/server_info"),
        "MLflow UI": (mlflow, f"http://{host}:{settings.mlflow_port}", "/health"),
        "Search app": (app, f"http://{host}:{settings.app_port}", "/_stcore/health"),
        "REST API": (api, f"http://{host}:{settings.api_port}", "/healthz"),
    }


def run(services: dict, env: dict[str, str]) -> int:
    """Start every service, wait until each answers, print the URLs; stop them all on Ctrl-C,
    SIGTERM, or when one of them exits."""
    procs: dict[str, subprocess.Popen] = {}

    def on_signal(signum, _frame):
        raise KeyboardInterrupt

    # SIGINT too: a shell that starts `make run &` in the background ignores it otherwise
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        for name, (cmd, _url, _health) in services.items():
            # each service in its own process group, so stopping it stops its children too
            procs[name] = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True)
        for name, (_cmd, url, health) in services.items():
            _wait(name, url + health, procs[name], timeout=180)
        print("\ndocsearch is running:", flush=True)
        for name, (_cmd, url, _health) in services.items():
            print(f"  {name:<11} {url}", flush=True)
        print("Press Ctrl-C to stop.", flush=True)
        while True:
            for name, proc in procs.items():
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} exited with code {proc.returncode}")
            time.sleep(1)
    except KeyboardInterrupt:
        print("\nstopping ...", flush=True)
        return 0
    except (RuntimeError, TimeoutError) as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        _stop(procs)
        print("stopped.", flush=True)


def main() -> int:
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    env = _environment(settings)
    ensure_champion(settings, env)
    settings.mlflow_artifacts.mkdir(parents=True, exist_ok=True)
    return run(services(settings), env)


if __name__ == "__main__":
    sys.exit(main())
