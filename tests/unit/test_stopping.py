"""Stopping what `khabar run` started: a Ctrl-C (or SIGTERM) while the graceful stop waits
kills the process at once instead of leaving it running in its own session."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson
import pytest

from streams.broker import LocalBroker
from streams.run import stop_process

IGNORES_SIGTERM = (
    "import signal, time\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "print('ready', flush=True)\n"
    "time.sleep(600)\n"
)


@contextmanager
def stubborn_child() -> Iterator[subprocess.Popen[bytes]]:
    """A child in a session of its own that ignores SIGTERM, as a slow-stopping worker would."""
    child = subprocess.Popen(
        [sys.executable, "-c", IGNORES_SIGTERM], stdout=subprocess.PIPE, start_new_session=True
    )
    try:
        assert child.stdout is not None and child.stdout.readline() == b"ready\n"  # SIGTERM ignored now
        yield child
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


@contextmanager
def interrupted_after(seconds: float) -> Iterator[None]:
    """A KeyboardInterrupt ``seconds`` from now, as a second Ctrl-C during the stop (by
    SIGALRM: the tests using it keep pytest-timeout off that signal)."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.timeout(120, method="thread")
def test_an_interrupt_while_the_worker_stops_kills_it() -> None:
    with stubborn_child() as child:
        with pytest.raises(KeyboardInterrupt), interrupted_after(0.5):
            stop_process(child, timeout=60)
        assert child.returncode == -signal.SIGKILL  # killed and reaped, not left waiting


@pytest.mark.timeout(120, method="thread")
def test_an_interrupt_while_the_broker_stops_kills_it(tmp_path: Path) -> None:
    with stubborn_child() as child:
        broker = LocalBroker(home=tmp_path, port=1, controller_port=2, cache_dir=tmp_path)
        broker.state_file.write_bytes(orjson.dumps({"pid": child.pid}))
        assert broker.pid() == child.pid
        with pytest.raises(KeyboardInterrupt), interrupted_after(0.5):
            broker.stop(timeout=60)
        assert broker.pid() is None
        with pytest.raises(ProcessLookupError):  # killed and reaped
            os.kill(child.pid, 0)


def test_a_process_that_stops_on_sigterm_is_not_killed() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"], start_new_session=True)
    stop_process(child, timeout=60)
    assert child.returncode == -signal.SIGTERM


def test_past_the_timeout_a_process_that_ignores_sigterm_is_killed(tmp_path: Path) -> None:
    with stubborn_child() as child:
        stop_process(child, timeout=0.5)
        assert child.returncode == -signal.SIGKILL
    with stubborn_child() as child:
        broker = LocalBroker(home=tmp_path, port=1, controller_port=2, cache_dir=tmp_path)
        broker.state_file.write_bytes(orjson.dumps({"pid": child.pid}))
        assert broker.stop(timeout=0.5)
        assert broker.pid() is None
