"""The core composed: the Article's language fields describe the text that is published."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson

from agents.pipeline import analyze
from schemas import RawPage, validate
from tests.unit.test_language import ARTICLE_AR, PHOTO_CAPTION


def test_other_language_spans_point_into_the_published_text() -> None:
    """The clean stage drops the figure caption and the English-only paragraph; the caption
    that opens an Arabic paragraph stays in the text, and its span is listed."""
    paragraphs = [ARTICLE_AR[0], PHOTO_CAPTION, f"{PHOTO_CAPTION} {ARTICLE_AR[1]}", ARTICLE_AR[2]]
    html = (
        '<html lang="ar"><head><title>افتتاح مستشفيات جديدة</title></head><body><article>'
        f"<h1>افتتاح مستشفيات جديدة</h1><figure><figcaption>{PHOTO_CAPTION}</figcaption></figure>"
        + "".join(f"<p>{paragraph}</p>" for paragraph in paragraphs)
        + "</article></body></html>"
    )
    raw = RawPage(
        url="https://example.com/a", fetched_at=datetime(2026, 2, 7, tzinfo=UTC), body=html.encode()
    )
    article = analyze(raw)
    assert article.language == "ar"
    assert article.text.count(PHOTO_CAPTION) == 1
    assert [
        (span.language, article.text[span.start : span.end]) for span in article.other_language_spans
    ] == [("en", PHOTO_CAPTION)]
    validate("article", orjson.loads(article.to_json()))
