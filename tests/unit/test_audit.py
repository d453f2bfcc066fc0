"""The accounting invariant on records already read: lost and doubled pages, legitimate repeats."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import orjson

from agents.dedupe import article_id_for
from schemas import RawPage
from streams.audit import ARTICLE, DEAD_LETTER, DUPLICATE, Record, account

RAW = "p.raw-pages"
T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
_offsets = itertools.count()


def page(url: str, minutes: int = 0) -> RawPage:
    return RawPage(url=url, fetched_at=T0 + timedelta(minutes=minutes), text=f"text of {url} at {minutes}")


def raw(*values: bytes | RawPage) -> list[Record]:
    """Records of partition 0 of raw-pages, in this order."""
    return [
        Record(RAW, 0, offset, 1000 + offset, b"k", v.to_json() if isinstance(v, RawPage) else v)
        for offset, v in enumerate(values)
    ]


def out(
    topic: str, raw_page: RawPage, duplicate_of: str | None = None, article_id: str | None = None
) -> Record:
    aid = article_id or article_id_for(raw_page.url)
    document = {"article_id": aid, "page_id": raw_page.page_id, "duplicate_of": duplicate_of}
    return Record(topic, 0, next(_offsets), 0, aid.encode(), orjson.dumps(document))


def tombstone(raw_page: RawPage) -> Record:
    return Record("p.articles", 0, next(_offsets), 0, article_id_for(raw_page.url).encode(), None)


def letter(offset: int, page_id: str | None = None, topic: str = RAW) -> Record:
    document = {
        "original_topic": topic,
        "original_partition": 0,
        "original_offset": offset,
        "page_id": page_id,
    }
    return Record("p.dead-letters", 0, next(_offsets), 0, b"k", orjson.dumps(document))


def test_each_page_has_one_outcome() -> None:
    a, b, c = page("https://a.example/1"), page("https://b.example/1"), page("https://c.example/1")
    audit = account(
        RAW,
        raw(a, b, b"\x00not json", c),
        [out("p.articles", a)],
        [out("p.duplicates", b, duplicate_of=article_id_for(a.url))],
        [letter(2), letter(3, page_id=c.page_id)],
    )
    assert audit.ok, audit.table()
    assert (audit.raw_records, audit.pages, audit.not_raw_pages) == (4, 3, 1)
    assert audit.outcomes == {ARTICLE: 1, DUPLICATE: 1, DEAD_LETTER: 2}
    assert audit.final == {article_id_for(a.url): None, article_id_for(b.url): article_id_for(a.url)}


def test_corrections_replays_and_recrawls_are_not_doubles() -> None:
    early, late = page("https://a.example/early"), page("https://b.example/late", minutes=5)
    first, again = page("https://c.example/x"), page("https://c.example/x", minutes=60)
    articles = [
        out("p.articles", late),  # canonical at first, then corrected when `early` arrived
        out("p.articles", early),
        tombstone(late),
        out("p.articles", early),  # a redelivery re-publishes the same record
        out("p.articles", first),
        out("p.articles", again),  # a re-crawl: the same article_id with a new page
    ]
    duplicates = [out("p.duplicates", late, duplicate_of=article_id_for(early.url))]
    audit = account(RAW, raw(late, early, first, again, early), articles, duplicates, [])
    assert audit.ok, audit.table()
    assert audit.outcomes == {ARTICLE: 3, DUPLICATE: 1}
    assert (audit.corrections, audit.republished, audit.pages) == (1, 1, 4)


def test_a_page_whose_record_was_compacted_away_is_superseded_by_a_later_crawl() -> None:
    first, again = page("https://c.example/x"), page("https://c.example/x", minutes=60)
    audit = account(RAW, raw(first, again), [out("p.articles", again)], [], [])
    assert audit.ok and audit.superseded == 1


def test_lost_pages() -> None:
    kept, dropped, retracted = (
        page("https://a.example/1"),
        page("https://b.example/1"),
        page("https://c.example/1"),
    )
    recrawl = page("https://a.example/1", minutes=60)  # accepted after `kept`, never published
    audit = account(
        RAW,
        raw(kept, dropped, retracted, b"junk", recrawl),
        [out("p.articles", kept), out("p.articles", retracted), tombstone(retracted)],
        [],
        [letter(9, topic="p.khabar-documents")],
    )
    assert set(audit.lost) == {dropped.page_id, retracted.page_id, "0/3", recrawl.page_id}
    assert "tombstoned" in audit.lost[retracted.page_id]
    assert audit.foreign_dead_letters == 1
    assert not audit.ok


def test_doubled_pages() -> None:
    both, letter_too, elsewhere = (
        page("https://a.example/1"),
        page("https://b.example/1"),
        page("https://c.example/1"),
    )
    audit = account(
        RAW,
        raw(both, letter_too, elsewhere),
        [out("p.articles", both), out("p.articles", letter_too), out("p.articles", elsewhere)],
        [
            out("p.duplicates", both, duplicate_of="0" * 32),
            out("p.duplicates", elsewhere, duplicate_of="0" * 32, article_id="f" * 32),
        ],
        [letter(1, page_id=letter_too.page_id), letter(1, page_id=letter_too.page_id)],
    )
    assert audit.doubled == {
        both.page_id: [ARTICLE, DUPLICATE],
        letter_too.page_id: [DEAD_LETTER, ARTICLE],
        elsewhere.page_id: [f"published as {'f' * 32}", ARTICLE],
    }
    assert audit.repeated_dead_letters == 1
    assert "DOUBLED" in audit.table() and not audit.ok
