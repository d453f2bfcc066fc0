"""Near- and exact-duplicate clusters on the stream: the same on 1 or 6 partitions, and
the same as the offline run, whatever the arrival order (late earlier copies included)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import orjson
import pytest
from aiokafka import ConsumerRecord

from schemas import RawPage
from streams.feed import feed
from tests.integration.clusters import Clusters, corpus, offline_clusters, roots
from tests.integration.conftest import Pipeline, new_pipeline

# Slow, and not yet reliable: in 2 of 5 runs this session, one document's join waited longer than
# the deadline for a verdict that does arrive later (seen on 1 partition/1 worker; issue 5).
pytestmark = [pytest.mark.integration, pytest.mark.slow]


def stream_clusters(
    pipeline: Pipeline, records: list[ConsumerRecord[bytes, bytes]], ids: set[str]
) -> Clusters:
    """The final state: an article on `duplicates` points to its duplicate_of; the rest are canonical."""
    pointers: dict[str, str | None] = {}
    for record in records:  # in offset order within each partition; corrections only move to duplicates
        article_id = (record.key or b"").decode()
        if article_id not in ids:
            continue
        if record.topic == pipeline.topic("duplicates") and record.value:
            pointers[article_id] = orjson.loads(record.value)["duplicate_of"]
        elif record.topic == pipeline.topic("articles") and record.value:
            pointers.setdefault(article_id, None)
    return roots(pointers)


@pytest.fixture(scope="module")
def pages() -> list[RawPage]:
    return corpus(uuid.uuid4().hex[:6])


@pytest.fixture(scope="module")
async def two_pipelines(
    kafka: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[list[Pipeline]]:
    workdir = tmp_path_factory.mktemp("dedupe")
    started = []
    for partitions, workers in ((1, 1), (6, 2)):
        pipeline = await new_pipeline(kafka, workdir, partitions=partitions)
        pipeline.start_worker()
        for _ in range(1, workers):
            pipeline.add_worker()
        started.append(pipeline)
    try:
        yield started
    finally:
        for pipeline in started:
            pipeline.stop_all()


async def settle(pipeline: Pipeline, ids: set[str], expected: Clusters) -> Clusters:
    """Read outputs until the stream's clusters equal the expected ones (or the deadline)."""
    latest: Clusters = {}

    def done(records: list[ConsumerRecord[bytes, bytes]]) -> bool:
        nonlocal latest
        latest = stream_clusters(pipeline, records, ids)
        return latest == expected

    try:
        await pipeline.outputs(done, timeout=150)
    except AssertionError as exc:
        wrong = {k: (latest.get(k), v) for k, v in expected.items() if latest.get(k) != v}
        raise AssertionError(f"clusters differ (got, expected) for {len(wrong)} documents: {wrong}") from exc
    return latest


async def test_clusters_are_the_same_on_1_and_6_partitions_and_offline(
    two_pipelines: list[Pipeline], pages: list[RawPage]
) -> None:
    expected = offline_clusters(pages)
    canonicals = set(expected.values())
    assert len(canonicals) == 10, "the corpus has ten stories"
    assert all(len([k for k, v in expected.items() if v == c]) == 5 for c in canonicals)
    ids = set(expected)
    await asyncio.gather(*(feed(pages, pipeline.settings, progress=False) for pipeline in two_pipelines))
    results = [await settle(pipeline, ids, expected) for pipeline in two_pipelines]
    assert results[0] == results[1] == expected


async def test_feeding_everything_again_changes_nothing(
    two_pipelines: list[Pipeline], pages: list[RawPage]
) -> None:
    expected = offline_clusters(pages)
    pipeline = two_pipelines[1]
    await feed(pages, pipeline.settings, progress=False)
    wanted = {p.page_id for p in pages}

    def republished(records: list[ConsumerRecord[bytes, bytes]]) -> bool:
        counts: dict[str, int] = {}
        for r in records:
            if r.value:
                page = orjson.loads(r.value).get("page_id")
                counts[page] = counts.get(page, 0) + 1
        return all(counts.get(p, 0) >= 2 for p in wanted)

    records = await pipeline.outputs(republished, timeout=150)
    assert stream_clusters(pipeline, records, set(expected)) == expected
    for record in records:
        if record.topic == pipeline.topic("duplicates") and record.value:
            document = orjson.loads(record.value)
            assert document["duplicate_of"] != document["article_id"], "a self-duplicate"
