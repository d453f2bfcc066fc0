"""The core composed: one raw page in, one article out (before the dedupe decision).

Both the streaming shell and ``khabar process`` call :func:`analyze`, so what the tests
measure is exactly what production runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from agents import StageError
from agents.clean import DEFAULT_MAX_SIZE, clean
from agents.dates import detect_dates
from agents.dedupe import article_id_for, content_hash
from agents.language import detect_language
from schemas import Article, RawPage, Stage

T = TypeVar("T")


def run_stage(stage: Stage, step: Callable[[], T]) -> T:
    """Run one stage; any unexpected exception becomes a StageError naming the stage."""
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


def analyze(raw: RawPage, *, max_page_bytes: int = DEFAULT_MAX_SIZE) -> Article:
    """Clean, detect language and dates, fingerprint. Raises StageError on bad input."""
    cleaned = run_stage("clean", lambda: clean(raw, max_size=max_page_bytes))
    text = "\n\n".join(cleaned.paragraphs)
    language = run_stage("language", lambda: detect_language(text))
    dates = run_stage("dates", lambda: detect_dates(cleaned, raw.url, raw.fetched_at))
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
        published_at=dates.published_at,
        published_source=dates.published_source,
        updated_at=dates.updated_at,
        fetched_at=raw.fetched_at,
        content_hash=content_hash(text),
        page_id=raw.page_id,
    )
