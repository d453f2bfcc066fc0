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
    find_relative,
    is_midnight_utc,
    midnight,
    normalize,
)

Kind = Literal["published", "updated", "plain", "other"]

# Labels, written naturally and normalized when the module loads. Update labels are tried
# first so "تاريخ التحديث" is not read as the published label "تاريخ".
_UPDATED_LABELS = (
    "last updated on", "last updated at", "last updated", "updated on", "updated at", "updated",
    "last modified on", "last modified", "modified on", "modified", "last edited", "update date",
    "date updated", "date modified", "last update", "update",
    "آخر تحديث", "تاريخ آخر تحديث", "تاريخ التحديث", "تاريخ تحديث", "تم التحديث", "تم تحديث", "محدث", "تحديث",
    "son güncelleme tarihi", "son güncelleme", "güncelleme tarihi", "güncelleme", "güncellendi",
    "mis à jour le", "mis à jour", "modifié le", "actualisé le",
    "zuletzt aktualisiert am", "zuletzt aktualisiert", "zuletzt geändert am", "zuletzt geändert",
    "zuletzt bearbeitet", "aktualisiert am", "aktualisiert", "letzte aktualisierung", "letzte änderung",
    "geändert am", "stand", "actualizado el", "actualizado", "aggiornato il", "aggiornato", "atualizado em",
    "atualizado", "بروزرسانی", "به روز رسانی", "به‌روزرسانی", "اپ ڈیٹ",
)  # fmt: skip
_PUBLISHED_LABELS = (
    "first published on", "first published", "published on", "published", "posted on", "posted",
    "publication date", "date published", "released on", "date", "dated",
    "تاريخ النشر", "تم النشر", "نشر في", "نشر بتاريخ", "نشر يوم", "تاريخ",
    "yayınlanma tarihi", "yayınlanma", "yayın tarihi", "publié le", "publié", "créé le",
    "veröffentlicht am", "veröffentlicht", "erstellt am", "erstellt", "publiziert am", "publiziert",
    "erschienen am", "erschienen", "datum", "dieser artikel wurde am", "dieser beitrag wurde am",
    "geschrieben am", "verfasst am", "eingestellt am", "publicado el", "publicado em", "publicado",
    "pubblicato il", "pubblicato", "تاریخ انتشار", "منتشر شده", "زمان انتشار", "شائع", "تاریخ اشاعت",
)  # fmt: skip


def _label_alternation(labels: tuple[str, ...]) -> str:
    forms = sorted({normalize(label) for label in labels}, key=len, reverse=True)
    return "|".join(r"\s*".join(re.escape(word) for word in form.split()) for form in forms)


# Dates that are not the page's: availability, expiry, deadlines, event ranges ("bis 28.02.2021").
_OTHER_LABELS = (
    "available until", "available till", "until", "expires", "expiry date", "valid until", "deadline",
    "verfügbar bis", "gültig bis", "bis", "ablaufdatum", "anmeldeschluss", "frist", "jusqu'au",
    "disponible jusqu'au", "hasta", "fino al", "حتى", "لغاية", "findet am", "nächster termin", "termin",
    "next meeting", "event date",
)  # fmt: skip
_LABEL_RE = re.compile(
    rf"(?<!\w)(?:(?P<other>{_label_alternation(_OTHER_LABELS)})|(?P<updated>{_label_alternation(_UPDATED_LABELS)})"
    rf"|(?P<published>{_label_alternation(_PUBLISHED_LABELS)}))(?!\w)\s*:?"
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
    confidence: float = 0.0


def split_segments(line: str) -> list[Segment]:
    """Cut a normalized line at each label; the text before the first label is "plain"."""
    segments: list[Segment] = []
    kind: Kind = "plain"
    start = 0
    for match in _LABEL_RE.finditer(line):
        if match.start() > start:
            segments.append(Segment(kind, line[start : match.start()]))
        kind = "updated" if match.group("updated") else "other" if match.group("other") else "published"
        start = match.end()
    segments.append(Segment(kind, line[start:]))
    return [segment for segment in segments if segment.text.strip()]


def _in_window(found: Found, window: Window) -> Found | None:
    days = tuple(day for day in found.days if window.accepts_day(day))
    if not days:
        return None
    moment = found.moment if found.moment is not None and window.accepts(found.moment) else None
    return Found(days, found.start, found.end, moment, found.kind, found.approximate)


def read_mention(segment: Segment, window: Window) -> Mention:
    found = [
        _in_window(item, window) for item in find_dates(segment.text, short_years=segment.kind != "plain")
    ]
    kept = tuple(item for item in found if item is not None)
    if any(item.kind != "hijri" for item in kept):
        # "24 جمادى الآخرة 1446 هـ الموافق 26 ديسمبر 2024": the Gregorian date is the one to keep.
        kept = tuple(item for item in kept if item.kind != "hijri")
    after_dates = segment.text[kept[-1].end :] if kept else segment.text
    return Mention(segment.kind, kept, find_clock(after_dates))


def read_mentions(lines: Iterable[str], window: Window) -> list[Mention]:
    return [
        read_mention(segment, window)
        for line in lines
        for segment in split_segments(normalize(line))
        if segment.kind != "other"
    ]


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


def _only_approximate(mentions: Sequence[Mention], published: datetime) -> bool:
    """The day comes only from Hijri dates converted without the Umm al-Qura table."""
    days = [found for mention in mentions if mention.kind != "updated" for found in mention.found]
    return bool(days) and all(found.approximate for found in days)


def _relative(lines: Iterable[str], window: Window, fetched: datetime) -> datetime | None:
    """A relative time in a header line ("منذ ساعتين", "2 hours ago", "أمس"), if exactly one."""
    moments = {moment for line in lines if (moment := find_relative(normalize(line), fetched)) is not None}
    if len(moments) != 1:
        return None
    moment = moments.pop()
    return moment if window.accepts(moment) else None


def dates_from_lines(lines: Iterable[str], window: Window, fetched: datetime | None = None) -> TextDates:
    """Published and updated times from header lines; None for anything uncertain.

    Confidence: 0.8 for a labelled date ("نشر في", "Published"), 0.7 for a bare one, 0.5
    for a relative time. A Hijri date converted without the Umm al-Qura table (it can be a
    day off) is not given as the publication date on its own.
    """
    lines = list(lines)
    mentions = read_mentions(lines, window)
    published = choose_published(mentions, window)
    if published is not None and _only_approximate(mentions, published):
        published = None
    if published is None:
        updates = [mention for mention in mentions if mention.kind == "updated" and mention.found]
        if updates and len(updates) == len([mention for mention in mentions if mention.found]):
            # Only an update date ("last edited 2019-11-10"): given as the update, not as
            # the publication; the caller decides whether to fall back on it.
            day = _single_day(updates, _firm_days(mentions))
            return TextDates(None, None if day is None else _moment_of(day, updates, window))
        if fetched is None or any(mention.found for mention in mentions):
            return TextDates(None, None)
        relative = _relative(lines, window, fetched)
        return TextDates(relative, None, 0.5) if relative is not None else TextDates(None, None)
    labelled = any(mention.kind == "published" and mention.found for mention in mentions)
    return TextDates(published, choose_updated(mentions, published, window), 0.8 if labelled else 0.7)
