"""The worker's table stores share one bounded memory budget (streams/stores.py)."""

from __future__ import annotations

import os
from pathlib import Path

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
        memtables = sum(db.property_int_value("rocksdb.cur-size-all-mem-tables") for db in dbs) / MB
        cache = [db.property_int_value("rocksdb.block-cache-usage") / MB for db in dbs]
        return memtables, cache
    finally:
        for db in dbs:
            db.close()


def test_all_stores_stay_within_one_budget(tmp_path: Path) -> None:
    budget_mb = 16
    memtables, cache = fill(BoundedRocksDBOptions(**table_store_options(budget_mb)), tmp_path / "bounded")
    assert memtables <= budget_mb / 2, "the write buffer manager caps memtables at half the budget"
    assert len(set(cache)) == 1, "one cache shared by every store"
    # memtables are charged to the cache, which holds the budget (a soft limit: pinned blocks may
    # overshoot it a little)
    assert cache[0] <= 1.1 * budget_mb
    # Faust's own options with the same write buffers: per-store limits, four times the memtables
    unbounded = RocksDBOptions(use_rocksdict=True, write_buffer_size=4 * MB, max_write_buffer_number=2)
    assert fill(unbounded, tmp_path / "faust")[0] > 2 * budget_mb
