"""Clean stage: charset decoding, HTML extraction and the plain-text heuristics on real seeds."""

from __future__ import annotations

import codecs
import json
import textwrap
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agents import StageError
from agents.clean import Cleaned, clean
from agents.clean.decode import _detection_sample, decode
from agents.clean.dom import _SECTION_HINT
from agents.clean.plain import _STOP_MARKERS, Kind, byline_names, classify, is_section_marker, unwrap
from agents.limits import Limits
from agents.text import CharReplacer, fold
from schemas import RawPage

SEEDS = Path(__file__).resolve().parents[2].parent / "shared" / "samples" / "seeds"
FETCHED_AT = datetime(2026, 2, 6, tzinfo=UTC)


def page(body: bytes, content_type: str | None = "text/plain; charset=utf-8", **extra: object) -> RawPage:
    return RawPage(
        url="https://example.com/a",
        fetched_at=FETCHED_AT,
        body=body,
        content_type=content_type,
        **extra,  # type: ignore[arg-type]
    )


# --- the five crawled seeds ----------------------------------------------------------------


@dataclass(frozen=True)
class Seed:
    prefix: str
    title: str | None
    present: tuple[str, ...]
    absent: tuple[str, ...]
    header: tuple[str, ...] = ()
    subtitle: str | None = None
    authors: tuple[str, ...] = ()
    paragraph_count: int | None = None


# Everything that must never be in any body.
COMMON_ABSENT = (
    "أحدث الأخبار",
    "إقرأ أيضاً",
    "أخبار ذات صلة",
    "اخر الاخبار",
    "الأخبار الأكثر قراءة",
    "المصدر:",
    "Published On",
    "تاريخ النشر",
    "آخر تحديث",
    "تركيا الان",
    "الرئيسية »",
    "…",
)

SEED_CASES = [
    Seed(
        prefix="000",
        title="كندا تسعى لتعميق شراكتها مع تركيا وتوسيع التعاون الدفاعي والنووي",
        present=(
            "قال رئيس الوزراء الكندي مارك كارني إن بلاده تسعى لتعميق علاقاتها مع تركيا",
            "لمجالات تجارية وأمنية أوسع",
            "بسبب عمليتها العسكرية في شمال سوريا ضد قوات سوريا الديمقراطية (قسد).",
            "أمور تدفع كندا لتعزيز دفاعها من خلال شراكات أوسع.",
        ),
        absent=(
            "Getty Images",
            "NEW YORK",
            "رئيس الوزراء الكندي مارك كارني (الفرنسية)",
            "date 2026-02-06",
            "الجزيرة + مواقع إلكترونية",
        ),
        header=(
            "date 2026-02-06 أخبار|تركيا",
            "Published On 6/2/2026",
            "آخر تحديث: 08:47 (توقيت مكة)",
        ),
        paragraph_count=6,
    ),
    Seed(
        prefix="001",
        title="البيت الأبيض: إدارة بايدن ترغب بإقامة علاقات بناءة مع تركيا",
        subtitle=(
            "البيت الأبيض: مستشار الأمن القومي أكد للمتحدث باسم الرئاسة التركية"
            " رغبة الإدارة في علاقات بناءة بين البلدين"
        ),
        present=(
            "قال البيت الأبيض الأمريكي، الثلاثاء، إن مستشار الأمن القومي الأمريكي جاك سوليفان",
            "وشدّد كالن على “الحاجة إلى كفاح فاعل ومشترك ضد التنظيمات الإرهابية كافة”.",
            "تسليمها لتركيا، فضلا عن الدعم الأمريكي لتنظيم PKK/YPG الإرهابي في سوريا.",
        ),
        absent=(
            "مستشار الأمن القومي أكد للمتحدث",
            "04/12/2025",
            "01/12/2025",
            "أنقرة: على المجتمع الدولي التحرك بحزم",
            "270.6 مليار دولار",
            "إعلام عالمي يسلط الضوء",
        ),
    ),
    Seed(
        prefix="002",
        title="الدفاع التركية: نسعى للتعاون الدفاعي مع دمشق",
        present=(
            "أعلنت تركيا دعمها تأسيس جيش سوري موحد",
            "ولن تسمح لأي تنظيمات إرهابية في مستقبل سوريا ومنطقتنا",
            "لإقامة علاقات استراتيجية بين البلدين، وإقامة تعاون في مختلف المجالات».",
        ),
        absent=(
            "تابع أحدث الأخبار عبر تطبيق",
            "البوابة نيوز",
            "الصين تتمسك",
            "إنفاقها الدفاعي ضروري جدا",
            "لين جيان",
            "إعلانوصرحت",
        ),
        header=("تاريخ النشر: 26th, December 2024 GMT",),
        paragraph_count=6,
    ),
    Seed(
        prefix="003",
        title="خلوصي أكار يعلن عن اجتماعات للوفود الفنية من وزارات دفاع تركيا وروسيا وسوريا قريبًا",
        present=(
            "أعلن وزير الدفاع التركي خلوصي أكار، الخميس، عن اجتماعات للوفود الفنية",
            "استضافت روسيا أول محادثات بين وزيري الدفاع التركي والسوري منذ 11 عاما.",
            "إنه يمكن ضم إيران إلى المباحثات الثلاثية بين بلاده وروسيا وسوريا.",
        ),
        absent=("شيفرون", "05/02/2026", "04/02/2026", "ننتظر التزام إسرائيل"),
    ),
    Seed(
        prefix="004",
        title=None,
        present=(
            "دعت تركيا روسيا للعمل كفريق والقيام بعمليات عسكرية مشتركة",
            "ويأتي ذلك بعد يوم واحد فقط من قول تركيا",
            "وانتُقدت تركيا كعضو في حلف الناتو",
            "للاتصالات في الوقت الحقيقي بين الرئيسين والمسؤولين العسكريين للبلدين.",
        ),
        absent=(
            "صورة للرئيسين",
            "جلال فواز",
            "أنقرة - ",
            "View on Almaghribtoday.net",
            "Almaghribtoday",
            "فن وموسيقى",
            "رياضة",
            "الأمير هاري",
            "نيللي كريم",
            "غوتيريش",
        ),
        header=("أنقرة - جلال فواز",),
        authors=("جلال فواز",),
        paragraph_count=4,
    ),
]


def seed_path(prefix: str) -> Path:
    if not SEEDS.is_dir():
        pytest.skip(f"seed pages not found in {SEEDS}")
    matches = sorted(SEEDS.glob(f"{prefix}_*.txt"))
    if not matches:
        pytest.skip(f"seed {prefix} not found in {SEEDS}")
    return matches[0]


@pytest.mark.parametrize("seed", SEED_CASES, ids=[case.prefix for case in SEED_CASES])
def test_seed_page(seed: Seed) -> None:
    cleaned = clean(page(seed_path(seed.prefix).read_bytes()))
    body = "\n\n".join(cleaned.paragraphs)

    assert cleaned.title == seed.title
    assert cleaned.html is None
    for sentence in seed.present:
        assert sentence in body, sentence
    for text in (*COMMON_ABSENT, *seed.absent):
        assert text not in body, text
    for line in seed.header:
        assert line in cleaned.header_lines, (line, cleaned.header_lines)
    assert set(seed.authors) <= set(cleaned.authors)
    if seed.subtitle is not None:
        assert cleaned.subtitle == seed.subtitle
    if seed.paragraph_count is not None:
        assert len(cleaned.paragraphs) == seed.paragraph_count
    assert cleaned.title not in cleaned.paragraphs


@pytest.mark.parametrize("prefix", ["001", "003"])
def test_teaser_dates_never_reach_header_lines(prefix: str) -> None:
    cleaned = clean(page(seed_path(prefix).read_bytes()))
    assert cleaned.header_lines == []


def test_seed_decoded_from_windows_1256_without_charset() -> None:
    original = seed_path("000").read_text("utf-8")
    cleaned = clean(page(original.encode("cp1256", errors="ignore"), content_type="text/plain"))
    assert cleaned.title == "كندا تسعى لتعميق شراكتها مع تركيا وتوسيع التعاون الدفاعي والنووي"
    assert len(cleaned.paragraphs) == 6


# --- plain-text heuristics -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("إقرأ أيضاً:", Kind.STOP),
        ("اقرأ أيضا", Kind.STOP),
        ("اقرا ايضاً", Kind.STOP),
        ("آخر الأخبار", Kind.STOP),
        ("الأكثر قراءة", Kind.STOP),
        ("Read more", Kind.STOP),
        ("Most read:", Kind.STOP),
        ("المصدر: وكالات", Kind.STOP),
        ("اقرأ أيضاً: تركيا تعلن عن خطة جديدة", Kind.PROMO),
        ("04/12/2025", Kind.META),
        ("نُشر في ١٢ يناير ٢٠٢٥", Kind.META),
        ("Updated: 6 February 2026 10:30 GMT", Kind.META),
        ("Home › World › Middle East", Kind.BREADCRUMB),
        ("صورة أرشيفية للرئيس التركي", Kind.CAPTION),
        ("الرئيس التركي في أنقرة (رويترز)", Kind.CAPTION),
        ("Protesters gather outside parliament (AFP)", Kind.CAPTION),
        ("شركة النفط التركية توقع مذكرة تفاهم لإجراء عمليات…", Kind.TEASER),
        ("By Jane Doe", Kind.BYLINE),
        ("بقلم: محمد علي", Kind.BYLINE),
        ("تـركـيا الآن", Kind.SHORT),
    ],
)
def test_line_classification(line: str, kind: Kind) -> None:
    assert classify(line, arabic_page=True).kind is kind


def test_char_replacer_is_translate_and_refuses_a_chained_table() -> None:
    table = {"أ": "ا", "ة": "ه", "٢": "2", "٠": "0"}
    replace = CharReplacer(table)
    for text in ("", "plain latin", "أسامة ٢٠٢٦", "ةةة أأ", "x٢y"):
        assert replace(text) == text.translate({ord(char): new for char, new in table.items()})
    with pytest.raises(ValueError):
        CharReplacer({"a": "b", "b": "c"})  # "a" would become "c" or "b" by the order


def test_fold_unifies_arabic_variants() -> None:
    assert fold("إقرأ أيضاً") == fold("اقرا ايضا")
    assert fold("الأخبار الأكثر قراءةً") == "الاخبار الاكثر قراءه"
    assert fold("مـصـر ٢٠٢٦") == "مصر 2026"


ENGLISH_PLAIN = """Example Times
Home > News > Local

Council approves bigger transport budget

By Jane Doe
Published: 5 February 2026, 10:30 GMT
Subscribers at the meeting (Photo by John Smith/Getty Images)

The city council voted on Tuesday to approve a new budget that increases spending on public \
transport by a fifth, officials said.

The mayor welcomed the decision and said buses would run more often from the spring, while \
critics warned about the cost of the plan.

Related
Another story about a completely different thing…
Feb 4, 2026
"""


def test_a_plain_text_byline_of_two_names_gives_two_authors() -> None:
    # the names were one author, "Jane Doe, John Roe", while HTML gave two
    text = ENGLISH_PLAIN.replace("By Jane Doe", "By Jane Doe and John Roe")
    assert text != ENGLISH_PLAIN
    assert clean(page(text.encode())).authors == ["Jane Doe", "John Roe"]


def test_english_plain_text_page() -> None:
    cleaned = clean(page(ENGLISH_PLAIN.encode()))
    body = "\n\n".join(cleaned.paragraphs)
    assert cleaned.title == "Council approves bigger transport budget"
    assert cleaned.authors == ["Jane Doe"]
    assert "Published: 5 February 2026, 10:30 GMT" in cleaned.header_lines
    assert "Feb 4, 2026" not in cleaned.header_lines
    assert len(cleaned.paragraphs) == 2
    assert "critics warned about the cost of the plan." in body
    for text in ("Example Times", "Home >", "Getty", "Related", "Another story"):
        assert text not in body


def test_hard_wrapped_plain_text_is_rejoined() -> None:
    sentence = (
        "The city council voted on Tuesday to approve a new budget that increases spending"
        " on public transport by a fifth, officials said after a long meeting."
    )
    wrapped = "\n".join(textwrap.wrap(sentence, 72))
    text = f"Council approves bigger transport budget\n\n{wrapped}\n\n{wrapped}\n\n{wrapped}\n"
    cleaned = clean(page(text.encode()))
    assert cleaned.paragraphs == [sentence, sentence, sentence]


def test_bidi_and_zero_width_marks_are_stripped() -> None:
    text = (
        "\u200fعنوان الخبر الرئيسي\u200e هنا\n\n"
        "قال\u200b المسؤول إن الحكومة ستعلن\u202b عن خطة جديدة لدعم الاقتصاد خلال الأيام المقبلة.\u202c\n"
    )
    cleaned = clean(page(text.encode()))
    assert cleaned.title == "عنوان الخبر الرئيسي هنا"
    assert cleaned.paragraphs == [
        "قال المسؤول إن الحكومة ستعلن عن خطة جديدة لدعم الاقتصاد خلال الأيام المقبلة."
    ]


def test_page_without_body_is_no_content() -> None:
    with pytest.raises(StageError) as error:
        clean(page("الرئيسية\nأخبار\nرياضة\n".encode()))
    assert error.value.reason == "no_content"
    assert error.value.stage == "clean"


# --- decoding ------------------------------------------------------------------------------

AR_PARAGRAPHS = (
    "قال رئيس الوزراء الكندي مارك كارني إن بلاده تسعى لتعميق علاقاتها مع تركيا، مشيرا إلى"
    " آفاق واسعة للتعاون بين البلدين، خاصة في مجالات التصنيع المتقدم والدفاع.",
    "وأكد كارني، خلال مؤتمر صحفي، أنه بدأ مباحثات بهذا الشأن مع الرئيس التركي رجب طيب"
    " أردوغان خلال لقاء جمعهما مؤخرا في نيويورك، على هامش الجمعية العامة للأمم المتحدة.",
    "وقال إن التعاون بين بلاده وتركيا قد يشمل الدفاع والمجال النووي، ويتجاوزهما لمجالات"
    " تجارية وأمنية أوسع، مشيرا إلى أن تركيا بلد رائد عالميا في مجال التصنيع.",
)
AR_TITLE = "كندا تسعى لتعميق شراكتها مع تركيا"


def arabic_html(meta: str = "") -> str:
    paragraphs = "".join(f"<p>{text}</p>" for text in AR_PARAGRAPHS)
    return (
        f"<!DOCTYPE html><html lang='ar' dir='rtl'><head>{meta}"
        f"<title>{AR_TITLE} | الجزيرة نت</title></head><body>"
        "<nav><ul><li><a href='/'>الرئيسية</a></li><li><a href='/news'>أخبار</a></li></ul></nav>"
        f"<article><h1>{AR_TITLE}</h1>{paragraphs}</article>"
        "<footer><p>جميع الحقوق محفوظة</p></footer></body></html>"
    )


def assert_arabic_article(cleaned: Cleaned) -> None:
    assert cleaned.title == AR_TITLE
    assert cleaned.paragraphs == list(AR_PARAGRAPHS)
    assert cleaned.html is not None and AR_TITLE in cleaned.html


def test_windows_1256_html_without_declared_charset() -> None:
    cleaned = clean(page(arabic_html().encode("cp1256"), content_type="text/html"))
    assert cleaned.encoding == "cp1256"
    assert_arabic_article(cleaned)


def test_windows_1256_html_declared_in_meta() -> None:
    meta = '<meta http-equiv="Content-Type" content="text/html; charset=windows-1256">'
    cleaned = clean(page(arabic_html(meta).encode("cp1256"), content_type=None))
    assert cleaned.encoding == "cp1256"
    assert_arabic_article(cleaned)


def test_meta_charset_beats_a_latin1_server_default() -> None:
    body = arabic_html('<meta charset="windows-1256">').encode("cp1256")
    cleaned = clean(page(body, content_type="text/html; charset=ISO-8859-1"))
    assert cleaned.encoding == "cp1256"
    assert_arabic_article(cleaned)


def test_charset_from_http_headers() -> None:
    text = f"{AR_TITLE}\n\n" + "\n\n".join(AR_PARAGRAPHS)
    raw = page(
        text.encode("iso-8859-6", errors="ignore"),
        content_type=None,
        http_headers={"Content-Type": "text/plain; charset=ISO-8859-6"},
    )
    cleaned = clean(raw)
    assert cleaned.encoding == "iso8859-6"
    assert cleaned.title == AR_TITLE


@pytest.mark.parametrize("declared", ["text/html; charset=utf-8", "text/html"])
def test_utf8_with_a_few_broken_bytes_is_still_utf8(declared: str) -> None:
    # Found by the fuzz run: one stray byte made strict UTF-8 fail, and charset detection then
    # found nothing (a dead letter) or another charset (mojibake). Browsers read it as UTF-8.
    data = arabic_html().encode()
    at = data.index(AR_PARAGRAPHS[1].encode())
    body = data[:at] + b"\xff" + data[at:] + b"\xd8"  # a stray byte, a character cut at the end
    cleaned = clean(page(body, content_type=declared))
    assert cleaned.encoding == "utf-8"
    assert cleaned.title == AR_TITLE
    assert cleaned.paragraphs == [AR_PARAGRAPHS[0], f"\ufffd{AR_PARAGRAPHS[1]}", AR_PARAGRAPHS[2]]


def test_charset_detection_reads_a_bounded_sample_of_a_large_page() -> None:
    # Found by the fuzz run: charset-normalizer decodes and hashes the whole body for each
    # candidate charset (2 s on some 2 MB pages). It now reads the runs of non-ASCII text.
    script = "<script>" + "var x = 1;\n" * 30_000 + "</script>"  # 330 kB of ASCII first
    body = (script + arabic_html() * 200).encode("cp1256")
    sample = _detection_sample(body)
    assert len(sample) < 40_000 < len(body)
    assert AR_TITLE.encode("cp1256") in sample
    cleaned = clean(page(body, content_type="text/html"))
    assert cleaned.encoding == "cp1256"
    assert cleaned.title == AR_TITLE


def test_stray_control_characters_are_dropped() -> None:
    # Found by the fuzz run: a few control characters pass the binary check and reached the
    # article's text and canonical URL.
    paragraphs = "".join(f"<p>{text}</p>" for text in AR_PARAGRAPHS).replace("،", "\x01\x1b،\x7f")
    html = (
        "<html><head><link rel='canonical' href='https://example.com/\x08\na'></head>"
        f"<body><article>{paragraphs}\x0c</article></body></html>"
    )
    cleaned = clean(page(html.encode(), content_type="text/html"))
    assert cleaned.paragraphs == list(AR_PARAGRAPHS)
    assert cleaned.canonical_url == "https://example.com/a"


def test_character_references_to_control_characters_are_dropped() -> None:
    # Found by the fuzz run: decoding drops control bytes, but "&#3" in the markup put U+0003
    # back into the parsed text (and a JSON-LD "\u0004" into an author's name).
    refs = "&#1;&#3&#x1b;&#127;"
    paragraphs = "".join(f"<p>{text}</p>" for text in AR_PARAGRAPHS).replace("، ", f"، {refs} ")
    author = {"@type": "NewsArticle", "author": {"@type": "Person", "name": "عمر\u0004 سعيد"}}
    html = (
        f"<html><head><title>{AR_TITLE.replace(' ', f' {refs}', 1)}</title>"
        f"<meta name='author' content='علي{refs} حسن'>"
        f"<script type='application/ld+json'>{json.dumps(author)}</script></head>"
        f"<body><article>{paragraphs}</article></body></html>"
    )
    cleaned = clean(page(html.encode(), content_type="text/html"))
    assert cleaned.title == AR_TITLE
    assert cleaned.paragraphs == list(AR_PARAGRAPHS)
    assert cleaned.authors and all(name in ("علي حسن", "عمر سعيد") for name in cleaned.authors)


@pytest.mark.parametrize(
    ("bom", "codec"),
    [
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ],
)
def test_bom_wins_over_declared_charset(bom: bytes, codec: str) -> None:
    body = bom + arabic_html().encode(codec)
    cleaned = clean(page(body, content_type="text/html; charset=windows-1256"))
    assert_arabic_article(cleaned)
    assert not cleaned.html or not cleaned.html.startswith("\ufeff")


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)), None),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF" + bytes(200), "text/html"),
        (b"plain start\x00\x01\x02\x03 then junk" * 20, "text/plain"),
        (bytes(range(256)) * 8, None),
        (b"GIF89a" + b"\x01" * 100, "image/gif"),
    ],
)
def test_binary_junk_is_not_text(body: bytes, content_type: str | None) -> None:
    with pytest.raises(StageError) as error:
        clean(page(body, content_type=content_type))
    assert error.value.reason == "not_text"


def test_control_bytes_of_utf8_pages_are_counted_in_the_text_sample() -> None:
    # UTF-8 pages are checked on their own bytes; the count is still that of the first
    # 65,536 characters, which reach past the first 65,536 bytes of Arabic text.
    arabic = "خبر " * 25_000  # 2 bytes a letter
    late = (arabic[:50_000] + "\x01" * 100 + arabic[50_000:]).encode()
    with pytest.raises(StageError) as error:
        decode(late, "text/html; charset=utf-8", {}, html=True)
    assert error.value.reason == "not_text"
    beyond = (arabic + "\x01" * 100).encode()  # after the sample: stray, dropped
    assert decode(beyond, "text/html", {}, html=True) == (arabic, "utf-8")


def test_control_characters_in_text_input_are_not_text() -> None:
    raw = RawPage(url="https://example.com/a", fetched_at=FETCHED_AT, text="\x01\x02\x03\x04" * 50)
    with pytest.raises(StageError) as error:
        clean(raw)
    assert error.value.reason == "not_text"


@pytest.mark.parametrize("body", [b"", b"   \r\n\t  \n", "\u200f\u200e \n".encode()])
def test_empty_page(body: bytes) -> None:
    with pytest.raises(StageError) as error:
        clean(page(body))
    assert error.value.reason == "empty_page"


def test_too_large_page() -> None:
    body = ("كلمة " * 1000).encode()
    with pytest.raises(StageError) as error:
        clean(page(body), limits=Limits(max_page_bytes=1000))
    assert error.value.reason == "too_large"


def test_lone_surrogates_in_text_input_become_replacement_characters() -> None:
    # Text handed over already decoded can hold them (not from JSON): the language stage
    # failed on encoding them, and no output may carry them.
    text = f"{AR_TITLE}\ud800\n\n" + "\n\n".join(AR_PARAGRAPHS) + "\ud83d\ude00"
    cleaned = clean(RawPage(url="https://example.com/a", fetched_at=FETCHED_AT, text=text))
    assert cleaned.title == f"{AR_TITLE}\ufffd"
    assert cleaned.paragraphs[-1].endswith("\U0001f600"), "a pair written as two code points is joined"
    "\n".join(cleaned.paragraphs).encode("utf-8")  # raises on a surrogate


@pytest.mark.timeout(30)
def test_unwrapping_a_long_wrapped_page_is_linear() -> None:
    # Joining wrapped lines by repeated concatenation was quadratic: 4 MB took 31 s.
    line = "سطر قصير من نص ملفوف"
    lines = [line] * 200_000
    started = time.perf_counter()
    joined = unwrap(lines)
    assert time.perf_counter() - started < 2.0
    assert joined == [" ".join(lines)]


def test_text_input_is_used_as_is() -> None:
    text = f"{AR_TITLE}\n\n" + "\n\n".join(AR_PARAGRAPHS)
    raw = RawPage(url="https://example.com/a", fetched_at=FETCHED_AT, text=text)
    cleaned = clean(raw)
    assert cleaned.title == AR_TITLE
    assert cleaned.encoding is None
    assert cleaned.paragraphs == list(AR_PARAGRAPHS)


# --- HTML ----------------------------------------------------------------------------------

ENGLISH_HTML = """<!DOCTYPE html>
<html lang="en"><head>
<meta charset="utf-8">
<title>Council approves bigger transport budget | Example Times</title>
<meta property="og:site_name" content="Example Times">
<link rel="canonical" href="https://example.com/news/council-budget">
<meta name="author" content="Jane Doe">
</head><body>
<header><nav><ul>
<li><a href="/">Home</a></li><li><a href="/world">World news</a></li>
<li><a href="/sport">Sport results</a></li><li><a href="/weather">Weather forecast</a></li>
</ul></nav></header>
<main><article>
<h1>Council approves bigger transport budget</h1>
<p>The city council voted on Tuesday to approve a new budget that increases spending on public
transport by a fifth, officials said after a long meeting in the town hall.</p>
<p>The mayor welcomed the decision and said buses would run more often from the spring, while
critics warned about the cost of the plan for households already struggling with bills.</p>
<p>Opposition members said they would challenge the plan in court if the council did not
publish a full assessment of its effects on the city's finances before the summer.</p>
</article>
<aside class="related"><h2>Related stories</h2><ul>
<li><a href="/news/other">Mayor opens a new bridge across the river in the old town</a></li>
<li><a href="/news/more">School year to start a week earlier in the autumn</a></li>
</ul></aside></main>
<footer><p>Copyright 2026 Example Times. All rights reserved.</p>
<a href="/privacy">Privacy policy</a></footer>
</body></html>"""


def test_english_html_page() -> None:
    cleaned = clean(page(ENGLISH_HTML.encode(), content_type="text/html; charset=utf-8"))
    body = "\n\n".join(cleaned.paragraphs)
    assert cleaned.title == "Council approves bigger transport budget"
    assert cleaned.site == "Example Times"
    assert cleaned.canonical_url == "https://example.com/news/council-budget"
    assert cleaned.authors == ["Jane Doe"]
    assert cleaned.html is not None and "<article>" in cleaned.html
    assert len(cleaned.paragraphs) == 3
    assert "increases spending on public transport by a fifth" in body
    for text in (
        "World news",
        "Sport results",
        "Weather forecast",
        "Related",
        "bridge",
        "Copyright",
        "Privacy",
    ):
        assert text not in body


def test_html_served_as_text_plain_is_sniffed() -> None:
    cleaned = clean(page(ENGLISH_HTML.encode(), content_type="text/plain"))
    assert cleaned.title == "Council approves bigger transport budget"
    assert cleaned.html is not None


def test_html_without_content_type_is_sniffed() -> None:
    cleaned = clean(page(ENGLISH_HTML.encode(), content_type=None))
    assert cleaned.html is not None
    assert len(cleaned.paragraphs) == 3


@pytest.mark.timeout(30)
def test_deeply_nested_html_does_not_hang() -> None:
    body = b"<html><body>" + b"<div>" * 100_000 + b"<p>deep text here.</p>" + b"</div>" * 100_000
    with pytest.raises(StageError) as error:
        clean(page(body, content_type="text/html"))
    assert error.value.reason == "too_deep"  # libxml2 stops at 256 levels: the page would be cut


def test_nesting_deeper_than_the_limit_is_too_deep() -> None:
    body = b"<html><body>" + b"<div>" * 40 + b"<p>" + "نص المقال الكامل هنا. ".encode() * 20 + b"</p>"
    assert clean(page(body, content_type="text/html"), limits=Limits(max_parse_depth=50)).paragraphs
    with pytest.raises(StageError) as error:
        clean(page(body, content_type="text/html"), limits=Limits(max_parse_depth=30))
    assert error.value.reason == "too_deep"


def test_empty_html_document_has_no_content() -> None:
    with pytest.raises(StageError) as error:
        clean(page(b"<html><head></head><body></body></html>", content_type="text/html"))
    assert error.value.reason == "no_content"


# --- HTML boilerplate (agents.clean.dom) -----------------------------------------------------

AR_NEWS_HTML = "\n".join(
    [
        '<!DOCTYPE html><html lang="ar" dir="rtl"><head><meta charset="utf-8">',
        "<title>الجزيرة نت | كندا تسعى لتعميق شراكتها مع تركيا</title>",
        '<meta property="og:title" content="كندا تسعى لتعميق شراكتها مع تركيا - الجزيرة نت">',
        '<meta property="og:site_name" content="الجزيرة نت">',
        '<meta name="author" content="الجزيرة نت">',
        "</head><body>",
        '<div class="site-header"><a href="/">الرئيسية</a> <a href="/news">أخبار</a></div>',
        '<div class="page"><div class="article">',
        "<h1>كندا تسعى لتعميق شراكتها مع تركيا</h1>",
        '<div class="share-bar"><a href="#">فيسبوك</a> <a href="#">تويتر</a>',
        "<span>شارك الخبر مع أصدقائك الآن</span></div>",
        '<figure><img src="a.jpg">',
        "<figcaption>رئيس الوزراء الكندي مارك كارني (الفرنسية)</figcaption></figure>",
        f'<div class="article-body"><p>{AR_PARAGRAPHS[0]}</p><p>{AR_PARAGRAPHS[1]}</p>',
        '<div class="read-also-box"><h3>اقرأ أيضا</h3>',
        '<p><a href="/x">أنقرة: على المجتمع الدولي التحرك بحزم ضد عدوان إسرائيل بالمنطقة</a></p></div>',
        f"<p>{AR_PARAGRAPHS[2]}</p></div>",
        '<div class="newsletter"><p>اشترك في النشرة البريدية لتصلك أهم الأخبار والتحليلات',
        "كل صباح مباشرة إلى بريدك.</p></div>",
        "</div>",
        '<div class="widget"><h2>الأكثر قراءة</h2>',
        '<div class="item"><h4><a href="/1">شركة النفط التركية توقع مذكرة تفاهم مع شيفرون الأمريكية</a></h4>',
        "<p>وقعت شركة النفط التركية وعملاق الطاقة الأمريكية مذكرة تفاهم لعمليات استكشاف.</p></div>",
        '<div class="item"><h4><a href="/2">الدفاع التركية: ننتظر التزام إسرائيل بخطة السلام في غزة</a></h4>',
        "<p>أكدت وزارة الدفاع التركية أن أنقرة تنتظر التزام إسرائيل بخطة السلام في غزة.</p></div>",
        '<div class="item"><h4><a href="/3">أردوغان: نؤيد سوريا قوية ومستقرة وموحدة بكل مكوناتها</a></h4>',
        "<p>قال الرئيس التركي إن بلاده تؤيد سوريا قوية ومستقرة وموحدة بكل مكوناتها.</p></div>",
        "</div>",
        '<div id="comments" class="comments"><p>تعليق طويل من أحد القراء يقول فيه إن هذه الشراكة',
        "ستغير موازين القوى في المنطقة كلها.</p></div>",
        "</div>",
        "<footer><p>جميع الحقوق محفوظة لشبكة الجزيرة الإعلامية ٢٠٢٦، ولا يجوز النقل دون إذن.</p></footer>",
        "</body></html>",
    ]
)


def test_arabic_news_html_keeps_the_article_and_drops_its_surroundings() -> None:
    cleaned = clean(page(AR_NEWS_HTML.encode(), content_type="text/html; charset=utf-8"))
    body = "\n".join(cleaned.paragraphs)
    assert cleaned.paragraphs == list(AR_PARAGRAPHS)
    assert cleaned.title == AR_TITLE
    assert cleaned.site == "الجزيرة نت"
    assert cleaned.authors == []  # the site's own name is not an author
    assert cleaned.caption == "رئيس الوزراء الكندي مارك كارني (الفرنسية)"
    for text in (
        "اقرأ أيضا",
        "أنقرة: على المجتمع",
        "الأكثر قراءة",
        "شيفرون",
        "شارك الخبر",
        "النشرة البريدية",
    ):
        assert text not in body, text
    for text in ("تعليق طويل", "جميع الحقوق", "الرئيسية", "الفرنسية"):
        assert text not in body, text


def test_teaser_grid_heavier_than_the_article_is_left_out() -> None:
    teaser = (
        "<div class='card'><h5><a href='/{n}'>Another story headline number {n} here</a></h5>"
        "<div class='desc'>A summary of that other story, long enough to look like a real "
        "paragraph of prose to anyone counting characters only.</div></div>"
    )
    html = (
        "<html><head><title>A short story told | Site</title></head><body>"
        "<div class='story-body'><p>" + " ".join(["The article's only sentence goes on."] * 6) + "</p>"
        "<p>" + " ".join(["A second paragraph of the article."] * 5) + "</p></div>"
        "<div class='grid'>" + "".join(teaser.format(n=n) for n in range(8)) + "</div></body></html>"
    )
    cleaned = clean(page(html.encode(), content_type="text/html"))
    assert len(cleaned.paragraphs) == 2
    assert cleaned.title == "A short story told"
    assert not any("summary of that other story" in text for text in cleaned.paragraphs)


LONG_SENTENCE = (
    "Opposition members said they would challenge the plan in court if the council did not publish"
    " a full assessment of its effects on the city's finances before the summer recess began."
)


def test_hidden_elements_inline_popups_and_soft_hyphens() -> None:
    html = (
        "<html><body><article>"
        "<p>The council met on Tues\u00adday and ap\u00adproved the budget after a long debate "
        "<span class='tooltip'>Tooltip text that no reader sees</span>about buses.</p>"
        "<div style='display: none'><p>A hidden copy of the summary that only machines read.</p></div>"
        "<p class='sr-only'>Screen reader only text that is not part of the story.</p>"
        "<p>The mayor said the buses would run more often from the spring onwards.</p>"
        f"<p>{LONG_SENTENCE}</p>"
        "</article></body></html>"
    )
    cleaned = clean(page(html.encode(), content_type="text/html"))
    assert cleaned.paragraphs == [
        "The council met on Tuesday and approved the budget after a long debate about buses.",
        "The mayor said the buses would run more often from the spring onwards.",
        LONG_SENTENCE,
    ]


def test_legacy_table_layout_with_line_breaks() -> None:
    html = (
        "<html><body><table><tr><td><a href='/'>Home</a> | <a href='/news'>News</a></td>"
        "<td>" + "<br><br>".join(AR_PARAGRAPHS) + "</td></tr></table></body></html>"
    )
    cleaned = clean(page(html.encode("cp1256"), content_type="text/html; charset=windows-1256"))
    assert cleaned.paragraphs == list(AR_PARAGRAPHS)


def test_stray_nul_bytes_in_html_are_tolerated() -> None:
    body = ENGLISH_HTML.encode().replace(b"<main>", b"<main>\x00\x00\x00")
    cleaned = clean(page(body, content_type="text/html"))
    assert len(cleaned.paragraphs) == 3
    assert cleaned.html is not None and "\x00" not in cleaned.html


def test_shingle_metric_matches_the_benchmark_definition() -> None:
    from tests.quality.extraction_metrics import macro_scores, shingle_counts

    gold = "one two three four five"  # shingles: (one..four), (two..five)
    assert shingle_counts(gold, gold).precision == 1.0
    half = shingle_counts(gold, "one two three four six")  # 1 shared, 1 extra, 1 missing
    assert (half.tp, half.fp, half.fn) == pytest.approx((1 / 3, 1 / 3, 1 / 3))
    assert half.precision == pytest.approx(0.5) and half.recall == pytest.approx(0.5)
    empty = shingle_counts(gold, "")
    assert empty.precision is None and empty.recall == 0.0  # left out of the precision mean
    scores = macro_scores([1.0, None], [1.0, 0.0])
    assert (scores.precision, scores.recall) == (1.0, 0.5)
    assert scores.f1 == pytest.approx(2 / 3)


STORY = (
    "<p>The council voted on Tuesday to keep the old bridge open for walkers and cyclists.</p>"
    "<p>Repairs will start in spring and are expected to last about three months in all.</p>"
    "<p>Cars have not been allowed on it since the flood, and the ferry will carry them meanwhile.</p>"
)
CONSENT = "<p>This website stores cookies on your computer to remember your choices and settings.</p>"


def test_short_story_is_found_at_its_headline() -> None:
    """A longer block elsewhere (a consent dialog) does not take the place of the story."""
    menu = "".join(f"<a href='/s{n}'>Section {n}</a> " for n in range(40))
    html = (
        "<html><head><title>Bridge stays open | Town News</title></head><body>"
        f"<main><div class='story'><h1>Bridge stays open</h1>{STORY}</div></main><div>{menu}</div>"
        f"<div class='dialog-box'><div class='text'>{CONSENT * 4}</div></div></body></html>"
    )
    cleaned = clean(page(html.encode(), content_type="text/html"))
    assert cleaned.title == "Bridge stays open"
    assert cleaned.paragraphs[0].startswith("The council voted")
    assert not any("cookies" in paragraph for paragraph in cleaned.paragraphs)


def test_heading_of_an_emptied_section_is_dropped() -> None:
    """A heading with no text of its own under it (the next block is a heading of the same
    rank, or nothing) headed something that was dropped."""
    html = (
        "<html><head><title>Bridge stays open</title></head><body><article><h1>Bridge stays open</h1>"
        f"<h2>Mehr zum Thema</h2><h2>What happens next</h2>{STORY}<h3>Weitere Artikel</h3></article>"
        "</body></html>"
    )
    cleaned = clean(page(html.encode(), content_type="text/html"))
    assert cleaned.paragraphs[0] == "What happens next"
    assert cleaned.paragraphs[-1].startswith("Cars have not")
    assert not any("Mehr" in paragraph or "Weitere" in paragraph for paragraph in cleaned.paragraphs)


def test_subheading_with_text_after_it_is_kept() -> None:
    html = (
        "<html><head><title>Bridge stays open</title></head><body><article><h1>Bridge stays open</h1>"
        f"{STORY}<h2>What happens next</h2>{STORY}</article></body></html>"
    )
    cleaned = clean(page(html.encode(), content_type="text/html"))
    assert "What happens next" in cleaned.paragraphs


def test_server_error_lines_are_dropped() -> None:
    warning = (
        "<p>Warning: Use of undefined constant comments - assumed 'comments' in "
        "/var/www/site/wp-content/plugins/recent.php on line 928</p>"
    )
    html = (
        "<html><head><title>Bridge stays open</title></head><body><article><h1>Bridge stays open</h1>"
        f"{warning}{STORY}</article></body></html>"
    )
    cleaned = clean(page(html.encode(), content_type="text/html"))
    assert cleaned.paragraphs[0].startswith("The council voted")
    assert not any("on line 928" in paragraph for paragraph in cleaned.paragraphs)


@pytest.mark.parametrize(
    "heading",
    [
        "İLGİLİ HABERLER",  # Turkish capitals: a combining dot after case folding
        "Çok Okunanlar",
        "بيشتر بخوانيد",  # Persian typed with the Arabic yeh
        "پربازدیدترین‌ها",  # with a zero-width non-joiner
        "یہ بھی پڑھیں",
        "Das könnte Sie auch interessieren:",
        "À lire aussi",
        "Czytaj także",
        "أخبار ذات صلة",
        "Related",
    ],
)
def test_section_headings_in_the_languages_of_the_sources(heading: str) -> None:
    assert is_section_marker(heading)
    assert _SECTION_HINT.search(heading.lower())  # the walk's cheap test lets it through


def test_a_label_that_also_opens_a_story_is_not_a_section_heading() -> None:
    assert not is_section_marker("Son dakika")  # Turkish "breaking news"


def test_every_section_marker_passes_the_walks_cheap_test() -> None:
    for marker in _STOP_MARKERS:
        assert _SECTION_HINT.search(marker.lower()), marker


BOX_LINK = "<p><a href='/other'>Angeln allgemein</a></p>"


def test_a_read_also_box_inside_the_story_is_dropped_and_the_story_goes_on() -> None:
    story = STORY.split("</p>")
    html = (
        "<html><head><title>Bridge stays open</title></head><body><article><h1>Bridge stays open</h1>"
        f"{story[0]}</p><h3>Auch interessant</h3>{BOX_LINK}{story[1]}</p>{story[2]}</p></article>"
        "</body></html>"
    )
    cleaned = clean(page(html.encode(), content_type="text/html"))
    assert cleaned.paragraphs[0].startswith("The council voted")
    assert cleaned.paragraphs[-1].startswith("Cars have not")
    assert not any("interessant" in text or "Angeln" in text for text in cleaned.paragraphs)


def test_a_related_heading_after_the_story_still_ends_it() -> None:
    others = "".join(f"<p><a href='/s{n}'>Köprü haberi numara {n}</a></p>" for n in range(4))
    html = (
        "<html><head><title>Bridge stays open</title></head><body><article><h1>Bridge stays open</h1>"
        f"{STORY}<h3>İlgili Haberler</h3>{others}</article></body></html>"
    )
    cleaned = clean(page(html.encode(), content_type="text/html"))
    assert cleaned.paragraphs[-1].startswith("Cars have not")
    assert not any("haber" in text.lower() for text in cleaned.paragraphs)


def test_a_section_heading_deep_inside_a_short_story_does_not_take_the_story_with_it() -> None:
    """The heading's related box sits inside the story's own container, and the story holds
    under a quarter of the page's prose: climbing from the heading stops below the story."""
    related = (
        "<div class='rack'><div class='sect_related'><div class='secthead'><h2>Mehr zum Thema</h2></div>"
        "<ul><li><a href='/a'>Ein anderer Artikel</a></li><li><a href='/b'>Noch einer</a></li></ul>"
        "</div></div>"
    )
    elsewhere = "".join(f"<div class='teaser'>{CONSENT}</div>" for _ in range(12))
    html = (
        "<html><head><title>Bridge stays open</title></head><body><div class='pages'>"
        f"<div class='story'><h1>Bridge stays open</h1>{STORY}{related}</div>"
        f"<div class='more'>{elsewhere}</div></div></body></html>"
    )
    cleaned = clean(page(html.encode(), content_type="text/html"))
    assert cleaned.paragraphs[0].startswith("The council voted")
    assert not any("Thema" in text or "Artikel" in text for text in cleaned.paragraphs)


def test_persian_plain_text_page_ends_at_its_read_more_heading() -> None:
    body = (
        "سیاست\n\nافزایش بودجه آموزش در سال آینده\n\n"
        "وزیر آموزش و پرورش روز سه‌شنبه اعلام کرد که بودجه مدارس در سال آینده افزایش می‌یابد و"
        " بخش بزرگی از آن صرف ساخت کلاس‌های تازه خواهد شد.\n\n"
        "به گفته او، این طرح در سه مرحله اجرا می‌شود و نخستین مرحله از ابتدای سال تحصیلی آغاز"
        " خواهد شد.\n\n"
        "بیشتر بخوانید\n\nنرخ تورم در ماه گذشته کاهش یافت\n\nبازار سهام تهران در روز دوشنبه رشد کرد\n"
    )
    cleaned = clean(page(body.encode()))
    assert cleaned.title == "افزایش بودجه آموزش در سال آینده"
    assert cleaned.paragraphs[-1].startswith("به گفته او")
    assert not any("تورم" in text or "بخوانید" in text for text in cleaned.paragraphs)


def test_another_storys_headline_and_lead_under_a_read_also_heading_end_the_story() -> None:
    # The shape of seed 002 (a whole other story under "إقرأ أيضاً:") inside one HTML container.
    other = (
        "<p>الصين تتمسك بإنفاقها الدفاعي بعد تصريحات بوتين وترامب</p>"
        "<p>قالت بكين اليوم الثلاثاء إن إنفاقها الدفاعي ضروري جدا بعدما أيد الرئيس الروسي اقتراح"
        " نظيره الأميركي بخفض الميزانيات الدفاعية إلى النصف.</p>"
        "<p>وزادت روسيا إنفاقها العسكري بشكل كبير منذ بداية حربها على أوكرانيا، لكن الإنفاق العسكري"
        " ازداد أيضا في الصين خلال السنوات الأخيرة.</p>"
    )
    paragraphs = "".join(f"<p>{text}</p>" for text in AR_PARAGRAPHS)
    html = (
        f"<html lang='ar'><head><title>{AR_TITLE}</title></head><body><article><h1>{AR_TITLE}</h1>"
        f"{paragraphs}<p>إقرأ أيضاً:</p>{other}</article></body></html>"
    )
    cleaned = clean(page(html.encode(), content_type="text/html"))
    assert cleaned.paragraphs == list(AR_PARAGRAPHS)


def story_page(head: str, h1: str, body: str = "") -> Cleaned:
    """The STORY under ``h1`` in an article, ``head`` in the head, ``body`` before the story;
    the <body> has WordPress's classes (one of them names comments)."""
    html = (
        f"<html><head>{head}</head><body class='single comments-open'><article><h1>{h1}</h1>"
        f"{body}{STORY}</article></body></html>"
    )
    return clean(page(html.encode(), content_type="text/html"))


@pytest.mark.parametrize(
    ("declared", "heading", "title"),
    [
        (
            "BMAS - Bridge stays open for walkers",
            "Bridge stays open for walkers",
            "Bridge stays open for walkers",
        ),
        (
            "Chronik: Bridge stays open for walkers",
            "Bridge stays open for walkers",
            "Bridge stays open for walkers",
        ),
        (f"الجزيرة نت | {AR_TITLE}", AR_TITLE, AR_TITLE),
    ],
)
def test_the_h1_is_the_title_when_the_declared_title_adds_a_site_name_or_kicker_before_it(
    declared: str, heading: str, title: str
) -> None:
    assert story_page(f"<title>{declared}</title>", heading).title == title


def test_a_title_written_over_two_lines_comes_out_on_one() -> None:
    # three eval pages had "Headline\n- Site" titles, line break and all
    assert (
        story_page("<title>Bridge stays open\n  for walkers</title>", "Town").title
        == "Bridge stays open for walkers"
    )


def test_a_logo_h1_at_the_end_of_the_declared_title_is_not_the_title() -> None:
    # "Headline - Site" with the site's logo as the <h1>: the part before is the longer one
    head = "<title>Bridge stays open for walkers and cyclists - Town News Daily</title>"
    title = story_page(head, "Town News Daily").title
    assert title is not None and title.startswith("Bridge stays open")


def _titled(head: str, h1: str) -> str | None:
    return story_page(head, h1).title


def test_the_one_h1_is_the_title_when_the_declared_titles_say_something_else() -> None:
    # og:title is often a search-engine version of the headline; readers see the <h1>
    head = '<meta property="og:title" content="Bridge news: council keeps crossing open">'
    assert (
        _titled(head, "Town keeps the old bridge open for walkers")
        == "Town keeps the old bridge open for walkers"
    )


def test_a_kicker_in_the_h1_before_the_declared_title_is_left_out() -> None:
    head = "<title>Town keeps the old bridge open for walkers</title>"
    h1 = "<span>Flood repairs</span> Town keeps the old bridge open for walkers"
    assert _titled(head, h1) == "Town keeps the old bridge open for walkers"


def test_an_h1_that_starts_with_the_site_name_is_not_the_title() -> None:
    head = '<meta property="og:site_name" content="Town News"><title>Bridge stays open</title>'
    assert _titled(head, "Town News, the first daily of the valley") == "Bridge stays open"


def test_inline_markup_inside_a_word_of_the_h1_does_not_split_it() -> None:
    h1 = "Town keeps the old <em>bri</em>dge open for walkers"
    assert _titled("<title>Bridge</title>", h1) == "Town keeps the old bridge open for walkers"


def test_a_style_inside_the_h1_is_not_part_of_the_title() -> None:
    h1 = "<style>.logo{display:none}</style>Town keeps the old bridge open for walkers"
    assert _titled("<title>Bridge</title>", h1) == "Town keeps the old bridge open for walkers"


def _authors_of(head: str, body: str) -> list[str]:
    return story_page(f"<title>Bridge stays open</title>{head}", "Bridge stays open", body).authors


@pytest.mark.parametrize(
    "byline",
    [
        "<span class='author vcard'><a class='url fn n' href='/author/ak/'>Andreas Kalt</a></span>",  # hAtom
        "<a rel='author' href='/author/ak/'>Andreas Kalt</a>",
        "<span itemprop='author' itemscope><span itemprop='name'>Andreas Kalt</span></span>",
        "<div itemprop='author' itemscope><meta itemprop='name' content='Andreas Kalt'></div>",
    ],
)
def test_the_author_marked_in_the_page(byline: str) -> None:
    assert _authors_of("", byline) == ["Andreas Kalt"]


def test_a_json_ld_author_given_by_reference_is_named_from_its_graph() -> None:
    # Yoast writes the article's author as {"@id": ...} and the Person elsewhere in the graph
    graph = {
        "@context": "https://schema.org",
        "@graph": [
            {"@type": "Person", "@id": "https://example.com/#/person/1", "name": "Andreas Kalt"},
            {"@type": "BlogPosting", "author": {"@id": "https://example.com/#/person/1"}},
        ],
    }
    head = f"<script type='application/ld+json'>{json.dumps(graph)}</script>"
    assert _authors_of(head, "") == ["Andreas Kalt"]


@pytest.mark.parametrize("reference", [["x"], {"@id": "x"}, 7, None])
def test_an_author_reference_that_is_not_a_string_is_no_author_and_no_error(reference: object) -> None:
    # {"@id": [...]} made the lookup raise, and the whole page a parse_error dead letter
    graph = {"@graph": [{"@type": "NewsArticle", "author": {"@id": reference}}]}
    head = f"<script type='application/ld+json'>{json.dumps(graph)}</script>"
    assert _authors_of(head, "") == []


def test_a_graph_that_is_not_a_list_does_not_hide_the_author_beside_it() -> None:
    head = (
        f"<script type='application/ld+json'>{json.dumps({'@graph': 5, 'author': 'Andreas Kalt'})}</script>"
    )
    assert _authors_of(head, "") == ["Andreas Kalt"]


@pytest.mark.parametrize(
    "byline",
    [
        "<p class='byline__author'>VON <a href='/autoren/ak'>ANDREAS KALT</a> am 21. April 2020</p>",
        "<div class='AutorDataPublicacao'> Por Andreas Kalt | 03/05/2022 20:36</div>",
        "<span class='authorname-txt'><span>Andreas Kalt</span></span>",
        "<i class='authors'>Von <a class='author-name' href='/autor/ak'>Andreas Kalt</a></i>",
    ],
)
def test_the_author_of_an_element_whose_class_names_a_byline(byline: str) -> None:
    assert [name.title() for name in _authors_of("", byline)] == ["Andreas Kalt"]


@pytest.mark.parametrize(
    "markup",
    [
        "<span class='author-label'>Text</span>",  # one word with no "By"/"Von": a label
        "<span class='author-box'>Datum: 21. April 2020</span>",
        "<div class='author-bio'>Andreas Kalt writes about towns and their bridges.</div>",
        "<span class='byline'>mail@example.com</span>",
    ],
)
def test_an_element_whose_class_names_a_byline_without_a_name_gives_none(markup: str) -> None:
    assert _authors_of("", markup) == []


@pytest.mark.parametrize(
    ("line", "names"),
    [
        ("By Jane Doe", ["Jane Doe"]),
        ("By Reuters", ["Reuters"]),
        ("Von Max Muster und Erika Muster", ["Max Muster", "Erika Muster"]),
        ("VON MAX MUSTER", ["MAX MUSTER"]),  # a lead in capitals, as in class-marked bylines
        ("Par Jean-Marc Dupont", ["Jean-Marc Dupont"]),
        ("Autor: Jan van der Berg", ["Jan van der Berg"]),
        ("Yazar: Ayşe Yılmaz", ["Ayşe Yılmaz"]),
        ("بقلم: جلال فواز", ["جلال فواز"]),
        ("Von Montag bis Freitag", []),  # "bis" is no name
        ("Von Berlin", []),  # one word after a lead other than "By"
        ("By the way, the bridge stays open", []),
        ("كتب الرئيس رسالة طويلة إلى الوزير يطلب فيها الكثير", []),  # a sentence that opens with "wrote"
    ],
)
def test_byline_lines_and_their_names(line: str, names: list[str]) -> None:
    assert byline_names(line) == names


def test_a_byline_line_in_the_story_names_its_author_when_the_metadata_does_not() -> None:
    assert _authors_of("", "<p>Von Max Muster und Erika Muster</p>") == ["Max Muster", "Erika Muster"]
    # the metadata's author comes first
    assert _authors_of("<meta name='author' content='Andreas Kalt'>", "<p>Von Max Muster</p>") == [
        "Andreas Kalt"
    ]


def test_the_authors_of_comments_are_not_the_articles() -> None:
    comments = (
        "<div id='comments'><div class='comment'><span itemprop='author'>Jane Reader</span>"
        "<p>Great news for the town.</p></div></div>"
    )
    assert _authors_of("", comments) == []
