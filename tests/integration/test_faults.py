"""Faults mid-stream: kill -9 of a worker (20 times mid-stream, at least), a broker stop/start,
a rebalance from 1 to 3 workers and back under load, poison messages at the head of
partitions. After each, every accepted raw page is exactly one live article, duplicate or dead
letter (``khabar audit``), and the duplicate clusters are those of the offline run."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.structs import OffsetAndMetadata

from schemas import RawPage
from streams.audit import DEAD_LETTER, in_flight, read
from streams.broker import LocalBroker, free_port
from streams.config import Settings
from streams.connection import client_options
from streams.feed import feed
from streams.topics import ANSWERS, ARTICLES, DOCUMENTS, DUPLICATES, internal_topic
from tests.integration.clusters import corpus, offline_clusters
from tests.integration.conftest import Pipeline, new_pipeline
from tests.integration.faults import (
    FIRST_OUTPUT_SECONDS,
    bad_records,
    first_output,
    kill_nine_cycles,
    publish,
    ready,
    settled,
    waves,
)

# Each scenario waits up to SETTLE_SECONDS (240 s) for the audit after its fault.
pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(420)]

MID_STREAM_KILLS = 20
# A kill lands as a wave's first article is out. Once in a few hundred kills the worker has
# already committed all of that small wave by then: a kill of an idle worker, which proves
# nothing. A few spare cycles make 20 mid-stream kills certain.
KILL_CYCLES = 24


@pytest.mark.timeout(660)
async def test_kill_9_of_a_worker_mid_stream_20_times(kafka: str, tmp_path: Path) -> None:
    # Static membership, as deployed (deploy/k8s): the restarted worker takes its partitions
    # back at once instead of waiting out the dead member's session timeout.
    pipeline = await new_pipeline(kafka, tmp_path, group_instance_id="faults-0")
    pipeline.start_worker()
    marker = uuid.uuid4().hex[:8]
    pages = corpus(marker, stories=40)
    try:
        kills = await kill_nine_cycles(pipeline, pages, KILL_CYCLES, marker)
        assert all(kill.output_seen for kill in kills), f"a wave had no output before its kill: {kills}"
        mid_stream = [kill for kill in kills if kill.uncommitted > 0]
        assert len(mid_stream) >= MID_STREAM_KILLS, f"not mid-stream: {kills}"
        report = await settled(pipeline, pages, raw_records=len(pages) + 3 * KILL_CYCLES)
    finally:
        pipeline.stop_all()
    assert report.outcomes[DEAD_LETTER] == 3 * KILL_CYCLES


async def test_redelivered_answers_publish_decided_documents_again(kafka: str, tmp_path: Path) -> None:
    """What a kill -9 leaves behind at least once, made deterministic: a table's changelog is
    written as an event is processed, but what the event sends goes out at its offset commit.
    So the restarted worker holds every decision while their publications may be lost, and the
    answers that completed them come again. Every repeat must publish the decision again."""
    pipeline = await new_pipeline(kafka, tmp_path)
    pipeline.start_worker()
    pages = corpus(uuid.uuid4().hex[:8], stories=4)
    try:
        await feed(pages, pipeline.settings, progress=False)
        await settled(pipeline, pages, raw_records=len(pages))
        assert pipeline.stop_worker() == 0
        before = await read(pipeline.settings)
        ends = {(r.topic, r.partition): r.offset + 1 for r in before[ARTICLES] + before[DUPLICATES]}
        answers = internal_topic(pipeline.settings, ANSWERS)
        await rewind(pipeline, [TopicPartition(answers, p) for p in range(pipeline.settings.partitions)])
        pipeline.start_worker()
        wanted = set(offline_clusters(pages))

        def published_again(records: list[ConsumerRecord[bytes, bytes]]) -> bool:
            again = {
                orjson.loads(r.value)["article_id"]
                for r in records
                if r.value is not None and r.offset >= ends.get((r.topic, r.partition), 0)
            }
            return wanted <= again

        await pipeline.outputs(published_again, timeout=FIRST_OUTPUT_SECONDS)
        report = await settled(pipeline, pages, raw_records=len(pages))
    finally:
        pipeline.stop_all()
    assert report.republished >= len(pages)


async def rewind(pipeline: Pipeline, partitions: list[TopicPartition]) -> None:
    """Move the stopped pipeline's group back to the start of ``partitions``."""
    consumer = AIOKafkaConsumer(
        **client_options(pipeline.settings), group_id=pipeline.settings.app_id, enable_auto_commit=False
    )
    await consumer.start()
    try:
        consumer.assign(partitions)
        await consumer.commit({tp: OffsetAndMetadata(0, "fault test") for tp in partitions})
    finally:
        await consumer.stop()


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[LocalBroker]:
    """A broker of this test's own, to stop and start (the session's serves other tests)."""
    broker = LocalBroker(
        home=tmp_path / "kafka",
        port=free_port(),
        controller_port=free_port(),
        cache_dir=Settings.from_env().cache_dir,
    )
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


async def test_broker_stop_and_start_mid_stream(own_broker: LocalBroker, tmp_path: Path) -> None:
    pipeline = await new_pipeline(own_broker.bootstrap, tmp_path)
    pipeline.start_worker()
    marker = uuid.uuid4().hex[:8]
    pages = corpus(marker, stories=20)
    try:
        await feed(pages, pipeline.settings, progress=False)
        await publish(pipeline, bad_records(marker))
        assert await first_output(pipeline, pages)
        assert await in_flight(pipeline.settings) > 0, "the stream was already done"
        await asyncio.to_thread(own_broker.stop)
        pipeline.check_workers()
        await asyncio.to_thread(own_broker.start)
        report = await settled(pipeline, pages, raw_records=len(pages) + 3)
    finally:
        pipeline.stop_all()
    assert report.outcomes[DEAD_LETTER] == 3


async def test_rebalance_from_1_to_3_workers_and_back_under_load(kafka: str, tmp_path: Path) -> None:
    # 6 partitions: Faust's sticky assignor caps each worker at ceil(partitions / workers), so
    # with 4 a third worker that joins after the second can be left with none (seen: 2/2/0).
    pipeline = await new_pipeline(kafka, tmp_path, partitions=6)
    pipeline.start_worker()
    marker = uuid.uuid4().hex[:8]
    pages = corpus(marker, stories=30)
    first, second, third = waves(pages, 3)
    try:
        await feed(first, pipeline.settings, progress=False)
        assert await first_output(pipeline, first)
        ports = [pipeline.add_worker(), pipeline.add_worker()]  # join while the first wave is processed
        await feed(second, pipeline.settings, progress=False)
        assigned = [await ready(port) for port in ports]
        await feed(third, pipeline.settings, progress=False)
        assert await first_output(pipeline, third)
        exits = [pipeline.remove_worker(), pipeline.remove_worker()]  # leave with the third wave in flight
        report = await settled(pipeline, pages, raw_records=len(pages))
    finally:
        pipeline.stop_all()
    assert all(count > 0 for count in assigned), "the added workers got no partitions"
    assert exits == [0, 0]
    assert report.outcomes[DEAD_LETTER] == 0


def poison_records(marker: str, max_page_bytes: int) -> list[bytes | None]:
    """Records no stage can turn into an article, each in its own way."""
    now = datetime.now(UTC).isoformat()
    url = f"https://poison.example/{marker}"
    return [
        None,  # a tombstone on raw-pages
        b"\xff\xfe\x00\x00" + marker.encode(),  # binary junk
        b"[" * 100_000,  # JSON nested past any parser's depth
        orjson.dumps([url, now]),  # JSON, but not an object
        orjson.dumps({"url": url, "fetched_at": "yesterday", "body_text": "نص"}),
        orjson.dumps({"url": url, "fetched_at": now, "body_b64": "!!! not base64 !!!"}),
        RawPage(
            url=f"{url}/huge", fetched_at=datetime.now(UTC), text="كلمة " * (max_page_bytes // 4)
        ).to_json(),
        RawPage(
            url=f"{url}/image",
            fetched_at=datetime.now(UTC),
            body=bytes(range(256)) * 64,
            content_type="image/png",
        ).to_json(),
    ]


async def test_poison_messages_at_the_head_of_partitions(kafka: str, tmp_path: Path) -> None:
    max_page_bytes = 50_000
    pipeline = await new_pipeline(kafka, tmp_path, max_page_bytes=max_page_bytes)
    marker = uuid.uuid4().hex[:8]
    poisons = len(poison_records(marker, max_page_bytes))
    heads = [
        await publish(pipeline, poison_records(f"{marker}-{partition}", max_page_bytes), partition=partition)
        for partition in (0, 1)
    ]
    assert all([offset for _, offset in head] == list(range(poisons)) for head in heads), "not at the heads"
    # A foreign record at the head of an internal topic, too.
    documents = internal_topic(pipeline.settings, DOCUMENTS)
    await publish(pipeline, [b"not a document"], topic=documents, partition=0, key=b"\xff\xfe")
    pipeline.start_worker()
    pages = corpus(marker, stories=10)
    try:
        await feed(pages, pipeline.settings, progress=False)
        report = await settled(pipeline, pages, raw_records=len(pages) + 2 * poisons)
    finally:
        pipeline.stop_all()
    assert report.outcomes[DEAD_LETTER] == 2 * poisons
    assert report.foreign_dead_letters == 1, "the internal topic's foreign record was not dead-lettered"
