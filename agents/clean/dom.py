"""The main content of an HTML page: one lxml parse, one walk, a max-sum choice of container.

1. **Walk** the tree once (``lxml.etree.iterwalk``, C-driven) and cut its text into
   *blocks*: the runs of text between block-level tags (``p``, ``div``, ``li``, ``td``,
   ``br`` ...), each with its length, the length of its link text and the block element
   that holds it. Scripts, styles, forms' controls, media and ``<head>`` are skipped.
2. **Mark** boilerplate on the way. Always dropped (not even walked): ``nav``, ``aside``,
   ``footer``, ``menu``, ARIA landmark roles, hidden elements. Dropped unless they hold
   most of the page's prose or an element named as the article body: ``figure``, and
   class/id names such as ``share``, ``related``, ``most-read``, ``newsletter``,
   ``cookie``, ``rail``, ``prev-next`` (so a wrapper named ``has-sidebar`` around the
   whole article does not take the article away). Comment sections, the section a
   "Related" / "Most read" / "أخبار ذات صلة" heading opens, and grids of three or more
   alike teaser cards (a linked headline plus a summary) are dropped too.
3. **Weigh** each block: prose (long, sentence-like, few links) counts its length, link
   lists and short fragments count negative. The article is the element whose blocks
   weigh the most (a maximum-sum subtree, computed bottom-up over the block elements);
   on ties the deepest element wins. A descendant named like ``article-body`` holding
   40 % of that weight narrows the choice; siblings with a paragraph's worth of net
   weight (an intro box, a lead) are taken in with it.
4. The blocks inside that are neither dropped nor link lists are the body.

No Python recursion anywhere. libxml2 stops reading a page at 256 levels of nesting (and
drops the rest of the page): such a page, or one deeper than the configured limit, raises
:class:`TooDeep` rather than coming out cut.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any

from lxml import etree  # type: ignore[import-untyped]  # lxml ships no type information

from agents.clean.plain import is_section_marker
from agents.limits import PARSER_MAX_DEPTH
from agents.text import fold, strip_invisible


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Block-level elements: each one starts a new block of text (its own and its tail's).
_BLOCK_TAGS = _words(
    "address article aside blockquote body center dd details dialog dir div dl dt fieldset "
    "figcaption figure footer form h1 h2 h3 h4 h5 h6 header hgroup html li main menu nav ol p "
    "pre section summary table tbody td tfoot th thead tr ul caption legend"
)
_BREAKS = frozenset({"br", "hr"})
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
# Elements skipped with everything inside them (their tail text is kept).
_SKIPPED = _words(
    "head script style noscript template svg math iframe object embed canvas video audio "
    "select option button input textarea img picture source map area link meta title rt rp"
)
# Elements that are boilerplate by their tag alone: always, or unless they hold the article.
_HARD_TAGS = frozenset({"nav", "aside", "footer", "menu", "dialog"})
_SOFT_TAGS = frozenset({"figure", "figcaption"})
_BOILER_ROLES = frozenset(
    {"navigation", "complementary", "contentinfo", "banner", "search", "menu", "menubar", "dialog", "alert"}
)
_CAMEL = re.compile(r"([a-z])([A-Z])")
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")
# Class/id words of boilerplate containers (matched on whole words of the split name).
_BOILER_WORDS = re.compile(
    r"\b(?:nav|navbar|navigation|menu|menus|breadcrumbs?|sidebar|sidebars|widgets?|footer|"
    r"share|shares|sharing|sharebar|social|socials|related|recommended|recommendations?|"
    r"promo|promos|promoted|newsletter|newsletters|subscribe|subscription|signup|"
    r"cookies?|consent|gdpr|advert|adverts|advertisement|advertising|ads?|adslot|"
    r"sponsor|sponsored|popup|modal|overlay|tags|tagcloud|keywords|byline|bylines|"
    r"caption|captions|credits?|legend|legende|bildunterschrift|popular|trending|mostread|readmore|morestories|"
    r"pagination|pager|toolbar|print|skip|sronly|meta|metadata|author|authors|"
    r"bio|disclaimer|copyright|masthead|topbar|banner|teasers?|outbrain|taboola|disqus|"
    r"rail|rightrail|leftrail|ticker|breaking|aside|prev|previous|"
    r"comments?|commentlist|respond|reply|replies)\b"
)
# Same words glued to others ("relatedPosts" is split, "relatedposts" is not).
_BOILER_GLUED = re.compile(
    r"prevnext|nextprev|nextpost|prevpost|nextarticle|previousarticle|nextstory|postnav|"
    r"rightrail|leftrail|sharebar|socialshare|sharetools|relatedpost|relatedarticle|relatedstor|relatedlink|"
    r"relatednews|mostread|mostpopular|morestories|readmore|readalso|newsletter|outbrain|"
    r"taboola|disqus|breadcrumb|cookiebanner|cookieconsent|adcontainer|adslot|advert"
)
_COMMENT_WORDS = re.compile(r"\b(?:comments?|commentlist|disqus|respond|replies)\b")
# Class/id words of the article body itself: they never mark an element as boilerplate.
_BODY_WORDS = re.compile(
    r"articlebody|article body|story body|storybody|entry content|post content|post body|"
    r"article content|article text|story content|content body|body text|main content"
)
# Class names that hide an element (whole names: "field-label-hidden" hides only a label).
_HIDDEN_CLASSES = frozenset(
    {"hidden", "hide", "d-none", "sr-only", "visually-hidden", "visuallyhidden", "screen-reader-text"}
    | {"invisible"}
)
# Inline elements skipped with their content: pop-ups, tooltips, share buttons, hidden text.
_INLINE_SKIP = re.compile(
    r"\b(?:share|sharing|social|tooltip|popup|popover|rollover|hovercard|advert|advertisement|ads?|"
    r"sronly|caption|credit|hidden)\b"
)
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_MARKUP = re.compile(r"^<[a-zA-Z][^>]*>")  # markup that reached the text (e.g. from <noscript>)
# Headings of other sections in English beyond the shared markers ("More from X", "Trending").
_SECTION_HEADING = re.compile(r"^(?:more|other|latest|popular|trending|recommended|editor'?s picks?)\b", re.I)
_SECTION_HEADING_WORDS = 5
_SECTION_HEADING_CHARS = 60
# Cheap test before the folded comparison: every section marker contains one of these.
_SECTION_HINT = re.compile(
    r"related|read|most|latest|more|also|see|recommend|popular|trending|you m|other|"
    r"ذات صل|يض|كثر|حدث|خر|مزيد|شاهد|متعلق|يهمك|يعجبك|مواضيع|مقالات|اقر|إقر|أقر|"
    r"مرتبط|بخوان|پیشنهاد|پربازدید|پربیننده|سایر|پڑھ|خبریں|"
    r"lgili|haber|okun|ilginiz|okuyun|"
    r"auch|mehr|weitere|meistgelesen|ähnliche|"
    r"aussi|même sujet|plus lus|similaires|también|interesar|relacionad|más leído|"
    r"leggi|correlati|più letti|także|też|czytane|podobne"
)
_NOT_WORD = re.compile(r"[\W_]+")
_HEADLINE_MIN_CHARS = 12  # a heading this long that starts or ends the title is the headline
_SENTENCE_END = re.compile(r"[.!?؟。！？…:;»\"'”’)\]]\s*$")

# Marks.
NONE, SOFT, COMMENT, HARD, BODY = 0, 1, 2, 3, 4

# Weights.
_PROSE_CHARS = 80  # a block this long is prose even without a final full stop
_SENTENCE_CHARS = 30  # ... a shorter one must end a sentence
_LINK_LIST = 0.5  # link density from which a block is a link list
_SHORT_PENALTY = 0.3
_LINK_PENALTY = 1.0
_MAJOR_SHARE = 0.5  # a marked element holding more than this share of the prose is kept
_MAJOR_PARAGRAPHS = 3  # ... and at least this many prose blocks
_SECTION_SHARE = 0.25  # a section under a "Related" heading holds at most this share of the prose
_BODY_SHARE = 0.4  # an element named as the body is chosen when it holds this share of the weight
_SIBLING_WEIGHT = 80.0  # net weight of a sibling of the article element taken in with it
_CARDS = 3  # this many alike siblings that start with a linked headline are teaser cards
_CARD_HEAD_CHARS = 200
_NOT_CARDS = frozenset({"tr", "td", "th", "tbody", "dd", "dt"})  # table rows: data, not teasers
_CARD_MAX_CHARS = 700  # a teaser card is short: headline, a line or two of summary, a date


@dataclass(slots=True)
class Block:
    """A run of text between block-level tags."""

    text: str
    element: int  # id of the block element holding it
    tag: str  # that element's tag
    link_chars: int
    chars: int

    @property
    def link_density(self) -> float:
        return self.link_chars / self.chars if self.chars else 0.0


@dataclass(slots=True)
class Layout:
    """The walk's result: blocks, and the block elements as parallel arrays indexed by id."""

    blocks: list[Block]
    parents: list[int]  # nearest block-level ancestor (-1 for the root)
    ends: list[int]  # last descendant id: element i's subtree is ids i..ends[i]
    marks: list[int]
    tags: list[str]
    elements: list[Any]


class ParseError(Exception):
    """lxml could not make a tree of the page."""


class TooDeep(ParseError):
    """The page nests elements deeper than allowed (or than the parser reads)."""


_LOCAL = threading.local()
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*>", re.I)


def _parser(encoding: str | None = None) -> Any:
    """This thread's lxml HTML parser (lxml parsers must not be shared between threads)."""
    key = encoding or "text"
    parsers: dict[str, Any] | None = getattr(_LOCAL, "parsers", None)
    if parsers is None:
        parsers = _LOCAL.parsers = {}
    parser = parsers.get(key)
    if parser is None:
        # collect_ids=False: no table of the id attributes (nothing looks elements up by id).
        parser = etree.HTMLParser(
            encoding=encoding, remove_comments=True, remove_pis=True, no_network=True, collect_ids=False
        )
        parsers[key] = parser
    return parser


def parse(html: str, utf8: bytes | None = None) -> Any:
    """The root element of the page. Raises ParseError when there is no tree.

    ``utf8``: the same page as valid UTF-8 bytes, when the caller has them; libxml2
    parses bytes faster than a Python string, into the same tree.
    """
    try:
        if utf8 is not None:
            root = etree.fromstring(utf8, _parser("utf-8"))
        else:
            start = html.lstrip()[:5].lower()
            text = _XML_DECLARATION.sub("", html, count=1) if start == "<?xml" else html
            root = etree.fromstring(text, _parser())
    except (etree.LxmlError, ValueError) as exc:
        raise ParseError(str(exc) or type(exc).__name__) from exc
    for error in _parser("utf-8" if utf8 is not None else None).error_log:
        # libxml2 stops reading at PARSER_MAX_DEPTH levels: the rest of the page is lost.
        if error.type == etree.ErrorTypes.ERR_RESOURCE_LIMIT:
            raise TooDeep(error.message) if "depth" in error.message else ParseError(error.message)
    if root is None:
        raise ParseError("the page has no elements")
    return root


_MARK_CACHE: dict[tuple[str, str], int] = {}
_MARK_CACHE_MAX = 50_000


def mark_of_names(class_: str, id_: str) -> int:
    """The mark given by class and id names (cached: templates repeat them a lot)."""
    key = (class_, id_)
    found = _MARK_CACHE.get(key)
    if found is not None:
        return found
    words = _NOT_ALNUM.sub(" ", _CAMEL.sub(r"\1 \2", f"{class_} {id_}").lower())
    glued = words.replace(" ", "")
    if _HIDDEN_CLASSES.intersection(class_.lower().split()):
        mark = HARD
    elif _BODY_WORDS.search(words) or _BODY_WORDS.search(glued):
        mark = BODY
    elif _COMMENT_WORDS.search(words):
        mark = COMMENT
    elif _BOILER_WORDS.search(words) or _BOILER_GLUED.search(glued):
        mark = SOFT
    else:
        mark = NONE
    if len(_MARK_CACHE) >= _MARK_CACHE_MAX:
        _MARK_CACHE.clear()
    _MARK_CACHE[key] = mark
    return mark


def _mark(element: Any, tag: str) -> int:
    """The mark of a block element that has attributes (and no boilerplate tag of its own)."""
    get = element.get
    if tag in _SOFT_TAGS:
        return SOFT
    role = get("role")
    if role and role.lower() in _BOILER_ROLES:
        return HARD
    itemprop = get("itemprop")
    if itemprop and itemprop.lower() == "articlebody":
        return BODY
    if get("hidden") is not None:
        return HARD
    style = get("style")
    if style and _HIDDEN_STYLE.search(style):
        return HARD
    class_ = get("class")
    id_ = get("id")
    if class_ or id_:
        return mark_of_names(class_ or "", id_ or "")
    return NONE


_INLINE_CACHE: dict[str, bool] = {}


def skip_inline(names: str) -> bool:
    """Whether an inline element with these class/id names is skipped with its content."""
    found = _INLINE_CACHE.get(names)
    if found is None:
        if len(_INLINE_CACHE) >= _MARK_CACHE_MAX:
            _INLINE_CACHE.clear()
        words = _NOT_ALNUM.sub(" ", _CAMEL.sub(r"\1 \2", names).lower())
        found = bool(_INLINE_SKIP.search(words)) or bool(_HIDDEN_CLASSES.intersection(names.lower().split()))
        _INLINE_CACHE[names] = found
    return found


def walk(root: Any, max_depth: int = PARSER_MAX_DEPTH) -> Layout:
    """Cut the page into blocks and record the block elements (see the module docstring).

    Raises TooDeep when elements nest more than ``max_depth`` levels.
    """
    blocks: list[Block] = []
    parents: list[int] = []
    ends: list[int] = []
    marks: list[int] = []
    tags: list[str] = []
    elements: list[Any] = []
    stack: list[int] = []
    parts: list[str] = []
    link_chars = 0
    link_depth = 0
    skipping: Any = None
    depth = 0

    def flush() -> None:
        nonlocal link_chars
        text = " ".join("".join(parts).split())
        if "\xad" in text:  # soft hyphens: invisible, and they break every word they sit in
            text = text.replace("\xad", "")
        parts.clear()
        if text and stack and not (text[0] == "<" and _MARKUP.match(text)):
            owner = stack[-1]
            size = len(text)
            blocks.append(Block(text, owner, tags[owner], min(link_chars, size), size))
        link_chars = 0

    walker = etree.iterwalk(root, events=("start", "end"))
    for event, element in walker:
        tag = element.tag
        if event == "start":
            depth += 1
            if depth > max_depth:
                raise TooDeep(f"elements nest more than {max_depth} levels")
            if tag.__class__ is not str or tag in _SKIPPED:  # comments, scripts, media ...
                walker.skip_subtree()
                skipping = element
                continue
            if tag in _BLOCK_TAGS:
                if tag in _HARD_TAGS:
                    mark = HARD
                elif element.keys():
                    mark = _mark(element, tag)
                else:  # no attributes: most paragraphs and list items
                    mark = SOFT if tag in _SOFT_TAGS else NONE
                if mark == HARD and stack:  # never part of the article: not even walked
                    walker.skip_subtree()
                    skipping = element
                    continue
                if parts:
                    flush()
                ident = len(tags)
                parents.append(stack[-1] if stack else -1)
                ends.append(ident)
                marks.append(mark)
                tags.append(tag)
                elements.append(element)
                stack.append(ident)
            elif tag in _BREAKS:
                if parts:
                    flush()
            else:
                names = element.get("class")
                if names and skip_inline(names):
                    walker.skip_subtree()
                    skipping = element
                    continue
                if tag == "a":
                    link_depth += 1
            text = element.text
            if text:
                parts.append(text)
                if link_depth:
                    link_chars += len(text.strip())
        else:
            depth -= 1
            if skipping is not None:
                skipping = None
            elif tag in _BLOCK_TAGS:
                if parts:
                    flush()
                ends[stack.pop()] = len(tags) - 1
            elif tag == "a" and link_depth:
                link_depth -= 1
            tail = element.tail
            if tail:
                parts.append(tail)
                if link_depth:
                    link_chars += len(tail.strip())
    if parts:
        flush()
    return Layout(blocks, parents, ends, marks, tags, elements)


def weight(block: Block) -> float:
    """How much a block looks like article prose (negative: like boilerplate)."""
    chars = block.chars
    density = block.link_density
    if density >= _LINK_LIST:
        return -_LINK_PENALTY * chars
    if block.tag in _HEADINGS:
        return 0.0
    if chars >= _PROSE_CHARS or (chars >= _SENTENCE_CHARS and _SENTENCE_END.search(block.text)):
        return chars * (1.0 - density)
    return -_SHORT_PENALTY * chars


def _is_section_heading(block: Block) -> bool:
    if block.chars > _SECTION_HEADING_CHARS or not _SECTION_HINT.search(block.text.lower()):
        return False
    if is_section_marker(strip_invisible(block.text)):
        return True
    return (
        block.tag in _HEADINGS
        and len(block.text.split()) <= _SECTION_HEADING_WORDS
        and bool(_SECTION_HEADING.match(block.text))
    )


def _mark_sections(layout: Layout, prose: list[float], total: float, weights: list[float]) -> None:
    """Mark the element that a "Related" / "Most read" / "أخبار ذات صلة" heading opens.

    From the heading's element, climb while the ancestor still holds a minor share of the
    page's prose and none of it before the heading (a section starts with its heading: an
    ancestor with prose before it holds the story the heading sits in, however short); the
    highest such ancestor is the section. A heading that sits right in the article container
    marks nothing (the line filter then cuts the body there).
    """
    parents = layout.parents
    prose_before: list[float] = []  # made for the first heading: most pages have none
    for block in layout.blocks:
        if not _is_section_heading(block):
            continue
        prose_before = prose_before or _prose_before(layout, weights)
        section = block.element
        parent = parents[section]
        while (
            parent > 0
            and prose[parent] <= _SECTION_SHARE * total
            and prose_before[block.element] == prose_before[parent]
        ):
            section, parent = parent, parents[parent]
        if section != block.element:
            layout.marks[section] = HARD


def _prose_before(layout: Layout, weights: list[float]) -> list[float]:
    """The prose of the blocks before each element id, in page order (one more at the end)."""
    before = [0.0] * (len(layout.parents) + 1)
    for block, value in zip(layout.blocks, weights, strict=True):
        if value > 0:
            before[block.element + 1] += value
    for ident in range(1, len(before)):
        before[ident] += before[ident - 1]
    return before


@dataclass(slots=True)
class Content:
    """The chosen article container and the blocks of the body, in page order."""

    element: Any
    blocks: list[Block]
    dropped: list[bool]
    layout: Layout


def main_content(layout: Layout, title: str | None = None) -> Content | None:
    """The maximum-weight element and its body blocks; None when the page has no prose.

    ``title``: the page's headline; the article is then looked for where it stands.
    """
    count = len(layout.tags)
    if not count or not layout.blocks:
        return None
    parents, marks = layout.parents, layout.marks
    weights = [weight(block) for block in layout.blocks]
    prose = [0.0] * count  # prose weight inside, comment sections left out
    paragraphs = [0] * count
    named = [False] * count  # holds an element named as the article body, with prose in it
    for block, value in zip(layout.blocks, weights, strict=True):
        if value > 0:
            prose[block.element] += value
            paragraphs[block.element] += 1
    for ident in range(count - 1, 0, -1):
        parent = parents[ident]
        if marks[ident] == BODY and paragraphs[ident]:
            named[ident] = True
        if parent >= 0 and marks[ident] != COMMENT:
            prose[parent] += prose[ident]
            paragraphs[parent] += paragraphs[ident]
            named[parent] = named[parent] or named[ident]
    total = max(prose[0], 1.0)
    _mark_sections(layout, prose, total, weights)
    _mark_cards(layout)
    dropped = [False] * count
    for ident in range(count):
        parent = parents[ident]
        mark = marks[ident]
        if (parent >= 0 and dropped[parent]) or mark == HARD:
            dropped[ident] = True
        elif mark == COMMENT:
            dropped[ident] = not named[ident]
        elif mark == SOFT and not named[ident]:
            dropped[ident] = prose[ident] <= _MAJOR_SHARE * total or paragraphs[ident] < _MAJOR_PARAGRAPHS
    sums = [0.0] * count
    for block, value in zip(layout.blocks, weights, strict=True):
        if not dropped[block.element]:
            sums[block.element] += value
    best, best_sum = -1, 0.0
    for ident in range(count - 1, -1, -1):
        if sums[ident] > best_sum:
            best, best_sum = ident, sums[ident]
        parent = parents[ident]
        if parent >= 0:
            sums[parent] += sums[ident]
    if best < 0:
        return None
    if title:
        best = _at_headline(layout, best, sums, dropped, title)
    best = _narrow_to_body(layout, best, sums, dropped)
    ranges = [(best, layout.ends[best]), *_siblings(layout, best, sums, dropped)]
    body = [
        block
        for block in layout.blocks
        if any(low <= block.element <= high for low, high in ranges)
        and not dropped[block.element]
        and block.link_density < _LINK_LIST
    ]
    return Content(layout.elements[best], body, dropped, layout)


def _at_headline(layout: Layout, best: int, sums: list[float], dropped: list[bool], title: str) -> int:
    """The article next to its headline, when the heaviest element is elsewhere on the page.

    A short article loses the max-sum choice to a longer block of something else: a cookie
    notice, a sign-up form, a sidebar, the next story of an endless scroll. The heading
    that repeats the page's title marks the story: its nearest ancestor with a paragraph's
    worth of net weight is the article's own box. A choice outside that box is replaced by
    the heaviest element inside it.
    """
    key = _headline_key(title)
    parents, ends = layout.parents, layout.ends
    heading = next(
        (
            block.element
            for block in layout.blocks
            if block.tag in _HEADINGS and not dropped[block.element] and _is_headline(block.text, key)
        ),
        -1,
    )
    if heading < 0 or best <= heading <= ends[best]:
        return best
    box = parents[heading]
    while box >= 0 and sums[box] < _SIBLING_WEIGHT:
        box = parents[box]
    if box < 0 or box <= best <= ends[box]:
        return best
    chosen, chosen_sum = box, sums[box]
    for ident in range(box, ends[box] + 1):
        if sums[ident] >= chosen_sum:  # the deepest wins ties, as in the first choice
            chosen, chosen_sum = ident, sums[ident]
    return chosen


def _headline_key(text: str) -> str:
    """Letters and digits only: quotes, dashes and spaces vary between a title and its heading."""
    return _NOT_WORD.sub("", fold(text))


def _is_headline(heading: str, title_key: str) -> bool:
    """The heading is the title, or the title is the heading with the site name before or after."""
    key = _headline_key(heading)
    if key == title_key:
        return True
    return len(key) >= _HEADLINE_MIN_CHARS and (title_key.startswith(key) or title_key.endswith(key))


def _siblings(layout: Layout, best: int, sums: list[float], dropped: list[bool]) -> list[tuple[int, int]]:
    """Sibling elements of the choice that hold prose of their own (a lead, an intro box).

    The maximum-sum choice leaves out a sibling when clutter between them outweighs it;
    a sibling with at least a paragraph's worth of net weight is article text all the same.
    """
    parent = layout.parents[best]
    if parent < 0:
        return []
    found = []
    ident = parent + 1
    last = layout.ends[parent]
    while ident <= last:
        if ident != best and not dropped[ident] and sums[ident] >= _SIBLING_WEIGHT:
            found.append((ident, layout.ends[ident]))
        ident = layout.ends[ident] + 1  # the next child of the parent
    return found


def _narrow_to_body(layout: Layout, best: int, sums: list[float], dropped: list[bool]) -> int:
    """An element inside the choice that its name calls the article body, if it holds enough.

    Teaser grids and tickers can outweigh a short article, pulling the choice up to a common
    ancestor; a descendant named like ``article-body`` / ``entry-content`` (or with
    ``itemprop=articleBody``) that holds a good share of the weight is then the article.
    """
    chosen, chosen_sum = best, 0.0
    floor = _BODY_SHARE * sums[best]
    for ident in range(best, layout.ends[best] + 1):
        named = layout.marks[ident] == BODY and not dropped[ident]
        if named and sums[ident] >= floor and sums[ident] >= chosen_sum:  # later wins ties
            chosen, chosen_sum = ident, sums[ident]
    return chosen


def _mark_cards(layout: Layout) -> None:
    """Mark teaser cards: three or more sibling elements alike (tag and class), each a
    linked headline followed by more text (a summary, a date) - related stories, grids."""
    count = len(layout.tags)
    first = [-1] * count  # index of the first block inside the element
    blocks = [0] * count
    chars = [0] * count
    for index, block in enumerate(layout.blocks):
        owner = block.element
        if first[owner] < 0:
            first[owner] = index
        blocks[owner] += 1
        chars[owner] += block.chars
    parents = layout.parents
    for ident in range(count - 1, 0, -1):
        parent = parents[ident]
        if parent >= 0:
            if first[ident] >= 0 and (first[parent] < 0 or first[ident] < first[parent]):
                first[parent] = first[ident]
            blocks[parent] += blocks[ident]
            chars[parent] += chars[ident]
    groups: dict[tuple[int, str, str], list[int]] = {}
    for ident in range(1, count):
        if blocks[ident] < 2 or first[ident] < 0 or chars[ident] > _CARD_MAX_CHARS:
            continue
        if layout.tags[ident] in _NOT_CARDS:
            continue
        head = layout.blocks[first[ident]]
        if head.link_density < _LINK_LIST or head.chars > _CARD_HEAD_CHARS:
            continue
        key = (parents[ident], layout.tags[ident], layout.elements[ident].get("class") or "")
        groups.setdefault(key, []).append(ident)
    for members in groups.values():
        if len(members) >= _CARDS:
            for ident in members:
                if layout.marks[ident] != BODY:
                    layout.marks[ident] = HARD
