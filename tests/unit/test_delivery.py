"""The consumer commits no further than it processed and fetches dropped records again
(streams/delivery.py)."""

from __future__ import annotations

import contextlib
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from aiokafka import TopicPartition
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types.tuples import TP

from streams.app import create_app
from streams.config import Settings
from streams.delivery import GaplessConsumer, Hole, HoleWatch, absent_offsets

ANSWERS = TP("t.answers", 2)


@pytest.fixture
def consumer(tmp_path: Path) -> GaplessConsumer:
    """The app's consumer, not started: its offset bookkeeping is all these tests touch."""
    consumer = create_app(Settings(data_dir=tmp_path)).consumer
    assert isinstance(consumer, GaplessConsumer)
    return consumer


def processed(consumer: GaplessConsumer, tp: TP, committed: int | None, acked: list[int]) -> None:
    consumer._committed_offset[tp] = committed
    consumer._acked[tp] = list(acked)
    consumer._acked_index[tp] = set(acked)


def record(offset: int) -> Any:
    return SimpleNamespace(
        topic=ANSWERS.topic, partition=ANSWERS.partition, offset=offset, timestamp=1_700_000_000_000,
        timestamp_type=0, headers=[], key=b"k", value=b"v", checksum=None, serialized_key_size=1,
        serialized_value_size=1,
    )  # fmt: skip


def test_the_commit_never_steps_over_one_record_not_processed(consumer: GaplessConsumer) -> None:
    processed(consumer, ANSWERS, committed=134, acked=[135, 136])
    assert consumer._new_offset(ANSWERS) is None
    # what Faust itself does: commits 137, and offset 134 is never processed nor fetched again
    processed(consumer, ANSWERS, committed=134, acked=[135, 136])
    assert faust_aiokafka.Consumer._new_offset(consumer, ANSWERS) == 137
    # nothing missing: the commit goes on
    processed(consumer, ANSWERS, committed=134, acked=[134, 135, 136])
    assert consumer._new_offset(ANSWERS) == 137


def test_an_offset_known_to_be_absent_is_no_hole(consumer: GaplessConsumer) -> None:
    processed(consumer, ANSWERS, committed=134, acked=[135, 136])
    consumer._mark_absent(ANSWERS, 134, 135)  # a fetch skipped it (a transaction marker)
    assert consumer._new_offset(ANSWERS) == 137


async def test_a_jump_faust_saw_between_two_records_is_no_gap(consumer: GaplessConsumer) -> None:
    # 138 was processed; 139 was fetched but dropped around a rebalance, and 140 came next:
    # Faust calls _add_gap(139, 140), as if the log held nothing at 139
    processed(consumer, ANSWERS, committed=138, acked=[138])
    await consumer._add_gap(ANSWERS, 139, 140)
    consumer._acked[ANSWERS].append(140)
    assert consumer._new_offset(ANSWERS) == 139
    consumer._committed_offset[ANSWERS] = 139
    assert consumer._new_offset(ANSWERS) is None  # 139 is a hole, to fetch again
    # what Faust's own gap does: the commit steps over 139, never processed
    processed(consumer, ANSWERS, committed=138, acked=[138])
    await faust_aiokafka.Consumer._add_gap(consumer, ANSWERS, 139, 140)
    consumer._acked[ANSWERS].append(140)
    assert consumer._new_offset(ANSWERS) == 141


def test_the_offsets_a_fetch_skipped_are_absent() -> None:
    # read from 10: a control batch at 10, records 11 and 12, 13 compacted away, 14, a marker at 15
    assert absent_offsets([11, 12, 14], read_from=10, position=16) == [(10, 11), (13, 14), (15, 16)]
    assert absent_offsets([11, 12], read_from=11, position=13) == []
    # where the fetch started is not known (a rebalance while it waited): only what it shows
    assert absent_offsets([11, 12, 14], read_from=None, position=15) == [(13, 14)]
    # a fetch from before a seek back shows nothing before its records
    assert absent_offsets([11], read_from=30, position=12) == []
    assert absent_offsets([], read_from=10, position=16) == []


def fetching_from(positions: dict[TP, int], fetched: dict[TP, list[int]], then: dict[TP, int]) -> Any:
    """An aiokafka consumer at ``positions`` whose next fetch returns the records at ``fetched``
    and leaves the positions at ``then``."""
    states = {
        tp: SimpleNamespace(has_valid_position=True, position=offset) for tp, offset in positions.items()
    }
    subscriptions = SimpleNamespace(
        subscription=SimpleNamespace(assignment=SimpleNamespace(state_value=states.get)),
        fetch_context=contextlib.nullcontext,
    )

    async def fetched_records(partitions: Any, timeout: float, max_records: int) -> Any:
        for tp, offset in then.items():
            states[tp].position = offset
        return {
            TopicPartition(tp.topic, tp.partition): [record(o) for o in offsets]
            for tp, offsets in fetched.items()
        }

    fetcher = SimpleNamespace(_subscriptions=subscriptions, fetched_records=fetched_records, _closed=False)
    return SimpleNamespace(_fetcher=fetcher, _closed=False)


async def test_the_consumer_thread_notes_what_each_fetch_skipped(consumer: GaplessConsumer) -> None:
    other = TP("t.answers", 3)
    aiokafka_consumer = fetching_from(
        {ANSWERS: 10, other: 7}, {ANSWERS: [11, 12, 14], other: [7, 8]}, {ANSWERS: 16, other: 9}
    )
    records = await consumer._thread._fetch_records(aiokafka_consumer, {ANSWERS, other}, timeout=1.0)
    assert [r.offset for r in records[TopicPartition(ANSWERS.topic, ANSWERS.partition)]] == [11, 12, 14]
    assert list(consumer._thread.absent) == [(ANSWERS, 10, 11), (ANSWERS, 13, 14), (ANSWERS, 15, 16)]


async def test_after_a_rebalance_mid_fetch_only_the_fetch_itself_is_evidence(
    consumer: GaplessConsumer,
) -> None:
    aiokafka_consumer = fetching_from({ANSWERS: 10}, {ANSWERS: [11, 12, 14]}, {ANSWERS: 16})
    subscription = aiokafka_consumer._fetcher._subscriptions.subscription
    fetch = aiokafka_consumer._fetcher.fetched_records

    async def fetched_over_a_rebalance(*args: Any, **kwargs: Any) -> Any:
        subscription.assignment = SimpleNamespace(state_value=subscription.assignment.state_value)
        return await fetch(*args, **kwargs)

    aiokafka_consumer._fetcher.fetched_records = fetched_over_a_rebalance
    await consumer._thread._fetch_records(aiokafka_consumer, {ANSWERS}, timeout=1.0, max_records=10)
    assert list(consumer._thread.absent) == [(ANSWERS, 13, 14), (ANSWERS, 15, 16)]


def test_offsets_the_fetches_showed_absent_are_stepped_over(consumer: GaplessConsumer) -> None:
    consumer.app.topics.acks_enabled_for = lambda topic: topic == ANSWERS.topic  # type: ignore[method-assign]
    processed(consumer, ANSWERS, committed=134, acked=[135, 136, 138])
    changelog, revoked = TP("t-table-changelog", 2), TP("t.answers", 9)
    processed(consumer, changelog, committed=3, acked=[])
    consumer._thread.absent.extend(
        [(ANSWERS, 130, 135), (ANSWERS, 137, 138), (changelog, 3, 4), (revoked, 0, 5)]
    )
    consumer._note_absent()
    assert not consumer._thread.absent
    assert sorted(consumer._acked[ANSWERS]) == [134, 135, 136, 137, 138]  # nothing before the commit
    assert not consumer._acked[changelog]  # not committed by the agents: not kept
    assert not consumer._acked[revoked]  # not this consumer's partition (any more)
    consumer._mark_absent(ANSWERS, 137, 138)  # shown again (a refetch): counted once
    assert consumer._new_offset(ANSWERS) == 139


def test_a_marker_after_the_last_record_does_not_hold_the_commit_back(consumer: GaplessConsumer) -> None:
    # records 20 and 21, then the transaction's commit marker at 22: the log ends at 23
    processed(consumer, ANSWERS, committed=20, acked=[20, 21])
    consumer._mark_absent(ANSWERS, 22, 23)
    assert consumer._new_offset(ANSWERS) == 23
    # the marker fetched after the records were committed: nothing processed since
    processed(consumer, ANSWERS, committed=22, acked=[])
    consumer._mark_absent(ANSWERS, 22, 23)
    assert consumer._new_offset(ANSWERS) == 23
    # an absent offset past a hole is no reason to commit
    processed(consumer, ANSWERS, committed=22, acked=[24])
    consumer._mark_absent(ANSWERS, 25, 26)
    assert consumer._new_offset(ANSWERS) is None


def test_a_hole_is_fetched_again_once_it_stayed_for_the_patience() -> None:
    watch = HoleWatch(patience=10.0)
    assert watch.due(ANSWERS, start=117, first_acked=120, now=0.0) is None  # first seen
    assert watch.due(ANSWERS, start=117, first_acked=121, now=9.0) is None  # not yet
    hole = watch.due(ANSWERS, start=117, first_acked=120, now=10.0)
    assert hole == Hole(ANSWERS, 117, 120, since=10.0, refetches=1)
    assert watch.due(ANSWERS, start=117, first_acked=120, now=15.0) is None  # waits again
    assert watch.due(ANSWERS, start=117, first_acked=120, now=20.0) == Hole(ANSWERS, 117, 120, 20.0, 2)
    # the records came and were processed: the commit moved, the hole is gone
    assert watch.due(ANSWERS, start=125, first_acked=125, now=21.0) is None
    assert ANSWERS not in watch.holes
    # a new hole at another offset starts its own wait
    assert watch.due(ANSWERS, start=130, first_acked=131, now=22.0) is None
    assert watch.due(ANSWERS, start=130, first_acked=131, now=31.0) is None
    assert watch.due(ANSWERS, start=130, first_acked=131, now=32.0) is not None
    watch.keep_only(set())  # revoked
    assert watch.holes == {}


def test_a_refetch_that_starts_past_the_hole_start_proves_those_offsets_absent(
    consumer: GaplessConsumer,
) -> None:
    processed(consumer, ANSWERS, committed=134, acked=[137, 138])
    consumer._refetching[ANSWERS] = Hole(ANSWERS, 134, 137, since=0.0)
    consumer._to_message(ANSWERS, record(140))  # fetched before the seek: no evidence
    assert ANSWERS in consumer._refetching and consumer._new_offset(ANSWERS) is None
    consumer._to_message(ANSWERS, record(136))  # the first record from the hole's range
    assert ANSWERS not in consumer._refetching
    assert consumer._new_offset(ANSWERS) == 136  # 134 and 135 do not exist; 136 is to process


def test_a_refetch_that_finds_the_record_waits_for_it(consumer: GaplessConsumer) -> None:
    processed(consumer, ANSWERS, committed=134, acked=[137, 138])
    consumer._refetching[ANSWERS] = Hole(ANSWERS, 134, 137, since=0.0)
    message = consumer._to_message(ANSWERS, record(134))
    assert message.offset == 134 and ANSWERS not in consumer._refetching
    assert consumer._new_offset(ANSWERS) is None  # until 134 is processed


async def test_an_idle_worker_fetches_again_a_last_record_never_processed(
    consumer: GaplessConsumer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # committed up to 50; the log's last stable offset is 52; 50 and 51 dropped, nothing after
    consumer.app.topics.acks_enabled_for = lambda topic: topic == ANSWERS.topic  # type: ignore[method-assign]
    monkeypatch.setattr(consumer, "assignment", lambda: {ANSWERS, TP("t-table-changelog", 2)})
    monkeypatch.setattr(consumer, "_stable_end", lambda tp: 52)
    sought: list[tuple[TP, int]] = []

    async def seek(tp: TP, offset: int) -> None:
        sought.append((tp, offset))

    monkeypatch.setattr(consumer, "seek", seek)
    processed(consumer, ANSWERS, committed=50, acked=[])
    assert await consumer.refetch_holes(now=0.0) == []  # first look: idle is not known yet
    assert await consumer.refetch_holes(now=5.0) == []  # idle: the hole is first seen
    assert await consumer.refetch_holes(now=15.0) == [Hole(ANSWERS, 50, 52, since=15.0, refetches=1)]
    assert sought == [(ANSWERS, 50)]
    # a record processed meanwhile: not idle, the hole is forgotten
    consumer.acks_total += 1
    assert await consumer.refetch_holes(now=30.0) == []
    assert ANSWERS not in consumer.hole_watch.holes
    # an event in progress (a slow page): not idle either
    message = consumer._to_message(ANSWERS, record(50))
    consumer._unacked_messages.add(message)
    assert await consumer.refetch_holes(now=35.0) == [] and await consumer.refetch_holes(now=50.0) == []
    assert sought == [(ANSWERS, 50)]
    # everything up to the last stable offset processed: nothing to fetch
    consumer._unacked_messages.discard(message)
    processed(consumer, ANSWERS, committed=52, acked=[])
    for now in (60.0, 65.0, 80.0):
        assert await consumer.refetch_holes(now=now) == []


def test_a_partition_with_no_commit_starts_at_the_logs_first_offset(consumer: GaplessConsumer) -> None:
    # a new group's first records dropped: Faust holds None for "no commit" (and for 0)
    processed(consumer, ANSWERS, committed=None, acked=[3, 4, 5])
    assert faust_aiokafka.Consumer._new_offset(consumer, ANSWERS) == 6  # Faust: 0 to 2 are lost
    processed(consumer, ANSWERS, committed=None, acked=[3, 4, 5])  # (Faust's call took them off)
    consumer._log_start[ANSWERS] = 0  # what perform_seek read as the partition was assigned
    assert consumer.next_to_process(ANSWERS) == 0
    assert consumer._new_offset(ANSWERS) is None
    consumer.hole_watch.patience = 0.0
    consumer.hole_watch.due(ANSWERS, consumer.next_to_process(ANSWERS), 3, now=0.0)  # first seen
    assert consumer.hole_watch.due(ANSWERS, 0, 3, now=1.0) == Hole(ANSWERS, 0, 3, since=1.0, refetches=1)
    # fetched again and processed: the commit goes on
    processed(consumer, ANSWERS, committed=None, acked=[0, 1, 2, 3, 4, 5])
    assert consumer._new_offset(ANSWERS) == 6
    # retention deleted the log's head: the first offset is later, and only it is waited for
    processed(consumer, ANSWERS, committed=None, acked=[41, 42])
    consumer._log_start[ANSWERS] = 40
    assert consumer._new_offset(ANSWERS) is None
    consumer._acked[ANSWERS].insert(0, 40)
    assert consumer._new_offset(ANSWERS) == 43
    # a commit of its own takes over from the log's first offset
    processed(consumer, ANSWERS, committed=43, acked=[43])
    assert consumer.next_to_process(ANSWERS) == 43 and consumer._new_offset(ANSWERS) == 44


async def test_perform_seek_reads_the_first_offset_of_partitions_with_no_commit(
    consumer: GaplessConsumer, monkeypatch: pytest.MonkeyPatch
) -> None:
    committed, fresh, revoked = TP("t.answers", 0), TP("t.answers", 1), TP("t.answers", 3)
    consumer._log_start[revoked] = 7

    async def seek_to_committed(self: Any) -> None:
        processed(consumer, committed, committed=120, acked=[])

    async def earliest_offsets(*partitions: TP) -> dict[TP, int]:
        assert partitions == (fresh,)
        return {fresh: 55}

    monkeypatch.setattr(faust_aiokafka.Consumer, "perform_seek", seek_to_committed)
    monkeypatch.setattr(consumer, "assignment", lambda: {committed, fresh})
    monkeypatch.setattr(consumer, "earliest_offsets", earliest_offsets)
    await consumer.perform_seek()
    assert consumer._log_start == {fresh: 55}
    assert consumer.next_to_process(fresh) == 55 and consumer.next_to_process(committed) == 120


async def test_perform_seek_goes_on_when_the_first_offsets_cannot_be_read(
    consumer: GaplessConsumer, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def seek_to_committed(self: Any) -> None:
        return None

    async def broker_away(*partitions: TP) -> dict[TP, int]:
        raise ConnectionError("broker away")

    monkeypatch.setattr(faust_aiokafka.Consumer, "perform_seek", seek_to_committed)
    monkeypatch.setattr(consumer, "assignment", lambda: {ANSWERS})
    monkeypatch.setattr(consumer, "earliest_offsets", broker_away)
    await consumer.perform_seek()  # no exception: the rebalance completes
    assert consumer.next_to_process(ANSWERS) is None
