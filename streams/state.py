"""Freeing dedupe state past the horizon, one table partition at a time.

Faust tables have no expiry, and a table may only be changed while processing an event of
the partition that holds the key (the changelog record goes to that partition). So each
worker sends itself a sweep record on every partition it owns; the agent that owns the
table handles it in turn with its other events, scanning at most :data:`SWEEP_BATCH` keys
per event and sending a continuation record with a cursor until the partition is done.
Deleting a key writes a tombstone to the changelog topic, which compaction then drops:
the space is freed on the worker's disk and in Kafka.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from agents.dedupe.clusters import Horizon, ref

SWEEP_BATCH = 2000  # keys scanned per sweep event: a few milliseconds of the agent's time
SWEEP_MAX_LAG = 10_000  # internal records a worker may be behind and still sweep (else: later)

Renew = Callable[[Any, Horizon, datetime], Any]  # a stored value -> None to delete it, or what to keep


# What each table keeps once its partition has seen an event time past the cutoff's horizon.
def renew_document(value: Any, horizon: Horizon, cutoff: datetime) -> Any:
    """A decided document before the cutoff goes; an undecided one stays until it decides."""
    gone = value["decided"] is not None and horizon.expired(ref(value["me"]), cutoff)
    return None if gone else value


def renew_bucket(value: Any, horizon: Horizon, cutoff: datetime) -> Any:
    kept = [entry for entry in value if not horizon.expired(ref(entry), cutoff)]
    return kept or None


def renew_owners(value: Any, horizon: Horizon, cutoff: datetime) -> Any:
    """A content hash is forgotten once its latest copy is before the cutoff."""
    latest = value.get("latest") or value["owner"] if isinstance(value, dict) else value
    return None if horizon.expired(ref(latest), cutoff) else value


@dataclass
class SweepStep:
    scanned: int
    expired: int
    cursor: bytes | None  # the last key scanned; None when the partition is done


def sweep_step(
    table: Any, partition: int, after: bytes | None, renew: Callable[[Any], Any], companion: Any = None
) -> SweepStep:
    """Renew up to :data:`SWEEP_BATCH` keys of ``table`` after ``after`` in ``partition``.

    Call it while processing an event of ``partition``. It reads the RocksDB store of that
    partition directly (Faust has no per-partition iteration in its table API).
    """
    store = table.data
    db = store._db_for_partition(partition)
    batch: list[tuple[bytes, bytes]] = []
    for raw_key, raw_value in db.items(from_key=after) if after is not None else db.items():
        if raw_key == after or raw_key == store.offset_key:
            continue
        batch.append((raw_key, raw_value))
        if len(batch) >= SWEEP_BATCH:
            break
    expired = 0
    for raw_key, raw_value in batch:
        value = store._decode_value(raw_value)
        renewed = renew(value)
        if renewed is None:
            key = store._decode_key(raw_key)
            del table[key]
            if companion is not None and key in companion:
                del companion[key]  # a table with the same keys whose entries go with these
            expired += 1
        elif renewed != value:
            table[store._decode_key(raw_key)] = renewed
    cursor = batch[-1][0] if len(batch) >= SWEEP_BATCH else None
    return SweepStep(scanned=len(batch), expired=expired, cursor=cursor)
