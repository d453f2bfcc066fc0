"""The core composed: one raw page in, one article out (before the dedupe decision).

Both the streaming shell and ``khabar process`` call :func:`analyze`, so what the tests
measure is exactly what production runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from agents import StageError
from agents.clean import DEFAULT_MAX_SIZE, clean
from agents.dates import detect_dates
from agents.dedupe import article_id_for, content_hash
from agents.language import analyze as analyze_language
from schemas import Article, OtherLanguageSpan, RawPage, Stage

T = TypeVar("T")
StageObserver = Callable[[Stage, float], None]


def _ignore(stage: Stage, seconds: float) -> None:
    return None


def run_stage(stage: Stage, step: Callable[[], T], observe: StageObserver = _ignore) -> T:
    """Run one stage; any unexpected exception becomes a StageError naming the stage.

    ``observe(stage, seconds)`` is told how long the stage took (the shell's metrics hook).
    """
    started = time.perf_counter()
    try:
        return step()
    except StageError:
        raise
    except RecursionError as exc:
        raise StageError(stage, "too_deep", f"{stage}: nesting too deep") from exc
    except MemoryError as exc:
        raise StageError(stage, "too_large", f"{stage}: out of memory") from exc
    except Exception as exc:
        raise StageError(stage, "internal_error", f"{stage}: {type(exc).__name__}: {exc}") from exc
    finally:
        observe(stage, time.perf_counter() - started)


def analyze(
    raw: RawPage, *, max_page_bytes: int = DEFAULT_MAX_SIZE, observe: StageObserver = _ignore
) -> Article:
    """Clean, detect language and dates, fingerprint. Raises StageError on bad input."""
    cleaned = run_stage("clean", lambda: clean(raw, max_size=max_page_bytes), observe)
    text = "\n\n".join(cleaned.paragraphs)
    languages = run_stage("language", lambda: analyze_language(text), observe)
    language = languages.language
    dates = run_stage("dates", lambda: detect_dates(cleaned, raw.url, raw.fetched_at), observe)
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
