"""The pipeline's public topics, created up front with the partition count and policies they need."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from aiokafka.partitioner import DefaultPartitioner

from streams.config import Settings
from streams.connection import client_options

RAW_PAGES = "raw-pages"
ARTICLES = "articles"
DUPLICATES = "duplicates"
DEAD_LETTERS = "dead-letters"
# Internal topics of the dedupe join, one set per app id (see streams/app.py).
DOCUMENTS = "documents"  # key: article_id
ANSWERS = "answers"  # key: article_id
VERIFY = "verify"  # key: article_id of the candidate asked
BANDS = "bands"  # partition: that of its LSH band keys (key: the asking article_id)
DEDUPE_BY_HASH = "dedupe-by-hash"  # key: content hash
INTERNAL_TOPICS = (DOCUMENTS, ANSWERS, VERIFY, BANDS, DEDUPE_BY_HASH)
# Faust tables; each has a compacted changelog topic "<app id>-<table>-changelog".
TABLE_DOCUMENTS = "documents"
TABLE_PENDING = "pending"
TABLE_BUCKETS = "lsh-buckets"
TABLE_OWNERS = "content-owners"
TABLES = (TABLE_DOCUMENTS, TABLE_PENDING, TABLE_BUCKETS, TABLE_OWNERS)


_DEFAULT_PARTITIONER = DefaultPartitioner()


def key_partition(key: bytes, partitions: int) -> int:
    """The partition of a record sent with ``key`` and no partition to a topic of ``partitions``
    partitions: Kafka's default partitioner (murmur2 of the key bytes), the one Faust's
    producer uses. A table keeps a key in the partition its records are sent to, so a record
    that carries several keys must go where each of them would go alone."""
    return int(_DEFAULT_PARTITIONER(key, list(range(partitions)), []))


def internal_topic(settings: Settings, name: str) -> str:
    """An internal topic's name: per app id, so another pipeline version never shares it."""
    return settings.topic(f"{settings.app_id}-{name}")


@dataclass(frozen=True)
class TopicSpec:
    name: str
    config: dict[str, str]


def public_topics(settings: Settings) -> list[TopicSpec]:
    hour_ms = 3_600_000
    return [
        TopicSpec(settings.topic(RAW_PAGES), {"retention.ms": str(settings.raw_retention_hours * hour_ms)}),
        # Compacted: a re-processed article replaces its old version under the same article_id.
        TopicSpec(settings.topic(ARTICLES), {"cleanup.policy": "compact"}),
        TopicSpec(settings.topic(DUPLICATES), {"cleanup.policy": "compact"}),
        TopicSpec(settings.topic(DEAD_LETTERS), {"retention.ms": str(30 * 24 * hour_ms)}),
    ]


def all_topics(settings: Settings) -> list[TopicSpec]:
    """The public topics and this app id's internal ones.

    The internal topics and table changelogs are created here too, before a worker
    subscribes: Faust would create them itself, but a worker that subscribes first ignores
    the missing ones until its next metadata refresh (minutes later).
    """
    week_ms = str(7 * 24 * 3_600_000)
    internal = [
        TopicSpec(internal_topic(settings, name), {"retention.ms": week_ms}) for name in INTERNAL_TOPICS
    ]
    changelogs = [
        TopicSpec(changelog_topic(settings, table), {"cleanup.policy": "compact"}) for table in TABLES
    ]
    return [*public_topics(settings), *internal, *changelogs]


def changelog_topic(settings: Settings, table: str) -> str:
    """A table's changelog, named as Faust names it: ``<app id>-<table>-changelog``, no prefix."""
    return f"{settings.app_id}-{table}-changelog"


async def ensure_topics(settings: Settings, timeout: float = 60.0) -> None:
    """Create the topics if they do not exist yet, and wait until every partition has a leader.

    Existing topics are left as they are. Waiting for leaders matters: a Faust worker that
    reads metadata before a new topic's partitions have leaders sees a topic with no
    partitions and will not consume it until its next metadata refresh.
    """
    admin = AIOKafkaAdminClient(**client_options(settings))
    await admin.start()
    try:
        specs = all_topics(settings)
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(
                name=spec.name,
                num_partitions=settings.partitions,
                replication_factor=settings.replication_factor,
                topic_configs=spec.config,
            )
            for spec in specs
            if spec.name not in existing
        ]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(missing)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        names = [spec.name for spec in specs]
        while not _all_led(await admin.describe_topics(names)):
            if loop.time() > deadline:
                raise TimeoutError(f"topics still without partition leaders after {timeout:.0f}s: {names}")
            await asyncio.sleep(0.2)  # polling the controller's metadata, bounded by the deadline
    finally:
        await admin.close()


def _all_led(described: list[dict[str, Any]]) -> bool:
    return all(
        topic["error_code"] == 0
        and topic["partitions"]
        and all(p["leader"] >= 0 for p in topic["partitions"])
        for topic in described
    )
