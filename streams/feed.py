"""Publishing RawPages to ``raw-pages``: idempotent producer, bounded in-flight sends, progress."""

from __future__ import annotations

import asyncio
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from aiokafka import AIOKafkaProducer
from tqdm import tqdm

from schemas import RawPage, message_headers
from streams.config import Settings
from streams.sources import SourceProblem
from streams.topics import RAW_PAGES, ensure_topics

MAX_IN_FLIGHT = 256


@dataclass
class FeedSummary:
    published: int = 0
    page_ids: list[str] = field(default_factory=list)
    problems: list[SourceProblem] = field(default_factory=list)

    def skipped_by_reason(self) -> Counter[str]:
        return Counter(problem.reason for problem in self.problems)

    def describe(self) -> str:
        parts = [f"published {self.published}"]
        parts += [f"skipped {count} ({reason})" for reason, count in sorted(self.skipped_by_reason().items())]
        return ", ".join(parts)


def producer_for(settings: Settings) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap_servers,
        acks="all",
        enable_idempotence=True,
        linger_ms=10,
        max_request_size=max(settings.max_page_bytes * 2, 1_048_576),
        compression_type="gzip",
    )


async def feed(
    items: Iterable[RawPage | SourceProblem], settings: Settings, *, progress: bool = True
) -> FeedSummary:
    """Publish every RawPage in ``items``; report problems on stderr and in the summary."""
    await ensure_topics(settings)
    summary = FeedSummary()
    topic = settings.topic(RAW_PAGES)
    producer = producer_for(settings)
    await producer.start()
    bar = tqdm(unit=" pages", desc="feeding", disable=not progress, file=sys.stderr)
    in_flight: set[asyncio.Future[object]] = set()
    try:
        for item in items:
            if isinstance(item, SourceProblem):
                summary.problems.append(item)
                bar.write(f"skipped {item.where}: {item.reason}: {item.message}", file=sys.stderr)
                continue
            future = await producer.send(
                topic,
                key=item.url.encode("utf-8", "surrogatepass"),
                value=item.to_json(),
                headers=message_headers("raw_page", item.page_id),
            )
            in_flight.add(future)
            summary.page_ids.append(item.page_id)
            if len(in_flight) >= MAX_IN_FLIGHT:
                done, in_flight = await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
                for finished in done:
                    finished.result()
                    summary.published += 1
                    bar.update(1)
        for finished in asyncio.as_completed(in_flight):
            await finished
            summary.published += 1
            bar.update(1)
    finally:
        bar.close()
        await producer.stop()
    return summary
