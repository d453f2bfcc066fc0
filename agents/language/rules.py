"""Letter and word rules for what the statistical identifier cannot see.

* **Arabic script.** Pashto, Uyghur, Sindhi, Central Kurdish (Sorani) and Urdu each write
  letters that no other language of the group writes (Pashto ټ ځ څ ډ ړ ږ ښ ګ ڼ ۍ, Uyghur
  ۇ ۈ ۋ ڭ, Sindhi ڪ ٿ ڻ ۾ ۽ …, Sorani ێ ڵ ڕ, Urdu ٹ ڈ ڑ ں ے ہ). :func:`arabic_script_rule`
  decides by them when they are there; otherwise the identifier chooses among Arabic,
  Persian, Urdu and Sorani. (The letters Arabic alone writes, ة ي ك ى, and those only
  Persian and Urdu write, ی ک پ چ ژ گ, do not decide: Persian typed on Arabic keyboards has
  ي ك, Arabic typed on Persian ones has ی ک. The identifier weighs them with the rest.)
* **Kurmanji** (Northern Kurdish, Latin script) is unknown to the identifier, which calls it
  Turkish, Slovene, Vietnamese… :func:`looks_kurmanji` recognises it by its function words
  (û, ji, di, li, bi, ku, jî, xwe, …) and its circumflexed vowels ê î û, and by the absence
  of letters it does not write (Turkish ı ğ ö ü, French é è à, …).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Letters written by one language of the Arabic-script group only (among ar fa ur ps ug sd ckb).
_ONLY: dict[str, str] = {
    "ps": "ټځڅډړږښګڼۍ",
    "ug": "ۇۈۋڭ",
    "sd": "ٻڀٺٽٿڄڃڇڌڍڏڊڙڦڪڳڱڻ۽۾",
    "ckb": "ێڵڕ",
    "ur": "ٹڈڑںےۓہۂۃ",
    "fa": "ۀ",
}
# Letters shared by two of them: evidence for both.
_SHARED: dict[str, str] = {
    "ps": "ې",
    "ug": "ېۆە",
    "ckb": "ۆە",
}
_ONLY_RE = {code: re.compile(f"[{letters}]") for code, letters in _ONLY.items()}
_SHARED_RE = {code: re.compile(f"[{letters}]") for code, letters in _SHARED.items()}

# A language's own letters must make at least this share of the letters (one stray letter in
# a long page does not make it Pashto) and outnumber every other language's own letters.
MIN_MARKER_SHARE = 0.005


@dataclass(frozen=True, slots=True)
class ArabicScriptVerdict:
    """Either a decided language (``code``) or the candidates the identifier chooses from."""

    code: str | None
    candidates: tuple[str, ...]
    evidence: int  # how many letters decided it (0 for candidates)


def arabic_script_rule(words: str, letters: int) -> ArabicScriptVerdict:
    """Decide among ar fa ur ps ug sd ckb from the letters of Arabic-script ``words``."""
    scores = {code: len(pattern.findall(words)) for code, pattern in _ONLY_RE.items()}
    if any(scores.values()):
        for code, pattern in _SHARED_RE.items():
            if scores[code]:
                scores[code] += len(pattern.findall(words))
        ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
        (best, count), (_, runner_up) = ranked[0], ranked[1]
        if count > runner_up and count >= MIN_MARKER_SHARE * letters:
            return ArabicScriptVerdict(best, (best,), count)
    return ArabicScriptVerdict(None, ("ar", "fa", "ur", "ckb"), 0)


# Frequent Kurmanji words, less those that are also frequent in English, French, German,
# Spanish, Portuguese, Italian or Turkish ("de", "ne", "her", "me", "we", "ya"; "em" and "ve"
# stay: the foreign-word list below outweighs them in Portuguese and Turkish).
_KURMANJI_WORDS_TEXT = """
    û jî ji bi di li ku ew wê wî wan vê vî yê yên ên ê bû bûn dê tê hat hate hatin hatiye
    dike dikin dibe dibin kir kirin kiriye kirine heye hene tune nîne xwe jê lê pê gelek
    hemû piştî berî îro niha got gotin dibêje ligel tevî navbera herî pir ez hûn ango lewma
    lewre belê yan ev eve evê wekî weke wek çawa çima çend kî kê hinek hin tenê bêyî em
    divê dive ser bo re ve nav bê ti kes hîn dema wiha herwiha nû mezin welat gel sala salê
"""
_KURMANJI_WORDS = frozenset(_KURMANJI_WORDS_TEXT.split())
_KURMANJI_LETTERS_RE = re.compile("[êîûÊÎÛ]")
# Letters Kurmanji does not write (its own: a-z, ç ş ê î û).
_NOT_KURMANJI_RE = re.compile(
    "[ıİğĞöÖüÜäÄßéÉèÈàÀùÙâÂôÔëËïÏÿãÃõÕáÁíÍóÓúÚñÑåÅøØæÆœŒąęłśźżćńĄĘŁŚŹŻĆŃăĂșȘțȚčČřŘžŽšŠěĚůŮđĐ\u1ea0-\u1ef9]"
)
# Frequent words of the languages Kurmanji is confused with that Kurmanji does not write.
_NOT_KURMANJI_WORDS_TEXT = """
    the and of to is for on that with was are this it le les des du et est une un que qui
    pour dans il elle sur pas au aux ce os do das um uma não los las el del y con por para
    und der die das ist nicht mit von den zu ein eine che gli della per sono bir bu için
    ile olarak daha çok gibi
"""
_NOT_KURMANJI_WORDS = frozenset(_NOT_KURMANJI_WORDS_TEXT.split())
_LATIN_WORD_RE = re.compile(r"[^\W\d_]+")
KURMANJI_MIN_WORD_SHARE = 0.12  # of the words: Kurmanji function words
KURMANJI_MIN_LETTER_SHARE = 0.04  # of the letters: ê î û (Kurmanji ~6 %, French < 1 %)


def looks_kurmanji(words: str, letters: int) -> bool:
    """True for Latin-script text that writes like Kurmanji and unlike its neighbours."""
    circumflexed = len(_KURMANJI_LETTERS_RE.findall(words))
    if not circumflexed:
        return False
    if len(_NOT_KURMANJI_RE.findall(words)) * 3 > circumflexed:  # a Turkish name may stand in it
        return False
    tokens = _LATIN_WORD_RE.findall(words.lower())
    hits = sum(1 for token in tokens if token in _KURMANJI_WORDS)
    others = sum(1 for token in tokens if token in _NOT_KURMANJI_WORDS)
    if others * 2 > hits:
        return False
    if len(tokens) <= 3:  # a word or two: one of Kurmanji's own words is needed
        return hits >= 1
    if hits >= 2 and hits >= KURMANJI_MIN_WORD_SHARE * len(tokens):
        return True
    return others == 0 and circumflexed >= KURMANJI_MIN_LETTER_SHARE * letters
