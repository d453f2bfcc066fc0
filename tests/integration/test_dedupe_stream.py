"""Near- and exact-duplicate clusters on the stream: the same on 1 or 6 partitions, and
the same as the offline run, whatever the arrival order (late earlier copies included)."""

from __future__ import annotations

import asyncio
import io
import os
import random
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from aiokafka import ConsumerRecord

from schemas import RawPage
from streams.broker import free_port
from streams.config import Settings
from streams.feed import feed
from streams.process import process
from tests.integration.conftest import WORDS, Pipeline

# Slow, and not yet reliable: in 2 of 5 runs this session, one document's join waited longer than
# the deadline for a verdict that does arrive later (seen on 1 partition/1 worker; issue 5).
pytestmark = [pytest.mark.integration, pytest.mark.slow]

T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
Clusters = dict[str, str]  # article_id -> the canonical article_id of its cluster


def story(rng: random.Random) -> list[str]:
    return [" ".join(rng.choice(WORDS) for _ in range(45)) + "." for _ in range(4)]


def corpus(seed: str) -> list[RawPage]:
    """Ten stories, each with syndicated copies; one copy per story is earlier than the original.

    The texts come from a fixed seed (every copy verifies above the threshold and shares a
    band with its original for these texts: checked by the offline run below); ``seed``
    only makes the URLs unique.
    """
    rng = random.Random("khabar-dedupe-corpus")
    pages = []
    for number in range(10):
        paragraphs = story(rng)
        variants = {
            "original": paragraphs,
            "dateline": ["القاهرة - (وكالات) - " + paragraphs[0], *paragraphs[1:]],
            "cut": [*paragraphs[:3], " ".join(paragraphs[3].split()[:20]) + "."],
            "marked": [p.replace("ا", "ا\u064e", 3).replace("ي", "ى", 2) for p in paragraphs],
            "early": [*paragraphs, "المصدر: وكالة الأنباء"],
        }
        for offset, (name, body) in enumerate(variants.items()):
            fetched = T0 + timedelta(hours=number, minutes=offset * 7 if name != "early" else -30)
            pages.append(
                RawPage(
                    url=f"https://site{offset}.example/{seed}/{number}/{name}",
                    fetched_at=fetched,
                    text=f"عنوان الخبر رقم {number}\n\n" + "\n\n".join(body),
                    content_type="text/plain",
                )
            )
    rng.shuffle(pages)  # arrival order is not time order
    return pages


def offline_clusters(pages: list[RawPage]) -> Clusters:
    out = io.BytesIO()
    process(pages, out, progress=False)
    return roots(
        {d["article_id"]: d.get("duplicate_of") for d in map(orjson.loads, out.getvalue().splitlines())}
    )


def roots(pointers: dict[str, str | None]) -> Clusters:
    def root(article_id: str) -> str:
        seen = set()
        while pointers.get(article_id):
            assert article_id not in seen, f"a cycle through {article_id}"
            seen.add(article_id)
            article_id = str(pointers[article_id])
        return article_id

    return {article_id: root(article_id) for article_id in pointers}


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


async def start_pipeline(kafka: str, workdir: Path, partitions: int, workers: int) -> tuple[Pipeline, list]:
    name = f"d{uuid.uuid4().hex[:8]}"
    settings = replace(
        Settings.from_env(), broker=kafka, topic_prefix=f"{name}.", app_id=name, partitions=partitions,
        data_dir=workdir / name / "w0",
    )  # fmt: skip
    pipeline = Pipeline(settings=settings, worker=None, log=workdir / f"{name}.log", web_port=free_port())
    from streams.topics import ensure_topics

    await ensure_topics(settings)
    pipeline.start_worker()
    extra = []
    for index in range(1, workers):
        worker = replace(settings, data_dir=workdir / name / f"w{index}", web_port=free_port())
        env = {**os.environ, **worker.environment()}
        with (workdir / f"{name}-{index}.log").open("ab") as log:
            extra.append(
                subprocess.Popen(
                    [sys.executable, "-m", "streams.cli", "worker"], env=env, stdout=log, stderr=log
                )
            )
    return pipeline, extra


@pytest.fixture(scope="module")
def pages() -> list[RawPage]:
    return corpus(uuid.uuid4().hex[:6])


@pytest.fixture(scope="module")
async def two_pipelines(
    kafka: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[list[tuple[Pipeline, list]]]:
    workdir = tmp_path_factory.mktemp("dedupe")
    started = [await start_pipeline(kafka, workdir, 1, 1), await start_pipeline(kafka, workdir, 6, 2)]
    try:
        yield started
    finally:
        for pipeline, extra in started:
            for worker in extra:
                worker.send_signal(signal.SIGTERM)
            pipeline.stop_worker()
            for worker in extra:
                worker.wait(timeout=60)


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
    two_pipelines: list[tuple[Pipeline, list]], pages: list[RawPage]
) -> None:
    expected = offline_clusters(pages)
    canonicals = set(expected.values())
    assert len(canonicals) == 10, "the corpus has ten stories"
    assert all(len([k for k, v in expected.items() if v == c]) == 5 for c in canonicals)
    ids = set(expected)
    await asyncio.gather(*(feed(pages, pipeline.settings, progress=False) for pipeline, _ in two_pipelines))
    results = [await settle(pipeline, ids, expected) for pipeline, _ in two_pipelines]
    assert results[0] == results[1] == expected


async def test_feeding_everything_again_changes_nothing(
    two_pipelines: list[tuple[Pipeline, list]], pages: list[RawPage]
) -> None:
    expected = offline_clusters(pages)
    pipeline = two_pipelines[1][0]
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
