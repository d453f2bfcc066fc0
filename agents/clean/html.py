"""HTML pages: our own main-content extractor over one lxml parse, trafilatura as fallback.

:mod:`agents.clean.dom` finds the article container (text and link density, block
structure, boilerplate names and tags) and :mod:`agents.clean.meta` reads the metadata
off the same tree. When that finds too little text (an unusual template, a page that is
mostly one big link list), trafilatura's ``bare_extraction`` gets a try and the longer
body wins. Either way the paragraphs then go through the plain-text line classifier, so a
"Related" heading, a promo line, a caption or a teaser that survives extraction is still
cut, and the article's own date/byline lines become ``header_lines``.

The quality harness (``python -m tests.quality.extraction``) measures every choice here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from agents import StageError
from agents.clean import dom, meta
from agents.clean.plain import Kind, byline_names, classify
from agents.limits import PARSER_MAX_DEPTH, TOO_DEEP
from agents.text import arabic_letters, fold, latin_letters, strip_invisible, tidy_line

_HTML_START = re.compile(
    r"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html)\b", re.I | re.S
)
_HTML_TAG = re.compile(r"</?(?:html|head|body|div|p|span|a|meta|title|script|br|li|ul|table)\b", re.I)
_SNIFF_CHARS = 4096
_MIN_TAGS = 10
_DROPPED = frozenset({Kind.PROMO, Kind.CAPTION, Kind.BREADCRUMB})
_SHORT_KEEP_CHARS = 25  # a "short" line (under three words) this long is CJK-style prose
_CLASSIFY_MAX_CHARS = 200  # longer lines are body text (measured: 2,085 of 2,094 on ScrapingHub)
_FALLBACK_CHARS = 250  # less body text than this: ask trafilatura too
_FALLBACK_GAIN = 1.5  # ... and use its body only when it is this much longer
_SCRIPT_SAMPLE_CHARS = 3000  # enough text to tell an Arabic page from a Latin one
_CREDIT_LINE = re.compile(r"^(?:©|\(c\)|(?:foto|fotos|bild|photo|photos|image|credit|crédito)\s*[:©])", re.I)
_CAPTION_LATIN = 20
# A PHP error the server printed into the page: "Warning: ... in /path/file.php on line 12".
_SERVER_ERROR = re.compile(
    r"^(?:Warning|Notice|Deprecated|Strict Standards|(?:Fatal|Parse) error)\s*:.*\bin \S+ on line \d+$"
)
_HEADING_RANKS = {f"h{rank}": rank for rank in range(1, 7)}
_SECTION_HEADING_CHARS = 60
_TEASER_LIST = 2  # this many truncated lines ("…") in the body are a teaser list


@dataclass(slots=True)
class HtmlArticle:
    title: str | None
    paragraphs: list[str]
    header_lines: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    site: str | None = None
    canonical_url: str | None = None
    caption: str | None = None
    extractor: str = "khabar"
    root: Any = None  # the parsed page (read-only from here on)


def looks_like_html(content_type: str | None, start: str) -> bool:
    """HTML by content type (html/xhtml) or by sniffing the start of the document."""
    kind = (content_type or "").lower()
    if "html" in kind:
        return True
    head = start[:_SNIFF_CHARS]
    if _HTML_START.match(head) or "<body" in head.lower():
        return True
    return len(_HTML_TAG.findall(head)) >= _MIN_TAGS


def extract(
    html: str, url: str, *, utf8: bytes | None = None, max_depth: int = PARSER_MAX_DEPTH
) -> HtmlArticle:
    """Title, body paragraphs and metadata of an HTML page.

    ``utf8``: the page's original bytes when they are valid UTF-8 (parsed faster).
    ``max_depth``: deeper nesting is a StageError ``too_deep``.
    """
    try:
        root = dom.parse(html, utf8)
        info = meta.read(root, url)
        content = dom.main_content(dom.walk(root, max_depth), info.title)
    except dom.TooDeep as exc:
        raise StageError("clean", TOO_DEEP, f"HTML nesting too deep: {exc}") from exc
    except dom.ParseError as exc:
        raise StageError("clean", "parse_error", f"HTML parsing failed: {exc}") from exc
    except MemoryError as exc:
        raise StageError("clean", "too_large", "HTML extraction ran out of memory") from exc
    except Exception as exc:  # lxml raises many types on broken markup; RecursionError too
        raise StageError("clean", "parse_error", f"HTML extraction failed: {exc!r}") from exc
    lines = _lines(content, info.title)
    extractor = "khabar"
    if sum(len(line) for line in lines) < _FALLBACK_CHARS:
        other = _trafilatura_lines(html, url, info.title)
        if sum(map(len, other)) > _FALLBACK_GAIN * sum(map(len, lines)):
            lines, extractor = other, "trafilatura"
    paragraphs, header = _filter(lines)
    if not paragraphs:
        raise StageError("clean", "no_content", "no body paragraph found in the HTML page")
    return HtmlArticle(
        title=info.title,
        paragraphs=paragraphs,
        header_lines=header,
        authors=info.authors or _byline(header),
        site=info.site,
        canonical_url=info.canonical_url,
        caption=info.caption,
        extractor=extractor,
        root=root,
    )


def _byline(header: list[str]) -> list[str]:
    """The names of the page's first byline line ("By ...", "Von ..."), for pages whose
    metadata names nobody."""
    return next((names for line in header if (names := byline_names(line))), [])


def _lines(content: dom.Content | None, title: str | None) -> list[str]:
    if content is None:
        return []
    title_key = fold(title) if title else None
    blocks = [
        block
        for block in content.blocks
        if not (
            block.tag == "h1" or (title_key and block.tag in ("h2", "h3") and fold(block.text) == title_key)
        )
    ]
    following = [*blocks[1:], None]
    return [
        block.text for block, after in zip(blocks, following, strict=True) if not _empty_section(block, after)
    ]


def _empty_section(block: dom.Block, after: dom.Block | None) -> bool:
    """A short heading whose section has no text left: the next block is a heading of the same
    or a higher rank, or there is none ("More on this" over a dropped link list, at the end).
    A long one is a lead set in a heading tag."""
    if block.tag not in _HEADING_RANKS or block.chars > _SECTION_HEADING_CHARS:
        return False
    return after is None or _HEADING_RANKS.get(after.tag, 9) <= _HEADING_RANKS[block.tag]


def _trafilatura_lines(html: str, url: str, title: str | None) -> list[str]:
    """trafilatura's body, one line per block (the fallback for pages we find little in)."""
    import trafilatura  # imported late: only the fallback needs it
    from trafilatura.settings import Document

    try:
        document = trafilatura.bare_extraction(
            html, url=url, include_comments=False, include_images=False, include_links=False
        )
    except Exception:  # the fallback failing (RecursionError included) leaves our own result
        return []
    if not isinstance(document, Document) or document.body is None:
        return []
    return _tree_lines(document.body, title)


def _tree_lines(body: Any, title: str | None) -> list[str]:
    texts: list[str] = []
    for block in body:
        items = list(block.iter("item")) if block.tag == "list" else [block]
        for item in items:
            text = tidy_line(" ".join(item.itertext()))
            if text and not (title and block.tag == "head" and fold(text) == fold(title)):
                texts.append(text)
    return texts


def _foreign_caption(text: str) -> bool:
    """A Latin-script line in an Arabic page: a photo caption from an agency (see plain.py)."""
    latin = latin_letters(text)
    return latin >= _CAPTION_LATIN and latin > 2 * arabic_letters(text)


_BOX_LINES = 2  # at most this many lines (a link or two) under a "read also" heading in a story
_STORY_GOES_ON = 2  # ... followed by this many body paragraphs in a row: the story goes on


def _story_goes_on(paragraphs: list[str], start: int, arabic_page: bool) -> int | None:
    """Where the story resumes after a section heading at ``start - 1`` that only heads a
    small box inside it ("Auch interessant", a short link, then the story again); None when
    the heading opens a section that ends the story: a list of other stories, or another
    story's headline and lead ("إقرأ أيضاً:" then a headline and its paragraphs)."""
    for box in range(_BOX_LINES + 1):
        following = paragraphs[start + box : start + box + _STORY_GOES_ON]  # (fewer at the end)
        if following and all(_kind(text, arabic_page) is Kind.BODY for text in following):
            return start + box
        if start + box < len(paragraphs) and _kind(paragraphs[start + box], arabic_page) is Kind.HEADLINE:
            return None
    return None


def _kind(text: str, arabic_page: bool) -> Kind:
    text = strip_invisible(text)
    return Kind.BODY if len(text) > _CLASSIFY_MAX_CHARS else classify(text, arabic_page=arabic_page).kind


def _filter(paragraphs: list[str]) -> tuple[list[str], list[str]]:
    """Drop boilerplate the extractor kept; stop at a "related/read also" heading.

    Lines of one or two words (a label, "Share", a subheading) are kept only between two
    longer lines: inside the text they are subheadings, at its edges they are clutter.
    """
    sample = " ".join(paragraphs)[:_SCRIPT_SAMPLE_CHARS]
    arabic_page = arabic_letters(sample) > latin_letters(sample)
    kept: list[tuple[str, Kind]] = []
    header: list[str] = []
    skip_to = 0
    for position, raw in enumerate(paragraphs):
        if position < skip_to:
            continue
        text = strip_invisible(raw)
        if len(text) != len(raw):  # the spaces around what went out
            text = " ".join(text.split())
        if not text or _SERVER_ERROR.match(text):
            continue
        if len(text) > _CLASSIFY_MAX_CHARS:  # too long for a marker, date, promo or teaser
            if not (arabic_page and _foreign_caption(text)):
                kept.append((text, Kind.BODY))
            continue
        line = classify(text, arabic_page=arabic_page)
        if line.kind is Kind.STOP:
            goes_on = _story_goes_on(paragraphs, position + 1, arabic_page)
            if goes_on is not None:  # a "read also" box inside the story: the box goes
                skip_to = goes_on
                continue
            if kept:
                break
            continue
        if line.kind is not Kind.BODY and _CREDIT_LINE.match(text):
            continue  # "Foto © ...", "© Reuters", "Photo: ...": a picture's caption or credit
        if line.kind in (Kind.META, Kind.BYLINE):
            header.append(text)
        elif line.kind not in _DROPPED:
            long_short = line.kind is Kind.SHORT and len(text) >= _SHORT_KEEP_CHARS
            kept.append((text, Kind.TEXT if long_short else line.kind))
    teasers = [text for text, kind in kept if kind is Kind.TEASER]
    if len(teasers) >= _TEASER_LIST:  # a list of truncated headlines; one alone is a cut lead
        kept = [(text, kind) for text, kind in kept if kind is not Kind.TEASER]
    start, end = 0, len(kept)
    while start < end and kept[start][1] is Kind.SHORT:
        start += 1
    while end > start and kept[end - 1][1] is Kind.SHORT:
        end -= 1
    return [text for text, _ in kept[start:end]], header
