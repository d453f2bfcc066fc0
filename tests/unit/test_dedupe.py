from __future__ import annotations

from datetime import UTC, datetime, timedelta

from agents.dedupe import (
    ExactDuplicateIndex,
    Owner,
    article_id_for,
    content_hash,
    decide_exact,
    normalize_for_matching,
)

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


def test_offline_index_is_idempotent_under_replay() -> None:
    index = ExactDuplicateIndex()
    a, b = Owner.of("a" * 32, T0), Owner.of("b" * 32, T0 + timedelta(hours=1))
    assert index.check("h", a) is None
    assert index.check("h", b) == "a" * 32
    assert index.check("h", a) is None
    assert index.check("h", b) == "a" * 32
