"""The ``khabar`` command line."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from pathlib import Path

import click

from streams.broker import BrokerError, broker_answers, default_local_broker
from streams.config import Settings


def _settings() -> Settings:
    return Settings.from_env()


def _require_broker(settings: Settings) -> None:
    if not broker_answers(settings.bootstrap_servers):
        hint = "" if settings.broker else " (start one with `khabar broker start`, or set KHABAR_BROKER)"
        raise click.ClickException(f"no Kafka broker answers at {settings.bootstrap_servers}{hint}")


@click.group()
def main() -> None:
    """Khabar: crawled news pages in, clean, dated, language-tagged, deduplicated articles out."""


@main.group()
def broker() -> None:
    """The local single-node Apache Kafka (KRaft) for development and demos."""


@broker.command("start")
def broker_start() -> None:
    """Download the Kafka jars if needed, start the broker, and wait until it answers."""
    settings = _settings()
    local = default_local_broker(settings.cache_dir, settings.local_broker_port)
    try:
        local.start()
    except BrokerError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Kafka is up at {local.bootstrap} (pid {local.pid()}, data in {local.home})")


@broker.command("stop")
def broker_stop() -> None:
    """Stop the local broker cleanly."""
    settings = _settings()
    local = default_local_broker(settings.cache_dir, settings.local_broker_port)
    click.echo("stopped" if local.stop() else "no local broker was running")


@broker.command("status")
def broker_status() -> None:
    """Say whether the local broker runs and answers; exit 1 if not."""
    settings = _settings()
    local = default_local_broker(settings.cache_dir, settings.local_broker_port)
    pid = local.pid()
    if pid is None:
        click.echo("not running")
        sys.exit(1)
    answering = broker_answers(local.bootstrap)
    click.echo(f"running (pid {pid}) at {local.bootstrap}, {'answering' if answering else 'NOT answering'}")
    sys.exit(0 if answering else 1)


@main.command()
@click.option("--loglevel", default="info", show_default=True)
def worker(loglevel: str) -> None:
    """Run a pipeline worker (Faust) until stopped; scale with more workers and partitions."""
    import faust

    from streams.app import create_app
    from streams.topics import ensure_topics

    settings = _settings()
    _require_broker(settings)
    asyncio.run(ensure_topics(settings))
    app = create_app(settings)
    faust.Worker(app, loglevel=loglevel).execute_from_commandline()


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--crawler", default="khabar-feed", show_default=True, help="Crawler name on each RawPage.")
@click.option("--progress/--no-progress", default=True, show_default=True)
def feed(paths: tuple[str, ...], crawler: str, progress: bool) -> None:
    """Publish pages to raw-pages: .html/.htm/.txt files, directories, RawPage JSONL, or - for stdin."""
    from streams.feed import feed as feed_pages
    from streams.sources import read_pages

    settings = _settings()
    _require_broker(settings)
    summary = asyncio.run(feed_pages(read_pages(paths, crawler), settings, progress=progress))
    click.echo(summary.describe(), err=True)
    sys.exit(1 if summary.problems else 0)


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--progress/--no-progress", default=True, show_default=True)
def process(paths: tuple[str, ...], output: Path, progress: bool) -> None:
    """Run the same core offline, no Kafka: one JSON line per article, duplicates included."""
    from streams.process import process as process_pages
    from streams.sources import read_pages

    with output.open("wb") as out:
        summary = process_pages(
            read_pages(paths), out, progress=progress, max_page_bytes=_settings().max_page_bytes
        )
    click.echo(summary.describe(), err=True)


@main.command()
@click.option("--from-beginning", is_flag=True, help="Start at the oldest record instead of the newest.")
def tail(from_beginning: bool) -> None:
    """Print articles, duplicates and dead letters as they are published."""
    from streams.tail import Output, describe, follow

    settings = _settings()
    _require_broker(settings)

    def show(output: Output) -> bool:
        click.echo(describe(output))
        return True

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(follow(settings, show, from_beginning=from_beginning))


@main.command()
@click.argument("paths", nargs=-1)
@click.option("--once", is_flag=True, help="Stop when every fed page has come out.")
@click.option(
    "--timeout", default=300.0, show_default=True, help="With --once: give up after this many seconds."
)
def run(paths: tuple[str, ...], once: bool, timeout: float) -> None:
    """The main job: local Kafka (unless KHABAR_BROKER is set), a worker and a feeder; prints articles."""
    from streams.run import SAMPLE_CRAWL
    from streams.run import run as run_job

    sys.exit(run_job(list(paths) or [str(SAMPLE_CRAWL)], once=once, timeout=timeout))


if __name__ == "__main__":
    main()
