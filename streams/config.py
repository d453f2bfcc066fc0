"""Configuration from the environment (12-factor). The README's table lists every variable."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise SystemExit(f"{name} must be an integer, got {value!r}") from exc


def default_cache_dir() -> Path:
    configured = os.environ.get("KHABAR_CACHE_DIR", "").strip()
    return Path(configured) if configured else Path.home() / ".cache" / "khabar"


@dataclass(frozen=True)
class Settings:
    """Everything a worker, feeder or tail needs to know."""

    broker: str = ""  # bootstrap servers; empty means "the local broker khabar starts"
    topic_prefix: str = ""
    app_id: str = "khabar"
    partitions: int = 4
    replication_factor: int = 1
    raw_retention_hours: int = 24 * 7
    data_dir: Path = field(default_factory=lambda: default_cache_dir() / "worker")
    web_host: str = "127.0.0.1"
    web_port: int = 6066
    processing_guarantee: str = "at_least_once"
    max_page_bytes: int = 5_000_000
    local_broker_port: int = 9092
    group_instance_id: str = ""  # Kafka static membership (e.g. the pod name); empty: dynamic
    lag_interval_seconds: float = 10.0
    stall_seconds: float = 300.0
    cache_dir: Path = field(default_factory=default_cache_dir)

    @classmethod
    def from_env(cls) -> Settings:
        cache_dir = default_cache_dir()
        data_dir = os.environ.get("KHABAR_DATA_DIR", "").strip()
        guarantee = os.environ.get("KHABAR_PROCESSING_GUARANTEE", "at_least_once").strip()
        if guarantee not in ("at_least_once", "exactly_once"):
            raise SystemExit(
                f"KHABAR_PROCESSING_GUARANTEE must be at_least_once or exactly_once, got {guarantee!r}"
            )
        return cls(
            broker=os.environ.get("KHABAR_BROKER", "").strip(),
            topic_prefix=os.environ.get("KHABAR_TOPIC_PREFIX", "").strip(),
            app_id=os.environ.get("KHABAR_APP_ID", "khabar").strip() or "khabar",
            partitions=_env_int("KHABAR_PARTITIONS", 4),
            replication_factor=_env_int("KHABAR_REPLICATION_FACTOR", 1),
            raw_retention_hours=_env_int("KHABAR_RAW_RETENTION_HOURS", 24 * 7),
            data_dir=Path(data_dir) if data_dir else cache_dir / "worker",
            web_host=os.environ.get("KHABAR_WEB_HOST", "127.0.0.1").strip(),
            web_port=_env_int("KHABAR_WEB_PORT", 6066),
            processing_guarantee=guarantee,
            max_page_bytes=_env_int("KHABAR_MAX_PAGE_BYTES", 5_000_000),
            local_broker_port=_env_int("KHABAR_LOCAL_BROKER_PORT", 9092),
            group_instance_id=os.environ.get("KHABAR_GROUP_INSTANCE_ID", "").strip(),
            lag_interval_seconds=_env_int("KHABAR_LAG_INTERVAL_SECONDS", 10),
            stall_seconds=_env_int("KHABAR_STALL_SECONDS", 300),
            cache_dir=cache_dir,
        )

    def environment(self) -> dict[str, str]:
        """These settings as the variables ``from_env`` reads: for a worker in a child process."""
        return {
            "KHABAR_BROKER": self.bootstrap_servers,
            "KHABAR_TOPIC_PREFIX": self.topic_prefix,
            "KHABAR_APP_ID": self.app_id,
            "KHABAR_PARTITIONS": str(self.partitions),
            "KHABAR_REPLICATION_FACTOR": str(self.replication_factor),
            "KHABAR_RAW_RETENTION_HOURS": str(self.raw_retention_hours),
            "KHABAR_DATA_DIR": str(self.data_dir),
            "KHABAR_WEB_HOST": self.web_host,
            "KHABAR_WEB_PORT": str(self.web_port),
            "KHABAR_PROCESSING_GUARANTEE": self.processing_guarantee,
            "KHABAR_MAX_PAGE_BYTES": str(self.max_page_bytes),
            "KHABAR_GROUP_INSTANCE_ID": self.group_instance_id,
            "KHABAR_LAG_INTERVAL_SECONDS": str(int(self.lag_interval_seconds)),
            "KHABAR_STALL_SECONDS": str(int(self.stall_seconds)),
        }

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"

    @property
    def bootstrap_servers(self) -> str:
        return self.broker or f"127.0.0.1:{self.local_broker_port}"
