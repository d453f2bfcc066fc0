"""Dates stage: the publication (and update) time of a page; none rather than a wrong one.

HTML pages: the page's explicit metadata first (JSON-LD, ``<meta>``, ``<time>``, URL — see
:mod:`agents.dates.markup`), then the article's header lines as for plain text, and only
then htmldate's guess; metadata that contradicts itself (two article dates, a listing of
articles) ends the search with no date. Plain-text pages: only the header lines the clean stage set aside
(:mod:`agents.dates.text`); body paragraphs and teaser lists are never read.

Every result is timezone-aware: a date without a time (or with a time in an unknown zone)
is midnight UTC of that day; a time with an offset keeps its offset. Dates before 1995 or
more than a day after the fetch are refused. No date library (dateparser) is used: see
:mod:`agents.dates.parsing` for why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from agents.clean import Cleaned
from agents.dates.markup import Conflict, explicit_dates, htmldate_fallback
from agents.dates.parsing import window_for
from agents.dates.text import dates_from_lines


@dataclass(frozen=True, slots=True)
class Dates:
    published_at: datetime | None
    published_source: str | None  # "json-ld" | "meta" | "time-element" | "url" | "text" | "htmldate"
    updated_at: datetime | None = None


NO_DATES = Dates(None, None)


def detect_dates(cleaned: Cleaned, url: str, fetched_at: datetime) -> Dates:
    """Published and updated times of the page, or ``Dates(None, None)`` when unsure."""
    window = window_for(fetched_at)
    if cleaned.html is not None:
        explicit = explicit_dates(cleaned.html, url, window)
        if isinstance(explicit, Conflict):
            return NO_DATES
        if explicit is not None:
            return Dates(explicit.published, explicit.source, explicit.updated)
    from_text = dates_from_lines(cleaned.header_lines, window)
    if from_text.published is not None:
        return Dates(from_text.published, "text", from_text.updated)
    if cleaned.html is not None:
        guessed = htmldate_fallback(cleaned.html, url, window)
        if guessed is not None:
            return Dates(guessed, "htmldate")
    return NO_DATES
