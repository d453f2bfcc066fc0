"""Publication and update dates from an article's own header lines (plain-text pages).

The clean stage sets the lines of the article header apart ("Published On 6/2/2026",
"تاريخ النشر: …", "آخر تحديث: 08:47 (توقيت مكة)"); body paragraphs and teaser lists never
reach this module, so dates mentioned in the story or in other articles' teasers are not
candidates. Each line is split at its labels ("published", "نشر في", "آخر تحديث" …) and
every date is attributed to the label before it. Labeled published dates win over bare
ones; any disagreement that cannot be settled returns nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from agents.dates.parsing import (
    Clock,
    Found,
    Window,
    find_clock,
    find_dates,
    is_midnight_utc,
    midnight,
    normalize,
)

Kind = Literal["published", "updated", "plain"]

# Update labels come first so "تاريخ التحديث" is not read as the published label "تاريخ".
_LABEL_RE = re.compile(
    r"(?P<updated>"
    r"(?<![a-z])(?:(?:last\s+)?(?:updated|modified)(?:\s+(?:on|at|date))?|(?:last\s+)?update(?:\s+date)?"
    r"|date\s+(?:updated|modified))(?![a-z])"
    r"|اخر\s+تحديث|تاريخ\s+(?:اخر\s+)?(?:ال)?تحديث|تم\s+(?:ال)?تحديث|(?<!\w)(?:محدث|تحديث)(?!\w)"
    r"|(?<![a-zçğıöşü])(?:son\s+)?güncelleme(?:\s+tarihi)?(?![a-zçğıöşü])"
    r"|(?<![a-z])mis\s+à\s+jour(?:\s+le)?(?![a-z])|بروزرسانی|به\s*روز\s*رسانی"
    r")|(?P<published>"
    r"(?<![a-z])(?:(?:first\s+)?published(?:\s+on)?|posted(?:\s+on)?|publication\s+date|dated?)(?![a-z])"
    r"|(?<![a-zçğıöşü])(?:yayınlanma|yayın)(?:\s+tarihi)?(?![a-zçğıöşü])|(?<![a-z])publié(?:\s+le)?(?![a-z])"
    r"|تاريخ\s+النشر|تم\s+النشر|نشر\s+(?:في|بتاريخ|يوم)|(?<!\w)نشر\s*:|(?<!\w)ب?تاريخ(?!\w)"
    r"|تاریخ\s+انتشار|منتشر\s+شده"
    r")"
)


@dataclass(frozen=True, slots=True)
class Segment:
    """A piece of a header line and the label it follows ("plain" when it has none)."""

    kind: Kind
    text: str


@dataclass(frozen=True, slots=True)
class Mention:
    """What one segment says: its dates (inside the window) and its clock time."""

    kind: Kind
    found: tuple[Found, ...]
    clock: Clock | None


@dataclass(frozen=True, slots=True)
class TextDates:
    published: datetime | None
    updated: datetime | None


def split_segments(line: str) -> list[Segment]:
    """Cut a normalized line at each label; the text before the first label is "plain"."""
    segments: list[Segment] = []
    kind: Kind = "plain"
    start = 0
    for match in _LABEL_RE.finditer(line):
        if match.start() > start:
            segments.append(Segment(kind, line[start : match.start()]))
        kind = "updated" if match.group("updated") else "published"
        start = match.end()
    segments.append(Segment(kind, line[start:]))
    return [segment for segment in segments if segment.text.strip()]


def _in_window(found: Found, window: Window) -> Found | None:
    days = tuple(day for day in found.days if window.accepts_day(day))
    if not days:
        return None
    moment = found.moment if found.moment is not None and window.accepts(found.moment) else None
    return Found(days, found.start, found.end, moment)


def read_mention(segment: Segment, window: Window) -> Mention:
    found = [_in_window(item, window) for item in find_dates(segment.text)]
    kept = tuple(item for item in found if item is not None)
    after_dates = segment.text[kept[-1].end :] if kept else segment.text
    return Mention(segment.kind, kept, find_clock(after_dates))


def read_mentions(lines: Iterable[str], window: Window) -> list[Mention]:
    return [read_mention(segment, window) for line in lines for segment in split_segments(normalize(line))]


def _firm_days(mentions: Sequence[Mention]) -> set[date]:
    """Days written unambiguously (ISO, month names) in non-update mentions."""
    return {
        found.days[0]
        for mention in mentions
        if mention.kind != "updated"
        for found in mention.found
        if not found.ambiguous
    }


def resolve_day(found: Found, firm: set[date]) -> date:
    """An ambiguous D/M/Y takes the reading another line confirms, else day first."""
    confirmed = [day for day in found.days if day in firm]
    return confirmed[0] if len(confirmed) == 1 else found.days[0]


def _single_day(mentions: Sequence[Mention], firm: set[date]) -> date | None:
    """The one day these mentions agree on; None when they name none or disagree."""
    days = {resolve_day(found, firm) for mention in mentions for found in mention.found}
    return days.pop() if len(days) == 1 else None


def _with_clock(day: date, clock: Clock | None, window: Window) -> datetime:
    """The day at the given time when its zone is known, else midnight UTC of the day."""
    if clock is None or clock.zone is None:
        return midnight(day)
    moment = datetime.combine(day, clock.at, clock.zone)
    return moment if window.accepts(moment) else midnight(day)


def _moment_of(day: date, mentions: Sequence[Mention], window: Window) -> datetime:
    """The most precise time the mentions give for ``day`` (only from single-date mentions)."""
    for mention in mentions:
        if len(mention.found) != 1 or day not in mention.found[0].days:
            continue
        found = mention.found[0]
        if found.moment is not None and found.moment.date() == day:
            return found.moment
        if mention.clock is not None and mention.clock.zone is not None:
            return _with_clock(day, mention.clock, window)
    return midnight(day)


def choose_published(mentions: Sequence[Mention], window: Window) -> datetime | None:
    firm = _firm_days(mentions)
    for kind in ("published", "plain"):
        group = [mention for mention in mentions if mention.kind == kind and mention.found]
        if group:
            day = _single_day(group, firm)
            return None if day is None else _moment_of(day, group, window)
    return None


def _update_candidates(mentions: Sequence[Mention], published: datetime, window: Window) -> set[datetime]:
    firm = _firm_days(mentions)
    candidates: set[datetime] = set()
    for mention in mentions:
        if mention.kind != "updated":
            continue
        if mention.found:
            day = _single_day([mention], firm)
            if day is not None:
                candidates.add(_moment_of(day, [mention], window))
        elif mention.clock is not None and mention.clock.zone is not None:
            # A time alone ("آخر تحديث: 08:47") is a time on the day of publication.
            candidates.add(_with_clock(published.date(), mention.clock, window))
    return candidates


def not_before(updated: datetime, published: datetime) -> bool:
    """An update cannot precede publication (date-only publication: compare local days)."""
    if is_midnight_utc(published):
        return updated.date() >= published.date()
    return updated >= published


def choose_updated(
    mentions: Sequence[Mention], published: datetime | None, window: Window
) -> datetime | None:
    if published is None:
        return None
    candidates = _update_candidates(mentions, published, window)
    if len(candidates) != 1:
        return None
    updated = candidates.pop()
    if not window.accepts(updated) or not not_before(updated, published):
        return None
    return updated


def dates_from_lines(lines: Iterable[str], window: Window) -> TextDates:
    """Published and updated times from header lines; None for anything uncertain."""
    mentions = read_mentions(lines, window)
    published = choose_published(mentions, window)
    return TextDates(published, choose_updated(mentions, published, window))
