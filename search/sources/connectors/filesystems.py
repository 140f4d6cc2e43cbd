"""File shares through fsspec: ``smb://host/share/path`` (Windows and Samba shares, through
smbprotocol) and ``webdav://`` / ``webdavs://host/path`` (Nextcloud, ownCloud, SharePoint
libraries, through webdav4).

The listing is the filesystem's ``find`` with details: a WebDAV object's version is its ETag
(size and modification time when the server gives none), an SMB file's its size and
modification time. Credentials: ``username`` (or ``user@`` in the URL) and ``password_env`` /
``password_file``; WebDAV also takes a bearer token (``token_env`` / ``token_file``).
"""

from __future__ import annotations

import errno
from collections.abc import Callable, Iterator, Mapping
from typing import TypeVar
from urllib.parse import quote, unquote, urlsplit

from search.sources.model import Known, RemoteObject, SourceError
from search.sources.retry import FATAL, OBJECT, TRANSIENT, RetryPolicy, call
from search.sources.secrets import read_secret, secret_options

T = TypeVar("T")
SMB_OPTIONS = {
    "username": "the account to sign in with (or smb://user@host/...); DOMAIN\\user for a domain",
    **secret_options("password"),
    "encrypt": "yes: require SMB3 encryption (default: as the server offers)",
}
WEBDAV_OPTIONS = {
    "username": "the account to sign in with (or webdavs://user@host/...)",
    **secret_options("password", "token"),
}
_TRANSIENT_ERRNOS = {errno.ECONNREFUSED, errno.ECONNRESET, errno.ETIMEDOUT, errno.EPIPE}


def _classify(exc: BaseException, listing: bool) -> str:
    """Errors of smbprotocol, httpx and webdav4 into transient / object / fatal."""
    import httpx
    from smbprotocol import exceptions as smb
    from webdav4.client import HTTPError

    if isinstance(exc, smb.LogonFailure | smb.SMBAuthenticationError | smb.BadNetworkName):
        return FATAL
    if isinstance(exc, HTTPError):
        status = exc.response.status_code
        if status in (401, 407):
            return FATAL
        return TRANSIENT if status >= 500 or status == 429 else (FATAL if listing else OBJECT)
    if isinstance(exc, httpx.TransportError | smb.SMBConnectionClosed | TimeoutError):
        return TRANSIENT
    if isinstance(exc, ConnectionError) or getattr(exc, "errno", None) in _TRANSIENT_ERRNOS:
        return TRANSIENT
    if isinstance(exc, ValueError) and "Failed to connect" in str(exc):  # smbprotocol's connect
        return TRANSIENT
    if isinstance(exc, FileNotFoundError | PermissionError | IsADirectoryError):
        return FATAL if listing else OBJECT
    return ""


def user_and_address(url: str, options: Mapping[str, str]) -> tuple[str | None, str, int | None]:
    parts = urlsplit(url)
    if parts.password:
        raise SourceError(
            f"{parts.scheme}://...: a password in the URL would be stored; give "
            "`--option password_env=VARIABLE` or `--option password_file=PATH` instead"
        )
    if not parts.hostname:
        raise SourceError(f"{url}: name the server, {parts.scheme}://host/...")
    user = unquote(parts.username) if parts.username else options.get("username") or None
    return user, parts.hostname, parts.port


class _FsspecConnector:
    """A listing with versions and a read per object, over one fsspec filesystem."""

    retry: RetryPolicy
    root: str  # the source's folder on the filesystem ("" for the base URL)
    what: str  # the source as people name it, for messages

    def _filesystem(self):
        raise NotImplementedError

    def _call(self, fn: Callable[[], T], what: str, listing: bool) -> T:
        return call(
            fn,
            self.retry,
            lambda exc: _classify(exc, listing),
            what,
            default=FATAL if listing else OBJECT,
        )

    def _version(self, info: Mapping) -> str:
        raise NotImplementedError

    def _url(self, path: str) -> str:
        raise NotImplementedError

    def objects(self, known: Mapping[str, Known]) -> Iterator[RemoteObject]:
        found = self._call(
            lambda: self._filesystem().find(self.root, detail=True),
            f"listing {self.what}",
            listing=True,
        )
        prefix = self.root.rstrip("/") + "/" if self.root.strip("/") else ""
        for name, info in sorted(found.items()):
            if info.get("type") != "file":
                continue
            path = name.lstrip("/") if not prefix else name[len(prefix) :].lstrip("/")
            modified = info.get("mtime") or info.get("modified")
            when = modified.timestamp() if hasattr(modified, "timestamp") else modified
            yield RemoteObject(
                path,
                self._version(info),
                url=self._url(path),
                size=info.get("size"),
                modified=float(when) if when is not None else None,
            )

    def fetch(self, obj: RemoteObject) -> bytes:
        full = f"{self.root.rstrip('/')}/{obj.path}" if self.root.strip("/") else obj.path
        return self._call(lambda: self._filesystem().cat_file(full), obj.url, listing=False)


class SmbConnector(_FsspecConnector):
    def __init__(
        self, url: str, options: Mapping[str, str], environ: Mapping[str, str], retry: RetryPolicy
    ) -> None:
        self.user, self.host, port = user_and_address(url, options)
        self.port = port or 445
        path = unquote(urlsplit(url).path).strip("/")
        if not path:
            raise SourceError(f"{url}: name the share, smb://host/share/optional/folder")
        self.root = "/" + path
        self.password = read_secret(options, "password", environ)
        self.encrypt = {"yes": True, "no": False}.get(options.get("encrypt", ""), None)
        self.retry = retry
        self.what = f"smb://{self.host}:{self.port}/{path}"
        self._fs = None

    def _filesystem(self):
        """The share's filesystem; a session lost since (a restarted server) is opened again."""
        from fsspec.implementations.smb import SMBFileSystem

        if self._fs is None:
            self._fs = SMBFileSystem(
                self.host,
                port=self.port,
                username=self.user,
                password=self.password,
                timeout=int(self.retry.timeout),
                encrypt=self.encrypt,
                register_session_retries=0,  # the product's policy retries
                skip_instance_cache=True,
            )
        return self._fs

    def _call(self, fn: Callable[[], T], what: str, listing: bool) -> T:
        def attempt() -> T:
            try:
                return fn()
            except Exception as exc:
                if _classify(exc, listing) == TRANSIENT:
                    self._drop_session()
                raise

        return super()._call(attempt, what, listing)

    def _drop_session(self) -> None:
        import smbclient

        self._fs = None
        try:
            smbclient.delete_session(self.host, port=self.port)
        except Exception:  # noqa: BLE001 - gone already: the next attempt opens a new one
            pass

    def _version(self, info: Mapping) -> str:
        return f"{info.get('size')}-{info.get('mtime')}"

    def _url(self, path: str) -> str:
        return f"smb://{self.host}:{self.port}{self.root}/{path}"

    def close(self) -> None:
        self._drop_session()


class WebdavConnector(_FsspecConnector):
    def __init__(
        self, url: str, options: Mapping[str, str], environ: Mapping[str, str], retry: RetryPolicy
    ) -> None:
        user, host, port = user_and_address(url, options)
        parts = urlsplit(url)
        scheme = "https" if parts.scheme == "webdavs" else "http"
        netloc = f"{host}:{port}" if port else host
        self.base = f"{scheme}://{netloc}{quote(unquote(parts.path.rstrip('/')))}"
        password = read_secret(options, "password", environ)
        token = read_secret(options, "token", environ)
        self.auth = (user, password or "") if user else None
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.root = ""
        self.retry = retry
        self.what = self.base
        self._fs = None

    def _filesystem(self):
        from webdav4.fsspec import WebdavFileSystem

        if self._fs is None:
            self._fs = WebdavFileSystem(
                self.base,
                auth=self.auth,
                timeout=self.retry.timeout,
                headers=self.headers,
                skip_instance_cache=True,
            )
        return self._fs

    def _version(self, info: Mapping) -> str:
        return str(info.get("etag") or f"{info.get('size')}-{info.get('modified')}")

    def _url(self, path: str) -> str:
        return f"{self.base}/{quote(path)}"

    def close(self) -> None:
        if self._fs is not None:
            self._fs.client.http.close()
