"""Delivery guarantees, measured: Faust's ``at_least_once`` beside ``exactly_once``, one run.

Run from the repository root::

    uv run python -m tests.quality.guarantees                # 20 stories (100 pages), 10 kills
    uv run python -m tests.quality.guarantees --kills 20 --stories 40

For each processing guarantee (``KHABAR_PROCESSING_GUARANTEE``), against the same broker (a
private local Apache Kafka, or ``KHABAR_TEST_BROKER``), with a fresh pipeline and one worker
with static membership:

* **one page, idle**: one page into an idle pipeline (a pipeline of its own), until the audit
  settles;
* **clean**: once the worker is ready, feed the dedupe corpus (5 syndicated copies per
  story, shuffled) with no fault and wait until ``khabar audit`` settles (every page out,
  the clusters of the offline run): pages/s from the first send to the settled audit;
* **kill -9**: feed another corpus in waves, kill -9 the worker once each wave's first output
  is out and restart it (the fault test's scenario, :func:`tests.integration.faults.kill_nine_cycles`),
  then wait for the audit to settle: lost and doubled pages, seconds to settle.

A run that does not settle within ``--settle`` seconds reports the audit at that moment.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from schemas import RawPage
from streams.audit import Audit, audit, in_flight
from streams.broker import LocalBroker, free_port
from streams.config import Settings
from streams.feed import feed
from tests.integration.clusters import corpus
from tests.integration.conftest import Pipeline, new_pipeline
from tests.integration.faults import Kill, kill_nine_cycles, ready, settled

GUARANTEES = ("at_least_once", "exactly_once")


@dataclass
class Phase:
    pages: int
    seconds: float
    settled: bool
    report: Audit

    def describe(self) -> list[str]:
        return [
            f"{self.seconds:.0f} s" if self.settled else f"no, {self.seconds:.0f} s",
            f"{self.pages / self.seconds:.1f}" if self.settled else "-",
            str(len(self.report.lost)),
            str(len(self.report.doubled)),
            str(self.report.in_flight),
        ]


async def settle_or_report(
    pipeline: Pipeline, pages: list[RawPage], raw: int, started: float, limit: float, new_pages: int
) -> Phase:
    """Wait for the audit to settle on ``pages`` (``raw`` raw records); ``new_pages`` count for pages/s."""
    try:
        report = await settled(pipeline, pages, raw, timeout=limit)
        done = True
    except AssertionError:
        report, done = await audit(pipeline.settings), False
    report.in_flight = await in_flight(pipeline.settings)
    return Phase(new_pages, time.monotonic() - started, done, report)


async def measure(
    bootstrap: str, workdir: Path, guarantee: str, stories: int, kills: int, limit: float
) -> tuple[Phase, Phase, Phase, list[Kill]]:
    """The three phases for one guarantee: one page into an idle pipeline, clean, kill -9."""
    alone = await new_pipeline(bootstrap, workdir, processing_guarantee=guarantee)
    alone.start_worker()
    try:
        await ready(alone.web_port)
        page = corpus(uuid.uuid4().hex[:8], 1)[:1]
        started = time.monotonic()
        await feed(page, alone.settings, progress=False)
        one = await settle_or_report(alone, page, 1, started, limit, 1)
    finally:
        alone.stop_all()
    pipeline = await new_pipeline(
        bootstrap, workdir, processing_guarantee=guarantee, group_instance_id=f"{guarantee}-0"
    )
    pipeline.start_worker()
    try:
        await ready(pipeline.web_port)
        pages = corpus(uuid.uuid4().hex[:8], stories)
        started = time.monotonic()
        await feed(pages, pipeline.settings, progress=False)
        clean = await settle_or_report(pipeline, pages, len(pages), started, limit, len(pages))
        marker = uuid.uuid4().hex[:8]
        more = corpus(marker, stories)
        started = time.monotonic()
        done = await kill_nine_cycles(pipeline, more, kills, marker, first_output_timeout=30)
        everything = pages + more
        killed = await settle_or_report(
            pipeline, everything, len(everything) + 3 * kills, started, limit, len(more)
        )
    finally:
        pipeline.stop_all()
    return one, clean, killed, done


def table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows)


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stories", type=int, default=20, help="stories per corpus (5 pages each)")
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--settle", type=float, default=180.0, help="seconds to wait for the audit to settle")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="khabar-guarantees-") as tmp:
        workdir = Path(tmp)
        broker = None
        bootstrap = os.environ.get("KHABAR_TEST_BROKER", "").strip()
        if not bootstrap:
            broker = LocalBroker(workdir / "kafka", free_port(), free_port(), Settings.from_env().cache_dir)
            await asyncio.to_thread(broker.start)
            bootstrap = broker.bootstrap
        try:
            rows = [["guarantee", "phase", "settled", "pages/s", "lost", "doubled", "uncommitted", "kills"]]
            for guarantee in GUARANTEES:
                one, clean, killed, kills = await measure(
                    bootstrap, workdir, guarantee, args.stories, args.kills, args.settle
                )
                rows.append([guarantee, "one page, idle", *one.describe(), "-"])
                rows.append([guarantee, "clean", *clean.describe(), "-"])
                seen = sum(kill.output_seen for kill in kills)
                rows.append([guarantee, "kill -9", *killed.describe(), f"{len(kills)} ({seen} mid-output)"])
                print(table(rows), flush=True)
                print()
        finally:
            if broker is not None:
                await asyncio.to_thread(broker.stop)


if __name__ == "__main__":
    asyncio.run(main())
