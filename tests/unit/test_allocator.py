"""A worker caps glibc's malloc arenas (streams/allocator.py)."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's malloc only")

# Eight threads allocating at once, then glibc's own report of its arenas (on stderr).
THREADS = """
import ctypes, sys, threading
from streams.allocator import limit_malloc_arenas
print("limited:", limit_malloc_arenas() if sys.argv[1] == "limit" else None, file=sys.stderr)
kept = []
def allocate():
    kept.extend(bytes(5000) for _ in range(2000))
threads = [threading.Thread(target=allocate) for _ in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
ctypes.CDLL(None).malloc_stats()
"""


def arenas(mode: str, **env: str) -> tuple[int, str]:
    environment = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"} | env
    result = subprocess.run(
        [sys.executable, "-c", THREADS, mode], cwd=REPO, env=environment, capture_output=True,
        text=True, timeout=60, check=True,
    )  # fmt: skip
    return sum(line.startswith("Arena ") for line in result.stderr.splitlines()), result.stderr


def test_threads_share_two_arenas() -> None:
    unlimited, _ = arenas("none")
    limited, report = arenas("limit")
    assert "limited: True" in report
    assert limited == 2 < unlimited


def test_an_operators_setting_is_left_alone() -> None:
    count, report = arenas("limit", MALLOC_ARENA_MAX="3")
    assert "limited: False" in report
    assert count == 3


def test_malloc_usage_counts_blocks_held_and_freed() -> None:
    from streams.allocator import malloc_usage

    before = malloc_usage()
    held = [bytearray(100_000) for _ in range(300)]  # 30 MB in blocks malloc keeps in its heap
    during = malloc_usage()
    assert during["malloc_in_use"] - before["malloc_in_use"] >= 29_000_000
    del held
    after = malloc_usage()
    assert during["malloc_in_use"] - after["malloc_in_use"] >= 29_000_000
