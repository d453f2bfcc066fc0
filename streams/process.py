"""``khabar process``: the same core as the workers, offline: files in, JSONL out, no Kafka."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO

from tqdm import tqdm

from agents import StageError
from agents.dedupe import ExactDuplicateIndex, Owner
from agents.pipeline import analyze
from schemas import RawPage
from streams.sources import SourceProblem


@dataclass
class ProcessSummary:
    articles: int = 0
    duplicates: int = 0
    rejected: int = 0

    def describe(self) -> str:
        return f"{self.articles} articles, {self.duplicates} duplicates, {self.rejected} rejected"


def process(
    items: Iterable[RawPage | SourceProblem], out: BinaryIO, *, progress: bool = True
) -> ProcessSummary:
    """Write one JSON line per article, duplicates included (``duplicate_of`` set).

    Inputs that cannot be read or processed are reported on stderr and skipped.
    """
    summary = ProcessSummary()
    index = ExactDuplicateIndex()
    bar = tqdm(unit=" pages", desc="processing", disable=not progress, file=sys.stderr)
    try:
        for item in items:
            bar.update(1)
            if isinstance(item, SourceProblem):
                summary.rejected += 1
                bar.write(f"skipped {item.where}: {item.reason}: {item.message}", file=sys.stderr)
                continue
            try:
                article = analyze(item)
            except StageError as exc:
                summary.rejected += 1
                bar.write(f"rejected {item.url}: {exc.stage}/{exc.reason}: {exc}", file=sys.stderr)
                continue
            duplicate_of = index.check(article.content_hash, Owner.of(article.article_id, article.fetched_at))
            if duplicate_of is None:
                summary.articles += 1
            else:
                article.duplicate_of = duplicate_of
                article.duplicate_kind = "exact"
                summary.duplicates += 1
            out.write(article.to_json() + b"\n")
    finally:
        bar.close()
    return summary
