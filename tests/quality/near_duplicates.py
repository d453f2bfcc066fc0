"""Near-duplicate evaluation: Khabar's MinHash-LSH + Jaccard check beside datasketch, one run.

Run from the repository root::

    uv run python -m tests.quality.near_duplicates            # the tables
    uv run python -m tests.quality.near_duplicates --errors   # plus every miss and false alarm

Data: the labelled set of :mod:`tests.quality.near_duplicates_set` (its docstring says how it
is built; ``gold/near_duplicates*.jsonl`` hold the documents' fingerprints and the labels,
and the run warns when the rebuilt set differs from them).

Systems, all over the same shingles (:func:`agents.dedupe.near.shingles`: 5-word shingles of
the matching form, 32-bit hashes):

* ``khabar``: :func:`~agents.dedupe.near.signature` and :func:`~agents.dedupe.near.band_keys`
  (BANDS x ROWS); documents sharing a band key are candidates, and a candidate is a
  duplicate when the exact Jaccard of the two shingle sets is at least
  ``NEAR_DUPLICATE_JACCARD``. ``khabar (bands only)`` is the same without that check.
* ``datasketch t=0.8``: ``MinHashLSH(threshold=0.8, num_perm=112)`` with its default
  "optimal" bands x rows, over ``MinHash(num_perm=112)`` of the same shingles (each shingle
  given as its 4 bytes); every candidate is called a duplicate, as datasketch users do.
* ``datasketch 14x8``: the same with ``params=(14, 8)`` (datatrove's shape), and
  ``datasketch BxR`` with Khabar's own bands x rows; ``+ Jaccard`` adds Khabar's check.

Scores:

* ``pairs``: precision, recall and F1 over the labelled pairs: a pair is called a duplicate
  when the second document is among the first's candidates (and passes the check).
* ``stream``: all documents in one seeded random order, each queried against the earlier
  ones only, then inserted. A document "points to" its earliest verified candidate (as
  :mod:`agents.dedupe.clusters` decides). It should point somewhere when an earlier document
  is a copy of the same story (same group); a pointer is right when it points into the
  group. Precision = right pointers / pointers, recall = right pointers / documents that
  should point.
* ``docs/s``: stream documents per second of this process (shingles, sketch, query, check
  and insert, all included; one thread).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from datasketch import MinHash, MinHashLSH  # type: ignore[import-untyped]

from agents.dedupe import near
from tests.quality.near_duplicates_set import SEED, Document, LabelledSet, Pair, build, differences

STREAM_SEED = f"{SEED}:stream"
DATASKETCH_PERMUTATIONS = 112
DATATROVE_SHAPE = (14, 8)  # datatrove's bands x rows, the reference


# -- systems ---------------------------------------------------------------------------------
class Index:
    """An LSH index over documents; ``query`` returns earlier documents' ids."""

    name = ""
    check: float | None = None  # the Jaccard a candidate must reach (None: every candidate)

    def sketch(self, text: str) -> tuple[frozenset[int], object]:
        raise NotImplementedError

    def query(self, sketch: object) -> set[str]:
        raise NotImplementedError

    def insert(self, key: str, sketch: object) -> None:
        raise NotImplementedError


class KhabarIndex(Index):
    def __init__(self, check: float | None) -> None:
        self.name = f"khabar {near.BANDS}x{near.ROWS}" + (
            " + Jaccard" if check is not None else " (bands only)"
        )
        self.check = check
        self.buckets: dict[str, list[str]] = defaultdict(list)

    def sketch(self, text: str) -> tuple[frozenset[int], object]:
        hashes = near.shingles(text)
        return hashes, near.band_keys(near.signature(hashes))

    def query(self, sketch: object) -> set[str]:
        assert isinstance(sketch, list)
        return {key for band in sketch for key in self.buckets.get(band, ())}

    def insert(self, key: str, sketch: object) -> None:
        assert isinstance(sketch, list)
        for band in sketch:
            self.buckets[band].append(key)


class DatasketchIndex(Index):
    def __init__(
        self, *, threshold: float = 0.8, params: tuple[int, int] | None = None, check: float | None
    ) -> None:
        self.lsh = MinHashLSH(threshold=threshold, num_perm=DATASKETCH_PERMUTATIONS, params=params)
        shape = f"{self.lsh.b}x{self.lsh.r}"
        label = f"t={threshold} ({shape})" if params is None else shape
        self.name = f"datasketch {label}" + (" + Jaccard" if check is not None else "")
        self.check = check

    def sketch(self, text: str) -> tuple[frozenset[int], object]:
        hashes = near.shingles(text)
        minhash = MinHash(num_perm=DATASKETCH_PERMUTATIONS)
        minhash.update_batch([h.to_bytes(4, "big") for h in hashes])
        return hashes, minhash

    def query(self, sketch: object) -> set[str]:
        return set(self.lsh.query(sketch))

    def insert(self, key: str, sketch: object) -> None:
        self.lsh.insert(key, sketch)


def systems(threshold: float) -> list[Callable[[], Index]]:
    same = (near.BANDS, near.ROWS)
    return [
        lambda: KhabarIndex(threshold),
        lambda: KhabarIndex(None),
        lambda: DatasketchIndex(threshold=0.8, check=None),
        lambda: DatasketchIndex(params=DATATROVE_SHAPE, check=None),
        lambda: DatasketchIndex(params=same, check=None),
        lambda: DatasketchIndex(params=same, check=threshold),
    ]


# -- scoring ---------------------------------------------------------------------------------
@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class Result:
    name: str
    pairs: Score
    stream: Score
    docs_per_second: float
    called: dict[tuple[str, str], bool] = field(default_factory=dict)  # pair -> called duplicate
    stream_errors: list[str] = field(default_factory=list)


def _passes(index: Index, a: frozenset[int], b: frozenset[int]) -> bool:
    return index.check is None or near.jaccard(a, b) >= index.check


def score_pairs(
    make: Callable[[], Index], labelled: LabelledSet
) -> tuple[Score, dict[tuple[str, str], bool]]:
    index = make()
    sketches = {doc.id: index.sketch(doc.text) for doc in labelled.documents}
    for key, (_, sketch) in sketches.items():
        index.insert(key, sketch)
    score = Score()
    called = {}
    for pair in labelled.pairs:
        a, b = sketches[pair.a], sketches[pair.b]
        said = pair.b in index.query(a[1]) and _passes(index, a[0], b[0])
        called[(pair.a, pair.b)] = said
        if said and pair.duplicate:
            score.tp += 1
        elif said:
            score.fp += 1
        elif pair.duplicate:
            score.fn += 1
    return score, called


def stream_order(labelled: LabelledSet) -> list[Document]:
    order = list(labelled.documents)
    random.Random(STREAM_SEED).shuffle(order)
    return order


def score_stream(make: Callable[[], Index], order: Sequence[Document]) -> tuple[Score, float, list[str]]:
    index = make()
    position = {doc.id: i for i, doc in enumerate(order)}
    group = {doc.id: doc.group for doc in order}
    shingles: dict[str, frozenset[int]] = {}
    pointers: dict[str, str | None] = {}
    started = time.process_time()
    for doc in order:
        hashes, sketch = index.sketch(doc.text)
        verified = [c for c in index.query(sketch) if _passes(index, hashes, shingles[c])]
        pointers[doc.id] = min(verified, key=position.__getitem__) if verified else None
        index.insert(doc.id, sketch)
        shingles[doc.id] = hashes
    elapsed = time.process_time() - started
    score = Score()
    errors = []
    seen: set[str] = set()
    for doc in order:
        should = doc.group in seen
        seen.add(doc.group)
        pointer = pointers[doc.id]
        if pointer is not None and group[pointer] == doc.group:
            score.tp += 1
        elif pointer is not None:
            score.fp += 1
            errors.append(f"false: {doc.id} -> {pointer}")
            if should:
                score.fn += 1
        elif should:
            score.fn += 1
            errors.append(f"missed: {doc.id}")
    return score, len(order) / elapsed if elapsed else float("inf"), errors


def evaluate(make: Callable[[], Index], labelled: LabelledSet, order: Sequence[Document]) -> Result:
    pairs, called = score_pairs(make, labelled)
    stream, speed, errors = score_stream(make, order)
    return Result(make().name, pairs, stream, speed, called, errors)


# -- reports ---------------------------------------------------------------------------------
def candidate_probability(jaccard: float, bands: int, rows: int) -> float:
    return float(1 - (1 - jaccard**rows) ** bands)


def print_composition(labelled: LabelledSet) -> None:
    kinds = Counter((p.duplicate, p.kind) for p in labelled.pairs)
    langs = ", ".join(f"{k} {v}" for k, v in sorted(Counter(doc.lang for doc in labelled.documents).items()))
    print(f"Set: {len(labelled.documents)} documents ({langs}), {len(labelled.pairs)} labelled pairs")
    for (duplicate, kind), count in sorted(kinds.items(), key=lambda item: (not item[0][0], item[0][1])):
        print(f"  {'duplicate' if duplicate else 'different':9}  {kind:22} {count:4}")


def print_results(results: Sequence[Result]) -> None:
    width = max(len(r.name) for r in results)
    scores = f"{'pairs P':>7} {'R':>6} {'F1':>6}   {'stream P':>8} {'R':>6} {'F1':>6}"
    header = f"{'system':{width}}  {scores}   {'docs/s':>7}"
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r.name:{width}}  {r.pairs.precision:7.3f} {r.pairs.recall:6.3f} {r.pairs.f1:6.3f}   "
            f"{r.stream.precision:8.3f} {r.stream.recall:6.3f} {r.stream.f1:6.3f}   {r.docs_per_second:7.0f}"
        )


def pair_jaccards(labelled: LabelledSet) -> dict[Pair, float]:
    docs = labelled.by_id()
    cache: dict[str, frozenset[int]] = {}

    def of(key: str) -> frozenset[int]:
        if key not in cache:
            cache[key] = near.shingles(docs[key].text)
        return cache[key]

    return {pair: near.jaccard(of(pair.a), of(pair.b)) for pair in labelled.pairs}


def print_jaccards(labelled: LabelledSet, jaccards: dict[Pair, float]) -> None:
    print("Exact Jaccard of the labelled pairs (5-word shingles):")
    by_kind: dict[tuple[bool, str], list[float]] = defaultdict(list)
    for pair, value in jaccards.items():
        by_kind[(pair.duplicate, pair.kind)].append(value)
    for (duplicate, kind), values in sorted(by_kind.items(), key=lambda item: (not item[0][0], item[0][1])):
        q = np.quantile(values, [0, 0.1, 0.5, 1])
        label = "duplicate" if duplicate else "different"
        print(f"  {label:9}  {kind:22} min {q[0]:.3f}  p10 {q[1]:.3f}  median {q[2]:.3f}  max {q[3]:.3f}")


def print_curve(jaccards: dict[Pair, float], datasketch_shape: tuple[int, int]) -> None:
    """P(candidate | J) of the shapes, and the recall each would have averaged over seeds."""
    shapes = [(near.BANDS, near.ROWS), DATATROVE_SHAPE, datasketch_shape]
    names = "  ".join(f"{b}x{r}".rjust(6) for b, r in shapes)
    print(f"P(candidate | J) by bands x rows ({names}), and the duplicate pairs in each J range:")
    positives = [v for p, v in jaccards.items() if p.duplicate]
    for low in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9):
        count = sum(low <= v < low + 0.1 or (low == 0.9 and v == 1.0) for v in positives)
        values = "  ".join(f"{candidate_probability(low, b, r):6.3f}" for b, r in shapes)
        print(f"  J={low:.1f}:  {values}   duplicates with J in [{low:.1f}, {low + 0.1:.1f}): {count:3}")
    threshold = near.NEAR_DUPLICATE_JACCARD
    expected = "  ".join(
        f"{sum(candidate_probability(v, b, r) for v in positives if v >= threshold) / len(positives):6.3f}"
        for b, r in shapes
    )
    print(f"  pairs recall averaged over permutation seeds (J >= {threshold}):  {expected}")


def print_sweep(
    labelled: LabelledSet, jaccards: dict[Pair, float], called: dict[tuple[str, str], bool]
) -> None:
    """Khabar's pair scores for other thresholds (candidates from the bands-only run)."""
    print("Threshold sweep (khabar bands + Jaccard >= t, pairs):")
    for t in (0.3, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.8):
        score = Score()
        for pair in labelled.pairs:
            said = called[(pair.a, pair.b)] and jaccards[pair] >= t
            if said and pair.duplicate:
                score.tp += 1
            elif said:
                score.fp += 1
            elif pair.duplicate:
                score.fn += 1
        print(f"  t={t:.2f}: P {score.precision:.3f}  R {score.recall:.3f}  F1 {score.f1:.3f}")


def print_breakdown(labelled: LabelledSet, result: Result) -> None:
    print(f"By kind ({result.name}, pairs):")
    docs = labelled.by_id()
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for pair in labelled.pairs:
        said = result.called[(pair.a, pair.b)]
        kind = f"{'duplicate' if pair.duplicate else 'different'} / {pair.kind}"
        totals[kind][0] += said
        totals[kind][1] += 1
        if pair.duplicate:
            for edit in set(docs[pair.a].edits) | set(docs[pair.b].edits):
                totals[f"duplicate with edit {edit}"][0] += said
                totals[f"duplicate with edit {edit}"][1] += 1
    for kind, (yes, count) in sorted(totals.items()):
        print(f"  {kind:40} called duplicate {yes:3} / {count:3}")


def print_errors(labelled: LabelledSet, result: Result, jaccards: dict[Pair, float]) -> None:
    print(f"Errors ({result.name}):")
    for pair in labelled.pairs:
        if result.called[(pair.a, pair.b)] != pair.duplicate:
            what = "missed" if pair.duplicate else "false"
            print(f"  pair {what}: J={jaccards[pair]:.3f} {pair.kind}: {pair.a} / {pair.b}")
    for line in result.stream_errors:
        print(f"  stream {line}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Near-duplicate detection: Khabar vs datasketch.")
    parser.add_argument("--errors", action="store_true", help="list Khabar's misses and false alarms")
    args = parser.parse_args(argv)

    labelled = build()
    problems = differences(labelled)
    if problems:
        print(f"WARNING: the built set differs from the gold files ({len(problems)}): {problems[:3]}")
        print("         rebuild them with: uv run python -m tests.quality.near_duplicates_set")
    print_composition(labelled)
    print()

    order = stream_order(labelled)
    threshold = near.NEAR_DUPLICATE_JACCARD
    results = [evaluate(make, labelled, order) for make in systems(threshold)]
    print(
        f"NEAR_DUPLICATE_JACCARD = {threshold}; stream of {len(order)} documents; goal P >= 0.99, R >= 0.95"
    )
    print_results(results)
    print()

    jaccards = pair_jaccards(labelled)
    print_jaccards(labelled, jaccards)
    print()
    default_shape = DatasketchIndex(threshold=0.8, check=None).lsh
    print_curve(jaccards, (default_shape.b, default_shape.r))
    print()
    print_sweep(labelled, jaccards, results[1].called)
    print()
    print_breakdown(labelled, results[0])
    if args.errors:
        print()
        print_errors(labelled, results[0], jaccards)
    return 0


if __name__ == "__main__":
    sys.exit(main())
