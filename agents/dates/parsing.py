"""Finding dates, clock times and time zones in short strings (header lines, meta values).

No date library: dateparser would guess at anything that looks like a date (relative dates,
lone numbers, partial dates) and it is slow to import; news headers use a known set of
formats, so explicit regular expressions parse them exactly and refuse the rest.
Everything works on :func:`normalize` output: lower case, ASCII digits (Arabic-Indic
٠-٩ and Persian ۰-۹ translated), no Arabic diacritics, tatweel or bidi marks, one alef,
one yeh, one kaf and one heh (so Arabic, Persian and Urdu spellings of a name meet).

Formats: ISO 8601 (and Y/M/D, Y.M.D); D/M/Y and M/D/Y numeric dates (both readings are kept
when both are possible, the caller decides by locale and evidence); day-month-year and
month-day-year with month names in English, Arabic (Egyptian, Levantine/Iraqi, Maghrebi),
Persian and Urdu transliterations, and the main European languages; CJK 年月日; Hijri dates
with month names or a هـ mark, and Persian solar (Jalali) dates, converted to Gregorian
(:mod:`agents.dates.calendars`); relative times ("منذ ساعتين", "أمس", "2 hours ago") against
the fetch time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from email.utils import parsedate_to_datetime

from agents.dates.calendars import hijri_to_gregorian, jalali_to_gregorian
from agents.text import CharReplacer

MIN_YEAR = 1995  # no news page we read was published before the web was

_DIGITS = CharReplacer(dict(zip("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "0123456789" * 2, strict=True)))
# Arabic, Persian and Urdu letter variants -> one form each.
_LETTERS = CharReplacer(
    {"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ی": "ي", "ى": "ي", "ے": "ي", "ک": "ك", "ة": "ه", "ۀ": "ه",
     "ہ": "ه", "ھ": "ه", "ۃ": "ه", "؍": "/", "٫": ".", "٬": ","}
)  # fmt: skip
_MARKS_RE = re.compile("[\u064b-\u065f\u0670\u0640\u200c\u200d\u200e\u200f\u202a-\u202e\u2066-\u2069\u061c]")
_SPACES_RE = re.compile(r"[\s\u00a0\u200b\u202f]+")


def normalize(text: str) -> str:
    """Lower case, ASCII digits, no diacritics/tatweel/bidi marks, one letter form, single spaces."""
    text = _LETTERS(_MARKS_RE.sub("", _DIGITS(text)))
    return _SPACES_RE.sub(" ", text).strip().lower()


def _names(table: dict[int, str]) -> dict[str, int]:
    """``{month: "name name2 ..."}`` -> normalized name -> month (``_`` joins multi-word names;
    ``name=month`` sets the month itself, for the mixed list under key 0)."""
    result: dict[str, int] = {}
    for month, names in table.items():
        for name in names.split():
            word, _, number = name.partition("=")
            result[normalize(word.replace("_", " "))] = int(number) if number else month
    return result


_GREGORIAN = _names(
    {
        # Romanian, Serbian/Bosnian/Croatian (not Croatian "listopad": October there, November in Polish)
        0: "ianuarie=1 siječnja=1 sijecnja=1 februarie=2 veljače=2 veljace=2 martie=3 ožujka=3 ozujka=3 "
        "aprilie=4 travnja=4 svibnja=5 iunie=6 lipnja=6 iulie=7 srpnja=7 avgust=8 kolovoza=8 septembar=9 "
        "septembrie=9 rujna=9 octombrie=10 oktobar=10 noiembrie=11 novembar=11 studenoga=11 "
        "decembrie=12 decembar=12 prosinca=12",
        1: "january jan يناير كانون_الثاني كانون_ثاني جانفي ژانويه جنوری janvier janv janv. januar "
        "jänner jan. enero ene gennaio janeiro januari ocak января январь січня styczeń stycznia leden ledna "
        "tammikuuta január",
        2: "february feb فبراير شباط فيفري فوريه فروری février fevrier févr févr. fevr februar febrero "
        "febbraio fevereiro februari şubat февраля февраль лютого lutego luty únor února helmikuuta "
        "február",
        3: "march mar مارس اذار آذار مارچ mars märz maerz marzo março marco maart mart марта март "
        "березня marca marzec března maaliskuuta március",
        4: "april apr ابريل أبريل إبريل نيسان افريل أفريل آوريل آوريل اپريل اپریل avril avr abril aprile "
        "nisan апреля апрель квітня kwietnia kwiecień dubna huhtikuuta április",
        5: "may مايو أيار ايار ماي مه مئی مئي mai mayo maggio maio mei mayıs мая май травня maja maj "
        "května toukokuuta május",
        6: "june jun يونيو يونيه حزيران جوان ژوئن جون juin juni junio giugno junho haziran июня июнь "
        "червня czerwca czerwiec června kesäkuuta június",
        7: "july jul يوليو يوليه تموز جويلية جويليه يوليوز ژوئیه ژوئيه جولای جولائی juillet juil juli julio "
        "luglio julho temmuz июля июль липня lipca lipiec července heinäkuuta július",
        8: "august aug اغسطس أغسطس آب اوت أوت غشت اوت آگوست اگست août aout agosto augustus agustus ağustos "
        "августа август серпня sierpnia sierpień srpna elokuuta augusztus",
        9: "september sept sep سبتمبر أيلول ايلول شتنبر سپتامبر ستمبر septembre settembre setembro "
        "septiembre setiembre eylül сентября сентябрь вересня września wrzesień září syyskuuta szeptember",
        10: "october oct اكتوبر أكتوبر تشرين_الأول تشرين_اول تشرين_الاول أكتوبر اکتبر اکتوبر octobre "
        "oktober octubre ottobre outubro ekim октября октябрь жовтня października październik října "
        "lokakuuta október okt",
        11: "november nov نوفمبر تشرين_الثاني تشرين_ثاني نونبر نوامبر نومبر novembre noviembre novembro "
        "kasım ноября ноябрь листопада listopada listopad listopadu marraskuuta",
        12: "december dec ديسمبر كانون_الأول كانون_اول كانون_الاول دجنبر دسامبر دسمبر décembre decembre "
        "dezember dez diciembre dicembre dezembro desember aralık декабря декабрь грудня grudnia "
        "grudzień prosince joulukuuta",
    }
)
# Abbreviations that are also ordinary words are only read right after a day number.
_HIJRI = _names(
    {
        1: "محرم المحرم",
        2: "صفر",
        3: "ربيع_الاول ربيع_الأول ربيع_اول ربیع‌الاول ربيع‌الاول",
        4: "ربيع_الاخر ربيع_الآخر ربيع_الثاني ربيع_ثاني ربیع‌الثانی ربيع‌الثاني",
        5: "جمادى_الاولى جمادى_الأولى جمادي_الاولي جمادى_الاول جمادی‌الاول جمادي‌الاولي جمادی‌الاولی",
        6: "جمادى_الاخرة جمادى_الآخرة جمادى_الثانية جمادي_الاخره جمادى_الثاني جمادی‌الثانی جمادی‌الثانیه",
        7: "رجب",
        8: "شعبان",
        9: "رمضان",
        10: "شوال",
        11: "ذو_القعدة ذي_القعدة ذوالقعدة ذيقعده ذی‌القعده ذی‌قعده ذوالقعدہ",
        12: "ذو_الحجة ذي_الحجة ذوالحجة ذيحجه ذی‌الحجه ذی‌حجه ذوالحجہ",
    }
)
_JALALI = _names(
    {
        1: "فروردین",
        2: "اردیبهشت",
        3: "خرداد",
        4: "تیر",
        5: "مرداد امرداد",
        6: "شهریور",
        7: "مهر",
        8: "آبان",
        9: "آذر",
        10: "دی",
        11: "بهمن",
        12: "اسفند",
    }
)
MONTHS: dict[str, int] = dict(_GREGORIAN)
# Weekday names (Monday = 0): a Hijri date next to its weekday is pinned to the exact day.
_WEEKDAYS = _names(
    {
        0: "الاثنين الإثنين اثنين دوشنبه پير monday",
        1: "الثلاثاء ثلاثاء سه‌شنبه سهشنبه منگل tuesday",
        2: "الاربعاء الأربعاء اربعاء چهارشنبه بدھ بدھ wednesday",
        3: "الخميس خميس پنجشنبه پنج‌شنبه جمعرات thursday",
        4: "الجمعة جمعة جمعه friday",
        5: "السبت سبت شنبه ہفتہ saturday",
        6: "الاحد الأحد احد یکشنبه يكشنبه اتوار sunday",
    }
)


def _alternation(names: dict[str, int]) -> str:
    """Longest names first, so "تشرين الثاني" wins over a shorter reading."""
    ordered = sorted(names, key=len, reverse=True)
    return "|".join(r"\s*".join(re.escape(word) for word in name.split()) for name in ordered)


def _name_key(text: str) -> str:
    return " ".join(text.split())


_W = r"[^\W\d_]"  # a letter
_MONTH = rf"(?:{_alternation(_GREGORIAN)})"
_HIJRI_MONTH = rf"(?:{_alternation(_HIJRI)})"
_JALALI_MONTH = rf"(?:{_alternation(_JALALI)})"
_ORDINAL = r"(?:st|nd|rd|th|er|e|ème|º|°|\.)?"
_SEP = r"[\s,،.\-]"

_ISO_RE = re.compile(
    r"(?<![\d/.:])(\d{4})([-/.])(\d{1,2})\2(\d{1,2})"
    r"(?:(?:t|\s+|\s*,\s*)(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*(z|[+-]\d{2}:?\d{2}|utc|gmt)?)?(?![\d/])"
)
_YEAR_DOT_RE = re.compile(r"(?<![\d.])(\d{4})\.\s(\d{1,2})\.\s?(\d{1,2})\.?(?![\d])")
_CJK_RE = re.compile(r"(?<!\d)(\d{4})\s*[年년]\s*(\d{1,2})\s*[月월]\s*(\d{1,2})\s*[日일]")
_DAY_MONTH_YEAR_RE = re.compile(
    rf"(?<![\d.])(\d{{1,2}}){_ORDINAL}{_SEP}*(?:of\s+|de\s+|di\s+)?({_MONTH})\.?(?!{_W})"
    rf"(?:\s*/\s*{_MONTH}(?!{_W}))?{_SEP}*(?:de\s+|del\s+)?(\d{{4}})(?!\d)"
)
_MONTH_DAY_YEAR_RE = re.compile(
    rf"(?<!{_W})({_MONTH})\.?(?!{_W})\s*(\d{{1,2}})(?:st|nd|rd|th)?(?!\d)(?:\s*[,،.]\s*|\s+)(\d{{4}})(?!\d)"
)
_NUMERIC_RE = re.compile(r"(?<![\d/.\-])(\d{1,2})([/.\-])\s?(\d{1,2})\2\s?(\d{4})(?![\d/\-]|\.\d)")
_NUMERIC_SHORT_RE = re.compile(r"(?<![\d/.\-:])(\d{1,2})([/.])(\d{1,2})\2(\d{2})(?![\d/.\-:])")
_HIJRI_MARK = r"(?:\s*(?:هـ|ه\b|هجري|هجريه|ق\b|ق\.|ھ))"
_HIJRI_NAMED_RE = re.compile(
    rf"(?<!\d)(\d{{1,2}}){_SEP}*({_HIJRI_MONTH})(?!{_W}){_SEP}*(1[34]\d\d)(?!\d)({_HIJRI_MARK})?"
)
_HIJRI_NUMERIC_RE = re.compile(
    rf"(?<![\d/.\-])(\d{{1,2}})([/.\-])(\d{{1,2}})\2(1[34]\d\d)(?![\d/.\-]){_HIJRI_MARK}"
)
_JALALI_NAMED_RE = re.compile(rf"(?<!\d)(\d{{1,2}}){_SEP}*({_JALALI_MONTH})(?!{_W}){_SEP}*(1[34]\d\d)(?!\d)")
_YEAR_RE = re.compile(r"\d{4}")
_SHORT_DATE_RE = re.compile(r"\d[/.]\d{2}(?!\d)")
_WEEKDAY_RE = re.compile(rf"(?<!{_W})({_alternation(_WEEKDAYS)})(?!{_W})")

_TIME_RE = re.compile(
    r"(?<![\d:])([01]?\d|2[0-3])[:h]([0-5]\d)(?::([0-5]\d))?(?![\d:])"
    r"(?:\s*(a\.?m\.?|p\.?m\.?|صباحا|مساء|ص|م)(?!\w))?"
)
_GMT_OFFSET_RE = re.compile(r"(?<![a-z])(?:gmt|utc)\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?(?!\d)")
_CLOCK_OFFSET_RE = re.compile(r"\s*([+-])(\d{2}):?(\d{2})(?![\d:])")
_GMT_RE = re.compile(r"(?<![a-z])(?:gmt|utc)(?![a-z])|غرينتش|جرينتش|غرينيتش|بتوقيت\s+لندن")
_FIXED_ZONES = {
    "cet": 1, "mez": 1, "cest": 2, "mesz": 2, "eet": 2, "eest": 3, "est": -5, "edt": -4,
    "cdt": -5, "pst": -8, "pdt": -7, "bst": 1, "msk": 3, "irst": 3.5, "pkt": 5,
}  # fmt: skip
_ZONE_ABBR_RE = re.compile(rf"(?<![a-z])({'|'.join(_FIXED_ZONES)})(?![a-z])")
# Only zones without daylight saving time: their offset is known whatever the date.
_ZONE_NAMES_RE = re.compile(
    r"توقيت\s+(?:(?P<plus3>مكه|مكه\s+المكرمه|السعوديه|الرياض|الدوحه|قطر|الكويت|بغداد|البحرين|عمان)"
    r"|(?P<plus4>الامارات|ابوظبي|ابو\s+ظبي|دبي|مسقط)|(?P<plus35>تهران|طهران|ايران))"
)


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
    fetched = as_aware(fetched_at)
    try:
        latest = fetched + timedelta(days=1)
    except OverflowError:  # a fetch time at the end of the calendar: nothing is later anyway
        latest = datetime.max.replace(tzinfo=UTC)
    return Window(datetime(MIN_YEAR, 1, 1, tzinfo=UTC), latest)


def as_aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def midnight(day: date) -> datetime:
    """A date-only result: midnight UTC of that day."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def is_midnight_utc(value: datetime) -> bool:
    return value.tzinfo == UTC and value.time() == time(0, 0)


@dataclass(frozen=True, slots=True)
class Found:
    """One date in a string: one reading, or two for an ambiguous numeric date (D/M first)."""

    days: tuple[date, ...]
    start: int
    end: int
    moment: datetime | None = None  # when the date carried its own time and offset
    kind: str = "named"  # iso | named | numeric | short | cjk | hijri | jalali
    approximate: bool = False  # a Hijri date converted without the Umm al-Qura table

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
    if text in ("z", "utc", "gmt"):
        return UTC
    digits = text[1:].replace(":", "")
    return _offset(text[0], digits[:2], digits[2:])


def _from_iso(match: re.Match[str]) -> Found | None:
    year, _, month, day, hour, minute, second, offset = match.groups()
    if 1300 <= int(year) <= 1420:  # a Persian site's Jalali Y/M/D (Hijri years are 1415+ and need a mark)
        jalali = jalali_to_gregorian(int(year), int(month), int(day))
        return None if jalali is None else Found((jalali,), match.start(), match.end(), kind="jalali")
    found_day = _make_day(int(year), int(month), int(day))
    if found_day is None:
        return None
    moment = None
    zone = _iso_offset(offset)
    if hour is not None and zone is not None and int(hour) < 24:
        clock = time(int(hour), int(minute), int(second or 0))
        moment = datetime.combine(found_day, clock, zone)
    return Found((found_day,), match.start(), match.end(), moment, kind="iso")


def _from_year_first(match: re.Match[str], kind: str) -> Found | None:
    year, month, day = (int(part) for part in match.groups()[:3])
    found_day = _make_day(year, month, day)
    return None if found_day is None else Found((found_day,), match.start(), match.end(), kind=kind)


def _from_named_month(match: re.Match[str], day_group: int, month_group: int) -> Found | None:
    month = MONTHS[_name_key(match.group(month_group))]
    found_day = _make_day(int(match.group(3)), month, int(match.group(day_group)))
    if found_day is None:
        return None
    return Found((found_day,), match.start(), match.end(), kind="named")


def _from_numeric(match: re.Match[str]) -> Found | None:
    first, separator, second, year = match.groups()
    readings = [_make_day(int(year), int(second), int(first))]
    if separator != ".":  # D.M.Y is day first everywhere; D/M/Y and M/D/Y both exist
        readings.append(_make_day(int(year), int(first), int(second)))
    days = tuple(dict.fromkeys(day for day in readings if day is not None))
    if not days:
        return None
    return Found(days, match.start(), match.end(), kind="numeric")


def _from_short_numeric(match: re.Match[str]) -> Found | None:
    first, separator, second, year = match.groups()
    full_year = 2000 + int(year)
    readings = [_make_day(full_year, int(second), int(first))]
    if separator != ".":
        readings.append(_make_day(full_year, int(first), int(second)))
    days = tuple(dict.fromkeys(day for day in readings if day is not None))
    if not days:
        return None
    return Found(days, match.start(), match.end(), kind="short")


def _weekday_before(text: str, start: int) -> int | None:
    """The weekday named just before a date (within a few characters), if any."""
    near = text[max(0, start - 16) : start]
    matches = list(_WEEKDAY_RE.finditer(near))
    return _WEEKDAYS[_name_key(matches[-1].group(1))] if matches else None


def _hijri_found(text: str, match: re.Match[str], day: int, month: int, year: int) -> Found | None:
    converted = hijri_to_gregorian(year, month, day, _weekday_before(text, match.start()))
    if converted is None:
        return None
    gregorian, exact = converted
    return Found((gregorian,), match.start(), match.end(), kind="hijri", approximate=not exact)


def _from_hijri_named(text: str, match: re.Match[str]) -> Found | None:
    month = _HIJRI[_name_key(match.group(2))]
    return _hijri_found(text, match, int(match.group(1)), month, int(match.group(3)))


def _from_hijri_numeric(text: str, match: re.Match[str]) -> Found | None:
    return _hijri_found(text, match, int(match.group(1)), int(match.group(3)), int(match.group(4)))


def _from_jalali_named(match: re.Match[str]) -> Found | None:
    month = _JALALI[_name_key(match.group(2))]
    found_day = jalali_to_gregorian(int(match.group(3)), month, int(match.group(1)))
    return None if found_day is None else Found((found_day,), match.start(), match.end(), kind="jalali")


def numeric_order(texts: list[str]) -> str | None:
    """ "dmy" or "mdy" when the page's unambiguous slash/dash dates all say so (13/2/2024 or 2/13/2024)."""
    votes = {"dmy": 0, "mdy": 0}
    for text in texts:
        for match in _NUMERIC_RE.finditer(text):
            first, separator, second = int(match.group(1)), match.group(2), int(match.group(3))
            if separator == ".":
                continue
            if first > 12 >= second:
                votes["dmy"] += 1
            elif second > 12 >= first:
                votes["mdy"] += 1
    if votes["dmy"] and not votes["mdy"]:
        return "dmy"
    if votes["mdy"] and not votes["dmy"]:
        return "mdy"
    return None


def pick_reading(found: Found, order: str | None) -> date | None:
    """The day a date names: its only reading, or the one the page's D/M order selects."""
    if not found.ambiguous:
        return found.days[0]
    if order == "dmy":
        return found.days[0]
    if order == "mdy":
        return found.days[1]
    return None


def _overlaps(found: Found, taken: list[Found]) -> bool:
    return any(found.start < other.end and other.start < found.end for other in taken)


def find_dates(text: str, *, short_years: bool = False) -> list[Found]:
    """Every full date (day, month and year) in normalized text, in order, without overlaps.

    ``short_years``: also read D.M.YY / D/M/YY (only where a date is expected, e.g. in an
    element marked as a date).
    """
    if _YEAR_RE.search(text) is None and not (short_years and _SHORT_DATE_RE.search(text)):
        return []  # every format needs a year
    taken: list[Found] = []

    def add(found: Found | None) -> None:
        if found is not None and not _overlaps(found, taken):
            taken.append(found)

    if any(ch >= "\u0600" for ch in text):
        for match in _HIJRI_NAMED_RE.finditer(text):
            add(_from_hijri_named(text, match))
        for match in _HIJRI_NUMERIC_RE.finditer(text):
            add(_from_hijri_numeric(text, match))
        for match in _JALALI_NAMED_RE.finditer(text):
            add(_from_jalali_named(match))
    for match in _ISO_RE.finditer(text):
        add(_from_iso(match))
    for match in _CJK_RE.finditer(text):
        add(_from_year_first(match, "cjk"))
    for match in _DAY_MONTH_YEAR_RE.finditer(text):
        add(_from_named_month(match, 1, 2))
    for match in _MONTH_DAY_YEAR_RE.finditer(text):
        add(_from_named_month(match, 2, 1))
    for match in _YEAR_DOT_RE.finditer(text):
        add(_from_year_first(match, "iso"))
    for match in _NUMERIC_RE.finditer(text):
        add(_from_numeric(match))
    if short_years:
        for match in _NUMERIC_SHORT_RE.finditer(text):
            add(_from_short_numeric(match))
    return sorted(taken, key=lambda found: found.start)


# --------------------------------------------------------------------------- relative times

_RELATIVE_UNITS = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1)}
_UNIT_WORDS = {
    "minute": "minute minutes min mins دقيقه دقيقة دقائق دقيقتين دقيقتان دقیقه منٹ منٹوں minuten minute",
    "hour": "hour hours hr hrs ساعه ساعة ساعات ساعتين ساعتان ساعت گھنٹے گھنٹہ گھنٹوں stunde stunden",
    "day": "day days يوم ايام أيام يومين يومان روز دن tag tagen",
}
_UNIT_OF = {normalize(word): unit for unit, words in _UNIT_WORDS.items() for word in words.split()}
_DUAL = {normalize(word) for word in ("ساعتين", "ساعتان", "دقيقتين", "دقيقتان", "يومين", "يومان")}
_COUNT_WORDS = {"an": 1, "a": 1, "one": 1, "two": 2, "three": 3, "einer": 1, "einem": 1, "zwei": 2}
_UNITS = "|".join(sorted((re.escape(word) for word in _UNIT_OF), key=len, reverse=True))
_AGO_RE = re.compile(
    rf"(?:(?<!{_W})منذ|(?<![a-z])vor)\s+(?:(\d{{1,3}}|{'|'.join(_COUNT_WORDS)})\s+)?({_UNITS})(?!{_W})"
    rf"|(?<!\w)(\d{{1,3}}|an|a|one|two|three)\s+({_UNITS})\s+(?:ago|پیش|پيش|قبل|پہلے|پهلي)(?!{_W})"
)
_YESTERDAY_RE = re.compile(r"(?<!\w)(?:yesterday|امس|البارحه|ديروز|gestern|hier)(?!\w)")


def find_relative(text: str, fetched_at: datetime) -> datetime | None:
    """A relative time in normalized text ("منذ ساعتين", "3 hours ago", "أمس") as a time or day.

    Minutes and hours give an instant (fetch time minus the delay); days and "yesterday"
    give that day at midnight UTC (day of the fetch time in its own zone, minus the days).
    """
    fetched = as_aware(fetched_at)
    match = _AGO_RE.search(text)
    if match is not None:
        count_text = match.group(1) or match.group(3)
        unit_word = match.group(2) or match.group(4)
        unit = _UNIT_OF[unit_word]
        if count_text is None:
            count = 2 if unit_word in _DUAL else 1
        else:
            count = int(count_text) if count_text.isdigit() else _COUNT_WORDS.get(count_text, 1)
        try:
            if unit == "day":
                return midnight(fetched.date() - timedelta(days=count))
            return fetched - count * _RELATIVE_UNITS[unit]
        except OverflowError:  # a fetch time at the start of the calendar
            return None
    if _YESTERDAY_RE.search(text):
        try:
            return midnight(fetched.date() - timedelta(days=1))
        except OverflowError:
            return None
    return None


# --------------------------------------------------------------------------- times and zones


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
    """A time zone named in normalized text: GMT±n, ±hh:mm, GMT/UTC, a fixed abbreviation
    (CET, EDT ...) or a fixed-offset capital ("توقيت مكة")."""
    offset = _GMT_OFFSET_RE.search(text)
    if offset is not None:
        return _offset(offset.group(1), offset.group(2), offset.group(3))
    named = _ZONE_NAMES_RE.search(text)
    if named is not None:
        hours = 3.0 if named.group("plus3") else 4.0 if named.group("plus4") else 3.5
        return timezone(timedelta(hours=hours))
    if _GMT_RE.search(text):
        return UTC
    abbreviation = _ZONE_ABBR_RE.search(text)
    if abbreviation is not None:
        return timezone(timedelta(hours=_FIXED_ZONES[abbreviation.group(1)]))
    return None


def find_clock(text: str) -> Clock | None:
    """The first time of day in normalized text, with the zone the text names (if any)."""
    match = _TIME_RE.search(text)
    if match is None:
        return None
    hour, minute, second, marker = match.groups()
    at = time(_hour_24(int(hour), marker), int(minute), int(second or 0))
    offset = _CLOCK_OFFSET_RE.match(text, match.end())
    if offset is not None:
        return Clock(at, _offset(*offset.groups()))
    return Clock(at, find_zone(text[match.end() : match.end() + 40]))


# --------------------------------------------------------------------------- markup values


def parse_machine_value(value: str) -> datetime | None:
    """A date from markup (ISO 8601, RFC 2822, or one unambiguous written date).

    Aware datetimes keep their offset; anything without an offset becomes its date at
    midnight UTC (its clock time is in an unknown zone).
    """
    text = normalize(value)
    if not text or len(text) > 80:
        return None
    parsed = _parse_iso_or_rfc(text)
    if parsed is None:
        found = find_dates(text)
        if len(found) != 1 or found[0].ambiguous or found[0].approximate:
            return None
        return found[0].moment or midnight(found[0].days[0])
    if parsed.tzinfo is None:
        return midnight(parsed.date())
    return parsed


def _parse_iso_or_rfc(text: str) -> datetime | None:
    if len(text) >= 8 and text[:4].isdigit():
        candidate = text.upper().replace(" ", "T", 1) if len(text) > 10 and text[10] == " " else text.upper()
        try:
            return datetime.fromisoformat(candidate)
        except ValueError:
            pass
    if not text[:1].isalpha():
        return None
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
