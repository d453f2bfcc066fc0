"""The dedupe decision as a join, for state partitioned across workers.

A document's decision needs three kinds of answers that live on other partitions:

* from every LSH band bucket it falls in: the documents already there (earlier ones are
  its candidates; later ones may have to be corrected when it is an earlier document
  arriving late). The buckets of one partition answer together (:func:`buckets_answer`):
  one question and one answer per partition, not per band;
* from its content-hash owner: whether an earlier document has the same normalized body;
* from every candidate: the exact Jaccard of their shingle sets, and the candidate's own
  canonical document.

:class:`Pending` collects those answers for one document (it is stored in a Faust table,
so it is plain JSON) and :meth:`Pending.decision` decides once all have arrived. All
answers are idempotent (sets, not counters), so redelivered messages change no decision.

Redelivery after a crash meets state that is *ahead* of the outputs: at least once, a
table's changelog is written as an event is processed, while the messages the event sends
go out with its offset commit, so a kill -9 in between keeps the new state and loses the
messages. Every step here therefore answers a repeated message with the messages the first
one sent (the candidates still without a verdict, the later documents to tell, the
correction to re-send), and the shell re-publishes a decided document on any repeat.
Documents are ordered by :data:`Ref` = (event time, article_id); a duplicate always points
to a strictly earlier document, so there are no cycles and each cluster has one root.

:class:`Horizon` bounds it all in event time: a document is only compared with documents at
most ``span`` earlier or later, so state older than the newest event time minus the span
(and an allowance for late arrivals) can be freed without changing any decision.
"""

from __future__ import annotations

from collections.abc import MutableMapping
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


def answer_name(answer: dict[str, Any]) -> str:
    """A name for one answer on the answers topic, the same for every delivery of it:
    ``bands:<n>,<n>...`` (the band numbers it answers, sorted), ``band:<n>`` (the one-band
    answer of earlier versions), ``owner``, ``verdict:<candidate>`` or ``correct:<earlier>``.

    The bands one partition answers for a document are always the same (their keys map to
    it), so a repeated question, and the repeat of its answer, has the same name."""
    if "bands" in answer:
        return "bands:" + ",".join(str(band) for band in sorted(int(band) for band in answer["bands"]))
    if "band" in answer:
        return f"band:{int(answer['band'])}"
    if "verdict" in answer:
        return f"verdict:{answer['verdict']}"
    if "correct" in answer:
        return f"correct:{ref(answer['correct'])[1]}"
    return "owner"


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


def band_number(band_key: str) -> int:
    """The band a key belongs to (:func:`agents.dedupe.near.band_keys` starts it with it)."""
    return int(band_key[:2])


@dataclass(frozen=True)
class BucketsAnswer:
    """What several band buckets of one document answer together (see :func:`buckets_answer`)."""

    bands: list[int]  # the band numbers answered, sorted
    earlier: list[Ref]  # earlier documents in any of the buckets, sorted, each once
    later: list[Ref]  # later documents in any of the buckets, sorted, each once
    updated: dict[str, list[Ref]]  # band key -> the bucket with the document in it, if it changed


def buckets_answer(buckets: dict[str, list[Ref]], document: Ref, horizon: Horizon) -> BucketsAnswer:
    """:func:`bucket_answer` for several band keys of one document at once (``buckets``: band
    key -> that bucket's documents): the union of their earlier and later documents, and the
    buckets that change. The decision only needs the union: a candidate found in several
    bands is asked once either way."""
    earlier: set[Ref] = set()
    later: set[Ref] = set()
    updated: dict[str, list[Ref]] = {}
    for band_key, bucket in buckets.items():
        band_earlier, band_later, band_updated = bucket_answer(bucket, document, horizon)
        earlier.update(band_earlier)
        later.update(band_later)
        if band_updated != bucket:
            updated[band_key] = band_updated
    bands = sorted(band_number(band_key) for band_key in buckets)
    return BucketsAnswer(bands, sorted(earlier), sorted(later), updated)


@dataclass(frozen=True)
class OwnerAnswer:
    """The content-hash owner's answer to one document (see :func:`owner_answer`)."""

    owner: Ref  # the earliest document with this hash, the asking one included
    latest: Ref  # the latest document with this hash, the asking one included
    displaced: Ref | None  # the later owner it took the hash from, if any
    earlier: Ref | None  # the earlier copy the asking document duplicates exactly, if any
    correct: Ref | None  # a later former owner that must become the asking document's exact copy

    def stored(self) -> dict[str, Any]:
        """The table's new value."""
        return {
            "owner": list(self.owner),
            "latest": list(self.latest),
            "displaced": list(self.displaced) if self.displaced else None,
        }


def owner_answer(stored: Any, document: Ref, horizon: Horizon) -> OwnerAnswer:
    """The earliest document of a content hash, and what ``document`` is told when it asks.

    The original of a copy is the earliest document with its hash within the horizon; when
    that one is too old, the latest earlier copy (so a story re-published for months stays
    one chain of exact copies). The table keeps the owner, the latest copy and the later
    owner it displaced, so a repeated question of the current owner re-sends the correction
    its first one sent (that message may have been lost with a crash). ``stored`` is the
    table's value: None, :meth:`OwnerAnswer.stored`, or an older worker's bare ``[time, id]``.
    """
    if stored is None:
        return OwnerAnswer(document, document, None, None, None)
    if isinstance(stored, dict):
        owner = ref(stored["owner"])
        latest = ref(stored.get("latest") or stored["owner"])
        displaced = ref(stored["displaced"]) if stored["displaced"] else None
    else:
        owner, latest, displaced = ref(stored), ref(stored), None
    newest = max(latest, document)
    if owner[1] == document[1]:  # the owner asks again: a redelivery
        again = displaced if displaced is not None and horizon.within(document, displaced) else None
        return OwnerAnswer(owner, newest, displaced, None, again)
    if document < owner:  # an earlier copy arrived late: the owner so far becomes its duplicate
        if horizon.within(document, owner):
            return OwnerAnswer(document, newest, owner, None, owner)
        return OwnerAnswer(owner, newest, displaced, None, None)  # from before the horizon: no owner
    originals = [
        copy
        for copy in (owner, latest)
        if copy < document and copy[1] != document[1] and horizon.within(copy, document)
    ]
    return OwnerAnswer(owner, newest, displaced, min(originals) if originals else None, None)


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
    bands_answered: list[int] = field(default_factory=list)
    hash_answered: bool = False
    exact_owner: Ref | None = None
    asked: list[str] = field(default_factory=list)  # candidates asked for a verdict
    told: list[str] = field(default_factory=list)  # later documents told to check this earlier one
    verdicts: dict[str, tuple[float, Ref]] = field(default_factory=dict)  # id -> (jaccard, canonical)
    decided: Decision | None = None
    decided_by: str | None = None  # the answer that completed the decision (see answer_name)

    # -- answers -------------------------------------------------------------------------
    def bands_answered_with(
        self, bands: list[int], earlier: list[Ref], later: list[Ref]
    ) -> tuple[list[Ref], list[Ref]]:
        """Record the answer of some bands (the earlier and later documents of their buckets,
        together); return (candidates to ask for a verdict, later documents to tell about
        this one).

        An answer with a band answered before is a repeat (a redelivery, or a document asked
        again): the requests the first answer sent may be lost, so it returns again the
        candidates still without a verdict and every later document.
        """
        repeat = any(band in self.bands_answered for band in bands)
        for band in bands:
            if band not in self.bands_answered:
                self.bands_answered.append(band)
        others = [c for c in earlier if c[1] != self.me[1]]
        if repeat:
            ask = [c for c in others if c[1] not in self.verdicts]
            tell = [c for c in later if c[1] != self.me[1]]
        else:
            ask = [c for c in others if c[1] not in self.asked]
            tell = [c for c in later if c[1] not in self.told and c[1] != self.me[1]]
        self.asked.extend(c[1] for c in ask if c[1] not in self.asked)
        self.told.extend(c[1] for c in tell if c[1] not in self.told)
        return ask, tell

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

        It is remembered whether or not this document has decided yet; returns True when the
        document must be re-published: its published decision changes, or this correction was
        applied before and the decision still points to ``earlier`` (a repeat: the
        re-publication it caused may have been lost; a repeat that changed nothing then
        publishes nothing now).
        """
        if not earlier < self.me:
            return False
        repeat = self.exact_owner == earlier if kind == "exact" else earlier[1] in self.verdicts
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
        return repeat and self.decided.canonical == earlier

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (what ``dataclasses.asdict`` gives, without its deep copy of every
        shingle: the worker writes this once per answer, about 22 times per document)."""
        return {
            "me": self.me,
            "content_hash": self.content_hash,
            "bands_answered": list(self.bands_answered),
            "hash_answered": self.hash_answered,
            "exact_owner": self.exact_owner,
            "asked": list(self.asked),
            "told": list(self.told),
            "verdicts": dict(self.verdicts),
            "decided": asdict(self.decided) if self.decided is not None else None,
            "decided_by": self.decided_by,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Pending:
        decided = data.get("decided")
        return cls(
            me=ref(data["me"]),
            content_hash=data["content_hash"],
            bands_answered=list(data["bands_answered"]),
            hash_answered=bool(data["hash_answered"]),
            exact_owner=ref(data["exact_owner"]) if data.get("exact_owner") else None,
            asked=list(data["asked"]),
            told=list(data.get("told", [])),
            verdicts={k: (float(v[0]), ref(v[1])) for k, v in data["verdicts"].items()},
            decided=(
                Decision(
                    decided["duplicate_of"], decided["kind"], decided["similarity"], ref(decided["canonical"])
                )
                if decided
                else None
            ),
            decided_by=data.get("decided_by"),
        )


@dataclass
class LocalState:
    """Where :class:`LocalDeduplicator` keeps what it knows: dicts by default; any mappings do
    (``khabar process`` passes stores on disk, so an archive of any size fits in memory)."""

    buckets: MutableMapping[str, list[Ref]] = field(default_factory=dict)  # band key -> documents
    owners: MutableMapping[str, dict[str, Any]] = field(default_factory=dict)  # content hash -> owner
    decisions: MutableMapping[str, Decision] = field(default_factory=dict)  # article_id -> decision
    shingles: MutableMapping[str, list[int]] = field(default_factory=dict)  # article_id -> shingles


class LocalDeduplicator:
    """The same decisions with all state in one process, for offline runs (``khabar process``).

    Feed documents in (event time, article_id) order and no correction is ever needed.
    """

    def __init__(self, horizon: Horizon | None = None, state: LocalState | None = None) -> None:
        self._horizon = horizon or Horizon()
        self._state = state or LocalState()

    def decide(self, me: Ref, content_hash: str, shingle_set: frozenset[int], bands: list[str]) -> Decision:
        known = self._state
        pending = Pending(me=me, content_hash=content_hash)
        mine = sorted(shingle_set)
        known.shingles[me[1]] = mine
        answer = buckets_answer({band: known.buckets.get(band, []) for band in bands}, me, self._horizon)
        for band_key, bucket in answer.updated.items():
            known.buckets[band_key] = bucket
        for candidate in pending.bands_answered_with(answer.bands, answer.earlier, answer.later)[0]:
            other = known.decisions.get(candidate[1])
            if other is None:
                pending.verdict(candidate[1], 0.0, candidate)
                continue
            pending.verdict(candidate[1], jaccard(known.shingles[candidate[1]], mine), other.canonical)
        owner = owner_answer(known.owners.get(content_hash), me, self._horizon)
        pending.owner_answered(owner.earlier)
        known.owners[content_hash] = owner.stored()
        decision = known.decisions[me[1]] = pending.decision()
        return decision
