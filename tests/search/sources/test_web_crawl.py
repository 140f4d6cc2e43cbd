"""The crawler against a local web site: robots.txt obeyed, page and depth limits held, no
request to another host, sitemap pages found, the delay kept, main text extracted, and an
unchanged site re-crawled with conditional requests only."""

from __future__ import annotations

import pytest

from search.sources import Mirror, SourceSpec, open_connector, sync
from search.sources.connectors import OpenSettings
from search.sources.connectors.web import CrawlLimits
from search.sources.retry import RetryPolicy
from tests.servers import Site

NAV = "<nav><a href='/index.html'>Home</a> menuword</nav><footer>footerword</footer>"


def page(title: str, body: str, links: str = "", head: str = "") -> str:
    return (
        f"<html><head><title>{title}</title>{head}</head><body>{NAV}<main><h1>{title}</h1>"
        f"<p>{body} This paragraph is long enough to count as the main text of the page.</p>"
        f"{links}</main></body></html>"
    )


@pytest.fixture
def sites(tmp_path):
    """The site under test and another host (another port) that must never be asked."""
    other = Site(tmp_path / "other")
    other.root.mkdir()
    (other.root / "outside.html").write_text(page("Outside", "never to be read"))
    other.start()
    site = Site(tmp_path / "site")
    site.start()  # the port first: robots.txt and the sitemap name it
    root = site.root
    (root / "private").mkdir(parents=True)
    (root / "robots.txt").write_text(
        f"User-agent: *\nDisallow: /private/\nSitemap: {site.url}/sitemap.xml\n"
    )
    (root / "sitemap.xml").write_text(
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<url><loc>{site.url}/orphan.html</loc></url>"
        f"<url><loc>{other.url}/outside.html</loc></url></urlset>"
    )
    (root / "index.html").write_text(
        page(
            "Intranet",
            "Welcome to the intranet.",
            "<a href='a.html'>A</a> <a href='b.html'>B</a> <a href='/private/secret.html'>S</a>"
            f" <a href='{other.url}/outside.html'>out</a> <a href='hidden.html'>H</a>",
        )
    )
    (root / "a.html").write_text(
        page("Travel", "Hotels in London cost 180 pounds.", "<a href='c.html'>C</a>")
    )
    (root / "b.html").write_text(page("Leave", "Parental leave is sixteen weeks."))
    (root / "c.html").write_text(page("Deep", "A page two links deep."))
    (root / "orphan.html").write_text(page("Orphan", "Linked from the sitemap only."))
    (root / "hidden.html").write_text(
        page("Draft", "Not for the index.", head="<meta name='robots' content='noindex'>")
    )
    (root / "private" / "secret.html").write_text(page("Secret", "Salaries of everyone."))
    yield site, other
    site.stop()
    other.stop()


def crawl(site: Site, **limits):
    settings = OpenSettings(
        retry=RetryPolicy(attempts=2, backoff=0.05, timeout=5),
        crawl=CrawlLimits(delay=limits.pop("delay", 0.0), **limits),
    )
    return open_connector(SourceSpec("intranet", f"{site.url}/"), {}, settings)


def test_robots_is_obeyed_the_page_limit_holds_and_no_request_leaves_the_host(sites):
    site, other = sites
    found = list(crawl(site, max_pages=3).objects({}))
    # start page (depth 0), then the sitemap's orphan (depth 1), then the start page's first link
    assert [o.path for o in found] == ["index.html", "orphan.html", "a.html"]
    assert "/private/secret.html" not in site.paths()  # disallowed: never asked for
    assert other.requests == []  # linked and in the sitemap, yet never asked
    pages = [p for p in site.paths() if p not in ("/robots.txt", "/sitemap.xml")]
    assert len(pages) == 3  # the limit stops the requests too, not only what is kept


def test_the_whole_site_within_depth_with_sitemap_pages_and_without_noindex_ones(sites):
    site, other = sites
    found = {o.path: o for o in crawl(site, max_pages=100, max_depth=1).objects({})}
    # c.html is two links deep; hidden.html says noindex; secret.html is disallowed
    assert sorted(found) == ["a.html", "b.html", "index.html", "orphan.html"]
    assert "/c.html" not in site.paths() and "/hidden.html" in site.paths()
    assert all(o.fmt == "webpage" and o.version.startswith("modified:") for o in found.values())
    assert other.requests == []


def test_requests_keep_the_delay(sites):
    site, _ = sites
    list(crawl(site, max_pages=4, delay=0.3).objects({}))
    times = [t for t, _, _ in site.requests]
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    # seen by the server, so a request's own latency jitters each gap a little; the crawl as a
    # whole can never be faster than one request per 0.3 s
    assert len(gaps) >= 4 and min(gaps) >= 0.25, gaps
    assert times[-1] - times[0] >= 0.3 * len(gaps) - 0.03


def test_main_text_only_and_an_unchanged_site_costs_conditional_requests(sites, tmp_path):
    site, _ = sites
    mirror = Mirror(tmp_path / "mirror")
    first = sync("intranet", crawl(site, max_pages=100), mirror)
    # index, orphan, a, b, c (hidden.html says noindex, secret.html is disallowed)
    assert (first.added, first.updated, first.deleted, first.failed) == (5, 0, 0, [])
    docs = {e.path: e.document for e in mirror.entries()}
    assert docs["a.html"].title == "Travel"
    assert "Hotels in London cost 180 pounds." in docs["a.html"].text
    # trafilatura keeps the main content: the menu and footer of every page are left out
    assert "menuword" not in docs["a.html"].text and "footerword" not in docs["a.html"].text

    site.requests.clear()
    again = sync("intranet", crawl(site, max_pages=100), mirror)
    assert (again.added, again.updated, again.deleted, again.unchanged) == (0, 0, 0, 5)
    pages = {"/", "/orphan.html", "/a.html", "/b.html", "/c.html"}  # what the mirror holds
    asked = [h for _, p, h in site.requests if p in pages]
    assert len(asked) == 5 and all("If-Modified-Since" in h for h in asked)  # 304s, no body

    (site.root / "b.html").unlink()  # a page gone: deleted from the mirror
    third = sync("intranet", crawl(site, max_pages=100), mirror)
    assert (third.deleted, third.unchanged) == (1, 4)
    mirror.close()
