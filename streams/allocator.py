"""The worker process's memory allocator: fewer glibc malloc arenas.

glibc gives a thread that allocates an arena of its own (up to eight per core; eight Python
threads allocating made six, tests/unit/test_allocator.py), and returns little of an arena's
freed memory to the system. A worker has the event
loop, Faust's consumer thread, and RocksDB's flush and compaction threads allocating and
freeing blocks of every size. Two arenas (what ``MALLOC_ARENA_MAX=2`` sets) made a worker on
1 M documents of state 52 MB smaller at the start of a 30-minute soak and 75 MB at its end
(side-by-side runs, docs/choices.md).
"""

from __future__ import annotations

import ctypes
import functools
import os
import platform
from collections.abc import Callable

M_ARENA_MAX = -8  # mallopt parameter number, from glibc's malloc.h
WORKER_ARENAS = 2


class MallInfo2(ctypes.Structure):
    """glibc's ``struct mallinfo2`` (malloc.h, glibc 2.33 and later): ten ``size_t`` fields."""

    _fields_ = tuple(
        (name, ctypes.c_size_t)
        for name in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
            "keepcost",
        )
    )  # fmt: skip


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    """The process's C library, when it is glibc."""
    return ctypes.CDLL(None) if platform.libc_ver()[0] == "glibc" else None


@functools.cache
def _mallinfo2() -> Callable[[], MallInfo2] | None:
    libc = _glibc()
    function = getattr(libc, "mallinfo2", None) if libc is not None else None
    if function is not None:
        function.restype = MallInfo2
        function.argtypes = []
    return function


def malloc_usage() -> dict[str, int]:
    """glibc malloc's own account of this process's heap, in bytes, over every arena.

    ``malloc_in_use``: blocks the program holds (RocksDB's, the Python objects larger than
    512 bytes, every C library's); ``malloc_free``: freed blocks malloc keeps for reuse
    instead of returning them to the system, which count in the RSS once touched. Empty
    where the C library is not glibc 2.33 or later.
    """
    function = _mallinfo2()
    if function is None:
        return {}
    info = function()
    return {"malloc_in_use": info.uordblks + info.hblkhd, "malloc_free": info.fordblks}


def release_free_memory() -> None:
    """Return malloc's free blocks to the system (``malloc_trim``), where the C library is glibc."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)


def limit_malloc_arenas(arenas: int = WORKER_ARENAS) -> bool:
    """Cap glibc's malloc arenas for this process (call it before threads start); True when set.

    Leaves an operator's own ``MALLOC_ARENA_MAX`` alone (glibc read it at start-up), and does
    nothing where the C library is not glibc.
    """
    libc = _glibc()
    if "MALLOC_ARENA_MAX" in os.environ or libc is None:
        return False
    return bool(libc.mallopt(M_ARENA_MAX, arenas))
