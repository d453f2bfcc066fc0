"""The worker process's memory allocator: fewer glibc malloc arenas.

glibc gives a thread that allocates an arena of its own (up to eight per core; eight Python
threads allocating made six, tests/unit/test_allocator.py), and returns little of an arena's
freed memory to the system. A worker has the event
loop, Faust's consumer thread, and RocksDB's flush and compaction threads allocating and
freeing blocks of every size, so its resident memory keeps growing after the data it holds
has stopped growing. Two arenas (what ``MALLOC_ARENA_MAX=2`` sets) bound that.
"""

from __future__ import annotations

import ctypes
import os
import platform

M_ARENA_MAX = -8  # mallopt parameter number, from glibc's malloc.h
WORKER_ARENAS = 2


def limit_malloc_arenas(arenas: int = WORKER_ARENAS) -> bool:
    """Cap glibc's malloc arenas for this process (call it before threads start); True when set.

    Leaves an operator's own ``MALLOC_ARENA_MAX`` alone (glibc read it at start-up), and does
    nothing where the C library is not glibc.
    """
    if "MALLOC_ARENA_MAX" in os.environ or platform.libc_ver()[0] != "glibc":
        return False
    libc = ctypes.CDLL(None)
    return bool(libc.mallopt(M_ARENA_MAX, arenas))
