"""Settings survive the trip to a child worker's environment and back."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from streams.config import Settings


def test_environment_round_trips_every_worker_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = replace(
        Settings(), broker="kafka:9092", topic_prefix="t.", app_id="a", partitions=6, replication_factor=3,
        raw_retention_hours=48, data_dir=Path("/state"), web_host="0.0.0.0", web_port=7000,
        processing_guarantee="exactly_once", max_page_bytes=1000, group_instance_id="worker-0",
        lag_interval_seconds=3, stall_seconds=30, cache_dir=Path("/cache"),
    )  # fmt: skip
    monkeypatch.setenv("KHABAR_CACHE_DIR", "/cache")
    for name, value in settings.environment().items():
        monkeypatch.setenv(name, value)
    assert Settings.from_env() == settings
