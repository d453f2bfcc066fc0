"""Hostile inputs for the pipeline, as the ``raw-pages`` topic would carry them.

The builders below each make one kind of bad page from explicit parameters; the property
tests (``tests/unit/test_fuzz_properties.py``) draw those parameters with hypothesis, and
the fuzz run (``python -m tests.fuzz.run``) draws them from a seeded ``random.Random`` in
:func:`generate`, so case N of a seed is always the same bytes.
"""

from __future__ import annotations

import base64
import codecs
import functools
import gzip
import json
import random
import string
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import brotli
import orjson

REPO = Path(__file__).resolve().parents[2]
# Pages to mutate: the sample crawl, the shared seeds and the evaluation pages when present.
CORPUS_DIRS = (
    REPO / "streams" / "sample_crawl",
    REPO.parent / "shared" / "samples" / "seeds",
    REPO.parent / "shared" / "eval" / "arabic-pages" / "pages",
    REPO.parent / "shared" / "eval" / "article-extraction-benchmark" / "html",
)

ARABIC = (
    "أعلنت وزارة النقل اليوم عن خطة جديدة لتوسيع شبكة الحافلات الكهربائية في العاصمة، "
    "وقال المتحدث باسم الوزارة إن المرحلة الأولى ستبدأ مطلع العام المقبل."
)
PERSIAN = "وزارت راه و شهرسازی امروز از برنامه‌ای تازه برای گسترش شبکه اتوبوس‌های برقی خبر داد."
ENGLISH = "The transport ministry announced a new plan to extend the electric bus network next year."
TEXTS = (ARABIC, PERSIAN, ENGLISH)
# Bidi controls, zero-width characters, BOM and the Arabic letter mark.
BIDI = (
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c\u200b\u200c\u200d\u2060\ufeff"
)
CHARSETS = ("utf-8", "cp1256", "iso-8859-6", "utf-16", "utf-16-le", "utf-32", "cp1252", "latin-1", "cp720")
CODINGS = ("gzip", "x-gzip", "deflate", "br")
TAGS = ("div", "p", "span", "b", "section", "article", "li", "ul", "table", "tr", "td", "font", "a", "i")
DATES = (
    "2024-12-26T10:30:00+03:00",
    "2024/12/26",
    "26/12/2024",
    "٢٦ ديسمبر ٢٠٢٤",
    "الخميس 26 كانون الأول 2024",
    "۵ دی ۱۴۰۳",
    "25 جمادى الآخرة 1446",
    "منذ 3 ساعات",
    "أمس",
    "Dec 26, 2024 10:30 AM EST",
    "2024年12月26日",
    "26/12/2024 10:30 GMT+3",
    "26.12.2024 10:30 (توقيت مكة)",
    "Updated: 27 Dec 2024 08:00 +01:00",
    "آخر تحديث: 27/12/2024",
    "9999-12-31T23:59:59-14:00",
    "0000-00-00",
    "2024-02-30",
    "1e400",
    "99999999999999999999",
    "",
)


@dataclass(frozen=True)
class Case:
    """One generated input: the ``raw-pages`` record value, its family, and an expectation.

    ``expect``: text that must be in the article's text when one comes out (the input was
    built from it with a known charset): missing means mojibake or lost text.
    """

    family: str
    value: bytes
    expect: str | None = None


# --------------------------------------------------------------------------- records


def record(
    body: bytes | None = None,
    *,
    text: str | None = None,
    content_type: str | None = "text/html",
    headers: dict[str, str] | None = None,
    url: str = "https://example.com/2024/12/26/story",
    fetched_at: str = "2026-02-06T08:47:00+00:00",
) -> bytes:
    """A RawPage JSON record as a crawler publishes it (body as base64, or text)."""
    document: dict[str, object] = {"url": url, "fetched_at": fetched_at}
    if body is not None:
        document["body_b64"] = base64.b64encode(body).decode("ascii")
    else:
        document["body_text"] = text or ""
    document["content_type"] = content_type
    document["http_headers"] = headers or {}
    return orjson.dumps(document)


def html_page(paragraphs: Sequence[str], *, head: str = "", charset: str | None = None) -> str:
    meta = f'<meta charset="{charset}">' if charset else ""
    body = "".join(f"<p>{paragraph}</p>" for paragraph in paragraphs)
    head = f"<head>{meta}<title>عنوان الخبر</title>{head}</head>"
    return f"<!DOCTYPE html><html>{head}<body><article>{body}</article></body></html>"


# --------------------------------------------------------------------------- builders


def nested(depth: int, tags: Sequence[str], inner: str, *, closed: bool = True) -> str:
    """``inner`` inside ``depth`` elements (cycling through ``tags``), closed or left open."""
    opening = "".join(f"<{tags[i % len(tags)]}>" for i in range(depth))
    closing = "".join(f"</{tags[i % len(tags)]}>" for i in reversed(range(depth))) if closed else ""
    return f"<html><body>{opening}{inner}{closing}</body></html>"


def huge_attributes(size: int, count: int, inner: str) -> str:
    """An element with ``count`` attributes, one of them ``size`` characters long."""
    attributes = " ".join(f'data-a{i}="{i}"' for i in range(count))
    return f'<html><body><div class="{"x" * size}" {attributes}>{inner}</div></body></html>'


def mixed_charsets(segments: Sequence[tuple[str, str]]) -> bytes:
    """Text segments each encoded in its own charset, concatenated (what broken sites serve)."""
    return b"".join(text.encode(charset, "replace") for text, charset in segments)


def invalid_utf8(text: str, positions: Sequence[int], junk: Sequence[bytes]) -> bytes:
    """UTF-8 of ``text`` with invalid sequences spliced in at byte ``positions``."""
    data = bytearray(text.encode("utf-8"))
    for position, piece in sorted(zip(positions, junk, strict=False), reverse=True):
        data[position % (len(data) + 1) : position % (len(data) + 1)] = piece
    return bytes(data)


def with_bidi(text: str, positions: Sequence[int], marks: Sequence[str]) -> str:
    """``text`` with bidi controls and zero-width characters inserted at ``positions``."""
    chars = list(text)
    for position, mark in zip(positions, marks, strict=False):
        chars.insert(position % (len(chars) + 1), mark)
    return "".join(chars)


def compressed(body: bytes, coding: str) -> bytes:
    if coding in ("gzip", "x-gzip"):
        return gzip.compress(body, compresslevel=6, mtime=0)
    if coding == "deflate":
        return zlib.compress(body)
    if coding == "br":
        packed: bytes = brotli.compress(body, quality=5)  # brotli ships no type information
        return packed
    raise ValueError(coding)


@functools.cache
def bomb(size: int, coding: str) -> bytes:
    """A small compressed body that expands to ``size`` bytes of markup."""
    return compressed(b"<html><body><p>" + b"A" * size, coding)


def truncated(data: bytes, fraction: float) -> bytes:
    return data[: int(len(data) * fraction)]


def mutated(data: bytes, rng: random.Random, edits: int) -> bytes:
    """Random byte flips, insertions, deletions and duplications."""
    buffer = bytearray(data)
    for _ in range(edits):
        if not buffer:
            buffer += rng.randbytes(rng.randint(1, 16))
            continue
        at = rng.randrange(len(buffer))
        action = rng.randrange(4)
        if action == 0:
            buffer[at] = rng.randrange(256)
        elif action == 1:
            buffer[at:at] = rng.randbytes(rng.randint(1, 16))
        elif action == 2:
            del buffer[at : at + rng.randint(1, 64)]
        else:
            buffer[at:at] = buffer[at : at + rng.randint(1, 256)]
    return bytes(buffer)


def dated_page(values: Sequence[str], text: str) -> str:
    """Dates in every place the dates stage reads: JSON-LD, meta, time, header line, URL."""
    first = values[0] if values else ""
    own = {"@type": "NewsArticle", "datePublished": first, "dateModified": values[-1:]}
    other = {
        "@type": "BlogPosting",
        "datePublished": values[-1] if values else "",
        "url": "https://www.x.org/b/",
    }
    json_ld = json.dumps(
        {"@graph": [other, {**own, "mainEntityOfPage": {"@id": "https://example.com/2024/12/26/story/"}}]}
    )
    head = (
        f'<script type="application/ld+json">{json_ld}</script>'
        f'<meta property="article:published_time" content="{first}">'
    )
    times = "".join(f'<time datetime="{value}">{value}</time>' for value in values)
    return html_page([f"نشر في {first}", times, text, text], head=head)


# --------------------------------------------------------------------------- the generator


def _random_text(rng: random.Random, size: int) -> str:
    """Any code points, surrogates excepted (JSON cannot carry them), biased to real scripts."""
    pools = (string.printable, ARABIC, PERSIAN, BIDI, "\x00\x01\x1b\x7f\x85\u2028\u2029")
    chars = []
    for _ in range(size):
        if rng.random() < 0.1:
            code = rng.randrange(0x110000)
            chars.append(chr(code) if not 0xD800 <= code <= 0xDFFF else "\ufffd")
        else:
            chars.append(rng.choice(rng.choice(pools)))
    return "".join(chars)


def _random_json(rng: random.Random, depth: int = 0) -> object:
    kind = rng.randrange(7 if depth < 4 else 4)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False, 0, -1, 2**63, 1e308, 0.5])
    if kind in (2, 3):
        return _random_text(rng, rng.randint(0, 40))
    if kind == 4:
        return [_random_json(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    keys = ["url", "fetched_at", "body_b64", "body_text", "content_type", "http_headers", "page_id", "x"]
    return {rng.choice(keys): _random_json(rng, depth + 1) for _ in range(rng.randint(0, 6))}


class Generator:
    """Case N of a seed, for N = 0, 1, 2 …; each family builds one kind of hostile input."""

    def __init__(self, corpus: Sequence[bytes], seed: int = 0) -> None:
        self.corpus = list(corpus) or [html_page([ARABIC, ENGLISH]).encode()]
        self.seed = seed
        self.families: list[tuple[str, float, Callable[[random.Random], Case]]] = [
            ("random_bytes", 4, self._random_bytes),
            ("random_json", 4, self._random_json_record),
            ("mutated_record", 6, self._mutated_record),
            ("corpus_page", 8, self._corpus_page),
            ("mutated_page", 14, self._mutated_page),
            ("truncated_html", 8, self._truncated_html),
            ("deep_nesting", 6, self._deep_nesting),
            ("huge_attributes", 3, self._huge_attributes),
            ("mixed_charsets", 8, self._mixed_charsets),
            ("declared_charset", 6, self._declared_charset),
            ("invalid_utf8", 6, self._invalid_utf8),
            ("bidi_controls", 6, self._bidi),
            ("compressed", 7, self._compressed),
            ("zip_bomb", 1, self._zip_bomb),
            ("random_text", 5, self._random_text_page),
            ("dates", 6, self._dates),
            ("big_page", 0.05, self._big_page),
        ]
        self._weights = [weight for _, weight, _ in self.families]

    def case(self, index: int) -> Case:
        rng = random.Random(f"{self.seed}:{index}")
        _, _, build = rng.choices(self.families, self._weights)[0]
        return build(rng)

    # -- helpers

    def _page(self, rng: random.Random) -> bytes:
        return rng.choice(self.corpus)

    def _url(self, rng: random.Random) -> str:
        return rng.choice(
            [
                "https://example.com/2024/12/26/story",
                "http://[::1/x",
                "http://example.com:99999999/a",
                "file:///tmp/x.html",
                "https://مثال.إختبار/خبر?id=١",
                "x",
                "https://example.com/" + "a" * 8000,
                "javascript:alert(1)",
            ]
        )

    def _fetched_at(self, rng: random.Random) -> str:
        if rng.random() < 0.8:
            return "2026-02-06T08:47:00+00:00"
        moment = datetime(1, 1, 2, tzinfo=UTC) + timedelta(days=rng.randrange(3_652_000))
        zone = timezone(timedelta(minutes=rng.randrange(-23 * 60, 23 * 60)))
        return moment.replace(tzinfo=zone).isoformat()

    def _headers(self, rng: random.Random) -> dict[str, str]:
        headers: dict[str, str] = {}
        if rng.random() < 0.3:
            headers["Content-Type"] = rng.choice(
                ["text/html; charset=windows-1256", "text/html; charset=bogus", "text/plain", "image/png"]
            )
        if rng.random() < 0.1:
            headers["content-encoding"] = rng.choice([*CODINGS, "identity", "compress", "gzip, br, gzip, br"])
        return headers

    def _content_type(self, rng: random.Random) -> str | None:
        return rng.choice(
            [
                "text/html",
                "text/html; charset=utf-8",
                "text/html; charset=windows-1256",
                "text/plain",
                "application/xhtml+xml",
                None,
                "application/octet-stream",
                'text/html; charset="utf-16"',
                "text/html; charset=" + "x" * 300,
            ]
        )

    def _record(self, rng: random.Random, body: bytes, **overrides: object) -> bytes:
        options: dict[str, object] = {
            "content_type": self._content_type(rng),
            "headers": self._headers(rng),
            "url": self._url(rng) if rng.random() < 0.15 else "https://example.com/2024/12/26/story",
            "fetched_at": self._fetched_at(rng),
        }
        options.update(overrides)
        return record(body, **options)  # type: ignore[arg-type]

    # -- families

    def _random_bytes(self, rng: random.Random) -> Case:
        return Case("random_bytes", rng.randbytes(rng.choice([0, 1, 10, 100, 5000])))

    def _random_json_record(self, rng: random.Random) -> Case:
        return Case("random_json", orjson.dumps(_random_json(rng)))

    def _mutated_record(self, rng: random.Random) -> Case:
        value = self._record(rng, self._page(rng)[:3000])
        return Case("mutated_record", mutated(value, rng, rng.randint(1, 8)))

    def _corpus_page(self, rng: random.Random) -> Case:
        return Case("corpus_page", self._record(rng, self._page(rng)))

    def _mutated_page(self, rng: random.Random) -> Case:
        page = self._page(rng)[: rng.choice([2_000, 20_000, 100_000])]  # whole pages: corpus_page
        return Case("mutated_page", self._record(rng, mutated(page, rng, rng.randint(1, 50))))

    def _truncated_html(self, rng: random.Random) -> Case:
        return Case("truncated_html", self._record(rng, truncated(self._page(rng), rng.random())))

    def _deep_nesting(self, rng: random.Random) -> Case:
        depth = rng.choice([10, 100, 255, 256, 257, 1000, 5000, 50_000])
        tags = rng.sample(TAGS, rng.randint(1, 4))
        inner = html_page([ARABIC] * 3) if rng.random() < 0.5 else f"<p>{ARABIC}</p>" * 3
        html = nested(depth, tags, inner, closed=rng.random() < 0.7)
        return Case("deep_nesting", self._record(rng, html.encode(), content_type="text/html"))

    def _huge_attributes(self, rng: random.Random) -> Case:
        size = rng.choice([1000, 100_000, 1_000_000, 3_000_000])
        html = huge_attributes(size, rng.choice([1, 100, 10_000]), f"<p>{ARABIC}</p>" * 3)
        return Case("huge_attributes", self._record(rng, html.encode(), content_type="text/html"))

    def _mixed_charsets(self, rng: random.Random) -> Case:
        segments = [(rng.choice(TEXTS), rng.choice(CHARSETS)) for _ in range(rng.randint(2, 6))]
        body = mixed_charsets([(html_page([])[:60], "ascii"), *segments])
        return Case("mixed_charsets", self._record(rng, body))

    def _declared_charset(self, rng: random.Random) -> Case:
        """A page in one charset, declared rightly (header, meta, both) or not at all: no mojibake."""
        charset = rng.choice(["utf-8", "cp1256", "iso-8859-6", "utf-16", "utf-8-sig"])
        text = ARABIC if charset != "utf-8" or rng.random() < 0.5 else PERSIAN
        where = rng.choice(["header", "meta", "both", "none"])
        meta = charset if where in ("meta", "both") and not charset.startswith("utf-16") else None
        body = html_page([text, text, text], charset=meta).encode(charset)
        content_type = f"text/html; charset={charset}" if where in ("header", "both") else "text/html"
        value = record(body, content_type=content_type)
        # ISO-8859-6 has no Arabic comma (U+060C is 0xAC there, fine) but lacks some letters:
        return Case(
            "declared_charset", value, expect=text if codecs.lookup(charset).name != "iso8859-6" else None
        )

    def _invalid_utf8(self, rng: random.Random) -> Case:
        junk = [
            rng.choice([b"\xff", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\xe2\x82", b"\x80"])
        ]
        junk *= rng.randint(1, 50)
        positions = [rng.randrange(10_000) for _ in junk]
        body = invalid_utf8(html_page([ARABIC, PERSIAN, ARABIC]), positions, junk)
        return Case("invalid_utf8", self._record(rng, body, content_type=rng.choice(["text/html", None])))

    def _bidi(self, rng: random.Random) -> Case:
        text = with_bidi(
            ARABIC + " " + ENGLISH, [rng.randrange(300) for _ in range(40)], rng.choices(BIDI, k=40)
        )
        if rng.random() < 0.5:
            return Case("bidi_controls", record(text=text * 3, content_type="text/plain"))
        return Case("bidi_controls", self._record(rng, html_page([text] * 3).encode()))

    def _compressed(self, rng: random.Random) -> Case:
        coding = rng.choice(CODINGS)
        body = compressed(self._page(rng), coding)
        if rng.random() < 0.2:
            body = truncated(body, rng.random())
        if rng.random() < 0.2:
            body = mutated(body, rng, rng.randint(1, 5))
        headers = {"Content-Encoding": coding} if rng.random() < 0.8 else {}
        return Case("compressed", record(body, content_type="text/html", headers=headers))

    def _zip_bomb(self, rng: random.Random) -> Case:
        coding = rng.choice(CODINGS)
        size = rng.choice([4_000_000, 6_000_000, 50_000_000])
        return Case("zip_bomb", record(bomb(size, coding), headers={"Content-Encoding": coding}))

    def _random_text_page(self, rng: random.Random) -> Case:
        text = _random_text(rng, rng.choice([10, 200, 5000]))
        if rng.random() < 0.5:
            return Case("random_text", record(text=text, content_type=self._content_type(rng)))
        return Case("random_text", self._record(rng, text.encode("utf-8")))

    def _dates(self, rng: random.Random) -> Case:
        values = rng.sample(DATES, rng.randint(1, 4))
        return Case("dates", self._record(rng, dated_page(values, ARABIC).encode(), content_type="text/html"))

    def _big_page(self, rng: random.Random) -> Case:
        """A page near the size limit: one of the worst cases for time."""
        size = rng.choice([1_000_000, 4_900_000])
        kind = rng.randrange(4)
        if kind == 0:
            body = (f"<p>{ARABIC}</p>\n" * (size // 300)).encode()
        elif kind == 1:
            body = ("سطر قصير\n" * (size // 16)).encode()
        elif kind == 2:
            body = ("<div><a href='/x'>رابط</a>" * (size // 40)).encode()
        else:
            body = self._page(rng) * max(1, size // max(1, len(self._page(rng))))
        return Case(
            "big_page", record(body[:size], content_type=rng.choice(["text/html", "text/plain", None]))
        )


def load_corpus(dirs: Sequence[Path] = CORPUS_DIRS, limit: int = 300) -> list[bytes]:
    """Page bytes from the corpus directories (``.gz`` files decompressed), sorted by name."""
    pages: list[bytes] = []
    for folder in dirs:
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            if path.suffix == ".gz":
                pages.append(gzip.decompress(path.read_bytes()))
            elif path.suffix in (".html", ".htm", ".txt"):
                pages.append(path.read_bytes())
            if len(pages) >= limit:
                return pages
    return pages
