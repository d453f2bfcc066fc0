"""Page metadata read straight off the lxml tree: title, site, canonical URL, authors, caption.

Cheap reads only: ``<meta>``/``<link>`` in one pass, the ``<title>``, the ``<h1>`` elements,
JSON-LD ``author`` entries and the first ``<figcaption>``.

The title is the page's headline without the site name. The ``<h1>`` is the headline as
readers see it, but pages also use ``<h1>`` for the logo: it is preferred when it agrees
with ``og:title`` or ``<title>`` (same text, one starts with the other, or it ends the
declared title after a shorter site name or kicker: "BMAS - Headline"). When none agrees
and the page has one ``<h1>`` of five words or more that does not start with the site name,
it is the title (``og:title`` is often a search-engine version of the headline), unless a
declared title starts or ends it and is most of it (the ``<h1>`` adds a kicker, a section
label or a date: the declared title then). Otherwise ``og:title`` (then ``twitter:title``,
then ``<title>``) with a "| Site" suffix or a "Site | " prefix taken off.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

import orjson

from agents.clean.plain import BYLINE_LEAD, names_in, strip_title_suffix
from agents.text import fold, strip_invisible, tidy_line, word_count

_SEPARATORS = (" | ", " - ", " – ", " — ", " :: ", " · ", " » ", " « ", ": ")
_MAX_TITLE_CHARS = 400
_MIN_H1_CHARS = 8
_AGREE_SHARE = 0.6
_MOST = 0.5  # a declared title that starts or ends a heading and is this much of it stands for it
_PREFIX_ENDS = ("-", "–", "—", "|", ":", "»", "›", "·")  # how a site name or kicker ends before a headline
_AUTHOR_SPLIT = re.compile(r"\s*(?:[,;،]|\band\b)\s*")
_CONTROL = re.compile("[\x00-\x1f\x7f]")  # no URL holds these
_TAB_OR_NEWLINE = re.compile("[\t\n\r]")
_MAX_AUTHOR_WORDS = 6
_MAX_MARKED_AUTHORS = 5  # author elements read (a page lists its story's authors first)
_LD_MAX_CHARS = 200_000


@dataclass(slots=True)
class Metadata:
    title: str | None = None
    site: str | None = None
    canonical_url: str | None = None
    authors: list[str] = field(default_factory=list)
    caption: str | None = None
    description: str | None = None


def read(root: Any, url: str) -> Metadata:
    metas: dict[str, str] = {}
    canonical: str | None = None
    page_title: str | None = None
    caption: str | None = None
    headings: list[Any] = []
    scripts: list[str] = []
    for element in root.iter("meta", "link", "title", "h1", "figcaption", "script"):  # one pass
        tag = element.tag
        get = element.get
        if tag == "meta":
            key = (get("property") or get("name") or get("itemprop") or "").strip().lower()
            content = get("content")
            if key and content and key not in metas:
                metas[key] = content
        elif tag == "link":
            if canonical is None and "canonical" in (get("rel") or "").lower().split():
                canonical = (get("href") or "").strip() or None
        elif tag == "h1":
            headings.append(element)
        elif tag == "script":
            if element.text and (get("type") or "").lower() == "application/ld+json":
                scripts.append(element.text)
        elif tag == "title":
            page_title = page_title or _text(element)
        elif caption is None:
            caption = _text(element)
    site = _site(metas.get("og:site_name") or metas.get("application-name"))
    canonical = canonical or _clean(metas.get("og:url"))
    return Metadata(
        title=_title(headings, metas, page_title, site),
        site=site,
        canonical_url=_absolute(canonical, url),
        authors=_authors(scripts, metas, site, root),
        caption=caption,
        description=_clean(metas.get("og:description") or metas.get("description")),
    )


def _text(element: Any) -> str | None:
    """An element's text as it reads, on one line, without what a style or script in it holds."""
    return _clean("".join(element.xpath(".//text()[not(ancestor::style or ancestor::script)]")))


def _site(value: str | None) -> str | None:
    """The site's name: "Name | tagline | short name" is "Name"."""
    text = _clean(value)
    if text and " | " in text:
        text = text.split(" | ", 1)[0].strip() or text
    return text


def _clean(value: str | None) -> str | None:
    """A metadata value on one line: a <title> or an attribute can hold line breaks too."""
    if not value:
        return None
    text = " ".join(strip_invisible(value).split())
    return text[:_MAX_TITLE_CHARS] if text else None


def _title(
    headings: list[Any], metas: dict[str, str], page_title: str | None, site: str | None
) -> str | None:
    sources = (_clean(metas.get("og:title")), _clean(metas.get("twitter:title")), page_title)
    declared = [title for title in (strip_site(text, site) for text in sources if text) if title]
    folded = [fold(text) for text in declared]
    site_key = fold(site) if site else None
    texts = [_text(element) for element in headings]
    for text in texts:
        if not text or len(text) < _MIN_H1_CHARS:
            continue
        heading = strip_site(text, site)
        key = fold(heading)
        if key != site_key and any(_agrees(key, other) for other in folded):
            return heading
    if len(texts) == 1 and (only := texts[0]) and word_count(only) >= 5:
        key = fold(only)
        if not (site_key and key.startswith(site_key)):
            # a declared title that starts or ends the heading, and is most of it: the heading
            # adds a kicker, a section label or a date
            inside = (text for text, other in zip(declared, folded, strict=True) if _most_of(other, key))
            return next(inside, None) or strip_site(only, site)
    return declared[0] if declared else None


def _most_of(part: str, whole: str) -> bool:
    return (whole.startswith(part) or whole.endswith(part)) and len(part) >= _MOST * len(whole)


def _agrees(heading: str, declared: str) -> bool:
    """The same headline, one cut short of the other (not a logo inside a longer title), or
    the heading after a site name or kicker in the declared title ("BMAS - Headline",
    "Corona-Lockerungen: Headline")."""
    if heading == declared:
        return True
    shorter, longer = sorted((heading, declared), key=len)
    if longer.startswith(shorter) and len(shorter) >= _AGREE_SHARE * len(longer):
        return True
    before = declared[: -len(heading)].rstrip() if declared.endswith(heading) else ""
    # a site name or kicker is shorter than the headline; a headline before a logo is not
    return bool(before) and before.endswith(_PREFIX_ENDS) and len(before) < len(heading)


def strip_site(title: str, site: str | None) -> str:
    """The title without a site name after (or, with a known site name, before) it."""
    if site:
        folded_site = fold(site)
        for separator in _SEPARATORS:
            if separator not in title:
                continue
            head, _, tail = title.rpartition(separator)
            if fold(tail) == folded_site and head.strip():
                return head.strip()
            first, _, rest = title.partition(separator)
            if fold(first) == folded_site and rest.strip():
                return rest.strip()
    return strip_title_suffix(title, site)


def _absolute(link: str | None, base: str) -> str | None:
    """The link made absolute; None when it is not a URL (control characters, bad IPv6 host).

    Tabs and line breaks inside are dropped, as browsers do (WHATWG URL).
    """
    link = _TAB_OR_NEWLINE.sub("", link) if link else link
    if not link or _CONTROL.search(link):
        return None
    try:
        return urljoin(base, link)
    except ValueError:
        return None


def _authors(scripts: list[str], metas: dict[str, str], site: str | None, root: Any) -> list[str]:
    """Names from author metadata, then JSON-LD, then the page's author markup (microdata,
    ``rel="author"`` links); the site's own name is not an author."""
    names: list[str] = []
    for key in ("author", "article:author", "parsely-author", "dc.creator", "sailthru.author", "byl"):
        value = metas.get(key)
        if value and "://" not in value:
            names.extend(_split_names(value))
        if names:
            break
    if not names:
        names = _ld_authors(scripts)
    if not names:
        candidates = root.xpath(_AUTHOR_CANDIDATES)
        names = _marked_authors(candidates) or _classed_byline(candidates)
    seen: set[str] = {fold(site)} if site else set()
    unique = []
    for name in names:
        key = fold(name)
        if key not in seen and not (site and fold(site) in key):
            seen.add(key)
            unique.append(name)
    return unique


# Elements marked as the author, outside comments: schema.org microdata, rel="author" links,
# and the hCard of an hAtom entry's author (class "author vcard" around a "fn"); with them,
# in the same pass, the elements whose class names an author or a byline (_classed_byline).
# Found through attribute steps (cheap for libxml2), then checked here.
_AUTHOR_CANDIDATES = (
    "//@itemprop[. = 'author']/.. | //@rel[contains(., 'author')]/.. | //@class[contains(., 'fn')"
    " or contains(., 'uthor') or contains(., 'utor') or contains(., 'yline')]/.."
)
# Whole class tokens, not dom.mark_of_names' words: WordPress puts "comments-open" on <body>,
# which that reading takes for a comment section (every author on the page would be left out).
_COMMENTS = frozenset(
    {"comment", "comments", "comment-list", "commentlist", "comment-body", "comment-author", "comment-meta",
     "comments-area", "respond"}
)  # fmt: skip


def _marked_authors(candidates: list[Any]) -> list[str]:
    names: list[str] = []
    found = 0
    for element in candidates:
        if found >= _MAX_MARKED_AUTHORS:
            break
        if not _marks_author(element) or _in_comments(element):
            continue
        found += 1
        named = element.xpath(".//*[@itemprop='name']")
        source = named[0] if named else element
        value = source.get("content") or " ".join(source.itertext())
        if value and "://" not in value and "@" not in value:
            names.extend(_split_names(value))
    return names


# Elements whose class names an author or byline ("author-name", "byline__author",
# "AutorDataPublicacao"): the first whose text is a byline, outside comments.
_BYLINE_CLASS_WORDS = ("author", "byline", "autor")
_BYLINE_END = re.compile(r"\s*(?:[|•·/(]|\s[-–—]\s|\d).*$")
_DATE_CONNECTORS = frozenset({"am", "vom", "on", "at", "le", "du", "el", "em", "il", "dne"})
_BYLINE_MAX_ELEMENTS = 20  # elements looked at (a page's own byline comes early)


def _classed_byline(candidates: list[Any]) -> list[str]:
    looked = 0
    for element in candidates:
        tokens = (element.get("class") or "").lower().split()
        if not any(word in token for token in tokens for word in _BYLINE_CLASS_WORDS):
            continue
        looked += 1
        if looked > _BYLINE_MAX_ELEMENTS:
            break
        if _in_comments(element):
            continue
        line = tidy_line(" ".join(element.itertext()))
        led = BYLINE_LEAD.sub("", line)
        text = _BYLINE_END.sub("", led)
        words = text.split()
        if len(text) < len(led) and words and words[-1].lower() in _DATE_CONNECTORS:
            words.pop()  # "von X am 21. April", "par X le 3 mai"
        if not 0 < len(words) <= _MAX_AUTHOR_WORDS or "@" in text or ":" in text:
            continue  # a bio, an address, a label ("Datum:")
        if len(words) == 1 and len(text) == len(line):
            continue  # one word with no "By"/"Von" before it: "Text", "Follow", "Artikel"
        names = names_in(" ".join(words))
        if names:
            return names
    return []


def _marks_author(element: Any) -> bool:
    if element.get("itemprop") == "author" or "author" in (element.get("rel") or "").split():
        return True
    return "fn" in (element.get("class") or "").split() and any(
        "author" in (ancestor.get("class") or "").split() for ancestor in element.iterancestors()
    )


def _in_comments(element: Any) -> bool:
    for node in (element, *element.iterancestors()):
        if node.get("id") in _COMMENTS or not _COMMENTS.isdisjoint((node.get("class") or "").split()):
            return True
    return False


def _split_names(value: str) -> list[str]:
    text = tidy_line(value)
    if text.lower().startswith("by "):
        text = text[3:]
    return [
        part
        for part in (piece.strip() for piece in _AUTHOR_SPLIT.split(text))
        if part and len(part.split()) <= _MAX_AUTHOR_WORDS
    ]


def _ld_authors(scripts: list[str]) -> list[str]:
    names: list[str] = []
    for script in scripts:
        if len(script) > _LD_MAX_CHARS:
            continue
        try:
            data = orjson.loads(script)
        except orjson.JSONDecodeError:
            continue
        graph = data.get("@graph") if isinstance(data, dict) else None
        graph = graph if isinstance(graph, list) else []
        # the graph's nodes by @id: an author given as {"@id": ...} is named there (Yoast)
        nodes = {
            node["@id"]: node for node in graph if isinstance(node, dict) and isinstance(node.get("@id"), str)
        }
        pending: list[Any] = [data]
        while pending and len(names) < 10:
            item = pending.pop()
            if isinstance(item, list):
                pending.extend(reversed(item))
            elif isinstance(item, dict):
                if "@graph" in item:
                    pending.append(item["@graph"])
                author = item.get("author") or item.get("creator")
                for entry in author if isinstance(author, list) else [author]:
                    if isinstance(entry, dict) and "name" not in entry and isinstance(entry.get("@id"), str):
                        entry = nodes.get(entry["@id"], entry)
                    name = entry.get("name") if isinstance(entry, dict) else entry
                    if isinstance(name, str) and name.strip() and "://" not in name:
                        names.extend(_split_names(name))
        if names:
            break
    return names
