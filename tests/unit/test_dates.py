"""Dates stage: header-line formats, HTML metadata, and refusing to guess."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from agents.clean import Cleaned
from agents.dates import Dates, detect_dates
from agents.dates.calendars import hijri_to_gregorian, jalali_to_gregorian
from agents.dates.page import classify_classes, classify_names
from agents.dates.parsing import find_dates, normalize, parse_machine_value

FETCHED = datetime(2026, 2, 7, 12, 0, tzinfo=UTC)
URL = "https://example.com/news/story"
MECCA = timezone(timedelta(hours=3))


def day(year: int, month: int, dom: int) -> datetime:
    return datetime(year, month, dom, tzinfo=UTC)


def text_page(*header_lines: str, paragraphs: list[str] | None = None) -> Cleaned:
    return Cleaned(title="عنوان", paragraphs=paragraphs or ["نص الخبر."], header_lines=list(header_lines))


def html_page(html: str, *header_lines: str) -> Cleaned:
    return Cleaned(title="عنوان", paragraphs=["نص الخبر."], header_lines=list(header_lines), html=html)


def core(dates: Dates) -> Dates:
    """The published/updated fields only (confidence and update source are tested apart)."""
    return Dates(dates.published_at, dates.published_source, dates.updated_at)


def published(cleaned: Cleaned, url: str = URL, fetched_at: datetime = FETCHED) -> datetime | None:
    return detect_dates(cleaned, url, fetched_at).published_at


# --------------------------------------------------------------------------- the seeds


def test_seed_000_header() -> None:
    cleaned = text_page(
        " date 2026-02-06 أخبار|تركيا", "Published On 6/2/2026", "آخر تحديث: 08:47 (توقيت مكة)"
    )
    assert core(detect_dates(cleaned, URL, FETCHED)) == Dates(
        day(2026, 2, 6), "text", datetime(2026, 2, 6, 8, 47, tzinfo=MECCA)
    )


def test_seed_002_header() -> None:
    cleaned = text_page("تاريخ النشر: 26th, December 2024 GMT")
    assert core(detect_dates(cleaned, URL, FETCHED)) == Dates(day(2024, 12, 26), "text")


@pytest.mark.parametrize("name", ["001_a35260540b61ab77", "003_044eab46fc7fdd04", "004_3f08d7278be308a9"])
def test_seeds_without_header_date_have_none(seeds_dir: Path, name: str) -> None:
    """Their bodies hold teaser dates (04/12/2025 …) and story dates (15 يوليو): none is read."""
    body = (seeds_dir / f"{name}.txt").read_text(encoding="utf-8")
    paragraphs = [part.strip() for part in body.split("\n") if part.strip()]
    assert core(detect_dates(text_page(paragraphs=paragraphs), URL, FETCHED)) == Dates(None, None)


def test_body_and_teaser_dates_are_ignored() -> None:
    paragraphs = [
        "وزار الرئيس المدينة في 15 يوليو 2016 بعد محاولة الانقلاب.",
        "أنقرة: على المجتمع الدولي التحرك بحزم",
        "04/12/2025",
        "05/02/2026",
    ]
    assert core(detect_dates(text_page(paragraphs=paragraphs), URL, FETCHED)) == Dates(None, None)


# --------------------------------------------------------------------------- header formats


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("2024-12-26", day(2024, 12, 26)),
        ("date 2024/12/26", day(2024, 12, 26)),
        ("Published On 26/12/2024", day(2024, 12, 26)),
        ("Published: 26.12.2024", day(2024, 12, 26)),
        ("Posted on December 26, 2024", day(2024, 12, 26)),
        ("Published Dec. 26th, 2024", day(2024, 12, 26)),
        ("Thursday 26 Dec 2024", day(2024, 12, 26)),
        ("1st of March 2025", day(2025, 3, 1)),
        ("نشر في 26 ديسمبر 2024", day(2024, 12, 26)),
        ("نُشر بتاريخ: الخميس، 3 أبريل 2025", day(2025, 4, 3)),
        ("نشر في 3 ابريل 2025", day(2025, 4, 3)),
        ("الأحد 8 يونيه 2025", day(2025, 6, 8)),
        ("تاريخ النشر: 9 أكتوبر 2025", day(2025, 10, 9)),
        ("الخميس 26 كانون الأول 2024", day(2024, 12, 26)),
        ("نشر في 2 كانون الثاني 2025", day(2025, 1, 2)),
        ("14 شباط 2025", day(2025, 2, 14)),
        ("4 آب 2025", day(2025, 8, 4)),
        ("11 تشرين الثاني 2025", day(2025, 11, 11)),
        ("نشر في 15 جويلية 2025", day(2025, 7, 15)),
        ("الجمعة 7 فيفري 2025", day(2025, 2, 7)),
        ("20 أوت 2025", day(2025, 8, 20)),
        ("نشر في 26 دجنبر 2024", day(2024, 12, 26)),
        ("3 غشت 2025", day(2025, 8, 3)),
        ("15 يوليوز 2025", day(2025, 7, 15)),
        ("26 يوليو/ تموز 2024", day(2024, 7, 26)),
        ("نشر في ٢٦ ديسمبر ٢٠٢٤", day(2024, 12, 26)),
        ("تاريخ النشر: ۲۶/۱۲/۲۰۲۴", day(2024, 12, 26)),
        ("نشر في ٢٠٢٤-١٢-٢٦", day(2024, 12, 26)),
        ("الخميس 24 جمادى الآخرة 1446 هـ الموافق 26 ديسمبر 2024", day(2024, 12, 26)),
        ("Yayınlanma: 26 Aralık 2024", day(2024, 12, 26)),
        ("Publié le 26 décembre 2024", day(2024, 12, 26)),
    ],
)
def test_header_date_formats(line: str, expected: datetime) -> None:
    assert core(detect_dates(text_page(line), URL, FETCHED)) == Dates(expected, "text")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Published 2026-02-06T08:47:00+03:00", datetime(2026, 2, 6, 8, 47, tzinfo=MECCA)),
        ("نُشر في 26 ديسمبر 2024 - 10:30 مساءً بتوقيت مكة", datetime(2024, 12, 26, 22, 30, tzinfo=MECCA)),
        ("Dec 26, 2024 10:30 am GMT", datetime(2024, 12, 26, 10, 30, tzinfo=UTC)),
        ("Dec 26, 2024 09:15 GMT+4", datetime(2024, 12, 26, 9, 15, tzinfo=timezone(timedelta(hours=4)))),
        # A time in an unknown zone is dropped: the day is still right.
        ("نشر في 26/12/2024 10:30", day(2024, 12, 26)),
    ],
)
def test_header_times_with_zones(line: str, expected: datetime) -> None:
    assert published(text_page(line)) == expected


def test_day_first_is_the_default_for_ambiguous_numeric_dates() -> None:
    assert published(text_page("Published On 6/2/2026")) == day(2026, 2, 6)


def test_iso_line_confirms_the_month_first_reading() -> None:
    assert published(text_page("date 2025-06-02", "Published On 6/2/2025")) == day(2025, 6, 2)


def test_month_first_when_the_day_cannot_be_a_month() -> None:
    assert published(text_page("Published: 12/26/2024")) == day(2024, 12, 26)


def test_updated_with_its_own_date() -> None:
    dates = detect_dates(text_page("نشر في 26/12/2024 | آخر تحديث 27/12/2024 09:00 GMT"), URL, FETCHED)
    assert core(dates) == Dates(day(2024, 12, 26), "text", datetime(2024, 12, 27, 9, 0, tzinfo=UTC))


def test_update_time_without_zone_is_dropped() -> None:
    dates = detect_dates(text_page("Published On 6/2/2026", "آخر تحديث: 08:47"), URL, FETCHED)
    assert core(dates) == Dates(day(2026, 2, 6), "text", None)


def test_update_before_publication_is_dropped() -> None:
    dates = detect_dates(text_page("Published: 2025-03-10", "Updated: 2025-03-01"), URL, FETCHED)
    assert core(dates) == Dates(day(2025, 3, 10), "text", None)


def test_update_label_is_not_read_as_published() -> None:
    assert published(text_page("تاريخ التحديث: 27 ديسمبر 2024")) is None
    assert published(text_page("Last updated: 2024-12-27")) is None
    assert published(text_page("Update date: 2024-12-27")) is None
    assert published(text_page("Date updated: 2024-12-27")) is None
    assert published(text_page("تاريخ آخر تحديث: 27 ديسمبر 2024")) is None
    assert published(text_page("Mis à jour le 27 décembre 2024")) is None


# --------------------------------------------------------------------------- refusing


def test_labeled_published_wins_over_a_bare_date() -> None:
    assert published(text_page("الخميس 2 يناير 2025", "نشر في 26 ديسمبر 2024")) == day(2024, 12, 26)


def test_two_labeled_dates_that_disagree_give_none() -> None:
    assert core(
        detect_dates(text_page("Published: 2024-12-26", "نشر في 3 يناير 2025"), URL, FETCHED)
    ) == Dates(None, None)


def test_bare_dates_that_disagree_give_none() -> None:
    assert published(text_page("26 ديسمبر 2024", "3 يناير 2025")) is None


@pytest.mark.parametrize(
    "line",
    ["Published: 2026-02-09", "نشر في 1 مارس 2027", "Published: 1994-05-01", "24/6/1446 هـ"],
)
def test_future_and_ancient_dates_give_none(line: str) -> None:
    assert published(text_page(line)) is None


def test_one_day_of_clock_skew_is_allowed() -> None:
    assert published(text_page("Published: 2026-02-08")) == day(2026, 2, 8)


@pytest.mark.parametrize("line", ["Published: December 2024", "آخر الأخبار", "2024", "نشر في 32/13/2024"])
def test_incomplete_or_invalid_dates_give_none(line: str) -> None:
    assert published(text_page(line)) is None


# --------------------------------------------------------------------------- HTML

JSON_LD = """<html><head><script type="application/ld+json">
{"@context": "https://schema.org", "@graph": [
  {"@type": "WebPage", "datePublished": "2020-01-01"},
  {"@type": "NewsArticle", "datePublished": "2024-12-26T10:30:00+03:00",
   "dateModified": "2024-12-27T08:00:00Z"}]}
</script></head><body><article><p>x</p></article></body></html>"""


def test_json_ld_article() -> None:
    assert core(detect_dates(html_page(JSON_LD), URL, FETCHED)) == Dates(
        datetime(2024, 12, 26, 10, 30, tzinfo=MECCA), "json-ld", datetime(2024, 12, 27, 8, 0, tzinfo=UTC)
    )


def test_json_ld_picks_the_article_of_this_url() -> None:
    html = """<script type="application/ld+json">[
      {"@type": "BlogPosting", "url": "https://example.com/other", "datePublished": "2024-01-05"},
      {"@type": ["NewsArticle"], "url": "https://www.example.com/news/story/", "datePublished": "2024-12-26"}
    ]</script><p>x</p>"""
    assert core(detect_dates(html_page(html), URL, FETCHED)) == Dates(day(2024, 12, 26), "json-ld")


def test_broken_json_ld_falls_through_to_meta() -> None:
    html = """<html><head><script type="application/ld+json">{"@type": "NewsArticle", </script>
    <meta property="article:published_time" content="2024-12-26T10:30:00Z"></head><body></body></html>"""
    assert core(detect_dates(html_page(html), URL, FETCHED)) == Dates(
        datetime(2024, 12, 26, 10, 30, tzinfo=UTC), "meta"
    )


@pytest.mark.parametrize(
    "tag",
    [
        '<meta property="article:published_time" content="2024-12-26T10:30:00Z">',
        '<meta property="og:published_time" content="2024-12-26T10:30:00+00:00">',
        '<meta name="pubdate" content="2024-12-26T10:30:00Z">',
        '<meta name="publishdate" content="Thu, 26 Dec 2024 10:30:00 GMT">',
        '<meta name="DC.date.issued" content="2024-12-26T10:30:00Z">',
        '<meta itemprop="datePublished" content="2024-12-26T10:30:00Z">',
        '<meta name="date" content="2024-12-26T10:30:00Z">',
    ],
)
def test_meta_tags(tag: str) -> None:
    html = f'<?xml version="1.0" encoding="utf-8"?><html><head>{tag}</head><body><p>x</p></body></html>'
    assert core(detect_dates(html_page(html), URL, FETCHED)) == Dates(
        datetime(2024, 12, 26, 10, 30, tzinfo=UTC), "meta"
    )


def test_meta_without_offset_is_date_only_and_modified_is_read() -> None:
    html = """<head><meta property="article:published_time" content="2024-12-26T10:30:00">
    <meta property="article:modified_time" content="2024-12-28T09:00:00+02:00"></head>"""
    assert core(detect_dates(html_page(html), URL, FETCHED)) == Dates(
        day(2024, 12, 26), "meta", datetime(2024, 12, 28, 9, 0, tzinfo=timezone(timedelta(hours=2)))
    )


def test_meta_values_that_disagree_give_none() -> None:
    html = """<head><meta property="article:published_time" content="2024-12-26">
    <meta property="article:published_time" content="2023-05-01"></head><body><p>x</p></body>"""
    assert published(html_page(html)) is None


def test_time_element_inside_the_article() -> None:
    html = """<html><body><header>© 2019</header><article><h1>t</h1>
    <time datetime="2024-12-26">26 ديسمبر</time><p>x</p></article>
    <aside><time datetime="2023-01-05">5 يناير</time></aside></body></html>"""
    assert core(detect_dates(html_page(html), URL, FETCHED)) == Dates(day(2024, 12, 26), "time-element")


def test_time_element_with_itemprop_anywhere() -> None:
    html = '<body><span><time itemprop="datePublished" datetime="2024-12-26T08:00:00Z">x</time></span></body>'
    assert core(detect_dates(html_page(html), URL, FETCHED)) == Dates(
        datetime(2024, 12, 26, 8, tzinfo=UTC), "time-element"
    )


def test_time_elements_of_a_listing_page_are_not_used() -> None:
    html = """<body><article><time datetime="2024-12-26">a</time></article>
    <article><time datetime="2024-12-20">b</time></article></body>"""
    assert published(html_page(html)) is None


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/2024/12/26/story-title",
        "https://example.com/news/2024-12-26-story-title",
        "https://example.com/news/20241226/story.html",
        "https://example.com/2024/12/26-story-title",
    ],
)
def test_date_in_url(url: str) -> None:
    html = "<html><body><p>story</p></body></html>"
    assert core(detect_dates(html_page(html), url, FETCHED)) == Dates(day(2024, 12, 26), "url")


def test_a_number_starting_the_slug_is_not_the_day() -> None:
    html = "<html><body><p>story</p></body></html>"
    assert published(html_page(html), "https://example.com/2023/10/3-questions-to-the-team/") is None
    assert published(html_page(html), "https://example.com/2023/10/3/questions/") == day(2023, 10, 3)


def test_header_lines_of_an_html_page_after_explicit_metadata() -> None:
    html = "<html><body><p>story</p></body></html>"
    assert core(detect_dates(html_page(html, "نشر في 26 ديسمبر 2024"), URL, FETCHED)) == Dates(
        day(2024, 12, 26), "text"
    )


def test_date_element_near_the_title() -> None:
    html = """<html><body><h1>Title</h1><p class="entry-date">December 26, 2024</p>
    <p>story</p></body></html>"""
    assert core(detect_dates(html_page(html), URL, FETCHED)) == Dates(day(2024, 12, 26), "text")


@pytest.mark.parametrize(
    "html",
    [
        "<html><body><p>نص الخبر في 2019.</p><footer>© 2019 جميع الحقوق محفوظة</footer></body></html>",
        "<html><body><p>Story.</p><footer>Copyright © 2019 Example News.</footer></body></html>",
        '<html><body><div class="post-date">2019</div><footer>© 2019</footer></body></html>',
    ],
)
def test_footer_copyright_year_is_not_a_date(html: str) -> None:
    assert core(detect_dates(html_page(html), URL, FETCHED)) == Dates(None, None)


@pytest.mark.parametrize("html", ["", "   ", "\x00\x01", "<html", "<p>" * 5000])
def test_junk_html_gives_none(html: str) -> None:
    assert core(detect_dates(html_page(html), URL, FETCHED)) == Dates(None, None)


def test_future_meta_date_is_refused() -> None:
    html = '<head><meta property="article:published_time" content="2027-01-05T10:00:00Z"></head>'
    assert published(html_page(html)) is None


def test_naive_fetched_at_is_read_as_utc() -> None:
    naive = datetime(2026, 2, 7, 12, 0)
    assert published(text_page("Published: 2026-02-06"), fetched_at=naive) == day(2026, 2, 6)


# --------------------------------------------------------------------------- helpers


def test_normalize_digits_marks_and_alef() -> None:
    assert normalize("\u200fنُشرَ في ٢٦ أبريل ۲۰۲۴\u200e") == "نشر في 26 ابريل 2024"


def test_find_dates_keeps_both_readings_of_an_ambiguous_date() -> None:
    (found,) = find_dates("6/2/2026")
    assert found.days == (date(2026, 2, 6), date(2026, 6, 2))


def test_parse_machine_value_refuses_ambiguous_text() -> None:
    assert parse_machine_value("6/2/2026") is None
    assert parse_machine_value("26/12/2024") == day(2024, 12, 26)
    assert parse_machine_value("2024-12-26T10:30:00Z") == datetime(2024, 12, 26, 10, 30, tzinfo=UTC)


# --------------------------------------------------------------------------- calendars (issue 4)


@pytest.mark.parametrize(
    ("jalali", "gregorian"),
    [
        ((1395, 5, 20), date(2016, 8, 10)),
        ((1399, 1, 1), date(2020, 3, 20)),  # leap-year Nowruz
        ((1400, 1, 1), date(2021, 3, 21)),
        ((1403, 12, 30), date(2025, 3, 20)),  # 30 Esfand exists in leap 1403
        ((1399, 4, 2), date(2020, 6, 22)),
    ],
)
def test_jalali_to_gregorian(jalali: tuple[int, int, int], gregorian: date) -> None:
    assert jalali_to_gregorian(*jalali) == gregorian


def test_jalali_day_that_does_not_exist() -> None:
    assert jalali_to_gregorian(1402, 12, 30) is None  # 1402 is not leap
    assert jalali_to_gregorian(1402, 7, 31) is None  # Mehr has 30 days


def test_hijri_with_its_weekday_is_exact() -> None:
    # Wednesday 7 Dhu al-Qadah 1437 = 10 August 2016 (Umm al-Qura); the tabular calendar says
    # the 11th, and the weekday written next to it moves it to the right day.
    assert hijri_to_gregorian(1437, 11, 7, weekday=2) == (date(2016, 8, 10), True)


def test_hijri_without_weekday_is_within_a_day() -> None:
    converted = hijri_to_gregorian(1437, 11, 7)
    assert converted is not None
    day_found, _ = converted
    assert abs((day_found - date(2016, 8, 10)).days) <= 1


# --------------------------------------------------------------------------- formats (issue 4)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("تاريخ النشر: 26th, December 2024 GMT", day(2024, 12, 26)),
        ("نشر في الأربعاء ٧ ذو القعدة ١٤٣٧ هـ", day(2016, 8, 10)),  # Hijri, pinned by the weekday
        ("الخميس 24 جمادى الآخرة 1446 هـ", day(2024, 12, 26)),
        ("تاریخ انتشار: ۲۰ مرداد ۱۳۹۵", day(2016, 8, 10)),  # Jalali, Persian digits
        ("تاریخ انتشار: ۱۳۹۹/۰۴/۰۲ - ۱۲:۰۹", day(2020, 6, 22)),  # numeric Jalali Y/M/D
        ("دوشنبه ۲ تير ۱۳۹۹", day(2020, 6, 22)),  # Jalali month with an Arabic yeh
        ("۲۶ دسامبر ۲۰۲۴", day(2024, 12, 26)),  # Persian name of a Gregorian month
        ("شائع 26 دسمبر 2024", day(2024, 12, 26)),  # Urdu month
        ("15 جنوری 2024", day(2024, 1, 15)),
        ("12 مئی 2023", day(2023, 5, 12)),
        ("Veröffentlicht am 8. Mai 2019", day(2019, 5, 8)),
        ("08.05.2019", day(2019, 5, 8)),  # dotted: day first everywhere
        ("1 de mayo de 2020", day(2020, 5, 1)),
        ("3 мая 2020 г.", day(2020, 5, 3)),
        ("2019年5月8日", day(2019, 5, 8)),
        ("20 septembrie 2020 16:20", day(2020, 9, 20)),
    ],
)
def test_issue_4_formats(line: str, expected: datetime) -> None:
    found = published(text_page(line))
    assert found is not None and found.date() == expected.date()


def test_arabic_indic_digits_and_levantine_month() -> None:
    assert published(text_page("نشر في ٢ كانون الثاني ٢٠٢٥")) == day(2025, 1, 2)


def test_hijri_alone_without_weekday_needs_the_umm_al_qura_table() -> None:
    """A tabular conversion can be a day off: without a weekday it is only given when exact."""
    found = published(text_page("نشر في ٧ ذو القعدة ١٤٣٧ هـ"))
    converted = hijri_to_gregorian(1437, 11, 7)
    assert converted is not None
    assert found == (day(2016, 8, 10) if converted[1] else None)


def test_gregorian_wins_over_a_hijri_date_on_the_same_line() -> None:
    line = "السبت 1 رمضان 1445 هـ الموافق 9 مارس 2024"  # tabular says 11 March: ignored
    assert published(text_page(line)) == day(2024, 3, 9)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("منذ ساعتين", datetime(2026, 2, 7, 10, 0, tzinfo=UTC)),
        ("منذ 3 ساعات", datetime(2026, 2, 7, 9, 0, tzinfo=UTC)),
        ("أمس", day(2026, 2, 6)),
        ("2 hours ago", datetime(2026, 2, 7, 10, 0, tzinfo=UTC)),
        ("۲ ساعت پیش", datetime(2026, 2, 7, 10, 0, tzinfo=UTC)),
        ("منذ يومين", day(2026, 2, 5)),
    ],
)
def test_relative_times_against_the_fetch_time(line: str, expected: datetime) -> None:
    dates = detect_dates(text_page(line), URL, FETCHED)
    assert dates.published_at == expected
    assert dates.published_confidence == 0.5


def test_relative_time_is_not_used_when_a_real_date_exists() -> None:
    assert published(text_page("نشر في 26 ديسمبر 2024", "منذ ساعتين")) == day(2024, 12, 26)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Published 26/12/2024 10:30 +03:00", datetime(2024, 12, 26, 10, 30, tzinfo=MECCA)),
        (
            "Veröffentlicht am 26.12.2024, 10:30 Uhr MEZ",
            datetime(2024, 12, 26, 10, 30, tzinfo=timezone(timedelta(hours=1))),
        ),
        ("نشر في 26/12/2024 - 10:30 (توقيت مكة المكرمة)", datetime(2024, 12, 26, 10, 30, tzinfo=MECCA)),
        ("تاریخ انتشار: 1 دی 1403 ساعت 10:30 به وقت تهران", day(2024, 12, 21)),
    ],
)
def test_time_zones(line: str, expected: datetime) -> None:
    assert published(text_page(line)) == expected


def test_expiry_dates_are_not_publication_dates() -> None:
    assert published(text_page("04.04.2020", "Video verfügbar bis 28.02.2021")) == day(2020, 4, 4)


# --------------------------------------------------------------------------- HTML traps (issue 4)

TEASERS = """<html lang="ar"><body>
<header><span class="date">الأحد 1 مارس 2026</span></header>
<article><h1>عنوان الخبر</h1><div class="byline"><time datetime="2024-12-26">26 ديسمبر 2024</time></div>
<p>وزار الرئيس المدينة في 15 يوليو 2016 بعد محاولة الانقلاب، كما قال المتحدث في بيان طويل يشرح
تفاصيل الزيارة والاتفاقات التي وقعت خلالها بين البلدين في مجالات الدفاع والتجارة والطاقة والتعليم،
وأضاف أن الجانبين سيعقدان اجتماعا آخر في 3 يناير 2025 لمتابعة تنفيذ ما اتفق عليه.</p></article>
<aside class="most-read"><ul><li><a href="/a">خبر آخر</a> <span class="date">04/12/2025</span></li>
<li><a href="/b">خبر ثالث</a> <span class="date">05/02/2026</span></li></ul></aside>
<div class="comments"><div class="comment-date">6 فبراير 2026</div></div>
<footer>© 2026 جميع الحقوق محفوظة</footer></body></html>"""


def test_teasers_comments_story_dates_and_copyright_are_ignored() -> None:
    assert core(detect_dates(html_page(TEASERS), URL, FETCHED)) == Dates(day(2024, 12, 26), "time-element")


def test_only_teaser_and_story_dates_give_none() -> None:
    html = TEASERS.replace('<div class="byline"><time datetime="2024-12-26">26 ديسمبر 2024</time></div>', "")
    assert published(html_page(html)) is None


def test_date_line_below_the_title() -> None:
    html = """<html lang="de"><body><nav><a href="/x">Start</a></nav><main><h1>Titel des Artikels</h1>
    <div class="meta">Veröffentlicht am 08.05.2019 | 14:32</div><p>Text.</p></main>
    <div class="teaser"><span class="date">07.05.2019</span></div></body></html>"""
    assert published(html_page(html)) == day(2019, 5, 8)


def test_url_day_beats_utc_metadata_a_day_later() -> None:
    """A US evening story is 'tomorrow' in UTC; the URL names the publisher's own day."""
    html = '<head><meta property="article:published_time" content="2023-11-09T03:28:35+00:00"></head>'
    dates = detect_dates(html_page(html), "https://example.com/2023/11/08/story/", FETCHED)
    assert (dates.published_at, dates.published_source) == (day(2023, 11, 8), "url")


def test_metadata_and_the_shown_date_agreeing_beat_the_url_day() -> None:
    """A URL made the day before the story went out: the page shows and its metadata says
    the next day, so two sources outweigh the URL's folder."""
    html = """<html><head><script type="application/ld+json">
    {"@type": "NewsArticle", "datePublished": "2020-07-09T10:04:04Z"}</script></head>
    <body><h1>Title</h1><span class="date">July 9, 2020</span><p>x</p></body></html>"""
    dates = detect_dates(html_page(html), "https://example.com/politics/2020/07/08/story.html", FETCHED)
    assert dates.published_at == datetime(2020, 7, 9, 10, 4, 4, tzinfo=UTC)
    assert dates.published_source == "json-ld"


def test_url_day_stays_when_only_a_today_banner_matches_the_utc_metadata() -> None:
    """The strong shown date (the byline) says the URL's day; the banner's day is not enough."""
    html = """<html><head><meta property="article:published_time" content="2023-11-09T03:28:35+00:00"></head>
    <body><div class="date">Thursday, November 9, 2023</div><h1>Title</h1>
    <div class="byline">Published Nov. 8, 2023, 10:28 p.m. ET</div><p>x</p></body></html>"""
    dates = detect_dates(html_page(html), "https://example.com/2023/11/08/story/", FETCHED)
    assert (dates.published_at, dates.published_source) == (day(2023, 11, 8), "url")


def test_one_instant_in_two_zones_on_two_days_gives_none() -> None:
    """JSON-LD writes the Brisbane clock with a UTC label, meta the real UTC time: the same
    minute and second ten hours apart, on two days, and nothing on the page decides."""
    html = """<html><head><script type="application/ld+json">
    {"@type": "NewsArticle", "datePublished": "2020-04-25T07:25:06Z"}</script>
    <meta property="article:published_time" content="2020-04-24T21:25:06+00:00"></head>
    <body><h1>Title</h1><p>x</p></body></html>"""
    assert published(html_page(html)) is None


def test_sources_a_few_minutes_apart_are_not_a_zone_slip() -> None:
    html = """<html><head><script type="application/ld+json">
    {"@type": "NewsArticle", "datePublished": "2020-04-25T00:05:06Z"}</script>
    <meta property="article:published_time" content="2020-04-24T23:55:00+00:00"></head>
    <body><h1>Title</h1><p>x</p></body></html>"""
    assert published(html_page(html)) == datetime(2020, 4, 25, 0, 5, 6, tzinfo=UTC)


def test_a_weak_shown_date_contradicted_by_the_header_lines_gives_none() -> None:
    html = """<html><body><h1>Title</h1><p>Filed 08/19/2020</p><p>x</p></body></html>"""
    assert published(html_page(html)) == day(2020, 8, 19)
    assert published(html_page(html, "Saturday, July 25, 2020")) is None


def test_metadata_confirmed_by_the_page_is_most_confident() -> None:
    html = """<html><head><meta property="article:published_time" content="2024-12-26T10:30:00Z">
    <meta property="article:modified_time" content="2024-12-27T08:00:00Z"></head>
    <body><h1>Title</h1><span class="date">26 December 2024</span><p>x</p></body></html>"""
    dates = detect_dates(html_page(html), URL, FETCHED)
    assert dates.published_at == datetime(2024, 12, 26, 10, 30, tzinfo=UTC)
    assert (dates.published_source, dates.updated_source) == ("meta", "meta")
    assert dates.updated_at == datetime(2024, 12, 27, 8, 0, tzinfo=UTC)
    assert dates.published_confidence >= 0.95


def test_shown_date_wins_over_unconfirmed_metadata_with_lower_confidence() -> None:
    html = """<html><head><meta property="article:published_time" content="2016-08-29T10:00:00Z"></head>
    <body><h1>Title</h1><div class="published-date">Published May 6, 2019</div><p>x</p></body></html>"""
    dates = detect_dates(html_page(html), URL, FETCHED)
    assert (dates.published_at, dates.published_source) == (day(2019, 5, 6), "text")
    assert dates.published_confidence < 0.8


def test_us_page_reads_numeric_dates_month_first() -> None:
    html = '<html lang="en-US"><body><h1>Title</h1><span class="date">06/02/2024</span><p>x</p></body></html>'
    assert published(html_page(html)) == day(2024, 6, 2)


def test_english_page_without_region_does_not_guess_the_order() -> None:
    html = (
        """<html lang="en"><body><h1>Title</h1><span class="date">06/02/2024</span><p>x</p></body></html>"""
    )
    assert published(html_page(html)) is None


def test_page_evidence_decides_the_order() -> None:
    html = """<html lang="en"><body><h1>Title</h1><span class="date">06/02/2024</span><p>x</p>
    <p>Earlier: 12/26/2023</p></body></html>"""
    assert published(html_page(html)) == day(2024, 6, 2)


def test_no_evidence_gives_no_date_and_no_confidence() -> None:
    dates = detect_dates(html_page("<html><body><h1>t</h1><p>x</p></body></html>"), URL, FETCHED)
    assert dates == Dates(None, None)
    assert dates.published_confidence == 0.0


def test_day_first_date_in_url_only_when_unambiguous() -> None:
    html = "<html><body><p>story</p></body></html>"
    assert published(html_page(html), "https://example.com/meldungen/29-10-2021") == day(2021, 10, 29)
    assert published(html_page(html), "https://example.com/meldungen/05-06-2021") is None


def test_url_month_contradicting_the_date_gives_none() -> None:
    html = '<head><meta property="article:published_time" content="2018-10-22T10:00:00Z"></head>'
    assert published(html_page(html), "https://example.com/2019/10/story/") is None
    assert published(html_page(html), "https://example.com/2018/10/story/") == datetime(
        2018, 10, 22, 10, tzinfo=UTC
    )


def test_only_an_update_date_is_a_low_confidence_fallback() -> None:
    dates = detect_dates(
        html_page("<html><body><p>x</p></body></html>", "(last edited 2019-11-10)"), URL, FETCHED
    )
    assert dates.published_at == day(2019, 11, 10)
    assert dates.published_confidence < 0.5


def test_event_dates_are_not_publication_dates() -> None:
    html = """<html lang="de"><body><h1>Stammtisch</h1>
    <p>Der nächste Stammtisch findet am Mi. 5. Februar 2020 ab 19 Uhr statt.</p></body></html>"""
    assert published(html_page(html)) is None


def test_time_element_with_a_relative_text_uses_its_datetime() -> None:
    html = """<html><body><h1>Naslov</h1><div class="published"><span class="date">
    <time datetime="2020-06-22T09:30:00+02:00">prije 28 min</time></span></div><p>x</p></body></html>"""
    found = published(html_page(html))
    assert found is not None and found.date() == date(2020, 6, 22)


def test_broken_json_ld_is_read_by_pattern() -> None:
    html = """<script type="application/ld+json">{"@type": "NewsArticle",
    "headline": "a "quoted" word", "datePublished": "2020-10-26T18:10:00+01:00",}</script><p>x</p>"""
    dates = detect_dates(html_page(html), URL, FETCHED)
    assert (dates.published_at, dates.published_source) == (
        datetime(2020, 10, 26, 18, 10, tzinfo=timezone(timedelta(hours=1))),
        "json-ld",
    )


def test_microdata_and_hatom_dates() -> None:
    span = '<div><span itemprop="datePublished">May 19, 2020</span></div><p>x</p>'
    assert published(html_page(span)) == day(2020, 5, 19)
    abbr = '<div><abbr class="published" title="2017-09-09T10:52:00+02:00">10:52</abbr></div><p>x</p>'
    assert published(html_page(abbr)) == datetime(2017, 9, 9, 10, 52, tzinfo=timezone(timedelta(hours=2)))


def test_inline_script_state_with_one_publication_day() -> None:
    html = """<html><body><h1>t</h1><p>x</p><script>window.__STATE__ = {"item": {"title": "t",
    "publishedDate": "2016-11-04T20:37:27Z", "updatedDate": "2016-11-04T20:39:47Z"}};
    </script></body></html>"""
    assert published(html_page(html)) == datetime(2016, 11, 4, 20, 37, 27, tzinfo=UTC)


def test_inline_script_state_of_a_listing_is_not_used() -> None:
    html = """<html><body><p>x</p><script>var items = [{"publishedDate": "2016-11-04T20:37:27Z"},
    {"publishedDate": "2016-10-01T08:00:00Z"}];</script></body></html>"""
    assert published(html_page(html)) is None


def test_dateline_after_a_place_name() -> None:
    story = (
        "Karlsruhe, (12.11.2021). Traditionell gedenken evangelische Christinnen und Christen am "
        "Ewigkeitssonntag ihrer Verstorbenen; in diesem Jahr finden viele Gottesdienste wieder in den "
        "Kirchen statt, manche auch digital, wie die Landeskirche am 3. November 2021 mitteilte. "
        "Die Gemeinden laden dazu ein, Namen und Kerzen vorab online zu melden."
    )
    html = (
        f'<html lang="de"><body><h1>Trauern digital</h1><div class="text"><p>{story}</p></div></body></html>'
    )
    assert published(html_page(html)) == day(2021, 11, 12)


def test_date_in_an_author_line() -> None:
    html = """<html lang="de"><body><h1>Die Events der letzten Zeit</h1><p>Ein kurzer Text.</p>
    <div class="left author">Author: <a href="/u/58">Bo2man</a> am 29.12.2010, 13:36 Uhr</div>
    </body></html>"""
    assert published(html_page(html)) == day(2010, 12, 29)


def test_metadata_update_time_alone_is_a_low_confidence_fallback() -> None:
    html = """<html><body><h1>t</h1><span class="updated" title="2013-04-04T18:52:11+00:00"></span>
    <p>x</p></body></html>"""
    dates = detect_dates(html_page(html), URL, FETCHED)
    assert dates.published_at == datetime(2013, 4, 4, 18, 52, 11, tzinfo=UTC)
    assert dates.published_confidence <= 0.45


# --------------------------------------------------------------------------- found by fuzzing


@pytest.mark.parametrize(
    "fetched_at",
    [datetime.max.replace(tzinfo=UTC), datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=MECCA)],
)
def test_fetch_times_at_the_ends_of_the_calendar(fetched_at: datetime) -> None:
    # The window (fetch time + 1 day) and relative dates (fetch time - 1 day) overflowed.
    page = text_page("نشر أمس", "منذ 3 ساعات")
    assert detect_dates(page, URL, fetched_at).published_at is None
    assert published(text_page("2024/12/26"), fetched_at=fetched_at) in (None, day(2024, 12, 26))


def test_json_ld_nested_too_deep_is_skipped_not_fatal() -> None:
    # json.loads raises RecursionError (not ValueError) on deep nesting: the whole page failed.
    deep = "[" * 100_000 + "]" * 100_000
    html = f"""<html><head><script type="application/ld+json">{deep}</script>
    <meta property="article:published_time" content="2024-12-26T10:30:00Z"></head><body></body></html>"""
    assert core(detect_dates(html_page(html), URL, FETCHED)) == Dates(
        day(2024, 12, 26) + timedelta(hours=10.5), "meta"
    )


def test_a_url_urllib_cannot_split_still_gives_its_date() -> None:
    url = "http://[::1/2024/12/26/story"  # urlsplit raises ValueError: Invalid IPv6 URL
    assert published(html_page("<html><body><p>x</p></body></html>"), url=url) == day(2024, 12, 26)


@pytest.mark.parametrize(
    ("css", "ident", "prop"),
    [
        ("Most-Read widget", None, None),
        ("post-meta", "post-1234", "datePublished"),
        (None, "sidebar_recommendedStories", None),
        ("entry  hentry", "", None),
        ("col-md-4 card", "see-also", None),
        ("   ", None, None),
        ("related-posts", None, "articleBody"),
    ],
)
def test_class_id_and_itemprop_are_classified_as_one_string(
    css: str | None, ident: str | None, prop: str | None
) -> None:
    whole = classify_classes(f"{css or ''} {ident or ''} {prop or ''}".lower())
    assert classify_names(css, ident, prop) == whole
    assert classify_names(css, ident, prop) == whole  # from the caches


@pytest.mark.parametrize(
    ("classes", "expected"),
    [
        ("comments-list", (True, True, False, False)),  # a whole word between "-"
        ("commentsx", (False, False, False, False)),  # not a whole word
        ("sidebar", (True, False, False, False)),  # layout: the article's own inside one
        ("footer widget", (True, False, False, False)),
        ("post_meta", (False, False, True, True)),
        ("authorbox", (True, True, True, False)),  # a boilerplate word holding a date word
        ("single-post", (False, False, False, True)),
        ("x_recommended", (True, True, False, False)),  # a boilerplate prefix after "_"
        ("xrecommend", (False, False, False, False)),
        ("see-also-box", (True, True, False, False)),  # a boilerplate pair
        ("updated-at", (False, False, True, False)),  # a date word inside a word
        ("recommended_x post", (True, True, False, True)),  # a prefix at the start, an article word
        ("post\u00a0comments", (True, True, False, True)),  # words apart by any white space
    ],
)
def test_class_strings_are_classified(classes: str, expected: tuple[bool, bool, bool, bool]) -> None:
    assert classify_classes(classes) == expected
