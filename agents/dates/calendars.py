"""Hijri and Persian solar (Jalali) dates to Gregorian, written out here (no dependency).

* **Jalali** (Solar Hijri, Iran and Afghanistan): the arithmetic of Kazimierz Borkowski's
  algorithm — the years that break the 33-year leap cycle, then the day of Nowruz in the
  Gregorian year — which matches the astronomical calendar for all years this project reads.
* **Hijri** (lunar): Saudi sites follow Umm al-Qura, a calendar computed from observations
  of the moon at Mecca that no closed formula reproduces; the ``hijridate`` package carries
  its official table. When that package is installed it is used; otherwise the tabular
  (arithmetical, "Kuwaiti") calendar is, which agrees with Umm al-Qura to within a day or two,
  so its results are marked approximate and a Hijri date alone gets a low confidence.
"""

from __future__ import annotations

import importlib
from datetime import date, timedelta
from typing import Any


def _load_hijridate() -> Any:
    """The optional ``hijridate`` module (exact Umm al-Qura conversion), or None."""
    try:
        return importlib.import_module("hijridate")
    except ImportError:  # pragma: no cover - depends on the environment
        return None


_hijridate = _load_hijridate()

# Jalali years where the 33-year leap pattern restarts (Borkowski).
_JALALI_BREAKS = (-61, 9, 38, 199, 426, 686, 756, 818, 1111, 1181, 1210, 1635, 2060, 2097, 2192, 2262)
_JALALI_MONTH_STARTS = (0, 31, 62, 93, 124, 155, 186, 216, 246, 276, 306, 336)


def _div(a: int, b: int) -> int:
    """Integer division truncated toward zero (the algorithm is written for it)."""
    quotient = abs(a) // abs(b)
    return quotient if (a >= 0) == (b > 0) else -quotient


def _mod(a: int, b: int) -> int:
    return a - _div(a, b) * b


def _nowruz(jalali_year: int) -> tuple[date, bool]:
    """The Gregorian date of 1 Farvardin of ``jalali_year`` and whether that year is leap."""
    gregorian_year = jalali_year + 621
    leap_jalali = -14
    previous = _JALALI_BREAKS[0]
    jump = 0
    for brk in _JALALI_BREAKS[1:]:
        jump = brk - previous
        if jalali_year < brk:
            break
        leap_jalali += _div(jump, 33) * 8 + _div(_mod(jump, 33), 4)
        previous = brk
    years = jalali_year - previous
    leap_jalali += _div(years, 33) * 8 + _div(_mod(years, 33) + 3, 4)
    if _mod(jump, 33) == 4 and jump - years == 4:
        leap_jalali += 1
    leap_gregorian = _div(gregorian_year, 4) - _div((_div(gregorian_year, 100) + 1) * 3, 4) - 150
    march_day = 20 + leap_jalali - leap_gregorian
    if jump - years < 6:
        years = years - jump + _div(jump + 4, 33) * 33
    leap = _mod(_mod(years + 1, 33) - 1, 4)
    return date(gregorian_year, 3, march_day), leap == 0


def jalali_to_gregorian(year: int, month: int, day: int) -> date | None:
    """The Gregorian date of a Jalali date, or None when it does not exist."""
    if not (1 <= month <= 12 and 1 <= day <= 31) or not (1 <= year <= 3000):
        return None
    start, leap = _nowruz(year)
    length = 31 if month <= 6 else 30 if month <= 11 else 30 if leap else 29
    if day > length:
        return None
    return start + timedelta(days=_JALALI_MONTH_STARTS[month - 1] + day - 1)


# The tabular Islamic calendar: 30-year cycle, leap years 2, 5, 7, 10, 13, 16, 18, 21, 24,
# 26, 29 ("Kuwaiti"); 1 Muharram AH 1 = 16 July 622 (Julian) = 19 July 622 (proleptic Gregorian).
_HIJRI_EPOCH = date(622, 7, 19).toordinal()


def _tabular_hijri(year: int, month: int, day: int) -> date | None:
    leap = (14 + 11 * year) % 30 < 11
    length = 30 if month % 2 == 1 or (month == 12 and leap) else 29
    if day > length:
        return None
    days = (year - 1) * 354 + (3 + 11 * year) // 30 + (59 * (month - 1) + 1) // 2 + day - 1
    return date.fromordinal(_HIJRI_EPOCH + days)


def hijri_to_gregorian(
    year: int, month: int, day: int, weekday: int | None = None
) -> tuple[date, bool] | None:
    """The Gregorian date of a Hijri date and whether it is exact or approximate.

    Exact: from Umm al-Qura (``hijridate``), or a tabular date moved by at most a day to the
    weekday the page wrote next to it (``weekday``: Monday = 0); otherwise approximate.
    """
    if not (1 <= month <= 12 and 1 <= day <= 30) or not (1 <= year <= 1600):
        return None
    if _hijridate is not None:
        try:
            gregorian = _hijridate.Hijri(year, month, day).to_gregorian()
            return date(gregorian.year, gregorian.month, gregorian.day), True
        except (ValueError, OverflowError):
            pass
    tabular = _tabular_hijri(year, month, day)
    if tabular is None:  # day 30 of a month the tabular calendar gives 29 days
        before = _tabular_hijri(year, month, day - 1)
        if before is None:
            return None
        tabular = before + timedelta(days=1)
    if weekday is not None:
        for shift in (0, -1, 1):
            moved = tabular + timedelta(days=shift)
            if moved.weekday() == weekday:
                return moved, True
        return None  # the weekday contradicts the date by more than a day
    return tabular, False
