"""The ``khabar`` command line."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from streams.broker import BrokerError, broker_answers, default_local_broker
from streams.config import Settings
from streams.connection import connection_problem


def _settings() -> Settings:
    return Settings.from_env()


def _require_broker(settings: Settings) -> None:
    problem = asyncio.run(connection_problem(settings))
    if problem is not None:
        hint = "" if settings.broker else " (start one with `khabar broker start`, or set KHABAR_BROKER)"
        raise click.ClickException(f"{problem}{hint}")


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
@click.option("--loglevel", default="info", show_default=True, help="debug logs one line per event.")
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True)
def worker(loglevel: str, log_format: str) -> None:
    """Run a pipeline worker (Faust) until stopped; scale with more workers and partitions."""
    from streams.allocator import limit_malloc_arenas

    limit_malloc_arenas()  # before any thread starts
    import faust

    from agents.language import load_models
    from streams.app import create_app
    from streams.logs import json_logging_config
    from streams.topics import ensure_topics

    settings = _settings()
    _require_broker(settings)
    if settings.processing_guarantee == "exactly_once":
        click.echo(
            "warning: KHABAR_PROCESSING_GUARANTEE=exactly_once loses pages with faust-streaming 0.15.3 "
            "(a re-keyed message rides the transaction of its destination partition; see the README)",
            err=True,
        )
    asyncio.run(ensure_topics(settings))
    load_models()  # once per worker process, before the first page (~0.7 s)
    app = create_app(settings)
    logging_config = json_logging_config(loglevel) if log_format == "json" else None
    faust.Worker(app, loglevel=loglevel, logging_config=logging_config).execute_from_commandline()


class ConnectionFailure(click.ClickException):
    """No broker (or no site) to talk to: exit code 2, like a usage error, not 1 (some inputs failed)."""

    exit_code = 2


def _require_broker_or_exit_2(settings: Settings) -> None:
    try:
        _require_broker(settings)
    except click.ClickException as exc:
        raise ConnectionFailure(exc.message) from exc


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--crawler", default=None, help="Crawler name on each RawPage [default: khabar-feed; warc for archives]."
)
@click.option("--progress/--no-progress", default=True, show_default=True)
def feed(paths: tuple[str, ...], crawler: str | None, progress: bool) -> None:
    """Publish pages to raw-pages: .html/.htm/.txt files, directories, RawPage JSONL, WARC/ARC
    archives (.warc, .warc.gz, .arc, .arc.gz), or - for RawPage JSONL on stdin.

    Exit 0 when every input that should be a page was published (WARC requests, revisits and
    non-HTML records are counted, not errors); 1 when some inputs failed (unreadable, corrupt,
    truncated, refused by the broker); 2 on usage errors or when no broker answers.
    """
    from streams.feed import BrokerUnavailable
    from streams.feed import feed as feed_pages
    from streams.sources import read_pages

    settings = _settings()
    _require_broker_or_exit_2(settings)
    try:
        summary = asyncio.run(feed_pages(read_pages(paths, crawler), settings, progress=progress))
    except BrokerUnavailable as exc:
        raise ConnectionFailure(str(exc)) from exc
    click.echo(summary.describe(), err=True)
    sys.exit(0 if summary.ok else 1)


@main.command()
@click.argument("seeds", nargs=-1, required=True)
@click.option(
    "--depth",
    default=1,
    show_default=True,
    type=click.IntRange(0),
    help="Follow same-site links this many hops from the seeds (feed and sitemap entries are seeds).",
)
@click.option(
    "--delay",
    default=1.0,
    show_default=True,
    type=click.FloatRange(0),
    help="Seconds between request starts to one host (a longer robots.txt Crawl-delay wins).",
)
@click.option(
    "--per-host", default=1, show_default=True, type=click.IntRange(1), help="Requests in flight per host."
)
@click.option(
    "--concurrency", default=16, show_default=True, type=click.IntRange(1), help="Requests in flight in all."
)
@click.option(
    "--timeout", default=30.0, show_default=True, type=click.FloatRange(0.1), help="Seconds per request."
)
@click.option(
    "--retries", default=3, show_default=True, type=click.IntRange(0), help="On 5xx, 429, timeouts."
)
@click.option(
    "--backoff",
    default=1.0,
    show_default=True,
    type=click.FloatRange(0),
    help="Seconds before the first retry; doubles each time (at most 30 s).",
)
@click.option("--max-redirects", default=5, show_default=True, type=click.IntRange(0))
@click.option("--max-pages", default=None, type=click.IntRange(1), help="Stop after this many pages.")
@click.option(
    "--state",
    "state_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="KHABAR_CRAWL_STATE",
    help="Conditional-GET state (ETag/Last-Modified) [default: KHABAR_CACHE_DIR/crawl-state.json].",
)
@click.option("--no-state", is_flag=True, help="Neither read nor write the state: fetch everything in full.")
@click.option(
    "--user-agent",
    default=None,
    envvar="KHABAR_USER_AGENT",
    help="[default: Khabar/<version> (+https://github.com/khabar; news pipeline)]",
)
@click.option("--crawler", default="khabar-crawl", show_default=True, help="Crawler name on each RawPage.")
@click.option("--progress/--no-progress", default=True, show_default=True)
def crawl(
    seeds: tuple[str, ...], depth: int, delay: float, per_host: int, concurrency: int, timeout: float,
    retries: int, backoff: float, max_redirects: int, max_pages: int | None, state_path: Path | None,
    no_state: bool, user_agent: str | None, crawler: str, progress: bool,
) -> None:  # fmt: skip
    """Crawl news sites from SEEDS (URLs of pages, RSS/Atom feeds or sitemaps, or files listing
    them one per line) politely into raw-pages.

    Obeys robots.txt; per-host concurrency and delay; retries with backoff; conditional GET on
    re-crawls (304s are counted, not published). Exit 0 when every URL was crawled or skipped by
    policy (robots.txt, non-HTML, off-site); 1 when some URLs failed (5xx after retries,
    timeouts, redirect loops, refused by the broker) or a seed was skipped; 2 on usage errors
    or when no broker answers.
    """
    from streams import crawl as crawling
    from streams.feed import BrokerUnavailable

    try:
        urls, seed_problems = crawling.load_seeds(seeds)
    except crawling.SeedError as exc:
        raise click.UsageError(str(exc)) from exc
    for problem in seed_problems:
        click.echo(f"bad seed {problem.where}: {problem.message}", err=True)
    if not urls:
        raise click.UsageError("no seed URLs to crawl")
    settings = _settings()
    options = crawling.CrawlOptions(
        depth=depth, per_host=per_host, delay=delay, concurrency=concurrency, timeout=timeout,
        retries=retries, backoff=backoff, max_redirects=max_redirects, max_pages=max_pages,
        user_agent=user_agent or crawling.USER_AGENT, crawler=crawler,
        state_path=None if no_state else state_path or crawling.default_state_path(settings.cache_dir),
    )  # fmt: skip
    _require_broker_or_exit_2(settings)
    try:
        summary, published = asyncio.run(crawling.crawl(urls, settings, options, progress=progress))
    except BrokerUnavailable as exc:
        raise ConnectionFailure(str(exc)) from exc
    click.echo(summary.describe(), err=True)
    click.echo(published.describe(), err=True)
    sys.exit(0 if summary.ok and published.ok and not seed_problems else 1)


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--progress/--no-progress", default=True, show_default=True)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Processes analyzing pages [default: one per usable core].",
)
@click.option(
    "--work-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the run's scratch store goes (about 20 KB per page; deleted at the end) "
    "[default: the output's directory, else the system's temporary directory].",
)
def process(
    paths: tuple[str, ...], output: Path, progress: bool, jobs: int | None, work_dir: Path | None
) -> None:
    """Run the same core offline, no Kafka: one JSON line per article, duplicates included."""
    from streams.process import process as process_pages
    from streams.process import usable_cpus
    from streams.sources import read_pages

    with output.open("wb") as out:
        summary = process_pages(
            read_pages(paths),
            out,
            progress=progress,
            limits=_settings().limits,
            jobs=jobs or usable_cpus(),
            work_dir=work_dir or _scratch_place(output),
        )
    click.echo(summary.describe(), err=True)


def _scratch_place(output: Path) -> Path | None:
    """The output's directory, where the user made room for a file of about the scratch store's
    size (the system's temporary directory is often a tmpfs: memory); None if not writable."""
    directory = output.resolve().parent
    return directory if os.access(directory, os.W_OK) else None


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


@main.command()
@click.option(
    "--part",
    "parts",
    type=click.Choice(["core", "offline", "stream", "state", "soak"]),
    multiple=True,
    help="Run only these parts (repeatable) [default: core, offline, stream and state; soak only "
    "when named].",
)
@click.option(
    "--corpus",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    multiple=True,
    help="Pages for the core (.html/.htm/.txt, .gz too) [default: ../shared/eval ScrapingHub and "
    "Arabic pages, else the sample crawl].",
)
@click.option("--pages", default=3000, show_default=True, type=click.IntRange(1), help="Core: pages to run.")
@click.option(
    "--offline-pages",
    default=2000,
    show_default=True,
    type=click.IntRange(4),
    help="Offline: unique pages (from the core's corpus) for khabar process.",
)
@click.option(
    "--stream-corpus",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    multiple=True,
    help="Pages for the stream and state parts [default: ../shared/eval Arabic pages, else the "
    "sample crawl].",
)
@click.option(
    "--stream-pages",
    default=1000,
    show_default=True,
    type=click.IntRange(1),
    help="Stream: pages of the saturated run.",
)
@click.option(
    "--workers",
    multiple=True,
    type=click.IntRange(1),
    help="Stream: worker processes (repeatable) [default: 1 and 2].",
)
@click.option(
    "--paced-seconds",
    default=20.0,
    show_default=True,
    type=click.FloatRange(1),
    help="Stream: length of the run at half the saturated rate (latency).",
)
@click.option(
    "--partitions",
    default=4,
    show_default=True,
    type=click.IntRange(1),
    help="Stream: partitions of the topics (at least the workers); state: stores per table.",
)
@click.option(
    "--state-documents",
    default=100_000,
    show_default=True,
    type=click.IntRange(1000),
    help="State: documents of dedupe state to build (numbers are scaled to 1 M).",
)
@click.option(
    "--soak-minutes",
    default=30.0,
    show_default=True,
    type=click.FloatRange(0.5),
    help="Soak: how long one worker is fed at --soak-rate while its RSS is sampled.",
)
@click.option(
    "--soak-rate", default=5.0, show_default=True, type=click.FloatRange(0.1), help="Soak: pages per second."
)
@click.option(
    "--soak-state-documents",
    default=0,
    show_default=True,
    type=click.IntRange(0),
    help="Soak: documents of dedupe state written into the worker's tables before it starts.",
)
@click.option(
    "--profile",
    "profile_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Run the core and the workers under cProfile, write .prof files here and print summaries "
    "(slower: for finding hot paths, not for the numbers).",
)
@click.option(
    "--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), help="Write every number here."
)
def bench(
    parts: tuple[str, ...], corpus: tuple[Path, ...], pages: int, offline_pages: int,
    stream_corpus: tuple[Path, ...],
    stream_pages: int, workers: tuple[int, ...], paced_seconds: float, partitions: int,
    state_documents: int, soak_minutes: float, soak_rate: float, soak_state_documents: int,
    profile_dir: Path | None, json_path: Path | None,
) -> None:  # fmt: skip
    """Measure the pipeline: offline core vs trafilatura, end to end through Kafka, dedupe state."""
    from streams import bench as benchmark
    from streams.run import stop_on_sigterm

    with stop_on_sigterm():  # the brokers and workers it starts are stopped, not left running
        report = benchmark.run_bench(
            parts or ("core", "offline", "stream", "state"), corpus=corpus, pages=pages,
            offline_pages=offline_pages, stream_corpus=stream_corpus,
            stream_pages=stream_pages, workers=workers or (1, 2), paced_seconds=paced_seconds,
            partitions=partitions, state_documents=state_documents, profile_dir=profile_dir,
            soak_minutes=soak_minutes, soak_rate=soak_rate, soak_state_documents=soak_state_documents,
        )  # fmt: skip
    for name, summary in report.profiles.items():
        click.echo(f"--- profile: {name}\n{summary}")
    click.echo(report.table())
    if json_path is not None:
        benchmark.write_json(report, json_path)
        click.echo(f"wrote {json_path}", err=True)


TIME_FORMATS = ["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"]


@main.command()
@click.option("--to-beginning", "beginning", is_flag=True, help="Re-process everything still in raw-pages.")
@click.option(
    "--to-time", "to_time", type=click.DateTime(TIME_FORMATS),
    help="Re-process what arrived since this time (ISO 8601; UTC when no zone).",
)  # fmt: skip
@click.option("--to-offset", "offset", type=int, help="Re-process from this offset in each chosen partition.")
@click.option(
    "--partition", "partitions", type=int, multiple=True, help="Only these partitions (repeatable)."
)
@click.option("--group", default=None, help="Consumer group (default: KHABAR_APP_ID).")
@click.option("--execute", is_flag=True, help="Commit the new offsets; without it, only show the plan.")
@click.option("--force", is_flag=True, help="Proceed even while the group has active members.")
@click.option(
    "--wait/--no-wait", default=True, show_default=True, help="After --execute, show progress until drained."
)
def replay(
    beginning: bool, to_time: datetime | None, offset: int | None, partitions: tuple[int, ...],
    group: str | None, execute: bool, force: bool, wait: bool,
) -> None:  # fmt: skip
    """Move the pipeline's consumer group back on raw-pages: a dry-run table first, then --execute."""
    from tqdm import tqdm

    from streams import replay as replays

    if sum((beginning, to_time is not None, offset is not None)) != 1:
        raise click.UsageError("choose exactly one of --to-beginning, --to-time, --to-offset")
    if to_time is not None and to_time.tzinfo is None:
        to_time = to_time.replace(tzinfo=UTC)
    settings = _settings()
    _require_broker(settings)
    group = group or settings.app_id
    target = replays.Target(beginning=beginning, time=to_time, offset=offset)
    try:
        plans = asyncio.run(replays.plan(settings, group, target, list(partitions) or None))
    except replays.ReplayError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"consumer group {group}:")
    click.echo(replays.table(plans))
    if not execute:
        click.echo("dry run: nothing changed (add --execute to commit these offsets)")
        return
    members = asyncio.run(replays.active_members(settings, group))
    if members and not force:
        raise click.ClickException(
            f"group {group} has {members} active member(s): stop its workers first, or use --force "
            "(their next commit may undo the replay)"
        )
    asyncio.run(replays.execute(settings, group, plans))
    total = sum(p.to_process for p in plans)
    click.echo(f"offsets committed: {total} records will be re-processed")
    if not wait:
        return
    click.echo("waiting for the workers to drain the lag (start them if none run; Ctrl-C stops waiting)")
    bar = tqdm(total=total, unit=" records", desc="replaying", file=sys.stderr)

    def progress(left: int) -> None:
        bar.n = max(0, total - left)
        bar.refresh()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(replays.wait_drained(settings, group, [p.partition for p in plans], progress))
    bar.close()


@main.command()
@click.option(
    "--since", type=click.DateTime(TIME_FORMATS),
    help="Only raw pages accepted since this time (ISO 8601; UTC when no zone).",
)  # fmt: skip
@click.option(
    "--partition", "partitions", type=int, multiple=True, help="Only these raw-pages partitions (repeatable)."
)
@click.option("--progress/--no-progress", default=True, show_default=True)
def audit(since: datetime | None, partitions: tuple[int, ...], progress: bool) -> None:
    """Check that every page accepted on raw-pages ended as exactly one live article, duplicate
    or dead letter, reading the final state of the outputs (committed records only).

    Exit 0 when nothing is lost or doubled; 1 when something is; 2 when no broker answers or
    the topics do not exist. Pages still in flight count as lost: audit a drained pipeline.
    """
    from streams import audit as audits

    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    settings = _settings()
    _require_broker_or_exit_2(settings)
    try:
        report = asyncio.run(
            audits.audit(settings, since=since, partitions=list(partitions) or None, progress=progress)
        )
        report.in_flight = asyncio.run(audits.in_flight(settings))
    except audits.AuditError as exc:
        raise ConnectionFailure(str(exc)) from exc
    click.echo(report.table())
    if report.in_flight:
        click.echo(f"warning: the pipeline still has {report.in_flight} records in flight", err=True)
    click.echo(
        "ok: nothing lost, nothing doubled" if report.ok else "FAILED: pages lost or doubled", err=True
    )
    sys.exit(0 if report.ok else 1)


if __name__ == "__main__":
    main()
