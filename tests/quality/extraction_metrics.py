"""Scores for the extraction harness (:mod:`tests.quality.extraction`).

* :func:`shingle_counts` / :func:`macro_scores` follow the ScrapingHub article-extraction
  benchmark's ``evaluate.py`` as its README describes it: ``\\w+`` tokens, 4-gram shingles
  (one shorter shingle when a text has fewer than four tokens), multiset TP/FP/FN per page
  normalised by their sum; precision is the mean over the pages that predicted something
  (TP+FP > 0), recall the mean over the pages with gold (TP+FN > 0), F1 = 2PR/(P+R) of
  those means; a page with FP = FN = 0 scores P = R = 1.
* :func:`snippet_counts` is trafilatura's evaluation: whitespace-normalised substring tests
  of "with" snippets (must appear) and "without" snippets (must not), summed over a corpus.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

_TOKEN = re.compile(r"\w+", re.UNICODE)
_SPACE = re.compile(r"\s+")
_TITLE_TRIM = " \t\"'“”‘’«»„"


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text or "")


def shingles(text: str, n: int = 4) -> Counter[tuple[str, ...]]:
    words = tokens(text)
    grams = (tuple(words[i : i + n]) for i in range(max(1, len(words) - n + 1)))
    return Counter(gram for gram in grams if gram)


@dataclass(frozen=True, slots=True)
class Shares:
    """TP, FP and FN of one page, normalised so that they sum to 1 (all 0 when both are empty)."""

    tp: float
    fp: float
    fn: float

    @property
    def precision(self) -> float | None:
        """None when the page predicted nothing (the benchmark leaves it out of the mean)."""
        if self.tp + self.fp == 0:
            return None
        return 1.0 if self.fp == self.fn == 0 else self.tp / (self.tp + self.fp)

    @property
    def recall(self) -> float | None:
        """None when the page has no gold text."""
        if self.tp + self.fn == 0:
            return None
        return 1.0 if self.fp == self.fn == 0 else self.tp / (self.tp + self.fn)


def shingle_counts(gold: str, predicted: str, n: int = 4) -> Shares:
    """The benchmark's per-page TP/FP/FN over 4-gram shingles (multiset overlap)."""
    expected = shingles(gold, n)
    found = shingles(predicted, n)
    tp = fp = fn = 0
    for key in expected.keys() | found.keys():
        want, got = expected.get(key, 0), found.get(key, 0)
        tp += min(want, got)
        fp += max(0, got - want)
        fn += max(0, want - got)
    total = tp + fp + fn
    if not total:
        return Shares(0.0, 0.0, 0.0)
    return Shares(tp / total, fp / total, fn / total)


def exact_tokens(gold: str, predicted: str) -> bool:
    """The benchmark's "accuracy": the token sequences are identical."""
    return tokens(gold) == tokens(predicted)


@dataclass(frozen=True, slots=True)
class Scores:
    f1: float
    precision: float
    recall: float


def macro_scores(precisions: Iterable[float | None], recalls: Iterable[float | None]) -> Scores:
    """Mean precision and recall over the pages where each is defined, and F1 of the means."""
    kept_p = [value for value in precisions if value is not None]
    kept_r = [value for value in recalls if value is not None]
    precision = sum(kept_p) / len(kept_p) if kept_p else 0.0
    recall = sum(kept_r) / len(kept_r) if kept_r else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Scores(f1, precision, recall)


def norm_space(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


@dataclass(frozen=True, slots=True)
class SnippetCounts:
    tp: int  # "with" snippets found
    fp: int  # "without" snippets found
    fn: int  # "with" snippets missing
    tn: int  # "without" snippets absent

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None


def snippet_counts(predicted: str, with_: Sequence[str], without: Sequence[str]) -> SnippetCounts:
    text = norm_space(predicted)
    tp = sum(1 for snippet in with_ if norm_space(snippet) in text)
    fp = sum(1 for snippet in without if norm_space(snippet) in text)
    return SnippetCounts(tp, fp, len(with_) - tp, len(without) - fp)


def micro_scores(counts: Iterable[SnippetCounts]) -> Scores:
    """trafilatura's corpus scores: counts summed over pages, F1 = 2TP / (2TP + FP + FN)."""
    tp = fp = fn = 0
    for item in counts:
        tp, fp, fn = tp + item.tp, fp + item.fp, fn + item.fn
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return Scores(f1, precision, recall)


def title_key(title: str | None) -> str:
    """Comparable form of a title: NFKC, case-folded, spaces collapsed, outer quotes trimmed."""
    if not title:
        return ""
    return norm_space(unicodedata.normalize("NFKC", title).casefold()).strip(_TITLE_TRIM)


def same_title(gold: str | None, predicted: str | None) -> bool:
    return title_key(gold) == title_key(predicted)


def same_author(gold: str, given: Iterable[str]) -> bool:
    """A name given contains the gold name(s) or is contained in them, after the title folding
    (so "Jane Doe" is right for the gold "Jane Doe; John Roe", and so is "By Jane Doe")."""
    wanted = title_key(gold)
    return any((name := title_key(author)) and (name in wanted or wanted in name) for author in given)
