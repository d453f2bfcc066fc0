"""`khabar run`, the README's main job, as a user runs it: its own Kafka, worker and feeder."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

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


def test_sigterm_stops_khabar_run_and_everything_it_started(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("KHABAR_BROKER", "KHABAR_TEST_BROKER")}
    errors = tmp_path / "stderr.txt"
    with errors.open("wb") as sink:
        job = subprocess.Popen(
            [sys.executable, "-m", "streams.cli", "run"], env=env, stdout=subprocess.DEVNULL, stderr=sink
        )
    try:
        deadline = time.monotonic() + 240
        while not (started := re.search(r"worker started \(pid (\d+)", errors.read_text())):
            assert job.poll() is None and time.monotonic() < deadline, errors.read_text()
            time.sleep(0.2)
        kafka = re.search(r"Kafka is up at ([\d.]+):(\d+)", errors.read_text())
        assert kafka, errors.read_text()
        job.send_signal(signal.SIGTERM)
        assert job.wait(timeout=120) == 130, errors.read_text()
    finally:
        if job.poll() is None:
            job.kill()
    assert "interrupted: stopping" in errors.read_text()
    with pytest.raises(ProcessLookupError):  # the worker is gone ...
        os.kill(int(started.group(1)), 0)
    with pytest.raises(OSError):  # ... and so is its Kafka
        socket.create_connection((kafka.group(1), int(kafka.group(2))), timeout=5).close()
