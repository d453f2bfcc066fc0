"""Language stage: the language of a page and of its parts, Arabic told from its neighbours.

How a text is read:

1. URLs and e-mail addresses are blanked (offsets are kept); digits and punctuation belong to
   no script.
2. Each line is cut into runs of whole sentences of one writing system (:mod:`.scripts`): an
   English caption on its own line, or ending before the paragraph on the same line, is a
   run of its own; "Golden State Warriors" inside a Persian sentence is not.
3. Each run is identified by its script's route:

   * Arabic script: letter rules (:mod:`.rules`) decide Pashto, Uyghur, Sindhi, Sorani and
     Urdu by the letters only they write; otherwise eldc chooses among Arabic, Persian, Urdu
     and Sorani, and for a word or two on which it hesitates lingua gives a second opinion.
   * Latin script: the Kurmanji rule, then eldc.
   * Other scripts: eldc (60 languages).

4. Spans: runs of ``MIN_SPAN_LETTERS`` letters or more are identified on their own, shorter
   ones join the span before them, neighbouring spans in one language merge. The page's
   language is read from its main script's text as a whole (Latin letters count
   ``LATIN_WEIGHT`` beside another script's).

Codes are ISO 639-1. Kurdish is ``ku`` with ``variant`` ``ckb`` (Sorani, Arabic script) or
``kmr`` (Kurmanji, Latin script). The identifiers load once per process (:func:`load_models`
at worker start-up, or on first use). Measured choices: ``docs/choices.md`` and
``python -m tests.quality.langid``.

Known limits: a caption in the same script as the article (French in an English page) is not
split off; South Azerbaijani and other Arabic-script languages not listed above come out as
their nearest neighbour (usually Persian); Latin letters count a third beside Arabic-script
ones, so an English page needs three times more letters than an Arabic quote in it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from agents.language.identifier import identify, lingua_confidences
from agents.language.rules import arabic_script_rule, looks_kurmanji
from agents.language.scripts import ARABIC, LATIN, LATIN_WEIGHT, Run, script_runs

MIN_LETTERS = 3  # fewer letters than this and there is nothing to identify
MAX_CHARS = 2_000  # the page's language is read from this much of its main script's text
PAGE_PREFIX = 2 * MAX_CHARS  # … found in this many first characters (spans cover all the text)
MIN_SPAN_LETTERS = 15  # a run of another script stands alone (as a span) from this size
MIN_SPAN_WORDS = 3
SHORT_LETTERS = 20  # below this, a text is a word or two: confidences are lower
# lingua is asked about short Arabic-script text (a word or two) when eldc's lead is small.
SECOND_OPINION_MARGIN = 0.05
SECOND_OPINION_MAX_LETTERS = 40

_URL_RE = re.compile(r"(?:https?://|www\.)\S+|[\w.+-]+@[\w-]+\.[\w.]+", re.IGNORECASE)
# Candidate codes of the Arabic-script rule as eldc spells them (eldc's Kurdish is Sorani).
_ELDC_CODE = {"ckb": "ku"}
_SECOND_OPINION = ("ar", "fa", "ur")  # the languages lingua is asked about


@dataclass(frozen=True, slots=True)
class LanguageGuess:
    code: str | None  # ISO 639-1, None when the text is too short or unknown
    confidence: float
    variant: str | None = None  # ISO 639-3 where one ISO 639-1 code covers two: ku → ckb / kmr


@dataclass(frozen=True, slots=True)
class LanguageSpan:
    """``text[start:end]`` (first letter to last letter) is in one language."""

    start: int
    end: int
    code: str | None
    confidence: float
    variant: str | None = None
    letters: int = 0
    script: str = ""  # ISO 15924 code of its main script: Arab, Latn, Cyrl, …


@dataclass(frozen=True, slots=True)
class PageLanguages:
    language: LanguageGuess  # the page's language, as detect_language gives it
    spans: tuple[LanguageSpan, ...]  # in text order, neighbours in one language merged


UNKNOWN = LanguageGuess(None, 0.0)


def _blank_urls(text: str) -> str:
    """URLs and e-mail addresses replaced by spaces of the same length (offsets unchanged)."""
    if "@" not in text and "://" not in text and "www." not in text.lower():
        return text
    return _URL_RE.sub(lambda match: " " * len(match.group()), text)


def _guess(code: str, confidence: float) -> LanguageGuess:
    if code in ("ckb", "kmr"):
        return LanguageGuess("ku", round(confidence, 4), code)
    return LanguageGuess(code, round(confidence, 4))


def _confidence(margin: float, reliable: bool, letters: int) -> float:
    """eldc's lead and reliability flag as a probability of being right.

    Calibrated on the evaluation set (``tests.quality.langid``): answers eldc calls reliable
    are right 99–100 % of the time (93 % for a short word with a lead under 0.05); unreliable
    answers on fewer than 20 letters are right from ~50 % (no lead) to ~97 % (lead ≥ 0.35),
    on more letters from ~85 %.
    """
    short = letters < SHORT_LETTERS
    if reliable:
        return 0.93 + 0.06 * min(1.0, margin / 0.1) if short else 0.99
    floor = 0.5 if short else 0.85
    return floor + (0.97 - floor) * min(1.0, margin / 0.35)


def _identified(text: str, letters: int, languages: tuple[str, ...] = ()) -> LanguageGuess:
    result = identify(text, languages)
    if result.code is None:
        return UNKNOWN
    code = "ckb" if result.code == "ku" and languages else result.code
    if (
        code in _SECOND_OPINION
        and languages
        and result.margin <= SECOND_OPINION_MARGIN
        and letters <= SECOND_OPINION_MAX_LETTERS
    ):
        code, margin = _with_second_opinion(text, result.scores)
        return _guess(code, _confidence(margin, False, letters))
    return _guess(code, _confidence(result.margin, result.reliable, letters))


def _with_second_opinion(text: str, scores: dict[str, float]) -> tuple[str, float]:
    """eldc's and lingua's scores for Arabic, Persian and Urdu, averaged: the best and its lead."""
    lingua = lingua_confidences(text)
    combined = {code: (scores.get(code, 0.0) + lingua.get(code, 0.0)) / 2 for code in _SECOND_OPINION}
    ranked = sorted(combined.items(), key=lambda item: item[1], reverse=True)
    return ranked[0][0], ranked[0][1] - ranked[1][1]


def identify_run(text: str, script: str, letters: int) -> LanguageGuess:
    """The language of a run of one script (``letters`` = its letter count)."""
    if letters < MIN_LETTERS:
        return UNKNOWN
    if script == ARABIC:
        verdict = arabic_script_rule(text, letters)
        if verdict.code is not None:  # its own letters: 0.93 for one, 0.99 from three
            return _guess(verdict.code, min(0.99, 0.9 + 0.03 * verdict.evidence))
        candidates = tuple(_ELDC_CODE.get(code, code) for code in verdict.candidates)
        return _identified(text, letters, candidates)
    if script == LATIN and looks_kurmanji(text, letters):
        return _guess("kmr", 0.95 if letters >= SHORT_LETTERS else 0.8)
    return _identified(text, letters)


def _line_runs(text: str) -> list[Run]:
    """Runs of every line, with offsets into ``text``."""
    runs: list[Run] = []
    offset = 0
    for line in text.splitlines(keepends=True):
        for run in script_runs(line, MIN_SPAN_LETTERS, MIN_SPAN_WORDS):
            runs.append(Run(run.script, run.start + offset, run.end + offset, run.letters, run.words))
        offset += len(line)
    return runs


def _main_script_guess(text: str, runs: Sequence[Run]) -> tuple[LanguageGuess, str, int]:
    """The language of the page's main script's text (its first ``MAX_CHARS`` characters).

    The main script has the most letters, Latin letters counting ``LATIN_WEIGHT`` beside
    another script's. Returns the guess, the script and the page's letter count.
    """
    weights: dict[str, float] = defaultdict(float)
    for run in runs:
        weights[run.script] += run.letters
    if LATIN in weights and len(weights) > 1:
        weights[LATIN] *= LATIN_WEIGHT
    script = max(weights, key=weights.__getitem__)
    pieces: list[str] = []
    size = letters = 0
    for run in runs:
        if run.script == script and size < MAX_CHARS:
            pieces.append(text[run.start : run.end])
            size += run.end - run.start + 1
            letters += run.letters
    joined = " ".join(pieces)
    if len(joined) > MAX_CHARS:
        letters = round(letters * MAX_CHARS / len(joined))
        joined = joined[:MAX_CHARS]
    return identify_run(joined, script, letters), script, sum(run.letters for run in runs)


def _spans(text: str, runs: Sequence[Run]) -> list[LanguageSpan]:
    strong = [run.letters >= MIN_SPAN_LETTERS for run in runs]
    if not any(strong):  # only short pieces: one span, read in its main script
        guess, script, letters = _main_script_guess(text, runs)
        return [
            LanguageSpan(
                runs[0].start, runs[-1].end, guess.code, guess.confidence, guess.variant, letters, script
            )
        ]
    spans: list[LanguageSpan] = []
    pending: list[Run] = []  # short pieces before the first strong run
    for run, is_strong in zip(runs, strong, strict=True):
        if not is_strong:
            if spans:
                spans[-1] = _extended(spans[-1], run.end, run.letters)
            else:
                pending.append(run)
            continue
        guess = identify_run(text[run.start : run.end], run.script, run.letters)
        start = pending[0].start if pending else run.start
        letters = run.letters + sum(piece.letters for piece in pending)
        pending = []
        span = LanguageSpan(start, run.end, guess.code, guess.confidence, guess.variant, letters, run.script)
        if spans and (spans[-1].code, spans[-1].variant) == (span.code, span.variant):
            spans[-1] = _joined(spans[-1], span)
        else:
            spans.append(span)
    return spans


def _extended(span: LanguageSpan, end: int, letters: int) -> LanguageSpan:
    return LanguageSpan(
        span.start, end, span.code, span.confidence, span.variant, span.letters + letters, span.script
    )


def _joined(first: LanguageSpan, second: LanguageSpan) -> LanguageSpan:
    letters = first.letters + second.letters
    confidence = (first.confidence * first.letters + second.confidence * second.letters) / letters
    return LanguageSpan(
        first.start, second.end, first.code, round(confidence, 4), first.variant, letters, first.script
    )


def load_models() -> None:
    """Load the identifiers now (a worker calls this at start-up, not on its first page)."""
    identify("warm-up")
    lingua_confidences("سلام")


def analyze(text: str) -> PageLanguages:
    """The page's language and its spans (spans cover the whole text).

    Spans: each line is cut into runs of sentences of one script; each run with at least
    ``MIN_SPAN_LETTERS`` letters is identified on its own, shorter ones join the span before
    them (the one after, at the start); neighbouring spans in one language are merged. The
    page's language is read from the text of its main script as a whole, so its confidence
    is that of one reading of up to ``MAX_CHARS`` characters, not an average over lines.
    """
    blanked = _blank_urls(text)
    runs = _line_runs(blanked)
    if not runs:
        return PageLanguages(UNKNOWN, ())
    return PageLanguages(detect_language(text), tuple(_spans(blanked, runs)))


def language_spans(text: str) -> list[LanguageSpan]:
    """Spans of one language in text order (see :func:`analyze`): an Arabic page with an
    English caption gives ``[ar, en]`` (or ``[en, ar]``, ``[ar, en, ar]``) with the caption's
    offsets."""
    return list(analyze(text).spans)


def detect_language(text: str) -> LanguageGuess:
    """The language of ``text`` with a confidence in 0..1, read from up to ``MAX_CHARS``
    characters of its main script; ``(None, 0.0)`` with fewer than ``MIN_LETTERS`` letters."""
    blanked = _blank_urls(text[:PAGE_PREFIX])
    runs = _line_runs(blanked)
    return _main_script_guess(blanked, runs)[0] if runs else UNKNOWN


def paragraph_languages(paragraphs: Iterable[str]) -> list[LanguageGuess]:
    """One guess per paragraph."""
    return [detect_language(paragraph) for paragraph in paragraphs]
