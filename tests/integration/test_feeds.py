"""Every feed path through a real Kafka and a real worker: WARC, stdin JSONL, `khabar crawl`, Scrapy.

Each test publishes pages nobody else publishes (a fresh marker, a fresh local site on a random
port) and waits, with a deadline, until their page_ids come out on `articles`.
"""

from __future__ import annotations

import asyncio
import io
import itertools
import os
import sys
import textwrap
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, ConsumerRecord
from warcio.statusandheaders import StatusAndHeaders  # type: ignore[import-untyped]
from warcio.warcwriter import WARCWriter  # type: ignore[import-untyped]

from schemas import RawPage
from streams.broker import free_port
from streams.crawl import USER_AGENT, CrawlOptions, crawl
from tests.integration.conftest import Pipeline, documents
from tests.integration.feeds_site import FORBIDDEN, PAGES, NewsSite, article_html, news_paragraphs

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
WAIT_SECONDS = 90.0
DELAY = 0.1


def article_text(title: str, marker: str) -> str:
    return "\n\n".join([f"{title} {marker}", *news_paragraphs(title, marker)])


def cli_env(pipeline: Pipeline) -> dict[str, str]:
    return {
        **os.environ,
        "KHABAR_BROKER": pipeline.settings.bootstrap_servers,
        "KHABAR_TOPIC_PREFIX": pipeline.settings.topic_prefix,
        "KHABAR_APP_ID": pipeline.settings.app_id,
        "PYTHONPATH": str(REPO),
    }


async def run_cli(
    args: list[str], env: dict[str, str], stdin: bytes | None = None, timeout: float = 60.0
) -> tuple[int, str]:
    """Run ``python -m streams.cli ARGS`` without blocking the loop (local sites keep serving)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "streams.cli", *args, env=env, cwd=REPO,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(stdin), timeout)
    assert process.returncode is not None
    return process.returncode, out.decode() + err.decode()


async def articles_for(pipeline: Pipeline, page_ids: set[str]) -> dict[str, dict[str, object]]:
    """Wait until every page id is out on some output topic; return the articles by page id."""

    def done(records: list[ConsumerRecord[bytes, bytes]]) -> bool:
        return page_ids <= {orjson.loads(r.value or b"{}").get("page_id") for r in records}

    records = await pipeline.outputs(done, timeout=WAIT_SECONDS)
    articles = {str(d["page_id"]): d for d in documents(records, pipeline.topic("articles"))}
    missing = page_ids - set(articles)
    assert not missing, f"not on articles: {[d for d in documents(records, pipeline.topic('dead-letters'))]}"
    return {page_id: articles[page_id] for page_id in page_ids}


async def raw_pages(pipeline: Pipeline, done: Callable[[list[RawPage]], bool]) -> list[RawPage]:
    """Read raw-pages from the beginning until ``done(pages)`` or the deadline."""
    consumer = AIOKafkaConsumer(
        pipeline.topic("raw-pages"), bootstrap_servers=pipeline.settings.bootstrap_servers,
        auto_offset_reset="earliest", enable_auto_commit=False,
    )  # fmt: skip
    await consumer.start()
    pages: list[RawPage] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_SECONDS
    try:
        while not done(pages):
            assert loop.time() < deadline, f"raw-pages holds only {[p.url for p in pages][-20:]}"
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                pages.extend(RawPage.from_json(record.value) for record in batch if record.value)
    finally:
        await consumer.stop()
    return pages


@pytest.fixture
async def site() -> AsyncIterator[NewsSite]:
    news = NewsSite(uuid.uuid4().hex[:12], slow_seconds=1.5)
    await news.start()
    try:
        yield news
    finally:
        await news.stop()


def assert_polite(site: NewsSite, delay: float) -> None:
    for path in FORBIDDEN:
        assert not site.hits_on(path), f"robots.txt forbids {path}, yet it was requested"
    starts = sorted(hit.at for hit in site.hits)
    gaps = [later - earlier for earlier, later in itertools.pairwise(starts)]
    assert min(gaps) >= delay - 0.02, f"two requests {min(gaps):.3f}s apart; the per-host delay is {delay}s"


# ----------------------------------------------------------------------------------------- WARC


def build_warc(marker: str) -> tuple[bytes, list[RawPage]]:
    """A gzipped WARC with two articles, a request, a revisit, an image, a truncated record, and
    a last record cut off by the end of the file; returns it and the pages it should give."""
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=True)
    writer.write_record(writer.create_warcinfo_record("feeds.warc.gz", {"software": "khabar-test"}))
    expected: list[RawPage] = []

    def response(path: str, body: bytes, content_type: str, extra: dict[str, str] | None = None) -> None:
        url = f"https://warc.example/{marker}/{path}"
        date = "2026-02-06T09:30:00Z"
        headers = [("Content-Type", content_type), ("Server", "test")]
        http = StatusAndHeaders("200 OK", headers, protocol="HTTP/1.1")
        warc_headers = {"WARC-Date": date, **(extra or {})}
        record = writer.create_warc_record(
            url, "response", payload=io.BytesIO(body), http_headers=http, warc_headers_dict=warc_headers
        )
        writer.write_record(record)
        if content_type.startswith("text/html") and not extra:
            fetched_at = datetime(2026, 2, 6, 9, 30, tzinfo=UTC)
            expected.append(RawPage(url=url, fetched_at=fetched_at, body=body, content_type=content_type))

    request = StatusAndHeaders("GET / HTTP/1.1", [("Host", "warc.example")], is_http_request=True)
    writer.write_record(
        writer.create_warc_record(f"https://warc.example/{marker}/one", "request", http_headers=request)
    )
    response("one", article_html("خبر الأرشيف الأول", marker), "text/html; charset=utf-8")
    writer.write_record(
        writer.create_revisit_record(
            f"https://warc.example/{marker}/one", digest="sha1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            refers_to_uri=f"https://warc.example/{marker}/one", refers_to_date="20260206093000",
            http_headers=StatusAndHeaders("304 Not Modified", [], protocol="HTTP/1.1"),
        )
    )  # fmt: skip
    response("photo.jpg", b"\xff\xd8\xff\xe0 not really a jpeg", "image/jpeg")
    response("cut", article_html("خبر مقطوع", marker)[:400], "text/html", {"WARC-Truncated": "length"})
    response("two", article_html("خبر الأرشيف الثاني", marker), "text/html; charset=utf-8")
    complete = out.getvalue()
    response("lost", article_html("خبر ضائع", marker), "text/html")
    expected.pop()  # the last record will be cut off by the end of the file
    data = out.getvalue()
    return data[: len(complete) + (len(data) - len(complete)) // 2], expected


async def test_warc_archive_feeds_responses_and_counts_the_rest(pipeline: Pipeline, tmp_path: Path) -> None:
    marker = uuid.uuid4().hex
    data, expected = build_warc(marker)
    archive = tmp_path / "crawl.warc.gz"
    archive.write_bytes(data)

    code, output = await run_cli(["feed", "--no-progress", str(archive)], cli_env(pipeline))

    assert code == 1, output  # truncated records are inputs that did not become pages
    assert "published 2 pages" in output, output
    assert "skipped 4: not_html 1, request 1, revisit 1, warcinfo 1" in output, output
    assert "failed 2: truncated 2" in output, output
    wanted = {page.page_id: page for page in expected}
    articles = await articles_for(pipeline, set(wanted))
    for page_id, article in articles.items():
        assert article["url"] == wanted[page_id].url, "WARC-Target-URI is the URL"
        assert str(article["fetched_at"]).startswith("2026-02-06T09:30:00"), "WARC-Date is the fetch time"
        assert marker in str(article["text"])


# ---------------------------------------------------------------------------------------- stdin


async def test_stdin_jsonl_feeds_and_exit_codes_are_honest(pipeline: Pipeline) -> None:
    marker = uuid.uuid4().hex
    now = datetime.now(UTC)
    pages = [
        RawPage(
            url=f"https://stdin.example/{marker}/text", fetched_at=now, text=article_text("خبر نصي", marker)
        ),
        RawPage(
            url=f"https://stdin.example/{marker}/html", fetched_at=now,
            body=article_html("خبر بصيغة HTML", marker), content_type="text/html; charset=utf-8",
            http_headers={"Content-Type": "text/html; charset=utf-8"}, crawler="my-crawler",
        ),
    ]  # fmt: skip
    good = b"".join(page.to_json() + b"\n" for page in pages)
    env = cli_env(pipeline)

    code, output = await run_cli(["feed", "--no-progress", "-"], env, stdin=good)
    assert code == 0, output
    assert "published 2 pages" in output and "failed" not in output, output

    code, output = await run_cli(["feed", "--no-progress", "-"], env, stdin=b'{"url": 1}\nnot json\n')
    assert code == 1, output
    assert "failed 2: not_json 1, schema 1" in output, output

    unreachable = {**env, "KHABAR_BROKER": f"127.0.0.1:{free_port()}"}
    code, output = await run_cli(["feed", "--no-progress", "-"], unreachable, stdin=good)
    assert code == 2, output
    assert "no Kafka broker answers" in output, output

    articles = await articles_for(pipeline, {page.page_id for page in pages})
    assert {str(a["url"]) for a in articles.values()} == {page.url for page in pages}


# ---------------------------------------------------------------------------------------- crawl


async def test_crawler_is_polite_retries_and_recrawls_conditionally(
    pipeline: Pipeline, site: NewsSite, tmp_path: Path
) -> None:
    seeds = tmp_path / "seeds.txt"
    seeds.write_text(f"# a news site\n{site.url('/')}\n{site.url('/feed.xml')}\n{site.url('/sitemap.xml')}\n")
    state = tmp_path / "crawl-state.json"
    options = CrawlOptions(
        depth=1, delay=DELAY, per_host=1, timeout=1.0, retries=2, backoff=0.1, max_backoff=0.5,
        state_path=state,
    )  # fmt: skip
    seed_urls = [site.url("/"), site.url("/feed.xml"), site.url("/sitemap.xml")]

    summary, published = await crawl(seed_urls, pipeline.settings, options, progress=False)

    assert published.ok and published.published == len(PAGES), published.describe()
    assert summary.failed == {"redirect_loop": 1}, summary.describe()
    assert summary.skipped["robots"] == 2 and summary.skipped["not_html"] == 1, summary.describe()
    assert_polite(site, DELAY)
    assert len(site.hits_on("/robots.txt")) == 1
    assert len(site.hits_on("/flaky")) == 2, "the 503 was retried"
    assert len(site.hits_on("/slow")) == 2, "the timeout was retried"
    assert len(site.hits_on("/loop/1")) == 1, "the redirect loop was cut short"
    assert not site.hits_on("/news/deep"), "beyond --depth 1"
    assert {hit.headers["User-Agent"] for hit in site.hits} == {USER_AGENT}
    articles = await articles_for(pipeline, set(published.page_ids))
    assert {str(a["url"]).removeprefix(site.base) for a in articles.values()} == set(PAGES)

    # A re-crawl from the command line: conditional requests, 304s, nothing published.
    site.hits.clear()
    code, output = await run_cli(
        ["crawl", "--no-progress", "--delay", str(DELAY), "--timeout", "1", "--backoff", "0.1",
         "--state", str(state), str(seeds)],
        cli_env(pipeline),
    )  # fmt: skip
    assert code == 1, output  # the redirect loop is still there
    assert f"{len(PAGES) + 2} not modified (304)" in output, output
    assert "published 0 pages" in output and "failed 1: redirect_loop 1" in output, output
    assert_polite(site, DELAY)
    for path in PAGES:
        (hit,) = site.hits_on(path)
        assert hit.headers.get("If-None-Match"), f"no conditional request for {path}"
        assert hit.headers.get("If-Modified-Since"), f"no If-Modified-Since for {path}"


# --------------------------------------------------------------------------------------- Scrapy

SPIDER = """
import scrapy


class NewsSpider(scrapy.Spider):
    name = "khabar-feeds-test"
    allowed_domains = ["127.0.0.1"]
    start_urls = [{home!r}]
    custom_settings = {{
        # The two lines a Scrapy project adds to its settings:
        "DOWNLOADER_MIDDLEWARES": {{"streams.scrapy_khabar.KhabarMiddleware": 50}},
        "KHABAR_BROKER": {broker!r},
        # This test's crawl:
        "ROBOTSTXT_OBEY": True,
        "DEPTH_LIMIT": 1,
        "DOWNLOAD_TIMEOUT": 1,
        "RETRY_TIMES": 2,
        "REDIRECT_MAX_TIMES": 3,
        "DOWNLOAD_DELAY": {delay!r},
        "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": "INFO",
    }}

    def parse(self, response):
        if b"text/html" in response.headers.get("Content-Type", b""):
            for href in response.css("a::attr(href)").getall():
                if not href.startswith("mailto:"):
                    yield response.follow(href)
"""


async def test_scrapy_middleware_publishes_every_page(
    pipeline: Pipeline, site: NewsSite, tmp_path: Path
) -> None:
    spider = tmp_path / "news_spider.py"
    spider.write_text(
        textwrap.dedent(SPIDER).format(
            home=site.url("/"), broker=pipeline.settings.bootstrap_servers, delay=DELAY
        )
    )
    env = {**cli_env(pipeline), "KHABAR_BROKER": ""}  # the broker comes from the spider's settings
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "scrapy", "runspider", str(spider), env=env, cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(process.communicate(), 90)
    log = out.decode(errors="replace")
    assert process.returncode == 0, log[-4000:]
    scrapy_pages = ["/", "/news/a", "/news/b", "/slow", "/flaky"]
    assert f"Khabar: published {len(scrapy_pages)} pages" in log, log[-4000:]
    for path in FORBIDDEN:
        assert not site.hits_on(path), f"robots.txt forbids {path}, yet Scrapy requested it"

    def ours(pages: list[RawPage]) -> list[RawPage]:
        return [page for page in pages if page.url.startswith(site.base)]

    published = ours(await raw_pages(pipeline, lambda pages: len(ours(pages)) >= len(scrapy_pages)))
    assert sorted(page.url.removeprefix(site.base) for page in published) == sorted(scrapy_pages)
    assert {page.crawler for page in published} == {"scrapy"}
    assert all(page.content_type and page.content_type.startswith("text/html") for page in published)
    articles = await articles_for(pipeline, {page.page_id for page in published})
    assert all(site.marker in str(article["text"]) for article in articles.values())
