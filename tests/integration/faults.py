"""Driving a pipeline through faults and checking it afterwards.

Shared by the fault tests (``test_faults.py``) and the delivery-guarantee measurement
(``guarantees.py``): after every fault, :func:`settled` waits until the accounting invariant
holds (``khabar audit``: 0 lost, 0 doubled) and the duplicate clusters equal the offline run.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

import aiohttp
import orjson
from aiokafka import AIOKafkaProducer, ConsumerRecord

from schemas import RawPage
from streams.audit import Audit, audit, in_flight, lag_by_partition
from streams.connection import client_options
from streams.feed import feed
from tests.integration.clusters import Clusters, offline_clusters, roots
from tests.integration.conftest import Pipeline

log = logging.getLogger(__name__)

SETTLE_SECONDS = 240.0
FIRST_OUTPUT_SECONDS = 120.0
T = TypeVar("T")


def waves(items: Sequence[T], count: int) -> list[list[T]]:
    """``items`` split into ``count`` waves of (nearly) equal size, in order."""
    size, extra = divmod(len(items), count)
    bounds = [number * size + min(number, extra) for number in range(count + 1)]
    return [list(items[start:end]) for start, end in itertools.pairwise(bounds)]


def bad_records(marker: str) -> list[bytes]:
    """Three records the pipeline must dead-letter: not JSON, not a RawPage, an empty page."""
    empty = RawPage(url=f"https://bad.example/{marker}", fetched_at=datetime.now(UTC), text="")
    return [
        b"\x00\xffnot json " + marker.encode(),
        orjson.dumps({"url": 42, "marker": marker}),
        empty.to_json(),
    ]


async def publish(
    pipeline: Pipeline, values: Sequence[bytes | None], *, topic: str = "", partition: int | None = None,
    key: bytes | None = b"fault",
) -> list[tuple[int, int]]:  # fmt: skip
    """Produce raw values (to raw-pages unless ``topic``); returns their (partition, offset)."""
    producer = AIOKafkaProducer(**client_options(pipeline.settings), acks="all")
    await producer.start()
    try:
        places = []
        for value in values:
            sent = await producer.send_and_wait(
                topic or pipeline.topic("raw-pages"), value=value, key=key, partition=partition
            )
            places.append((sent.partition, sent.offset))
        return places
    finally:
        await producer.stop()


async def first_output(
    pipeline: Pipeline, pages: Sequence[RawPage], timeout: float = FIRST_OUTPUT_SECONDS
) -> bool:
    """Wait until an output record carries one of ``pages``' page ids (the wave is being
    processed); False if none did within ``timeout``. Raises if a worker died."""
    wanted = {page.page_id for page in pages}

    def seen(records: list[ConsumerRecord[bytes, bytes]]) -> bool:
        return any(r.value is not None and orjson.loads(r.value).get("page_id") in wanted for r in records)

    try:
        await pipeline.outputs(seen, timeout=timeout)
    except AssertionError:
        pipeline.check_workers()
        return False
    return True


async def ready(port: int, timeout: float = 120.0) -> int:
    """Wait until the worker on ``port`` is ready (assignment done, tables recovered) with some
    partitions; returns how many it has."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    async with aiohttp.ClientSession() as session:
        while True:
            try:
                async with session.get(f"http://127.0.0.1:{port}/health/ready") as response:
                    body = await response.json()
                    if response.status == 200 and body["assigned"] > 0:
                        return int(body["assigned"])
            except aiohttp.ClientError:
                pass  # not listening yet
            if loop.time() > deadline:
                raise AssertionError(
                    f"the worker on port {port} was not ready with partitions in {timeout:.0f}s"
                )
            await asyncio.sleep(0.5)  # the next readiness probe; bounded by the deadline


def clusters_of(report: Audit, ids: set[str]) -> Clusters:
    return roots({article_id: pointer for article_id, pointer in report.final.items() if article_id in ids})


async def settled(
    pipeline: Pipeline, pages: Sequence[RawPage], raw_records: int, timeout: float = SETTLE_SECONDS
) -> Audit:
    """Audit until all ``raw_records`` are accounted for — nothing lost, nothing doubled — and the
    clusters of ``pages`` equal the offline run's; raise with the last audit at the deadline."""
    expected = offline_clusters(list(pages))
    ids = set(expected)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        pipeline.check_workers()
        report = await audit(pipeline.settings)
        found = clusters_of(report, ids)
        if report.raw_records == raw_records and report.ok and found == expected:
            return report
        if loop.time() > deadline:
            lag = await lag_by_partition(pipeline.settings)
            report.in_flight = sum(lag.values())
            lagging = {f"{tp.topic}[{tp.partition}]": count for tp, count in lag.items() if count}
            wrong = {k: (found.get(k), v) for k, v in expected.items() if found.get(k) != v}
            raise AssertionError(
                f"not settled after {timeout:.0f}s ({report.raw_records} of {raw_records} raw records):\n"
                f"{report.table()}\nclusters differ (got, expected) for {len(wrong)} documents: "
                f"{dict(list(wrong.items())[:10])}\nuncommitted records by partition: {lagging}"
                f"\nworker log tail:\n{pipeline.worker_log()}"
            )
        await asyncio.sleep(1.0)  # the next look at the topics; bounded by the deadline


@dataclass(frozen=True)
class Kill:
    output_seen: bool  # the wave's first output was out before the kill
    uncommitted: int  # records the group had consumed but not committed: the restart redoes them


async def kill_nine_cycles(
    pipeline: Pipeline, pages: Sequence[RawPage], cycles: int, marker: str,
    first_output_timeout: float = FIRST_OUTPUT_SECONDS,
) -> list[Kill]:  # fmt: skip
    """Feed ``pages`` in ``cycles`` waves (each with :func:`bad_records`); once a wave's first
    output is out (or ``first_output_timeout`` passed), kill -9 the worker and start it again."""
    kills = []
    loop = asyncio.get_running_loop()
    for number, wave in enumerate(waves(pages, cycles)):
        started = loop.time()
        await feed(wave, pipeline.settings, progress=False)
        await publish(pipeline, bad_records(f"{marker}-{number}"))
        seen = await first_output(pipeline, wave, first_output_timeout)
        if not seen:
            await asyncio.to_thread(pipeline.dump_tasks)
        pipeline.kill_worker()
        kills.append(Kill(seen, await in_flight(pipeline.settings)))
        pipeline.start_worker()
        log.info("kill -9 #%d after %.1fs: %s", number + 1, loop.time() - started, kills[-1])
    return kills
