"""Band questions carry several band keys to one explicit partition: the partition each key
would have gone to alone, so the bucket table keeps every key where it always was.

This checks :func:`streams.topics.key_partition` against where a real broker holds records
sent with the band keys as keys and no partition, by a producer with aiokafka's default
partitioner (the one Faust's producer is built with, ``producer_partitioner`` unset).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from agents.dedupe.near import band_keys, shingles, signature
from streams.connection import client_options
from streams.topics import BANDS, internal_topic, key_partition
from tests.integration.conftest import WORDS, new_pipeline

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("partitions", [4, 6])
async def test_a_band_key_maps_to_the_partition_the_broker_puts_it_in(
    kafka: str, tmp_path: Path, partitions: int
) -> None:
    pipeline = await new_pipeline(kafka, tmp_path, partitions=partitions)
    topic = internal_topic(pipeline.settings, BANDS)
    keys = [key for n in range(10) for key in band_keys(signature(shingles(" ".join(WORDS[n:]))))]
    producer = AIOKafkaProducer(**client_options(pipeline.settings), acks="all")
    await producer.start()
    try:
        for key in keys:
            await producer.send(topic, key=key.encode(), value=b"{}")
        await producer.flush()
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(
        topic, **client_options(pipeline.settings), auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    where: dict[str, int] = {}
    try:
        while len(where) < len(set(keys)):
            batches = await consumer.getmany(timeout_ms=10_000)
            assert batches, f"only {len(where)} of {len(set(keys))} keys read back"
            for records in batches.values():
                where.update({(r.key or b"").decode(): r.partition for r in records})
    finally:
        await consumer.stop()
    assert set(where.values()) == set(range(partitions))  # the keys spread over every partition
    assert {key: key_partition(key.encode(), partitions) for key in where} == where
