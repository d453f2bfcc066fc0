"""The dedupe horizon on the stream: no duplicate across it, and state past it really freed.

A two-day horizon (one hour of allowed lateness) and a sweep every second: after pages ten
days newer have been decided, the state of the old ones is deleted from the worker's tables,
which writes tombstones on the changelog topics (what compaction frees in Kafka).
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import orjson
import pytest
from aiokafka import AIOKafkaConsumer, ConsumerRecord
from prometheus_client.parser import text_string_to_metric_families

from agents.dedupe import article_id_for
from schemas import RawPage
from streams import topics
from streams.broker import free_port
from streams.config import Settings
from streams.connection import client_options
from streams.feed import feed
from tests.integration.conftest import WORDS, Pipeline

pytestmark = pytest.mark.integration

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def page(url: str, days: float, paragraphs: list[str]) -> RawPage:
    return RawPage(
        url=url, fetched_at=T0 + days * DAY, text="\n\n".join(paragraphs), content_type="text/plain"
    )


def stories(seed: str) -> tuple[list[RawPage], list[RawPage]]:
    """Old pages (days 0, 1 and 5 of one story) and new ones (day 10, two copies of another)."""
    rng = random.Random("khabar-horizon")
    first, second = (
        [" ".join(rng.choice(WORDS) for _ in range(45)) + "." for _ in range(4)] for _ in range(2)
    )
    old = [
        page(f"https://a.example/{seed}/story", 0, first),
        page(f"https://b.example/{seed}/copy", 1, ["القاهرة - (وكالات) - " + first[0], *first[1:]]),
        page(f"https://c.example/{seed}/again", 5, [*first, "المصدر: وكالة الأنباء"]),
    ]
    new = [
        page(f"https://a.example/{seed}/other", 10, second),
        page(f"https://b.example/{seed}/other-copy", 10.1, [*second[:3], second[3] + " (وكالات)"]),
    ]
    return old, new


async def scrape(port: int) -> dict[tuple[str, str], float]:
    """(metric sample name, its table label) -> value, from the worker's /metrics."""
    async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{port}/metrics") as reply:
        text = await reply.text()
    return {
        (sample.name, sample.labels.get("table", "")): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


@pytest.fixture
async def horizon_pipeline(kafka: str, tmp_path: Path) -> AsyncIterator[Pipeline]:
    name = f"h{uuid.uuid4().hex[:8]}"
    settings = replace(
        Settings.from_env(), broker=kafka, topic_prefix=f"{name}.", app_id=name, partitions=1,
        data_dir=tmp_path / "worker", dedupe_horizon_days=2, dedupe_lateness_hours=1, dedupe_sweep_seconds=1,
    )  # fmt: skip
    await topics.ensure_topics(settings)
    pipeline = Pipeline(settings=settings, worker=None, log=tmp_path / "worker.log", web_port=free_port())
    pipeline.start_worker()
    try:
        yield pipeline
    finally:
        pipeline.stop_worker()


def decisions(records: list[ConsumerRecord[bytes, bytes]]) -> dict[str, str | None]:
    """article_id -> duplicate_of (None: canonical), the latest record of each article."""
    latest: dict[str, str | None] = {}
    for record in records:
        if record.value:
            document = orjson.loads(record.value)
            latest[document["article_id"]] = document.get("duplicate_of")
    return latest


async def tombstoned(settings: Settings, table: str, keys: set[str], timeout: float = 60) -> set[str]:
    """The keys of ``keys`` that have a tombstone on the table's changelog topic (until all do)."""
    consumer = AIOKafkaConsumer(
        f"{settings.app_id}-{table}-changelog", **client_options(settings),
        auto_offset_reset="earliest", enable_auto_commit=False,
    )  # fmt: skip
    await consumer.start()
    found: set[str] = set()
    deadline = asyncio.get_running_loop().time() + timeout
    try:
        while found != keys and asyncio.get_running_loop().time() < deadline:
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                # table keys are JSON on the changelog
                found |= {orjson.loads(r.key) for r in batch if r.key and r.value is None} & keys
    finally:
        await consumer.stop()
    return found


async def test_no_duplicate_across_the_horizon_and_old_state_is_freed(horizon_pipeline: Pipeline) -> None:
    pipeline = horizon_pipeline
    old, new = stories(uuid.uuid4().hex[:6])
    ids = [article_id_for(p.url) for p in (*old, *new)]
    await feed(old, pipeline.settings, progress=False)
    await pipeline.outputs(lambda records: set(ids[:3]) <= decisions(records).keys())
    await feed(new, pipeline.settings, progress=False)
    records = await pipeline.outputs(lambda records: set(ids) <= decisions(records).keys())

    # day 1 copies day 0 (inside two days); day 5 is four days after both: a new canonical
    assert decisions(records) == {ids[0]: None, ids[1]: ids[0], ids[2]: None, ids[3]: None, ids[4]: ids[3]}

    # The newest decided page is day 10.1: everything before day 8.06 goes, the new pages stay.
    async def freed() -> dict[tuple[str, str], float]:
        metrics = await scrape(pipeline.web_port)
        return metrics if metrics.get(("khabar_dedupe_state_keys", "documents")) == 2 else {}

    loop = asyncio.get_running_loop()
    deadline = loop.time() + 60
    while not (metrics := await freed()):
        assert loop.time() < deadline, f"state not freed; worker log:\n{pipeline.worker_log()}"
        await asyncio.sleep(0.5)  # polling interval; the deadline decides
    assert metrics[("khabar_dedupe_expired_total", "documents")] == 3
    hashes = {
        document["article_id"]: document["content_hash"]
        for document in (orjson.loads(r.value) for r in records if r.value)
    }
    old_hashes, new_hashes = {hashes[i] for i in ids[:3]}, {hashes[i] for i in ids[3:]}
    assert metrics[("khabar_dedupe_expired_total", "owners")] == len(old_hashes - new_hashes)
    assert metrics[("khabar_dedupe_state_keys", "owners")] == len(new_hashes)
    assert metrics[("khabar_dedupe_expired_total", "buckets")] >= 20  # the old story's band buckets
    assert 20 <= metrics[("khabar_dedupe_state_keys", "buckets")] <= 40  # the new story's only

    freed_ids = await tombstoned(pipeline.settings, topics.TABLE_DOCUMENTS, set(ids[:3]))
    assert freed_ids == set(ids[:3])
    kept = await tombstoned(pipeline.settings, topics.TABLE_DOCUMENTS, set(ids[3:]), timeout=2)
    assert kept == set()
