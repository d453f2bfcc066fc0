"""Consumer lag: how many records of a partition the group has not committed yet."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from streams.config import Settings
from streams.connection import client_options


async def group_lag(
    admin: AIOKafkaAdminClient, consumer: AIOKafkaConsumer, group: str, partitions: list[TopicPartition]
) -> dict[TopicPartition, int]:
    """End offset minus the group's committed offset (the log start when nothing is committed)."""
    if not partitions:
        return {}
    committed = await admin.list_consumer_group_offsets(group, partitions=partitions)
    ends = await consumer.end_offsets(partitions)
    starts = await consumer.beginning_offsets(partitions)
    lag = {}
    for tp in partitions:
        meta = committed.get(tp)
        position = meta.offset if meta is not None and meta.offset >= 0 else starts[tp]
        lag[tp] = max(0, ends[tp] - position)
    return lag


class LagProbe:
    """Long-lived clients for measuring a group's lag again and again."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._admin: AIOKafkaAdminClient | None = None
        self._consumer: AIOKafkaConsumer | None = None

    async def measure(self, group: str, partitions: list[TopicPartition]) -> dict[TopicPartition, int]:
        if self._admin is None or self._consumer is None:
            self._admin = AIOKafkaAdminClient(**client_options(self._settings))
            await self._admin.start()
            self._consumer = AIOKafkaConsumer(**client_options(self._settings), enable_auto_commit=False)
            await self._consumer.start()
        return await group_lag(self._admin, self._consumer, group, partitions)

    async def close(self) -> None:
        if self._admin is not None:
            await self._admin.close()
        if self._consumer is not None:
            await self._consumer.stop()
        self._admin = self._consumer = None
