"""Connectors, one per kind of store; the URL's scheme picks it.

| scheme | store | module |
| --- | --- | --- |
| ``file`` | a folder on this machine | ``local`` |
| ``s3`` | AWS S3 or an S3-compatible store | ``s3`` |
| ``smb`` | a Windows or Samba share | ``filesystems`` |
| ``webdav``, ``webdavs`` | Nextcloud, ownCloud, SharePoint libraries | ``filesystems`` |
| ``http``, ``https`` | a web site (crawled) | ``web`` |

``check_source`` refuses a source that could never work (unknown scheme, unknown option, a
secret written as an option, a bad value) before it is stored; ``open_connector`` opens one
with its credentials, for one sync.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from search.ingest.model import ParseLimits
from search.sources.connectors import filesystems, local, s3, web
from search.sources.connectors.base import COMMON_OPTIONS, Connector
from search.sources.connectors.web import CrawlLimits
from search.sources.model import SourceError, SourceSpec, name_problem
from search.sources.retry import RetryPolicy
from search.sources.secrets import refuse_plain_secret

KINDS = {
    "file": "file",
    "s3": "s3",
    "smb": "smb",
    "webdav": "webdav",
    "webdavs": "webdav",
    "http": "web",
    "https": "web",
}
OPTIONS: dict[str, dict[str, str]] = {
    "file": local.OPTIONS,
    "s3": s3.OPTIONS,
    "smb": filesystems.SMB_OPTIONS,
    "webdav": filesystems.WEBDAV_OPTIONS,
    "web": web.OPTIONS,
}
# the kinds whose original people open by a link; the others are downloaded from the mirror,
# through the reader's permission check
LINKED = frozenset({"webdav", "web"})
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhd]?)$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class OpenSettings:
    """What opening a connector needs besides the source: retries, crawl and parse limits."""

    retry: RetryPolicy = RetryPolicy()
    crawl: CrawlLimits = CrawlLimits()
    parse: ParseLimits = ParseLimits()


def kind_of(spec: SourceSpec) -> str:
    kind = KINDS.get(spec.scheme)
    if kind is None:
        schemes = ", ".join(f"{s}://" for s in KINDS)
        raise SourceError(f"{spec.url}: no connector for this scheme; use one of {schemes}")
    return kind


def seconds(text: str) -> float:
    """A duration: ``900``, ``15m``, ``6h``, ``1d``."""
    match = _DURATION.match(str(text).strip().lower())
    if not match or float(match.group(1)) <= 0:
        raise SourceError(f"{text!r} is not a duration; write e.g. 900, 15m, 6h or 1d")
    return float(match.group(1)) * _UNITS[match.group(2)]


def _number(spec: SourceSpec, key: str, kind: type, low: float):
    try:
        value = kind(spec.options[key])
    except ValueError:
        raise SourceError(f"option {key}={spec.options[key]!r} must be a number") from None
    if value < low:
        raise SourceError(f"option {key}={value} must be at least {low}")
    return value


def crawl_limits(spec: SourceSpec, defaults: CrawlLimits) -> CrawlLimits:
    """The crawl limits of a web source: its options over the settings' defaults."""
    found = {}
    for key, kind, low in (("max_pages", int, 1), ("max_depth", int, 0), ("delay", float, 0)):
        if key in spec.options:
            found[key] = _number(spec, key, kind, low)
    if spec.options.get("user_agent"):
        found["user_agent"] = spec.options["user_agent"]
    return replace(defaults, **found)


def interval_of(spec: SourceSpec, default: float) -> float:
    """How often ``spec`` is synced: its ``interval`` option, else ``default`` seconds."""
    return seconds(spec.options["interval"]) if spec.options.get("interval") else default


def check_source(spec: SourceSpec) -> None:
    """SourceError naming the fix when ``spec`` could never be synced."""
    problem = name_problem(spec.name)
    if problem:
        raise SourceError(problem)
    kind = kind_of(spec)
    allowed = OPTIONS[kind] | COMMON_OPTIONS
    for key in spec.options:
        problem = refuse_plain_secret(key)
        if problem:
            raise SourceError(problem)
        if key not in allowed:
            listed = ", ".join(sorted(allowed))
            raise SourceError(f"{kind_of(spec)} sources take no option {key!r}; they take {listed}")
    interval_of(spec, 1.0)
    if kind == "web":
        crawl_limits(spec, CrawlLimits())
    _address(spec, kind)


def _address(spec: SourceSpec, kind: str) -> None:
    """Refuse a URL that names no place (and one that carries a password) before storing it."""
    if kind == "file":
        local.folder_of(spec.url)
    elif kind == "s3":
        s3.bucket_and_prefix(spec.url)
    elif kind in ("smb", "webdav"):
        filesystems.user_and_address(spec.url, spec.options)
    else:
        parts = urlsplit(spec.url)
        if not parts.hostname:
            raise SourceError(
                f"{spec.url}: write the start page, e.g. https://intranet.example.com/"
            )
        if parts.username or parts.password:
            raise SourceError(f"{spec.url}: give credentials as options, never in the URL")


def open_connector(
    spec: SourceSpec, environ: Mapping[str, str], settings: OpenSettings = OpenSettings()
) -> Connector:
    """The connector of ``spec`` with its credentials read from ``environ`` or files."""
    kind = kind_of(spec)
    if kind == "file":
        return local.LocalConnector(spec.url, settings.parse)
    if kind == "s3":
        return s3.S3Connector(spec.url, spec.options, environ, settings.retry)
    if kind == "smb":
        return filesystems.SmbConnector(spec.url, spec.options, environ, settings.retry)
    if kind == "webdav":
        return filesystems.WebdavConnector(spec.url, spec.options, environ, settings.retry)
    limits = crawl_limits(spec, settings.crawl)
    return web.WebConnector(spec.url, spec.options, environ, settings.retry, limits, settings.parse)


__all__ = [
    "KINDS",
    "LINKED",
    "OPTIONS",
    "Connector",
    "CrawlLimits",
    "OpenSettings",
    "check_source",
    "crawl_limits",
    "interval_of",
    "kind_of",
    "open_connector",
    "seconds",
]
