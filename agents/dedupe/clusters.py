"""The dedupe decision as a join, for state partitioned across workers.

A document's decision needs three kinds of answers that live on other partitions:

* from every LSH band bucket it falls in: the documents already there (earlier ones are
  its candidates; later ones may have to be corrected when it is an earlier document
  arriving late);
* from its content-hash owner: whether an earlier document has the same normalized body;
* from every candidate: the exact Jaccard of their shingle sets, and the candidate's own
  canonical document.

:class:`Pending` collects those answers for one document (it is stored in a Faust table,
so it is plain JSON) and :meth:`Pending.decision` decides once all have arrived. All
answers are idempotent (sets, not counters), so redelivered messages change nothing.
Documents are ordered by :data:`Ref` = (event time, article_id); a duplicate always points
to a strictly earlier document, so there are no cycles and each cluster has one root.

:class:`Horizon` bounds it all in event time: a document is only compared with documents at
most ``span`` earlier or later, so state older than the newest event time minus the span
(and an allowance for late arrivals) can be freed without changing any decision.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from agents.dedupe import Ref
from agents.dedupe.near import BANDS, NEAR_DUPLICATE_JACCARD, jaccard

BUCKET_SIZE = 8  # earliest documents kept per LSH bucket


def ref(value: Any) -> Ref:
    time, article_id = value
    return (str(time), str(article_id))


def event_time(document: Ref) -> datetime:
    return datetime.fromisoformat(document[0])


@dataclass(frozen=True)
class Horizon:
    """How far apart in event time two documents can be and still be duplicates.

    ``span`` is the horizon itself; ``lateness`` is how late (behind the newest event time
    seen) a document may arrive and still be decided exactly as in time order. State older
    than the newest event time minus both is never needed again: :meth:`cutoff`.
    """

    span: timedelta = timedelta(days=30)
    lateness: timedelta = timedelta(days=1)

    def within(self, earlier: Ref, later: Ref) -> bool:
        return event_time(later) - event_time(earlier) <= self.span

    def cutoff(self, newest: Ref | datetime) -> datetime:
        """Documents before this instant can be forgotten once ``newest`` has been seen."""
        newest_time = event_time(newest) if isinstance(newest, tuple) else newest
        return newest_time - self.span - self.lateness

    def expired(self, document: Ref, cutoff: datetime) -> bool:
        return event_time(document) < cutoff


def bucket_answer(
    bucket: list[Ref], document: Ref, horizon: Horizon
) -> tuple[list[Ref], list[Ref], list[Ref]]:
    """(earlier documents, later documents, the bucket with ``document`` in it).

    Only documents within the horizon of ``document`` are answered. A bucket keeps its
    :data:`BUCKET_SIZE` earliest documents that are not expired next to ``document``: the
    later ones of a big cluster are found through those, and the state per band stays bounded.
    """
    others = [entry for entry in bucket if entry[1] != document[1]]
    earlier = [entry for entry in others if entry < document and horizon.within(entry, document)]
    later = [entry for entry in others if entry > document and horizon.within(document, entry)]
    cutoff = horizon.cutoff(document)
    kept = {entry for entry in bucket if not horizon.expired(entry, cutoff)}
    updated = sorted({*kept, document})[:BUCKET_SIZE]
    return earlier, later, updated


Owners = tuple[Ref, Ref]  # the earliest and the latest document seen with one content hash


def owner_answer(
    owners: Owners | None, document: Ref, horizon: Horizon
) -> tuple[Ref | None, Owners, Ref | None]:
    """The content-hash owners' answer to ``document``: (the earlier copy it duplicates, the
    owners with it, a previous earliest that ``document`` now precedes and must correct).

    The original is the earliest copy within the horizon; when that one is too old, the
    latest earlier copy (so a story re-published for months stays one chain of exact copies).
    """
    if owners is None:
        return None, (document, document), None
    earliest, latest = owners
    originals = [
        owner
        for owner in (earliest, latest)
        if owner < document and owner[1] != document[1] and horizon.within(owner, document)
    ]
    updated = (min(earliest, document), max(latest, document))
    corrected = (
        earliest if document < earliest and earliest[1] != document[1] and horizon.within(document, earliest)
        else None
    )  # fmt: skip
    return (min(originals) if originals else None), updated, corrected


@dataclass
class Decision:
    duplicate_of: str | None
    kind: str | None  # "exact" | "near" | None
    similarity: float | None
    canonical: Ref  # the root this document points to (itself when canonical)


@dataclass
class Pending:
    """What one document knows so far; JSON-friendly for a Faust table."""

    me: Ref
    content_hash: str
    shingles: list[int]
    bands_answered: list[int] = field(default_factory=list)
    hash_answered: bool = False
    exact_owner: Ref | None = None
    asked: list[str] = field(default_factory=list)  # candidates asked for a verdict
    verdicts: dict[str, tuple[float, Ref]] = field(default_factory=dict)  # id -> (jaccard, canonical)
    decided: Decision | None = None

    # -- answers -------------------------------------------------------------------------
    def band_answered(self, band: int, earlier: list[Ref]) -> list[Ref]:
        """Record one band's answer; return the new candidates to ask for a verdict."""
        if band not in self.bands_answered:
            self.bands_answered.append(band)
        fresh = [c for c in earlier if c[1] not in self.asked and c[1] != self.me[1]]
        self.asked.extend(c[1] for c in fresh)
        return fresh

    def owner_answered(self, owner: Ref | None) -> None:
        self.hash_answered = True
        if owner is not None and owner < self.me and (self.exact_owner is None or owner < self.exact_owner):
            self.exact_owner = owner

    def verdict(self, candidate: str, jaccard: float, canonical: Ref) -> None:
        self.verdicts[candidate] = (jaccard, canonical)

    # -- decision ------------------------------------------------------------------------
    @property
    def complete(self) -> bool:
        return (
            len(self.bands_answered) >= BANDS
            and self.hash_answered
            and all(c in self.verdicts for c in self.asked)
        )

    def decision(self) -> Decision:
        """Exact copy of an earlier owner first; else the earliest verified near-duplicate."""
        if self.exact_owner is not None:
            return Decision(self.exact_owner[1], "exact", 1.0, self.exact_owner)
        verified = [
            (canonical, similarity)
            for similarity, canonical in self.verdicts.values()
            if similarity >= NEAR_DUPLICATE_JACCARD and canonical < self.me
        ]
        if not verified:
            return Decision(None, None, None, self.me)
        canonical, _ = min(verified)
        similarity = max(s for c, s in verified if c == canonical)
        return Decision(canonical[1], "near", round(similarity, 4), canonical)

    def earlier_arrived(self, earlier: Ref, similarity: float, kind: str) -> bool:
        """An earlier document that arrived late matches this one (``kind`` exact or near).

        It is remembered whether or not this document has decided yet; returns True when an
        already published decision changes (the document must be re-published).
        """
        if not earlier < self.me:
            return False
        if kind == "exact":
            if self.exact_owner is None or earlier < self.exact_owner:
                self.exact_owner = earlier
        else:
            self.verdicts[earlier[1]] = (similarity, earlier)
        if self.decided is None:
            return False
        updated = self.decision()
        if updated != self.decided:
            self.decided = updated
            return True
        return False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Pending:
        decided = data.get("decided")
        return cls(
            me=ref(data["me"]),
            content_hash=data["content_hash"],
            shingles=list(data["shingles"]),
            bands_answered=list(data["bands_answered"]),
            hash_answered=bool(data["hash_answered"]),
            exact_owner=ref(data["exact_owner"]) if data.get("exact_owner") else None,
            asked=list(data["asked"]),
            verdicts={k: (float(v[0]), ref(v[1])) for k, v in data["verdicts"].items()},
            decided=(
                Decision(
                    decided["duplicate_of"], decided["kind"], decided["similarity"], ref(decided["canonical"])
                )
                if decided
                else None
            ),
        )


class LocalDeduplicator:
    """The same decisions with all state in memory, for offline runs (``khabar process``).

    Feed documents in (event time, article_id) order and no correction is ever needed.
    """

    def __init__(self, horizon: Horizon | None = None) -> None:
        self._horizon = horizon or Horizon()
        self._buckets: dict[str, list[Ref]] = {}
        self._owners: dict[str, Owners] = {}
        self._states: dict[str, Pending] = {}

    def decide(self, me: Ref, content_hash: str, shingle_set: frozenset[int], bands: list[str]) -> Decision:
        state = Pending(me=me, content_hash=content_hash, shingles=sorted(shingle_set))
        for band in bands:
            earlier, _, self._buckets[band] = bucket_answer(self._buckets.get(band, []), me, self._horizon)
            for candidate in state.band_answered(int(band[:2]), earlier):
                other = self._states.get(candidate[1])
                if other is None or other.decided is None:
                    state.verdict(candidate[1], 0.0, candidate)
                    continue
                state.verdict(candidate[1], jaccard(other.shingles, state.shingles), other.decided.canonical)
        owner = self._owners.get(content_hash)
        original, self._owners[content_hash], _ = owner_answer(owner, me, self._horizon)
        state.owner_answered(original)
        state.decided = state.decision()
        self._states[me[1]] = state
        return state.decided
