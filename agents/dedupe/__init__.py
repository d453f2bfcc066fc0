"""Dedupe stage: stable article ids, content fingerprints and the exact-duplicate decision.

Three kinds of "same" are kept apart (see DESIGN.md):

* the same URL crawled again is the same article: :func:`article_id_for` depends on the
  URL alone, so a re-crawl re-publishes the same ``article_id`` (a new version when the
  content changed) and is never a duplicate;
* an exact copy under another URL has the same :func:`content_hash` of the normalized
  body; the copy points to the earliest document that has that hash;
* near-duplicates (MinHash-LSH) come in a later version.

Decisions are deterministic: documents are ordered by ``(event time, article_id)`` and a
duplicate always points to a strictly earlier document, so a cluster has exactly one
canonical. The decision is a pure function of the stored owner, so the streaming shell
keeps owners in a Faust table and ``khabar process`` keeps them in a dict.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

from agents.text import fold, strip_invisible
from schemas import Article

_NON_WORD = re.compile(r"[^\w]+")


def normalize_for_matching(text: str) -> str:
    """Fold the variants that differ between copies of one story, for fingerprints only.

    The matching form of :func:`agents.text.fold` (diacritics, tatweel, alef/ya/ta-marbuta
    variants, Arabic-Indic and Persian digits, case), without bidi marks and punctuation.
    """
    return " ".join(_NON_WORD.sub(" ", fold(strip_invisible(text))).split())


def _digest(data: str) -> str:
    return hashlib.blake2b(data.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def canonical_url(url: str) -> str:
    """The URL as an identity: scheme and host lower-cased, default port and fragment dropped."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    port = parts.port if parts.port not in (None, 80, 443) else None
    netloc = f"{host}:{port}" if port else host
    return urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", parts.query, ""))


def article_id_for(url: str) -> str:
    """Stable article id: the same URL always names the same article."""
    return _digest(canonical_url(url))


def content_hash(text: str) -> str:
    """Exact-duplicate key: hash of the normalized body text."""
    return _digest(normalize_for_matching(text))


@dataclass(frozen=True, order=True, slots=True)
class Owner:
    """The document that owns a fingerprint: the earliest by (event time, article_id)."""

    event_time: str  # UTC ISO 8601, so string order is time order
    article_id: str

    @classmethod
    def of(cls, article_id: str, event_time: datetime) -> Owner:
        return cls(event_time.astimezone(UTC).isoformat(), article_id)


def decide_exact(candidate: Owner, owner: Owner | None) -> tuple[str | None, Owner]:
    """Return ``(duplicate_of, new_owner)`` for ``candidate`` given the fingerprint's owner.

    A document never duplicates itself (a re-crawl or a replay of the same URL keeps it
    canonical), and a duplicate points only to a strictly earlier owner.
    """
    if owner is None:
        return None, candidate
    if owner.article_id == candidate.article_id:
        return None, min(owner, candidate)
    if owner < candidate:
        return owner.article_id, owner
    # The candidate is earlier than the stored owner: it becomes the canonical one.
    return None, candidate


@dataclass(frozen=True, slots=True)
class ExactDecision:
    """What to publish for one document, and the fingerprint's owner afterwards."""

    article: Article  # canonical (duplicate_of None) or a duplicate of an earlier owner
    owner: Article  # the document that owns the content hash from now on
    corrected: Article | None = None  # the previous owner, later than ``article``: now its duplicate


def resolve_exact(article: Article, owner: Article | None) -> ExactDecision:
    """Decide ``article`` against the current owner of its content hash.

    When an earlier document arrives after a later one took the hash, the later one is
    corrected: it is re-published as a duplicate of the earlier one, so the cluster keeps
    exactly one canonical whatever the arrival order.
    """
    candidate = Owner.of(article.article_id, article.fetched_at)
    previous = Owner.of(owner.article_id, owner.fetched_at) if owner is not None else None
    duplicate_of, winner = decide_exact(candidate, previous)
    if duplicate_of is not None and owner is not None:
        return ExactDecision(replace(article, duplicate_of=duplicate_of, duplicate_kind="exact"), owner)
    if owner is None or winner != candidate:
        return ExactDecision(article, owner or article)
    corrected = None
    if owner.article_id != article.article_id:
        corrected = replace(owner, duplicate_of=article.article_id, duplicate_kind="exact")
    return ExactDecision(article, article, corrected)
