"""The crawler without Kafka: a local site on 127.0.0.1, pages collected in a list."""

from __future__ import annotations

import asyncio
import itertools
import json
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
from aiohttp import web

from schemas import RawPage
from streams.crawl import (
    USER_AGENT,
    CrawlOptions,
    CrawlState,
    HostGate,
    backoff_seconds,
    crawl_into,
    discover,
    load_seeds,
    normalize_url,
    page_links,
    retry_after_seconds,
    same_site,
)
from streams.feed import FeedSummary, human_bytes
from streams.sources import SourceProblem
from tests.integration.feeds_site import FORBIDDEN, PAGES, NewsSite

DELAY = 0.05


@dataclass
class ListSink:
    pages: list[RawPage] = field(default_factory=list)

    async def publish(self, page: RawPage, on_delivered: Callable[[], None] | None = None) -> None:
        self.pages.append(RawPage.from_json(page.to_json()))  # what Kafka would carry
        if on_delivered is not None:
            on_delivered()

    def paths(self, site: NewsSite) -> set[str]:
        return {page.url.removeprefix(site.base) for page in self.pages}


@pytest.fixture
async def site() -> AsyncIterator[NewsSite]:
    news = NewsSite(uuid.uuid4().hex[:12], slow_seconds=1.0)
    await news.start()
    try:
        yield news
    finally:
        await news.stop()


def options_for(tmp_path: Path) -> CrawlOptions:
    return CrawlOptions(
        depth=1, delay=DELAY, per_host=1, timeout=0.5, retries=2, backoff=0.01, max_backoff=0.05,
        state_path=tmp_path / "state.json",
    )  # fmt: skip


def seeds(site: NewsSite) -> list[str]:
    return [site.url("/"), site.url("/feed.xml"), site.url("/sitemap.xml")]


async def test_a_crawl_is_polite_and_complete(site: NewsSite, tmp_path: Path) -> None:
    sink = ListSink()
    options = options_for(tmp_path)
    state = CrawlState.load(options.state_path)
    summary = await crawl_into(seeds(site), sink, options, state)
    state.save()

    assert sink.paths(site) == set(PAGES)
    assert summary.pages == len(PAGES)
    for path in FORBIDDEN:
        assert not site.hits_on(path), f"robots.txt forbids {path}"
    assert summary.skipped["robots"] == 2
    assert summary.skipped["not_html"] == 1  # /api/data
    assert summary.failed == {"redirect_loop": 1}
    assert not summary.ok
    assert len(site.hits_on("/robots.txt")) == 1
    assert len(site.hits_on("/flaky")) == 2, "a 503 is retried"
    assert len(site.hits_on("/slow")) == 2, "a timeout is retried"
    assert len(site.hits_on("/loop/1")) == 1 and len(site.hits_on("/loop/2")) == 1
    for never in ("/news/deep", "/logo.png", "/news/nofollow"):
        assert not site.hits_on(never), never  # beyond the depth, an asset, nofollow
    assert {hit.headers.get("User-Agent") for hit in site.hits} == {USER_AGENT}
    starts = sorted(hit.at for hit in site.hits)
    gaps = [later - earlier for earlier, later in itertools.pairwise(starts)]
    assert min(gaps) >= DELAY - 0.01, f"requests to one host closer than the delay: {min(gaps):.3f}s"

    page = next(p for p in sink.pages if p.url == site.url("/news/a"))
    assert page.crawler == "khabar-crawl"
    assert page.content_type == "text/html; charset=utf-8"
    headers = {name.lower(): value for name, value in page.http_headers.items()}
    assert headers["etag"].startswith('"') and "content-length" not in headers
    assert page.body is not None and site.marker.encode() in page.body

    remembered = json.loads((tmp_path / "state.json").read_text())["pages"]
    assert remembered[site.url("/")]["links"], "the home page's links are remembered"
    assert site.url("/news/a") in remembered

    # The re-crawl asks conditionally, gets 304s, publishes nothing, and still walks the site.
    site.hits.clear()
    again = ListSink()
    state = CrawlState.load(options.state_path)
    second = await crawl_into(seeds(site), again, options, state)
    assert again.pages == []
    assert second.not_modified == len(PAGES) + 2  # the pages, the feed and the sitemap
    for path in PAGES:
        (hit,) = site.hits_on(path)
        assert hit.headers.get("If-None-Match", "").startswith('"'), path
        assert hit.headers.get("If-Modified-Since"), path


async def test_depth_zero_and_page_limit(site: NewsSite, tmp_path: Path) -> None:
    sink = ListSink()
    options = replace(options_for(tmp_path), depth=0, state_path=None)
    summary = await crawl_into([site.url("/")], sink, options)
    assert sink.paths(site) == {"/"} and summary.ok
    sink = ListSink()
    options = replace(options_for(tmp_path), max_pages=2, state_path=None)
    summary = await crawl_into(seeds(site), sink, options)
    assert len(sink.pages) == 2
    assert summary.skipped["max_pages"] > 0


async def test_unreachable_site_fails_after_bounded_retries(tmp_path: Path) -> None:
    from streams.broker import free_port

    sink = ListSink()
    options = replace(options_for(tmp_path), retries=1, state_path=None)
    summary = await crawl_into([f"http://127.0.0.1:{free_port()}/"], sink, options)
    assert sink.pages == []
    assert summary.skipped == {"robots_unavailable": 1}
    assert summary.seeds_skipped == 1 and not summary.ok


async def test_robots_server_error_disallows_and_4xx_allows(tmp_path: Path) -> None:
    async def robots_500(request: web.Request) -> web.Response:
        if request.path == "/robots.txt":
            return web.Response(status=500)
        return web.Response(text="<html><body>x</body></html>", content_type="text/html")

    async def robots_404(request: web.Request) -> web.Response:
        if request.path == "/robots.txt":
            return web.Response(status=404)
        return web.Response(text="<html><body>x</body></html>", content_type="text/html")

    for handler, published in ((robots_500, 0), (robots_404, 1)):
        app = web.Application()
        app.router.add_get("/{tail:.*}", handler)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        from streams.broker import free_port

        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            sink = ListSink()
            options = replace(options_for(tmp_path), retries=0, state_path=None)
            await crawl_into([f"http://127.0.0.1:{port}/"], sink, options)
            assert len(sink.pages) == published, handler.__name__
        finally:
            await runner.cleanup()


async def test_host_gate_spaces_request_starts() -> None:
    gate = HostGate(concurrency=2, delay=0.05)
    loop = asyncio.get_running_loop()
    starts: list[float] = []

    async def one() -> None:
        async with gate.slot():
            starts.append(loop.time())

    await asyncio.gather(*(one() for _ in range(4)))
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert min(gaps) >= 0.045


def test_feeds_and_sitemaps_are_discovered() -> None:
    rss = b"""<?xml version="1.0"?><rss version="2.0"><channel>
      <item><link>https://news.example/a?x=1#top</link></item><item><link> /b </link></item>
      <item><link>https://news.example/a?x=1</link></item></channel></rss>"""
    assert discover(rss, "https://news.example/feed") == (
        "feed", ["https://news.example/a?x=1", "https://news.example/b"],
    )  # fmt: skip
    atom = b"""<feed xmlns="http://www.w3.org/2005/Atom"><entry>
      <link rel="self" href="https://news.example/api/1"/><link href="https://news.example/1"/></entry>
      <entry><link rel="alternate" href="/2"/></entry></feed>"""
    assert discover(atom, "https://news.example/") == (
        "feed",
        ["https://news.example/1", "https://news.example/2"],
    )
    rdf = b"""<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">
      <item><link>https://news.example/r</link></item></rdf:RDF>"""
    assert discover(rdf, "https://news.example/") == ("feed", ["https://news.example/r"])
    index = b"""<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
      <sitemap><loc>https://news.example/s1.xml</loc></sitemap></sitemapindex>"""
    assert discover(index, "https://news.example/") == ("sitemap_index", ["https://news.example/s1.xml"])
    import gzip

    urlset = b"""<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
      <url><loc>https://news.example/x</loc></url></urlset>"""
    assert discover(gzip.compress(urlset), "https://news.example/") == ("sitemap", ["https://news.example/x"])
    assert discover(b"<html><body>no</body></html>", "https://news.example/") is None
    assert discover(b"not xml", "https://news.example/") is None
    evil = b"""<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e SYSTEM "file:///etc/passwd">]>
      <rss><channel><item><link>&e;</link></item></channel></rss>"""
    found = discover(evil, "https://news.example/")
    assert found is not None and not any("root" in url for url in found[1])


def test_links_and_urls() -> None:
    html = b"""<html><head><base href="https://news.example/section/"></head><body>
      <a href="story-1">1</a><a href="/story-2#c">2</a><a href="https://news.example/story-2">dup</a>
      <a href="javascript:void(0)">js</a><a rel="nofollow" href="/ads">ad</a><a>none</a></body></html>"""
    assert page_links(html, "https://news.example/") == [
        "https://news.example/section/story-1", "https://news.example/story-2",
    ]  # fmt: skip
    assert page_links(b"", "https://news.example/") == []
    assert normalize_url("HTTPS://User:pw@News.Example:443/a?b=1#f") == "https://news.example/a?b=1"
    assert normalize_url("http://news.example:8080") == "http://news.example:8080/"
    assert normalize_url("ftp://news.example/") is None
    assert normalize_url("http://news.example:99999/") is None
    assert same_site("https://www.news.example/a", "http://news.example/b")
    assert not same_site("https://news.example/a", "https://other.example/a")


def test_backoff_and_retry_after() -> None:
    options = CrawlOptions(backoff=1.0, max_backoff=30.0)
    assert [backoff_seconds(n, options) for n in range(6)] == [1, 2, 4, 8, 16, 30]
    assert backoff_seconds(0, options, retry_after=5) == 5
    assert backoff_seconds(0, options, retry_after=3600) == 30
    assert retry_after_seconds("7") == 7
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0
    assert retry_after_seconds("soon") is None


def test_seed_files(tmp_path: Path) -> None:
    listing = tmp_path / "seeds.txt"
    listing.write_text(
        "# news sites\nhttps://news.example/\n\n  https://news.example/feed.xml  \nnot a url\n"
    )
    urls, problems = load_seeds([str(listing), "https://other.example/sitemap.xml"])
    assert urls == [
        "https://news.example/",
        "https://news.example/feed.xml",
        "https://other.example/sitemap.xml",
    ]
    assert problems == [SourceProblem(f"{listing}:5", "bad_seed", "not an http(s) URL: 'not a url'")]
    with pytest.raises(ValueError):
        load_seeds([str(tmp_path / "missing.txt")])


def test_state_survives_a_broken_file(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_text("{not json")
    state = CrawlState.load(path)
    assert state.entries == {} and state.warning
    state.save()
    assert json.loads(path.read_text()) == {"version": 1, "pages": {}}


def test_feed_summary_describes_everything() -> None:
    summary = FeedSummary(published=3, bytes=2500, seconds=1.0)
    summary.skipped.update({"request": 2, "revisit": 1})
    summary.problems.append(SourceProblem("x.warc.gz@10", "truncated", "cut"))
    assert summary.describe() == (
        "published 3 pages (2.5 kB, 3.0 pages/s); skipped 3: request 2, revisit 1; failed 1: truncated 1"
    )
    assert not summary.ok
    assert human_bytes(999) == "999 B" and human_bytes(1_500_000) == "1.5 MB"
