"""``khabar run``: the main job with zero setup.

Without ``KHABAR_BROKER`` it starts a private local Apache Kafka (unless one started by
``khabar broker start`` is already answering), starts a worker process, feeds the given
paths, and prints every article as it is published. Everything it started is stopped on
Ctrl-C or SIGTERM, or, with ``--once``, when every fed page has come out.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import click

from streams.broker import LocalBroker, broker_answers, default_local_broker, free_port
from streams.config import Settings
from streams.connection import connection_problem
from streams.feed import feed
from streams.sources import read_pages
from streams.tail import Output, describe, end_offsets, follow
from streams.topics import ensure_topics

SAMPLE_CRAWL = Path(__file__).resolve().parent / "sample_crawl"


@contextlib.contextmanager
def stop_on_sigterm() -> Iterator[None]:
    """SIGTERM (``kill``, a service manager stopping the job) stops it as Ctrl-C does: the
    broker and worker it started run in sessions of their own, so they would outlive it."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def broker_for(settings: Settings, workdir: Path) -> Iterator[Settings]:
    """Settings pointing at a broker that answers, starting a private one if needed."""
    if settings.broker:
        problem = asyncio.run(connection_problem(settings))
        if problem is not None:
            raise click.ClickException(problem)
        yield settings
        return
    shared = default_local_broker(settings.cache_dir, settings.local_broker_port)
    if shared.pid() is not None and broker_answers(shared.bootstrap):
        click.echo(f"using the local broker at {shared.bootstrap} (khabar broker start)", err=True)
        yield replace(settings, broker=shared.bootstrap)
        return
    broker = LocalBroker(
        home=workdir / "broker", port=free_port(), controller_port=free_port(), cache_dir=settings.cache_dir
    )
    click.echo("starting a local Apache Kafka (first run downloads its jars with Maven)...", err=True)
    broker.start()
    click.echo(f"Kafka is up at {broker.bootstrap}", err=True)
    try:
        yield replace(settings, broker=broker.bootstrap, data_dir=workdir / "worker")
    finally:
        click.echo("stopping the local Kafka...", err=True)
        broker.stop()


@contextlib.contextmanager
def worker_process(
    settings: Settings, log_path: Path, *, web_port: int | None = None, python_options: tuple[str, ...] = ()
) -> Iterator[subprocess.Popen[bytes]]:
    """A `khabar worker` child process; stopped with SIGTERM (graceful) then SIGKILL.

    ``web_port``: its web endpoint (a free port when None); ``python_options`` go before
    ``-m streams.cli`` (the benchmark runs a worker under ``-m cProfile -o FILE``).
    """
    env = {**os.environ, **replace(settings, web_port=web_port or free_port()).environment()}
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, *python_options, "-m", "streams.cli", "worker"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        stop_process(process, timeout=60)


def stop_process(process: subprocess.Popen[bytes], timeout: float) -> None:
    """SIGTERM (graceful: the worker commits and closes its stores), SIGKILL after ``timeout``.

    A Ctrl-C while waiting (a second one, when the first started the stop) kills the process
    at once and goes on: it runs in a session of its own and would otherwise outlive us.
    """
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        pass
    finally:  # past the timeout, or interrupted while waiting (the interrupt goes on after)
        if process.poll() is None:
            process.kill()
            process.wait()


async def feed_and_show(
    settings: Settings, paths: list[str], once: bool, worker_alive: Callable[[], bool], timeout: float
) -> int:
    """Feed ``paths`` and print outputs; with ``once``, return when every fed page came out."""
    await ensure_topics(settings)
    start = await end_offsets(settings)
    summary = await feed(read_pages(paths), settings, progress=False)
    click.echo(f"fed {summary.describe()}", err=True)
    waiting = set(summary.page_ids)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    failed = bool(summary.problems)

    # A correction comes as a tombstone on `articles` and the same article on `duplicates`,
    # in either order: wait for the second half of every correction seen.
    corrections_pending: set[str] = set()
    duplicates_seen: set[str] = set()

    def show(output: Output) -> bool:
        click.echo(describe(output))
        waiting.discard(output.page_id or "")
        if output.kind == "retracted" and output.key not in duplicates_seen:
            corrections_pending.add(output.key or "")
        elif output.kind == "duplicate":
            duplicates_seen.add(str(output.document.get("article_id")))
            corrections_pending.discard(str(output.document.get("article_id")))
        return not (once and not waiting and not corrections_pending)

    def keep_going() -> bool:
        nonlocal failed
        if not worker_alive():
            click.echo("the worker exited unexpectedly; see its log", err=True)
            failed = True
            return False
        if once and loop.time() > deadline:
            click.echo(f"timed out with {len(waiting)} fed pages not yet out", err=True)
            failed = True
            return False
        return True

    if not (once and not waiting):
        await follow(settings, show, start=start, keep_going=keep_going)
    if once and not waiting:
        click.echo(f"done: all {len(summary.page_ids)} fed pages came out", err=True)
    return 1 if failed else 0


def run(paths: list[str], *, once: bool, timeout: float) -> int:
    """The whole job: broker (if needed), worker, feeder, printer; everything stopped at the end."""
    settings = Settings.from_env()
    with tempfile.TemporaryDirectory(prefix="khabar-run-") as tmp:
        workdir = Path(tmp)
        try:
            with (
                stop_on_sigterm(),
                broker_for(settings, workdir) as ready,
                worker_process(ready, workdir / "worker.log") as worker,
            ):
                click.echo(f"worker started (pid {worker.pid}, log {workdir / 'worker.log'})", err=True)
                return asyncio.run(feed_and_show(ready, paths, once, lambda: worker.poll() is None, timeout))
        except KeyboardInterrupt:
            click.echo("interrupted: stopping", err=True)
            return 130
        finally:
            log = workdir / "worker.log"
            if log.exists() and os.environ.get("KHABAR_SHOW_WORKER_LOG"):
                sys.stderr.write(log.read_text(errors="replace"))
