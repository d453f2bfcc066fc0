"""`khabar run --once`, the README's main job, as a user runs it: its own Kafka, worker and feeder."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from streams.run import SAMPLE_CRAWL

pytestmark = pytest.mark.integration


def test_khabar_run_prints_the_sample_crawl_from_its_own_kafka(tmp_path: object) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("KHABAR_BROKER", "KHABAR_TEST_BROKER")}
    result = subprocess.run(
        [sys.executable, "-m", "streams.cli", "run", "--once", "--timeout", "180"],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "starting a local Apache Kafka" in result.stderr
    lines = result.stdout.splitlines()
    pages = [p for p in SAMPLE_CRAWL.iterdir() if p.suffix in (".html", ".txt")]
    for page in pages:
        assert any(line.endswith(f"/{page.name}>") for line in lines), f"{page.name} did not come out"
    # the byte-identical pair: one of the two is a duplicate of the other, whichever came first
    assert any(line.startswith("DUPLICATE of ") for line in lines), result.stdout
    assert any("[ar]" in line for line in lines) and any("[en]" in line for line in lines)
    assert "stopping the local Kafka" in result.stderr
