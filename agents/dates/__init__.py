"""Dates stage: the publication (and update) time of a page; none rather than a wrong one.

HTML pages are parsed once with lxml and four kinds of evidence are gathered:

* explicit metadata (:mod:`agents.dates.markup`): JSON-LD, ``<meta>``, ``<time>``;
* the URL's /YYYY/MM/DD/ — the publisher's own calendar day;
* dates shown on the page near the article's title (:mod:`agents.dates.page`), outside
  teaser lists, sidebars, "most read", comments, footers (© years) and story paragraphs;
* the article header lines the clean stage set apart (:mod:`agents.dates.text`).

They are weighed, not just taken in order (confidence in brackets):

1. the URL's day [0.97 when metadata or the page agrees, 0.85 alone, 0.7 when they disagree],
   unless metadata and the strong shown date (3) agree on another day [0.9]: a URL can be
   made the day before the story goes out, and two sources outweigh one;
2. metadata confirmed by a date shown on the page [0.97] — of all explicit sources, the first
   one that the page confirms (a UTC timestamp a day off the page's day is not confirmed);
3. a strong shown date (a date element or a labelled date near the title, with no rival of
   about the same strength) [0.75 alone; 0.8 when metadata is a day off, 0.6 when it is
   further off: templates put site-wide or first-version dates in metadata];
4. unconfirmed metadata [json-ld 0.9, meta 0.88, <time> 0.8] — none when another source
   gives the same minute and second a whole number of hours away on another day (one of
   them wrote local time with a UTC label, so the day is unknown);
5. the clean stage's header lines when no near shown date contradicts them [0.8 labelled,
   0.7 bare, 0.5 relative];
6. the one date shown near the title, weakly marked but uncontradicted (by other shown
   dates or by the header lines) [0.5];
7. only an update date ("Aktualisiert: 30.12.2016", "last edited …") [0.45; 0.4 from metadata].

A publication month that contradicts the URL's /YYYY/MM/ (other than the next month) gives
no date; so does metadata that contradicts itself when only weak evidence remains.
Plain-text pages: only their header lines (body paragraphs and teaser lists are never read).

Every result is timezone-aware: a date without a time (or with a time in an unknown zone)
is midnight UTC of that day; a time with an offset keeps its offset. Dates before 1995 or
more than a day after the fetch are refused. No date library is used: see
:mod:`agents.dates.parsing` for the formats and why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from agents.clean import Cleaned
from agents.dates.markup import (
    Conflict,
    MarkupDates,
    all_explicit_dates,
    date_from_url,
    month_from_url,
    parse_html,
    read_markup,
    update_only,
)
from agents.dates.page import Shown, flatten, page_order, shown_dates
from agents.dates.parsing import Window, as_aware, is_midnight_utc, midnight, window_for
from agents.dates.text import dates_from_lines, not_before


@dataclass(frozen=True, slots=True)
class Dates:
    published_at: datetime | None
    published_source: str | None  # "json-ld" | "meta" | "time-element" | "url" | "text"
    updated_at: datetime | None = None
    published_confidence: float = 0.0  # 0 when there is no date; see the module doc
    updated_source: str | None = None  # "json-ld" | "meta" | "time-element" | "text"


NO_DATES = Dates(None, None)

# Scores of shown dates (agents.dates.page.shown_dates): date element +2, label +2, near the
# title +1 (+0.5 farther), a dateline +1; in a link, far before the title, in a
# boilerplate-classed container: less.
_STRONG = 2.5  # a date element or a labelled date near the title
_NEAR = 600  # characters from the title
_MARGIN = 1.0  # a rival within this much of the best score makes the best one uncertain
_WEAK = 0.5  # the least a lone near date may score to be used when nothing else says anything
_LABELLED = 2.0  # an update label anywhere in the article ("Aktualisiert: 30.12.2016")
_MAX_ZONE_SECONDS = 14 * 3600  # the widest offset from UTC (UTC+14)
_CONFIDENCE = {"json-ld": 0.9, "meta": 0.88, "time-element": 0.8, "url": 0.85, "text": 0.75}


def detect_dates(cleaned: Cleaned, url: str, fetched_at: datetime) -> Dates:
    """Published and updated times of the page, or ``Dates(None, None)`` when unsure."""
    fetched = as_aware(fetched_at)
    window = window_for(fetched)
    if cleaned.html is not None:
        tree = cleaned.tree if cleaned.tree is not None else parse_html(cleaned.html)
        if tree is not None:
            return _from_html(tree, cleaned, url, window, fetched)
    return _from_lines(cleaned.header_lines, window, fetched)


def _from_lines(lines: list[str], window: Window, fetched: datetime) -> Dates:
    found = dates_from_lines(lines, window, fetched)
    if found.published is None:
        return NO_DATES
    updated_source = "text" if found.updated is not None else None
    return Dates(found.published, "text", found.updated, found.confidence, updated_source)


def _best(shown: list[Shown], kind: str | None = None) -> Shown | None:
    """The highest-scored shown date (of one kind), the nearest to the title on ties."""
    pool = [item for item in shown if (item.kind == kind if kind else item.kind != "updated")]
    if not pool:
        return None
    return max(pool, key=lambda item: (item.score, -abs(item.distance)))


def _best_near(shown: list[Shown]) -> Shown | None:
    """The best shown date near the title, else the best anywhere."""
    return _best([item for item in shown if abs(item.distance) <= _NEAR]) or _best(shown)


def _same_or_next(a: date, b: date) -> bool:
    return abs((a - b).days) <= 1


def _on_day(day: date, machine: MarkupDates | None) -> datetime:
    """``day``, with the metadata's time of day when the metadata names the same day."""
    if machine is not None and machine.published.date() == day:
        return machine.published
    return midnight(day)


def _from_html(tree: object, cleaned: Cleaned, url: str, window: Window, fetched: datetime) -> Dates:
    markup = read_markup(tree)
    explicit = all_explicit_dates(markup, url, window)
    machines = explicit if isinstance(explicit, list) else []
    machine = machines[0] if machines else None
    url_outcome = date_from_url(url, window)
    url_day = url_outcome.date() if isinstance(url_outcome, datetime) else None
    first = cleaned.paragraphs[0] if cleaned.paragraphs else None
    flat = flatten(tree, cleaned.title, first)
    shown = shown_dates(flat, window, order=page_order(flat), fetched=fetched)
    best = _best(shown)
    strong = best if best is not None and best.score >= _STRONG and _unrivalled(shown, best) else None
    shown_days = {item.day for item in shown}
    confirmed = next((item for item in machines if item.published.date() in shown_days), None)
    lines = dates_from_lines(cleaned.header_lines, window, fetched)

    published: datetime | None = None
    source: str | None = None
    confidence = 0.0
    attested = _attested(machines, strong)
    if url_day is not None and attested is not None and attested.published.date() != url_day:
        published, source, confidence = attested.published, attested.source, 0.9
        machine = attested
    elif url_day is not None:
        published, source = _on_day(url_day, machine), "url"
        agreeing = [day for day in (_day(machine), strong and strong.day) if day is not None]
        confidence = 0.97 if url_day in agreeing else 0.85 if not agreeing else 0.7
    elif confirmed is not None:
        published, source, confidence = confirmed.published, confirmed.source, 0.97
        machine = confirmed
    elif strong is not None:
        if machine is not None and machine.published.date() == strong.day:
            published, source, confidence = machine.published, machine.source, 0.97
        else:
            published, source = strong.moment or midnight(strong.day), "text"
            machine_day = _day(machine)
            near_machine = machine_day is not None and _same_or_next(strong.day, machine_day)
            confidence = 0.75 if machine is None else 0.8 if near_machine else 0.6
    elif machine is not None and _zone_slip(machine, machines):
        return NO_DATES  # one instant, two days: one source wrote local time as UTC
    elif machine is not None:
        published, source = machine.published, machine.source
        confidence = _CONFIDENCE[machine.source]
        if lines.published is not None and lines.published.date() != machine.published.date():
            confidence -= 0.2
    elif lines.published is not None and _agrees_with_near(shown, lines.published.date()):
        published, source, confidence = lines.published, "text", lines.confidence
    elif isinstance(explicit, Conflict):
        return NO_DATES  # the metadata contradicts itself (a listing?): no weak guesses
    elif (
        (weak := _best_near(shown)) is not None
        and weak.score >= _WEAK
        and _consistent(shown, weak)
        and (lines.published is None or lines.published.date() == weak.day)
    ):
        published, source, confidence = weak.moment or midnight(weak.day), "text", 0.5
    elif (only_update := _best(shown, "updated")) is not None and only_update.score >= _LABELLED:
        # The page names only its last update ("Stand: 26.02.2020"): the date of the version
        # it shows, the closest we can say to its publication.
        published, source, confidence = only_update.moment or midnight(only_update.day), "text", 0.45
    elif lines.published is None and lines.updated is not None:
        published, source, confidence = lines.updated, "text", 0.45
    elif not machines and (machine_update := update_only(markup, window)) is not None:
        published, source, confidence = machine_update, "meta", 0.4
    if published is None or source is None:
        return NO_DATES
    url_month = month_from_url(url)
    if url_month is not None and source != "url" and not _in_url_month(published, url_month):
        return NO_DATES  # the URL's /2019/10/ says another month: one of them is not this article's
    updated, updated_source = _updated(published, machine, shown, lines.updated)
    return Dates(published, source, updated, round(confidence, 2), updated_source)


def _zone_slip(machine: MarkupDates, machines: list[MarkupDates]) -> bool:
    """Another source gives the same clock minute and second a whole number of hours away
    (at most 14, the widest zone offset) on another day: one of them wrote local time with
    a wrong zone (``07:25:06Z`` beside ``21:25:06+00:00``), so the day is not known."""
    first = machine.published
    for other in machines:
        apart = abs((other.published - first).total_seconds())
        if (
            other.published.date() != first.date()
            and 0 < apart <= _MAX_ZONE_SECONDS
            and apart % 3600 == 0
            and not is_midnight_utc(other.published)
            and not is_midnight_utc(first)
        ):
            return True
    return False


def _attested(machines: list[MarkupDates], strong: Shown | None) -> MarkupDates | None:
    """The first metadata date on the day of the page's strong shown date."""
    if strong is None:
        return None
    return next((item for item in machines if item.published.date() == strong.day), None)


def _in_url_month(published: datetime, url_month: tuple[int, int]) -> bool:
    """In the URL's month, or the month after it (a folder made before the story was filed)."""
    months = (published.year * 12 + published.month) - (url_month[0] * 12 + url_month[1])
    return 0 <= months <= 1


def _day(machine: MarkupDates | None) -> date | None:
    return machine.published.date() if machine is not None else None


def _agrees_with_near(shown: list[Shown], day: date) -> bool:
    """``day`` is shown near the title, or nothing is."""
    near = {item.day for item in shown if item.kind != "updated" and abs(item.distance) <= _NEAR}
    return not near or day in near


def _unrivalled(shown: list[Shown], best: Shown) -> bool:
    """No other strong shown date near the title names another day (a list of dated items)."""
    return all(
        item.day == best.day
        for item in shown
        if item.kind != "updated"
        and item.score >= max(_STRONG, best.score - _MARGIN)
        and abs(item.distance - best.distance) <= _NEAR
    )


def _consistent(shown: list[Shown], best: Shown) -> bool:
    """No other shown date near the title, scored nearly as high, names another day."""
    return all(
        item.day == best.day
        for item in shown
        if item.kind != "updated" and abs(item.distance) <= _NEAR and item.score >= best.score - _MARGIN
    )


def _updated(
    published: datetime, machine: MarkupDates | None, shown: list[Shown], from_lines: datetime | None
) -> tuple[datetime | None, str | None]:
    candidates: list[tuple[datetime, str]] = []
    if machine is not None and machine.updated is not None:
        candidates.append((machine.updated, machine.source))
    labelled = _best(shown, "updated")
    if labelled is not None:
        candidates.append((labelled.moment or midnight(labelled.day), "text"))
    if from_lines is not None:
        candidates.append((from_lines, "text"))
    for updated, source in candidates:
        if not_before(updated, published) and updated != published:
            return updated, source
    return None, None
