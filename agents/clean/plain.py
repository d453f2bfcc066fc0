"""Plain-text pages: find the article (title, body, its own metadata) among the boilerplate.

Crawled plain-text pages keep the site's furniture: site name, breadcrumbs, photo captions,
"published/updated" lines, promos, and after the story lists of other stories ("أحدث
الأخبار", "اقرأ أيضاً", "Related") with their own headlines, truncated teasers and dates.

The approach, all of it language-general (markers in Arabic, Persian, Urdu, Turkish, English,
German, French, Spanish, Italian and Polish):

1. every line is classified on its own (:func:`classify`): body-like, headline-like,
   metadata, breadcrumb, caption, promo, teaser, dateline/byline, stop marker, short;
2. stop markers cut the page into sections; the article is the first section with a
   real body, which ends at the next stop marker;
3. inside that section the body runs from the first to the last body-like line; the lines
   before it are the article's header: the first headline-like line is the title, the next
   one the subtitle, metadata/dateline/byline lines go to ``header_lines``.

Markers are compared in the folded form of :func:`agents.text.fold` (with the spellings of
``_marker_form`` made equal); output lines keep their original spelling.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from agents import StageError
from agents.text import CharReplacer, arabic_letters, fold, latin_letters, tidy_line, word_count


class Kind(StrEnum):
    BLANK = "blank"
    STOP = "stop"  # start of another section: related stories, "read also", source line
    META = "meta"  # dates, "published on", "updated"
    PROMO = "promo"  # "follow us on the app", "View on site", ads, inline "read also: ..."
    BREADCRUMB = "breadcrumb"
    CAPTION = "caption"
    TEASER = "teaser"  # truncated line ending with an ellipsis
    BYLINE = "byline"  # "City - Name" dateline or "By Name"
    BODY = "body"
    HEADLINE = "headline"
    TEXT = "text"  # other prose: kept inside the body, never a title
    SHORT = "short"  # fewer than three words: site name, menu entry, section heading


@dataclass(frozen=True, slots=True)
class Line:
    text: str
    kind: Kind
    authors: tuple[str, ...] = ()  # the names a byline or dateline gives


@dataclass(slots=True)
class PlainArticle:
    title: str | None
    paragraphs: list[str]
    header_lines: list[str] = field(default_factory=list)
    subtitle: str | None = None
    authors: list[str] = field(default_factory=list)


# --- markers, compared in their marker form (see _marker_form) --------------------------------

# Headings that open another section. Arabic and English first; then the languages of the
# sources that come next (Persian, Urdu, Turkish) and of the other pages Khabar is measured
# on (German, French, Spanish, Italian, Polish). Only headings that are a section's title
# on their own line: labels that also open a story ("Son dakika", breaking news) are not.
_STOP_MARKERS: tuple[str, ...] = (
    "احدث الاخبار",
    "اخر الاخبار",
    "اقرا ايضا",
    "اقرا كذلك",
    "اقرا المزيد",
    "شاهد ايضا",
    "اخبار ذات صله",
    "مواضيع ذات صله",
    "مقالات ذات صله",
    "اخبار متعلقه",
    "قد يهمك ايضا",
    "قد يعجبك ايضا",
    "الاكثر قراءه",
    "الاكثر مشاهده",
    "الاكثر تداولا",
    "المزيد من الاخبار",
    "read more",
    "read also",
    "also read",
    "related",
    "related news",
    "related articles",
    "related stories",
    "related posts",
    "most read",
    "most popular",
    "latest news",
    "latest stories",
    "more stories",
    "more on this story",
    "you may also like",
    "you might also like",
    "see also",
    "recommended",
    # Persian
    "بیشتر بخوانید",
    "همچنین بخوانید",
    "اخبار مرتبط",
    "خبرهای مرتبط",
    "مطالب مرتبط",
    "مطالب پیشنهادی",
    "پربازدیدترین ها",
    "پربازدیدترین اخبار",
    "پربیننده ترین ها",
    "آخرین اخبار",
    "آخرین خبرها",
    "سایر اخبار",
    # Urdu
    "یہ بھی پڑھیں",
    "مزید پڑھیں",
    "متعلقہ خبریں",
    "مزید خبریں",
    "تازہ ترین خبریں",
    "سب سے زیادہ پڑھی جانے والی",
    # Turkish
    "ilgili haberler",
    "benzer haberler",
    "diğer haberler",
    "çok okunanlar",
    "en çok okunanlar",
    "bunlar da ilginizi çekebilir",
    "ilginizi çekebilir",
    "ayrıca okuyun",
    "bunu da okuyun",
    "sıradaki haber",
    # German
    "lesen sie auch",
    "mehr zum thema",
    "weitere artikel",
    "weitere nachrichten",
    "auch interessant",
    "das könnte sie auch interessieren",
    "das könnte dich auch interessieren",
    "meistgelesen",
    "ähnliche artikel",
    # French
    "lire aussi",
    "à lire aussi",
    "voir aussi",
    "sur le même sujet",
    "vous aimerez aussi",
    "les plus lus",
    "articles similaires",
    # Spanish
    "lee también",
    "te puede interesar",
    "noticias relacionadas",
    "artículos relacionados",
    "lo más leído",
    # Italian
    "leggi anche",
    "articoli correlati",
    "i più letti",
    # Polish
    "czytaj także",
    "czytaj też",
    "zobacz także",
    "zobacz też",
    "przeczytaj także",
    "przeczytaj też",
    "najczęściej czytane",
    "podobne artykuły",
)
# Inline "read also: <headline>" lines (a link to another story, dropped; not a section).
_READ_ALSO: tuple[str, ...] = (
    "اقرا ايضا", "اقرا كذلك", "شاهد ايضا", "read more", "read also", "also read",
    "بیشتر بخوانید", "همچنین بخوانید", "یہ بھی پڑھیں", "ayrıca okuyun", "bunu da okuyun",
    "lesen sie auch", "lire aussi", "à lire aussi", "lee también", "leggi anche",
    "czytaj także", "czytaj też", "zobacz także", "zobacz też",
)  # fmt: skip

# A folded line (agents.text.fold) as the markers are compared: the spellings one language
# writes two ways made equal. Persian and Urdu yeh and kaf typed as the Arabic letters; the
# zero-width non-joiner or a space inside a word ("پربازدیدترین‌ها"); Turkish capitals
# ("İLGİLİ", "SIRADAKİ"), whose case folding keeps a combining dot, and the dotless ı, which
# folds to i only from a capital.
_marker_form = CharReplacer({"ی": "ي", "ک": "ك", "\u200c": " ", "\u0307": "", "ı": "i"})

_MARKER_SET = frozenset(_marker_form(fold(marker)) for marker in _STOP_MARKERS)
_LONGEST_MARKER = max(marker.count(" ") + 1 for marker in _MARKER_SET)
_SOURCE_LINE = re.compile(r"^(?:المصدر|المصادر|source|sources)\s*:")
_READ_ALSO_LINK = re.compile(
    "^(?:" + "|".join(re.escape(_marker_form(fold(marker))) for marker in _READ_ALSO) + r")\s*:\s*\S"
)
_PROMO = re.compile(
    r"احدث الاخبار|عبر تطبيق|تابعونا|حمل تطبيق|انضم الي قناه|اشترك في|"
    r"follow us|subscribe to|download (?:the|our) app|sign up for|"
    r"^(?:اعلان|advertisement|sponsored|share|شارك|مشاركه|view on \S+|click here)$"
)
_META_LABEL = re.compile(
    r"^(?:تاريخ النشر|تاريخ التحديث|نشر في|نشر بتاريخ|تم النشر|نشر|اخر تحديث|تحديث|"
    r"published(?: on| at)?|updated(?: on| at)?|last updated|first published|posted(?: on| at)?|"
    r"date)\b"
)
_NUMERIC_DATE = re.compile(r"\b\d{1,4}[/.\-]\d{1,2}[/.\-]\d{1,4}\b")
_TIME = re.compile(r"\b\d{1,2}:\d{2}\b")
_YEAR = re.compile(r"\b(?:1[89]|20)\d{2}\b")
_MONTH = re.compile(
    r"\b(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?|"
    r"يناير|فبراير|مارس|ابريل|مايو|يونيو|يوليو|اغسطس|سبتمبر|اكتوبر|نوفمبر|ديسمبر|"
    r"كانون|شباط|اذار|نيسان|ايار|حزيران|تموز|اب|ايلول|تشرين|"
    r"جانفي|فيفري|افريل|ماي|جوان|جويليه|اوت|يوليوز|غشت|شتنبر|نونبر|دجنبر)\b"
)
_BREADCRUMB_SEPARATORS = re.compile(r"\s*(?:»|›|\s>\s|\|)\s*")
_BREADCRUMB_HOME = re.compile(r"^(?:الرئيسيه|home)\b")
_CAPTION_START = re.compile(r"^(?:صوره|الصوره|photo|image|file photo|pictured|caption)\b")
_CAPTION_CREDIT = re.compile(r"\(\s*([^()]{2,40}?)\s*\)$")
_CREDITS: frozenset[str] = frozenset(
    {
        "الفرنسيه",
        "ا ف ب",
        "اف ب",
        "رويترز",
        "الاناضول",
        "الاوروبيه",
        "اسوشيتد برس",
        "ا ب",
        "الجزيره",
        "وكالات",
        "ارشيفيه",
        "ارشيف",
        "مواقع التواصل",
        "مواقع التواصل الاجتماعي",
        "afp",
        "reuters",
        "ap",
        "epa",
        "getty",
        "getty images",
        "anadolu",
        "shutterstock",
        "file",
        "archive",
        "social media",
    }
)
_CAPTION_MENTION = re.compile(
    r"\(photo(?:graph)? by|getty images|/afp\b|\b(?:photo|photograph|image|credit):"
)
_BYLINE = re.compile(r"^(?:بقلم|كتبت?|إعداد|اعداد|تحرير|نویسنده|به\s?قلم)\s*:?\s+(\S.*)$")
# the word that opens a byline in the Latin-script languages of our sources and eval pages,
# before the names: "By Jane Doe", "VON MAX MUSTER", "Par ...", "Autor: ...", "Yazar: ..."
BYLINE_LEAD = re.compile(
    r"^(?:by|von|par|por|di|autor(?:in)?|auteur|author|written by|yazar)\b\s*:?\s*", re.IGNORECASE
)
_NAME_JOINER = re.compile(r"\s*(?:,|&|\b(?:and|und|et|y|e|ve|i)\b)\s*")
_NAME_PARTICLES = frozenset(
    {"van", "von", "der", "den", "de", "da", "di", "del", "du", "la", "le", "al", "el", "bin", "ibn"}
)
_BYLINE_MAX_WORDS = 8
_ARABIC_BYLINE_MAX_WORDS = 6
_NAME = r"[^\s\-–—:،,.\d()]+"
_DATELINE = re.compile(rf"^{_NAME}(?: {_NAME})?\s+[-–—]\s+({_NAME}(?: {_NAME}){{1,3}})$")
_CLOSERS = "\"'”’»)]›"
_ELLIPSIS = ("…", "..")
_TITLE_SUFFIX = re.compile(r"\s+[|\-–—]\s+([^|\-–—]{1,40})$")

# --- thresholds ----------------------------------------------------------------------------

_BODY_LONG_WORDS = 25  # a line this long is body even without final punctuation

_HEADLINE_MIN_WORDS = 3  # fewer words: a site name, menu entry or section heading
_BODY_MIN_WORDS = 8  # ... when the line ends a sentence
_META_MAX_WORDS = 12
_PROMO_MAX_WORDS = 12
_CAPTION_MAX_WORDS = 30
_TEASER_MAX_WORDS = 30
_STOP_EXTRA_WORDS = 1  # "الأخبار الأكثر قراءة" is "الأكثر قراءة" plus one word
_SOURCE_MAX_WORDS = 10
_MARKER_MAX_WORDS = 8
_SECTION_MIN_BODY_LINES = 2
_SECTION_MIN_BODY_CHARS = 300
_PARAGRAPH_KINDS = frozenset({Kind.BODY, Kind.HEADLINE, Kind.TEXT})


def extract(text: str) -> PlainArticle:
    """The article in a plain-text page. Raises StageError("no_content") without a body."""
    raw_lines = [tidy_line(line) for line in text.splitlines()]
    arabic_page = arabic_letters(text) > latin_letters(text)
    lines = [classify(line, arabic_page=arabic_page) for line in unwrap(raw_lines)]
    sections = split_sections(lines)
    chosen = choose_section(sections)
    if chosen is None:
        raise StageError("clean", "no_content", "no body paragraph found in the page")
    section, after_stop = sections[chosen]
    kinds = [line.kind for line in section]
    start = kinds.index(Kind.BODY)
    end = len(kinds) - 1 - kinds[::-1].index(Kind.BODY)
    header = header_zone(section[:start], after_stop=after_stop)
    body = section[start : end + 1]
    headlines = [line.text for line in header if line.kind is Kind.HEADLINE]
    return PlainArticle(
        title=strip_title_suffix(headlines[0]) if headlines else None,
        subtitle=headlines[1] if len(headlines) > 1 else None,
        paragraphs=[line.text for line in body if line.kind in _PARAGRAPH_KINDS],
        header_lines=header_lines(header, body, section[end + 1 :]),
        authors=[name for line in header for name in line.authors],
    )


# --- lines ---------------------------------------------------------------------------------


def unwrap(lines: list[str]) -> list[str]:
    """Join hard-wrapped lines (text wrapped at a fixed width) back into paragraphs.

    Only for pages that look wrapped: no line much longer than the wrap width, and many
    lines close to it. A line is joined to the next when it reaches about that width.
    """
    lengths = sorted(len(line) for line in lines if line)
    if len(lengths) < 5 or lengths[-1] > 100:
        return lines
    width = lengths[-1]
    if sum(length >= 0.8 * width for length in lengths) < 0.3 * len(lengths):
        return lines
    paragraphs: list[list[str]] = []  # lists joined once at the end: joining as we go is quadratic
    carry = False
    for line in lines:
        if carry and line:
            paragraphs[-1].append(line)
        else:
            paragraphs.append([line])
        carry = bool(line) and len(line) >= 0.6 * width and not _ends_sentence(line)
    return [" ".join(parts) for parts in paragraphs]


def classify(text: str, *, arabic_page: bool) -> Line:
    """What one line of a page is. The order of the checks matters: most specific first."""
    if not text:
        return Line(text, Kind.BLANK)
    folded = fold(text)
    words = word_count(text)
    if _is_stop(folded, words):
        return Line(text, Kind.STOP)
    if _is_meta(folded, words):
        return Line(text, Kind.META)
    if _is_promo(folded, words):
        return Line(text, Kind.PROMO)
    if _is_breadcrumb(text, folded, words):
        return Line(text, Kind.BREADCRUMB)
    if _is_caption(text, folded, words, arabic_page=arabic_page):
        return Line(text, Kind.CAPTION)
    if text.endswith(_ELLIPSIS) and words <= _TEASER_MAX_WORDS:
        return Line(text, Kind.TEASER)
    authors = _authors(text, words)
    if authors:
        return Line(text, Kind.BYLINE, authors)
    return Line(text, _shape(text, words))


def _shape(text: str, words: int) -> Kind:
    """Body, headline, other text or short, from length and punctuation alone."""
    if words >= _BODY_LONG_WORDS or (words >= _BODY_MIN_WORDS and _ends_sentence(text)):
        return Kind.BODY
    trimmed = text.rstrip(_CLOSERS + " ")
    if words < _HEADLINE_MIN_WORDS:
        return Kind.TEXT if trimmed.endswith(":") else Kind.SHORT
    if trimmed.endswith((".", ":", "،", ",", ";")):
        return Kind.TEXT
    return Kind.HEADLINE


def _ends_sentence(text: str) -> bool:
    return text.rstrip(_CLOSERS + " ").endswith((".", "!", "?", "؟"))


def _is_stop(folded: str, words: int) -> bool:
    if _SOURCE_LINE.match(folded):
        return words <= _SOURCE_MAX_WORDS
    return _is_marker(folded, words)


def is_section_marker(text: str) -> bool:
    """A heading that opens another section: "Related", "Most read", "أخبار ذات صلة" ..."""
    words = word_count(text)
    return words <= _MARKER_MAX_WORDS and _is_marker(fold(text), words)


def _is_marker(folded: str, words: int) -> bool:
    if words > _LONGEST_MARKER + _STOP_EXTRA_WORDS:
        return False
    core = _marker_form(folded).strip(" :：-–—|»›•*#.")
    if core in _MARKER_SET:
        return True
    # "الأخبار الأكثر قراءة" is "الأكثر قراءة" after one more word
    for index, char in enumerate(core):
        if char == " ":
            marker = core[index + 1 :]
            if marker in _MARKER_SET and words <= marker.count(" ") + 1 + _STOP_EXTRA_WORDS:
                return True
    return False


def _is_meta(folded: str, words: int) -> bool:
    if words > _META_MAX_WORDS or not any(ch.isdigit() for ch in folded):
        return False
    if _META_LABEL.match(folded):
        return True
    dated = bool(_NUMERIC_DATE.search(folded)) or bool(_MONTH.search(folded) and _YEAR.search(folded))
    return (dated or bool(_TIME.search(folded))) and words <= _META_MAX_WORDS // 2 + 2


def _is_promo(folded: str, words: int) -> bool:
    if _READ_ALSO_LINK.match(_marker_form(folded)):
        return True
    return words <= _PROMO_MAX_WORDS and bool(_PROMO.search(folded))


def _is_breadcrumb(text: str, folded: str, words: int) -> bool:
    if words > 15:
        return False
    parts = [part for part in _BREADCRUMB_SEPARATORS.split(text) if part]
    if len(parts) < 2:
        return False
    if "|" in text and ("»" not in text and "›" not in text) and len(parts) == 2:
        # "Headline | Site" is a title with a suffix, "News | World" a breadcrumb
        return word_count(parts[0]) < 4 or bool(_BREADCRUMB_HOME.match(folded))
    return all(word_count(part) <= 6 for part in parts)


def _is_caption(text: str, folded: str, words: int, *, arabic_page: bool) -> bool:
    if _CAPTION_START.match(folded) and words <= 40 and (words <= 12 or not _ends_sentence(text)):
        return True
    credit = _CAPTION_CREDIT.search(folded)
    if credit and words <= _CAPTION_MAX_WORDS:
        inner = credit.group(1)
        if inner in _CREDITS or "صوره" in inner or "photo" in inner:
            return True
    if _CAPTION_MENTION.search(folded):
        return True
    if not arabic_page:
        return False
    latin = latin_letters(text)
    return latin >= 20 and latin > 2 * arabic_letters(text)


def _authors(text: str, words: int) -> tuple[str, ...]:
    """The names in a byline ("By Jane Doe", "بقلم: ...") or dateline ("أنقرة - جلال فواز")."""
    names = byline_names(text)
    if names:
        return tuple(names)
    match = _DATELINE.match(text) if words <= 6 else None
    return (match.group(1).strip(),) if match else ()


def byline_names(text: str) -> list[str]:
    """The names a byline line gives ("Von Max Muster und Erika Muster": both), or none when
    the line is no byline. In Latin script every word of a name is capitalized (or a particle
    such as "van"), so "By the way" or "Von Montag bis Freitag" is none."""
    length = len(text.split())
    match = _BYLINE.match(text)
    if match:  # (a longer line that opens with "كتب", "wrote", is a sentence)
        return [match.group(1).strip()] if length <= _ARABIC_BYLINE_MAX_WORDS else []
    if length > _BYLINE_MAX_WORDS:
        return []
    lead = BYLINE_LEAD.match(text)
    if lead is None:
        return []
    names = names_in(text[lead.end() :].rstrip("."))
    if len(names) == 1 and len(names[0].split()) == 1 and text[:2].lower() != "by":
        return []  # "Von Berlin", "Par Avion": one word after a lead other than "By" is no name
    return names


def names_in(text: str) -> list[str]:
    """The names ``text`` lists ("Max Muster und Erika Muster"), or none when a word of one is
    not capitalized (nor a particle such as "van")."""
    names = [name for name in _NAME_JOINER.split(text) if name]
    for name in names:
        words = name.split()
        capitals = [word for word in words if word[0].isupper()]
        if not capitals or len(capitals) + sum(word in _NAME_PARTICLES for word in words) < len(words):
            return []
    return names


# --- sections ------------------------------------------------------------------------------


def split_sections(lines: list[Line]) -> list[tuple[list[Line], bool]]:
    """Lines between stop markers, each with whether a stop marker precedes it."""
    sections: list[tuple[list[Line], bool]] = [([], False)]
    for line in lines:
        if line.kind is Kind.STOP:
            sections.append(([], True))
        elif line.kind is not Kind.BLANK:
            sections[-1][0].append(line)
    return sections


def choose_section(sections: list[tuple[list[Line], bool]]) -> int | None:
    """The first section with a real body, else the one with the most body text."""
    scores: list[tuple[int, int]] = []
    for index, (section, _) in enumerate(sections):
        body = [line.text for line in section if line.kind is Kind.BODY]
        chars = sum(len(text) for text in body)
        if len(body) >= _SECTION_MIN_BODY_LINES or chars >= _SECTION_MIN_BODY_CHARS:
            return index
        scores.append((chars, -index))
    best_chars, best_index = max(scores)
    return -best_index if best_chars else None


def header_zone(lines: list[Line], *, after_stop: bool) -> list[Line]:
    """The lines before the body that can belong to this article.

    When the section follows a stop marker, the start of it may still be the previous
    teaser list: keep only what comes after its last truncated teaser.
    """
    if after_stop:
        teasers = [i for i, line in enumerate(lines) if line.kind is Kind.TEASER]
        if teasers:
            return lines[teasers[-1] + 1 :]
    return lines


def header_lines(header: list[Line], body: list[Line], after: list[Line]) -> list[str]:
    """Metadata of this article: header metadata and bylines, labelled dates further down.

    Unlabelled dates after the body are left out: they may head a list of other stories.
    """
    lines = [line.text for line in header if line.kind in (Kind.META, Kind.BYLINE)]
    lines += [line.text for line in body if line.kind is Kind.META]
    lines += [line.text for line in after if line.kind is Kind.META and _META_LABEL.match(fold(line.text))]
    return lines


def strip_title_suffix(title: str, site: str | None = None) -> str:
    """Drop a trailing site name: "Headline | Site", "Headline - Site" (site known or short)."""
    if site:
        for separator in (" | ", " - ", " – ", " — ", " :: ", " · "):
            suffix = separator + site
            if title.endswith(suffix) and len(title) > len(suffix):
                return title[: -len(suffix)].strip()
    match = _TITLE_SUFFIX.search(title)
    if not match:
        return title
    head = title[: match.start()]
    separator = title[match.start() : match.start(1)].strip()
    suffix = match.group(1)
    if word_count(head) < 3 or word_count(suffix) > 4:
        return title
    if separator == "|" or "." in suffix:  # "| Site" or "- Example.com"
        return head.strip()
    return title
