"""``khabar replay``: move the pipeline's consumer group back on ``raw-pages`` and re-process.

Replaying is safe because the output is idempotent: the same URL always gives the same
``article_id`` (compacted topics keep the newest version) and a page never becomes a
duplicate of itself. The group must be idle — a running worker would overwrite the new
offsets with its own commits — so replay refuses while it has members, unless forced.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import OffsetAndMetadata

from streams.config import Settings
from streams.connection import client_options
from streams.lag import LagProbe
from streams.topics import RAW_PAGES


class ReplayError(RuntimeError):
    """The replay cannot be done as asked (and nothing was changed)."""


@dataclass(frozen=True)
class Target:
    """Where to move the group: the beginning, a time, or an offset (per partition)."""

    beginning: bool = False
    time: datetime | None = None
    offset: int | None = None


@dataclass(frozen=True)
class PartitionPlan:
    partition: TopicPartition
    committed: int | None
    target: int
    end: int

    @property
    def to_process(self) -> int:
        return max(0, self.end - self.target)


def _groups_of(response: Any) -> list[dict[str, Any]]:
    data = response.to_object()
    groups: list[dict[str, Any]] = data.get("groups", [])
    return groups


async def active_members(settings: Settings, group: str) -> int:
    """How many members the consumer group has right now."""
    admin = AIOKafkaAdminClient(**client_options(settings))
    await admin.start()
    try:
        responses = await admin.describe_consumer_groups([group])
    finally:
        await admin.close()
    return sum(len(g.get("members", [])) for r in responses for g in _groups_of(r) if g.get("group") == group)


async def plan(
    settings: Settings, group: str, target: Target, partitions: list[int] | None = None
) -> list[PartitionPlan]:
    """What a replay would do, partition by partition. Changes nothing."""
    topic = settings.topic(RAW_PAGES)
    admin = AIOKafkaAdminClient(**client_options(settings))
    await admin.start()
    consumer = AIOKafkaConsumer(**client_options(settings), enable_auto_commit=False)
    await consumer.start()
    try:
        (described,) = await admin.describe_topics([topic])
        if described["error_code"] != 0:
            raise ReplayError(f"topic {topic} does not exist (error {described['error_code']})")
        known = sorted(p["partition"] for p in described["partitions"])
        chosen = known if not partitions else sorted(set(partitions))
        unknown = set(chosen) - set(known)
        if unknown:
            raise ReplayError(f"{topic} has no partition {sorted(unknown)} (it has {known})")
        tps = [TopicPartition(topic, p) for p in chosen]
        committed = await admin.list_consumer_group_offsets(group, partitions=tps)
        starts = await consumer.beginning_offsets(tps)
        ends = await consumer.end_offsets(tps)
        if target.time is not None:
            stamp = int(target.time.timestamp() * 1000)
            found = await consumer.offsets_for_times(dict.fromkeys(tps, stamp))
            targets = {tp: found[tp].offset if found[tp] is not None else ends[tp] for tp in tps}
        elif target.offset is not None:
            targets = {tp: min(max(target.offset, starts[tp]), ends[tp]) for tp in tps}
        else:
            targets = dict(starts)
        plans = []
        for tp in tps:
            meta = committed.get(tp)
            current = meta.offset if meta is not None and meta.offset >= 0 else None
            plans.append(PartitionPlan(tp, current, targets[tp], ends[tp]))
        return plans
    finally:
        await consumer.stop()
        await admin.close()


def table(plans: list[PartitionPlan]) -> str:
    rows = [("topic", "partition", "committed", "new offset", "end", "to re-process")]
    rows += [
        (p.partition.topic, str(p.partition.partition), "-" if p.committed is None else str(p.committed),
         str(p.target), str(p.end), str(p.to_process))
        for p in plans
    ]  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) if column == 0 else cell.rjust(width)
                  for column, (cell, width) in enumerate(zip(row, widths, strict=True)))
        for row in rows
    )  # fmt: skip


async def execute(settings: Settings, group: str, plans: list[PartitionPlan]) -> None:
    """Commit the planned offsets for ``group`` (which should have no members)."""
    consumer = AIOKafkaConsumer(**client_options(settings), group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign([p.partition for p in plans])
        await consumer.commit({p.partition: OffsetAndMetadata(p.target, "khabar replay") for p in plans})
    finally:
        await consumer.stop()


async def remaining(settings: Settings, group: str, partitions: list[TopicPartition]) -> int:
    """Records of ``partitions`` the group has not committed yet."""
    probe = LagProbe(settings)
    try:
        return sum((await probe.measure(group, partitions)).values())
    finally:
        await probe.close()


async def wait_drained(
    settings: Settings, group: str, partitions: list[TopicPartition], on_progress: Any, poll: float = 1.0
) -> None:
    """Report the remaining lag until the workers have committed everything."""
    while True:
        left = await remaining(settings, group, partitions)
        on_progress(left)
        if left == 0:
            return
        await asyncio.sleep(poll)  # a progress display's refresh period, not synchronization
