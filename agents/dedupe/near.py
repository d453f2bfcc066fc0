"""Near-duplicates: MinHash-LSH over word shingles of the matching form, verified by Jaccard.

Parameters (cited in docs/choices.md):

* 5-word shingles of :func:`agents.dedupe.normalize_for_matching` text, as datatrove does;
  a syndicated copy with a dateline added or a sentence cut keeps most of its 5-grams,
  while two stories on the same template share few.
* 14 bands x 8 rows = 112 permutations: P(candidate) = 1 - (1 - J^8)^14 is 0.92 at J = 0.8
  and 0.41 at J = 0.7, 0.08 at J = 0.5; datasketch's "optimal" b x r for a 0.8 threshold
  catches only about 0.40 at J = 0.8, so we do not use it.
* Every candidate is verified with the exact Jaccard of the two shingle sets before it is
  called a duplicate (:data:`NEAR_DUPLICATE_JACCARD`), which keeps precision high.

Shingles are 32-bit hashes (BLAKE2b) so sets stay small: about 4 bytes per word.
The permutations are the classic ``(a * x + b) mod p`` family (p the largest prime below
2^32, fixed seeds), computed with numpy over all shingles at once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

import numpy as np

from agents.dedupe import normalize_for_matching

SHINGLE_WORDS = 5
BANDS = 14
ROWS = 8
PERMUTATIONS = BANDS * ROWS
NEAR_DUPLICATE_JACCARD = 0.5  # verified Jaccard of 5-word shingles that makes a near-duplicate

_PRIME = np.uint64(4_294_967_291)  # the largest prime below 2^32: a * x stays below 2^64
_EMPTY = np.uint64((1 << 32) - 1)
_SEEDS = np.random.default_rng(20261123)
_A = _SEEDS.integers(1, 4_294_967_291, size=PERMUTATIONS, dtype=np.uint64)
_B = _SEEDS.integers(0, 4_294_967_291, size=PERMUTATIONS, dtype=np.uint64)


def _hash32(data: str) -> int:
    return int.from_bytes(
        hashlib.blake2b(data.encode("utf-8", "surrogatepass"), digest_size=4).digest(), "big"
    )


def shingles(text: str) -> frozenset[int]:
    """32-bit hashes of the 5-word shingles of the text's matching form.

    Texts shorter than one shingle give one shingle of all their words (or nothing).
    """
    words = normalize_for_matching(text).split()
    if len(words) < SHINGLE_WORDS:
        return frozenset([_hash32(" ".join(words))]) if words else frozenset()
    return frozenset(
        _hash32(" ".join(words[i : i + SHINGLE_WORDS])) for i in range(len(words) - SHINGLE_WORDS + 1)
    )


def signature(hashes: Iterable[int]) -> np.ndarray:
    """The MinHash signature (PERMUTATIONS values) of a shingle set."""
    values = np.fromiter(hashes, dtype=np.uint64) % _PRIME
    if values.size == 0:
        return np.full(PERMUTATIONS, _EMPTY, dtype=np.uint64)
    permuted = ((_A[:, None] * values[None, :]) % _PRIME + _B[:, None]) % _PRIME
    result: np.ndarray = permuted.min(axis=1)
    return result


def band_keys(sig: np.ndarray) -> list[str]:
    """One key per band: documents sharing any key are candidates of each other."""
    keys = []
    for band in range(BANDS):
        chunk = sig[band * ROWS : (band + 1) * ROWS].astype(">u8").tobytes()
        keys.append(f"{band:02d}{hashlib.blake2b(chunk, digest_size=8).hexdigest()}")
    return keys


def jaccard(a: Sequence[int] | frozenset[int], b: Sequence[int] | frozenset[int]) -> float:
    """Exact Jaccard similarity of two shingle sets."""
    first, second = set(a), set(b)
    if not first and not second:
        return 1.0
    return len(first & second) / len(first | second)
