"""Nothing lost between Kafka and the agents: where faust-streaming 0.15 loses records, and
what the worker does about it.

Producing. Faust buffers table writes (``send_soon``) and flushes that buffer before it
commits offsets, but its flush gives up after 0.1 s without a message going out, and it
cannot see the message its buffer has taken out of the queue and is still handing to
aiokafka. A commit in either window went ahead without the table write: at a rebalance,
the partition's new owner then recovered the table without it (a band answer lost, its
document never decided). :class:`IdempotentProducer` waits for both.

Consuming. Around a rebalance, Faust's consumer drops records it has already fetched (its
fetch loop breaks off a batch when the flow stops or the group generation changes), and
its commit then steps over a hole of exactly one offset (``Consumer._new_offset`` allows
it), and over a hole of any size on a partition with no commit yet, or with offset 0
committed (both are None to Faust): the record is never processed and never redelivered.
That is the first records of every partition of a new consumer group: a replay under a new
``KHABAR_APP_ID``, or a first deployment whose workers start one after another. Elsewhere,
two or more dropped records stop the partition's commits instead, until the next rebalance.
:class:`GaplessConsumer` never commits past an offset it has not processed (on a partition
with no commit, the log's first offset when it was assigned is where processing starts),
and :meth:`GaplessConsumer.refetch_holes` seeks a partition back to such an offset once it
has stayed missing for a while, so the record comes again (the agents take a repeat as a
repeat: at least once).

Faust drops records in two more places: its fetch loop skips a record whose offset is below
the partition's read offset, which a batch fetched before a seek can move ahead; and the
record dropped can be a partition's last, with nothing processed after it to show the hole.
So, while the worker is idle, an offset not processed below the partition's last stable
offset is a hole too.

Gaps. Faust also takes any jump between two records it hands to the agents for a gap in the
log (offsets that hold no record: transaction markers, compacted records) and commits over
it. A record it dropped around a rebalance looks the same, so a record was lost that way
(1 page in about 20 rebalance fault runs). Here the offsets a fetch skipped are told by
aiokafka itself (:class:`FetchingThread`, :func:`absent_offsets`): only those are gaps.
The worker reads committed records only (Faust does so only under exactly once): a page in
a transaction its crawler aborted was never accepted.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.transport.producer import ProducerBuffer
from faust.types.tuples import TP, FutureMessage

log = logging.getLogger(__name__)
HOLE_PATIENCE_SECONDS = 10.0  # how long an offset may stay missing before it is fetched again


class HandoverBuffer(ProducerBuffer):
    """Faust's producer buffer (table changelog writes wait here), which also knows about the
    message it has taken out of its queue but not yet handed to aiokafka.

    Handing over awaits: the changelog topic may be declared first (a round trip to the broker
    on a table's first write after a start or a rebalance), and aiokafka may wait for metadata
    or room in its batch. In that window the queue is empty and aiokafka's own flush knows
    nothing of the message.
    """

    handing_over = 0

    async def _send_pending(self, fut: FutureMessage) -> None:
        self.handing_over += 1
        try:
            await super()._send_pending(fut)
        finally:
            self.handing_over -= 1

    async def drain(self) -> None:
        """Return once every message put here has been handed to aiokafka (or the buffer stops)."""
        while (self.size or self.handing_over) and not self.should_stop:
            self.message_sent.clear()
            if self.size or self.handing_over:  # each handover ends with message_sent set
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.message_sent.wait(), timeout=1.0)


class IdempotentProducer(faust_aiokafka.Producer):
    """acks=all and idempotence always (Faust turns them on only inside transactions), and a
    flush that returns only when everything buffered, table writes included, went out."""

    buffer: HandoverBuffer

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.buffer = HandoverBuffer(loop=self.loop, beacon=self.beacon)
        self.buffer.app = self.app

    def _settings_extra(self) -> dict[str, Any]:
        return {"acks": "all", "enable_idempotence": True}

    async def flush(self) -> None:
        await self.buffer.drain()
        await super().flush()


@dataclass
class Hole:
    """Offsets ``start`` up to ``end`` (excluded) of partition ``tp``: neither processed nor
    known to be absent, while ``end`` and later were processed."""

    tp: TP
    start: int
    end: int
    since: float  # when it was first seen, or last fetched again (monotonic seconds)
    refetches: int = 0


class HoleWatch:
    """The holes at the head of each partition's processed offsets, and when to fetch again."""

    def __init__(self, patience: float = HOLE_PATIENCE_SECONDS) -> None:
        self.patience = patience
        self.holes: dict[TP, Hole] = {}

    def due(self, tp: TP, start: int | None, first_acked: int | None, now: float) -> Hole | None:
        """The hole to fetch again now, if any. ``start``: the partition's first offset not yet
        processed and committed; ``first_acked``: the lowest offset processed since."""
        if start is None or first_acked is None or first_acked <= start:
            self.holes.pop(tp, None)
            return None
        hole = self.holes.get(tp)
        if hole is None or hole.start != start:
            self.holes[tp] = Hole(tp, start, first_acked, now)
            return None
        hole.end = first_acked
        if now - hole.since < self.patience:
            return None
        hole.since = now
        hole.refetches += 1
        return hole

    def keep_only(self, assigned: set[TP]) -> None:
        for tp in [tp for tp in self.holes if tp not in assigned]:
            del self.holes[tp]


def absent_offsets(offsets: Sequence[int], read_from: int | None, position: int) -> list[tuple[int, int]]:
    """The offsets one fetch of a partition shows the log does not hold, as ranges ``(start,
    end)``, end excluded. ``offsets``: the records it returned, in order; ``read_from``: the
    partition's position before it, if known; ``position``: the position after it (aiokafka
    moves it past control batches and compacted records as well as past the records)."""
    if not offsets:
        return []
    ranges = []
    if read_from is not None and read_from < offsets[0]:
        ranges.append((read_from, offsets[0]))
    for before, after in itertools.pairwise(offsets):
        if after > before + 1:
            ranges.append((before + 1, after))
    if position > offsets[-1] + 1:
        ranges.append((offsets[-1] + 1, position))
    return ranges


class FetchingThread(faust_aiokafka.AIOKafkaConsumerThread):
    """Faust's consumer thread, which also notes the offsets each fetch skipped (``absent``,
    read by the consumer on the event loop's thread)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.absent: deque[tuple[TP, int, int]] = deque()

    def _create_worker_consumer(self, transport: Any) -> Any:
        """Faust's consumer, reading committed records only (Faust does so only under exactly
        once): a page in a transaction the crawler aborted was never accepted, and the audit
        does not count it either."""
        consumer = super()._create_worker_consumer(transport)
        consumer._isolation_level = "read_committed"  # read by start(), which has not run yet
        return consumer

    async def _fetch_records(
        self, consumer: Any, active_partitions: set[TP], timeout: float | None = None,
        max_records: int | None = None,
    ) -> Any:  # fmt: skip
        subscriptions = consumer._fetcher._subscriptions
        assignment = _assignment(subscriptions)
        before = _positions(assignment, active_partitions or ())
        records = await super()._fetch_records(consumer, active_partitions, timeout, max_records)
        # (no await since aiokafka handed the records over: the positions are the fetch's)
        after = _assignment(subscriptions)
        if after is None or not records:
            return records
        if after is not assignment:  # a rebalance while waiting: the positions before are another's
            before = {}
        for tp, batch in records.items():
            state = after.state_value(tp)
            if state is None or not state.has_valid_position:
                continue
            offsets = [record.offset for record in batch]
            for start, end in absent_offsets(offsets, before.get(tp), state.position):
                self.absent.append((TP(tp.topic, tp.partition), start, end))
        return records


def _assignment(subscriptions: Any) -> Any:
    subscription = subscriptions.subscription
    return None if subscription is None else subscription.assignment


def _positions(assignment: Any, partitions: Any) -> dict[Any, int]:
    positions = {}
    if assignment is not None:
        for tp in partitions:
            state = assignment.state_value(tp)
            if state is not None and state.has_valid_position:
                positions[tp] = state.position
    return positions


class GaplessConsumer(faust_aiokafka.Consumer):
    """Faust's consumer that commits no further than it has processed, and fetches again the
    records it dropped (see the module's docstring)."""

    _thread: FetchingThread

    def __post_init__(self) -> None:
        super().__post_init__()
        self.hole_watch = HoleWatch()
        # partition -> its hole, while fetching it again: the first record that comes from the
        # hole's range tells which of the hole's offsets exist
        self._refetching: dict[TP, Hole] = {}
        # partition with no commit (or offset 0 committed) -> the log's first offset when it
        # was assigned: where its processing starts (once Faust commits, its commit is)
        self._log_start: dict[TP, int] = {}
        self.acks_total = 0  # records processed since the start
        self._acks_at_last_look = -1  # acks_total at the previous refetch_holes

    def ack(self, message: Any) -> bool:
        acked: bool = super().ack(message)
        if acked:
            self.acks_total += 1
        return acked

    def _stable_end(self, tp: TP) -> int | None:
        """The partition's last stable offset, as the latest fetch response gave it."""
        try:
            end = self._thread._ensure_consumer().last_stable_offset(tp)
        except Exception:  # not started, or the partition just revoked
            return None
        return end if isinstance(end, int) and end >= 0 else None

    def _new_consumer_thread(self) -> FetchingThread:
        return FetchingThread(self, loop=self.loop, beacon=self.beacon)

    async def _getmany(self, active_partitions: set[TP] | None, timeout: float) -> Any:
        records = await super()._getmany(active_partitions, timeout)
        self._note_absent()
        return records

    def _note_absent(self) -> None:
        """Count the offsets the thread's fetches showed absent as processed (the commit steps
        over them), on the partitions this consumer commits."""
        absent = self._thread.absent
        while absent:
            tp, start, end = absent.popleft()
            first = self.next_to_process(tp)  # (None: not assigned, or not sought yet)
            if first is not None and self.app.topics.acks_enabled_for(tp.topic):
                self._mark_absent(tp, max(start, first), end)

    def _mark_absent(self, tp: TP, start: int, end: int) -> None:
        """Offsets ``start`` up to ``end`` hold no record: nothing to wait for there."""
        done = self._acked_index[tp]
        absent = [offset for offset in range(start, end) if offset not in done]
        done.update(absent)
        self._acked[tp].extend(absent)

    async def _add_gap(self, tp: TP, offset_from: int, offset_to: int) -> None:
        """Faust calls this when the offsets of two records it hands on are not consecutive,
        which is no proof the log skips there: the records may have been dropped. Ignored: what
        the log skips is told by the fetches (:meth:`_note_absent`)."""
        log.debug(
            "offsets %d to %d of %s not handed on: a hole until fetched or shown absent",
            offset_from,
            offset_to,
            tp,
        )

    def next_to_process(self, tp: TP) -> int | None:
        """The partition's first offset not yet processed and committed, if known."""
        committed = self._committed_offset.get(tp)
        return committed if committed is not None else self._log_start.get(tp)

    async def perform_seek(self) -> None:
        """Faust seeks the assigned partitions to their commits as a rebalance ends (before the
        flow resumes); the partitions without one start at the log's first offset."""
        await super().perform_seek()
        assigned = self.assignment()
        self._log_start = {tp: offset for tp, offset in self._log_start.items() if tp in assigned}
        fresh = [tp for tp in assigned if self._committed_offset.get(tp) is None]
        if fresh:
            try:
                self._log_start.update(await self.earliest_offsets(*fresh))
            except Exception as exc:  # the broker briefly away: those heads go unwatched, as in Faust
                log.warning("could not read the first offsets of %d partitions: %r", len(fresh), exc)

    def _new_offset(self, tp: TP) -> int | None:
        start = self.next_to_process(tp)
        acked = self._acked[tp]
        if start is not None and acked and min(acked) > start:
            return None  # Faust would commit past the record at ``start``, never processed
        return super()._new_offset(tp)

    def _to_message(self, tp: TP, record: Any) -> Any:
        hole = self._refetching.get(tp)
        # (a record past the hole's end comes from a fetch made before the seek: not evidence)
        if hole is not None and record.offset <= hole.end:
            del self._refetching[tp]
            # the log holds no records from the hole's start up to this one (transaction
            # markers, or compacted away)
            self._mark_absent(tp, hole.start, record.offset)
        return super()._to_message(tp, record)

    async def refetch_holes(self, now: float | None = None) -> list[Hole]:
        """Seek each assigned partition whose hole stayed for the watch's patience back to the
        hole's first offset; return those holes.

        A hole is an offset not processed while a later one was. While the worker is idle
        (nothing processed since the last call, nothing in progress), it is also an offset not
        processed below the partition's last stable offset: a dropped record with no record
        after it (the rebalance fault test once ended with one such, uncommitted for good)."""
        now = time.monotonic() if now is None else now
        idle = self.acks_total == self._acks_at_last_look and not self._unacked_messages
        self._acks_at_last_look = self.acks_total
        assigned = {tp for tp in self.assignment() if self.app.topics.acks_enabled_for(tp.topic)}
        self.hole_watch.keep_only(assigned)
        for tp in [tp for tp in self._refetching if tp not in assigned]:
            del self._refetching[tp]
        due = []
        for tp in sorted(assigned):
            acked = self._acked.get(tp)
            beyond = min(acked) if acked else self._stable_end(tp) if idle else None
            hole = self.hole_watch.due(tp, self.next_to_process(tp), beyond, now)
            if hole is not None:
                self._refetching[tp] = hole
                await self.seek(tp, hole.start)
                due.append(hole)
        return due


class DeliveryTransport(faust_aiokafka.Transport):
    Consumer = GaplessConsumer
    Producer = IdempotentProducer
