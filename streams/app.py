"""The streaming shell: the Faust app, its topics, and the agents wired to the pure core.

Two agents, each with one event in flight (``concurrency=1``: with more, faust-streaming
can commit past an event still being processed and lose it on restart, issue #606):

* ``analyze-pages`` reads ``raw-pages`` (key: URL), decodes the RawPage, runs
  :func:`agents.pipeline.analyze` and re-keys the article by content hash onto the internal
  ``dedupe-by-hash`` topic, so every hash lives in exactly one partition;
* ``decide-duplicates`` reads ``dedupe-by-hash``, keeps the owner of each hash in a Faust
  table (RocksDB store, changelog topic) and publishes to ``articles`` or ``duplicates``.
  When an earlier document arrives after a later copy took the hash, the later copy is
  corrected: re-published on ``duplicates`` and tombstoned on ``articles``.

Every failure becomes a record on ``dead-letters`` with the original bytes; an agent never
raises, so Faust never acks-and-drops an event behind our back.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any

import faust
from faust.transport.drivers import aiokafka as faust_aiokafka

from agents import StageError
from agents.dedupe import resolve_exact
from agents.pipeline import analyze
from schemas import Article, DeadLetter, RawPage, SchemaError, Stage, message_headers
from streams import topics
from streams.config import Settings
from streams.lag import LagProbe
from streams.metrics import PipelineMetrics

log = logging.getLogger(__name__)


class IdempotentProducer(faust_aiokafka.Producer):
    """Faust turns on acks=all and idempotence only inside transactions; we want them always."""

    def _settings_extra(self) -> dict[str, Any]:
        return {"acks": "all", "enable_idempotence": True}


class IdempotentTransport(faust_aiokafka.Transport):
    Producer = IdempotentProducer


class KhabarApp(faust.App):
    def _new_transport(self) -> IdempotentTransport:
        return IdempotentTransport(self.conf.broker_consumer, self)

    def _new_producer_transport(self) -> IdempotentTransport:
        return IdempotentTransport(self.conf.broker_producer, self)


def dead_letter(
    message: Any, stage: Stage, reason: str, error: BaseException, page: RawPage | None = None
) -> DeadLetter:
    """A DeadLetter for the Kafka message ``message`` (a faust Message) that failed."""
    return DeadLetter(
        stage=stage,
        reason=reason,
        error_type=type(error).__name__,
        error_message=str(error)[:2000],
        original_topic=message.topic,
        original_partition=message.partition,
        original_offset=message.offset,
        original_key=message.key,
        original_value=message.value if message.value is not None else b"",
        failed_at=datetime.now(UTC),
        page_id=page.page_id if page else None,
        url=page.url if page else None,
    )


def _json_response(web: Any, ok: bool, **details: Any) -> Any:
    return web.json({"ok": ok, **details}, status=200 if ok else 503)


def create_app(settings: Settings, metrics: PipelineMetrics | None = None) -> faust.App:
    """The Faust app with its topics, table, agents, metrics and health pages."""
    metrics = metrics or PipelineMetrics(stall_seconds=settings.stall_seconds)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    app = KhabarApp(
        settings.app_id,
        broker=f"kafka://{settings.bootstrap_servers.replace(',', ';kafka://')}",
        store="rocksdb://",
        datadir=str(settings.data_dir),
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication_factor,
        processing_guarantee=settings.processing_guarantee,
        producer_acks=-1,
        web_host=settings.web_host,
        web_port=settings.web_port,
        web_bind=settings.web_host,
        consumer_auto_offset_reset="earliest",
        producer_max_request_size=max(settings.max_page_bytes * 2, 1_048_576),
        stream_wait_empty=False,
        consumer_group_instance_id=settings.group_instance_id or None,
    )

    def raw_topic(name: str, **options: Any) -> faust.TopicT:
        return app.topic(
            settings.topic(name), key_type=bytes, value_type=bytes, key_serializer="raw",
            value_serializer="raw", **options,
        )  # fmt: skip

    raw_pages = raw_topic(topics.RAW_PAGES)
    # Internal, so per app id: a second pipeline version (another KHABAR_APP_ID) must not share it.
    by_hash_name = f"{settings.app_id}-{topics.DEDUPE_BY_HASH}"
    by_hash = raw_topic(by_hash_name, internal=True, partitions=settings.partitions)
    articles = raw_topic(topics.ARTICLES)
    duplicates = raw_topic(topics.DUPLICATES)
    dead_letters = raw_topic(topics.DEAD_LETTERS)
    owners = app.Table(
        "content-owners",
        default=None,
        key_type=str,  # the content hash; values are the owning Article as JSON
        partitions=settings.partitions,
    )
    source_topics = {settings.topic(topics.RAW_PAGES), settings.topic(by_hash_name)}
    lag_probe = LagProbe(settings.bootstrap_servers)

    async def send_dead_letter(letter: DeadLetter) -> None:
        log.warning(
            "dead letter: stage=%s reason=%s %s:%s@%s %s",
            letter.stage, letter.reason, letter.original_topic, letter.original_partition,
            letter.original_offset, letter.error_message[:300],
        )  # fmt: skip
        metrics.dead_letter(letter.stage, letter.reason)
        await dead_letters.send(
            key=letter.original_key, value=letter.to_json(), headers=letter.kafka_headers()
        )

    @app.agent(raw_pages, name="analyze-pages", concurrency=1)
    async def analyze_pages(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():
            message = event.message
            metrics.page_in()
            started = time.perf_counter()
            try:
                page = RawPage.from_json(message.value or b"")
            except SchemaError as exc:
                await send_dead_letter(dead_letter(message, "decode", exc.reason, exc))
                metrics.progress()
                continue
            except Exception as exc:  # a decoder bug must not drop the record either
                await send_dead_letter(dead_letter(message, "decode", "internal_error", exc))
                metrics.progress()
                continue
            finally:
                metrics.observe_stage("decode", time.perf_counter() - started)
            try:
                article = analyze(page, max_page_bytes=settings.max_page_bytes, observe=metrics.observe_stage)
            except StageError as exc:
                await send_dead_letter(dead_letter(message, exc.stage, exc.reason, exc, page))
                metrics.progress()
                continue
            metrics.analyzed(article)
            log.debug("analyzed %s -> %s (%s)", page.url, article.article_id, article.language)
            await by_hash.send(
                key=article.content_hash.encode(),
                value=article.to_json(),
                headers=message_headers("article", article.page_id),
            )
            metrics.progress()

    @app.agent(by_hash, name="decide-duplicates", concurrency=1)
    async def decide_duplicates(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():
            message = event.message
            started = time.perf_counter()
            try:
                article = Article.from_json(message.value or b"")
                stored = owners.get(article.content_hash)
                decision = resolve_exact(article, Article.from_dict(stored) if stored else None)
            except Exception as exc:  # a bug or a foreign record on the internal topic
                await send_dead_letter(dead_letter(message, "dedupe", "internal_error", exc))
                metrics.progress()
                continue
            if decision.owner is article:
                owners[article.content_hash] = article.to_dict()
            metrics.observe_stage("dedupe", time.perf_counter() - started)
            if decision.corrected is not None:
                # A later document had taken the hash: it becomes a duplicate of this one.
                metrics.corrections.inc()
                await publish(decision.corrected)
                await articles.send(
                    key=decision.corrected.article_id.encode(),
                    value=None,
                    headers=message_headers("article", decision.corrected.page_id),
                )
            await publish(decision.article)
            metrics.progress()

    async def publish(article: Article) -> None:
        target = articles if article.duplicate_of is None else duplicates
        await target.send(
            key=article.article_id.encode(),
            value=article.to_json(),
            headers=message_headers("article", article.page_id),
        )
        metrics.published(article)
        log.debug("published %s to %s", article.article_id, target.get_topic_name())

    @app.timer(interval=settings.lag_interval_seconds)  # type: ignore[misc]
    async def measure_lag() -> None:
        assigned = [tp for tp in app.consumer.assignment() if tp.topic in source_topics]
        try:
            lag = await lag_probe.measure(settings.app_id, assigned)
            metrics.set_lag({(tp.topic, tp.partition): value for tp, value in lag.items()})
        except Exception as exc:  # the broker may be briefly away; the next tick retries
            log.warning("could not measure consumer lag: %s", exc)

    @app.on_rebalance_complete.connect  # type: ignore[arg-type]  # mode types the sender generically
    async def count_rebalance(sender: Any, *args: Any, signal: Any, **kwargs: Any) -> None:
        metrics.rebalances.inc()

    def is_ready() -> bool:
        recovery: Any = getattr(app.tables, "recovery", None)
        ready = recovery is not None and recovery.completed.is_set() and not app.rebalancing
        metrics.ready.set(1 if ready else 0)
        return bool(ready)

    @app.page("/metrics")
    async def metrics_page(web: Any, request: Any) -> Any:
        is_ready()
        return web.bytes(metrics.exposition(), content_type="text/plain; version=0.0.4")

    @app.page("/health/live")
    async def liveness(web: Any, request: Any) -> Any:
        return _json_response(web, metrics.is_live())

    @app.page("/health/ready")
    async def readiness(web: Any, request: Any) -> Any:
        return _json_response(web, is_ready(), assigned=len(app.consumer.assignment()))

    @app.on_before_shutdown.connect  # type: ignore[arg-type]
    async def close_probe(sender: Any, *args: Any, signal: Any, **kwargs: Any) -> None:
        await lag_probe.close()

    return app
