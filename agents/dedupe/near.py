"""Near-duplicates: MinHash-LSH over word shingles of the matching form, verified by Jaccard.

Parameters, measured on the labelled set of ``tests/quality/near_duplicates_set.py`` (250
syndicated copies, 256 hard negatives; ``uv run python -m tests.quality.near_duplicates``):

* 5-word shingles of :func:`agents.dedupe.normalize_for_matching` text, as datatrove does;
  a syndicated copy with a dateline added or a sentence cut keeps most of its 5-grams,
  while two stories on the same template share few. Shorter shingles narrow the gap
  between the closest different pair and the least similar copy: 0.573 / 0.608 with 3
  words, 0.512 / 0.582 with 4, 0.471 / 0.557 with 5.
* 20 bands x 5 rows = 100 permutations: P(candidate | J) = 1 - (1 - J^5)^20 is 0.9996 at
  J = 0.8, 0.975 at 0.7, 0.80 at 0.6, 0.64 at 0.55, 0.47 at 0.5, 0.19 at 0.4, 0.05 at 0.3,
  0.006 at 0.2. Copies are not all near J = 0.8: 8% of the set's duplicate pairs lie
  between 0.55 and 0.7 (short briefs whose two sites leak different lines, two copies each
  edited by its own site), where datatrove's 14 x 8 (0.92 at 0.8, but 0.56 at 0.7 and 0.21
  at 0.6) finds about half. Averaged over permutation seeds, the share of the set's
  duplicates that become candidates (and pass the check below) is 0.906 for 14 x 8, 0.943
  for 16 x 7, 0.971 for 18 x 6 and 0.989 for 20 x 5 (goal 0.95). datasketch's "optimal"
  b x r for a 0.8 threshold (9 x 12 at 112 permutations) catches 0.47 at J = 0.8 and 0.73
  of the set. The price of 5 rows: 20 band keys per document instead of 14, and more
  candidates between J = 0.2 and 0.5 (briefs of one template, shared boilerplate), which
  the check below turns away.
* Every candidate is verified with the exact Jaccard of the two shingle sets before it is
  called a duplicate (:data:`NEAR_DUPLICATE_JACCARD` = 0.55). Different articles of the set
  reach at most J = 0.47 (two briefs of one template; at most 0.51 in 12 reseeded variants
  of the set); different stories on one template, follow-ups, other outlets' coverage of
  the same event and translations stay below 0.12. Duplicates start at 0.56 (0.46-0.57 in
  the variants: heavily edited short briefs). 0.55 keeps every different pair out with a
  margin; 0.4% of the duplicates (set and variants) fall below it, and 0.5 would win back
  only 0.2 points of recall while letting template briefs (up to 0.51) within reach.

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
BANDS = 20
ROWS = 5
PERMUTATIONS = BANDS * ROWS
NEAR_DUPLICATE_JACCARD = 0.55  # verified Jaccard of 5-word shingles that makes a near-duplicate

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
    # The same values as _hash32 of each window, a third faster: windows zipped, no calls per shingle.
    windows = map(" ".join, zip(*(words[start:] for start in range(SHINGLE_WORDS)), strict=False))
    blake2b, from_bytes = hashlib.blake2b, int.from_bytes
    return frozenset(
        [
            from_bytes(blake2b(w.encode("utf-8", "surrogatepass"), digest_size=4).digest(), "big")
            for w in windows
        ]
    )


def signature(hashes: Iterable[int]) -> np.ndarray:
    """The MinHash signature (PERMUTATIONS values) of a shingle set."""
    values = np.fromiter(hashes, dtype=np.uint64) % _PRIME
    if values.size == 0:
        return np.full(PERMUTATIONS, _EMPTY, dtype=np.uint64)
    permuted = _A[:, None] * values[None, :]
    # In place: a 100 x shingles array is large, and each temporary costs more than the math.
    # ((a * x) mod p + b) mod p with one remainder: a, x and b are below p < 2^32, so
    # a * x + b stays below 2^64 (0.41 -> 0.28 ms for 700 shingles, the same values).
    permuted += _B[:, None]
    np.remainder(permuted, _PRIME, out=permuted)
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
