"""Scrapy → Khabar: a downloader middleware publishing every page Scrapy downloads to raw-pages.

Install the extra (``pip install 'khabar[scrapy]'``) and add two lines to the project's
``settings.py``::

    DOWNLOADER_MIDDLEWARES = {"streams.scrapy_khabar.KhabarMiddleware": 50}
    KHABAR_BROKER = "kafka-1:9092,kafka-2:9092"

Every 2xx HTML, XHTML or plain-text response becomes a RawPage (the body as downloaded and
decompressed, the HTTP headers, the fetch time, ``crawler="scrapy"``) on ``<prefix>raw-pages``,
keyed by URL, whatever the spider does with it. Other responses (robots.txt, images, errors,
responses from Scrapy's HTTP cache) are counted in the crawl stats under ``khabar/skipped/…``.
Priority 50 puts the middleware after retries (550), decompression (590) and redirects (600)
on the way back from the downloader, so it sees final, decoded responses.

Optional settings (each falls back to the environment variable of the same name, as for every
``khabar`` command): ``KHABAR_TOPIC_PREFIX``, ``KHABAR_CRAWLER`` (default ``scrapy``),
``KHABAR_MAX_IN_FLIGHT`` (default 256).

The Kafka producer is the feeds' bounded :class:`~streams.feed.Publisher`, run on an asyncio
loop in a background thread, so it works with any reactor (or none). A response is passed on
once its page is accepted by the producer (backpressure: Scrapy slows down when Kafka does),
and the spider closes only after the broker has acknowledged every page. If the broker cannot
be reached at start, the crawl does not start; if it goes away mid-crawl, the crawl stops.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import threading
from collections.abc import Coroutine
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.http import Request, Response
from scrapy.utils.asyncio import is_asyncio_available
from scrapy.utils.defer import deferred_from_coro
from twisted.internet.defer import Deferred

from schemas import RawPage, SchemaError
from streams.config import Settings
from streams.feed import MAX_IN_FLIGHT, BrokerUnavailable, Publisher
from streams.sources import http_headers_of, is_page

logger = logging.getLogger(__name__)

_T = TypeVar("_T")
START_TIMEOUT_SECONDS = 60.0


def _setting(crawler: Crawler, name: str, default: str) -> str:
    value = crawler.settings.get(name)
    if value is None or str(value).strip() == "":
        value = os.environ.get(name, "").strip() or default
    return str(value).strip()


def settings_for(crawler: Crawler) -> Settings:
    """Khabar's settings from the Scrapy settings, then the environment."""
    base = Settings.from_env()
    return replace(
        base,
        broker=_setting(crawler, "KHABAR_BROKER", base.broker),
        topic_prefix=_setting(crawler, "KHABAR_TOPIC_PREFIX", base.topic_prefix),
    )


def raw_page(response: Response, crawler_name: str) -> RawPage | str:
    """The RawPage of a response, or the reason it is not a page."""
    if "cached" in response.flags:
        return "cached"
    if urlsplit(response.url).path == "/robots.txt":
        return "robots_txt"
    if not 200 <= response.status < 300:
        return f"http_{response.status // 100}xx"
    raw_type = response.headers.get(b"Content-Type")
    content_type = raw_type.decode("latin-1") if raw_type else None
    body = response.body
    if not body:
        return "empty"
    if not is_page(content_type, body):
        return "not_html"
    headers = http_headers_of(
        (name.decode("latin-1"), value.decode("latin-1"))
        for name, values in response.headers.items()
        for value in values
    )
    try:
        return RawPage(
            url=response.url,
            fetched_at=datetime.now(UTC),
            body=body,
            content_type=content_type,
            http_headers=headers,
            crawler=crawler_name,
        )
    except SchemaError as exc:
        return exc.reason


class _BackgroundLoop:
    """An asyncio loop in a daemon thread, for the Kafka producer."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="khabar-publisher", daemon=True)
        self._thread.start()

    def submit(self, coroutine: Coroutine[Any, Any, _T]) -> concurrent.futures.Future[_T]:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        if not self._thread.is_alive():
            self.loop.close()


async def _wait(future: concurrent.futures.Future[_T]) -> _T:
    """Await a future of the background loop from Scrapy, whatever the reactor."""
    if is_asyncio_available():
        return await asyncio.wrap_future(future)
    from twisted.internet import reactor

    deferred: Deferred[_T] = Deferred()

    def settle(done: concurrent.futures.Future[_T]) -> None:
        error = done.exception()
        if error is not None:
            deferred.errback(error)
        else:
            deferred.callback(done.result())

    future.add_done_callback(lambda done: reactor.callFromThread(settle, done))
    return await deferred


class KhabarMiddleware:
    """Downloader middleware: every page response is published to raw-pages as a RawPage."""

    def __init__(self, crawler: Crawler, settings: Settings, crawler_name: str, max_in_flight: int) -> None:
        self.crawler = crawler
        self.settings = settings
        self.crawler_name = crawler_name
        self._loop = _BackgroundLoop()
        self._publisher = Publisher(settings, progress=False, max_in_flight=max_in_flight)
        self._broken = False
        try:
            self._loop.submit(self._publisher.start()).result(timeout=START_TIMEOUT_SECONDS)
        except BaseException:
            self._loop.stop()
            raise
        self.topic = settings.topic("raw-pages")
        logger.info("Khabar: publishing pages to %s at %s", self.topic, settings.bootstrap_servers)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> KhabarMiddleware:
        max_in_flight = int(_setting(crawler, "KHABAR_MAX_IN_FLIGHT", str(MAX_IN_FLIGHT)))
        middleware = cls(
            crawler, settings_for(crawler), _setting(crawler, "KHABAR_CRAWLER", "scrapy"), max_in_flight
        )
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    def _count(self, key: str) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(f"khabar/{key}")

    async def process_response(self, request: Request, response: Response) -> Response:
        page = raw_page(response, self.crawler_name)
        if isinstance(page, str):
            self._count(f"skipped/{page}")
            return response
        if self._broken:
            return response
        try:
            await _wait(self._loop.submit(self._publisher.publish(page)))
        except BrokerUnavailable as exc:
            self._broken = True
            logger.error("Khabar: stopping the crawl: %s", exc)
            deferred_from_coro(self.crawler.stop_async())
            return response
        self._count("sent")
        return response

    async def spider_closed(self, spider: Spider, reason: str) -> None:
        """Wait until the broker has acknowledged every page, then report."""
        try:
            await _wait(self._loop.submit(self._publisher.close(flush=not self._broken)))
        finally:
            self._loop.stop()
        summary = self._publisher.summary
        if self.crawler.stats is not None:
            self.crawler.stats.set_value("khabar/published", summary.published)
            self.crawler.stats.set_value("khabar/failed", len(summary.problems))
        log = logger.info if summary.ok and not self._broken else logger.error
        log("Khabar: %s to %s", summary.describe(), self.topic)
