"""Publication dates from an HTML page's own metadata: JSON-LD, ``<meta>``, ``<time>``, URL.

Library choice: lxml parses the page (already a dependency of the clean stage, tolerant of
broken markup); the metadata is read here so that we know which source gave a date and can
refuse values that contradict each other. Order: JSON-LD of an Article / NewsArticle /
BlogPosting (a block that is not valid JSON is read by pattern), ``<meta>`` tags (Open Graph,
Dublin Core, itemprop, Parse.ly, Sailthru ...), marked elements (``<time pubdate>``,
microdata ``itemprop="datePublished"``, hAtom ``class="published" title=…``) or the first
``<time>`` of the article, then a page's inline JSON state with one publication day (reported
as "meta"). The URL's /YYYY/MM/DD/ (or /DD-MM-YYYY) is read apart: it names the publisher's
local day, which UTC metadata can miss by one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeAlias
from urllib.parse import SplitResult, urlsplit

import lxml.etree  # type: ignore[import-untyped]  # lxml ships no type information

from agents.dates.parsing import Window, midnight, parse_machine_value
from agents.dates.text import not_before

_ARTICLE_TYPES = frozenset({"BlogPosting", "LiveBlogPosting", "Report"})
# JSON-LD things whose dates are not the page's (a person's birth, an event, an offer ...).
_OTHER_THINGS = frozenset(
    {"WebSite", "Organization", "NewsMediaOrganization", "Person", "Event", "Offer", "Product", "Review",
     "Comment", "ImageObject", "BreadcrumbList", "SiteNavigationElement", "Place", "LocalBusiness"}
)  # fmt: skip
_PUBLISHED_KEYS = (
    "article:published_time",
    "og:published_time",
    "og:article:published_time",
    "article:published",
    "datepublished",
    "dc.date.issued",
    "dcterms.issued",
    "parsely-pub-date",
    "sailthru.date",
    "bt:pubdate",
    "cxenseparse:recs:publishtime",
    "cxenseparse:publishtime",
    "shareaholic:article_published_time",
    "vr:published-time",
    "prism.publicationdate",
    "citation_publication_date",
    "pubdate",
    "publishdate",
    "publish-date",
    "publish_date",
    "pub_date",
    "published_time",
    "release:date",
    "og:release_date",
    "date",
    "dc.date",
    "uploaddate",
)
_MODIFIED_KEYS = (
    "article:modified_time",
    "article:modified",
    "bt:moddate",
    "og:updated_time",
    "og:modified_time",
    "datemodified",
    "dc.date.modified",
    "dcterms.modified",
)
_META_KEY_ATTRIBUTES = ("property", "name", "itemprop")
_MAX_JSON_LD_DEPTH = 6
_JSON_LD_PUBLISHED_RE = re.compile(r'"datePublished"\s*:\s*"([^"]{8,40})"')
_JSON_LD_MODIFIED_RE = re.compile(r'"dateModified"\s*:\s*"([^"]{8,40})"')
_JSON_LD_ARTICLE_RE = re.compile(r'"@type"\s*:\s*\[?\s*"(?:\w*Article|BlogPosting|LiveBlogPosting|Report)"')

_SCRIPT_PUBLISHED_RE = re.compile(
    r'"(?:datePublished|publishedDate|published_at|publishDate|publish_date|publishedAt|firstPublished'
    r'|createdAt|created_at)"'
    r'\s*:\s*"([^"]{8,40})"'
)
# Every element any finder reads, in one evaluation (a scan per source cost more than the
# sources' own work): scripts and articles, and the elements holding the attributes read.
# Attribute steps are cheaper in libxml2 than predicates on every element.
_CANDIDATES_XPATH = lxml.etree.XPath(
    "//script | //article | //@content | //@itemprop | //@pubdate | //@title"
)
_LOWER_LDJSON = str.maketrans("LDJSON", "ldjson")
_URL_MONTH_RE = re.compile(r"/((?:19|20)\d{2})/(0?[1-9]|1[0-2])(?=/)")
_URL_DAY_FIRST_RE = re.compile(r"/(0[1-9]|[12]\d|3[01])-(0[1-9]|1[0-2])-((?:19|20)\d{2})(?=/|$|[-_.])")
_URL_DATE_RES = (
    # A one-digit day must end the segment: "/2023/10/3-fragen-an/" starts a slug ("3 questions").
    re.compile(r"/((?:19|20)\d{2})/(0?[1-9]|1[0-2])/(0[1-9]|[12]\d|3[01]|[1-9](?=/|$))(?=/|$|[-_.])"),
    re.compile(r"/((?:19|20)\d{2})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])(?=/|$|[-_.])"),
    re.compile(r"/((?:19|20)\d{2})(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(?=/|$|[-_.])"),
)


@dataclass(frozen=True, slots=True)
class MarkupDates:
    published: datetime
    source: str  # "json-ld" | "meta" | "time-element" | "url"
    updated: datetime | None = None


@dataclass(frozen=True, slots=True)
class Markup:
    """What the finders read off a page, gathered in one scan (:func:`read_markup`)."""

    json_ld: list[Any]  # <script type="application/ld+json"> (type compared case-insensitively)
    data_scripts: list[Any]  # inline scripts that are not JSON-LD
    meta: dict[str, list[str]]  # lower-cased meta key -> its ``content`` values
    published: list[Any]  # elements marked as the publication time ...
    modified: list[Any]  # ... and as the update time
    articles: list[Any]  # <article> elements not inside another


class Conflict:
    """The page's own metadata contradicts itself: no later source may guess instead."""


CONFLICT = Conflict()

# What one source says: a date, nothing, or a contradiction.
Outcome: TypeAlias = datetime | Conflict | None


# --------------------------------------------------------------------------- parsing


def parse_html(html: str) -> Any | None:
    """The lxml tree of ``html`` (encoded first: lxml refuses str with an XML declaration)."""
    if not html.strip():
        return None
    # lxml.etree's HTML parser: plain elements, without lxml.html's per-element class lookup.
    parser = lxml.etree.HTMLParser(encoding="utf-8", no_network=True)
    try:
        return lxml.etree.fromstring(html.encode("utf-8", "replace"), parser)
    except (lxml.etree.ParserError, lxml.etree.XMLSyntaxError, ValueError):
        return None


def read_markup(tree: Any) -> Markup:
    """The page's scripts, meta values, marked time elements and articles, in document order.

    Meta values: ``content`` of elements (other than ``<time>``) that have a ``property``,
    ``name`` or ``itemprop``. Marked times: ``<time pubdate>``, microdata without a content
    attribute (``<span itemprop="datePublished">``), hAtom (``<abbr class="published"
    title="2017-09-09T10:52:00+02:00">``).
    """
    found = Markup([], [], {}, [], [], [])
    previous = None
    for node in _CANDIDATES_XPATH(tree):
        # Elements and attribute values (lxml's strings that know their element), in
        # document order, an element's attributes right after it: each element read once.
        element = node if isinstance(node, lxml.etree._Element) else node.getparent()
        if element is previous:
            continue
        previous = element
        tag = element.tag
        get = element.get
        if tag == "script":
            kind = get("type") or ""
            if "ld+json" in kind.translate(_LOWER_LDJSON):
                found.json_ld.append(element)
            if get("src") is None and "ld+json" not in kind:
                found.data_scripts.append(element)
        elif tag == "article" and next(element.iterancestors("article"), None) is None:
            found.articles.append(element)
        content, prop = get("content"), get("itemprop")
        if content is not None and tag != "time":
            _add_meta_values(found.meta, element, content)
        words = get("class") or ""
        if (
            (tag == "time" and get("pubdate") is not None)
            or (prop in ("datePublished", "dateModified") and content is None)
            or (get("title") is not None and ("published" in words or "updated" in words))
        ):
            names = words.split()
            if get("pubdate") is not None or prop == "datePublished" or "published" in names:
                found.published.append(element)
            elif prop == "dateModified" or "updated" in names:
                found.modified.append(element)
    return found


def _add_meta_values(values: dict[str, list[str]], element: Any, raw_content: str) -> None:
    content = raw_content.strip()
    if not content:
        return
    for attribute in _META_KEY_ATTRIBUTES:
        key = _attribute(element, attribute).lower()
        if key:
            values.setdefault(key, []).append(content)


def text_of(element: Any) -> str:
    """All the text inside an element (lxml.etree has no ``text_content``)."""
    return "".join(element.itertext())


def _attribute(element: Any, name: str) -> str:
    value = element.get(name)
    return value.strip() if isinstance(value, str) else ""


def _valid(value: str, window: Window) -> datetime | None:
    parsed = parse_machine_value(value)
    return parsed if parsed is not None and window.accepts(parsed) else None


def _agreeing(values: Iterable[datetime | None]) -> Outcome:
    """The first value when all name the same day; nothing when empty; else a conflict."""
    present = [value for value in values if value is not None]
    if not present:
        return None
    if len({value.date() for value in present}) > 1:
        return CONFLICT
    return present[0]


def _date_or_none(outcome: Outcome) -> datetime | None:
    return outcome if isinstance(outcome, datetime) else None


def _same_page(a: str, b: str) -> bool:
    def key(url: str) -> str:
        parts = _split(url.strip())
        return f"{parts.netloc.lower().removeprefix('www.')}{parts.path.rstrip('/')}"

    return bool(a) and bool(b) and key(a) == key(b)


# --------------------------------------------------------------------------- JSON-LD


def _json_ld_blocks(scripts: list[Any]) -> Iterator[object]:
    """Each JSON-LD block, parsed; a block that is not valid JSON (trailing commas, raw line
    breaks ...) yields its ``datePublished``/``dateModified`` values read by pattern, when
    they are the only ones in it (one object)."""
    for script in scripts:
        text = text_of(script)
        try:
            data = json.loads(text, strict=False)
        except RecursionError:
            continue  # nested deeper than any real metadata: not the article's
        except ValueError:
            published = set(_JSON_LD_PUBLISHED_RE.findall(text))
            if len(published) == 1 and _JSON_LD_ARTICLE_RE.search(text):
                modified = set(_JSON_LD_MODIFIED_RE.findall(text))
                recovered: dict[str, object] = {"@type": "Article", "datePublished": published.pop()}
                if len(modified) == 1:
                    recovered["dateModified"] = modified.pop()
                yield recovered
        else:
            yield data


def _json_ld_objects(data: object, depth: int = 0) -> Iterator[dict[str, object]]:
    """Top-level objects, lists of them, ``@graph`` members and ``mainEntity`` children."""
    if depth > _MAX_JSON_LD_DEPTH:
        return
    if isinstance(data, list):
        for item in data:
            yield from _json_ld_objects(item, depth + 1)
    elif isinstance(data, dict):
        yield data
        for key in ("@graph", "mainEntity"):
            if key in data:
                yield from _json_ld_objects(data[key], depth + 1)


def _type_names(obj: dict[str, object]) -> list[str]:
    raw = obj.get("@type")
    names = raw if isinstance(raw, list) else [raw]
    return [name.rsplit("/", 1)[-1].rsplit(":", 1)[-1] for name in names if isinstance(name, str)]


def _is_article(obj: dict[str, object]) -> bool:
    return any(name.endswith("Article") or name in _ARTICLE_TYPES for name in _type_names(obj))


def _text_value(obj: dict[str, object], key: str) -> str:
    value = obj.get(key)
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("@id") or value.get("url") or value.get("@value")
    return value if isinstance(value, str) else ""


def _article_url(obj: dict[str, object]) -> str:
    return _text_value(obj, "url") or _text_value(obj, "mainEntityOfPage") or _text_value(obj, "@id")


def _dated_article(
    articles: list[dict[str, object]], url: str, window: Window
) -> dict[str, object] | Conflict | None:
    """The article object of this page: the dated ones if they agree, else the one at this URL."""
    dated = [obj for obj in articles if _valid(_text_value(obj, "datePublished"), window) is not None]
    agreed = _agreeing(_valid(_text_value(obj, "datePublished"), window) for obj in dated)
    if not isinstance(agreed, Conflict):
        return dated[0] if dated else None
    own = [obj for obj in dated if _same_page(_article_url(obj), url)]
    return own[0] if len(own) == 1 else CONFLICT


def from_json_ld(markup: Markup, url: str, window: Window) -> tuple[Outcome, datetime | None]:
    """The article object's dates; without one, a page-level object's (WebPage, HowTo, Recipe ...)."""
    objects = [obj for block in _json_ld_blocks(markup.json_ld) for obj in _json_ld_objects(block)]
    articles = [obj for obj in objects if _is_article(obj)]
    if not articles:
        articles = [obj for obj in objects if not _OTHER_THINGS.intersection(_type_names(obj))]
    article = _dated_article(articles, url, window)
    if not isinstance(article, dict):
        return article, None
    published = _valid(_text_value(article, "datePublished"), window)
    return published, _valid(_text_value(article, "dateModified"), window)


# --------------------------------------------------------------------------- <meta>


def _first_meta(values: dict[str, list[str]], keys: tuple[str, ...], window: Window) -> Outcome:
    """The value of the first key present (a key whose values disagree is a conflict)."""
    for key in keys:
        outcome = _agreeing(_valid(raw, window) for raw in values.get(key, []))
        if outcome is not None:
            return outcome
    return None


def from_meta(markup: Markup, url: str, window: Window) -> tuple[Outcome, datetime | None]:
    values = markup.meta
    return _first_meta(values, _PUBLISHED_KEYS, window), _date_or_none(
        _first_meta(values, _MODIFIED_KEYS, window)
    )


# --------------------------------------------------------------------------- <time>


def _time_value(element: Any, window: Window) -> datetime | None:
    """A marked element's date: ``datetime`` (<time>), ``title`` (hAtom <abbr>), else its text."""
    return _valid(_attribute(element, "datetime") or _attribute(element, "title") or text_of(element), window)


def _first_time(container: Any, window: Window) -> datetime | None:
    for element in container.xpath(".//time[@datetime]"):
        value = _time_value(element, window)
        if value is not None:
            return value
    return None


def _published_time(marked: list[Any], articles: list[Any], window: Window) -> Outcome:
    """A marked publication time, else the first <time> of the page's article.

    Several top-level <article> elements (a listing, or teasers marked up as articles)
    are a conflict when their first times disagree.
    """
    if marked:
        return _agreeing(_time_value(element, window) for element in marked)
    return _agreeing(_first_time(article, window) for article in articles)


def from_time_elements(markup: Markup, url: str, window: Window) -> tuple[Outcome, datetime | None]:
    updated = _date_or_none(_agreeing(_time_value(element, window) for element in markup.modified))
    return _published_time(markup.published, markup.articles, window), updated


# --------------------------------------------------------------------------- URL


def _split(url: str) -> SplitResult:
    """The URL's parts; a string urllib cannot split (a bad IPv6 host) is all path."""
    try:
        return urlsplit(url)
    except ValueError:
        return SplitResult("", "", url, "", "")


def date_from_url(url: str, window: Window) -> Outcome:
    """A full date written in the URL path (/2024/12/26/, /2024-12-26-, /20241226/, /26-12-2024)."""
    path = _split(url).path
    days: list[datetime | None] = []
    for pattern in (*_URL_DATE_RES, _URL_DAY_FIRST_RE):
        for match in pattern.finditer(path):
            parts = [int(part) for part in match.groups()]
            year, month, day = parts if pattern is not _URL_DAY_FIRST_RE else parts[::-1]
            if pattern is _URL_DAY_FIRST_RE and month != day <= 12:
                continue  # 05-06-2020 could be month first: only an unambiguous one counts
            try:
                found = midnight(date(year, month, day))
            except ValueError:
                continue
            days.append(found if window.accepts(found) else None)
    return _agreeing(days)


# --------------------------------------------------------------------------- script data


def from_script_data(markup: Markup, url: str, window: Window) -> tuple[Outcome, datetime | None]:
    """A publication date in a page's inline JSON state (``"publishedDate": "…"``), when all
    such values name one day (a listing's many items do not)."""
    values: set[date] = set()
    first: datetime | None = None
    for script in markup.data_scripts:
        text = script.text
        if not text or '"' not in text:
            continue
        for raw in _SCRIPT_PUBLISHED_RE.findall(text):
            found = _valid(raw, window)
            if found is not None:
                values.add(found.date())
                first = first or found
            if len(values) > 1:
                return None, None
    return first, None


# --------------------------------------------------------------------------- together

Finder: TypeAlias = Callable[[Markup, str, Window], tuple[Outcome, datetime | None]]
_FINDERS: tuple[tuple[str, Finder], ...] = (
    ("json-ld", from_json_ld),
    ("meta", from_meta),
    ("time-element", from_time_elements),
    ("meta", from_script_data),
)


def _modified_anywhere(markup: Markup, window: Window) -> datetime | None:
    return _date_or_none(_first_meta(markup.meta, _MODIFIED_KEYS, window))


def _with_update(published: datetime, source: str, updated: datetime | None) -> MarkupDates:
    if updated is not None and not not_before(updated, published):
        updated = None
    return MarkupDates(published, source, updated)


def explicit_dates(markup: Markup, url: str, window: Window) -> MarkupDates | Conflict | None:
    """The first explicit source (JSON-LD, meta, <time>) naming a publication date, with an
    update time if any. A source that contradicts itself is a :class:`Conflict`."""
    found = all_explicit_dates(markup, url, window)
    if isinstance(found, Conflict):
        return found
    return found[0] if found else None


def all_explicit_dates(markup: Markup, url: str, window: Window) -> list[MarkupDates] | Conflict:
    """What each explicit source says, in order of trust; a contradiction within the first
    source that says anything is a :class:`Conflict`."""
    found: list[MarkupDates] = []
    modified: datetime | None = None
    for source, finder in _FINDERS:
        published, updated = finder(markup, url, window)
        if isinstance(published, Conflict):
            if not found:
                return published
            continue
        if published is not None:
            if modified is None and not found:
                modified = updated or _modified_anywhere(markup, window)
            found.append(_with_update(published, source, updated or modified))
    return found


def update_only(markup: Markup, window: Window) -> datetime | None:
    """The page's update time from its metadata, for a page that gives no publication time."""
    updated = _modified_anywhere(markup, window)
    if updated is None:
        updated = from_time_elements(markup, "", window)[1]
    return updated


def month_from_url(url: str) -> tuple[int, int] | None:
    """The year and month a URL path names (/2019/10/…), when it names one."""
    match = _URL_MONTH_RE.search(_split(url).path)
    return (int(match.group(1)), int(match.group(2))) if match else None
