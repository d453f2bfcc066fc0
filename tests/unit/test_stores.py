"""The worker's table stores share one bounded memory budget (streams/stores.py)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from faust.stores.rocksdb import RocksDBOptions

from streams.stores import MB, BoundedRocksDBOptions, table_store_options

STORES = 8


def fill(options: RocksDBOptions, root: Path) -> tuple[float, list[float]]:
    """Write 60 MB over 8 stores and read some back: (memtables MB in all, cache MB per store)."""
    dbs = [options.open(root / f"store-{n}.db") for n in range(STORES)]
    try:
        value = os.urandom(1000)
        for n in range(60_000):
            dbs[n % STORES].put(f"key{n}".encode(), value + str(n).encode())
        for n in range(0, 60_000, 7):
            assert dbs[n % STORES].get(f"key{n}".encode()) == value + str(n).encode()
        wait_for_background_work(dbs)
        memtables = sum(db.property_int_value("rocksdb.cur-size-all-mem-tables") for db in dbs) / MB
        cache = [db.property_int_value("rocksdb.block-cache-usage") / MB for db in dbs]
        return memtables, cache
    finally:
        for db in dbs:
            db.close()


def wait_for_background_work(dbs: list[Any], timeout: float = 60.0) -> None:
    """Until no store has a flush or compaction pending or running: RocksDB flushes and compacts
    in background threads, which lag behind the writes on a busy machine (the budget triggers
    flushes, it does not stall writers), and every level-0 file not yet compacted keeps its
    index and filter pinned in the cache."""
    deadline = time.monotonic() + timeout
    props = (
        "rocksdb.mem-table-flush-pending",
        "rocksdb.num-running-flushes",
        "rocksdb.compaction-pending",
        "rocksdb.num-running-compactions",
    )
    while any(db.property_int_value(prop) for db in dbs for prop in props):
        assert time.monotonic() < deadline, "flushes or compactions still pending"
        time.sleep(0.05)


def test_all_stores_stay_within_one_budget(tmp_path: Path) -> None:
    budget_mb = 16
    memtables, cache = fill(BoundedRocksDBOptions(**table_store_options(budget_mb)), tmp_path / "bounded")
    # the write buffer manager flushes at about half the budget (measured 7.7 of 8 MB: the margin
    # is for arena blocks allocated as the limit is crossed)
    assert memtables <= 0.75 * budget_mb
    # memtables are charged to the one cache, which holds the budget (a soft limit: pinned
    # level-0 index and filter blocks may overshoot it; measured 15.8-16.4 MB idle, 17.7 in CI
    # before compactions were waited for); every store reports that one cache's usage
    assert max(cache) <= 1.2 * budget_mb
    # Faust's own options with the same write buffers: per-store limits, four times the memtables
    unbounded = RocksDBOptions(use_rocksdict=True, write_buffer_size=4 * MB, max_write_buffer_number=2)
    assert fill(unbounded, tmp_path / "faust")[0] > 2 * budget_mb
