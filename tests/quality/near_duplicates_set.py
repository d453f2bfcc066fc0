"""The labelled near-duplicate set: syndicated copies of real articles, and hard negatives.

Build (or rebuild) the gold files from the repository root::

    uv run python -m tests.quality.near_duplicates_set            # writes gold/near_duplicates*.jsonl
    uv run python -m tests.quality.near_duplicates_set --freeze-pages   # re-extract the page bodies

The evaluation (:mod:`tests.quality.near_duplicates`) rebuilds the set with :func:`build` and
checks it against ``gold/near_duplicates_docs.jsonl`` (one line per document: id, story group,
site, edits, sha256 of the text) and ``gold/near_duplicates.jsonl`` (one line per labelled pair).
Everything is deterministic: every random choice comes from ``random.Random`` seeded with a
string made of :data:`SEED` and the ids involved, so adding a source does not move the others.

Sources (nothing machine-written)
---------------------------------
* Real Arabic-script articles, 21 (17 Arabic, 4 Persian): the five plain-text seeds (gold body paragraphs of
  ``gold/seeds_extraction.json``); the two full gold bodies of ``shared/eval/arabic-pages``
  (LBC, CNN Arabic); the bodies of the other 12 pages there (8 Arabic, 3 Persian htmldate
  pages and the assabah.com.tn page), extracted once by Khabar's clean stage and frozen in
  ``gold/near_duplicates_texts.jsonl`` (kind ``page``; see :func:`freeze_pages`); the
  Arabic and Persian langid.py documents of ``shared/eval/langid`` (Wikipedia, about 450
  words each).
* Real English articles: the gold bodies of the scrapinghub article-extraction benchmark
  that are English and at least 40 words (159 of 181).
* Hand-written texts (``gold/near_duplicates_texts.jsonl``, written for this set): English
  versions of 8 Arabic articles and Arabic versions of 3 English ones (translations), and 8
  Arabic follow-up stories on the events of 8 Arabic articles.
* Short briefs: 8 Arabic templates of daily news briefs (earthquake, exchange rates, weather,
  gold prices, a football result, a daily COVID count, a road accident, the stock market),
  written for this set (:data:`BRIEFS`), each filled 6 times with drawn places, names and
  figures, every brief differing from the others in its day and main figures
  (:data:`BRIEF_KEYS`): 6 different articles that read almost alike.

Documents
---------
Every source is published as it is (its *original*, site ``source``) and, by syndication, on
fictional sites (:data:`SITES`), each with its own template: a dateline ("القاهرة - (رويترز) -",
"CAIRO (Reuters) -"), a wire credit ("(إعداد ... للنشرة العربية - تحرير ...)"), and lines that
extraction leaks on that site ("تابعونا على ...", "اقرأ أيضا: ...", a copyright line, Persian
"انتهای پیام/"); some sites add nothing. Before the template, :func:`syndicate` applies
content edits, each drawn independently (probabilities in :data:`EDIT_PROBABILITY`; at least
one per copy):

* ``truncate``: the last paragraphs cut, at most 20% of the words (3+ paragraphs);
* ``cut``: one sentence or short paragraph after the first removed, at most 15% of the words;
* ``add``: one sentence added (a background/closing line from :data:`ADDED_SENTENCES`);
* ``reword``: 1-4 words replaced by a synonym or another house spelling (قال->أكد,
  الأمريكي->الأميركي, ترمب->ترامب, فيروس->فايروس; said->stated, U.S.->US, percent->per cent);
* ``resplit``: two paragraphs merged or one split;
* ``orthography`` (Arabic script): 5-25% of the words get diacritics, tatweel, a hamza dropped,
  final ya/alef maqsura or ta marbuta/ha swapped (Persian: ZWNJ written as a space);
* ``digits``: ASCII digits written as Arabic-Indic (Persian: Persian) digits;
* ``typography`` (English): straight/curly quotes and dashes swapped;
* ``lead``: a title or kicker line ("عاجل", "Breaking News") put above the body.

Each Arabic-script source gets 4 copies on 4 sites, each English source 1 copy; each brief is
published on its template's home site, and briefs 0 and 1 of each template once more on
another site.

Labelled pairs (positives: the two documents are copies of one story)
---------------------------------------------------------------------
* ``copy/original``: an Arabic-script original and each of its 4 copies (84); a brief and
  its syndicated copy (16); English originals and their copy (108: a seeded sample, to
  reach 250);
* ``copy/copy``: two syndicated copies of one Arabic-script story (2 per story, 42): both
  edited, so further apart than either is from the original.

Hard negatives (different articles)
-----------------------------------
* ``same template``: copies of two different stories on the same site (same dateline style,
  credit and leaked lines), drawn among documents of at most 400 words, where the shared
  boilerplate weighs most (60 Arabic-script, 30 English);
* ``same event``: real coverage of one event by different outlets in the benchmark (WeWork,
  the bubonic plague cases, the "duvet lung" case, Stadia's launch, ...), every pair of a
  hand-made cluster list (:data:`SAME_EVENT`, 56 pairs), and real Arabic articles on one
  topic (:data:`SAME_TOPIC`, 8: Turkey-Syria talks, COVID counts in Egypt and the US);
* ``follow-up``: a hand-written follow-up on the same event (shared names, one sentence or
  quote repeated verbatim, as wire follow-ups do), published on the site of the first copy,
  against the original and the first two copies (24);
* ``translation``: an English and an Arabic version of one story (shared names, numbers in
  Latin script), against the original and its first copies (30);
* ``short brief``: two briefs of the same template (same home site), 6 pairs per template
  (48).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import itertools
import json
import random
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
GOLD = HERE / "gold"
TEXTS = GOLD / "near_duplicates_texts.jsonl"
DOCS_FILE = GOLD / "near_duplicates_docs.jsonl"
PAIRS_FILE = GOLD / "near_duplicates.jsonl"
SEED_GOLD = GOLD / "seeds_extraction.json"
SHARED = HERE.parents[2] / "shared"
EVAL = SHARED / "eval"
SEED = "khabar-near-duplicates-1"

POSITIVES = 250
SAME_TEMPLATE_ARABIC = 60
SAME_TEMPLATE_ENGLISH = 30
SAME_TEMPLATE_MAX_WORDS = 400
BRIEF_INSTANCES = 6
BRIEF_PAIRS_PER_TEMPLATE = 6
ARABIC_COPIES = 4


# -- data types ---------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Source:
    id: str
    lang: str  # "ar", "fa" or "en"
    origin: str  # where the text comes from
    paragraphs: tuple[str, ...]
    title: str | None = None


@dataclass(frozen=True, slots=True)
class Document:
    id: str
    group: str  # the story: an original and its copies share it
    site: str
    lang: str
    text: str
    origin: str
    edits: tuple[str, ...] = ()

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Pair:
    a: str
    b: str
    duplicate: bool
    kind: str


@dataclass(frozen=True, slots=True)
class LabelledSet:
    documents: tuple[Document, ...]
    pairs: tuple[Pair, ...]

    def by_id(self) -> dict[str, Document]:
        return {doc.id: doc for doc in self.documents}


@dataclass(frozen=True, slots=True)
class Site:
    name: str
    lang: str  # "ar", "fa", "en"
    dateline: tuple[str, ...] = ()  # formats with {city}; one is drawn per document
    credit: tuple[str, ...] = ()  # formats with {editor}, {editor2}; one drawn per document
    header: tuple[str, ...] = ()  # lines leaked above the body
    footer: tuple[str, ...] = ()  # lines leaked below the body
    related: tuple[str, ...] = ()  # "read also" lines; one drawn per document


def _rng(*parts: str) -> random.Random:
    return random.Random(":".join((SEED, *parts)))


# -- sites ----------------------------------------------------------------------------------
_AR_RELATED = (
    "اقرأ أيضا: ارتفاع أسعار النفط مع تراجع المخزونات الأمريكية",
    "اقرأ أيضا: الأمم المتحدة تحذر من أزمة غذاء في شرق أفريقيا",
    "اقرأ أيضا: انطلاق معرض الكتاب بمشاركة 40 دولة",
)
_EN_RELATED = (
    "Read more: Oil prices climb as U.S. stockpiles fall",
    "Read more: UN warns of food crisis in East Africa",
    "Read more: Book fair opens with 40 countries taking part",
)

SITES: tuple[Site, ...] = (
    Site(
        "wakala-news",
        "ar",
        dateline=("{city} - (رويترز) -", "{city} (رويترز) -"),
        credit=("(إعداد {editor} للنشرة العربية - تحرير {editor2})",),
    ),
    Site(
        "al-yawm-online",
        "ar",
        dateline=("{city} - «اليوم»:",),
        footer=("تابعونا على فيسبوك وتويتر وإنستغرام لمتابعة آخر الأخبار لحظة بلحظة",),
    ),
    Site(
        "sawt-al-balad",
        "ar",
        header=("الرئيسية » أخبار عربية ودولية",),
        footer=("جميع الحقوق محفوظة لموقع صوت البلد ©",),
    ),
    Site(
        "al-khabar-24", "ar", dateline=("{city} - أ ف ب:", "{city} – (أ ف ب) -"), credit=("المصدر: وكالات",)
    ),
    Site("nabd-al-sharq", "ar", dateline=("{city} (الأناضول)", "{city} - الأناضول"), related=_AR_RELATED),
    Site(
        "al-masdar",
        "ar",
        credit=("(د ب أ)",),
        footer=("للاشتراك في خدمة الأخبار العاجلة أرسل كلمة خبر إلى الرقم 1212",),
    ),
    Site("bawabat-al-madina", "ar", dateline=("{city} - متابعات", "{city} - خاص")),
    Site("akhbar-al-khaleej", "ar", footer=("حمّل تطبيق الموقع على أندرويد وآيفون لتصلك الأخبار أولا بأول",)),
    Site("khabar-fori", "fa", dateline=("{city} - ایرنا -",), footer=("انتهای پیام/",)),
    Site("ruydad-emruz", "fa", footer=("کانال تلگرام ما را دنبال کنید",)),
    Site("akhbar-rooz", "fa", credit=("منبع: ایسنا",)),
    Site("sedaye-shahr", "fa", header=("صفحه نخست » سیاسی",), footer=("/ انتهای خبر",)),
    Site(
        "daily-wire-en",
        "en",
        dateline=("{CITY} (Reuters) -", "{City} (Reuters) -"),
        credit=("(Reporting by {editor}; Editing by {editor2})",),
    ),
    Site(
        "metro-herald",
        "en",
        dateline=("{CITY} (AP) —",),
        footer=(
            "Copyright 2019 The Associated Press. All rights reserved. This material may not be "
            "published, broadcast, rewritten or redistributed.",
        ),
    ),
    Site(
        "the-courier",
        "en",
        header=("Home > News > World",),
        footer=("Sign up for our daily newsletter to get the top stories delivered to your inbox.",),
    ),
    Site("global-times-online", "en", dateline=("{City} (AFP) -",)),
    Site(
        "news-now",
        "en",
        footer=("Follow us on Twitter and Facebook for the latest updates.",),
        related=_EN_RELATED,
    ),
    Site("valley-post", "en", credit=("— Staff and wire reports",)),
    Site("city-gazette", "en"),
)

_CITIES_AR = (
    "القاهرة",
    "بيروت",
    "دمشق",
    "عمان",
    "الرياض",
    "دبي",
    "أنقرة",
    "إسطنبول",
    "بغداد",
    "الدوحة",
    "تونس",
    "الرباط",
    "واشنطن",
    "باريس",
    "لندن",
    "موسكو",
)
_CITIES_FA = ("تهران", "مشهد", "اصفهان", "تبریز", "شیراز")
_CITIES_EN = ("Washington", "New York", "London", "Paris", "Cairo", "Beijing", "San Francisco", "Chicago")
_EDITORS = {
    "ar": ("محمد عبد اللاه", "سها جادو", "أحمد إلهامي", "نادية الجويلي", "علي خفاجي", "ليليان وجدي"),
    "fa": ("", ""),
    "en": ("Jane Smith", "Omar Fahmy", "Laura Chen", "David Miller", "Sara Ahmed", "Tom Brown"),
}
_KICKERS = {
    "ar": ("عاجل", "خاص", "متابعات", "أخبار عربية ودولية"),
    "fa": ("فوری", "اخبار سیاسی", "گزارش"),
    "en": ("Breaking News", "World News", "EXCLUSIVE", "Top Stories"),
}
ADDED_SENTENCES = {
    "ar": (
        "ولم يتسن الحصول على تعليق فوري من الجهات المعنية.",
        "ويأتي ذلك في وقت تشهد فيه المنطقة تطورات متسارعة على أكثر من صعيد.",
        "ومن المتوقع أن تتضح تفاصيل إضافية خلال الأيام المقبلة.",
        "وتتابع وسائل الإعلام المحلية تطورات القضية عن كثب.",
        "ولم تعلق الحكومة رسميا على هذه التصريحات حتى ساعة إعداد هذا الخبر.",
        "وكانت القضية قد أثارت جدلا واسعا خلال الأسابيع الماضية.",
    ),
    "fa": (
        "هنوز واکنش رسمی به این موضوع منتشر نشده است.",
        "جزئیات بیشتر در روزهای آینده اعلام خواهد شد.",
        "این موضوع در هفته‌های گذشته بحث‌های زیادی به دنبال داشته است.",
    ),
    "en": (
        "No immediate comment was available from the officials involved.",
        "More details are expected to emerge in the coming days.",
        "The case has drawn wide attention in recent weeks.",
        "Officials did not respond to requests for comment by the time of publication.",
        "Local media have been following the story closely.",
    ),
}
# Light rewording: a synonym or another house spelling, word for word (also with a "و" prefix).
REWORDINGS = {
    "ar": {
        "قال": "أكد",
        "أكد": "شدد",
        "أوضح": "بيّن",
        "أشار": "لفت",
        "أضاف": "تابع",
        "الأمريكي": "الأميركي",
        "الأمريكية": "الأميركية",
        "خلال": "أثناء",
        "بسبب": "جراء",
        "حوالي": "نحو",
        "نحو": "قرابة",
        "لكن": "غير أن",
        "أيضا": "كذلك",
        "بعد": "عقب",
        "الماضي": "المنصرم",
        "المقبل": "القادم",
        "ترمب": "ترامب",
        "فيروس": "فايروس",
        "البنتاغون": "البنتاجون",
        "مؤخرا": "في الآونة الأخيرة",
        "إن": "أن",
    },
    "fa": {
        "گفت": "اظهار داشت",
        "افزود": "ادامه داد",
        "همچنین": "نیز",
        "اعلام": "اعلان",
        "اما": "ولی",
        "بیش": "افزون",
    },
    "en": {
        "said": "stated",
        "says": "states",
        "about": "around",
        "percent": "per cent",
        "U.S.": "US",
        "however": "but",
        "nearly": "almost",
        "also": "further",
        "people": "persons",
        "after": "following",
        "big": "large",
        "Monday": "on Monday",
    },
}

EDIT_PROBABILITY = {
    "truncate": 0.15,
    "cut": 0.35,
    "add": 0.25,
    "reword": 0.4,
    "resplit": 0.3,
    "orthography": 0.5,
    "digits": 0.25,
    "typography": 0.4,
    "lead": 0.3,
}
_EDITS_FOR = {
    "ar": ("truncate", "cut", "add", "reword", "resplit", "orthography", "digits", "lead"),
    "fa": ("truncate", "cut", "add", "reword", "resplit", "orthography", "digits", "lead"),
    "en": ("truncate", "cut", "add", "reword", "resplit", "typography", "lead"),
}

# -- text edits -------------------------------------------------------------------------------
_SENTENCE_END = re.compile(r"(?<=[.!?؟])\s+")
_DIACRITICS = "\u064e\u064f\u0650\u0652\u0651\u064b\u064c\u064d"
_NON_JOINING = set("اأإآدذرزوؤةىء")
_ARABIC_LETTER = re.compile("[\u0621-\u064a]")
_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
_PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


def _words(paragraphs: Sequence[str]) -> int:
    return sum(len(p.split()) for p in paragraphs)


def _sentences(paragraph: str) -> list[str]:
    return [s for s in _SENTENCE_END.split(paragraph) if s.strip()]


def truncate(paragraphs: list[str], rng: random.Random) -> bool:
    """Drop the last paragraphs, at most 20% of the words, keeping two or more."""
    total = _words(paragraphs)
    if len(paragraphs) < 3:
        return False
    drop = 0
    limit = rng.uniform(0.08, 0.2) * total
    while len(paragraphs) - drop > 2 and _words(paragraphs[len(paragraphs) - drop - 1 :]) <= limit:
        drop += 1
    if drop == 0:
        return False
    del paragraphs[len(paragraphs) - drop :]
    return True


def cut(paragraphs: list[str], rng: random.Random) -> bool:
    """Remove one sentence (or a one-sentence paragraph) after the first paragraph."""
    limit = 0.15 * _words(paragraphs)
    options = [
        (i, j)
        for i in range(1, len(paragraphs))
        for j, sentence in enumerate(_sentences(paragraphs[i]))
        if len(sentence.split()) <= limit
    ]
    if not options:
        return False
    i, j = rng.choice(options)
    sentences = _sentences(paragraphs[i])
    del sentences[j]
    if sentences:
        paragraphs[i] = " ".join(sentences)
    else:
        del paragraphs[i]
    return True


def add(paragraphs: list[str], rng: random.Random, lang: str) -> bool:
    sentence = rng.choice(ADDED_SENTENCES[lang])
    if rng.random() < 0.5 or len(paragraphs) < 2:
        paragraphs.append(sentence)
    else:
        i = rng.randrange(1, len(paragraphs))
        paragraphs[i] = f"{paragraphs[i]} {sentence}"
    return True


def reword(paragraphs: list[str], rng: random.Random, lang: str) -> bool:
    table = REWORDINGS[lang]
    places: list[tuple[int, int, str]] = []
    for i, paragraph in enumerate(paragraphs):
        for k, word in enumerate(paragraph.split(" ")):
            bare = word.strip('،,.;:!?؟«»"“”()')
            if bare in table or (lang == "ar" and bare.startswith("و") and bare[1:] in table):
                places.append((i, k, bare))
    if not places:
        return False
    wanted = rng.randint(1, max(1, min(4, _words(paragraphs) // 80)))
    for i, k, bare in sorted(rng.sample(places, min(wanted, len(places)))):
        words = paragraphs[i].split(" ")
        replacement = table[bare] if bare in table else "و" + table[bare[1:]]
        words[k] = words[k].replace(bare, replacement, 1)
        paragraphs[i] = " ".join(words)
    return True


def resplit(paragraphs: list[str], rng: random.Random) -> bool:
    splittable = [i for i, p in enumerate(paragraphs) if len(_sentences(p)) >= 2]
    if len(paragraphs) >= 2 and (not splittable or rng.random() < 0.5):
        i = rng.randrange(len(paragraphs) - 1)
        paragraphs[i : i + 2] = [f"{paragraphs[i]} {paragraphs[i + 1]}"]
        return True
    if not splittable:
        return False
    i = rng.choice(splittable)
    sentences = _sentences(paragraphs[i])
    at = rng.randrange(1, len(sentences))
    paragraphs[i : i + 1] = [" ".join(sentences[:at]), " ".join(sentences[at:])]
    return True


def _arabic_variant(word: str, rng: random.Random) -> str:
    """One spelling variant that normalization must fold back."""
    letters = [i for i, ch in enumerate(word) if _ARABIC_LETTER.match(ch)]
    if not letters:
        return word
    options: list[Callable[[], str]] = []

    def diacritics() -> str:
        chars = list(word)
        for i in sorted(rng.sample(letters, min(len(letters), rng.randint(1, 3))), reverse=True):
            chars.insert(i + 1, rng.choice(_DIACRITICS))
        return "".join(chars)

    options.append(diacritics)
    joining = [i for i in letters[:-1] if word[i] not in _NON_JOINING and i + 1 in letters]
    if joining:
        at = rng.choice(joining)
        options.append(lambda: word[: at + 1] + "\u0640" * rng.randint(1, 2) + word[at + 1 :])
    if word[0] in "أإآ":
        options.append(lambda: "ا" + word[1:])
    end = letters[-1]
    if word[end] == "ى":
        options.append(lambda: word[:end] + "ي" + word[end + 1 :])
    if word[end] == "ي":
        options.append(lambda: word[:end] + "ى" + word[end + 1 :])
    if word[end] == "ة":
        options.append(lambda: word[:end] + "ه" + word[end + 1 :])
    return rng.choice(options)()


def orthography(paragraphs: list[str], rng: random.Random, lang: str) -> bool:
    rate = rng.uniform(0.05, 0.25)
    for i, paragraph in enumerate(paragraphs):
        if lang == "fa":
            # Persian writes the zero-width non-joiner where a space may stand: some sites use spaces.
            paragraphs[i] = paragraph.replace("\u200c", " ") if rng.random() < 0.7 else paragraph
            continue
        words = paragraph.split(" ")
        paragraphs[i] = " ".join(_arabic_variant(w, rng) if rng.random() < rate else w for w in words)
    return True


def digits(paragraphs: list[str], lang: str) -> bool:
    table = _PERSIAN if lang == "fa" else _INDIC
    changed = [p.translate(table) for p in paragraphs]
    if changed == paragraphs:
        return False
    paragraphs[:] = changed
    return True


def typography(paragraphs: list[str], rng: random.Random) -> bool:
    swaps = (("’", "'"), ("“", '"'), ("”", '"'), ("—", "--"), ("'", "’"))
    before = list(paragraphs)
    for old, new in rng.sample(swaps, 3):
        paragraphs[:] = [p.replace(old, new) for p in paragraphs]
    return paragraphs != before


def lead(paragraphs: list[str], rng: random.Random, lang: str, title: str | None) -> bool:
    line = title if title and rng.random() < 0.6 else rng.choice(_KICKERS[lang])
    paragraphs.insert(0, line)
    return True


def _apply(edit: str, paragraphs: list[str], rng: random.Random, source: Source) -> bool:
    """Apply one content edit (``lead`` is applied after the site template, by :func:`syndicate`)."""
    lang = source.lang
    if edit == "truncate":
        return truncate(paragraphs, rng)
    if edit == "cut":
        return cut(paragraphs, rng)
    if edit == "add":
        return add(paragraphs, rng, lang)
    if edit == "reword":
        return reword(paragraphs, rng, lang)
    if edit == "resplit":
        return resplit(paragraphs, rng)
    if edit == "orthography":
        return orthography(paragraphs, rng, lang)
    if edit == "digits":
        return digits(paragraphs, lang)
    if edit == "typography":
        return typography(paragraphs, rng)
    raise ValueError(edit)


def dress(paragraphs: list[str], site: Site, rng: random.Random, city: str) -> list[str]:
    """The site's template around a body: dateline, credit, leaked lines. Returns its edits."""
    done = []
    if site.dateline and paragraphs:
        form = rng.choice(site.dateline)
        line = form.format(city=city, City=city, CITY=city.upper())
        paragraphs[0] = f"{line} {paragraphs[0]}"
        done.append("dateline")
    if site.credit:
        names = _EDITORS[site.lang]
        editor, editor2 = rng.sample(names, 2) if len(set(names)) > 1 else ("", "")
        paragraphs.append(rng.choice(site.credit).format(editor=editor, editor2=editor2))
        done.append("credit")
    if site.header or site.footer or site.related:
        paragraphs[:0] = list(site.header)
        paragraphs.extend(site.footer)
        if site.related:
            paragraphs.append(rng.choice(site.related))
        done.append("boilerplate")
    return done


def _city(source_id: str, lang: str) -> str:
    pool = {"ar": _CITIES_AR, "fa": _CITIES_FA, "en": _CITIES_EN}[lang]
    return _rng("city", source_id).choice(pool)


def syndicate(source: Source, site: Site, *, edit: bool = True) -> Document:
    """A copy of ``source`` on ``site``: content edits (when ``edit``), then the site template."""
    rng = _rng("copy", source.id, site.name)
    paragraphs = list(source.paragraphs)
    done: list[str] = []
    if edit:
        names = _EDITS_FOR[source.lang]
        chosen = [name for name in names if rng.random() < EDIT_PROBABILITY[name]]
        if not chosen:
            chosen = [rng.choice(names)]
        order = ("truncate", "cut", "add", "reword", "resplit", "orthography", "digits", "typography")
        for name in sorted((c for c in chosen if c != "lead"), key=order.index):
            if _apply(name, paragraphs, rng, source):
                done.append(name)
    done.extend(dress(paragraphs, site, rng, _city(source.id, source.lang)))
    if edit and "lead" in chosen and lead(paragraphs, rng, source.lang, source.title):
        done.append("lead")  # above the dateline: a title or kicker line the extraction kept
    group = source.id
    return Document(
        id=f"{source.id}@{site.name}",
        group=group,
        site=site.name,
        lang=source.lang,
        text="\n".join(paragraphs),
        origin=source.origin,
        edits=tuple(done),
    )


def original(source: Source) -> Document:
    return Document(
        id=source.id,
        group=source.id,
        site="source",
        lang=source.lang,
        text="\n".join(source.paragraphs),
        origin=source.origin,
    )


# -- short briefs -------------------------------------------------------------------------------
Slots = Callable[[random.Random], dict[str, str]]

_DAYS = ("السبت", "الأحد", "الاثنين", "الثلاثاء", "الأربعاء", "الخميس", "الجمعة")
_TIMES = ("فجر", "صباح", "ظهر", "عصر", "مساء", "ليل")


def _quake(rng: random.Random) -> dict[str, str]:
    place, city = rng.choice(
        (
            ("منطقة بحر إيجه غربي تركيا", "إزمير"),
            ("جزيرة كريت اليونانية", "هيراكليون"),
            ("إقليم خراسان شمال شرقي إيران", "مشهد"),
            ("إقليم بلوشستان جنوب غربي باكستان", "كويتا"),
            ("جزيرة سومطرة الإندونيسية", "بادانغ"),
            ("جنوب جزيرة كيوشو اليابانية", "كاغوشيما"),
            ("ولاية ملاطية شرقي تركيا", "ملاطية"),
            ("محافظة كرمان جنوبي إيران", "كرمان"),
        )
    )
    return {
        "mag": f"{rng.uniform(4.0, 6.9):.1f}",
        "place": place,
        "city": city,
        "time": rng.choice(_TIMES),
        "day": rng.choice(_DAYS),
        "agency": rng.choice(
            (
                "المركز الأوروبي المتوسطي لرصد الزلازل",
                "هيئة المسح الجيولوجي الأمريكية",
                "مرصد قنديلي لرصد الزلازل",
                "المركز الوطني لرصد الزلازل",
            )
        ),
        "depth": str(rng.randint(5, 40)),
        "dist": str(rng.randint(8, 90)),
        "dir": rng.choice(("شمال", "جنوب", "شرق", "غرب", "شمال شرقي", "جنوب غربي")),
        "extra": rng.choice(
            (
                "وشعر السكان بالهزة في عدد من المناطق المجاورة، وخرج بعضهم إلى الشوارع خوفا من توابع محتملة.",
                "وأعلنت السلطات المحلية أن فرق الإنقاذ تتفقد المباني القديمة في المنطقة تحسبا لأي أضرار.",
                "وتقع المنطقة على خط صدع نشط يشهد هزات متكررة.",
                "وأعقبت الزلزال عدة هزات ارتدادية أقل قوة.",
            )
        ),
    }


def _rates(rng: random.Random) -> dict[str, str]:
    usd = rng.uniform(15.5, 16.3)
    usd2 = usd + rng.uniform(-0.05, 0.05)
    eur = usd * rng.uniform(1.08, 1.13)
    sar = usd / 3.75
    return {
        "usd_buy": f"{usd:.2f}",
        "usd_sell": f"{usd + 0.1:.2f}",
        "usd_buy2": f"{usd2:.2f}",
        "usd_sell2": f"{usd2 + 0.1:.2f}",
        "eur_buy": f"{eur:.2f}",
        "eur_sell": f"{eur + 0.12:.2f}",
        "sar_buy": f"{sar:.2f}",
        "sar_sell": f"{sar + 0.03:.2f}",
        "day": rng.choice(_DAYS),
        "trend": rng.choice(
            (
                "دون تغيير يذكر مقارنة بتعاملات أمس",
                "مرتفعا بنحو قرشين عن تعاملات أمس",
                "متراجعا بنحو ثلاثة قروش عن تعاملات أمس",
                "وسط استقرار في السوق الموازية",
            )
        ),
    }


def _weather(rng: random.Random) -> dict[str, str]:
    met, short = rng.choice(
        (
            ("الهيئة العامة للأرصاد الجوية", "الهيئة"),
            ("دائرة الأرصاد الجوية", "الدائرة"),
            ("إدارة الأرصاد الجوية", "الإدارة"),
            ("المركز الوطني للأرصاد", "المركز"),
        )
    )
    regions = rng.sample(
        (
            "القاهرة الكبرى",
            "الوجه البحري",
            "السواحل الشمالية",
            "جنوب الصعيد",
            "المناطق الجبلية",
            "الأغوار",
            "البادية",
        ),
        2,
    )
    low = rng.randint(14, 30)
    high = rng.randint(low + 4, low + 12)
    return {
        "met": met,
        "met_short": short,
        "day": rng.choice(("غدا", "اليوم", "مطلع الأسبوع", "خلال عطلة نهاية الأسبوع")),
        "sky": rng.choice(
            (
                "مائلا للحرارة",
                "حارا نهارا ولطيفا ليلا",
                "معتدلا",
                "باردا نسبيا",
                "غائما جزئيا مع فرص لسقوط أمطار خفيفة",
                "مغبرا",
            )
        ),
        "wind": rng.choice(
            (
                "رياح شمالية غربية معتدلة السرعة",
                "رياح نشطة مثيرة للأتربة",
                "رياح خفيفة متغيرة الاتجاه",
                "رياح جنوبية شرقية تنشط أحيانا",
            )
        ),
        "t1": str(low),
        "t2": str(high),
        "t3": str(low - rng.randint(2, 6)),
        "t4": str(high - rng.randint(2, 6)),
        "region1": regions[0],
        "region2": regions[1],
        "advice": rng.choice(
            (
                "بتجنب التعرض المباشر لأشعة الشمس في أوقات الذروة",
                "بالحذر أثناء القيادة بسبب تدني مدى الرؤية",
                "بارتداء الملابس الثقيلة خلال ساعات الليل",
                "بمتابعة النشرات الجوية أولا بأول",
            )
        ),
    }


def _gold(rng: random.Random) -> dict[str, str]:
    p21 = rng.randint(800, 900)
    return {
        "verb": rng.choice(("ارتفع", "تراجع", "استقر")),
        "day": rng.choice(_DAYS),
        "p21": str(p21),
        "p24": str(round(p21 * 24 / 21)),
        "p18": str(round(p21 * 18 / 21)),
        "pg": str(p21 * 8),
        "oz": str(rng.randint(1450, 1550)),
        "expert": rng.choice(
            (
                "رئيس شعبة الذهب بالغرفة التجارية",
                "أحد تجار الصاغة في القاهرة",
                "خبير أسواق المعادن الثمينة",
                "نائب رئيس شعبة المصوغات",
            )
        ),
        "comment": rng.choice(
            (
                "حركة البيع والشراء تشهد هدوءا ملحوظا مع ترقب المتعاملين لقرارات الفائدة",
                "الطلب المحلي ارتفع مع اقتراب موسم الأعراس",
                "تقلبات سعر الأوقية عالميا تنعكس مباشرة على السوق المحلية",
                "الأسعار مرشحة لمزيد من التذبذب خلال الأسبوع الجاري",
            )
        ),
    }


def _football(rng: random.Random) -> dict[str, str]:
    team1, team2 = rng.sample(
        (
            "الأهلي",
            "الزمالك",
            "الإسماعيلي",
            "المصري",
            "الاتحاد",
            "الهلال",
            "النصر",
            "الشباب",
            "الوحدات",
            "الفيصلي",
        ),
        2,
    )
    players = rng.sample(
        (
            "محمد شريف",
            "أحمد ياسر",
            "عمر السعيد",
            "عبد الله الحمدان",
            "حمزة الدردور",
            "حسين الشحات",
            "مصطفى فتحي",
            "سالم الدوسري",
            "يزن النعيمات",
        ),
        3,
    )
    return {
        "team1": team1,
        "team2": team2,
        "s1": str(rng.randint(2, 4)),
        "day": rng.choice(_DAYS),
        "stadium": rng.choice(
            ("القاهرة الدولي", "برج العرب", "الملك فهد الدولي", "عمان الدولي", "الأمير فيصل بن فهد")
        ),
        "round": rng.choice(("الخامسة", "السادسة", "العاشرة", "الثانية عشرة", "الخامسة عشرة", "العشرين")),
        "league": rng.choice(("الدوري الممتاز", "دوري المحترفين", "الدوري الأردني للمحترفين")),
        "scorers": f"{players[0]} و{players[1]}",
        "scorer2": players[2],
        "pts": str(rng.randint(10, 45)),
        "pos": rng.choice(("الأول", "الثاني", "الثالث", "الرابع", "الخامس", "السادس")),
    }


def _covid(rng: random.Random) -> dict[str, str]:
    cases = rng.randint(80, 2500)
    tests = rng.randint(5000, 40000)
    total = rng.randint(20000, 400000)
    recovered = rng.randint(50, 2400)
    return {
        "country": rng.choice(("الأردنية", "السعودية", "المغربية", "البحرينية")),
        "cases": str(cases),
        "deaths": str(rng.randint(3, 40)),
        "total": str(total),
        "day": rng.choice(_DAYS),
        "tests": str(tests),
        "pct": f"{100 * cases / tests:.2f}",
        "recovered": str(recovered),
        "rtotal": str(total - rng.randint(1000, 15000)),
    }


def _accident(rng: random.Random) -> dict[str, str]:
    v1, v2 = rng.sample(
        ("حافلة ركاب", "شاحنة نقل ثقيل", "سيارة أجرة", "سيارة ملاكي", "ميكروباص", "صهريج وقود"), 2
    )
    return {
        "dead": str(rng.randint(3, 9)),
        "injured": str(rng.randint(4, 25)),
        "time": rng.choice(_TIMES),
        "day": rng.choice(_DAYS),
        "v1": v1,
        "v2": v2,
        "road": rng.choice(
            (
                "القاهرة - الإسكندرية الصحراوي",
                "عمان - العقبة",
                "الرياض - الدمام",
                "الدائري الإقليمي",
                "أسيوط الغربي",
            )
        ),
        "authority": rng.choice(("الدفاع المدني", "مديرية الأمن", "هيئة الإسعاف", "إدارة المرور")),
        "hospital": rng.choice(("الجامعي", "العام", "قصر العيني", "الأمير حمزة", "المركزي")),
        "cause": rng.choice(
            (
                "السرعة الزائدة كانت وراء الحادث بحسب المعاينة الأولية",
                "الحادث وقع بسبب انعدام الرؤية جراء الضباب الكثيف",
                "السائق فقد السيطرة على المركبة بعد انفجار أحد الإطارات",
                "حالة بعض المصابين خطيرة",
            )
        ),
    }


def _stocks(rng: random.Random) -> dict[str, str]:
    exchange, currency = rng.choice(
        (("عمان", "دينار"), ("الكويت", "دينار"), ("مسقط", "ريال"), ("البحرين", "دينار"), ("قطر", "ريال"))
    )
    first, second = rng.sample(
        ("البنك العربي", "زين", "أريد", "البنك الأهلي", "الاتصالات", "مصفاة البترول", "الفوسفات", "الإسمنت"),
        2,
    )
    return {
        "exchange": exchange,
        "currency": currency,
        "day": rng.choice(_DAYS),
        "direction": rng.choice(("ارتفاع", "انخفاض")),
        "pct": f"{rng.uniform(0.05, 1.8):.2f}",
        "level": f"{rng.uniform(1800, 9500):.2f}",
        "value": f"{rng.uniform(2, 60):.1f}",
        "stock1": first,
        "stock2": second,
        "volume": f"{rng.uniform(1, 90):.1f}",
        "deals": str(rng.randint(900, 9000)),
    }


# name -> (template, slot drawer, home site)
BRIEFS: dict[str, tuple[str, Slots, str]] = {
    "quake": (
        "ضرب زلزال بقوة {mag} درجة على مقياس ريختر {place}، {time} {day}، من دون أن ترد أنباء فورية عن "
        "سقوط ضحايا أو وقوع أضرار. وقال {agency} في بيان إن مركز الزلزال كان على عمق {depth} كيلومترات، "
        "وعلى بعد {dist} كيلومترا {dir} مدينة {city}. {extra}",
        _quake,
        "al-khabar-24",
    ),
    "rates": (
        "سجل سعر صرف الدولار الأمريكي مقابل الجنيه المصري {usd_buy} جنيه للشراء و{usd_sell} جنيه للبيع في "
        "البنك الأهلي المصري، في ختام تعاملات اليوم {day}، {trend}. وفي بنك مصر، بلغ سعر الدولار {usd_buy2} "
        "جنيه للشراء و{usd_sell2} جنيه للبيع، بينما سجل اليورو {eur_buy} جنيه للشراء و{eur_sell} جنيه للبيع. "
        "وبلغ سعر الريال السعودي {sar_buy} جنيه للشراء و{sar_sell} جنيه للبيع.",
        _rates,
        "bawabat-al-madina",
    ),
    "weather": (
        "توقعت {met} أن يكون الطقس {day} {sky} على أغلب الأنحاء، مع {wind}، وتتراوح درجات الحرارة العظمى "
        "بين {t1} و{t2} درجة مئوية في {region1}، وبين {t3} و{t4} درجة في {region2}. ونصحت {met_short} "
        "المواطنين {advice}.",
        _weather,
        "al-yawm-online",
    ),
    "gold": (
        "{verb} سعر الذهب في السوق المحلية اليوم {day}، إذ سجل سعر غرام الذهب عيار 21 نحو {p21} جنيها، "
        "فيما بلغ سعر غرام عيار 24 نحو {p24} جنيها، وعيار 18 نحو {p18} جنيها. وسجل سعر الجنيه الذهب {pg} "
        "جنيها، بينما بلغت الأوقية في البورصة العالمية {oz} دولارا. وقال {expert} إن {comment}.",
        _gold,
        "sawt-al-balad",
    ),
    "football": (
        "فاز فريق {team1} على ضيفه {team2} بنتيجة {s1} أهداف مقابل هدف، في المباراة التي جمعتهما مساء {day} "
        "على ملعب {stadium}، ضمن منافسات الجولة {round} من {league}. وسجل أهداف {team1} كل من {scorers}، "
        "فيما أحرز {scorer2} هدف {team2}. وبهذا الفوز رفع {team1} رصيده إلى {pts} نقطة في المركز {pos}.",
        _football,
        "akhbar-al-khaleej",
    ),
    "covid": (
        "أعلنت وزارة الصحة {country} تسجيل {cases} إصابة جديدة بفيروس كورونا المستجد و{deaths} حالات وفاة "
        "خلال الساعات الأربع والعشرين الماضية، ليرتفع العدد الإجمالي للإصابات في المملكة إلى {total} إصابة. "
        "وأوضحت الوزارة في بيانها اليومي أن عدد الفحوصات التي أجريت {day} بلغ {tests} فحصا، فيما بلغت نسبة "
        "الفحوصات الإيجابية {pct} بالمئة. وأشارت إلى تسجيل {recovered} حالة شفاء جديدة، ليصل إجمالي حالات "
        "الشفاء إلى {rtotal} حالة.",
        _covid,
        "nabd-al-sharq",
    ),
    "accident": (
        "لقي {dead} أشخاص مصرعهم وأصيب {injured} آخرون، {time} {day}، في حادث تصادم بين {v1} و{v2} على "
        "طريق {road}. وقال مصدر في {authority} إن سيارات الإسعاف نقلت المصابين إلى مستشفى {hospital}، "
        "مشيرا إلى أن {cause}. وفتحت الجهات المختصة تحقيقا في ملابسات الحادث.",
        _accident,
        "al-masdar",
    ),
    "stocks": (
        "أغلق المؤشر العام لبورصة {exchange} تعاملات اليوم {day} على {direction} بنسبة {pct} بالمئة عند "
        "مستوى {level} نقطة، وسط تداولات بلغت قيمتها {value} مليون {currency}. وتصدر سهم {stock1} "
        "قائمة الأسهم الأكثر ارتفاعا، فيما كان سهم {stock2} الأكثر تراجعا. وبلغ حجم التداول {volume} "
        "مليون سهم، نفذت من خلال {deals} صفقة.",
        _stocks,
        "wakala-news",
    ),
}


# The slots that make two briefs of a template different articles (another day, other
# figures, another event): every brief differs from every other one in each of them.
BRIEF_KEYS = {
    "quake": ("mag", "place", "day"),
    "rates": ("usd_buy", "day"),
    "weather": ("t1", "t2", "region1"),
    "gold": ("p21", "oz", "day"),
    "football": ("team1", "team2", "pts"),
    "covid": ("cases", "total", "day"),
    "accident": ("dead", "injured", "day"),
    "stocks": ("level", "day"),
}


def brief_sources() -> list[tuple[str, int, Source]]:
    """(template, instance, the brief as a source) for every brief."""
    result = []
    for name, (template, slots, _home) in BRIEFS.items():
        drawn: list[dict[str, str]] = []
        for i in range(BRIEF_INSTANCES):
            for attempt in range(1000):
                values = slots(_rng("brief", name, str(i), str(attempt)))
                if all(values[key] != other[key] for other in drawn for key in BRIEF_KEYS[name]):
                    break
            else:
                raise RuntimeError(f"cannot draw {BRIEF_INSTANCES} different {name} briefs")
            drawn.append(values)
            source = Source(
                f"brief-{name}-{i}", "ar", f"brief template {name!r}", (template.format(**values),)
            )
            result.append((name, i, source))
    return result


# -- sources ----------------------------------------------------------------------------------
_PAGE_IDS = (
    "htmldate-mediacloud-1523806243",
    "htmldate-mediacloud-1602557452",
    "htmldate-mediacloud-1641304459",
    "htmldate-mediacloud-1731695567",
    "htmldate-mediacloud-1784190729",
    "htmldate-mediacloud-1588107198",
    "htmldate-mediacloud-1691196862",
    "htmldate-mediacloud-1806793639",
    "htmldate-mediacloud-1623715966",
    "htmldate-mediacloud-1550981615",
    "htmldate-mediacloud-1764731404",
    "trafilatura-eval-assabah.com.tn.article",
)
_GOLD_BODY_IDS = ("fundus-lb-LBCGroup_2026_01_08", "newspaper4k-arabic_article")
_LANGID_DOCS = {"langidpy-ar-doc": "ar", "langidpy-fa-doc": "fa"}
_ENGLISH_WORDS = frozenset(("the", "and", "of", "to", "a", "in", "is"))

# Real coverage of one event by different outlets in the benchmark (8-hex id prefixes).
SAME_EVENT: tuple[tuple[str, ...], ...] = (
    ("06e5123e", "1ace8c85", "bc13ff87"),  # WeWork: NY attorney general, layoffs
    ("2c46804d", "51d066b0"),  # Fort Worth girl rescued
    ("6ebac05f", "7a457a4f"),  # man pleads guilty to threatening Ilhan Omar
    ("7bb1ca90", "9eef8162", "a078b365", "bd673bd7"),  # "feather duvet lung"
    ("432362af", "8b194530", "ba4dfe2d", "ea25dd7e"),  # bubonic plague in Inner Mongolia
    ("35b15891", "9cb8224b", "ac1bfdd4"),  # Doobie Brothers reunion tour
    ("156770d6", "776a1c04", "c13b9c0e", "3f65af7b"),  # "Meth. We're on it." campaign
    ("042bb7b5", "680c2848", "8267acac", "aade2ec8", "e100c961"),  # Google Stadia launch
    ("14cc2a0c", "686bb170", "f344ca5f"),  # water vapour on Europa
    ("c50845a7", "d1c57d78", "42aad16b"),  # NASA's commercial lunar landers
    ("51374560", "f8ff621a"),  # Home Depot earnings
    ("c7e39ac4", "dc7ccccc"),  # Sweden drops the Assange investigation
    ("b37be353", "e1c7023e"),  # hibernating astronauts
    ("5fa3154e", "624fcd90", "e4c6a3b4"),  # Hong Kong protests
    ("1f765c48", "87bf6057"),  # Prince Andrew
    ("70cb2d5b", "eb62ac84", "55bb6340"),  # Taylor Swift and her former label
    ("232a43fb", "5fa5679d", "65bf3048"),  # MacBook Pro
    ("0d461229", "88c328b6"),  # Davis Cup finals
)
# Real Arabic articles on one topic (different stories).
SAME_TOPIC: tuple[tuple[str, str], ...] = (
    ("seed-000", "seed-001"),
    ("seed-002", "seed-003"),
    ("seed-003", "seed-004"),
    ("seed-002", "seed-004"),
    ("htmldate-mediacloud-1588107198", "htmldate-mediacloud-1550981615"),
    ("htmldate-mediacloud-1550981615", "htmldate-mediacloud-1623715966"),
    ("htmldate-mediacloud-1588107198", "htmldate-mediacloud-1623715966"),
    ("htmldate-mediacloud-1806793639", "htmldate-mediacloud-1550981615"),
)


def _split(text: str) -> tuple[str, ...]:
    return tuple(line.strip() for line in text.splitlines() if line.strip())


def _read_jsonl(path: Path) -> Iterator[dict[str, object]]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def _texts() -> list[dict[str, object]]:
    return list(_read_jsonl(TEXTS))


def arabic_sources() -> list[Source]:
    sources = []
    seeds = json.loads(SEED_GOLD.read_text(encoding="utf-8"))["seeds"]
    for seed in seeds:
        number = str(seed["file"]).split("_", 1)[0]
        sources.append(
            Source(
                f"seed-{number}",
                "ar",
                f"samples/seeds/{seed['file']}",
                tuple(seed["paragraphs"]),
                seed["title"],
            )
        )
    for record in _read_jsonl(EVAL / "arabic-pages" / "gold.jsonl"):
        gold = record["gold"]
        assert isinstance(gold, dict)
        if record["id"] in _GOLD_BODY_IDS:
            sources.append(
                Source(
                    str(record["id"]),
                    "ar",
                    f"arabic-pages/{record['file']}",
                    _split(gold["body"]),
                    gold["title"],
                )
            )
    for text in _texts():
        if text["kind"] == "page":
            paragraphs = text["paragraphs"]
            assert isinstance(paragraphs, list)
            sources.append(Source(str(text["id"]), str(text["lang"]), str(text["origin"]), tuple(paragraphs)))
    for record in _read_jsonl(EVAL / "langid" / "eval.jsonl"):
        if record["id"] in _LANGID_DOCS:
            paragraphs = tuple(p.strip() for p in str(record["text"]).split("\n\n") if p.strip())
            sources.append(
                Source(str(record["id"]), _LANGID_DOCS[str(record["id"])], "langid/eval.jsonl", paragraphs)
            )
    return sources


def english_sources() -> list[Source]:
    truth = json.loads(
        (EVAL / "article-extraction-benchmark" / "ground-truth.json").read_text(encoding="utf-8")
    )
    sources = []
    for key in sorted(truth):
        body = truth[key]["articleBody"]
        words = body.split()
        if len(words) < 40 or sum(w.lower() in _ENGLISH_WORDS for w in words) < 0.09 * len(words):
            continue
        sources.append(Source(f"bench-{key[:8]}", "en", f"article-extraction-benchmark/{key}", _split(body)))
    return sources


def freeze_pages() -> None:
    """Extract the page bodies once with Khabar's clean stage and store them in TEXTS."""
    from datetime import UTC, datetime

    from agents.clean import clean
    from schemas import RawPage

    pages = {str(r["id"]): r for r in _read_jsonl(EVAL / "arabic-pages" / "gold.jsonl")}
    kept = [t for t in _texts() if t["kind"] != "page"]
    frozen = []
    for page_id in _PAGE_IDS:
        record = pages[page_id]
        body = gzip.decompress((EVAL / "arabic-pages" / str(record["file"])).read_bytes())
        raw = RawPage(
            url=str(record["url"]),
            body=body,
            content_type="text/html",
            fetched_at=datetime(2026, 2, 6, tzinfo=UTC),
        )
        lines = [line.replace("-->", "").strip() for p in clean(raw).paragraphs for line in p.splitlines()]
        lines = [line for line in lines if line]
        frozen.append(
            {
                "id": page_id,
                "kind": "page",
                "lang": record["lang"],
                "origin": f"arabic-pages/{record['file']} (body by agents.clean)",
                "paragraphs": lines,
            }
        )
    with TEXTS.open("w", encoding="utf-8") as out:
        for text in [*frozen, *kept]:
            out.write(json.dumps(text, ensure_ascii=False) + "\n")


# -- the set ----------------------------------------------------------------------------------
@dataclass
class _Builder:
    documents: dict[str, Document] = field(default_factory=dict)
    pairs: list[Pair] = field(default_factory=list)

    def doc(self, document: Document) -> Document:
        if document.id in self.documents:
            raise ValueError(f"duplicate document id {document.id}")
        self.documents[document.id] = document
        return document

    def pair(self, a: Document, b: Document, duplicate: bool, kind: str) -> None:
        if (a.group == b.group) != duplicate:
            raise ValueError(f"label of {a.id} / {b.id} contradicts their groups")
        self.pairs.append(Pair(a.id, b.id, duplicate, kind))


def _sites(lang: str) -> list[Site]:
    return [site for site in SITES if site.lang == lang]


def _same_site_pairs(
    docs: Sequence[Document], count: int, rng: random.Random
) -> list[tuple[Document, Document]]:
    by_site: dict[str, list[Document]] = {}
    for doc in docs:
        if len(doc.text.split()) <= SAME_TEMPLATE_MAX_WORDS:
            by_site.setdefault(doc.site, []).append(doc)
    options = [
        (a, b)
        for site in sorted(by_site)
        for a, b in itertools.combinations(by_site[site], 2)
        if a.group != b.group
    ]
    return rng.sample(options, min(count, len(options)))


def build() -> LabelledSet:
    b = _Builder()
    rng = _rng("pairs")
    texts = _texts()
    copies: dict[str, list[Document]] = {}
    originals: dict[str, Document] = {}

    # Arabic-script stories: the original and 4 copies on 4 sites of the language.
    arabic = arabic_sources()
    arabic_copies: list[Document] = []
    for source in arabic:
        originals[source.id] = b.doc(original(source))
        sites = _rng("sites", source.id).sample(_sites(source.lang), ARABIC_COPIES)
        copies[source.id] = [b.doc(syndicate(source, site)) for site in sites]
        arabic_copies.extend(copies[source.id])
        for copy in copies[source.id]:
            b.pair(originals[source.id], copy, True, "copy/original")
        first, second, third, fourth = copies[source.id]
        b.pair(first, second, True, "copy/copy")
        b.pair(third, fourth, True, "copy/copy")

    # Short briefs: each on its template's home site; briefs 0 and 1 syndicated once more.
    briefs: dict[str, list[Document]] = {}
    for name, i, source in brief_sources():
        home = next(site for site in SITES if site.name == BRIEFS[name][2])
        published = b.doc(syndicate(source, home, edit=False))
        briefs.setdefault(name, []).append(published)
        if i < 2:
            others = [site for site in _sites("ar") if site.name != home.name]
            copy = b.doc(syndicate(source, _rng("brief-site", source.id).choice(others)))
            b.pair(published, copy, True, "copy/original (brief)")

    # English stories: the original and one copy; a seeded sample of them labelled.
    english = english_sources()
    english_copies: list[Document] = []
    for source in english:
        originals[source.id] = b.doc(original(source))
        site = _rng("sites", source.id).choice(_sites("en"))
        copies[source.id] = [b.doc(syndicate(source, site))]
        english_copies.extend(copies[source.id])
    wanted = POSITIVES - sum(p.duplicate for p in b.pairs)
    for source in sorted(rng.sample(english, wanted), key=lambda s: s.id):
        b.pair(originals[source.id], copies[source.id][0], True, "copy/original")

    # Hard negatives.
    for first, second in _same_site_pairs(arabic_copies, SAME_TEMPLATE_ARABIC, rng):
        b.pair(first, second, False, "same template")
    for first, second in _same_site_pairs(english_copies, SAME_TEMPLATE_ENGLISH, rng):
        b.pair(first, second, False, "same template")
    for cluster in SAME_EVENT:
        for x, y in itertools.combinations(cluster, 2):
            b.pair(originals[f"bench-{x}"], originals[f"bench-{y}"], False, "same event")
    for x, y in SAME_TOPIC:
        b.pair(originals[x], originals[y], False, "same event")
    for text in texts:
        if text["kind"] not in ("follow-up", "translation"):
            continue
        of = str(text["of"])
        paragraphs = text["paragraphs"]
        assert isinstance(paragraphs, list)
        source = Source(
            str(text["id"]), str(text["lang"]), f"hand-written {text['kind']} of {of}", tuple(paragraphs)
        )
        if text["kind"] == "follow-up":
            site = next(s for s in SITES if s.name == copies[of][0].site)
            follow = b.doc(syndicate(source, site, edit=False))
            for other in (originals[of], *copies[of][:2]):
                b.pair(follow, other, False, "follow-up")
        else:
            site = _rng("sites", source.id).choice(_sites(source.lang))
            version = b.doc(syndicate(source, site, edit=False))
            for other in (originals[of], *copies[of][:2]):
                b.pair(version, other, False, "translation")
    for name, docs in briefs.items():
        options = list(itertools.combinations(docs, 2))
        for first, second in _rng("brief-pairs", name).sample(options, BRIEF_PAIRS_PER_TEMPLATE):
            b.pair(first, second, False, "short brief")
    return LabelledSet(tuple(b.documents.values()), tuple(b.pairs))


# -- gold files ---------------------------------------------------------------------------------
def doc_record(doc: Document) -> dict[str, object]:
    return {
        "id": doc.id,
        "group": doc.group,
        "site": doc.site,
        "lang": doc.lang,
        "origin": doc.origin,
        "edits": list(doc.edits),
        "words": len(doc.text.split()),
        "sha256": doc.sha256,
    }


def pair_record(pair: Pair) -> dict[str, object]:
    return {
        "a": pair.a,
        "b": pair.b,
        "label": "duplicate" if pair.duplicate else "different",
        "kind": pair.kind,
    }


def write(labelled: LabelledSet) -> None:
    with DOCS_FILE.open("w", encoding="utf-8") as out:
        for doc in labelled.documents:
            out.write(json.dumps(doc_record(doc), ensure_ascii=False) + "\n")
    with PAIRS_FILE.open("w", encoding="utf-8") as out:
        for pair in labelled.pairs:
            out.write(json.dumps(pair_record(pair), ensure_ascii=False) + "\n")


def differences(labelled: LabelledSet) -> list[str]:
    """How the built set differs from the gold files (empty when it is the same)."""
    problems = []
    if not DOCS_FILE.exists() or not PAIRS_FILE.exists():
        return [f"{DOCS_FILE.name} or {PAIRS_FILE.name} missing"]
    stored_docs = {str(r["id"]): r for r in _read_jsonl(DOCS_FILE)}
    for doc in labelled.documents:
        if stored_docs.get(doc.id) != doc_record(doc):
            problems.append(f"document {doc.id} differs")
    problems.extend(f"document {i} missing" for i in set(stored_docs) - {d.id for d in labelled.documents})
    stored_pairs = list(_read_jsonl(PAIRS_FILE))
    if stored_pairs != [pair_record(p) for p in labelled.pairs]:
        problems.append("labelled pairs differ")
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--freeze-pages", action="store_true", help="re-extract the page bodies first")
    args = parser.parse_args(argv)
    if args.freeze_pages:
        freeze_pages()
    labelled = build()
    write(labelled)
    positives = sum(p.duplicate for p in labelled.pairs)
    print(
        f"{len(labelled.documents)} documents, {positives} duplicate pairs, "
        f"{len(labelled.pairs) - positives} different pairs -> {PAIRS_FILE.relative_to(HERE.parents[1])}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
