"""Dates stage: header-line formats, HTML metadata, and refusing to guess."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from agents.clean import Cleaned
from agents.dates import Dates, detect_dates
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


def published(cleaned: Cleaned, url: str = URL, fetched_at: datetime = FETCHED) -> datetime | None:
    return detect_dates(cleaned, url, fetched_at).published_at


# --------------------------------------------------------------------------- the seeds


def test_seed_000_header() -> None:
    cleaned = text_page(
        " date 2026-02-06 أخبار|تركيا", "Published On 6/2/2026", "آخر تحديث: 08:47 (توقيت مكة)"
    )
    assert detect_dates(cleaned, URL, FETCHED) == Dates(
        day(2026, 2, 6), "text", datetime(2026, 2, 6, 8, 47, tzinfo=MECCA)
    )


def test_seed_002_header() -> None:
    cleaned = text_page("تاريخ النشر: 26th, December 2024 GMT")
    assert detect_dates(cleaned, URL, FETCHED) == Dates(day(2024, 12, 26), "text")


@pytest.mark.parametrize("name", ["001_a35260540b61ab77", "003_044eab46fc7fdd04", "004_3f08d7278be308a9"])
def test_seeds_without_header_date_have_none(seeds_dir: Path, name: str) -> None:
    """Their bodies hold teaser dates (04/12/2025 …) and story dates (15 يوليو): none is read."""
    body = (seeds_dir / f"{name}.txt").read_text(encoding="utf-8")
    paragraphs = [part.strip() for part in body.split("\n") if part.strip()]
    assert detect_dates(text_page(paragraphs=paragraphs), URL, FETCHED) == Dates(None, None)


def test_body_and_teaser_dates_are_ignored() -> None:
    paragraphs = [
        "وزار الرئيس المدينة في 15 يوليو 2016 بعد محاولة الانقلاب.",
        "أنقرة: على المجتمع الدولي التحرك بحزم",
        "04/12/2025",
        "05/02/2026",
    ]
    assert detect_dates(text_page(paragraphs=paragraphs), URL, FETCHED) == Dates(None, None)


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
    assert detect_dates(text_page(line), URL, FETCHED) == Dates(expected, "text")


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
    assert dates == Dates(day(2024, 12, 26), "text", datetime(2024, 12, 27, 9, 0, tzinfo=UTC))


def test_update_time_without_zone_is_dropped() -> None:
    dates = detect_dates(text_page("Published On 6/2/2026", "آخر تحديث: 08:47"), URL, FETCHED)
    assert dates == Dates(day(2026, 2, 6), "text", None)


def test_update_before_publication_is_dropped() -> None:
    dates = detect_dates(text_page("Published: 2025-03-10", "Updated: 2025-03-01"), URL, FETCHED)
    assert dates == Dates(day(2025, 3, 10), "text", None)


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
    assert detect_dates(text_page("Published: 2024-12-26", "نشر في 3 يناير 2025"), URL, FETCHED) == Dates(
        None, None
    )


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
    assert detect_dates(html_page(JSON_LD), URL, FETCHED) == Dates(
        datetime(2024, 12, 26, 10, 30, tzinfo=MECCA), "json-ld", datetime(2024, 12, 27, 8, 0, tzinfo=UTC)
    )


def test_json_ld_picks_the_article_of_this_url() -> None:
    html = """<script type="application/ld+json">[
      {"@type": "BlogPosting", "url": "https://example.com/other", "datePublished": "2024-01-05"},
      {"@type": ["NewsArticle"], "url": "https://www.example.com/news/story/", "datePublished": "2024-12-26"}
    ]</script><p>x</p>"""
    assert detect_dates(html_page(html), URL, FETCHED) == Dates(day(2024, 12, 26), "json-ld")


def test_broken_json_ld_falls_through_to_meta() -> None:
    html = """<html><head><script type="application/ld+json">{"@type": "NewsArticle", </script>
    <meta property="article:published_time" content="2024-12-26T10:30:00Z"></head><body></body></html>"""
    assert detect_dates(html_page(html), URL, FETCHED) == Dates(
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
    assert detect_dates(html_page(html), URL, FETCHED) == Dates(
        datetime(2024, 12, 26, 10, 30, tzinfo=UTC), "meta"
    )


def test_meta_without_offset_is_date_only_and_modified_is_read() -> None:
    html = """<head><meta property="article:published_time" content="2024-12-26T10:30:00">
    <meta property="article:modified_time" content="2024-12-28T09:00:00+02:00"></head>"""
    assert detect_dates(html_page(html), URL, FETCHED) == Dates(
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
    assert detect_dates(html_page(html), URL, FETCHED) == Dates(day(2024, 12, 26), "time-element")


def test_time_element_with_itemprop_anywhere() -> None:
    html = '<body><span><time itemprop="datePublished" datetime="2024-12-26T08:00:00Z">x</time></span></body>'
    assert detect_dates(html_page(html), URL, FETCHED) == Dates(
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
    ],
)
def test_date_in_url(url: str) -> None:
    html = "<html><body><p>story</p></body></html>"
    assert detect_dates(html_page(html), url, FETCHED) == Dates(day(2024, 12, 26), "url")


def test_header_lines_of_an_html_page_after_explicit_metadata() -> None:
    html = "<html><body><p>story</p></body></html>"
    assert detect_dates(html_page(html, "نشر في 26 ديسمبر 2024"), URL, FETCHED) == Dates(
        day(2024, 12, 26), "text"
    )


def test_htmldate_fallback() -> None:
    html = '<html><body><p class="entry-date">December 26, 2024</p><p>story</p></body></html>'
    assert detect_dates(html_page(html), URL, FETCHED) == Dates(day(2024, 12, 26), "htmldate")


@pytest.mark.parametrize(
    "html",
    [
        "<html><body><p>نص الخبر في 2019.</p><footer>© 2019 جميع الحقوق محفوظة</footer></body></html>",
        "<html><body><p>Story.</p><footer>Copyright © 2019 Example News.</footer></body></html>",
        '<html><body><div class="post-date">2019-01-01</div><footer>© 2019</footer></body></html>',
    ],
)
def test_footer_copyright_year_is_not_a_date(html: str) -> None:
    assert detect_dates(html_page(html), URL, FETCHED) == Dates(None, None)


@pytest.mark.parametrize("html", ["", "   ", "\x00\x01", "<html", "<p>" * 5000])
def test_junk_html_gives_none(html: str) -> None:
    assert detect_dates(html_page(html), URL, FETCHED) == Dates(None, None)


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
