"""Configuration from the environment (12-factor). The README's table lists every variable."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from agents.dedupe.clusters import Horizon
from agents.limits import DEFAULT_LIMITS, Limits


def _env_int_at_least(name: str, default: int, minimum: int) -> int:
    value = _env_int(name, default)
    if value < minimum:
        raise SystemExit(f"{name} must be at least {minimum}, got {value}")
    return value


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise SystemExit(f"{name} must be an integer, got {value!r}") from exc


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return float(value)
    except ValueError as exc:
        raise SystemExit(f"{name} must be a number, got {value!r}") from exc


def _env_file(name: str) -> Path | None:
    """A file named by ``name``, which must exist when set."""
    value = os.environ.get(name, "").strip()
    if not value:
        return None
    path = Path(value)
    if not path.is_file():
        raise SystemExit(f"{name} names {value!r}, which is not a readable file")
    return path


def _env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = os.environ.get(name, "").strip().upper() or default
    if value not in choices:
        raise SystemExit(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


def read_secret(path: Path) -> str:
    """A secret kept in a file (a Kubernetes or Docker secret): its text without the final newline."""
    try:
        return path.read_text("utf-8").rstrip("\r\n")
    except (OSError, UnicodeDecodeError) as exc:
        raise SystemExit(f"cannot read the secret file {path}: {type(exc).__name__}") from None


def default_cache_dir() -> Path:
    configured = os.environ.get("KHABAR_CACHE_DIR", "").strip()
    return Path(configured) if configured else Path.home() / ".cache" / "khabar"


SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
SASL_MECHANISMS = ("SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN")


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
    max_page_bytes: int = DEFAULT_LIMITS.max_page_bytes
    max_decompressed_bytes: int = DEFAULT_LIMITS.max_decompressed_bytes
    max_parse_depth: int = DEFAULT_LIMITS.max_parse_depth
    stage_budget_seconds: float = DEFAULT_LIMITS.stage_seconds
    local_broker_port: int = 9092
    group_instance_id: str = ""  # Kafka static membership (e.g. the pod name); empty: dynamic
    lag_interval_seconds: float = 10.0
    stall_seconds: float = 300.0
    dedupe_horizon_days: int = 30  # documents further apart in event time are never duplicates
    dedupe_lateness_hours: int = 24  # how late a document may arrive and be decided as in time order
    dedupe_sweep_seconds: int = 3600  # how often each worker frees dedupe state past the horizon
    store_memory_mb: int = 64  # one budget for all of a worker's RocksDB caches, indexes and memtables
    cache_dir: Path = field(default_factory=default_cache_dir)
    # How every Kafka client connects (streams/connection.py turns these into client options).
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str = "SCRAM-SHA-512"
    sasl_username: str = ""
    sasl_password: str = field(default="", repr=False)  # never in a repr, a log or an error message
    sasl_password_file: Path | None = None  # where sasl_password came from, if from a file
    ssl_cafile: Path | None = None  # CA certificates that sign the brokers'; None: the system's
    ssl_certfile: Path | None = None  # client certificate (PEM), for brokers that require one
    ssl_keyfile: Path | None = None  # its private key (PEM); None: it is in ssl_certfile

    @classmethod
    def from_env(cls) -> Settings:
        cache_dir = default_cache_dir()
        data_dir = os.environ.get("KHABAR_DATA_DIR", "").strip()
        guarantee = os.environ.get("KHABAR_PROCESSING_GUARANTEE", "at_least_once").strip()
        if guarantee not in ("at_least_once", "exactly_once"):
            raise SystemExit(
                f"KHABAR_PROCESSING_GUARANTEE must be at_least_once or exactly_once, got {guarantee!r}"
            )
        protocol = _env_choice("KHABAR_SECURITY_PROTOCOL", "PLAINTEXT", SECURITY_PROTOCOLS)
        password_file = _env_file("KHABAR_SASL_PASSWORD_FILE")
        password = os.environ.get("KHABAR_SASL_PASSWORD", "")
        if password and password_file:
            raise SystemExit("set KHABAR_SASL_PASSWORD or KHABAR_SASL_PASSWORD_FILE, not both")
        if password_file:
            password = read_secret(password_file)
        username = os.environ.get("KHABAR_SASL_USERNAME", "").strip()
        if protocol.startswith("SASL_") and not (username and password):
            raise SystemExit(
                f"KHABAR_SECURITY_PROTOCOL={protocol} needs KHABAR_SASL_USERNAME and "
                "KHABAR_SASL_PASSWORD (or KHABAR_SASL_PASSWORD_FILE)"
            )
        settings = cls(
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
            max_page_bytes=_env_int("KHABAR_MAX_PAGE_BYTES", DEFAULT_LIMITS.max_page_bytes),
            max_decompressed_bytes=_env_int(
                "KHABAR_MAX_DECOMPRESSED_BYTES", DEFAULT_LIMITS.max_decompressed_bytes
            ),
            max_parse_depth=_env_int("KHABAR_MAX_PARSE_DEPTH", DEFAULT_LIMITS.max_parse_depth),
            stage_budget_seconds=_env_float("KHABAR_STAGE_BUDGET_SECONDS", DEFAULT_LIMITS.stage_seconds),
            local_broker_port=_env_int("KHABAR_LOCAL_BROKER_PORT", 9092),
            group_instance_id=os.environ.get("KHABAR_GROUP_INSTANCE_ID", "").strip(),
            lag_interval_seconds=_env_int("KHABAR_LAG_INTERVAL_SECONDS", 10),
            stall_seconds=_env_int("KHABAR_STALL_SECONDS", 300),
            dedupe_horizon_days=_env_int("KHABAR_DEDUPE_HORIZON_DAYS", 30),
            dedupe_lateness_hours=_env_int("KHABAR_DEDUPE_LATENESS_HOURS", 24),
            dedupe_sweep_seconds=_env_int("KHABAR_DEDUPE_SWEEP_SECONDS", 3600),
            store_memory_mb=_env_int_at_least("KHABAR_STORE_MEMORY_MB", 64, 16),
            cache_dir=cache_dir,
            security_protocol=protocol,
            sasl_mechanism=_env_choice("KHABAR_SASL_MECHANISM", "SCRAM-SHA-512", SASL_MECHANISMS),
            sasl_username=username,
            sasl_password=password,
            sasl_password_file=password_file,
            ssl_cafile=_env_file("KHABAR_SSL_CAFILE"),
            ssl_certfile=_env_file("KHABAR_SSL_CERTFILE"),
            ssl_keyfile=_env_file("KHABAR_SSL_KEYFILE"),
        )
        try:
            settings.limits  # noqa: B018  # validates the limits
        except ValueError as exc:
            raise SystemExit(f"KHABAR_MAX_* / KHABAR_STAGE_BUDGET_SECONDS: {exc}") from exc
        return settings

    @property
    def limits(self) -> Limits:
        """What one page may cost (KHABAR_MAX_PAGE_BYTES ... KHABAR_STAGE_BUDGET_SECONDS)."""
        return Limits(
            max_page_bytes=self.max_page_bytes,
            max_decompressed_bytes=self.max_decompressed_bytes,
            max_parse_depth=self.max_parse_depth,
            stage_seconds=self.stage_budget_seconds,
        )

    def environment(self) -> dict[str, str]:
        """These settings as the variables ``from_env`` reads: for a worker in a child process.

        A password read from a file is passed on as the file's path, not as the secret.
        """
        if self.sasl_password_file is not None:
            password = {"KHABAR_SASL_PASSWORD_FILE": str(self.sasl_password_file), "KHABAR_SASL_PASSWORD": ""}
        else:
            password = {"KHABAR_SASL_PASSWORD_FILE": "", "KHABAR_SASL_PASSWORD": self.sasl_password}
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
            "KHABAR_MAX_DECOMPRESSED_BYTES": str(self.max_decompressed_bytes),
            "KHABAR_MAX_PARSE_DEPTH": str(self.max_parse_depth),
            "KHABAR_STAGE_BUDGET_SECONDS": repr(self.stage_budget_seconds),
            "KHABAR_DEDUPE_HORIZON_DAYS": str(self.dedupe_horizon_days),
            "KHABAR_DEDUPE_LATENESS_HOURS": str(self.dedupe_lateness_hours),
            "KHABAR_DEDUPE_SWEEP_SECONDS": str(self.dedupe_sweep_seconds),
            "KHABAR_STORE_MEMORY_MB": str(self.store_memory_mb),
            "KHABAR_SECURITY_PROTOCOL": self.security_protocol,
            "KHABAR_SASL_MECHANISM": self.sasl_mechanism,
            "KHABAR_SASL_USERNAME": self.sasl_username,
            **password,
            "KHABAR_SSL_CAFILE": str(self.ssl_cafile or ""),
            "KHABAR_SSL_CERTFILE": str(self.ssl_certfile or ""),
            "KHABAR_SSL_KEYFILE": str(self.ssl_keyfile or ""),
        }

    @property
    def horizon(self) -> Horizon:
        return Horizon(timedelta(days=self.dedupe_horizon_days), timedelta(hours=self.dedupe_lateness_hours))

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"

    @property
    def bootstrap_servers(self) -> str:
        return self.broker or f"127.0.0.1:{self.local_broker_port}"
