"""Text helpers shared by the stages: invisible characters out, and a matching form.

The *matching form* folds Arabic spelling variants (hamza on alef, alef maqsura, ta
marbuta, tatweel, diacritics, Arabic-Indic digits) and case so that markers such as
"إقرأ أيضاً:" and "اقرا ايضا" compare equal, and copies of one story that differ only in
spelling get the same fingerprint. It is only ever used for comparisons and fingerprints:
the text handed to later stages keeps its original spelling.
"""

from __future__ import annotations

import re
import unicodedata

# Bidi controls and zero-width characters that carry no text. ZWNJ/ZWJ (U+200C/D) are
# kept: they are part of Persian and Urdu spelling, which the language stage must see.
# Also the control characters that are not whitespace (the others become spaces where lines
# are tidied): decoding drops them from the page's bytes, but a character reference (`&#3;`,
# a JSON-LD "\u0003") puts them back in the parsed text.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0e-\x1b\x7f\u200b\u200e\u200f\u061c\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
)
_SPACES = re.compile(r"[^\S\n]+")  # any whitespace except newline (incl. NBSP, thin spaces)
_ARABIC_MARKS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")  # + tatweel


class CharReplacer:
    """``str.translate`` of a few characters, many times faster on long text: translate with
    a dict looks every character up one by one, ``str.replace`` scans in C (and a text with
    none of the characters is seen in one regex scan)."""

    def __init__(self, table: dict[str, str]) -> None:
        if any(char in replacement for replacement in table.values() for char in table):
            raise ValueError("a replacement contains a replaced character: the order would matter")
        self._pairs = tuple(table.items())
        self._any = re.compile("[" + "".join(map(re.escape, table)) + "]")

    def __call__(self, text: str) -> str:
        if self._any.search(text) is None:
            return text
        for char, replacement in self._pairs:
            if char in text:
                text = text.replace(char, replacement)
        return text


_FOLD = CharReplacer(
    {
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ى": "ي",
        "ة": "ه",
        "ؤ": "و",
        "ئ": "ي",
        **{chr(0x0660 + d): str(d) for d in range(10)},  # Arabic-Indic digits
        **{chr(0x06F0 + d): str(d) for d in range(10)},  # Extended (Persian) digits
    }
)
_ARABIC_LETTER = re.compile("[\u0621-\u064a\u0671-\u06d3\u06fa-\u06ff]")
_LATIN_LETTER = re.compile("[A-Za-z\u00c0-\u024f]")


def strip_invisible(text: str) -> str:
    """Remove bidi marks and zero-width characters."""
    return _INVISIBLE.sub("", text)


def tidy_line(line: str) -> str:
    """One display line: invisible characters out, runs of spaces collapsed, ends trimmed."""
    return _SPACES.sub(" ", strip_invisible(line)).strip()


def fold(text: str) -> str:
    """Matching form: NFKC, case-folded, Arabic variants and digits unified, no diacritics."""
    return _SPACES.sub(" ", fold_letters(text)).strip()


def fold_letters(text: str) -> str:
    """:func:`fold` without collapsing the spaces (for callers that split the text anyway)."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return _FOLD(_ARABIC_MARKS.sub("", folded))


def arabic_letters(text: str) -> int:
    return len(_ARABIC_LETTER.findall(text))


def latin_letters(text: str) -> int:
    return len(_LATIN_LETTER.findall(text))


def word_count(text: str) -> int:
    return len(text.split())
