"""Properties on generated hostile input (hypothesis): every page ends as an article or as a
StageError / SchemaError with a reason, nothing else escapes, the output is valid text, and
no stage exceeds the per-page budget. The long run is ``python -m tests.fuzz.run``."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime, timedelta, timezone

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agents import StageError
from agents.clean import REASONS, Cleaned, clean
from agents.dates import detect_dates
from agents.language import analyze as analyze_language
from agents.limits import DEFAULT_LIMITS
from agents.pipeline import analyze
from schemas import Article, RawPage, SchemaError, validate
from tests.fuzz import inputs

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_BAD_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")

fetch_times = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
) | st.datetimes(
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=-12)), timezone(timedelta(hours=14))])
)
urls = st.sampled_from(
    [
        "https://example.com/2024/12/26/story",
        "http://[::1/x",
        "http://example.com:99999999/a",
        "x",
        "file:///a",
    ]
)
content_types = st.sampled_from(
    [None, "text/html", "text/plain", "text/html; charset=windows-1256", "image/png"]
)
texts = st.sampled_from(inputs.TEXTS)


def _references(codes: list[int]) -> str:
    """Decimal references with their semicolon, hexadecimal ones without, by turns."""
    return "".join(f"&#x{code:x}" if i % 2 else f"&#{code};" for i, code in enumerate(codes))


html_bodies = st.one_of(
    st.binary(max_size=2000),
    st.builds(
        lambda text, fraction: inputs.truncated(inputs.html_page([text] * 3).encode(), fraction),
        texts,
        st.floats(0, 1),
    ),
    st.builds(
        lambda depth, tags, closed: inputs.nested(
            depth, tags, f"<p>{inputs.ARABIC}</p>", closed=closed
        ).encode(),
        st.integers(1, 3000),
        st.lists(st.sampled_from(inputs.TAGS), min_size=1, max_size=4),
        st.booleans(),
    ),
    st.builds(
        lambda size, count: inputs.huge_attributes(size, count, f"<p>{inputs.ARABIC}</p>").encode(),
        st.integers(0, 200_000),
        st.integers(0, 2000),
    ),
    st.builds(
        inputs.mixed_charsets,
        st.lists(st.tuples(texts, st.sampled_from(inputs.CHARSETS)), min_size=1, max_size=5),
    ),
    st.builds(
        inputs.invalid_utf8,
        texts.map(lambda text: inputs.html_page([text] * 3)),
        st.lists(st.integers(0, 5000), max_size=30),
        st.lists(st.sampled_from([b"\xff", b"\xc0\xaf", b"\xed\xa0\x80", b"\xe2\x82", b"\x80"]), max_size=30),
    ),
    st.builds(
        lambda text, positions, marks: inputs.html_page(
            [inputs.with_bidi(text, positions, marks)] * 3
        ).encode(),
        texts,
        st.lists(st.integers(0, 400), max_size=60),
        st.text(alphabet=inputs.BIDI, max_size=60),
    ),
    st.builds(  # character references to any code point: controls, surrogates, out of range
        lambda codes, text: inputs.html_page(
            [f"{text} {_references(codes)} {text}"] * 3,
            head=f"<meta name='author' content='{_references(codes)}علي حسن'>",
        ).encode(),
        st.lists(st.integers(0, 0x9F) | st.integers(0, 0x11_0000), max_size=20),
        texts,
    ),
)
# JSON-LD of any shape, built from the keys the metadata reader looks at
json_ld = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(
        st.sampled_from(["@graph", "@id", "@type", "author", "creator", "name"]), inner, max_size=4
    ),
    max_leaves=12,
)
codings = st.sampled_from(inputs.CODINGS)


@st.composite
def raw_pages(draw: st.DrawFn) -> RawPage:
    headers: dict[str, str] = {}
    kind = draw(st.sampled_from(["body", "compressed", "bomb", "text"]))
    if kind == "text":
        body, text = None, draw(st.text(max_size=3000) | texts.map(lambda text: text * 5))
    elif kind == "compressed":
        coding = draw(codings)
        body, text = inputs.compressed(draw(html_bodies), coding), None
        headers = draw(st.sampled_from([{"Content-Encoding": coding}, {}, {"content-encoding": "gzip, br"}]))
    elif kind == "bomb":
        coding = draw(codings)
        body, text = inputs.bomb(DEFAULT_LIMITS.max_decompressed_bytes + 1, coding), None
        headers = {"Content-Encoding": coding}
    else:
        body, text = draw(html_bodies), None
    return RawPage(
        url=draw(urls),
        fetched_at=draw(fetch_times),
        body=body,
        text=text,
        content_type=draw(content_types),
        http_headers=headers,
    )


def assert_valid_text(value: str | None) -> None:
    assert value is None or not _BAD_CHARS.search(value), repr(value)


def assert_article_or_clean_error(page: RawPage) -> Article | None:
    """analyze gives an article or a clean-stage StageError with a known reason, in budget."""
    seconds: dict[str, float] = {}
    try:
        article = analyze(page, observe=lambda stage, spent: seconds.__setitem__(stage, spent))
    except StageError as error:
        # language and dates accept whatever clean hands them: only clean may refuse a page
        assert (error.stage, error.reason in REASONS) == ("clean", True), (
            error.stage,
            error.reason,
            str(error),
        )
        article = None
    assert max(seconds.values()) <= DEFAULT_LIMITS.stage_seconds, seconds
    if article is not None:
        for value in (article.title, article.text, article.subtitle, article.site, article.canonical_url):
            assert_valid_text(value)
        validate("article", orjson.loads(article.to_json()))
    return article


# --------------------------------------------------------------------------- RawPage decoding


@FAST
@given(st.binary(max_size=3000))
def test_any_bytes_decode_to_a_raw_page_or_a_schema_error(data: bytes) -> None:
    try:
        RawPage.from_json(data)
    except SchemaError as error:
        assert error.reason in {"not_json", "schema", "bad_base64"}


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
record_fields = st.fixed_dictionaries(
    {},
    optional={
        "url": st.text(max_size=50) | urls,
        "fetched_at": st.text(max_size=40) | fetch_times.map(datetime.isoformat) | json_values,
        "body_b64": st.text(max_size=60)
        | st.binary(max_size=60).map(lambda data: base64.b64encode(data).decode()),
        "body_text": st.text(max_size=60) | json_values,
        "content_type": st.none() | st.text(max_size=30),
        "http_headers": st.dictionaries(st.text(max_size=10), st.text(max_size=10) | json_values, max_size=3),
        "page_id": st.text(max_size=10) | json_values,
    },
)


@FAST
@given(record_fields | json_values)
def test_any_json_decodes_to_a_raw_page_or_a_schema_error(document: object) -> None:
    try:
        page = RawPage.from_json(json.dumps(document).encode())
    except SchemaError as error:
        assert error.reason in {"schema", "bad_base64"}
    else:
        assert RawPage.from_json(page.to_json()) == page


# --------------------------------------------------------------------------- the stages


@FAST
@given(raw_pages())
def test_analyze_gives_an_article_or_a_stage_error_with_a_reason(page: RawPage) -> None:
    assert_article_or_clean_error(page)


@FAST
@given(st.text(max_size=5000))
def test_the_language_stage_accepts_any_text(text: str) -> None:
    languages = analyze_language(text)
    guess = languages.language
    assert guess.code is None or re.fullmatch("[a-z]{2}", guess.code)
    assert 0.0 <= guess.confidence <= 1.0
    end = 0
    for span in languages.spans:  # in text order, inside the text, not overlapping
        assert end <= span.start < span.end <= len(text)
        assert 0.0 <= span.confidence <= 1.0
        end = span.end
    assert set(languages.others()) <= set(languages.spans)


@FAST
@given(st.text(max_size=3000), st.lists(st.text(max_size=100), max_size=5), urls, fetch_times)
def test_the_dates_stage_accepts_any_markup_and_fetch_time(
    html: str, header_lines: list[str], url: str, fetched_at: datetime
) -> None:
    markup = inputs.dated_page(header_lines, html) if header_lines else f"<html><body>{html}</body></html>"
    cleaned = Cleaned(title=None, paragraphs=[html], header_lines=header_lines, html=markup)
    dates = detect_dates(cleaned, url, fetched_at)
    if dates.published_at is not None:
        assert dates.published_at <= max(
            fetched_at, datetime.max.replace(tzinfo=UTC) - timedelta(days=1)
        ) + timedelta(days=1)


@FAST
@given(html_bodies, content_types)
def test_clean_gives_text_without_controls_or_surrogates(body: bytes, content_type: str | None) -> None:
    try:
        cleaned = clean(
            RawPage(
                url="https://example.com/a",
                fetched_at=datetime(2026, 2, 6, tzinfo=UTC),
                body=body,
                content_type=content_type,
            )
        )
    except StageError as error:
        assert error.reason in REASONS
        return
    values = [cleaned.title, cleaned.subtitle, *cleaned.authors, cleaned.site, cleaned.canonical_url]
    for value in (*values, *cleaned.paragraphs, *cleaned.header_lines):
        assert_valid_text(value)


@pytest.mark.parametrize("charset", ["utf-8", "cp1256", "utf-16", "utf-8-sig"])
@pytest.mark.parametrize("declared", ["header", "meta", "none"])
def test_a_page_in_a_known_charset_comes_out_without_mojibake(charset: str, declared: str) -> None:
    meta = charset if declared == "meta" and charset != "utf-16" else None
    body = inputs.html_page([inputs.ARABIC] * 3, charset=meta).encode(charset)
    content_type = f"text/html; charset={charset}" if declared == "header" else "text/html"
    page = RawPage(
        url="https://example.com/a",
        fetched_at=datetime(2026, 2, 6, tzinfo=UTC),
        body=body,
        content_type=content_type,
    )
    article = assert_article_or_clean_error(page)
    assert article is not None and inputs.ARABIC in article.text


@FAST
@given(json_ld)
def test_any_json_ld_gives_the_article_and_names_only_strings(data: object) -> None:
    head = f"<script type='application/ld+json'>{json.dumps(data)}</script>"
    cleaned = clean(
        RawPage(
            url="https://example.com/a",
            fetched_at=datetime(2026, 2, 6, tzinfo=UTC),
            body=inputs.html_page([inputs.ARABIC] * 3, head=head).encode(),
            content_type="text/html",
        )
    )  # no StageError: the metadata never costs the page
    assert cleaned.paragraphs
    assert all(isinstance(name, str) and name for name in cleaned.authors)
