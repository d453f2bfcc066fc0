from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import get_args

import orjson
import pytest

from schemas import (
    HEADER_SCHEMA_VERSION,
    SCHEMA_VERSION,
    Article,
    DeadLetter,
    OtherLanguageSpan,
    RawPage,
    SchemaError,
    Stage,
    json_schema,
    message_headers,
    validate,
)

NOW = datetime(2026, 2, 6, 8, 47, tzinfo=UTC)


def test_raw_page_round_trips_bytes_as_base64() -> None:
    body = "<html>مرحبا</html>".encode("cp1256")
    page = RawPage(url="https://example.com/a", fetched_at=NOW, body=body, content_type="text/html")
    document = orjson.loads(page.to_json())
    validate("raw_page", document)
    assert base64.b64decode(document["body_b64"]) == body
    assert RawPage.from_json(page.to_json()) == page


def test_page_id_is_derived_from_url_time_and_body() -> None:
    a = RawPage(url="https://example.com/a", fetched_at=NOW, text="x")
    assert a.page_id == RawPage(url="https://example.com/a", fetched_at=NOW, text="x").page_id
    assert a.page_id != RawPage(url="https://example.com/a", fetched_at=NOW, text="y").page_id
    assert a.page_id != RawPage(url="https://example.com/b", fetched_at=NOW, text="x").page_id


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\xff\xfe garbage", "not_json"),
        (b"[1, 2]", "schema"),
        (b'{"url": "u"}', "schema"),
        (b'{"url": "u", "fetched_at": "2026-01-01T00:00:00Z"}', "schema"),  # no body at all
        (
            b'{"url": "u", "fetched_at": "2026-01-01T00:00:00Z", "body_text": "a", "body_b64": "YQ=="}',
            "schema",
        ),
        (b'{"url": "u", "fetched_at": "yesterday", "body_text": "a"}', "schema"),
        (b'{"url": "u", "fetched_at": "2026-01-01T00:00:00", "body_text": "a"}', "schema"),  # no zone
        (b'{"url": "u", "fetched_at": "2026-01-01T00:00:00Z", "body_b64": "***"}', "bad_base64"),
    ],
)
def test_bad_raw_pages_are_rejected_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(SchemaError) as caught:
        RawPage.from_json(data)
    assert caught.value.reason == reason
    assert str(caught.value)


def test_article_and_dead_letter_validate_against_their_json_schemas() -> None:
    article = Article(
        article_id="0" * 32, url="https://example.com/a", title=None, text="t", language="ar",
        published_at=None, fetched_at=NOW, content_hash="f" * 32, page_id="p",
    )  # fmt: skip
    validate("article", orjson.loads(article.to_json()))
    assert Article.from_json(article.to_json()) == article
    letter = DeadLetter(
        stage="decode", reason="not_json", error_type="SchemaError", error_message="bad",
        original_topic="raw-pages", original_partition=0, original_offset=7, original_key=None,
        original_value=b"\x00", failed_at=NOW,
    )  # fmt: skip
    validate("dead_letter", orjson.loads(letter.to_json()))
    headers = dict(letter.kafka_headers())
    assert headers["__streams.errors.offset"] == b"7"
    assert headers[HEADER_SCHEMA_VERSION] == SCHEMA_VERSION.encode()


def test_the_dead_letter_schema_names_every_stage() -> None:
    assert json_schema("dead_letter")["properties"]["stage"]["enum"] == list(get_args(Stage))


def test_other_language_spans_round_trip_and_are_validated() -> None:
    span = OtherLanguageSpan(language="en", start=141, end=220, confidence=0.99)
    article = Article(
        article_id="0" * 32, url="https://example.com/a", title=None, text="t" * 300, language="ar",
        published_at=None, fetched_at=NOW, content_hash="f" * 32, page_id="p", other_language_spans=[span],
    )  # fmt: skip
    document = orjson.loads(article.to_json())
    assert document["other_language_spans"] == [
        {"language": "en", "start": 141, "end": 220, "confidence": 0.99}
    ]
    assert article.to_dict() == document  # plain JSON values: the dedupe tables store this dict
    validate("article", document)
    assert Article.from_json(article.to_json()) == article
    document["other_language_spans"][0]["language"] = "english"
    with pytest.raises(SchemaError, match="at other_language_spans/0/language"):
        validate("article", document)


def test_an_article_without_spans_reads_as_monolingual() -> None:
    """Articles written before the field existed (in a changelog, a replayed topic) load."""
    article = Article(
        article_id="0" * 32, url="u", title=None, text="t", language="ar", published_at=None,
        fetched_at=NOW, content_hash="f" * 32, page_id="p",
    )  # fmt: skip
    document = orjson.loads(article.to_json())
    del document["other_language_spans"]
    validate("article", document)
    assert Article.from_dict(document).other_language_spans == []


def test_schema_violations_name_the_field() -> None:
    article = Article(
        article_id="nope", url="u", title=None, text="t", language="ar", published_at=None,
        fetched_at=NOW, content_hash="f" * 32, page_id="p",
    )  # fmt: skip
    with pytest.raises(SchemaError, match="at article_id"):
        validate("article", orjson.loads(article.to_json()))


def test_every_message_type_has_version_headers() -> None:
    for name in ("raw_page", "article", "dead_letter"):
        headers = dict(message_headers(name, "trace"))  # type: ignore[arg-type]
        assert headers["khabar.schema"] == name.encode()
        assert headers["khabar.trace.id"] == b"trace"


@pytest.mark.parametrize("fetched_at", ["9999-12-31T23:00:00-05:00", "0001-01-01T00:00:00+01:00"])
def test_a_fetch_time_utc_cannot_represent_is_a_schema_error(fetched_at: str) -> None:
    # Documents are ordered by their UTC time: these overflowed in the dedupe stage.
    document = {"url": "https://example.com/a", "fetched_at": fetched_at, "body_text": "x"}
    with pytest.raises(SchemaError) as error:
        RawPage.from_dict(document)
    assert error.value.reason == "schema"
