"""Metrics an operator can trust: a worker under load, scraped by a real Prometheus.

The worker's /metrics must count what really happened; Prometheus (Debian's package)
scrapes it, loads deploy/prometheus/alerts.yml, and every dashboard and alert query must
return data through its HTTP API.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
from aiokafka import ConsumerRecord
from prometheus_client.parser import text_string_to_metric_families

from streams.broker import free_port
from streams.feed import feed
from streams.run import SAMPLE_CRAWL
from streams.sources import read_pages
from tests.integration.conftest import Pipeline

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
ALERTS = REPO / "deploy" / "prometheus" / "alerts.yml"
ALERT_TESTS = REPO / "deploy" / "prometheus" / "alerts_test.yml"
DASHBOARD = REPO / "deploy" / "grafana" / "dashboards" / "khabar.json"
TRAILING_THRESHOLD = re.compile(r"\s*(?:>|<|>=|<=|==|!=)\s*[0-9.e+-]+\s*$")


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.text()


async def wait_for(check: Callable[[], Any], what: str, timeout: float = 90.0) -> Any:
    """Poll ``check`` (async, returns a truthy value when done) until the deadline."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            result = await check()
        except aiohttp.ClientError:
            result = None
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.5)  # polling interval, not synchronization: the deadline decides


def samples(exposition: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
    }


@pytest.fixture(scope="module")
async def loaded_worker(pipeline: Pipeline) -> AsyncIterator[Pipeline]:
    """The worker after the sample crawl and one malformed record went through it."""
    base = f"http://127.0.0.1:{pipeline.web_port}"

    async def ready() -> bool:
        status, _ = await get(f"{base}/health/ready")
        return status == 200

    await wait_for(ready, "the worker's readiness")
    summary = await feed(read_pages([str(SAMPLE_CRAWL)]), pipeline.settings, progress=False)
    await pipeline.produce(b"{not json", key=b"broken")
    wanted = set(summary.page_ids)

    def done(records: list[ConsumerRecord[bytes, bytes]]) -> bool:
        seen = {orjson.loads(r.value).get("page_id") for r in records if r.value}
        return wanted <= seen and any(r.key == b"broken" for r in records)

    await pipeline.outputs(done)
    yield pipeline


async def test_metrics_count_what_happened(loaded_worker: Pipeline) -> None:
    base = f"http://127.0.0.1:{loaded_worker.web_port}"
    status, text = await get(f"{base}/metrics")
    assert status == 200
    values = samples(text)
    pages = len([p for p in SAMPLE_CRAWL.iterdir() if p.suffix in (".html", ".txt")])
    assert values[("khabar_raw_pages_total", ())] == pages + 1
    assert values[("khabar_dead_letters_total", (("reason", "not_json"), ("stage", "decode")))] == 1
    assert values[("khabar_articles_total", (("language", "ar"),))] >= 4
    assert values[("khabar_articles_total", (("language", "en"),))] == 2
    assert values[("khabar_duplicates_total", (("kind", "exact"),))] >= 1
    dated = sum(v for (name, labels), v in values.items() if name == "khabar_dates_total")
    assert dated == pages
    assert values[("khabar_dates_total", (("source", "none"),))] >= 2  # the undated syndicated pair
    assert values[("khabar_stage_seconds_count", (("stage", "clean"),))] == pages
    assert values[("khabar_end_to_end_seconds_count", ())] >= pages
    assert values[("khabar_worker_ready", ())] == 1
    assert values[("khabar_last_progress_timestamp_seconds", ())] > 0
    # where the memory is: the pages' table writes sit in memtables charged to the stores' one
    # cache, which is inside malloc's blocks in use, which are inside the resident set
    memory = {
        dict(labels)["part"]: v for (name, labels), v in values.items() if name == "khabar_memory_bytes"
    }
    assert memory.keys() == {
        "store_cache",
        "store_memtables",
        "store_table_readers",
        "malloc_in_use",
        "malloc_free",
    }
    assert 0 < memory["store_memtables"] <= memory["store_cache"] <= 1.2 * 64 * 2**20
    assert memory["store_cache"] < memory["malloc_in_use"] < values[("process_resident_memory_bytes", ())]
    status, _ = await get(f"{base}/health/live")
    assert status == 200


def dashboard_queries() -> list[tuple[str, str]]:
    dashboard = json.loads(DASHBOARD.read_text("utf-8"))
    return [(f"panel '{p['title']}'", t["expr"]) for p in dashboard["panels"] for t in p["targets"]]


def alert_queries() -> list[tuple[str, str]]:
    found = []
    name = ""
    for line in ALERTS.read_text("utf-8").splitlines():
        stripped = line.strip()
        if stripped.startswith("- alert:"):
            name = stripped.split(":", 1)[1].strip()
        elif stripped.startswith("expr:"):
            found.append((f"alert {name}", TRAILING_THRESHOLD.sub("", stripped.split(":", 1)[1].strip())))
    return found


@pytest.fixture(scope="module")
async def prometheus(loaded_worker: Pipeline, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.fail("Debian's prometheus package is not installed (make setup installs it)")
    home = tmp_path_factory.mktemp("prometheus")
    config = home / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        f"rule_files: ['{ALERTS}']\n"
        "scrape_configs:\n"
        "  - job_name: khabar-worker\n"
        f"    static_configs: [{{targets: ['127.0.0.1:{loaded_worker.web_port}']}}]\n"
    )
    port = free_port()
    log = (home / "prometheus.log").open("wb")
    process = subprocess.Popen(
        [binary, f"--config.file={config}", f"--storage.tsdb.path={home / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}"],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:

        async def up() -> bool:
            status, _ = await get(f"{base}/-/ready")
            return status == 200

        await wait_for(up, "Prometheus to start")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def test_alert_rules_pass_promtool() -> None:
    promtool = shutil.which("promtool")
    assert promtool, "promtool comes with Debian's prometheus package"
    result = subprocess.run([promtool, "check", "rules", str(ALERTS)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(alert_queries()) >= 4
    # the rules' own unit tests: the memory alert fires for a leak, not for a cache filling up
    result = subprocess.run([promtool, "test", "rules", str(ALERT_TESTS)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


async def test_every_dashboard_and_alert_query_returns_data(prometheus: str) -> None:
    pending = dashboard_queries() + alert_queries()
    assert len(pending) >= 15

    async def all_answer() -> bool:
        still = []
        for what, expr in pending:
            async with (
                aiohttp.ClientSession() as session,
                session.get(f"{prometheus}/api/v1/query", params={"query": expr}) as response,
            ):
                body = await response.json()
            assert body["status"] == "success", (what, expr, body)
            if not body["data"]["result"]:
                still.append((what, expr))
        pending[:] = still
        return not pending

    try:
        await wait_for(all_answer, "every query to return data", timeout=120)
    except AssertionError as exc:
        raise AssertionError(f"queries without data: {pending}") from exc
