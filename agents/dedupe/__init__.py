"""Dedupe stage: stable article ids, content fingerprints, and the order of documents.

Three kinds of "same" are kept apart (see DESIGN.md):

* the same URL crawled again is the same article: :func:`article_id_for` depends on the
  URL alone, so a re-crawl re-publishes the same ``article_id`` (a new version when the
  content changed) and is never a duplicate;
* an exact copy under another URL has the same :func:`content_hash` of the normalized
  body; the copy points to the earliest document that has that hash;
* a near-duplicate shares a MinHash-LSH band with an earlier document and verifies by the
  Jaccard of their shingles (:mod:`agents.dedupe.near`).

Decisions are deterministic: documents are ordered by :func:`document_ref` (event time,
article_id) and a duplicate always points to a strictly earlier document, so a cluster has
exactly one canonical. :mod:`agents.dedupe.clusters` holds the decision as a join of
answers, so the streaming shell can keep its state partitioned in Faust tables and
``khabar process`` can keep it in dicts.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from functools import lru_cache
from urllib.parse import urlsplit, urlunsplit

from agents.text import fold_letters, strip_invisible

_NON_WORD = re.compile(r"[^\w]+")


@lru_cache(maxsize=4)
def normalize_for_matching(text: str) -> str:
    """Fold the variants that differ between copies of one story, for fingerprints only.

    The matching form of :func:`agents.text.fold` (diacritics, tatweel, alef/ya/ta-marbuta
    variants, Arabic-Indic and Persian digits, case), without bidi marks and punctuation.
    The last few results are kept: the content hash and the shingles of a document both
    start from the matching form of the same text (about 1 ms for a 1,000-word article).
    """
    return " ".join(_NON_WORD.sub(" ", fold_letters(strip_invisible(text))).split())


def _digest(data: str) -> str:
    return hashlib.blake2b(data.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def canonical_url(url: str) -> str:
    """The URL as an identity: scheme and host lower-cased, default port and fragment dropped.

    A string that does not parse as a URL (a bad IPv6 host, a port out of range) is its
    own identity.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return url.strip()
    host = (parts.hostname or "").lower()
    port = port if port not in (80, 443) else None
    netloc = f"{host}:{port}" if port else host
    return urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", parts.query, ""))


def article_id_for(url: str) -> str:
    """Stable article id: the same URL always names the same article."""
    return _digest(canonical_url(url))


def content_hash(text: str) -> str:
    """Exact-duplicate key: hash of the normalized body text."""
    return _digest(normalize_for_matching(text))


Ref = tuple[str, str]  # (UTC ISO event time, article_id): sorts in time order, then by id


def document_ref(article_id: str, event_time: datetime) -> Ref:
    """The order of documents: a duplicate always points to a strictly smaller ref."""
    return (event_time.astimezone(UTC).isoformat(), article_id)
