"""Prometheus metrics and health for a worker: what an operator needs to trust it.

Every worker serves these at ``/metrics`` on its web port (prometheus-client text format),
with ``/health/live`` and ``/health/ready`` next to them. Label sets are bounded: stages
and date sources are fixed lists, languages are ISO 639-1 codes, dead-letter reasons are
short labels from the code (anything else is folded into ``other``).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector, generate_latest

from schemas import Article

STAGE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
END_TO_END_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 3600.0)
_LABEL = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_LANGUAGE = re.compile(r"^[a-z]{2}$")


def bounded(value: str | None, fallback: str = "other") -> str:
    """A label value from code-defined sets; anything unexpected becomes ``fallback``."""
    return value if value is not None and _LABEL.match(value) else fallback


@dataclass
class PipelineMetrics:
    """The worker's metrics, in a registry of their own (several apps may share a process)."""

    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    # Liveness: a worker with work to do that does nothing for this long is not alive.
    stall_seconds: float = 300.0

    def __post_init__(self) -> None:
        r = self.registry
        self.raw_pages = Counter("khabar_raw_pages", "Raw pages consumed from raw-pages.", registry=r)
        self.articles = Counter(
            "khabar_articles", "Articles published to articles, by language.", ["language"], registry=r
        )
        self.duplicates = Counter(
            "khabar_duplicates", "Documents published to duplicates, by kind.", ["kind"], registry=r
        )
        self.corrections = Counter(
            "khabar_corrections",
            "Canonical articles turned into duplicates because an earlier copy arrived later.",
            registry=r,
        )
        self.dedupe_expired = Counter(
            "khabar_dedupe_expired",
            "Dedupe state entries freed past the horizon, by table (documents, buckets, owners).",
            ["table"],
            registry=r,
        )
        self.dedupe_state_keys = Gauge(
            "khabar_dedupe_state_keys",
            "Dedupe state entries this worker keeps, by table, as counted by its last sweep.",
            ["table"],
            registry=r,
        )
        self.dead_letters = Counter(
            "khabar_dead_letters",
            "Records sent to dead-letters, by stage and reason.",
            ["stage", "reason"],
            registry=r,
        )
        self.dates = Counter(
            "khabar_dates",
            "Analyzed pages by where their publication date came from (none: no date).",
            ["source"],
            registry=r,
        )
        self.stage_seconds = Histogram(
            "khabar_stage_seconds", "Time spent in each stage per page.", ["stage"],
            buckets=STAGE_BUCKETS, registry=r,
        )  # fmt: skip
        self.end_to_end_seconds = Histogram(
            "khabar_end_to_end_seconds",
            "From the page's fetch time to the article's publication.",
            buckets=END_TO_END_BUCKETS,
            registry=r,
        )
        self.consumer_lag = Gauge(
            "khabar_consumer_lag",
            "Records not yet committed by the worker's group: end offset minus committed offset.",
            ["topic", "partition"],
            registry=r,
        )
        self.rebalances = Counter("khabar_rebalances", "Consumer-group rebalances completed.", registry=r)
        self.refetches = Counter(
            "khabar_refetches",
            "Partitions sought back to records their consumer dropped unprocessed around a rebalance.",
            registry=r,
        )
        self.last_progress = Gauge(
            "khabar_last_progress_timestamp_seconds",
            "Unix time of the last event this worker finished processing.",
            registry=r,
        )
        self.ready = Gauge(
            "khabar_worker_ready", "1 when partitions are assigned and tables recovered.", registry=r
        )
        self.memory = Gauge(
            "khabar_memory_bytes",
            "Where the worker's memory is, by part: the table stores' shared cache (memtables included),"
            " their memtables, their SST readers outside the cache; malloc's blocks in use and freed"
            " blocks it keeps.",
            ["part"],
            registry=r,
        )
        ProcessCollector(registry=r)  # process_resident_memory_bytes, process_cpu_seconds_total, ...
        self._last_progress_monotonic = time.monotonic()
        self._lag_total: int | None = None

    # -- recording -----------------------------------------------------------------------
    def observe_stage(self, stage: str, seconds: float) -> None:
        self.stage_seconds.labels(bounded(stage)).observe(seconds)

    def page_in(self) -> None:
        self.raw_pages.inc()

    def analyzed(self, article: Article) -> None:
        self.dates.labels(
            bounded(article.published_source, "other") if article.published_at else "none"
        ).inc()

    def published(self, article: Article, now: float | None = None) -> None:
        now = time.time() if now is None else now
        if article.duplicate_of is None:
            language = (
                article.language if article.language and _LANGUAGE.match(article.language) else "unknown"
            )
            self.articles.labels(language).inc()
        else:
            self.duplicates.labels(bounded(article.duplicate_kind)).inc()
        self.end_to_end_seconds.observe(max(0.0, now - article.fetched_at.timestamp()))

    def dead_letter(self, stage: str, reason: str) -> None:
        self.dead_letters.labels(bounded(stage), bounded(reason)).inc()

    def progress(self) -> None:
        self._last_progress_monotonic = time.monotonic()
        self.last_progress.set(time.time())

    def set_lag(self, lag: dict[tuple[str, int], int]) -> None:
        self.consumer_lag.clear()
        for (topic, partition), value in lag.items():
            self.consumer_lag.labels(topic, str(partition)).set(value)
        self._lag_total = sum(lag.values())

    def set_memory(self, parts: dict[str, int]) -> None:
        for part, value in parts.items():
            self.memory.labels(bounded(part)).set(value)

    # -- health --------------------------------------------------------------------------
    def is_live(self) -> bool:
        """Alive unless there is work waiting and nothing has been finished for a while."""
        idle = time.monotonic() - self._last_progress_monotonic
        nothing_to_do = self._lag_total == 0
        return nothing_to_do or idle < self.stall_seconds

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
