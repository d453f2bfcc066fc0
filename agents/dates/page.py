"""The visible text of an HTML page around its article header, for written dates.

Pages show their date as text near the title ("Published 8 May 2019", "08.05.2019 | 14:32",
"الخميس 26 ديسمبر 2024"), in elements whose class says so ("date", "byline", "meta" ...).
The same page also shows dates of other articles (teaser lists, "most read", sidebars),
comment dates, © years in the footer, and dates mentioned in the story. So the page is
flattened once into text chunks in document order, and a chunk is skipped when it sits in
boilerplate (``nav``, ``aside``, ``footer``, comments, related/teaser/sidebar/most-read
containers, links to other pages) or in the story's paragraphs. What remains near the main
``<h1>`` is the article's header; date-classed elements are kept with their distance to it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from itertools import count, islice
from typing import Any, TypeAlias

import lxml.etree  # type: ignore[import-untyped]  # lxml ships no type information

from agents.dates.parsing import Window, find_dates, find_relative, normalize, numeric_order, pick_reading
from agents.dates.text import split_segments
from agents.text import fold

_SKIPPED_TAGS = frozenset(
    {"script", "style", "noscript", "template", "svg", "iframe", "select", "option", "button"}
)
_BOILERPLATE_TAGS = frozenset({"nav", "aside", "footer", "form"})
# Class/id words of boilerplate containers (whole words of "a-b_c d"), and word prefixes.
_BOILERPLATE_WORDS = frozenset(
    """comment comments kommentar kommentare respond replies reply related teaser teasers sidebar
    widget widgets popular mostread mostviewed trending footer newsletter cookie cookies
    breadcrumb breadcrumbs share sharing social promo banner ad ads readmore latest newest archive
    pagination pager menu navbar navigation carousel slider ticker outbrain taboola plista listing
    card cards authorbox copyright disqus similar weitere mehr""".split()  # noqa: SIM905
)
# Layout words: boilerplate on the page, the article's own parts inside an article container.
_LAYOUT_WORDS = frozenset(
    {"footer", "foot", "widget", "widgets", "sidebar", "archive", "listing", "card", "cards", "latest",
     "newest", "banner", "slider", "carousel", "menu", "navbar", "navigation", "pagination", "pager",
     "breadcrumb", "breadcrumbs"}
)  # fmt: skip
_ARTICLE_WORDS = frozenset({"article", "post", "hentry", "entry", "story", "blogpost"})
_BOILERPLATE_PREFIXES = ("recommend", "advert", "empfehlung", "verwandt", "morenews", "morestories")
# Two words with "-" between them: boilerplate anywhere in the string ("most-read-list").
_BOILERPLATE_PAIRS = (
    "most-read", "most-viewed", "most-popular", "read-more", "see-also", "also-read",
    "more-news", "more-stories", "more-articles", "side-bar", "list-item", "author-bio",
)  # fmt: skip
_DATE_CLASS_WORDS = ("date", "time", "publish", "posted", "byline", "datum", "fecha", "meta", "stamp",
                     "erschienen", "veroeffentlicht", "author")  # fmt: skip


# (boilerplate, boilerplate inside an article, date element, article container)
Names: TypeAlias = tuple[bool, bool, bool, bool]
_PLAIN: Names = (False, False, False, False)
_CACHE_MAX = 16_384
_VALUE_NAMES: dict[str, Names] = {}  # class / id / itemprop value -> its names


def classify_names(css: str | None, ident: str | None, prop: str | None) -> Names:
    """:func:`classify_classes` of an element's class, id and itemprop together.

    No class word or pattern spans a space, so the names of the string are those of each
    value taken together: each value is classified once and cached (bounded; cleared when
    full, so a page's own repeats still hit), since templates repeat the same ones.
    """
    names = _PLAIN
    for value in (css, ident, prop):
        if value:
            found = _VALUE_NAMES.get(value)
            if found is None:
                if len(_VALUE_NAMES) >= _CACHE_MAX:
                    _VALUE_NAMES.clear()
                found = classify_classes(value.lower())
                _VALUE_NAMES[value] = found = _PLAIN if found == _PLAIN else found
            if found is not _PLAIN:
                names = found if names is _PLAIN else _either(names, found)
    return names


def _either(a: Names, b: Names) -> Names:
    return (a[0] or b[0], a[1] or b[1], a[2] or b[2], a[3] or b[3])


def classify_classes(classes: str) -> Names:
    """(boilerplate, boilerplate inside an article, date element, article container) for a
    lower-case class/id string; its words are its parts between spaces, ``_`` and ``-``.

    Inside an article only the words of things that are never the article's own count
    (comments, related, teasers ...), not layout ("footer", "widget"). Each word's part is
    looked up (and cached) on its own: words repeat across values far more than whole values
    do (the bench pages: 25,465 distinct values of 11,250 distinct words), 1.5 µs per value
    against 3.6 for a regular-expression scan of the string per kind.
    """
    bits = 0
    known = _WORD_BITS.get
    for word in classes.replace("_", " ").replace("-", " ").split():
        found = known(word)
        bits |= _word_bits(word) if found is None else found
    if bits & _PREFIXED or ("-" in classes and _BOILERPLATE_PAIR_RE.search(classes) is not None):
        return (True, True, bits & _DATE != 0, bits & _ARTICLE != 0)
    return (bits & _BOILER != 0, bits & _INNER_BOILER != 0, bits & _DATE != 0, bits & _ARTICLE != 0)


# What one class word says, as bits: a boilerplate word (outside an article; inside one too),
# an article word, a date word in it ("date" in "updated" too), a boilerplate prefix.
_BOILER, _INNER_BOILER, _ARTICLE, _DATE, _PREFIXED = 1, 2, 4, 8, 16
_WORD_BITS: dict[str, int] = {}  # class word -> its bits (bounded; cleared when full)


def _word_bits(word: str) -> int:
    if len(_WORD_BITS) >= _CACHE_MAX:
        _WORD_BITS.clear()
    bits = 0
    if word in _BOILERPLATE_WORDS:
        bits |= _BOILER if word in _LAYOUT_WORDS else _BOILER | _INNER_BOILER
    if word in _ARTICLE_WORDS:
        bits |= _ARTICLE
    if _DATE_CLASS_RE.search(word) is not None:
        bits |= _DATE
    if word.startswith(_BOILERPLATE_PREFIXES):
        bits |= _PREFIXED
    _WORD_BITS[word] = bits
    return bits


_BOILERPLATE_PAIR_RE = re.compile("|".join(map(re.escape, _BOILERPLATE_PAIRS)))
_DATE_CLASS_RE = re.compile("|".join(_DATE_CLASS_WORDS))
_PREFIX = 30  # characters of the first paragraph that find it on the page
_MIN_PREFIX = 12
_MAX_DATED_DESCENDANTS = 12
_MAX_CHUNK = 300  # a longer text run is story text, not a header line


@dataclass(slots=True)  # not frozen: ~190 per page, and a frozen __init__ costs 0.17 ms of them
class Chunk:
    """A run of visible text, its position, and what kind of element holds it (not changed
    once made)."""

    text: str
    position: int  # characters of visible text before it
    dated: bool  # inside an element whose class/id/itemprop mentions a date
    heading: bool  # the text of the page's main <h1>
    boilerplate: bool
    in_link: bool
    long: bool  # part of a long text run (a story paragraph)
    in_article: bool = False  # inside an <article> or an article/post-classed container


# The flags of an open element: dated, heading, ids of its boilerplate containers, in a link,
# in an article container.
Flags: TypeAlias = tuple[bool, bool, tuple[int, ...], bool, bool]


@dataclass(frozen=True, slots=True)
class Flat:
    chunks: list[Chunk]
    h1_position: int | None  # position of the main <h1>'s text, if the page has one
    lang: str


def _main_h1(tree: Any, title: str | None) -> Any | None:
    headings = [h for h in tree.iter("h1")]
    if not headings:
        return None
    if title:
        wanted = fold(title)
        for heading in headings:
            text = fold("".join(heading.itertext()))
            if text and (text in wanted or wanted in text):
                return heading
    for heading in headings:
        if any(ancestor.tag in ("article", "main") for ancestor in heading.iterancestors()):
            return heading
    return headings[0] if len(headings) == 1 else None


def _small(element: Any) -> bool:
    """Few descendants: a date element, not a container that happens to have a date class."""
    return sum(1 for _ in islice(element.iter(), _MAX_DATED_DESCENDANTS + 1)) <= _MAX_DATED_DESCENDANTS


def flatten(tree: Any, title: str | None, first_paragraph: str | None = None) -> Flat:
    """The page's visible text as chunks in document order (one pass over the tree).

    A container that looks like boilerplate by its class ("widget", "sidebar" ...) but holds
    the anchor — the main ``<h1>``, else the article's first paragraph — is the article's own
    layout, not boilerplate: its chunks are cleared once the anchor is seen inside it.
    """
    h1 = _main_h1(tree, title)
    prefix = " ".join(first_paragraph.split())[:_PREFIX] if first_paragraph else ""
    prefix = prefix if len(prefix) >= _MIN_PREFIX else ""
    # Only runs that can hold a date or a label are kept (long digit-free text cannot);
    # every run counts for the positions.
    kept: list[tuple[str, int, Flags]] = []
    position = 0
    anchor: int | None = None
    cleared: set[int] = set()
    owner_ids = count()

    def emit(text: str, flags: Flags) -> None:
        nonlocal position, anchor
        stripped = text.strip()
        if anchor is None and flags[1]:
            anchor = position
            cleared.update(flags[2])
        if prefix and stripped[0] == prefix[0] and not flags[3] and _starts_paragraph(stripped, prefix):
            # The article's first paragraph: its containers are the article's.
            anchor = position if anchor is None else anchor
            cleared.update(flags[2])
        if len(stripped) <= _LABEL_LENGTH or flags[0] or _DIGIT_RE.search(stripped) is not None:
            kept.append((stripped, position, flags))
        position += len(stripped) + 1

    # One pass of lxml's iterwalk (no recursion: pages can nest thousands of levels deep);
    # the flags of each open element are kept on a stack. Most elements (no class, id or
    # itemprop, no tag of note) share their parent's flags.
    body = tree.find(".//body")
    root = body if body is not None else tree
    stack: list[Flags] = [(False, False, (), False, False)]
    walker = lxml.etree.iterwalk(root, events=("start", "end", "comment"))
    for event, element in walker:
        if event != "start":
            if event == "end":
                stack.pop()
            tail = element.tail
            if tail and not tail.isspace():
                emit(tail, stack[-1])
            continue
        tag = element.tag
        if tag.__class__ is not str or tag in _SKIPPED_TAGS:
            walker.skip_subtree()
            stack.append(stack[-1])  # its "end" event still comes and pops this
            continue
        flags = stack[-1]
        get = element.get
        css, ident, prop = get("class"), get("id"), get("itemprop")
        if css or ident or prop:
            names = classify_names(css, ident, prop)
            if names is not _PLAIN or tag in _NOTED_TAGS or element is h1:
                flags = _element_flags(element, tag, flags, names, element is h1, owner_ids)
        elif tag in _NOTED_TAGS or element is h1:
            flags = _element_flags(element, tag, flags, _PLAIN, element is h1, owner_ids)
        stack.append(flags)
        if tag == "time":
            # The machine-readable value of a <time> whose text has no full date ("28 min ago").
            stamp = get("datetime")
            if stamp and not stamp.isspace() and _YEAR_RE.search("".join(element.itertext())) is None:
                emit(stamp, flags)
        text = element.text
        if text and not text.isspace():
            emit(text, flags)

    chunks = [
        Chunk(
            text,
            at,
            dated,
            heading,
            not cleared.issuperset(owners),  # in a boilerplate container not cleared
            in_link,
            len(text) > _MAX_CHUNK,
            in_article,
        )
        for text, at, (dated, heading, owners, in_link, in_article) in kept
    ]
    lang = tree.getroottree().getroot().get("lang") or ""
    return Flat(chunks, anchor, lang.lower())


# Tags that change the flags of what they hold even without a class, id or itemprop.
_NOTED_TAGS = _BOILERPLATE_TAGS | {"a", "time", "article"}


def _element_flags(
    element: Any, tag: str, parent: Flags, names: Names, is_h1: bool, owner_ids: Iterator[int]
) -> Flags:
    """The flags of an element whose names or tag say something, or of the main h1."""
    dated, heading, owners, in_link, in_article = parent
    boiler_out, boiler_in, date_class, article_class = names
    if (tag in _BOILERPLATE_TAGS and not in_article) or (boiler_in if in_article else boiler_out):
        owners = (*owners, next(owner_ids))
    if not dated and (tag == "time" or date_class) and _small(element):
        dated = True
    return (
        dated,
        heading or is_h1,
        owners,
        in_link or tag == "a",
        in_article or article_class or tag == "article",
    )


def _starts_paragraph(text: str, prefix: str) -> bool:
    """The chunk is the start of the paragraph (a chunk can stop at an inline element)."""
    collapsed = " ".join(text.split())
    return collapsed.startswith(prefix) or (len(collapsed) >= _MIN_PREFIX and prefix.startswith(collapsed))


# --------------------------------------------------------------------------- dates on the page

_BEFORE_ANCHOR = 600  # characters of header text read before the title (kicker, dateline)
_AFTER_ANCHOR = 1500  # ... and after it (byline, date line, lead)
_COPYRIGHT_RE = re.compile(r"©|\(c\)|copyright|all rights reserved|جميع الحقوق|كل الحقوق|alle rechte", re.I)
_DIGIT_RE = re.compile(r"\d")
_YEAR_RE = re.compile(r"\d{4}")
# "Karlsruhe, (12.11.2021). …", "BERLIN (dpa) - 3. Mai 2020 -": a place before the date.
_DATELINE_PLACE_RE = re.compile(
    r"^[^\W\d_][^\W\d]*(?:[ -][^\W\d_][^\W\d]*){0,2}\s*(?:\([^\W\d]{1,10}\))?\s*(?:[,:–-]\s*\(?|\()$"
)
_LABEL_LENGTH = 60
_SHORT_LINE = 40
_SHORT_RELATIVE = 60  # "منذ ساعتين", "vor 3 Stunden": a relative time is a short line of its own
_CLOSE = 300
_JUST_BEFORE = 150  # a date this close before the title is the article's kicker line
_DATELINE_START = 25  # a date this close to the start of a long paragraph is its dateline


@dataclass(frozen=True, slots=True)
class Shown:
    """A date written on the page, with what makes it likely to be the article's own."""

    day: date
    kind: str  # "published" | "updated" | "plain"
    score: float
    distance: int  # characters from the anchor (negative: before it)
    moment: datetime | None = None
    approximate: bool = False


def _label_before(chunks: list[Chunk], index: int, segment_kind: str) -> str:
    """The label of a date: in its own chunk, else at the end of the chunk just before it."""
    if segment_kind != "plain" or index == 0:
        return segment_kind
    previous = chunks[index - 1]
    if chunks[index].position - (previous.position + len(previous.text)) > 8 or len(previous.text) > 60:
        return "plain"
    segments = split_segments(normalize(previous.text))
    if segments and segments[-1].text.strip(" :|-–") == "":
        return segments[-1].kind
    tail = split_segments(normalize(previous.text) + " 1")
    return tail[-1].kind if tail and tail[-1].text.strip() == "1" else "plain"


def page_order(flat: Flat) -> str | None:
    """D/M or M/D for the page's ambiguous numeric dates: its own unambiguous ones, else its
    language (US English month first; English without a region undecided; others day first)."""
    evidence = numeric_order([chunk.text for chunk in flat.chunks if "/" in chunk.text or "-" in chunk.text])
    if evidence is not None:
        return evidence
    if flat.lang.startswith("en-us"):
        return "mdy"
    if flat.lang.startswith("en") or not flat.lang:
        return None
    return "dmy"


def shown_dates(
    flat: Flat,
    window: Window,
    *,
    order: str | None = None,
    fetched: datetime | None = None,
    anchored_only: bool = True,
) -> list[Shown]:
    """Dates written on the page outside boilerplate and story paragraphs, scored.

    Score: a date element (class/``<time>``) or a published/updated label counts most;
    closeness to the anchor (the title, else the first paragraph) next; a date inside a
    link or far from the anchor counts less.
    """
    anchor = flat.h1_position
    shown: list[Shown] = []
    for index, chunk in enumerate(flat.chunks):
        distance = chunk.position - (anchor or 0)
        # A date element right at the title inside a container classed like boilerplate
        # ("social-share", "teaser-body") still counts, with less weight.
        at_title = anchor is not None and -_JUST_BEFORE <= distance <= _CLOSE
        if chunk.boilerplate and not (chunk.dated and at_title):
            continue
        near = anchor is None or -_BEFORE_ANCHOR <= distance <= _AFTER_ANCHOR
        # Far from the title only date elements count (the article's own footer: "Posted by
        # … on 3 May 2013"); they are scored without the closeness bonus.
        if (
            anchored_only
            and not near
            and not (distance > 0 and not chunk.in_link and (chunk.dated or chunk.in_article))
        ):
            continue
        if not chunk.dated and _DIGIT_RE.search(chunk.text) is None:
            continue  # no date without digits, except a relative one in a date element
        text = normalize(chunk.text)
        if _COPYRIGHT_RE.search(text):
            continue
        if fetched is not None and chunk.dated and near and not chunk.long and len(text) < _SHORT_RELATIVE:
            relative = find_relative(text, fetched)
            if relative is not None and window.accepts(relative):
                shown.append(Shown(relative.date(), "plain", 1.5, distance, relative))
                continue
        for segment in split_segments(text):
            if segment.kind == "other":
                continue
            for found in find_dates(segment.text, short_years=chunk.dated or segment.kind != "plain"):
                # A date opening a paragraph or the title ("23.01.2022 - Wierer jubelt") is its
                # dateline; elsewhere in them it is a date the story or the title mentions.
                dateline = text.startswith(segment.text) and (
                    found.start <= 2 or _DATELINE_PLACE_RE.match(segment.text[: found.start]) is not None
                )
                in_text = chunk.long or (chunk.heading and not chunk.dated and len(chunk.text) > _SHORT_LINE)
                if in_text and not dateline:
                    continue
                day = pick_reading(found, order)
                if day is None or not window.accepts_day(day):
                    continue
                kind = _label_before(flat.chunks, index, segment.kind)
                if kind == "other":
                    continue
                score = (2.0 if chunk.dated else 0.0) + (2.0 if kind != "plain" else 0.0)
                score += 1.0 if abs(distance) <= _CLOSE else 0.5 if abs(distance) <= _AFTER_ANCHOR else 0.0
                score += 1.0 if dateline and (chunk.long or chunk.heading) else 0.0
                score -= 1.0 if chunk.in_link and not chunk.dated else 0.0
                score -= 1.0 if distance < -_JUST_BEFORE else 0.0  # a site header's "today" date
                score -= 0.5 if found.approximate else 0.0
                score -= 1.5 if chunk.boilerplate else 0.0
                shown.append(Shown(day, kind, score, distance, found.moment, found.approximate))
    return shown
