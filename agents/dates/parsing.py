"""Finding dates, clock times and time zones in short strings (header lines, meta values).

No date library: dateparser would guess at anything that looks like a date (relative dates,
lone numbers, partial dates) and it is slow to import; our headers use a small, known set of
formats, so a few explicit regular expressions parse them exactly and refuse the rest.
Everything works on :func:`normalize` output: lower case, ASCII digits (Arabic-Indic
٠-٩ and Persian ۰-۹ translated), no Arabic diacritics, tatweel or bidi marks, one alef.

Numeric dates are day first (Arabic and most non-US sites write D/M/Y); when both parts
could be the month the candidate keeps both readings and the caller decides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from email.utils import parsedate_to_datetime

MIN_YEAR = 1995  # no news page we read was published before the web was

_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "0123456789" * 2)
_MARKS_RE = re.compile("[\u064b-\u065f\u0670\u0640\u200e\u200f\u202a-\u202e\u2066-\u2069\u061c]")
_ALEF_RE = re.compile("[أإآٱ]")
_SPACES_RE = re.compile(r"[\s\u00a0\u200b]+")

_ENGLISH_MONTHS = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4,
    "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8,
    "september": 9, "sept": 9, "sep": 9, "october": 10, "oct": 10, "november": 11, "nov": 11,
    "december": 12, "dec": 12,
}  # fmt: skip
_FRENCH_MONTHS = {
    "janvier": 1, "février": 2, "fevrier": 2, "mars": 3, "avril": 4, "mai": 5, "juin": 6,
    "juillet": 7, "août": 8, "aout": 8, "septembre": 9, "octobre": 10, "novembre": 11,
    "décembre": 12, "decembre": 12,
}  # fmt: skip
_TURKISH_MONTHS = {
    "ocak": 1, "şubat": 2, "mart": 3, "nisan": 4, "mayıs": 5, "haziran": 6, "temmuz": 7,
    "ağustos": 8, "eylül": 9, "ekim": 10, "kasım": 11, "aralık": 12,
}  # fmt: skip
# Written already normalized (one alef): أبريل -> ابريل, آذار -> اذار, أيار -> ايار, آب -> اب.
_EGYPTIAN_MONTHS = {
    "يناير": 1, "فبراير": 2, "مارس": 3, "ابريل": 4, "مايو": 5, "يونيو": 6, "يونيه": 6,
    "يوليو": 7, "يوليه": 7, "اغسطس": 8, "سبتمبر": 9, "اكتوبر": 10, "نوفمبر": 11, "ديسمبر": 12,
}  # fmt: skip
_LEVANTINE_MONTHS = {
    "كانون الثاني": 1, "كانون ثاني": 1, "شباط": 2, "اذار": 3, "نيسان": 4, "ايار": 5,
    "حزيران": 6, "تموز": 7, "اب": 8, "ايلول": 9, "تشرين الاول": 10, "تشرين اول": 10,
    "تشرين الثاني": 11, "تشرين ثاني": 11, "كانون الاول": 12, "كانون اول": 12,
}  # fmt: skip
_MAGHREBI_MONTHS = {
    # Algeria and Tunisia (from French) ...
    "جانفي": 1, "فيفري": 2, "افريل": 4, "ماي": 5, "جوان": 6, "جويلية": 7, "جويليه": 7,
    "اوت": 8,
    # ... and Morocco.
    "يوليوز": 7, "غشت": 8, "شتنبر": 9, "نونبر": 11, "دجنبر": 12,
}  # fmt: skip
MONTHS: dict[str, int] = {
    **_ENGLISH_MONTHS,
    **_FRENCH_MONTHS,
    **_TURKISH_MONTHS,
    **_EGYPTIAN_MONTHS,
    **_LEVANTINE_MONTHS,
    **_MAGHREBI_MONTHS,
}


def _month_alternation() -> str:
    """Longest names first, so "تشرين الثاني" wins over a shorter reading."""
    names = sorted(MONTHS, key=len, reverse=True)
    return "|".join(r"\s+".join(re.escape(word) for word in name.split()) for name in names)


_MONTH = rf"(?:{_month_alternation()})"
_ORDINAL = r"(?:st|nd|rd|th)?"
_SEP = r"[\s,،.\-]"

_ISO_RE = re.compile(
    r"(?<![\d/.])(\d{4})([-/.])(\d{1,2})\2(\d{1,2})"
    r"(?:t(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(z|[+-]\d{2}:?\d{2})?)?(?![\d/.])"
)
_DAY_MONTH_YEAR_RE = re.compile(
    rf"(?<!\d)(\d{{1,2}}){_ORDINAL}{_SEP}*(?:of\s+)?({_MONTH})\.?(?!\w)"
    rf"(?:\s*/\s*{_MONTH}(?!\w))?{_SEP}+(\d{{4}})(?!\d)"
)
_MONTH_DAY_YEAR_RE = re.compile(
    rf"(?<!\w)({_MONTH})\.?(?!\w)\s*(\d{{1,2}}){_ORDINAL}(?!\d)[\s,،]+(\d{{4}})(?!\d)"
)
_NUMERIC_RE = re.compile(r"(?<![\d/.\-])(\d{1,2})([/.\-])(\d{1,2})\2(\d{4})(?![\d/.\-])")
_TIME_RE = re.compile(
    r"(?<![\d:])([01]?\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?(?![\d:])"
    r"(?:\s*(a\.?m\.?|p\.?m\.?|صباحا|مساء|ص|م)(?!\w))?"
)
_GMT_OFFSET_RE = re.compile(r"(?<![a-z])(?:gmt|utc)\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?(?!\d)")
_GMT_RE = re.compile(r"(?<![a-z])(?:gmt|utc)(?![a-z])|غرينتش|جرينتش|غرينيتش|بتوقيت\s+لندن")
# Only zones without daylight saving time: their offset is known whatever the date.
_ZONE_NAMES_RE = re.compile(
    r"توقيت\s+(?:(?P<plus3>مكه|مكة|مكة\s+المكرمة|السعودية|الرياض|الدوحة|قطر|الكويت|بغداد|البحرين)"
    r"|(?P<plus4>الامارات|ابوظبي|ابو\s+ظبي|دبي|مسقط))"
)


def normalize(text: str) -> str:
    """Lower case, ASCII digits, no diacritics/tatweel/bidi marks, one alef, single spaces."""
    text = text.translate(_DIGITS).replace("؍", "/")
    text = _ALEF_RE.sub("ا", _MARKS_RE.sub("", text))
    return _SPACES_RE.sub(" ", text).strip().lower()


@dataclass(frozen=True, slots=True)
class Window:
    """The plausible publication times: not before 1995, not after the fetch plus a day."""

    earliest: datetime
    latest: datetime

    def accepts(self, value: datetime) -> bool:
        return self.earliest <= value <= self.latest

    def accepts_day(self, day: date) -> bool:
        return self.accepts(midnight(day))


def window_for(fetched_at: datetime) -> Window:
    fetched = fetched_at if fetched_at.tzinfo is not None else fetched_at.replace(tzinfo=UTC)
    return Window(datetime(MIN_YEAR, 1, 1, tzinfo=UTC), fetched + timedelta(days=1))


def midnight(day: date) -> datetime:
    """A date-only result: midnight UTC of that day."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def is_midnight_utc(value: datetime) -> bool:
    return value.tzinfo == UTC and value.time() == time(0, 0)


@dataclass(frozen=True, slots=True)
class Found:
    """One date in a string: one reading, or two for an ambiguous numeric D/M/Y."""

    days: tuple[date, ...]
    start: int
    end: int
    moment: datetime | None = None  # when an ISO date carried its own time and offset

    @property
    def ambiguous(self) -> bool:
        return len(self.days) > 1


@dataclass(frozen=True, slots=True)
class Clock:
    """A time of day, with the zone it was written in when one was given."""

    at: time
    zone: tzinfo | None


def _make_day(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _offset(sign: str, hours: str, minutes: str | None) -> tzinfo | None:
    delta = timedelta(hours=int(hours), minutes=int(minutes or 0))
    if delta > timedelta(hours=14):
        return None
    return timezone(-delta if sign == "-" else delta)


def _iso_offset(text: str | None) -> tzinfo | None:
    if text is None:
        return None
    if text == "z":
        return UTC
    digits = text[1:].replace(":", "")
    return _offset(text[0], digits[:2], digits[2:])


def _from_iso(match: re.Match[str]) -> Found | None:
    year, _, month, day, hour, minute, second, offset = match.groups()
    found_day = _make_day(int(year), int(month), int(day))
    if found_day is None:
        return None
    moment = None
    zone = _iso_offset(offset)
    if hour is not None and zone is not None and int(hour) < 24:
        clock = time(int(hour), int(minute), int(second or 0))
        moment = datetime.combine(found_day, clock, zone)
    return Found((found_day,), match.start(), match.end(), moment)


def _from_named_month(match: re.Match[str], day_group: int, month_group: int) -> Found | None:
    month = MONTHS[" ".join(match.group(month_group).split())]
    found_day = _make_day(int(match.group(3)), month, int(match.group(day_group)))
    if found_day is None:
        return None
    return Found((found_day,), match.start(), match.end())


def _from_numeric(match: re.Match[str]) -> Found | None:
    first, _, second, year = match.groups()
    readings = [_make_day(int(year), int(second), int(first)), _make_day(int(year), int(first), int(second))]
    days = tuple(dict.fromkeys(day for day in readings if day is not None))
    if not days:
        return None
    return Found(days, match.start(), match.end())


def _overlaps(found: Found, taken: list[Found]) -> bool:
    return any(found.start < other.end and other.start < found.end for other in taken)


def find_dates(text: str) -> list[Found]:
    """Every full date (day, month and year) in normalized text, in order, without overlaps."""
    taken: list[Found] = []
    passes = (
        (_ISO_RE, _from_iso),
        (_DAY_MONTH_YEAR_RE, lambda m: _from_named_month(m, 1, 2)),
        (_MONTH_DAY_YEAR_RE, lambda m: _from_named_month(m, 2, 1)),
        (_NUMERIC_RE, _from_numeric),
    )
    for pattern, build in passes:
        for match in pattern.finditer(text):
            found = build(match)
            if found is not None and not _overlaps(found, taken):
                taken.append(found)
    return sorted(taken, key=lambda found: found.start)


def _hour_24(hour: int, marker: str | None) -> int:
    if marker is None:
        return hour
    afternoon = marker.startswith("p") or marker in ("م", "مساء")
    if afternoon and hour < 12:
        return hour + 12
    if not afternoon and hour == 12:
        return 0
    return hour


def find_zone(text: str) -> tzinfo | None:
    """A time zone named in normalized text: GMT±n, GMT/UTC, or a fixed-offset Arab capital."""
    offset = _GMT_OFFSET_RE.search(text)
    if offset is not None:
        return _offset(offset.group(1), offset.group(2), offset.group(3))
    if _GMT_RE.search(text):
        return UTC
    named = _ZONE_NAMES_RE.search(text)
    if named is None:
        return None
    return timezone(timedelta(hours=3 if named.group("plus3") else 4))


def find_clock(text: str) -> Clock | None:
    """The first time of day in normalized text, with the zone the text names (if any)."""
    match = _TIME_RE.search(text)
    if match is None:
        return None
    hour, minute, second, marker = match.groups()
    at = time(_hour_24(int(hour), marker), int(minute), int(second or 0))
    return Clock(at, find_zone(text))


def parse_machine_value(value: str) -> datetime | None:
    """A date from markup (ISO 8601, RFC 2822, or one unambiguous written date).

    Aware datetimes keep their offset; anything without an offset becomes its date at
    midnight UTC (its clock time is in an unknown zone).
    """
    text = normalize(value)
    if not text:
        return None
    parsed = _parse_iso_or_rfc(text)
    if parsed is None:
        found = find_dates(text)
        if len(found) != 1 or found[0].ambiguous:
            return None
        return found[0].moment or midnight(found[0].days[0])
    if parsed.tzinfo is None:
        return midnight(parsed.date())
    return parsed


def _parse_iso_or_rfc(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.upper())
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
