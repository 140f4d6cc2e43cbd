"""Real stores on loopback for the source tests: moto's S3 server, Samba's smbd, a wsgidav
WebDAV server and a small web site (http.server) that records every request it gets.

Each runs on a free port with its state in a folder of the test's own, and is stopped with
its process (or thread) when the test ends. ``stop()`` and ``start()`` let a test take a store
down in the middle of a sync and bring it back.
"""

from __future__ import annotations

import http.server
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import free_port, wait_for_http

BIN = Path(sys.executable).parent
SMBD = "/usr/sbin/smbd"
SMB_USER, SMB_PASSWORD = "root", "sm8-Pass-w0rd"  # the test share's account (root runs smbd)
DAV_USER, DAV_PASSWORD = "ann", "dav-Pass-w0rd"
S3_KEYS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def _wait_for_port(port: int, proc: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}: {log.read_text()[-2000:]}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"nothing listens on {port} after {timeout}s: {log.read_text()[-2000:]}")


@dataclass
class Process:
    """A server process that can be stopped and started again on the same port."""

    command: list[str]
    port: int
    log: Path
    ready: str = ""  # an HTTP URL that answers 200 when ready ("": the port accepts)
    proc: subprocess.Popen | None = None

    def start(self) -> None:
        handle = open(self.log, "a")  # noqa: SIM115 - closed with the process
        self.proc = subprocess.Popen(
            self.command, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
        )
        handle.close()
        if self.ready:
            wait_for_http(self.ready, timeout=60, proc=self.proc)
        else:
            _wait_for_port(self.port, self.proc, self.log)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def moto(folder: Path) -> Process:
    port = free_port()
    command = [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)]
    return Process(command, port, folder / "moto.log", ready=f"http://127.0.0.1:{port}/moto-api/")


def smbd(folder: Path, share: Path) -> Process:
    """smbd on a free port, its configuration, state and account all under ``folder``."""
    port = free_port()
    for name in ("private", "lock", "state", "cache", "pid"):
        (folder / name).mkdir(parents=True, exist_ok=True)
    conf = folder / "smb.conf"
    conf.write_text(
        "[global]\n"
        f"  smb ports = {port}\n  interfaces = 127.0.0.1\n  bind interfaces only = yes\n"
        f"  private dir = {folder / 'private'}\n  lock directory = {folder / 'lock'}\n"
        f"  state directory = {folder / 'state'}\n  cache directory = {folder / 'cache'}\n"
        f"  pid directory = {folder / 'pid'}\n  ncalrpc dir = {folder / 'lock' / 'ncalrpc'}\n"
        f"  passdb backend = tdbsam:{folder / 'private' / 'passdb.tdb'}\n"
        f"  log file = {folder / 'log.%m'}\n  server role = standalone server\n"
        "  load printers = no\n  printing = bsd\n  printcap name = /dev/null\n"
        "  disable spoolss = yes\n  server min protocol = SMB2\n"
        f"[docs]\n  path = {share}\n  read only = no\n  force user = root\n"
    )
    subprocess.run(
        ["smbpasswd", "-c", str(conf), "-a", "-s", SMB_USER],
        input=f"{SMB_PASSWORD}\n{SMB_PASSWORD}\n",
        text=True,
        check=True,
        capture_output=True,
    )
    command = [SMBD, "--foreground", "--no-process-group", f"--configfile={conf}", "--debug-stdout"]
    return Process(command, port, folder / "smbd.log")


def wsgidav(folder: Path, root: Path) -> Process:
    """wsgidav serving ``root`` at ``/library`` with one account (basic authentication)."""
    port = free_port()
    config = folder / "wsgidav.yaml"
    config.write_text(
        f"host: 127.0.0.1\nport: {port}\n"
        f'provider_mapping:\n  "/library": "{root}"\n'
        f'simple_dc:\n  user_mapping:\n    "*":\n      "{DAV_USER}": {{password: "{DAV_PASSWORD}"}}\n'
        "http_authenticator:\n  accept_basic: true\n  accept_digest: false\n"
        "  default_to_digest: false\nverbose: 1\n"
    )
    return Process([str(BIN / "wsgidav"), "--config", str(config)], port, folder / "wsgidav.log")


@dataclass
class Site:
    """A web site served from a folder by http.server (Last-Modified, 304s), in a thread; every
    request it gets is recorded as (time, path, headers)."""

    root: Path
    port: int = 0
    requests: list[tuple[float, str, dict]] = field(default_factory=list)
    server: http.server.ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        site = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, directory=str(site.root), **kwargs)

            def do_GET(self):
                site.requests.append((time.monotonic(), self.path, dict(self.headers)))
                super().do_GET()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def paths(self) -> list[str]:
        return [path for _, path, _ in self.requests]
