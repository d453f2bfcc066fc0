"""The streaming shell: the Faust app, its topics, and the agents wired to the pure core.

Four agents, each with one event in flight (``concurrency=1``: with more, faust-streaming
can commit past an event still being processed and lose it on restart, issue #606):

* ``analyze-pages`` reads ``raw-pages`` (key: URL), decodes the RawPage, runs
  :func:`agents.pipeline.analyze` and sends the document with its shingles and LSH band
  keys to the internal ``documents`` topic (key: article_id);
* ``decide-documents`` is the per-document join (:mod:`agents.dedupe.clusters`): it reads
  ``documents``, ``answers`` and ``verify`` (key: article_id), keeps each document's
  :class:`Pending` in a table and publishes to ``articles`` or ``duplicates`` once decided;
  when an earlier document arrives late, the later copy is corrected (re-published on
  ``duplicates``, tombstoned on ``articles``);
* ``lsh-buckets`` reads ``bands`` and keeps each bucket's earliest documents: a document asks
  once per partition, for all its band keys that live there, and gets one answer;
* ``content-owners`` reads ``dedupe-by-hash`` (key: content hash) and keeps its owner.

Every table lives in RocksDB with a changelog topic; a timer sends sweep records that free
state past the dedupe horizon (:mod:`streams.state`).

Every failure becomes a record on ``dead-letters`` with the original bytes; an agent never
raises, so Faust never acks-and-drops an event behind our back.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, cast

import faust
import orjson

from agents import StageError
from agents.dedupe import Ref, document_ref
from agents.dedupe.clusters import (
    Decision,
    Pending,
    answer_name,
    band_number,
    buckets_answer,
    event_time,
    owner_answer,
    ref,
)
from agents.dedupe.near import jaccard
from agents.pipeline import analyze, fingerprint
from schemas import Article, DeadLetter, RawPage, SchemaError, Stage, message_headers
from streams import topics
from streams.allocator import malloc_usage
from streams.config import Settings
from streams.connection import faust_credentials
from streams.delivery import HOLE_PATIENCE_SECONDS, DeliveryTransport, GaplessConsumer
from streams.lag import LagProbe
from streams.metrics import PipelineMetrics
from streams.state import SWEEP_MAX_LAG, Renew, renew_bucket, renew_document, renew_owners, sweep_step
from streams.stores import STORE_SCHEME, store_memory, table_store_options

log = logging.getLogger(__name__)


class KhabarApp(faust.App):
    def _new_transport(self) -> DeliveryTransport:
        return DeliveryTransport(self.conf.broker_consumer, self)

    def _new_producer_transport(self) -> DeliveryTransport:
        return DeliveryTransport(self.conf.broker_producer, self)


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
        broker_credentials=faust_credentials(settings),
        store=f"{STORE_SCHEME}://",
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
        # On a rebalance or a stop, finish the events in flight before the partitions go (and
        # their offsets are committed): without it, an event interrupted by the stop is acked
        # and committed with its table writes or messages undone (a band answer lost, its
        # document never decided: seen in the rebalance fault test).
        stream_wait_empty=True,
        consumer_group_instance_id=settings.group_instance_id or None,
    )

    def raw_topic(name: str, **options: Any) -> faust.TopicT:
        return app.topic(
            settings.topic(name), key_type=bytes, value_type=bytes, key_serializer="raw",
            value_serializer="raw", **options,
        )  # fmt: skip

    raw_pages = raw_topic(topics.RAW_PAGES)
    articles = raw_topic(topics.ARTICLES)
    duplicates = raw_topic(topics.DUPLICATES)
    dead_letters = raw_topic(topics.DEAD_LETTERS)

    def internal_topic(name: str) -> faust.TopicT:
        return app.topic(
            topics.internal_topic(settings, name), key_type=bytes, value_type=bytes, key_serializer="raw",
            value_serializer="raw", internal=True, partitions=settings.partitions,
        )  # fmt: skip

    documents = internal_topic(topics.DOCUMENTS)
    answers = internal_topic(topics.ANSWERS)
    verify = internal_topic(topics.VERIFY)
    bands_topic = internal_topic(topics.BANDS)
    by_hash = internal_topic(topics.DEDUPE_BY_HASH)
    per_document = app.topic(
        *(t.get_topic_name() for t in (documents, answers, verify)),
        key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw",
        internal=True, partitions=settings.partitions,
    )  # fmt: skip

    def table(name: str, help_: str) -> Any:
        return app.Table(
            name, default=None, key_type=str, partitions=settings.partitions, help=help_,
            options=table_store_options(settings.store_memory_mb),
        )  # fmt: skip

    # A document and its shingles are written once; the small join state on every answer.
    document_table = table(topics.TABLE_DOCUMENTS, "article_id -> the article and its shingles")
    pending_table = table(topics.TABLE_PENDING, "article_id -> Pending (the join state and the decision)")
    bucket_table = table(topics.TABLE_BUCKETS, "band key -> earliest documents [[time, id], ...]")
    owner_table = table(topics.TABLE_OWNERS, "content hash -> its owner, latest copy, displaced owner")
    # ensure_topics creates every source topic and changelog with the same partition count
    # before a worker starts. Faust re-checks that against a consumer metadata snapshot,
    # which right after a rebalance can list a changelog with no partitions (seen with two
    # workers: "changelog has 0 partitions") and then rejects every event: skip that check.
    for table_, source in (
        (document_table, per_document),
        (pending_table, per_document),
        (bucket_table, bands_topic),
        (owner_table, by_hash),
    ):
        table_._verified_source_topics_for_partitions.update(source.topics)
    source_topics = {settings.topic(topics.RAW_PAGES)} | {
        t.get_topic_name() for t in (documents, answers, verify, bands_topic, by_hash)
    }
    lag_probe = LagProbe(settings)
    horizon = settings.horizon
    # The newest event time seen by each (table, partition) this worker owns (for documents,
    # the newest decided one): sweeps free what is older than that minus the horizon and the
    # allowed lateness, and only while the worker is caught up on the internal topics, so
    # the documents still in flight are never far behind in event time (a replay of months
    # of pages frees its state once it has caught up).
    newest: dict[tuple[str, int], str] = {}
    internal_lag: list[int | None] = [None]  # records behind on the internal topics, last measured
    state_keys: dict[tuple[str, int], int] = {}  # (table, partition) -> keys kept by the last sweep
    sweeping: dict[tuple[str, int], int] = {}  # the same, counted so far by a sweep in progress

    def saw(table_name: str, message: Any, document: Ref) -> None:
        where = (table_name, message.partition)
        if document[0] > newest.get(where, ""):
            newest[where] = document[0]

    async def internal(
        topic: faust.TopicT, key: str, value: dict[str, Any], trace: str | None, partition: int | None = None
    ) -> None:
        await topic.send(
            key=key.encode(), value=orjson.dumps(value), partition=partition,
            headers=message_headers("article", trace),
        )  # fmt: skip

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
                article = analyze(page, limits=settings.limits, observe=metrics.observe_stage)
                prints = fingerprint(article, limits=settings.limits, observe=metrics.observe_stage)
            except StageError as exc:
                await send_dead_letter(dead_letter(message, exc.stage, exc.reason, exc, page))
                metrics.progress()
                continue
            metrics.analyzed(article)
            log.debug("analyzed %s -> %s (%s)", page.url, article.article_id, article.language)
            await internal(
                documents, article.article_id,
                {"document": article.to_dict(), "shingles": sorted(prints.shingles), "bands": prints.bands},
                article.page_id,
            )  # fmt: skip
            metrics.progress()

    @app.agent(per_document, name="decide-documents", concurrency=1)
    async def decide_documents(stream: faust.StreamT[bytes]) -> None:
        """The per-document join: a document, the answers about it, and verdict requests."""
        async for event in stream.events():
            message = event.message
            started = time.perf_counter()
            try:
                body = orjson.loads(message.value or b"{}")
                article_id = (message.key or b"").decode()
                if "sweep" in body:
                    await sweep(message, body, pending_table, "documents", renew_document, document_table)
                elif message.topic == documents.get_topic_name():
                    await on_document(message, article_id, body)
                elif message.topic == verify.get_topic_name():
                    await on_verify_request(article_id, body)
                else:
                    await on_answer(message, article_id, body)
            except Exception as exc:  # a bug or a foreign record on an internal topic
                await send_dead_letter(dead_letter(message, "dedupe", "internal_error", exc))
            metrics.observe_stage("dedupe", time.perf_counter() - started)
            metrics.progress()

    async def on_document(message: Any, article_id: str, body: dict[str, Any]) -> None:
        article = Article.from_dict(body["document"])
        me = document_ref(article.article_id, article.fetched_at)
        stored = pending_table.get(article_id)
        state = Pending.from_dict(stored) if stored else None
        if state is not None and state.content_hash == article.content_hash and state.decided is not None:
            # A re-crawl or replay of unchanged content: the same record again, never a self-duplicate.
            saw("documents", message, me)
            await publish(with_decision(stored_document(article_id), state.decided))
            return
        if state is None or state.content_hash != article.content_hash or state.me != me:
            state = Pending(me=me, content_hash=article.content_hash)
        document_table[article_id] = {"document": body["document"], "shingles": body["shingles"]}
        save_pending(article_id, state, stored)
        # Ask every band bucket and the content-hash owner (again, if this is a redelivery): one
        # question per partition of the bucket table, with the band keys that live there.
        by_partition: dict[int, list[str]] = {}
        for band in body["bands"]:
            by_partition.setdefault(topics.key_partition(band.encode(), settings.partitions), []).append(band)
        for partition, bands in sorted(by_partition.items()):
            question = {"ref": list(me), "bands": bands}
            await internal(bands_topic, article_id, question, article.page_id, partition=partition)
        await internal(by_hash, article.content_hash, {"ref": list(me)}, article.page_id)

    def stored_document(article_id: str) -> Article:
        return Article.from_dict(document_table[article_id]["document"])

    async def on_answer(message: Any, article_id: str, body: dict[str, Any]) -> None:
        stored = pending_table.get(article_id)
        if stored is None:
            # Expired past the horizon; anything else would lose the document: say so.
            log.warning("answer for %s, which has no pending state: %s", article_id, answer_name(body))
            return
        state = Pending.from_dict(stored)
        if "for" in body and ref(body["for"]) != state.me:
            # An answer to an earlier version of this article (its URL was crawled again with new
            # content while the old one was in flight): the new version asked its own questions.
            return
        decided_before = state.decided is not None
        if "bands" in body or "band" in body:  # "band": one band's answer, from an earlier version
            bands = [int(band) for band in body["bands"]] if "bands" in body else [int(body["band"])]
            ask, tell = state.bands_answered_with(
                bands, [ref(c) for c in body["earlier"]], [ref(c) for c in body["later"]]
            )
            # Ask the candidates; tell the later ones (this may be the earlier one of a later canonical).
            await ask_verdicts([*ask, *tell], state)
        elif "owner" in body:
            state.owner_answered(ref(body["owner"]) if body["owner"] else None)
        elif "verdict" in body:
            state.verdict(body["verdict"], float(body["jaccard"]), ref(body["canonical"]))
        elif "correct" in body:
            await correct(state, ref(body["correct"]), float(body["jaccard"]), body["kind"])
        if state.decided is None and state.complete:
            state.decided, state.decided_by = state.decision(), answer_name(body)
            await publish(with_decision(stored_document(article_id), state.decided))
            saw("documents", message, state.me)
        elif decided_before and state.decided is not None and state.decided_by == answer_name(body):
            # The answer that completed the decision, again: redelivered after a crash that kept
            # the decision in the table but lost its publication. Publish it again.
            await publish(with_decision(stored_document(article_id), state.decided))
        save_pending(article_id, state, stored)

    def save_pending(article_id: str, state: Pending, stored: dict[str, Any] | None) -> None:
        """Write the join state unless it equals the stored one (a repeated message that changed
        nothing): no RocksDB write and no changelog record for it."""
        if stored is None or state != Pending.from_dict(stored):
            pending_table[article_id] = state.to_dict()

    async def ask_verdicts(candidates: list[Ref], state: Pending) -> None:
        """Send the document's shingles to each candidate, which answers with the Jaccard."""
        if not candidates:
            return
        stored = document_table[state.me[1]]
        request = orjson.dumps({"from": list(state.me), "shingles": stored["shingles"]})
        headers = message_headers("article", stored["document"]["page_id"])
        for candidate in candidates:
            await verify.send(key=candidate[1].encode(), value=request, headers=headers)

    async def on_verify_request(article_id: str, body: dict[str, Any]) -> None:
        """Another document asks this one how similar they are.

        A later document asks its earlier candidate for a verdict (it waits for it); an
        earlier document that arrived late tells a later one to check whether to re-point.
        """
        asking = ref(body["from"])
        stored = pending_table.get(article_id)
        state = Pending.from_dict(stored) if stored else None
        similarity = jaccard(document_table[article_id]["shingles"], body["shingles"]) if state else 0.0
        if state is None or asking > state.me:
            canonical = (
                (state.decided.canonical if state.decided else state.me) if state else ("", article_id)
            )
            verdict = {"verdict": article_id, "jaccard": similarity, "canonical": list(canonical)}
            verdict["for"] = list(asking)
            await internal(answers, asking[1], verdict, None)
        else:
            await correct(state, asking, similarity, "near")
            save_pending(article_id, state, stored)

    async def correct(state: Pending, earlier: Ref, similarity: float, kind: str) -> None:
        """An earlier document arrived late and matches: remember it, re-publish if decided.

        A repeated correction (redelivered after a crash) publishes again, tombstone included:
        the table may have kept the correction while its publication was lost.
        """
        was_canonical = state.decided is not None and state.decided.duplicate_of is None
        if not state.earlier_arrived(earlier, similarity, kind) or state.decided is None:
            return
        metrics.corrections.inc()
        document = stored_document(state.me[1])
        await publish(with_decision(document, state.decided))
        if was_canonical or state.decided.duplicate_of is not None:
            await articles.send(
                key=document.article_id.encode(),
                value=None,
                headers=message_headers("article", document.page_id),
            )

    @app.agent(bands_topic, name="lsh-buckets", concurrency=1)
    async def lsh_buckets(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():
            message = event.message
            try:
                body = orjson.loads(message.value or b"{}")
                if "sweep" in body:
                    await sweep(message, body, bucket_table, "buckets", renew_bucket)
                    continue
                me = ref(body["ref"])
                saw("buckets", message, me)
                # The band keys of this partition; an earlier version sent one per record, as its key.
                band_keys = body["bands"] if "bands" in body else [(message.key or b"").decode()]
                buckets = {key: [ref(e) for e in bucket_table.get(key) or []] for key in band_keys}
                answer = buckets_answer(buckets, me, horizon)
                for key, bucket in answer.updated.items():
                    bucket_table[key] = [list(e) for e in bucket]
                reply: dict[str, Any] = {
                    "earlier": [list(e) for e in answer.earlier], "later": [list(e) for e in answer.later],
                    "for": list(me),
                }  # fmt: skip
                if "bands" in body:
                    reply["bands"] = answer.bands
                else:  # an earlier version's question gets the answer that version reads
                    reply["band"] = band_number(band_keys[0])
                await internal(answers, me[1], reply, None)
            except Exception as exc:
                await send_dead_letter(dead_letter(message, "dedupe", "internal_error", exc))
            metrics.progress()

    @app.agent(by_hash, name="content-owners", concurrency=1)
    async def content_owners(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():
            message = event.message
            try:
                content = (message.key or b"").decode()
                body = orjson.loads(message.value or b"{}")
                if "sweep" in body:
                    await sweep(message, body, owner_table, "owners", renew_owners)
                    continue
                me = ref(body["ref"])
                saw("owners", message, me)
                stored = owner_table.get(content)
                answer = owner_answer(stored, me, horizon)
                if answer.stored() != stored:
                    owner_table[content] = answer.stored()
                await internal(
                    answers, me[1],
                    {"owner": list(answer.earlier) if answer.earlier else None, "for": list(me)}, None,
                )  # fmt: skip
                if answer.correct is not None:
                    # A later owner (or, on a repeat, the one displaced before) becomes this copy's
                    # exact duplicate.
                    await internal(
                        answers,
                        answer.correct[1],
                        {"correct": list(me), "jaccard": 1.0, "kind": "exact", "for": list(answer.correct)},
                        None,
                    )
            except Exception as exc:
                await send_dead_letter(dead_letter(message, "dedupe", "internal_error", exc))
            metrics.progress()

    # -- freeing state past the horizon (streams/state.py) ---------------------------------
    async def sweep(
        message: Any, body: dict[str, Any], table_: Any, name: str, renew: Renew, companion: Any = None
    ) -> None:
        """One step of freeing ``table_``'s partition (and the same keys of ``companion``)."""
        seen = newest.get((name, message.partition))
        if seen is None:
            return  # nothing seen on this partition yet: nothing is known to be old
        cutoff = horizon.cutoff(event_time((seen, "")))
        after = bytes.fromhex(body["sweep"]) if body["sweep"] else None
        step = sweep_step(
            table_, message.partition, after, lambda value: renew(value, horizon, cutoff), companion
        )
        metrics.dedupe_expired.labels(name).inc(step.expired)
        where = (name, message.partition)
        counted = (sweeping.pop(where, 0) if after is not None else 0) + step.scanned - step.expired
        if step.cursor is not None:
            sweeping[where] = counted
            await message_to(message, {"sweep": step.cursor.hex()})
            return
        state_keys[where] = counted
        owned = {tp.partition for tp in app.consumer.assignment() if tp.topic == message.topic}
        metrics.dedupe_state_keys.labels(name).set(
            sum(count for (table_name, p), count in state_keys.items() if table_name == name and p in owned)
        )
        log.debug("swept %s partition %s: %s keys kept", name, message.partition, counted)

    async def message_to(message: Any, value: dict[str, Any]) -> None:
        """A record on the same topic and partition as ``message`` (a sweep's next step)."""
        await app.topic(message.topic, key_serializer="raw", value_serializer="raw").send(
            key=b"", value=orjson.dumps(value), partition=message.partition
        )

    sweep_topics = {
        documents.get_topic_name(): "documents", bands_topic.get_topic_name(): "buckets",
        by_hash.get_topic_name(): "owners",
    }  # fmt: skip
    internal_topics = {t.get_topic_name() for t in (documents, answers, verify, bands_topic, by_hash)}

    @app.timer(interval=settings.dedupe_sweep_seconds)  # type: ignore[misc]
    async def start_sweeps() -> None:
        if internal_lag[0] is None or internal_lag[0] > SWEEP_MAX_LAG:
            log.info("dedupe state sweep postponed: %s records behind on internal topics", internal_lag[0])
            return
        for tp in app.consumer.assignment():
            if tp.topic in sweep_topics and (sweep_topics[tp.topic], tp.partition) in newest:
                await app.topic(tp.topic, key_serializer="raw", value_serializer="raw").send(
                    key=b"", value=orjson.dumps({"sweep": ""}), partition=tp.partition
                )

    def with_decision(article: Article, decision: Decision) -> Article:
        return replace(
            article,
            duplicate_of=decision.duplicate_of,
            duplicate_kind=decision.kind,  # type: ignore[arg-type]
            similarity=decision.similarity,
        )

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
            internal_lag[0] = sum(value for tp, value in lag.items() if tp.topic in internal_topics)
        except Exception as exc:  # the broker may be briefly away; the next tick retries
            log.warning("could not measure consumer lag: %s", exc)

    @app.timer(interval=HOLE_PATIENCE_SECONDS / 2)  # type: ignore[misc]
    async def refetch_dropped_records() -> None:
        """Fetch again what the consumer dropped unprocessed around a rebalance (streams/delivery.py)."""
        if app.rebalancing:
            return
        for hole in await cast(GaplessConsumer, app.consumer).refetch_holes():
            log.warning(
                "%s[%s] offsets %s to %s were dropped unprocessed by the consumer; fetching them again (%d)",
                hole.tp.topic, hole.tp.partition, hole.start, hole.end - 1, hole.refetches,
            )  # fmt: skip
            metrics.refetches.inc()

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
        dbs = [db for table_ in app.tables.values() for db in table_.data.open_dbs()]
        metrics.set_memory(store_memory(dbs) | malloc_usage())
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
