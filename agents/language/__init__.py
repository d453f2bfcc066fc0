"""Language stage: ISO 639-1 language of a document, telling Arabic from other Arabic-script languages.

Library choice: lingua (``lingua-language-detector``). It ships its n-gram models inside the
wheel (no download at run time, no network), is deterministic, and — unlike langid.py or
fastText's lid.176 — it uses the letters that only Persian (پ چ ژ گ ی ک) or only Urdu
(ٹ ڈ ڑ ں ے ھ) use, so Persian and Urdu are not swallowed by Arabic.

The detector is built once, lazily, from a restricted set of languages (our sources and
the languages that show up in their captions and quotes). A small set is both faster and
more accurate than all 75 languages, because short Arabic-script or Latin-script texts
have fewer wrong neighbours to fall into. High-accuracy mode is kept: measured on the
shared evaluation set it is fast enough for news pages (see ``tests/unit/test_language.py``).

Kurdish is not in lingua. Central Kurdish (Sorani, Arabic script) is recognised before
lingua runs by the letters only Kurdish uses (ڕ ڵ ێ, with ۆ and ە): on the shared evaluation
set no Arabic, Persian, Urdu, Pashto or Uyghur text passes the rule and ~92% of Sorani
sentences do. It is reported as ``ku`` (ISO 639-1 has no code for Sorani alone). Kurmanji
(Latin script), Pashto and Uyghur are not recognised: they come out as a neighbouring
language (Turkish/French, Persian, Arabic), a known limitation.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

# Our sources (Arabic first, then Turkish, Persian, English) and what their pages quote.
SUPPORTED_LANGUAGES: tuple[Language, ...] = (
    Language.ARABIC,
    Language.PERSIAN,
    Language.URDU,
    Language.TURKISH,
    Language.ENGLISH,
    Language.FRENCH,
    Language.GERMAN,
    Language.SPANISH,
    Language.RUSSIAN,
    Language.HEBREW,
    Language.ITALIAN,
    Language.PORTUGUESE,
    Language.INDONESIAN,
    Language.AZERBAIJANI,
    Language.HINDI,
    Language.CHINESE,
)

MIN_LETTERS = 20  # fewer letters than this and no detector is reliable
MAX_CHARS = 2_000  # long pages: the first paragraphs decide, and speed stays bounded

_URL_RE = re.compile(r"(?:https?://|www\.)\S+|\S+@\S+\.\w+", re.IGNORECASE)
# \d matches ASCII, Arabic-Indic (٠-٩) and Persian (۰-۹) digits alike.
_DIGITS_RE = re.compile(r"\d+")
_SPACE_RE = re.compile(r"\s+")

# Sorani: letters no other Arabic-script language of ours writes, and the wider Kurdish set.
_KURDISH_ONLY = frozenset("ڕڵێ")
_KURDISH_MARKERS = frozenset("ڕڵێۆە")
KURDISH_MIN_SHARE = 0.05  # of the Arabic-script letters; Sorani's median is ~0.2, Uyghur's ~0.07
KURDISH_CONFIDENCE = 0.9  # a rule, not a model: a fixed, honest-looking confidence


@dataclass(frozen=True, slots=True)
class LanguageGuess:
    code: str | None  # ISO 639-1, None when the text is too short or unknown
    confidence: float


UNKNOWN = LanguageGuess(None, 0.0)


@lru_cache(maxsize=1)
def _detector() -> LanguageDetector:
    """The one detector of the process, built on first use (loading models takes a moment)."""
    return LanguageDetectorBuilder.from_languages(*SUPPORTED_LANGUAGES).build()


def _prepare(text: str) -> str:
    """A bounded prefix with URLs, e-mail addresses and digits removed, spaces collapsed."""
    prefix = text[: MAX_CHARS * 2]  # URLs and digits removed below may shorten it a lot
    without_urls = _URL_RE.sub(" ", prefix)
    without_digits = _DIGITS_RE.sub(" ", without_urls)
    return _SPACE_RE.sub(" ", without_digits).strip()[:MAX_CHARS]


def _letter_count(text: str) -> int:
    return sum(1 for char in text if char.isalpha())


def _is_arabic_script(char: str) -> bool:
    return "\u0600" <= char <= "\u06ff" and char.isalpha()


def _looks_sorani(text: str, letters: int) -> bool:
    """Mostly Arabic script, with Kurdish-only letters and enough Kurdish letters overall."""
    arabic = [char for char in text if _is_arabic_script(char)]
    if len(arabic) * 2 < letters or not any(char in _KURDISH_ONLY for char in arabic):
        return False
    markers = sum(1 for char in arabic if char in _KURDISH_MARKERS)
    return markers >= KURDISH_MIN_SHARE * len(arabic)


def detect_language(text: str) -> LanguageGuess:
    """The language of ``text`` with lingua's confidence for it, or (None, 0.0) when unsure."""
    prepared = _prepare(text)
    letters = _letter_count(prepared)
    if letters < MIN_LETTERS:
        return UNKNOWN
    if _looks_sorani(prepared, letters):
        return LanguageGuess("ku", KURDISH_CONFIDENCE)
    values = _detector().compute_language_confidence_values(prepared)
    if not values or values[0].value <= 0.0:
        return UNKNOWN
    best = values[0]
    return LanguageGuess(best.language.iso_code_639_1.name.lower(), float(best.value))


def paragraph_languages(paragraphs: Iterable[str]) -> list[LanguageGuess]:
    """One guess per paragraph (short paragraphs come back as unknown)."""
    return [detect_language(paragraph) for paragraph in paragraphs]
