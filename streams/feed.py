"""Publishing RawPages to ``raw-pages``: one idempotent producer, bounded in-flight sends, progress.

Every feed path (files, WARC/ARC, JSONL and stdin, ``khabar crawl``, the Scrapy middleware)
publishes through a :class:`Publisher`: at most ``max_in_flight`` unacknowledged sends, so a
fast reader waits for the broker instead of filling memory; a progress bar with pages/s and
bytes/s; and a :class:`FeedSummary` of what was published, skipped (by reason) and failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError, MessageSizeTooLargeError
from tqdm import tqdm

from schemas import RawPage, message_headers
from streams.config import Settings
from streams.connection import client_options
from streams.sources import Skipped, SourceProblem
from streams.topics import RAW_PAGES, ensure_topics

MAX_IN_FLIGHT = 256
# This many failed sends in a row (other than a too-large page) means the broker is gone.
MAX_CONSECUTIVE_FAILURES = 20
STOP_TIMEOUT_SECONDS = 30.0


class BrokerUnavailable(RuntimeError):
    """The broker cannot be reached (at start) or stopped accepting records (mid-feed)."""


def human_bytes(count: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if abs(count) < 1000 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1000
    raise AssertionError("unreachable")


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{reason} {count}" for reason, count in sorted(counter.items()))


class Progress:
    """A tqdm bar on stderr counting pages (with pages/s), plus bytes/s and other counters."""

    def __init__(self, desc: str, enabled: bool) -> None:
        self._bar = tqdm(unit=" pages", desc=desc, disable=not enabled, file=sys.stderr, dynamic_ncols=True)
        self._started = time.monotonic()
        self._shown = 0.0
        self._notes: dict[str, int] = {}
        self.bytes = 0

    def advance(self, pages: int, size: int) -> None:
        self.bytes += size
        self._bar.update(pages)
        self._refresh()

    def note(self, **counts: int) -> None:
        self._notes.update(counts)
        self._refresh()

    def _refresh(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._shown < 0.5:
            return
        self._shown = now
        rate = self.bytes / max(now - self._started, 1e-6)
        notes = [f"{name} {count}" for name, count in self._notes.items() if count]
        parts = [f"{human_bytes(rate)}/s", *notes]
        self._bar.set_postfix_str(", ".join(parts), refresh=True)

    def write(self, message: str) -> None:
        self._bar.write(message, file=sys.stderr)

    def close(self) -> None:
        self._refresh(force=True)
        self._bar.close()


@dataclass
class FeedSummary:
    """What a feed did. ``problems`` are inputs that should have become pages and did not
    (unreadable, corrupt, failed sends): the feed exits 1 if there are any. ``skipped`` counts
    records that are not pages by design (WARC requests and revisits, images…)."""

    published: int = 0
    bytes: int = 0
    page_ids: list[str] = field(default_factory=list)
    problems: list[SourceProblem] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    def skipped_by_reason(self) -> Counter[str]:
        return Counter(self.skipped)

    def failed_by_reason(self) -> Counter[str]:
        return Counter(problem.reason for problem in self.problems)

    @property
    def ok(self) -> bool:
        return not self.problems

    def describe(self) -> str:
        rate = f", {self.published / self.seconds:.1f} pages/s" if self.seconds > 0 and self.published else ""
        text = f"published {self.published} pages ({human_bytes(self.bytes)}{rate})"
        if self.skipped:
            text += f"; skipped {sum(self.skipped.values())}: {_counts(self.skipped)}"
        if self.problems:
            text += f"; failed {len(self.problems)}: {_counts(self.failed_by_reason())}"
        return text


def producer_for(settings: Settings) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        **client_options(settings),
        acks="all",
        enable_idempotence=True,
        linger_ms=10,
        max_request_size=max(settings.max_page_bytes * 2, 1_048_576),
        compression_type="gzip",
    )


@dataclass
class _Pending:
    page: RawPage
    size: int
    on_delivered: Callable[[], None] | None


class Publisher:
    """The bounded producer every feed path shares (``async with Publisher(...) as p``)."""

    def __init__(
        self,
        settings: Settings,
        *,
        progress: bool = True,
        desc: str = "feeding",
        max_in_flight: int = MAX_IN_FLIGHT,
    ) -> None:
        self.settings = settings
        self.summary = FeedSummary()
        self.progress = Progress(desc, progress)
        self._topic = settings.topic(RAW_PAGES)
        self._max_in_flight = max(1, max_in_flight)
        self._producer: AIOKafkaProducer | None = None
        self._pending: dict[asyncio.Future[Any], _Pending] = {}
        self._consecutive_failures = 0
        self._started = time.monotonic()

    async def start(self) -> None:
        try:
            await ensure_topics(self.settings)
            producer = producer_for(self.settings)
            await producer.start()
        except (KafkaError, OSError) as exc:
            self.progress.close()
            raise BrokerUnavailable(f"cannot publish to {self.settings.bootstrap_servers}: {exc}") from exc
        self._producer = producer
        self._started = time.monotonic()

    async def __aenter__(self) -> Publisher:
        await self.start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self.close(flush=kind is None)

    async def put(self, item: RawPage | SourceProblem) -> None:
        """Publish a page, or count a skipped record, or report a problem."""
        if isinstance(item, Skipped):
            self.skip(item.reason)
        elif isinstance(item, SourceProblem):
            self.problem(item)
        else:
            await self.publish(item)

    def skip(self, reason: str) -> None:
        self.summary.skipped[reason] += 1
        self.progress.note(skipped=sum(self.summary.skipped.values()))

    def problem(self, problem: SourceProblem) -> None:
        self.summary.problems.append(problem)
        self.progress.write(f"failed {problem.where}: {problem.reason}: {problem.message}")
        self.progress.note(failed=len(self.summary.problems))

    async def publish(self, page: RawPage, on_delivered: Callable[[], None] | None = None) -> None:
        """Send ``page``; waits while ``max_in_flight`` sends are unacknowledged.

        ``on_delivered`` runs once the broker has acknowledged the page. A page the broker
        refuses becomes a problem; many failures in a row raise :class:`BrokerUnavailable`.
        """
        if self._producer is None:
            raise RuntimeError("Publisher.start() was not called")
        while len(self._pending) >= self._max_in_flight:
            await self._settle(asyncio.FIRST_COMPLETED)
        try:
            future = await self._producer.send(
                self._topic,
                key=page.url.encode("utf-8", "surrogatepass"),
                value=page.to_json(),
                headers=message_headers("raw_page", page.page_id),
            )
        except KafkaError as exc:
            self._failed(page, exc)
            return
        size = len(page.body) if page.body is not None else len((page.text or "").encode("utf-8", "replace"))
        self._pending[future] = _Pending(page, size, on_delivered)
        self.summary.page_ids.append(page.page_id)

    def _failed(self, page: RawPage, error: BaseException) -> None:
        reason = "too_large" if isinstance(error, MessageSizeTooLargeError) else "send_failed"
        self.problem(SourceProblem(page.url, reason, f"{type(error).__name__}: {error}"))
        if reason != "too_large":
            self._consecutive_failures += 1
            if self._consecutive_failures >= MAX_CONSECUTIVE_FAILURES:
                count = self._consecutive_failures
                last = f"{type(error).__name__}: {error}"
                raise BrokerUnavailable(f"{count} sends in a row failed; last: {last}")

    async def _settle(self, return_when: str) -> None:
        done, _ = await asyncio.wait(list(self._pending), return_when=return_when)
        for future in done:
            pending = self._pending.pop(future)
            error = future.exception()
            if error is not None:
                self.summary.page_ids.remove(pending.page.page_id)
                self._failed(pending.page, error)
                continue
            self._consecutive_failures = 0
            self.summary.published += 1
            self.summary.bytes += pending.size
            self.progress.advance(1, pending.size)
            if pending.on_delivered is not None:
                pending.on_delivered()

    async def flush(self) -> None:
        """Wait until every page sent so far is acknowledged (or failed)."""
        while self._pending:
            await self._settle(asyncio.ALL_COMPLETED)

    async def close(self, *, flush: bool = True) -> None:
        producer, self._producer = self._producer, None
        try:
            if flush:
                await self.flush()
        finally:
            self.summary.seconds = time.monotonic() - self._started
            self.progress.close()
            if producer is not None:
                with contextlib.suppress(TimeoutError, KafkaError):
                    await asyncio.wait_for(producer.stop(), STOP_TIMEOUT_SECONDS)


async def feed(
    items: Iterable[RawPage | SourceProblem], settings: Settings, *, progress: bool = True
) -> FeedSummary:
    """Publish every RawPage in ``items``; count skipped records, report problems on stderr.

    ``items`` is advanced in a worker thread, so a slow source (stdin fed by a live crawler, a
    large archive being decompressed) never holds up the producer's sends and acknowledgements.
    """
    iterator = iter(items)
    async with Publisher(settings, progress=progress) as publisher:
        while (item := await asyncio.to_thread(next, iterator, None)) is not None:
            await publisher.put(item)
    return publisher.summary
