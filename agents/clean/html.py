"""HTML pages: trafilatura finds the main text and the metadata.

trafilatura (already pinned, maintained, best-in-class on news-extraction benchmarks) does
boilerplate removal, title/author/site-name/canonical-URL extraction and works on lxml, which
refuses pathological nesting instead of recursing without bound. Its paragraphs then go
through the same line classifier as plain-text pages, so a "Related" heading or a promo that
survives extraction is still cut.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import trafilatura
from trafilatura.settings import Document

from agents import StageError
from agents.clean.plain import Kind, classify, strip_title_suffix
from agents.text import arabic_letters, fold, latin_letters, tidy_line

_HTML_START = re.compile(
    r"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html)\b", re.I | re.S
)
_HTML_TAG = re.compile(r"</?(?:html|head|body|div|p|span|a|meta|title|script|br|li|ul|table)\b", re.I)
_SNIFF_CHARS = 4096
_MIN_TAGS = 10
_DROPPED = frozenset({Kind.PROMO, Kind.CAPTION, Kind.TEASER, Kind.BREADCRUMB, Kind.SHORT})


@dataclass(slots=True)
class HtmlArticle:
    title: str | None
    paragraphs: list[str]
    header_lines: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    site: str | None = None
    canonical_url: str | None = None


def looks_like_html(content_type: str | None, start: str) -> bool:
    """HTML by content type (html/xhtml) or by sniffing the start of the document."""
    kind = (content_type or "").lower()
    if "html" in kind:
        return True
    head = start[:_SNIFF_CHARS]
    if _HTML_START.match(head) or "<body" in head.lower():
        return True
    return len(_HTML_TAG.findall(head)) >= _MIN_TAGS


def extract(html: str, url: str) -> HtmlArticle:
    """Title, body paragraphs and metadata of an HTML page."""
    try:
        document = trafilatura.bare_extraction(
            html,
            url=url,
            with_metadata=True,
            include_comments=False,
            include_images=False,
            include_links=False,
        )
    except Exception as exc:  # lxml/trafilatura raise many types on broken markup
        raise StageError("clean", "parse_error", f"HTML extraction failed: {exc!r}") from exc
    if not isinstance(document, Document) or document.body is None:
        raise StageError("clean", "no_content", "no main text found in the HTML page")
    site = _text_or_none(document.sitename)
    title = _text_or_none(document.title)
    title = strip_title_suffix(title, site) if title else None
    paragraphs, header = _filter(_paragraphs(document.body, title))
    if not paragraphs:
        raise StageError("clean", "no_content", "no body paragraph found in the HTML page")
    return HtmlArticle(
        title=title,
        paragraphs=paragraphs,
        header_lines=header,
        authors=[name.strip() for name in (document.author or "").split(";") if name.strip()],
        site=site,
        canonical_url=_text_or_none(document.url),
    )


def _paragraphs(body: Any, title: str | None) -> list[str]:
    """Text of each block of trafilatura's output tree, one entry per list item."""
    texts: list[str] = []
    for block in body:
        items = list(block.iter("item")) if block.tag == "list" else [block]
        for item in items:
            text = tidy_line(" ".join(item.itertext()))
            if text and not (title and block.tag == "head" and fold(text) == fold(title)):
                texts.append(text)
    return texts


def _filter(paragraphs: list[str]) -> tuple[list[str], list[str]]:
    """Drop boilerplate the extractor kept; stop at a "related/read also" heading."""
    joined = " ".join(paragraphs)
    arabic_page = arabic_letters(joined) > latin_letters(joined)
    kept: list[str] = []
    header: list[str] = []
    for text in paragraphs:
        line = classify(text, arabic_page=arabic_page)
        if line.kind is Kind.STOP and kept:
            break
        if line.kind in (Kind.META, Kind.BYLINE):
            header.append(text)
        elif line.kind not in _DROPPED and line.kind is not Kind.STOP:
            kept.append(text)
    return kept, header


def _text_or_none(value: str | None) -> str | None:
    return tidy_line(value) or None if value else None
