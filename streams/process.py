"""``khabar process``: the same core as the workers, offline: files in, JSONL out, no Kafka."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO

from tqdm import tqdm

from agents import StageError
from agents.dedupe import document_ref
from agents.dedupe.clusters import LocalDeduplicator
from agents.limits import DEFAULT_LIMITS, Limits
from agents.pipeline import Fingerprint, analyze, fingerprint
from schemas import Article, RawPage
from streams.sources import SourceProblem


@dataclass
class ProcessSummary:
    articles: int = 0
    duplicates: int = 0
    rejected: int = 0

    def describe(self) -> str:
        return f"{self.articles} articles, {self.duplicates} duplicates, {self.rejected} rejected"


def process(
    items: Iterable[RawPage | SourceProblem],
    out: BinaryIO,
    *,
    progress: bool = True,
    limits: Limits = DEFAULT_LIMITS,
) -> ProcessSummary:
    """Write one JSON line per article, duplicates included (``duplicate_of`` set).

    Duplicates are decided once every page is analyzed, in (fetch time, article_id) order,
    so the earliest copy is canonical whatever the input order; lines come in that order.
    Inputs that cannot be read or processed are reported on stderr and skipped.
    """
    summary = ProcessSummary()
    analyzed: list[tuple[Article, Fingerprint]] = []
    bar = tqdm(unit=" pages", desc="processing", disable=not progress, file=sys.stderr)
    try:
        for item in items:
            bar.update(1)
            if isinstance(item, SourceProblem):
                summary.rejected += 1
                bar.write(f"skipped {item.where}: {item.reason}: {item.message}", file=sys.stderr)
                continue
            try:
                article = analyze(item, limits=limits)
                analyzed.append((article, fingerprint(article, limits=limits)))
            except StageError as exc:
                summary.rejected += 1
                bar.write(f"rejected {item.url}: {exc.stage}/{exc.reason}: {exc}", file=sys.stderr)
                continue
    finally:
        bar.close()
    deduplicator = LocalDeduplicator()
    for article, prints in sorted(analyzed, key=lambda a: document_ref(a[0].article_id, a[0].fetched_at)):
        me = document_ref(article.article_id, article.fetched_at)
        decision = deduplicator.decide(me, article.content_hash, prints.shingles, prints.bands)
        article.duplicate_of = decision.duplicate_of
        article.duplicate_kind = decision.kind  # type: ignore[assignment]
        article.similarity = decision.similarity
        if decision.duplicate_of is None:
            summary.articles += 1
        else:
            summary.duplicates += 1
        out.write(article.to_json() + b"\n")
    return summary
