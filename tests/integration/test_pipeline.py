"""The walking skeleton end to end: raw pages through a real Kafka and a real worker process."""

from __future__ import annotations

import asyncio
import base64
import random
import shutil
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord

from schemas import HEADER_SCHEMA, HEADER_SCHEMA_VERSION, SCHEMA_VERSION, RawPage, validate
from streams.audit import in_flight
from streams.connection import client_options
from streams.feed import feed
from streams.process import process
from streams.sources import read_pages
from streams.topics import ANSWERS, BANDS, internal_topic
from tests.integration.conftest import WORDS, Pipeline, documents, new_pipeline, unique_page

pytestmark = pytest.mark.integration

SCHEMA_OF_TOPIC = {"articles": "article", "duplicates": "article", "dead-letters": "dead_letter"}


def assert_contract(pipeline: Pipeline, records: list[ConsumerRecord[bytes, bytes]]) -> None:
    """Every output validates against its JSON Schema and carries the schema headers."""
    for record in records:
        if record.value is None:  # a tombstone: a corrected copy left `articles`
            continue
        short = record.topic.removeprefix(pipeline.settings.topic_prefix)
        schema = SCHEMA_OF_TOPIC[short]
        validate(schema, orjson.loads(record.value or b""))  # type: ignore[arg-type]
        headers = dict(record.headers)
        assert headers[HEADER_SCHEMA] == schema.encode()
        assert headers[HEADER_SCHEMA_VERSION] == SCHEMA_VERSION.encode()


async def test_malformed_messages_are_dead_lettered_and_the_partition_keeps_flowing(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    marker = uuid.uuid4().hex
    good = RawPage.from_dict(
        {"url": f"https://example.org/{marker}", "fetched_at": datetime.now(UTC).isoformat(),
         "body_text": unique_page(tmp_path, "good.txt", marker).read_text("utf-8")}
    )  # fmt: skip
    empty = RawPage(url=f"https://example.org/empty-{marker}", fetched_at=datetime.now(UTC), text="")
    bad_inputs = {
        "not_json": b"\x00\xffnot json at all",
        "schema": orjson.dumps({"url": 42, "body_text": "x"}),
        "empty_page": empty.to_json(),
    }
    for value in bad_inputs.values():
        await pipeline.produce(value, key=marker.encode(), partition=0)
    await pipeline.produce(good.to_json(), key=marker.encode(), partition=0)

    def done(records: list[ConsumerRecord[bytes, bytes]]) -> bool:
        ours = [r for r in records if r.key == marker.encode() or (r.value and marker.encode() in r.value)]
        return len(ours) >= 4

    records = await pipeline.outputs(done)
    assert_contract(pipeline, records)
    letters = [d for d in documents(records, pipeline.topic("dead-letters"))
               if base64.b64decode(str(d["original_key_b64"])) == marker.encode()]  # fmt: skip
    assert sorted(str(d["reason"]) for d in letters) == sorted(bad_inputs)
    for letter in letters:
        original = base64.b64decode(str(letter["original_value_b64"]))
        assert original == bad_inputs[str(letter["reason"])], "dead letter must carry the original bytes"
        assert letter["original_topic"] == pipeline.topic("raw-pages")
        assert letter["original_partition"] == 0
        assert letter["error_message"]
    dead = [r for r in records if r.topic == pipeline.topic("dead-letters") and r.key == marker.encode()]
    for record in dead:
        headers = dict(record.headers)
        assert headers["__streams.errors.topic"] == pipeline.topic("raw-pages").encode()
        assert headers["__streams.errors.exception"]
    articles = [d for d in documents(records, pipeline.topic("articles")) if d["page_id"] == good.page_id]
    assert len(articles) == 1, "the good page behind three bad ones must still come out"


FORBIDDEN_IN_SEED_TEXT = [
    "أحدث الأخبار",
    "إقرأ أيضاً",
    "اقرأ أيضا",
    "أخبار ذات صلة",
    "الأخبار الأكثر قراءة",
    "اخر الاخبار",
    # teaser-list headlines and dates (001, 003, 004)
    "أنقرة: على المجتمع الدولي التحرك بحزم",
    "04/12/2025",
    "شركة النفط التركية توقع مذكرة تفاهم",
    "05/02/2026",
    "الأمير هاري يدافع عن دور قوات الناتو",
    "بيليه يتصدر قائمة",
    # the other article after "إقرأ أيضاً" (002)
    "الصين تتمسك بـإنفاقها الدفاعي",
    # photo captions (000, 004)
    "Getty Images",
    "رئيس الوزراء الكندي مارك كارني (الفرنسية)",
    "صورة للرئيسين بوتين و أردوغان",
]
SEED_TITLES = {
    "000": "كندا تسعى لتعميق شراكتها مع تركيا وتوسيع التعاون الدفاعي والنووي",
    "001": "البيت الأبيض: إدارة بايدن ترغب بإقامة علاقات بناءة مع تركيا",
    "002": "الدفاع التركية: نسعى للتعاون الدفاعي مع دمشق",
    "003": "خلوصي أكار يعلن عن اجتماعات للوفود الفنية من وزارات دفاع تركيا وروسيا وسوريا قريبًا",
    "004": None,
}
SEED_DATES = {"000": "2026-02-06", "002": "2024-12-26"}


@pytest.fixture(scope="module")
async def seed_articles(pipeline: Pipeline, seeds_dir: Path) -> dict[str, dict[str, object]]:
    """The five shared seed pages fed through Kafka once; their articles by seed number."""
    summary = await feed(read_pages([str(seeds_dir)]), pipeline.settings, progress=False)
    assert summary.published == 5 and not summary.problems
    wanted = set(summary.page_ids)

    def done(records: list[ConsumerRecord[bytes, bytes]]) -> bool:
        seen = {orjson.loads(r.value or b"{}").get("page_id") for r in records}
        return wanted <= seen

    records = await pipeline.outputs(done)
    assert_contract(pipeline, records)
    ours = [d for topic in ("articles", "duplicates", "dead-letters")
            for d in documents(records, pipeline.topic(topic)) if d.get("page_id") in wanted]  # fmt: skip
    assert all(d in documents(records, pipeline.topic("articles")) for d in ours), ours
    return {Path(str(d["url"])).name[:3]: d for d in ours}


async def test_seed_pages_come_out_as_clean_arabic_articles(
    seed_articles: dict[str, dict[str, object]],
) -> None:
    assert sorted(seed_articles) == ["000", "001", "002", "003", "004"]
    for number, article in seed_articles.items():
        assert article["language"] == "ar", number
        assert article["other_language_spans"] == [], number  # their English captions are cut by clean
        assert article["title"] == SEED_TITLES[number], number
        published = article["published_at"]
        expected = SEED_DATES.get(number)
        assert (str(published)[:10] if published else None) == expected, number
        text = str(article["text"])
        assert len(text) > 500, number
        for line in FORBIDDEN_IN_SEED_TEXT:
            assert line not in text, f"{number}: {line!r} leaked into the text"
        assert article["duplicate_of"] is None


async def test_offline_process_gives_the_same_articles_as_the_stream(
    seed_articles: dict[str, dict[str, object]], seeds_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out.jsonl"
    with out.open("wb") as handle:
        summary = process(read_pages([str(seeds_dir)]), handle, progress=False)
    assert summary.articles == 5
    offline = {Path(d["url"]).name[:3]: d for d in map(orjson.loads, out.read_bytes().splitlines())}
    assert offline == seed_articles


async def test_refeeding_is_idempotent_and_a_copy_elsewhere_is_a_duplicate(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    crawl = tmp_path / "crawl"
    crawl.mkdir()
    marker = uuid.uuid4().hex
    unique_page(crawl, "a.txt", marker)
    unique_page(crawl, "b.txt", marker + "-b")
    first = await feed(read_pages([str(crawl)]), pipeline.settings, progress=False)

    def first_out(records: list[ConsumerRecord[bytes, bytes]]) -> bool:
        return set(first.page_ids) <= {orjson.loads(r.value or b"{}").get("page_id") for r in records}

    records = await pipeline.outputs(first_out)
    ids_before = {d["article_id"] for d in documents(records, pipeline.topic("articles"))}

    second = await feed(read_pages([str(crawl)]), pipeline.settings, progress=False)
    assert second.page_ids == first.page_ids  # same URL, fetch time and bytes: same page
    copy_dir = tmp_path / "elsewhere"
    copy_dir.mkdir()
    shutil.copy(crawl / "a.txt", copy_dir / "syndicated-copy.txt")  # fetched later
    third = await feed(read_pages([str(copy_dir)]), pipeline.settings, progress=False)

    def refed_and_copied(records: list[ConsumerRecord[bytes, bytes]]) -> bool:
        outputs = [(r.topic, orjson.loads(r.value or b"{}").get("page_id")) for r in records]
        refed = [p for topic, p in outputs if p in first.page_ids]
        copied = [p for topic, p in outputs if p in third.page_ids]
        return len(refed) >= 2 * len(first.page_ids) and bool(copied)

    records = await pipeline.outputs(refed_and_copied)
    assert_contract(pipeline, records)
    articles = documents(records, pipeline.topic("articles"))
    assert {d["article_id"] for d in articles} == ids_before, "a re-crawl must not create a new article_id"
    duplicates = documents(records, pipeline.topic("duplicates"))
    ours = [d for d in duplicates if d["page_id"] in first.page_ids]
    assert ours == [], "an unchanged re-crawl is the same article, not a duplicate"
    (copy,) = [d for d in duplicates if d["page_id"] in third.page_ids]
    original = next(d for d in articles if str(d["url"]).endswith("/a.txt"))
    assert copy["duplicate_of"] == original["article_id"]
    assert copy["duplicate_kind"] == "exact"
    assert copy["article_id"] != original["article_id"]


def story_text(seed: str) -> str:
    rng = random.Random(seed)
    return "\n\n".join(" ".join(rng.choice(WORDS) for _ in range(40)) + "." for _ in range(4))


async def test_a_new_version_in_flight_decides_on_its_own_answers(pipeline: Pipeline) -> None:
    """Two contents of one URL back to back, the first an exact copy of an earlier page: the
    answers to the first version's questions (\"an earlier page has your text\") must not land
    in the second version's join, which would make the new text a duplicate of a page it
    does not copy."""
    marker = uuid.uuid4().hex
    url = f"https://versions.example/{marker}"
    now = datetime.now(UTC)
    old_text, new_text = story_text(f"{marker}-1"), story_text(f"{marker}-2")
    earlier = RawPage(
        url=f"https://first.example/{marker}", fetched_at=now - timedelta(minutes=5), text=old_text,
        content_type="text/plain",
    )  # fmt: skip
    versions = [
        RawPage(url=url, fetched_at=now + timedelta(seconds=v), text=text, content_type="text/plain")
        for v, text in enumerate((old_text, new_text))
    ]
    copy = RawPage(
        url=f"https://elsewhere.example/{marker}", fetched_at=now + timedelta(seconds=5), text=new_text,
        content_type="text/plain",
    )  # fmt: skip

    def out(wanted: set[str]) -> Callable[[list[ConsumerRecord[bytes, bytes]]], bool]:
        return lambda records: wanted <= {orjson.loads(r.value or b"{}").get("page_id") for r in records}

    await feed([earlier], pipeline.settings, progress=False)
    await pipeline.outputs(out({earlier.page_id}))
    await feed(versions, pipeline.settings, progress=False)  # back to back: both in flight
    await pipeline.outputs(out({versions[1].page_id}))
    await feed([copy], pipeline.settings, progress=False)
    records = await pipeline.outputs(out({copy.page_id}))
    latest: dict[str, dict[str, object]] = {}
    for record in records:
        if record.value and record.topic != pipeline.topic("dead-letters"):
            document = orjson.loads(record.value)
            latest[document["article_id"]] = document
    (article_id,) = {d["article_id"] for d in latest.values() if d["url"] == url}
    assert latest[article_id]["page_id"] == versions[1].page_id
    assert latest[article_id].get("duplicate_of") is None, "the new text copies nothing"
    copied = next(d for d in latest.values() if d["page_id"] == copy.page_id)
    assert (copied["duplicate_of"], copied["duplicate_kind"]) == (article_id, "exact")


async def test_a_one_band_question_of_an_earlier_version_gets_a_one_band_answer(pipeline: Pipeline) -> None:
    """Workers before the batched band questions sent one question per band (key: the band key)
    and read one answer per band; what they left in flight is answered as they read it."""
    band_key = f"07{uuid.uuid4().hex[:16]}"
    first = ["2026-02-06T00:00:00+00:00", uuid.uuid4().hex]
    second = ["2026-02-06T01:00:00+00:00", uuid.uuid4().hex]
    settings = pipeline.settings
    producer = AIOKafkaProducer(**client_options(settings), acks="all")
    await producer.start()
    try:
        for ref in (first, second):
            await producer.send_and_wait(
                internal_topic(settings, BANDS), key=band_key.encode(), value=orjson.dumps({"ref": ref})
            )
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(
        internal_topic(settings, ANSWERS), **client_options(settings), auto_offset_reset="earliest",
        enable_auto_commit=False,
    )  # fmt: skip
    await consumer.start()
    answers: dict[str, object] = {}
    try:
        while len(answers) < 2:
            pipeline.check_workers()
            batches = await consumer.getmany(timeout_ms=30_000)
            assert batches, f"answers so far: {answers}"
            for records in batches.values():
                answers.update(
                    {(r.key or b"").decode(): orjson.loads(r.value or b"{}") for r in records
                     if r.key in (first[1].encode(), second[1].encode())}
                )  # fmt: skip
    finally:
        await consumer.stop()
    assert answers[first[1]] == {"band": 7, "earlier": [], "later": [], "for": first}
    assert answers[second[1]] == {"band": 7, "earlier": [first], "later": [], "for": second}


async def test_a_transactional_crawlers_pages_are_read_committed_and_its_markers_stepped_over(
    kafka: str, tmp_path: Path
) -> None:
    """A crawler writing in transactions leaves a marker after each: an offset with no record.
    The worker reads only committed pages (not those of an aborted transaction) and steps over
    the markers as its fetches show them: its commit reaches the log's end with no hole waited
    out and fetched again."""
    pipeline = await new_pipeline(kafka, tmp_path)
    pipeline.start_worker()
    marker = uuid.uuid4().hex[:8]

    def page(number: int) -> RawPage:
        text = unique_page(tmp_path, f"{number}.txt", f"{marker}-{number}").read_text("utf-8")
        return RawPage(
            url=f"https://crawler.example/{marker}/{number}", fetched_at=datetime.now(UTC), text=text
        )

    committed, aborted = [page(n) for n in range(12)], [page(n) for n in range(12, 15)]
    producer = AIOKafkaProducer(**client_options(pipeline.settings), transactional_id=f"crawler-{marker}")
    await producer.start()
    try:
        for batch, keep in (
            (committed[:4], True),
            (aborted, False),
            (committed[4:8], True),
            (committed[8:], True),
        ):
            await producer.begin_transaction()
            for item in batch:
                await producer.send(pipeline.topic("raw-pages"), item.to_json(), key=item.page_id.encode())
            await (producer.commit_transaction() if keep else producer.abort_transaction())
    finally:
        await producer.stop()
    try:
        wanted = {item.page_id for item in committed}

        def page_ids(records: list[ConsumerRecord[bytes, bytes]]) -> set[str]:
            return {orjson.loads(r.value).get("page_id") for r in records if r.value is not None}

        await pipeline.outputs(lambda records: wanted <= page_ids(records))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 60
        while (left := await in_flight(pipeline.settings)) > 0:
            assert loop.time() < deadline, f"{left} records still uncommitted:\n{pipeline.worker_log()}"
            await asyncio.sleep(0.5)  # the next look at the group's lag; bounded by the deadline
        outputs = await pipeline.outputs(lambda records: wanted <= page_ids(records))
    finally:
        pipeline.stop_all()
    assert not page_ids(outputs) & {item.page_id for item in aborted}
    assert "fetching them again" not in pipeline.log.read_text(errors="replace")
