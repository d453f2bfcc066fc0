"""``khabar audit``: nothing lost, nothing doubled.

The accounting invariant: every record accepted on ``raw-pages`` ends as exactly one thing
in the final state of the outputs — a live article, a duplicate, or a dead letter.

* A raw record that decodes is a page, named by its ``page_id`` (the same page fed twice is
  one page). One that does not decode is named by its place, ``partition/offset``, and is
  accounted for by the dead letter whose original topic, partition and offset point to it.
* The final state is read per ``article_id`` (``articles`` and ``duplicates`` are keyed and
  compacted): an article is *live* when its last record on ``articles`` is not a tombstone,
  and a *duplicate* when its last record on ``duplicates`` is a document. Repeats that leave
  the final state as it was are legitimate: a redelivered or replayed page re-publishes the
  same record, a correction tombstones a canonical on ``articles`` and re-publishes it on
  ``duplicates``, and a re-crawl of a URL re-publishes its ``article_id`` with a new page.
* A page counts as published when an output record carries its ``page_id``, or when the
  final record of its ``article_id`` comes from a page of the same URL accepted after it
  (compaction may have removed its own record; its version is superseded either way).
* **lost**: a page with no outcome (never published nor dead-lettered, or published and then
  tombstoned with no duplicate record). **doubled**: a page with two different outcomes —
  live on ``articles`` and on ``duplicates``, a dead letter and a publication, or records
  under an ``article_id`` other than its URL's.

Everything is read with ``isolation_level=read_committed`` up to the end (the last stable
offset) found when the audit starts.
"""

from __future__ import annotations

import asyncio
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from tqdm import tqdm

from agents.dedupe import article_id_for
from schemas import RawPage
from streams.config import Settings
from streams.connection import client_options
from streams.lag import LagProbe
from streams.topics import ARTICLES, DEAD_LETTERS, DUPLICATES, INTERNAL_TOPICS, RAW_PAGES, internal_topic

ARTICLE = "article"
DUPLICATE = "duplicate"
DEAD_LETTER = "dead letter"
READ_TIMEOUT_SECONDS = 300.0


class AuditError(RuntimeError):
    """The topics could not be read as asked."""


@dataclass(frozen=True, slots=True)
class Record:
    """One Kafka record, as much of it as the audit needs."""

    topic: str
    partition: int
    offset: int
    timestamp: int
    key: bytes | None
    value: bytes | None


@dataclass
class _Page:
    article_id: str | None  # None: the record is not a RawPage
    place: tuple[int, int, int]  # (timestamp, partition, offset) of its last acceptance


@dataclass
class Audit:
    """The outcome of every accepted raw record, by name (page_id or partition/offset)."""

    raw_records: int = 0
    pages: int = 0
    not_raw_pages: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    lost: dict[str, str] = field(default_factory=dict)  # name -> what is known about it
    doubled: dict[str, list[str]] = field(default_factory=dict)  # name -> its outcomes
    superseded: int = 0
    republished: int = 0
    corrections: int = 0
    repeated_dead_letters: int = 0
    foreign_dead_letters: int = 0  # from internal topics or outside the audited range
    final: dict[str, str | None] = field(default_factory=dict)  # article_id -> duplicate_of (None: live)
    in_flight: int | None = None  # the group's lag when the audit ran, if asked

    @property
    def ok(self) -> bool:
        return not self.lost and not self.doubled

    def table(self, limit: int = 20) -> str:
        rows = [
            ("raw-pages records audited", self.raw_records),
            ("  pages (distinct page_id)", self.pages),
            ("  records that are not a RawPage", self.not_raw_pages),
            ("each ended as:", ""),
            ("  a live article", self.outcomes[ARTICLE]),
            ("  a duplicate", self.outcomes[DUPLICATE]),
            ("  a dead letter", self.outcomes[DEAD_LETTER]),
            ("  nothing: LOST", len(self.lost)),
            ("  two things: DOUBLED", len(self.doubled)),
            ("legitimate repeats:", ""),
            ("  records re-published unchanged", self.republished),
            ("  corrections (tombstones on articles)", self.corrections),
            ("  pages superseded by a later crawl", self.superseded),
            ("  dead letters repeated", self.repeated_dead_letters),
            ("dead letters of other records", self.foreign_dead_letters),
        ]
        if self.in_flight is not None:
            rows.append(("records still in flight (group lag)", self.in_flight))
        width = max(len(name) for name, _ in rows)
        lines = [f"{name.ljust(width)}  {value:>8}" for name, value in rows]
        for name, about in list(self.lost.items())[:limit]:
            lines.append(f"lost     {name}  {about}")
        for name, outcomes in list(self.doubled.items())[:limit]:
            lines.append(f"doubled  {name}  {' + '.join(outcomes)}")
        hidden = max(0, len(self.lost) - limit) + max(0, len(self.doubled) - limit)
        if hidden:
            lines.append(f"... and {hidden} more")
        return "\n".join(lines)


def _document(record: Record) -> dict[str, Any] | None:
    if record.value is None:
        return None
    try:
        document = orjson.loads(record.value)
    except orjson.JSONDecodeError:
        return None
    return document if isinstance(document, dict) else None


def _accepted(raw: Iterable[Record]) -> tuple[dict[str, _Page], dict[tuple[int, int], str], int]:
    """Name every raw record: its page_id, or its place when it is not a RawPage."""
    pages: dict[str, _Page] = {}
    names: dict[tuple[int, int], str] = {}
    records = 0
    for record in raw:
        records += 1
        place = (record.timestamp, record.partition, record.offset)
        try:
            page = RawPage.from_json(record.value or b"")
        except Exception:  # the worker dead-letters whatever does not decode, for any reason
            name, article_id = f"{record.partition}/{record.offset}", None
        else:
            name, article_id = page.page_id, article_id_for(page.url)
        known = pages.get(name)
        if known is None or place > known.place:
            pages[name] = _Page(article_id, place)
        names[(record.partition, record.offset)] = name
    return pages, names, records


def _last_by_key(records: Iterable[Record]) -> tuple[dict[str, Record], int]:
    """The last record of each key (records of a key share a partition), and how many repeats."""
    last: dict[str, Record] = {}
    seen: set[tuple[str, bytes]] = set()
    repeats = 0
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        key = (record.key or b"").decode(errors="replace")
        last[key] = record
        if record.value is not None:
            if (key, record.value) in seen:
                repeats += 1
            seen.add((key, record.value))
    return last, repeats


def account(
    raw_topic: str,
    raw: Iterable[Record],
    articles: Iterable[Record],
    duplicates: Iterable[Record],
    dead_letters: Iterable[Record],
) -> Audit:
    """Check the invariant on records already read (pure; see the module docstring)."""
    audit = Audit()
    pages, names, audit.raw_records = _accepted(raw)
    audit.pages = sum(1 for page in pages.values() if page.article_id is not None)
    audit.not_raw_pages = len(pages) - audit.pages

    articles, duplicates = list(articles), list(duplicates)
    last_article, republished_articles = _last_by_key(articles)
    last_duplicate, republished_duplicates = _last_by_key(duplicates)
    audit.republished = republished_articles + republished_duplicates
    audit.corrections = sum(1 for r in articles if r.value is None)
    live = {aid: doc for aid, r in last_article.items() if (doc := _document(r)) is not None}
    copies = {aid: doc for aid, r in last_duplicate.items() if (doc := _document(r)) is not None}
    audit.final = dict.fromkeys(live, None)
    audit.final.update({aid: str(doc.get("duplicate_of")) for aid, doc in copies.items()})

    published_as: dict[str, set[str]] = {}
    for record in (*articles, *duplicates):
        document = _document(record)
        if document is not None and document.get("page_id"):
            published_as.setdefault(str(document["page_id"]), set()).add(str(document.get("article_id")))

    letters: Counter[str] = Counter()
    for record in dead_letters:
        letter = _document(record) or {}
        name = None
        if letter.get("original_topic") == raw_topic:
            name = names.get(
                (int(letter.get("original_partition", -1)), int(letter.get("original_offset", -1)))
            )
        if name is None and letter.get("page_id") in pages:
            name = str(letter["page_id"])
        if name is None:
            audit.foreign_dead_letters += 1
        else:
            letters[name] += 1
    audit.repeated_dead_letters = sum(count - 1 for count in letters.values())

    def final_page(article_id: str) -> str | None:
        document = live.get(article_id) or copies.get(article_id)
        return str(document.get("page_id")) if document else None

    for name, page in pages.items():
        outcomes: list[str] = []
        if letters[name]:
            outcomes.append(DEAD_LETTER)
        aid = page.article_id
        if aid is not None:
            outcomes += [f"published as {other}" for other in sorted(published_as.get(name, set()) - {aid})]
            published = aid in published_as.get(name, set())
            newer = pages.get(final_page(aid) or "")
            superseded = (
                not published and not letters[name] and newer is not None and newer.place > page.place
            )
            audit.superseded += int(superseded)
            if published or superseded:
                outcomes += [ARTICLE] * (aid in live) + [DUPLICATE] * (aid in copies)
                if aid not in live and aid not in copies:
                    audit.lost[name] = f"article {aid} was tombstoned and is on neither output"
                    continue
        if not outcomes:
            audit.lost[name] = f"article {aid}" if aid else "not a RawPage, and no dead letter"
        elif len(outcomes) > 1:
            audit.doubled[name] = outcomes
        else:
            audit.outcomes[outcomes[0]] += 1
    return audit


async def _partitions(admin: AIOKafkaAdminClient, names: list[str]) -> list[TopicPartition]:
    described = await admin.describe_topics(names)
    found = []
    for topic in described:
        if topic["error_code"] != 0 or not topic["partitions"]:
            raise AuditError(f"topic {topic['topic']} does not exist (error {topic['error_code']})")
        found += [TopicPartition(topic["topic"], p["partition"]) for p in topic["partitions"]]
    return sorted(found)


async def read(
    settings: Settings,
    *,
    since: datetime | None = None,
    partitions: list[int] | None = None,
    progress: bool = False,
    timeout: float = READ_TIMEOUT_SECONDS,
) -> dict[str, list[Record]]:
    """Read ``raw-pages`` (from ``since``, only ``partitions`` if given) and the three outputs
    (whole), committed records only, up to their ends as of now. Keys: the short topic names."""
    short = {settings.topic(name): name for name in (RAW_PAGES, ARTICLES, DUPLICATES, DEAD_LETTERS)}
    admin = AIOKafkaAdminClient(**client_options(settings))
    await admin.start()
    try:
        assigned = await _partitions(admin, list(short))
    finally:
        await admin.close()
    raw_topic = settings.topic(RAW_PAGES)
    if partitions is not None:
        known = {tp.partition for tp in assigned if tp.topic == raw_topic}
        if set(partitions) - known:
            raise AuditError(f"{raw_topic} has no partition {sorted(set(partitions) - known)}")
        assigned = [tp for tp in assigned if tp.topic != raw_topic or tp.partition in partitions]
    consumer = AIOKafkaConsumer(
        **client_options(settings), enable_auto_commit=False,
        isolation_level="read_committed", max_partition_fetch_bytes=4 * 1_048_576,
    )  # fmt: skip
    await consumer.start()
    records: dict[str, list[Record]] = {name: [] for name in short.values()}
    try:
        consumer.assign(assigned)
        starts: dict[TopicPartition, int] = await consumer.beginning_offsets(assigned)
        ends: dict[TopicPartition, int] = await consumer.end_offsets(assigned)
        if since is not None:
            raw = [tp for tp in assigned if tp.topic == raw_topic]
            found = await consumer.offsets_for_times(dict.fromkeys(raw, int(since.timestamp() * 1000)))
            starts.update({tp: found[tp].offset if found[tp] is not None else ends[tp] for tp in raw})
        for tp in assigned:
            consumer.seek(tp, starts[tp])
        total = sum(max(0, ends[tp] - starts[tp]) for tp in assigned)
        bar = tqdm(
            total=total, unit=" records", desc="auditing", disable=not progress, file=sys.stderr, delay=1
        )
        positions = dict(starts)
        left = {tp for tp in assigned if ends[tp] > starts[tp]}
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            while left:
                if loop.time() > deadline:
                    raise AuditError(f"could not read to the end of {sorted(left)} within {timeout:.0f}s")
                batches = await consumer.getmany(*left, timeout_ms=500)
                for tp, batch in batches.items():
                    records[short[tp.topic]] += [
                        Record(tp.topic, tp.partition, r.offset, r.timestamp, r.key, r.value)
                        for r in batch
                        if r.offset < ends[tp]
                    ]
                for tp in list(left):  # read_committed skips aborted and control records
                    positions[tp] = min(await consumer.position(tp), ends[tp])
                    if positions[tp] >= ends[tp]:
                        left.discard(tp)
                bar.update(sum(positions[tp] - starts[tp] for tp in assigned) - bar.n)
        finally:
            bar.close()
    finally:
        await consumer.stop()
    return records


async def in_flight(settings: Settings) -> int:
    """Records of raw-pages and the internal topics the pipeline's group has not committed yet."""
    return sum((await lag_by_partition(settings)).values())


async def lag_by_partition(settings: Settings) -> dict[TopicPartition, int]:
    """:func:`in_flight` for each partition of raw-pages and the internal topics."""
    names = [settings.topic(RAW_PAGES)] + [internal_topic(settings, name) for name in INTERNAL_TOPICS]
    admin = AIOKafkaAdminClient(**client_options(settings))
    await admin.start()
    try:
        partitions = await _partitions(admin, names)
    finally:
        await admin.close()
    probe = LagProbe(settings)
    try:
        return await probe.measure(settings.app_id, partitions)
    finally:
        await probe.close()


async def audit(
    settings: Settings,
    *,
    since: datetime | None = None,
    partitions: list[int] | None = None,
    progress: bool = False,
) -> Audit:
    """Read the pipeline's topics and check the invariant."""
    records = await read(settings, since=since, partitions=partitions, progress=progress)
    return account(
        settings.topic(RAW_PAGES),
        records[RAW_PAGES],
        records[ARTICLES],
        records[DUPLICATES],
        records[DEAD_LETTERS],
    )
