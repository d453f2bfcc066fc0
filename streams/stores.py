"""The worker's RocksDB table stores, all under one memory budget however much state they hold.

Faust's defaults (three 64 MB write buffers and a 2 GB block cache per store) let 3 tables x 4
partitions grow a worker past 400 MB of memtables alone (`khabar bench --part state`); 4 MB
write buffers, two per store, bound that. Beyond it, Faust opens each table partition's
RocksDB with a block cache of its own and keeps every SST file's index and bloom filter in
memory outside any cache: 4 tables x N partitions make 4N caches, and index and filter memory
that grows with the state (a worker holding 1 M documents: 451 MB RSS after 30 minutes, and
growing; 311 MB and flat with what follows). Every
store of the process here shares one LRU cache of ``KHABAR_STORE_MEMORY_MB``; index and filter
blocks live in it (level 0's pinned) and the memtables are charged to it through one write
buffer manager, so RocksDB's memory is bounded by the budget, not by the state, also after
a restart (:meth:`BoundedRocksDBOptions.open`).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import rocksdict
from faust.stores import STORES
from faust.stores.rocksdb import RocksDBOptions
from faust.stores.rocksdb import Store as RocksDBStore

STORE_SCHEME = "khabar-rocksdb"  # the app's store URL: ``khabar-rocksdb://``
MB = 1024 * 1024


def table_store_options(memory_mb: int) -> dict[str, int]:
    """Every table's store options (a new dict each time: Faust's store pops keys from it)."""
    return {"write_buffer_size": 4 * MB, "max_write_buffer_number": 2, "memory_budget": memory_mb * MB}


@functools.cache
def shared_memory(budget: int) -> tuple[Any, Any]:
    """The process's one cache and write buffer manager for ``budget`` bytes."""
    cache = rocksdict.Cache(budget)
    # memtables may use up to half the budget; their memory is charged to the cache
    manager = rocksdict.WriteBufferManager.new_write_buffer_manager_with_cache(budget // 2, False, cache)
    return cache, manager


class BoundedRocksDBOptions(RocksDBOptions):
    """Faust's RocksDB options with the stores' memory in one shared, bounded cache."""

    def __init__(self, *, memory_budget: int, **options: Any) -> None:
        super().__init__(use_rocksdict=True, **options)
        self.memory_budget = memory_budget

    def open(self, path: Path, *, read_only: bool = False) -> Any:
        """Open the store at ``path`` with these options, also when it exists already.

        rocksdict (which Faust calls with ``options`` alone) opens an existing store with its
        column family options read back from the store's OPTIONS file, where neither the block
        cache nor the bloom filter survive: every store of a restarted worker had RocksDB's
        default 8 MB cache of its own, outside the budget, and no filters (the LOG each store
        writes as it opens shows it). Naming the default column family's options keeps them.
        """
        options = self.as_options()  # (the tables set no ttl, which Faust would open with)
        access = rocksdict.AccessType.read_only() if read_only else rocksdict.AccessType.read_write()
        db = rocksdict.Rdict(
            str(path), options=options, column_families={"default": options}, access_type=access
        )
        db.set_read_options(rocksdict.ReadOptions())
        return db

    def as_options(self) -> Any:
        options = super().as_options()
        cache, manager = shared_memory(self.memory_budget)
        table = rocksdict.BlockBasedOptions()
        table.set_bloom_filter(self.bloom_filter_size, True)
        table.set_block_cache(cache)
        table.set_cache_index_and_filter_blocks(True)
        table.set_pin_l0_filter_and_index_blocks_in_cache(True)
        table.set_index_type(rocksdict.BlockBasedIndexType.binary_search())
        options.set_block_based_table_factory(table)
        options.set_write_buffer_manager(manager)
        return options


class BoundedStore(RocksDBStore):
    """Faust's RocksDB table store, opened with :class:`BoundedRocksDBOptions` (the table's
    ``options``, :func:`table_store_options`, carry the budget)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rocksdb_options = BoundedRocksDBOptions(**(self.options or {}))

    def open_dbs(self) -> list[Any]:
        """Its partitions' RocksDB databases open now."""
        return list(self._dbs.values())


def store_memory(dbs: Sequence[Any]) -> dict[str, int]:
    """What open stores hold in memory, in bytes, as RocksDB reports it for each.

    ``store_cache``: their block cache's usage, memtables and index and filter blocks included
    (the one cache every store shares reports the same to each: the largest is taken, so a
    store opened with a cache of its own shows as memtables larger than the cache);
    ``store_memtables``: all their memtables; ``store_table_readers``: what their open SST
    files keep outside the cache.
    """

    def values(prop: str) -> list[int]:
        return [db.property_int_value(prop) or 0 for db in dbs]

    return {
        "store_cache": max(values("rocksdb.block-cache-usage"), default=0),
        "store_memtables": sum(values("rocksdb.cur-size-all-mem-tables")),
        "store_table_readers": sum(values("rocksdb.estimate-table-readers-mem")),
    }


STORES.aliases[STORE_SCHEME] = f"{__name__}:BoundedStore"
