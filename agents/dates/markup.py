"""Publication dates from an HTML page's own metadata, then (last resort) htmldate.

Library choices: lxml parses the page (it is already a dependency of the clean stage and
tolerates broken markup); we read the explicit metadata ourselves so that we know which
source gave the date and can refuse conflicting values. Order: JSON-LD of an Article /
NewsArticle / BlogPosting, ``<meta>`` tags (Open Graph, Dublin Core, itemprop ...),
``<time>`` elements of the article, a /YYYY/MM/DD/ URL path. htmldate
(``original_date=True, extensive_search=False``) runs only when none of these exists; its
year-only guesses come back as 1 January and are usually a footer's "© 2019", so a
1 January from htmldate is discarded.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeAlias
from urllib.parse import urlsplit

import lxml.etree  # type: ignore[import-untyped]  # lxml ships no type information
import lxml.html  # type: ignore[import-untyped]
from htmldate import find_date

from agents.dates.parsing import MIN_YEAR, Window, midnight, parse_machine_value
from agents.dates.text import not_before

_ARTICLE_TYPES = frozenset({"BlogPosting", "LiveBlogPosting", "Report"})
_PUBLISHED_KEYS = (
    "article:published_time",
    "og:published_time",
    "og:article:published_time",
    "datepublished",
    "dc.date.issued",
    "dcterms.issued",
    "pubdate",
    "publishdate",
    "publish-date",
    "publish_date",
    "parsely-pub-date",
    "sailthru.date",
    "date",
)
_MODIFIED_KEYS = (
    "article:modified_time",
    "og:updated_time",
    "og:modified_time",
    "datemodified",
    "dc.date.modified",
    "dcterms.modified",
)
_META_KEY_ATTRIBUTES = ("property", "name", "itemprop")
_MAX_JSON_LD_DEPTH = 6

_URL_DATE_RES = (
    re.compile(r"/((?:19|20)\d{2})/(0?[1-9]|1[0-2])/(0?[1-9]|[12]\d|3[01])(?=/|$|[-_.])"),
    re.compile(r"/((?:19|20)\d{2})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])(?=/|$|[-_.])"),
    re.compile(r"/((?:19|20)\d{2})(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(?=/|$|[-_.])"),
)


@dataclass(frozen=True, slots=True)
class MarkupDates:
    published: datetime
    source: str  # "json-ld" | "meta" | "time-element" | "url"
    updated: datetime | None = None


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
    parser = lxml.html.HTMLParser(encoding="utf-8")
    try:
        return lxml.html.fromstring(html.encode("utf-8", "replace"), parser=parser)
    except (lxml.etree.ParserError, ValueError):
        return None


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
        parts = urlsplit(url.strip())
        return f"{parts.netloc.lower().removeprefix('www.')}{parts.path.rstrip('/')}"

    return bool(a) and bool(b) and key(a) == key(b)


# --------------------------------------------------------------------------- JSON-LD


def _json_ld_blocks(tree: Any) -> Iterator[object]:
    for script in tree.xpath("//script[contains(translate(@type, 'LDJSON', 'ldjson'), 'ld+json')]"):
        try:
            yield json.loads(script.text_content(), strict=False)
        except ValueError:
            continue


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


def from_json_ld(tree: Any, url: str, window: Window) -> tuple[Outcome, datetime | None]:
    articles = [obj for block in _json_ld_blocks(tree) for obj in _json_ld_objects(block) if _is_article(obj)]
    article = _dated_article(articles, url, window)
    if not isinstance(article, dict):
        return article, None
    published = _valid(_text_value(article, "datePublished"), window)
    return published, _valid(_text_value(article, "dateModified"), window)


# --------------------------------------------------------------------------- <meta>


def _meta_values(tree: Any) -> dict[str, list[str]]:
    """Lower-cased meta key -> its ``content`` values (meta tags and itemprop elements)."""
    values: dict[str, list[str]] = {}
    for element in tree.xpath("//*[@content][@property or @name or @itemprop][not(self::time)]"):
        content = _attribute(element, "content")
        for attribute in _META_KEY_ATTRIBUTES:
            key = _attribute(element, attribute).lower()
            if key and content:
                values.setdefault(key, []).append(content)
    return values


def _first_meta(values: dict[str, list[str]], keys: tuple[str, ...], window: Window) -> Outcome:
    """The value of the first key present (a key whose values disagree is a conflict)."""
    for key in keys:
        outcome = _agreeing(_valid(raw, window) for raw in values.get(key, []))
        if outcome is not None:
            return outcome
    return None


def from_meta(tree: Any, url: str, window: Window) -> tuple[Outcome, datetime | None]:
    values = _meta_values(tree)
    return _first_meta(values, _PUBLISHED_KEYS, window), _date_or_none(
        _first_meta(values, _MODIFIED_KEYS, window)
    )


# --------------------------------------------------------------------------- <time>


def _time_value(element: Any, window: Window) -> datetime | None:
    return _valid(_attribute(element, "datetime") or element.text_content(), window)


def _first_time(container: Any, window: Window) -> datetime | None:
    for element in container.xpath(".//time[@datetime]"):
        value = _time_value(element, window)
        if value is not None:
            return value
    return None


def _published_time(tree: Any, window: Window) -> Outcome:
    """A <time> marked as the publication time, else the first <time> of the page's article.

    Several top-level <article> elements (a listing, or teasers marked up as articles)
    are a conflict when their first times disagree.
    """
    marked = tree.xpath("//time[@pubdate or @itemprop='datePublished']")
    if marked:
        return _agreeing(_time_value(element, window) for element in marked)
    return _agreeing(
        _first_time(article, window) for article in tree.xpath("//article[not(ancestor::article)]")
    )


def from_time_elements(tree: Any, url: str, window: Window) -> tuple[Outcome, datetime | None]:
    modified = tree.xpath("//time[@itemprop='dateModified']")
    updated = _date_or_none(_agreeing(_time_value(element, window) for element in modified))
    return _published_time(tree, window), updated


# --------------------------------------------------------------------------- URL


def date_from_url(url: str, window: Window) -> Outcome:
    """A full date written in the URL path (/2024/12/26/, /2024-12-26-, /20241226/)."""
    path = urlsplit(url).path
    days: list[datetime | None] = []
    for pattern in _URL_DATE_RES:
        for match in pattern.finditer(path):
            year, month, day = (int(part) for part in match.groups())
            try:
                found = midnight(date(year, month, day))
            except ValueError:
                continue
            days.append(found if window.accepts(found) else None)
    return _agreeing(days)


# --------------------------------------------------------------------------- together

Finder: TypeAlias = Callable[[Any, str, Window], tuple[Outcome, datetime | None]]
_FINDERS: tuple[tuple[str, Finder], ...] = (
    ("json-ld", from_json_ld),
    ("meta", from_meta),
    ("time-element", from_time_elements),
)


def _modified_anywhere(tree: Any, window: Window) -> datetime | None:
    return _date_or_none(_first_meta(_meta_values(tree), _MODIFIED_KEYS, window))


def _with_update(published: datetime, source: str, updated: datetime | None) -> MarkupDates:
    if updated is not None and not not_before(updated, published):
        updated = None
    return MarkupDates(published, source, updated)


def explicit_dates(html: str, url: str, window: Window) -> MarkupDates | Conflict | None:
    """The first explicit source that names a publication date, with an update time if any.

    A source that contradicts itself stops the search: the caller must not guess.
    """
    tree = parse_html(html)
    if tree is not None:
        for source, finder in _FINDERS:
            published, updated = finder(tree, url, window)
            if isinstance(published, Conflict):
                return published
            if published is not None:
                return _with_update(published, source, updated or _modified_anywhere(tree, window))
    from_url = date_from_url(url, window)
    if isinstance(from_url, datetime):
        return MarkupDates(from_url, "url")
    return from_url


def htmldate_fallback(html: str, url: str, window: Window) -> datetime | None:
    """htmldate's guess, minus 1 January (its year-only and © guesses) and out-of-window days."""
    try:
        found = find_date(
            html,
            url=url or None,
            original_date=True,
            extensive_search=False,
            outputformat="%Y-%m-%d",
            min_date=f"{MIN_YEAR}-01-01",
            max_date=window.latest.strftime("%Y-%m-%d"),
        )
    except Exception:  # htmldate raises assorted errors on odd pages; a guess is optional
        return None
    if not found:
        return None
    try:
        day = date.fromisoformat(found)
    except ValueError:
        return None
    if (day.month, day.day) == (1, 1):
        return None
    result = midnight(day)
    return result if window.accepts(result) else None
