"""Following the pipeline's outputs (``articles``, ``duplicates``, ``dead-letters``) as they arrive."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from streams.config import Settings
from streams.connection import client_options
from streams.topics import ARTICLES, DEAD_LETTERS, DUPLICATES

OUTPUT_TOPICS = (ARTICLES, DUPLICATES, DEAD_LETTERS)


@dataclass(frozen=True)
class Output:
    """One record read from an output topic."""

    kind: str  # "article" | "duplicate" | "dead-letter" | "retracted"
    key: str | None
    document: dict[str, Any]
    topic: str
    partition: int
    offset: int

    @property
    def page_id(self) -> str | None:
        value = self.document.get("page_id")
        return str(value) if value else None


def describe(output: Output) -> str:
    """One human line per output, as `khabar run` and `khabar tail` print them."""
    doc = output.document
    if output.kind == "retracted":
        return f"RETRACTED  {output.key}  (a later copy: now on duplicates)"
    if output.kind == "dead-letter":
        reason = f"{doc.get('stage')}/{doc.get('reason')}"
        return f"DEAD-LETTER  {reason}  {doc.get('url') or ''}  {doc.get('error_message', '')[:120]}"
    published = (doc.get("published_at") or "no date")[:10]
    title = doc.get("title") or "(no title)"
    status = "ARTICLE  " if output.kind == "article" else f"DUPLICATE of {doc.get('duplicate_of')}"
    return f"{status}  [{doc.get('language') or '??'}] {published}  {title}  <{doc.get('url')}>"


def _kind(settings: Settings, topic: str) -> str:
    if topic == settings.topic(ARTICLES):
        return "article"
    if topic == settings.topic(DUPLICATES):
        return "duplicate"
    return "dead-letter"


async def output_partitions(settings: Settings) -> list[TopicPartition]:
    admin = AIOKafkaAdminClient(**client_options(settings))
    await admin.start()
    try:
        described = await admin.describe_topics([settings.topic(name) for name in OUTPUT_TOPICS])
    finally:
        await admin.close()
    return sorted(
        TopicPartition(topic["topic"], partition["partition"])
        for topic in described
        if topic["error_code"] == 0
        for partition in topic["partitions"]
    )


async def end_offsets(settings: Settings) -> dict[TopicPartition, int]:
    """The current end of every output partition: following from here shows only new records."""
    partitions = await output_partitions(settings)
    if not partitions:
        return {}
    consumer = AIOKafkaConsumer(**client_options(settings), enable_auto_commit=False)
    await consumer.start()
    try:
        ends: dict[TopicPartition, int] = await consumer.end_offsets(partitions)
        return ends
    finally:
        await consumer.stop()


async def follow(
    settings: Settings,
    on_output: Callable[[Output], bool],
    *,
    start: dict[TopicPartition, int] | None = None,
    from_beginning: bool = False,
    keep_going: Callable[[], bool] = lambda: True,
) -> None:
    """Call ``on_output`` for each output record until it returns False.

    ``start`` gives explicit start offsets per partition; otherwise reading starts at the end
    (or the beginning with ``from_beginning``). ``keep_going`` is asked after every poll
    (at least twice a second). Reads only committed records (``read_committed``).
    """
    consumer = AIOKafkaConsumer(
        **client_options(settings),
        enable_auto_commit=False,
        isolation_level="read_committed",
        auto_offset_reset="earliest" if from_beginning else "latest",
    )
    await consumer.start()
    try:
        consumer.assign(list(start) if start is not None else await output_partitions(settings))
        if start is not None:
            for partition, offset in start.items():
                consumer.seek(partition, offset)
        elif from_beginning:
            await consumer.seek_to_beginning()
        else:
            await consumer.seek_to_end()
        while keep_going():
            batches = await consumer.getmany(timeout_ms=500)
            for partition, records in batches.items():
                for record in records:
                    output = Output(
                        kind=_kind(settings, partition.topic) if record.value is not None else "retracted",
                        key=record.key.decode(errors="replace") if record.key is not None else None,
                        document=orjson.loads(record.value) if record.value is not None else {},
                        topic=partition.topic,
                        partition=partition.partition,
                        offset=record.offset,
                    )
                    if not on_output(output):
                        return
    finally:
        await consumer.stop()
