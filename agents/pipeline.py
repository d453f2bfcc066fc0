"""The core composed: one raw page in, one article out (before the dedupe decision).

Both the streaming shell and ``khabar process`` call :func:`analyze`, so what the tests
measure is exactly what production runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from agents import StageError
from agents.clean import clean
from agents.dates import detect_dates
from agents.dedupe import article_id_for, content_hash
from agents.dedupe.near import band_keys, shingles, signature
from agents.language import analyze as analyze_language
from agents.limits import DEFAULT_LIMITS, TOO_DEEP, TOO_LARGE, TOO_SLOW, Limits
from schemas import Article, OtherLanguageSpan, RawPage, Stage

T = TypeVar("T")
StageObserver = Callable[[Stage, float], None]


def _ignore(stage: Stage, seconds: float) -> None:
    return None


def run_stage(
    stage: Stage,
    step: Callable[[], T],
    observe: StageObserver = _ignore,
    budget_seconds: float = DEFAULT_LIMITS.stage_seconds,
) -> T:
    """Run one stage; any unexpected exception becomes a StageError naming the stage.

    ``observe(stage, seconds)`` is told how long the stage took (the shell's metrics hook).
    A stage that took longer than ``budget_seconds`` raises StageError ``too_slow`` after it
    returns (stages are not interrupted: see :mod:`agents.limits`).
    """
    started = time.perf_counter()
    try:
        result = step()
    except StageError:
        raise
    except RecursionError as exc:
        raise StageError(stage, TOO_DEEP, f"{stage}: nesting too deep") from exc
    except MemoryError as exc:
        raise StageError(stage, TOO_LARGE, f"{stage}: out of memory") from exc
    except Exception as exc:
        raise StageError(stage, "internal_error", f"{stage}: {type(exc).__name__}: {exc}") from exc
    finally:
        seconds = time.perf_counter() - started
        observe(stage, seconds)
    if seconds > budget_seconds:
        message = f"{stage} took {seconds:.2f} s, over the {budget_seconds:g} s budget"
        raise StageError(stage, TOO_SLOW, message)
    return result


def analyze(raw: RawPage, *, limits: Limits = DEFAULT_LIMITS, observe: StageObserver = _ignore) -> Article:
    """Clean, detect language and dates. Raises StageError on bad input."""
    budget = limits.stage_seconds
    cleaned = run_stage("clean", lambda: clean(raw, limits=limits), observe, budget)
    text = "\n\n".join(cleaned.paragraphs)
    languages = run_stage("language", lambda: analyze_language(text), observe, budget)
    language = languages.language
    dates = run_stage("dates", lambda: detect_dates(cleaned, raw.url, raw.fetched_at), observe, budget)
    return Article(
        article_id=article_id_for(raw.url),
        url=raw.url,
        canonical_url=cleaned.canonical_url,
        site=cleaned.site,
        title=cleaned.title,
        subtitle=cleaned.subtitle,
        authors=list(cleaned.authors),
        text=text,
        language=language.code,
        language_confidence=round(language.confidence, 4),
        other_language_spans=[
            OtherLanguageSpan(span.code, span.start, span.end, round(span.confidence, 4))
            for span in languages.others()
            if span.code is not None
        ],
        published_at=dates.published_at,
        published_source=dates.published_source,
        published_confidence=round(dates.published_confidence, 4),
        updated_at=dates.updated_at,
        updated_source=dates.updated_source,
        fetched_at=raw.fetched_at,
        content_hash=content_hash(text),
        page_id=raw.page_id,
    )


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What the dedupe decision needs of an article's text besides its content hash."""

    shingles: frozenset[int]  # 5-word shingle hashes (the exact Jaccard check)
    bands: list[str]  # MinHash-LSH band keys (the candidates)


def fingerprint(
    article: Article, *, limits: Limits = DEFAULT_LIMITS, observe: StageObserver = _ignore
) -> Fingerprint:
    """The article's near-duplicate fingerprint, as a stage within the same time budget."""

    def step() -> Fingerprint:
        document_shingles = shingles(article.text)
        return Fingerprint(document_shingles, band_keys(signature(document_shingles)))

    return run_stage("fingerprint", step, observe, limits.stage_seconds)
