"""Clean stage: bytes -> text (charset), then title, body paragraphs and metadata, boilerplate out.

Library choices:

* **charset-normalizer** for encoding detection, after the BOM, the HTTP charset, the
  ``<meta>`` charset and strict UTF-8 (see :mod:`agents.clean.decode`). It is pure Python,
  maintained, and recognizes windows-1256 / ISO-8859-6 Arabic pages that declare nothing.
* **lxml** for HTML, parsed once: our own main-content extractor (:mod:`agents.clean.dom`:
  text and link density, a maximum-weight container, boilerplate by tag, ARIA role,
  class/id names, "related / most read / أخبار ذات صلة" headings and teaser-card grids) and
  cheap metadata reads (:mod:`agents.clean.meta`: ``h1``/``og:title`` without the site
  name, ``og:site_name``, canonical link, authors, the lead ``figcaption``).
  **trafilatura** is the fallback when that finds too little text. Measured with
  ``python -m tests.quality.extraction``: better F1 than trafilatura on the ScrapingHub
  benchmark and on Arabic pages, at more than three times its speed.
* Plain-text pages (crawler output with the boilerplate left in) have no markup for either
  library to use; :mod:`agents.clean.plain` classifies their lines with Arabic- and
  English-aware heuristics.

The stage is pure and synchronous: no Faust, no network. Every failure is a
:class:`agents.StageError` with stage ``"clean"`` and one of the reasons in :data:`REASONS`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from agents import StageError
from agents.clean import html as html_pages
from agents.clean import plain as plain_pages
from agents.clean.content_encoding import decompressed
from agents.clean.decode import check_text, content_type_of, decode
from agents.limits import DEFAULT_LIMITS, TOO_DEEP, TOO_LARGE, Limits
from schemas import RawPage

REASONS = frozenset(
    {"empty_page", "undecodable", "not_text", "no_content", TOO_LARGE, TOO_DEEP, "parse_error"}
)


@dataclass(frozen=True, slots=True)
class Cleaned:
    """What the clean stage hands to the later stages."""

    title: str | None
    paragraphs: list[str]
    # Lines that belong to the article's own header (dateline, "published on", byline ...),
    # kept apart from the body and from teasers so the dates stage reads only these.
    header_lines: list[str] = field(default_factory=list)
    subtitle: str | None = None
    authors: list[str] = field(default_factory=list)
    site: str | None = None
    canonical_url: str | None = None
    # The decoded HTML when the page is HTML (None for plain-text pages).
    html: str | None = None
    # Its lxml tree, parsed once here and only read after (the dates stage walks it too).
    tree: Any = None
    # The codec the bytes were decoded with (None when the page came as text).
    encoding: str | None = None
    # The lead image's caption (HTML ``<figcaption>``), kept apart from the body.
    caption: str | None = None


def clean(raw: RawPage, *, limits: Limits = DEFAULT_LIMITS) -> Cleaned:
    """Decode a crawled page and extract its article. Raises StageError on bad input."""
    content_type = content_type_of(raw.content_type, raw.http_headers)
    body = _body_of(raw, limits)
    if body is not None:
        start = body[:4096].decode("latin-1").lstrip()
        html = html_pages.looks_like_html(content_type, start)
        text, encoding = decode(body, content_type, raw.http_headers, html=html)
    else:
        text, encoding = check_text(raw.text or ""), None
        _check_size(len(text), limits.max_page_bytes, "characters")
    if html_pages.looks_like_html(content_type, text.lstrip()[:4096]) and not _is_plain(content_type, text):
        # The bytes parse faster, when they are exactly the text (valid UTF-8, nothing dropped).
        utf8 = body if encoding == "utf-8" and body is not None and text.encode() == body else None
        return _from_html(text, raw.url, encoding, utf8, limits.max_parse_depth)
    return _from_plain(text, encoding)


def _body_of(raw: RawPage, limits: Limits) -> bytes | None:
    """The body's bytes, decompressed, within the size limits (None for a text page).

    Decoded text is never longer than these bytes, so it needs no check of its own.
    """
    if raw.body is None:
        return None
    _check_size(len(raw.body), limits.max_page_bytes, "bytes")
    return decompressed(raw.body, raw.http_headers, limits.max_decompressed_bytes)


def _check_size(size: int, max_size: int, unit: str) -> None:
    if size > max_size:
        raise StageError("clean", TOO_LARGE, f"page is {size} {unit}, over the {max_size} limit")


def _is_plain(content_type: str | None, text: str) -> bool:
    """A text/plain page is HTML only when its text plainly starts as an HTML document."""
    if not content_type or "text/plain" not in content_type.lower():
        return False
    start = text.lstrip()[:200].lower()
    return not start.startswith(("<!doctype html", "<html", "<?xml"))


def _from_html(text: str, url: str, encoding: str | None, utf8: bytes | None, max_depth: int) -> Cleaned:
    article = html_pages.extract(text, url, utf8=utf8, max_depth=max_depth)
    return Cleaned(
        title=article.title,
        paragraphs=article.paragraphs,
        header_lines=article.header_lines,
        authors=article.authors,
        site=article.site,
        canonical_url=article.canonical_url,
        html=text,
        tree=article.root,
        encoding=encoding,
        caption=article.caption,
    )


def _from_plain(text: str, encoding: str | None) -> Cleaned:
    article = plain_pages.extract(text)
    return Cleaned(
        title=article.title,
        paragraphs=article.paragraphs,
        header_lines=article.header_lines,
        subtitle=article.subtitle,
        authors=article.authors,
        encoding=encoding,
    )


__all__ = ["REASONS", "Cleaned", "StageError", "clean"]
