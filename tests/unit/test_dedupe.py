from __future__ import annotations

from datetime import UTC, datetime, timedelta

from agents.dedupe import (
    Owner,
    article_id_for,
    content_hash,
    decide_exact,
    normalize_for_matching,
    resolve_exact,
)
from schemas import Article

T0 = datetime(2026, 2, 6, tzinfo=UTC)


def test_article_id_depends_on_the_canonical_url_only() -> None:
    assert article_id_for("HTTPS://Example.com:443/a#top") == article_id_for("https://example.com/a")
    assert article_id_for("https://example.com/a") != article_id_for("https://example.com/b")
    assert len(article_id_for("https://example.com/a")) == 32


def test_normalization_folds_arabic_variants_digits_and_marks() -> None:
    plain = normalize_for_matching("قال الرئيس إن الاتفاق سيوقع في 2026 مع المدينة")
    decorated = normalize_for_matching("قَالَ الرَّئِيسُ أن الاتّفـــاق سيوقّع فى ٢٠٢٦ مع المدينه\u200f")
    assert plain == decorated
    assert content_hash("نص أ") != content_hash("نص ب")


def test_a_document_is_never_its_own_duplicate() -> None:
    me = Owner.of("a" * 32, T0 + timedelta(hours=1))
    earlier_me = Owner.of("a" * 32, T0)
    assert decide_exact(me, earlier_me) == (None, earlier_me)
    assert decide_exact(earlier_me, me) == (None, earlier_me)


def test_a_duplicate_points_to_a_strictly_earlier_owner() -> None:
    first = Owner.of("a" * 32, T0)
    later = Owner.of("b" * 32, T0 + timedelta(minutes=5))
    assert decide_exact(later, first) == ("a" * 32, first)
    # an earlier document arriving late is not made a duplicate of a later one
    assert decide_exact(first, later) == (None, first)
    # equal times are ordered by id
    same_time = Owner.of("0" * 32, T0)
    assert decide_exact(first, same_time) == ("0" * 32, same_time)


def article(article_id: str, fetched_at: datetime) -> Article:
    return Article(
        article_id=article_id * 32, url=f"https://{article_id}.example/x", title=None, text="same body",
        language="ar", published_at=None, fetched_at=fetched_at, content_hash=content_hash("same body"),
        page_id=article_id,
    )  # fmt: skip


def test_resolve_is_idempotent_under_replay() -> None:
    a, b = article("a", T0), article("b", T0 + timedelta(hours=1))
    first = resolve_exact(a, None)
    assert first.article.duplicate_of is None and first.owner is a
    second = resolve_exact(b, first.owner)
    assert second.article.duplicate_of == a.article_id and second.article.duplicate_kind == "exact"
    assert second.owner is a and second.corrected is None
    again = resolve_exact(a, second.owner)
    assert again.article.duplicate_of is None and again.corrected is None


def test_a_late_earlier_document_corrects_the_later_owner() -> None:
    a, b = article("a", T0), article("b", T0 + timedelta(hours=1))
    decision = resolve_exact(a, resolve_exact(b, None).owner)
    assert decision.article.duplicate_of is None
    assert decision.owner is a
    assert decision.corrected is not None
    assert decision.corrected.article_id == b.article_id
    assert decision.corrected.duplicate_of == a.article_id
