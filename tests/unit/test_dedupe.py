from __future__ import annotations

from dataclasses import asdict, fields
from datetime import UTC, datetime, timedelta

import orjson

from agents.dedupe import article_id_for, canonical_url, content_hash, document_ref, normalize_for_matching
from agents.dedupe.clusters import (
    BUCKET_SIZE,
    Decision,
    Horizon,
    LocalDeduplicator,
    OwnerAnswer,
    Pending,
    answer_name,
    bucket_answer,
    buckets_answer,
    owner_answer,
)
from agents.dedupe.near import BANDS, band_keys, shingles, signature

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


BODY = " ".join(
    f"قال المتحدث باسم الوزارة في البيان رقم {i} إن المحادثات بين الجانبين ستستأنف الأسبوع المقبل في العاصمة"
    for i in range(12)
)
OTHER = " ".join(
    f"Officials said the harbour expansion phase {i} would double container capacity" for i in range(12)
)


def decide(dedup: LocalDeduplicator, article_id: str, at: datetime, text: str) -> Decision:
    document = shingles(text)
    me = document_ref(article_id * 32, at)
    return dedup.decide(me, content_hash(text), document, band_keys(signature(document)))


def test_a_document_is_never_its_own_duplicate() -> None:
    dedup = LocalDeduplicator()
    assert decide(dedup, "a", T0, BODY).duplicate_of is None
    again = decide(dedup, "a", T0, BODY)  # a replay of the same page
    assert again.duplicate_of is None and again.canonical == document_ref("a" * 32, T0)


def test_exact_and_near_copies_point_to_the_earliest_document() -> None:
    dedup = LocalDeduplicator()
    assert decide(dedup, "a", T0, BODY).duplicate_of is None
    exact = decide(dedup, "b", T0 + timedelta(minutes=5), BODY)
    assert (exact.duplicate_of, exact.kind, exact.similarity) == ("a" * 32, "exact", 1.0)
    edited = "القاهرة - (وكالات) - " + BODY.replace("الأسبوع المقبل", "الأسبوع القادم", 1)
    near = decide(dedup, "c", T0 + timedelta(minutes=9), edited)
    assert near.duplicate_of == "a" * 32 and near.kind == "near"
    assert near.similarity is not None and 0.5 <= near.similarity < 1.0
    assert decide(dedup, "d", T0 + timedelta(minutes=10), OTHER).duplicate_of is None


def test_bucket_answers_split_earlier_and_later_and_stay_bounded() -> None:
    me = ("2026-02-06T00:05:00+00:00", "m" * 32)
    bucket = [(f"2026-02-06T00:0{i}:00+00:00", str(i) * 32) for i in range(10)]
    earlier, later, updated = bucket_answer(bucket, me, Horizon())
    assert all(e < me for e in earlier) and all(x > me for x in later)
    assert me in updated and len(updated) == BUCKET_SIZE and updated == sorted(updated)
    assert bucket_answer(updated, me, Horizon())[2] == updated  # idempotent


def test_pending_decides_only_when_every_answer_is_in_and_survives_json() -> None:
    me = ("2026-02-06T01:00:00+00:00", "m" * 32)
    earlier = ("2026-02-06T00:00:00+00:00", "e" * 32)
    state = Pending(me=me, content_hash="h")
    for band in range(BANDS):
        assert not state.complete
        asked, _ = state.bands_answered_with([band], [earlier] if band == 0 else [], [])
        assert asked == ([earlier] if band == 0 else [])
        state.bands_answered_with([band], [earlier], [])  # a redelivered answer changes no decision
    state.owner_answered(None)
    assert not state.complete  # the verdict is still missing
    state.verdict(earlier[1], 0.9, earlier)
    restored = Pending.from_dict(orjson.loads(orjson.dumps(state.to_dict())))
    assert restored.complete
    assert restored.decision() == Decision(earlier[1], "near", 0.9, earlier)


def test_a_repeated_band_answer_asks_again_what_the_first_one_asked() -> None:
    # After a crash the table may keep the first answer while the requests it sent are lost.
    me = ("2026-02-06T01:00:00+00:00", "m" * 32)
    earlier = [("2026-02-06T00:00:00+00:00", "e" * 32), ("2026-02-06T00:30:00+00:00", "f" * 32)]
    later = [("2026-02-06T02:00:00+00:00", "l" * 32)]
    state = Pending(me=me, content_hash="h")
    assert state.bands_answered_with([0, 5], earlier, later) == (earlier, later)
    assert state.bands_answered_with([1], earlier, later) == ([], [])  # asked and told once per document
    state.verdict(earlier[0][1], 0.9, earlier[0])
    # A repeat, alone or with the one-band answer of an older worker: asks what has no verdict yet.
    assert state.bands_answered_with([0, 5], earlier, later) == ([earlier[1]], later)
    assert state.bands_answered_with([5], earlier, later) == ([earlier[1]], later)
    assert state.asked == [e[1] for e in earlier] and state.told == [later[0][1]]
    assert state.bands_answered == [0, 5, 1]


def test_the_buckets_of_one_partition_answer_together_as_each_would_alone() -> None:
    me = ("2026-02-06T01:00:00+00:00", "m" * 32)
    e, f, g = (("2026-02-06T00:00:00+00:00", c * 32) for c in "efg")
    later = ("2026-02-06T02:00:00+00:00", "l" * 32)
    buckets = {"03aa": [e, later], "07bb": [e, f], "11cc": [], "15dd": [g, me]}
    answer = buckets_answer(buckets, me, Horizon())
    assert answer.bands == [3, 7, 11, 15]
    assert answer.earlier == [e, f, g] and answer.later == [later]  # the union, each document once
    alone = {key: bucket_answer(bucket, me, Horizon()) for key, bucket in buckets.items()}
    assert answer.updated == {key: updated for key, (_, _, updated) in alone.items() if key != "15dd"}
    assert buckets_answer({key: alone[key][2] for key in buckets}, me, Horizon()).updated == {}


def test_the_owner_of_a_content_hash_answers_a_repeat_as_the_first_time() -> None:
    first = ("2026-02-06T01:00:00+00:00", "a" * 32)
    copy = ("2026-02-06T02:00:00+00:00", "b" * 32)
    early = ("2026-02-06T00:00:00+00:00", "e" * 32)
    h = Horizon()
    assert owner_answer(None, first, h) == OwnerAnswer(first, first, None, None, None)
    stored = owner_answer(None, first, h).stored()
    assert owner_answer(stored, copy, h) == OwnerAnswer(first, copy, None, first, None)  # an exact copy
    late = owner_answer(stored, early, h)  # an earlier copy arrives late: the owner so far is corrected
    assert late == OwnerAnswer(early, first, first, None, first)
    assert owner_answer(late.stored(), early, h) == late  # redelivered: the correction is sent again
    assert owner_answer(late.stored(), copy, h).earlier == early
    older_value = owner_answer(list(first), copy, h)  # an older worker's table value
    assert older_value == OwnerAnswer(first, copy, None, first, None)


def test_a_repeated_correction_asks_for_the_publication_again() -> None:
    me = ("2026-02-06T01:00:00+00:00", "m" * 32)
    early = ("2026-02-06T00:00:00+00:00", "e" * 32)
    for kind in ("exact", "near"):
        state = Pending(me=me, content_hash="h")
        state.decided = Decision(None, None, None, me)
        assert state.earlier_arrived(early, 0.9, kind)
        restored = Pending.from_dict(orjson.loads(orjson.dumps(state.to_dict())))
        assert restored.earlier_arrived(early, 0.9, kind)  # a redelivery: its publication may be lost
        assert restored.decided == state.decided and restored.decided.duplicate_of == early[1]
        # A correction that did not decide the document published nothing, nor does its repeat.
        later = ("2026-02-06T00:30:00+00:00", "l" * 32)
        assert not restored.earlier_arrived(later, 0.9, "near")
        assert not restored.earlier_arrived(later, 0.9, "near")


def test_each_answer_has_one_name_whatever_its_delivery() -> None:
    # The document republishes on a repeat of the answer that completed its decision only.
    names = [
        answer_name({"band": 7, "earlier": [], "later": []}),
        answer_name({"band": "7", "earlier": [["t", "x" * 32]], "later": []}),
        answer_name({"bands": [12, 3, 7], "earlier": [], "later": []}),
        answer_name({"bands": [3, 7, 12], "earlier": [["t", "x" * 32]], "later": [], "for": ["t", "m"]}),
        answer_name({"owner": None}),
        answer_name({"owner": ["t", "o" * 32]}),
        answer_name({"verdict": "c" * 32, "jaccard": 0.9, "canonical": ["t", "c" * 32]}),
        answer_name({"correct": ["t", "e" * 32], "jaccard": 1.0, "kind": "exact"}),
    ]
    assert names == [
        "band:7", "band:7", "bands:3,7,12", "bands:3,7,12", "owner", "owner", f"verdict:{'c' * 32}",
        f"correct:{'e' * 32}",
    ]  # fmt: skip
    state = Pending(me=("t", "m" * 32), content_hash="h", decided_by=names[6])
    assert Pending.from_dict(orjson.loads(orjson.dumps(state.to_dict()))).decided_by == names[6]


def test_a_late_earlier_document_repoints_a_later_canonical() -> None:
    me = ("2026-02-06T01:00:00+00:00", "m" * 32)
    early = ("2026-02-06T00:00:00+00:00", "e" * 32)
    state = Pending(me=me, content_hash="h")
    state.decided = Decision(None, None, None, me)
    assert not state.earlier_arrived(early, 0.1, "near")  # not similar enough
    assert not state.earlier_arrived(("2026-02-06T02:00:00+00:00", "l" * 32), 0.9, "near")  # later
    assert state.earlier_arrived(early, 0.9, "near")
    assert state.decided == Decision(early[1], "near", 0.9, early)


def test_a_correction_before_the_decision_is_remembered() -> None:
    me = ("2026-02-06T01:00:00+00:00", "m" * 32)
    early = ("2026-02-06T00:00:00+00:00", "e" * 32)
    state = Pending(me=me, content_hash="h")
    assert not state.earlier_arrived(early, 1.0, "exact")  # undecided: nothing to re-publish yet
    state.owner_answered(None)  # the owner table had answered before the earlier copy took the hash
    assert state.decision() == Decision(early[1], "exact", 1.0, early)


def test_a_url_urllib_cannot_parse_is_its_own_identity() -> None:
    # Found by the fuzz run: a port out of range or a broken IPv6 host made analyze raise
    # ValueError outside any stage, which would have stopped the worker's agent.
    for url in ("http://example.com:99999999/a", "http://[::1/a", "http://example.com:port/a"):
        assert canonical_url(url) == url
        assert article_id_for(url) == article_id_for(f" {url} ")


DAY = timedelta(days=1)
HORIZON = Horizon(span=timedelta(days=30), lateness=DAY)


def at(days: float, name: str) -> tuple[str, str]:
    return document_ref(name * 32, T0 + days * DAY)


def test_no_duplicate_beyond_the_horizon_and_copies_after_it_point_to_the_new_one() -> None:
    dedup = LocalDeduplicator(HORIZON)
    assert decide(dedup, "a", T0, BODY).duplicate_of is None
    assert decide(dedup, "b", T0 + 29 * DAY, BODY).duplicate_of == "a" * 32  # inside: exact copy
    assert decide(dedup, "c", T0 + 29.5 * DAY, BODY).duplicate_of == "a" * 32
    # a is 31 days older: d is compared with the copies inside the horizon only, and chains on
    assert decide(dedup, "d", T0 + 31 * DAY, BODY) == Decision("c" * 32, "exact", 1.0, at(29.5, "c"))
    assert decide(dedup, "e", T0 + 32 * DAY, BODY).duplicate_of == "d" * 32
    edited = "القاهرة - (وكالات) - " + BODY
    assert decide(dedup, "f", T0 + 70 * DAY, edited).duplicate_of is None  # near copy, 38 days after e
    assert decide(dedup, "g", T0 + 71 * DAY, edited + " .").duplicate_of == "f" * 32


def test_buckets_answer_within_the_horizon_and_drop_expired_entries() -> None:
    old, recent, later = at(0, "o"), at(20, "r"), at(45, "l")
    me = at(40, "m")
    earlier, after, updated = bucket_answer([old, recent, later], me, HORIZON)
    assert earlier == [recent] and after == [later]  # old is 40 days before: no candidate
    assert old not in updated and updated == [recent, me, later]
    # a document arriving late by less than the allowed lateness still finds what it should
    late = at(30.5, "x")
    assert bucket_answer([old, recent, me], late, HORIZON)[0] == [recent]
    assert old in bucket_answer([old], at(30.9, "y"), HORIZON)[2]  # kept: within span + lateness
    assert old not in bucket_answer([old], at(31.1, "z"), HORIZON)[2]


def test_owner_answers_the_earliest_copy_within_the_horizon() -> None:
    first, copy, much_later = at(0, "a"), at(10, "b"), at(35, "c")

    def ask(owner: tuple[str, str], latest: tuple[str, str], document: tuple[str, str]) -> OwnerAnswer:
        return owner_answer(
            {"owner": list(owner), "latest": list(latest), "displaced": None}, document, HORIZON
        )

    assert ask(first, first, copy).earlier == first
    # the earliest is too old for c: the latest earlier copy is its original, and c the latest now
    assert ask(first, copy, much_later) == OwnerAnswer(first, much_later, None, copy, None)
    assert ask(first, first, much_later).earlier is None
    # a copy from before the owner's horizon arriving late takes nothing and corrects nobody
    assert ask(much_later, much_later, first) == OwnerAnswer(much_later, much_later, None, None, None)


def test_horizon_cutoff_leaves_room_for_the_span_and_the_lateness() -> None:
    newest = at(100, "n")
    cutoff = HORIZON.cutoff(newest)
    assert cutoff == T0 + 69 * DAY
    assert HORIZON.expired(at(68.9, "a"), cutoff) and not HORIZON.expired(at(69, "b"), cutoff)
    assert HORIZON.within(at(70, "a"), at(100, "b")) and not HORIZON.within(at(69.9, "a"), at(100, "b"))


def test_pending_to_dict_is_asdict_of_every_field() -> None:
    """to_dict is written out by hand (speed): a field added to Pending must be in it too."""
    me, other = ("2026-02-06T01:00:00+00:00", "m" * 32), ("2026-02-06T00:00:00+00:00", "e" * 32)
    state = Pending(
        me=me, content_hash="h", bands_answered=[0, 3], hash_answered=True,
        exact_owner=other, asked=["a"], told=["t"], verdicts={"a": (0.7, other)},
        decided=Decision(other[1], "near", 0.7, other), decided_by="verdict:a",
    )  # fmt: skip
    bare = Pending(me=other, content_hash="")
    assert all(getattr(state, f.name) != getattr(bare, f.name) for f in fields(Pending))  # all set
    assert state.to_dict() == asdict(state)
    assert Pending.from_dict(orjson.loads(orjson.dumps(state.to_dict()))) == state
