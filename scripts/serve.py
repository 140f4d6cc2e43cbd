"""Start docsearch's processes; Ctrl-C stops them all.

``make run`` (``python scripts/serve.py``) in the dev environment: build and promote the default
index if nothing serves yet, then the Dagster UI (``dagster dev``: webserver and daemon), the
MLflow UI, the search app and the REST API on 127.0.0.1.

The production layout runs one process per role, each where it belongs (README, "Production
layout"): ``python scripts/serve.py PROCESS ...`` starts the named ones of
``lifecycle.deployment.processes`` (mlflow, code-server, webserver, daemon, worker,
builder-worker, app) with the environment's settings (``DOCSEARCH_ENV``); in an environment other
than dev, no names start them all on this machine. ``--list`` prints the layout. Dagster's
``dagster.yaml`` (SQLite, or PostgreSQL when DOCSEARCH_DAGSTER_DATABASE_URL is set),
``workspace.yaml`` and ``celery.yaml`` are written into DAGSTER_HOME from the settings each time.

The terminal shows what a person needs: progress, the addresses, errors (with the end of the
failing process's log). Each process's own output goes to ``$DOCSEARCH_HOME/logs/NAME.log``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

from lifecycle.deployment import Process, environment, processes, write_instance  # noqa: E402
from search.settings import DEFAULT_PROFILE, LIBRARY_ENVIRONMENT, Settings, SettingsError  # noqa: E402

ALL_IN_ONE = ("code-server", "webserver", "daemon", "mlflow", "app", "api")
TAIL_LINES = 20  # of a failing process's log, shown with the error


def log_dir(settings: Settings) -> Path:
    folder = Path(settings.home) / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def tail(path: Path, lines: int = TAIL_LINES) -> str:
    """The last ``lines`` lines of a log, indented, for an error message."""
    try:
        text = path.read_text(errors="replace").splitlines()[-lines:]
    except OSError:
        return ""
    return "\n".join("    " + line for line in text)


SHARED_VIEW = "docsearch-metrics"  # the MLflow view state the printed link opens


def mlflow_runs_url(base: str, experiment_id: str, view: str = SHARED_VIEW) -> str:
    """The experiment's runs table in the saved view ``view`` (``shared_view``)."""
    query = urllib.parse.urlencode({"viewStateShareKey": view, "compareRunsMode": "TABLE"})
    return f"{base.rstrip('/')}/#/experiments/{experiment_id}/runs?{query}"


def shared_view(metric_keys: list[str], sort_by: str) -> dict:
    """MLflow's experiment-page view state (what its Share button saves in the experiment tag
    ``mlflow.sharedViewState.KEY``): the evaluation metrics as table columns, best
    ``sort_by`` first."""
    sort_key = f"metrics.`{sort_by}`"
    return {
        "orderByKey": sort_key,
        "orderByAsc": False,
        "selectedColumns": [f"metrics.`{key}`" for key in sorted(metric_keys)],
    }


def experiment_link(settings: Settings, base: str) -> str:
    """The runs table of this environment's experiment with the evaluation metrics as columns
    (a shared view saved on the experiment); the MLflow home when there is no experiment yet
    or MLflow cannot be written."""
    try:
        from evaluation import METRICS
        from lifecycle.gate import PRIMARY_METRIC
        from lifecycle.registry import RunLog

        log = RunLog.from_settings(settings)
        experiment = log.client.get_experiment_by_name(log.experiment)
        if experiment is None:
            return base
        runs = log.client.search_runs([experiment.experiment_id], max_results=20)
        keys = {k for r in runs for k in r.data.metrics if k.rsplit("/", 1)[-1] in METRICS}
        view = shared_view(sorted(keys) or [PRIMARY_METRIC], PRIMARY_METRIC)
        tag = f"mlflow.sharedViewState.{SHARED_VIEW}"
        log.client.set_experiment_tag(experiment.experiment_id, tag, json.dumps(view))
    except Exception:  # noqa: BLE001 - the link is a convenience: the home page still works
        return base
    return mlflow_runs_url(base, experiment.experiment_id)


def _environment(settings: Settings) -> dict[str, str]:
    env = {**LIBRARY_ENVIRONMENT, **os.environ, **environment(settings)}
    write_instance(settings)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    env["PATH"] = os.pathsep.join(filter(None, [str(BIN), env.get("PATH", "")]))
    return env


def _wait(name: str, url: str, proc: subprocess.Popen, timeout: float, every: float = 1.0) -> None:
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
        time.sleep(every)
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
    """In dev, build, evaluate and promote the sample index when nothing serves yet. Other
    environments get versions only through ``docsearch promote VERSION --to ENV``."""
    from lifecycle.registry import resolve_champion

    champion = resolve_champion(settings)
    if champion is not None:
        print(f"serving {champion.label} from {champion.path}", flush=True)
        return
    if settings.env != DEFAULT_PROFILE:
        print(
            f"no champion in {settings.env} yet: the daemon's documents_sensor builds one "
            f"through {settings.env}'s gate, or promote a version proved in dev with "
            f"`docsearch promote VERSION --to {settings.env}`",
            flush=True,
        )
        return
    log = log_dir(settings) / "index_job.log"
    print(
        "no index serves yet: building, evaluating and promoting the sample index (index_job; "
        f"a few minutes) ...\n  log: {log}",
        flush=True,
    )
    cmd = [str(BIN / "dagster"), "job", "execute", "-m", "dagster_project", "-j", "index_job"]
    started = time.monotonic()
    with open(log, "w") as out:
        code = subprocess.run(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    if code.returncode != 0:
        raise SystemExit(f"index_job failed; the end of {log}:\n{tail(log)}")
    print(f"  done in {time.monotonic() - started:.0f} s", flush=True)
    champion = resolve_champion(settings)
    print(f"serving {champion.label}" if champion else "index_job ran; the gate promoted nothing")


def dev_services(settings: Settings) -> dict[str, Process]:
    """``make run``: ``dagster dev`` (webserver and daemon in one), MLflow, the app, the API."""
    layout = processes(settings, BIN)
    dagster = [str(BIN / "dagster"), "dev", "-m", "dagster_project"]
    dagster += ["-h", settings.host, "-p", str(settings.dagster_port)]
    ui = layout["webserver"]
    return {
        "dagster": Process("Dagster UI", dagster, ui.needs, ui.health),
        "mlflow": layout["mlflow"],
        "app": layout["app"],
        "api": layout["api"],
    }


def selected(settings: Settings, names: list[str]) -> dict[str, Process]:
    """The named processes of the layout; none named: the dev set, or in another environment
    every process this machine needs to run it alone (a builder worker when Celery runs)."""
    layout = processes(settings, BIN)
    if not names:
        if settings.env == DEFAULT_PROFILE:
            return dev_services(settings)
        names = list(ALL_IN_ONE) + (["builder-worker"] if settings.executor == "celery" else [])
    unknown = [n for n in names if n not in layout]
    if unknown:
        raise SystemExit(f"unknown process {', '.join(unknown)}; choose from {', '.join(layout)}")
    return {name: layout[name] for name in names}


def run(services: dict[str, Process], env: dict[str, str], logs: Path, links=None) -> int:
    """Start every service (its output to ``logs/NAME.log``), wait until each answers, print
    the URLs; stop them all on Ctrl-C, SIGTERM, or when one of them exits. ``links`` (name ->
    address) replaces a service's printed address."""
    procs: dict[str, subprocess.Popen] = {}
    files = {name: logs / f"{name}.log" for name in services}

    def on_signal(signum, _frame):
        raise KeyboardInterrupt

    # SIGINT too: a shell that starts `make run &` in the background ignores it otherwise
    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        print(f"starting {', '.join(s.name for s in services.values())} (logs in {logs})")
        for name, spec in services.items():
            # each service in its own process group, so stopping it stops its children too
            with open(files[name], "w") as out:
                procs[name] = subprocess.Popen(
                    spec.command, cwd=ROOT, env=env, start_new_session=True,
                    stdout=out, stderr=subprocess.STDOUT,
                )  # fmt: skip
        started = time.monotonic()
        for name, spec in services.items():
            if spec.health:
                _wait(spec.name, spec.health, procs[name], timeout=180)
                print(f"  {spec.name} answers ({time.monotonic() - started:.0f} s)", flush=True)
        warm_up(services, procs, started)
        _print_addresses(services, links or {})
        while True:
            for name, proc in procs.items():
                if proc.poll() is not None:
                    raise _Exited(name, f"{services[name].name} exited with code {proc.returncode}")
            time.sleep(1)
    except KeyboardInterrupt:
        print("\nstopping ...", flush=True)
        return 0
    except (RuntimeError, TimeoutError) as exc:
        name = exc.name if isinstance(exc, _Exited) else _failing(services, str(exc))
        print(f"error: {exc}", file=sys.stderr, flush=True)
        if name:
            print(f"the end of {files[name]}:\n{tail(files[name])}", file=sys.stderr, flush=True)
        return 1
    finally:
        _stop(procs)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        print("stopped.", flush=True)


FIRST_QUERY = "getting started"  # the search the app's first page is fetched with


def warm_up(services: dict[str, Process], procs: dict[str, subprocess.Popen], started: float):
    """Ready means warm: the REST API's /readyz answers 200 (index, spelling, chat's sentence
    vectors, one answer: ``lifecycle.warmup``) and the app's search page renders a search
    (``app.first_page``), so the first person waits for neither. RuntimeError when the page
    shows an error."""
    if "api" in services and services["api"].health:
        ready = services["api"].health.replace("/healthz", "/readyz")
        _wait(services["api"].name, ready, procs["api"], timeout=600, every=0.25)
        print(
            f"  {services['api'].name} warmed up ({time.monotonic() - started:.0f} s)", flush=True
        )
    if "app" in services and services["app"].health:
        from app.first_page import fetch_search_page

        try:
            page = fetch_search_page(_base(services["app"].health), FIRST_QUERY)
        except Exception as exc:  # noqa: BLE001 - the websocket closed, timed out, ...
            raise RuntimeError(
                f"{services['app'].name}: the search page did not render ({exc})"
            ) from None
        if page.error:
            raise RuntimeError(f"{services['app'].name}: the search page shows {page.error}")
        shown = "the sign-in page" if page.sign_in else f"a search with {page.results} results"
        print(
            f"  {services['app'].name} rendered {shown} in {page.seconds:.1f} s "
            f"({time.monotonic() - started:.0f} s)",
            flush=True,
        )


class _Exited(RuntimeError):
    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name


def _failing(services: dict[str, Process], message: str) -> str | None:
    """The service an error message names (its log is shown)."""
    return next((n for n, spec in services.items() if message.startswith(spec.name)), None)


def _print_addresses(services: dict[str, Process], links: dict[str, str]) -> None:
    print("\ndocsearch is running:", flush=True)
    for name, spec in services.items():
        where = _base(spec.health) if spec.health else f"({spec.needs})"
        print(f"  {spec.name:<28} {links.get(name, where)}", flush=True)
    print("Press Ctrl-C to stop.", flush=True)


def _base(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def print_layout(settings: Settings) -> None:
    for name, spec in processes(settings, BIN).items():
        print(f"{name}: {spec.name}\n  needs: {spec.needs}\n  runs:  {' '.join(spec.command)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("process", nargs="*", help="processes of the layout to start")
    parser.add_argument("--list", action="store_true", help="print the layout and exit")
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.list:
        print_layout(settings)
        return 0
    env = _environment(settings)
    services = selected(settings, args.process)
    if not args.process:
        ensure_champion(settings, env)
    links = {}
    if "mlflow" in services:
        if not settings.artifact_store:
            settings.mlflow_artifacts.mkdir(parents=True, exist_ok=True)
        if services["mlflow"].health:
            links["mlflow"] = experiment_link(settings, _base(services["mlflow"].health))
    return run(services, env, log_dir(settings), links)


if __name__ == "__main__":
    sys.exit(main())
