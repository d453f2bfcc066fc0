from __future__ import annotations

from datetime import UTC, datetime, timedelta

from agents.dedupe.clusters import Decision, Horizon, Pending
from streams.state import renew_bucket, renew_document, renew_owners

HORIZON = Horizon(span=timedelta(days=30), lateness=timedelta(days=1))
CUTOFF = datetime(2026, 3, 1, tzinfo=UTC)
OLD = ["2026-02-28T23:59:00+00:00", "o" * 32]
NEW = ["2026-03-01T00:00:00+00:00", "n" * 32]


def stored(me: list[str], decided: bool) -> dict[str, object]:
    pending = Pending(me=(me[0], me[1]), content_hash="h")
    if decided:
        pending.decided = Decision(None, None, None, pending.me)
    return pending.to_dict()


def test_only_decided_documents_before_the_cutoff_are_freed() -> None:
    assert renew_document(stored(OLD, decided=True), HORIZON, CUTOFF) is None
    undecided = stored(OLD, decided=False)
    assert renew_document(undecided, HORIZON, CUTOFF) == undecided  # never lost while it waits
    recent = stored(NEW, decided=True)
    assert renew_document(recent, HORIZON, CUTOFF) == recent


def test_buckets_keep_their_recent_entries_and_go_when_empty() -> None:
    assert renew_bucket([OLD, NEW], HORIZON, CUTOFF) == [NEW]
    assert renew_bucket([OLD], HORIZON, CUTOFF) is None


def test_a_content_hash_goes_with_its_latest_copy() -> None:
    recent = {"owner": OLD, "latest": NEW, "displaced": None}
    assert renew_owners(recent, HORIZON, CUTOFF) == recent
    assert renew_owners({"owner": OLD, "latest": OLD, "displaced": None}, HORIZON, CUTOFF) is None
    assert renew_owners(OLD, HORIZON, CUTOFF) is None  # an older worker's bare owner
