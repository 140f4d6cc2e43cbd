"""``http://`` and ``https://``: a polite crawler for an intranet site.

- **One host.** Only URLs of the start URL's scheme, host and port are ever requested;
  redirects are followed by hand, so a redirect elsewhere is not followed either.
- **robots.txt** (Protego) is read first and obeyed for the crawler's user agent, with its
  ``Crawl-delay`` when longer than the configured delay; its ``Sitemap:`` lines and
  ``/sitemap.xml`` (when present) add their pages (at depth 1). ``<meta name="robots">``
  ``noindex`` keeps a page out, ``nofollow`` (and ``rel="nofollow"``) its links unfollowed.
- **Limits.** At most ``max_pages`` pages, links followed ``max_depth`` deep from the start
  page, one request at a time with ``delay`` seconds between requests.
- **Versions.** A page's version is its ETag, else its Last-Modified, else a hash of its bytes;
  a re-crawl asks with ``If-None-Match`` / ``If-Modified-Since``, and a 304 answer costs no
  download: the page's links are followed from the mirror's record of them.
Pages are parsed as ``webpage`` (trafilatura's main text, in the parse workers); PDF, Word,
Markdown and text files the site links to are parsed as their format. A page that cannot be
read now (a 5xx after the retries, a dropped connection) stops the crawl: an incomplete crawl
must not be taken for deleted pages.
"""

from __future__ import annotations

import hashlib
import time
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import PurePosixPath
from urllib.parse import unquote, urldefrag, urljoin, urlsplit, urlunsplit

from search.ingest.model import SUPPORTED_SUFFIXES, ParseLimits
from search.sources.model import Known, ObjectError, RemoteObject, SourceError
from search.sources.retry import OBJECT, TRANSIENT, RetryPolicy, call
from search.sources.secrets import read_secret, secret_options

OPTIONS = {
    "max_pages": "pages read at most (default: DOCSEARCH_CRAWL_MAX_PAGES)",
    "max_depth": "links followed from the start page at most (default: DOCSEARCH_CRAWL_MAX_DEPTH)",
    "delay": "seconds between two requests (default: DOCSEARCH_CRAWL_DELAY_SECONDS)",
    "user_agent": "the crawler's name (default: DOCSEARCH_CRAWL_USER_AGENT)",
    "username": "basic authentication: the account",
    **secret_options("password", "token"),
}
PAGE_TYPES = ("text/html", "application/xhtml+xml")
FILE_TYPES = {
    "application/pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "text/markdown": "markdown",
    "text/plain": "text",
}
MAX_SITEMAPS = 20  # sitemap files read per crawl (an index may name more)


@dataclass(frozen=True)
class CrawlLimits:
    max_pages: int = 1000
    max_depth: int = 5
    delay: float = 1.0
    user_agent: str = "docsearch-crawler"


class _ServerError(Exception):
    """A 5xx or 429 answer: worth another try."""


def _classify(exc: BaseException) -> str:
    import requests

    if isinstance(exc, _ServerError | requests.ConnectionError | requests.Timeout):
        return TRANSIENT
    return OBJECT


def canonical(url: str) -> str:
    """``url`` without its fragment, scheme and host in lower case, default ports dropped."""
    url, _ = urldefrag(url)
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    netloc = host if parts.port in (None, default) else f"{host}:{parts.port}"
    return urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", parts.query, ""))


def path_for(url: str) -> str:
    """The page's path inside the source: its URL path ("index.html" for a folder), with a
    short hash of the query string when it has one."""
    parts = urlsplit(url)
    path = unquote(parts.path).lstrip("/")
    if not path or path.endswith("/"):
        path += "index.html"
    if parts.query:
        path += "__" + hashlib.sha1(parts.query.encode()).hexdigest()[:10]
    return path


def _version(response, body: bytes) -> str:
    if response.headers.get("ETag"):
        return "etag:" + response.headers["ETag"]
    if response.headers.get("Last-Modified"):
        return "modified:" + response.headers["Last-Modified"]
    return "sha256:" + hashlib.sha256(body).hexdigest()


def _conditional(version: str) -> dict[str, str]:
    kind, _, value = version.partition(":")
    if kind == "etag":
        return {"If-None-Match": value}
    if kind == "modified":
        return {"If-Modified-Since": value}
    return {}


def _modified(response) -> float | None:
    try:
        return parsedate_to_datetime(response.headers["Last-Modified"]).timestamp()
    except (KeyError, TypeError, ValueError):
        return None


def _links(body: bytes, url: str) -> tuple[tuple[str, ...], bool]:
    """(the page's links, absolute; whether the page may be indexed)."""
    import lxml.html

    try:
        page = lxml.html.document_fromstring(body, base_url=url)
    except (ValueError, lxml.etree.ParserError):
        return (), True
    robots = " ".join(page.xpath("//meta[@name='robots' or @name='ROBOTS']/@content")).lower()
    links = (
        ()
        if "nofollow" in robots
        else tuple(
            urljoin(url, href.strip())
            for a in page.xpath("//a[@href]")
            if "nofollow" not in (a.get("rel") or "").lower()
            for href in [a.get("href")]
        )
    )
    return links, "noindex" not in robots


def _sitemap_locations(body: bytes) -> tuple[list[str], list[str]]:
    """(pages, nested sitemaps) a sitemap or sitemap index names."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError:
        return [], []
    locations = [(loc.getparent(), (loc.text or "").strip()) for loc in root.iter("{*}loc")]
    nested = [text for parent, text in locations if etree.QName(parent).localname == "sitemap"]
    pages = [text for parent, text in locations if etree.QName(parent).localname == "url"]
    return pages, nested


class WebConnector:
    def __init__(
        self,
        url: str,
        options: Mapping[str, str],
        environ: Mapping[str, str],
        retry: RetryPolicy,
        limits: CrawlLimits,
        parse_limits: ParseLimits,
    ) -> None:
        import requests

        parts = urlsplit(url)
        if not parts.hostname or parts.password:
            raise SourceError(f"{url}: write the start page, e.g. https://intranet.example.com/")
        self.start = canonical(url)
        self.origin = urlsplit(self.start)[:2]
        self.limits, self.retry, self.parse_limits = limits, retry, parse_limits
        self.session = requests.Session()
        self.session.headers["User-Agent"] = limits.user_agent
        user, token = options.get("username"), read_secret(options, "token", environ)
        if user:
            self.session.auth = (user, read_secret(options, "password", environ) or "")
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"
        self.delay = limits.delay
        self._last = 0.0

    def same_host(self, url: str) -> bool:
        return urlsplit(canonical(url))[:2] == self.origin

    def _get(self, url: str, headers: Mapping[str, str] | None = None):
        """One GET to the site, after the delay since the previous one; never another host."""
        if not self.same_host(url):
            raise ObjectError(f"{url} is on another host; the crawler stays on {self.start}")

        def request():
            wait = self._last + self.delay - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self._last = time.monotonic()
            response = self.session.get(
                url, headers=dict(headers or {}), timeout=self.retry.timeout,
                allow_redirects=False, stream=True,
            )  # fmt: skip
            if response.status_code >= 500 or response.status_code == 429:
                response.close()
                raise _ServerError(f"HTTP {response.status_code} from {url}")
            return response

        return call(request, self.retry, _classify, f"reading {url}")

    def _body(self, response) -> bytes:
        """The answer's bytes, never more than the parse size limit."""
        cap = self.parse_limits.max_file_bytes
        body = b"".join(response.iter_content(1 << 16, decode_unicode=False))[: cap + 1]
        response.close()
        if len(body) > cap:
            raise ObjectError(f"the page is over {cap:,} bytes (ParseLimits.max_file_bytes)")
        return body

    def _robots(self):
        from protego import Protego

        response = self._get(urljoin(self.start, "/robots.txt"))
        text = self._body(response).decode("utf-8", "replace") if response.ok else ""
        response.close()
        return Protego.parse(text)

    def _sitemaps(self, robots) -> list[str]:
        queue = deque([urljoin(self.start, "/sitemap.xml"), *robots.sitemaps])
        seen, pages = set(), []
        while queue and len(seen) < MAX_SITEMAPS:
            url = canonical(queue.popleft())
            if url in seen or not self.same_host(url) or not robots.can_fetch(url, self.ua):
                continue
            seen.add(url)
            response = self._get(url)
            if response.status_code != 200:
                response.close()
                continue
            found, nested = _sitemap_locations(self._body(response))
            pages += found
            queue.extend(nested)
        return pages

    @property
    def ua(self) -> str:
        return self.limits.user_agent

    def objects(self, known: Mapping[str, Known]) -> Iterator[RemoteObject]:
        robots = self._robots()
        self.delay = max(self.limits.delay, float(robots.crawl_delay(self.ua) or 0))
        queue = deque([(self.start, 0)])
        queue.extend((url, 1) for url in self._sitemaps(robots))
        seen_urls: set[str] = set()
        seen_paths: set[str] = set()
        pages, requests_left = 0, 3 * self.limits.max_pages + 10  # redirects, non-documents
        while queue and pages < self.limits.max_pages and requests_left > 0:
            url, depth = queue.popleft()
            url = canonical(url)
            if url in seen_urls or not self.same_host(url) or not robots.can_fetch(url, self.ua):
                continue
            seen_urls.add(url)
            path = path_for(url)
            if path in seen_paths:
                continue
            previous = known.get(path)
            requests_left -= 1
            response = self._get(url, _conditional(previous.version) if previous else {})
            if response.is_redirect:
                queue.appendleft((urljoin(url, response.headers.get("Location", "")), depth))
                response.close()
                continue
            found = self._page(url, path, response, previous)
            if found is None:
                continue
            seen_paths.add(path)
            pages += 1
            if found.version:  # noindex pages are crawled through, not indexed
                yield found
            if depth < self.limits.max_depth:
                queue.extend((link, depth + 1) for link in found.links)

    def _page(self, url: str, path: str, response, previous: Known | None) -> RemoteObject | None:
        """The object a page's answer makes (version "" for a noindex page); None when the
        answer is no document (gone, refused, a type that is not read)."""
        if response.status_code == 304 and previous is not None:
            response.close()
            return RemoteObject(path, previous.version, url=url, fmt="webpage",
                                links=previous.links)  # fmt: skip
        if response.status_code != 200:
            response.close()
            return None
        kind = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        suffix_fmt = SUPPORTED_SUFFIXES.get(PurePosixPath(urlsplit(url).path).suffix.lower())
        page = kind in PAGE_TYPES or (not kind and suffix_fmt == "html")
        fmt = "webpage" if page else FILE_TYPES.get(kind) or suffix_fmt
        if fmt is None or fmt == "html":  # an HTML file served as another type: not a page
            response.close()
            return None
        try:
            body = self._body(response)
        except ObjectError as exc:
            return RemoteObject(path, "too-big", url=url, problem=str(exc))
        links, indexable = _links(body, url) if fmt == "webpage" else ((), True)
        version = _version(response, body) if indexable else ""
        return RemoteObject(path, version, url=url, size=len(body), modified=_modified(response),
                            fmt=fmt, data=body, links=links)  # fmt: skip

    def fetch(self, obj: RemoteObject) -> bytes:
        if obj.data is not None:
            return obj.data
        response = self._get(obj.url)
        if response.status_code != 200:
            response.close()
            raise ObjectError(f"HTTP {response.status_code} from {obj.url}")
        return self._body(response)

    def close(self) -> None:
        self.session.close()
