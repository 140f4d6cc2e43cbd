"""Settings of connected document stores (``docsearch sources``): how often each is synced,
how hard a failing store is retried, and how politely a web site is crawled. A source's own
``--option`` overrides the crawl and interval defaults for that source alone."""

from __future__ import annotations

from pydantic import BaseModel, Field


class SourcesSettings(BaseModel):
    source_interval_seconds: float = Field(
        3600.0,
        description="how often a source is synced when its own `interval` option does not say; the sources sensor checks it for changes at that pace and the freshness check fails when it has not synced for longer",
        gt=0,
    )
    source_retries: int = Field(
        4,
        description="attempts at a listing or download of a source before the store counts as down (waits between them double from `DOCSEARCH_SOURCE_BACKOFF_SECONDS`)",
        ge=1,
    )
    source_backoff_seconds: float = Field(
        1.0, description="the first wait between two attempts at a source", ge=0
    )
    source_timeout_seconds: float = Field(
        30.0, description="network timeout of one request to a source", gt=0
    )
    source_fetch_threads: int = Field(
        8, description="downloads of one source that run at the same time", ge=1
    )
    source_batch_size: int = Field(
        256,
        description="objects fetched and parsed between two checkpoints of a sync (a sync stopped part-way resumes after the last one)",
        ge=1,
    )
    crawl_max_pages: int = Field(
        1000, description="pages a web source's crawl reads at most (option `max_pages`)", ge=1
    )
    crawl_max_depth: int = Field(
        5,
        description="links followed from the start page at most (option `max_depth`; sitemap pages count as depth 1)",
        ge=0,
    )
    crawl_delay_seconds: float = Field(
        1.0,
        description="wait between two requests to a web site (option `delay`; a longer `Crawl-delay` in robots.txt wins)",
        ge=0,
    )
    crawl_user_agent: str = Field(
        "docsearch-crawler",
        description="the name the crawler gives web sites, and looks for in their robots.txt",
    )
