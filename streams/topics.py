"""The pipeline's public topics, created up front with the partition count and policies they need."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from streams.config import Settings

RAW_PAGES = "raw-pages"
ARTICLES = "articles"
DUPLICATES = "duplicates"
DEAD_LETTERS = "dead-letters"
DEDUPE_BY_HASH = "dedupe-by-hash"  # internal: articles re-keyed by content hash


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


async def ensure_topics(settings: Settings) -> None:
    """Create the public topics if they do not exist yet (existing ones are left as they are)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap_servers)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(
                name=spec.name,
                num_partitions=settings.partitions,
                replication_factor=settings.replication_factor,
                topic_configs=spec.config,
            )
            for spec in public_topics(settings)
            if spec.name not in existing
        ]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(missing)
    finally:
        await admin.close()
