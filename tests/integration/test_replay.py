"""Graceful shutdown mid-stream, and `khabar replay`: nothing lost, nothing doubled."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import orjson
import pytest
from aiokafka import ConsumerRecord, TopicPartition

from streams.feed import feed
from streams.replay import remaining
from streams.sources import read_pages
from streams.topics import INTERNAL_TOPICS, internal_topic
from tests.integration.conftest import Pipeline, unique_page

pytestmark = pytest.mark.integration

PAGES = 1000  # enough that a SIGTERM after the first outputs lands mid-stream


def khabar(pipeline: Pipeline, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **pipeline.settings.environment()}
    return subprocess.run(
        [sys.executable, "-m", "streams.cli", *args], env=env, capture_output=True, text=True, timeout=120
    )


def by_page(records: list[ConsumerRecord[bytes, bytes]], topic: str) -> dict[str, list[dict[str, object]]]:
    found: dict[str, list[dict[str, object]]] = {}
    for record in records:
        if record.topic == topic and record.value is not None:
            document = orjson.loads(record.value)
            found.setdefault(str(document["page_id"]), []).append(document)
    return found


async def test_sigterm_mid_stream_loses_nothing_and_replay_republishes_the_same_articles(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    marker = uuid.uuid4().hex
    for number in range(PAGES):
        unique_page(tmp_path, f"page-{number:03d}.txt", f"{marker}-{number}")
    summary = await feed(read_pages([str(tmp_path)]), pipeline.settings, progress=False)
    wanted = set(summary.page_ids)
    articles = pipeline.topic("articles")

    def some_out(records: list[ConsumerRecord[bytes, bytes]]) -> bool:
        return len(set(by_page(records, articles)) & wanted) >= 5

    await pipeline.outputs(some_out)
    # SIGTERM while pages are still in flight: the worker must finish, commit and exit in time.
    assert pipeline.stop_worker(timeout=60) == 0
    consumed = [pipeline.topic("raw-pages")] + [
        internal_topic(pipeline.settings, name) for name in INTERNAL_TOPICS
    ]
    partitions = [TopicPartition(t, p) for t in consumed for p in range(pipeline.settings.partitions)]
    left = await remaining(pipeline.settings, pipeline.settings.app_id, partitions)
    assert left > 0, "the SIGTERM did not land mid-stream: nothing was left in flight"
    pipeline.start_worker()

    def all_out(records: list[ConsumerRecord[bytes, bytes]]) -> bool:
        return wanted <= set(by_page(records, articles))

    records = await pipeline.outputs(all_out, timeout=300)  # 1,000 pages on a shared 2-core machine
    first = by_page(records, articles)
    ids_before = {str(doc["article_id"]) for page in wanted for doc in first[page]}
    assert len(ids_before) == PAGES

    refused = khabar(pipeline, "replay", "--to-beginning", "--execute", "--no-wait")
    assert refused.returncode != 0 and "active member" in refused.stderr, refused.stderr

    assert pipeline.stop_worker() == 0
    dry = khabar(pipeline, "replay", "--to-beginning")
    assert dry.returncode == 0, dry.stderr
    assert "dry run" in dry.stdout and pipeline.topic("raw-pages") in dry.stdout
    done = khabar(pipeline, "replay", "--to-beginning", "--execute", "--no-wait")
    assert done.returncode == 0, done.stderr
    assert "records will be re-processed" in done.stdout
    pipeline.start_worker()

    def replayed(records: list[ConsumerRecord[bytes, bytes]]) -> bool:
        outputs = by_page(records, articles)
        return all(len(outputs.get(page, [])) >= len(first[page]) + 1 for page in wanted)

    records = await pipeline.outputs(replayed)
    after = by_page(records, articles)
    assert {str(doc["article_id"]) for page in wanted for doc in after[page]} == ids_before
    assert not set(by_page(records, pipeline.topic("duplicates"))) & wanted, "a replay made self-duplicates"
    assert not any(
        r.topic == pipeline.topic("dead-letters") and r.value and marker.encode() in r.value for r in records
    )
