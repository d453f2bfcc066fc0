"""Language stage: the language of a page and of its parts, Arabic told from its neighbours.

How a text is read:

1. URLs and e-mail addresses are blanked (offsets are kept); digits, punctuation and the
   blanks belong to no script.
2. Each line is cut into runs of whole sentences of one writing system (:mod:`.scripts`): an
   English caption on its own line, or ending before the paragraph on the same line, is a
   run of its own; "Golden State Warriors" inside a Persian sentence is not.
3. Each run is identified by its script's route:

   * Arabic script: letter rules (:mod:`.rules`) decide Pashto, Uyghur, Sindhi, Sorani and
     Urdu by the letters only they write; otherwise eldc chooses among Arabic, Persian, Urdu
     and Sorani, and for a word or two on which it hesitates lingua gives a second opinion.
   * Latin script: the Kurmanji rule, then eldc.
   * Other scripts: eldc (60 languages).

4. The page's language is read from its main script's text as a whole, in its first
   ``PAGE_PREFIX`` characters or so (Latin letters count ``LATIN_WEIGHT`` beside another
   script's).
5. Spans cover the whole text: runs of ``MIN_SPAN_LETTERS`` letters or more are identified
   on their own (a run in the page's script that eldc reads in the page's language at a
   glance is not read again), a shorter one joins the span before it when written in the
   same script, else the span after it; neighbouring spans in one language merge. A span
   runs from its first sentence's first character to its last sentence's last (closing
   punctuation included, surrounding spaces not). :meth:`PageLanguages.others` keeps those
   in another language that are sure enough to be cut out: the Article's
   ``other_language_spans``.

Codes are ISO 639-1. Kurdish is ``ku`` with ``variant`` ``ckb`` (Sorani, Arabic script) or
``kmr`` (Kurmanji, Latin script). The identifiers load once per process (:func:`load_models`
at worker start-up, or on first use). Measured choices: ``docs/choices.md`` and
``python -m tests.quality.langid``.

Known limits: a caption in the same script as the article (French in an English page) is
split off only on a line of its own, not on the paragraph's line; South Azerbaijani and other
Arabic-script languages not listed above come out as their nearest neighbour (usually
Persian); Latin letters count a third beside Arabic-script ones, so an English page needs
three times more letters than an Arabic quote in it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from agents.language.identifier import identify, lingua_confidences, quick_code
from agents.language.rules import arabic_script_rule, looks_kurmanji
from agents.language.scripts import ARABIC, LATIN, LATIN_WEIGHT, Run, script_runs

MIN_LETTERS = 3  # fewer letters than this and there is nothing to identify
MAX_CHARS = 2_000  # the page's language is read from this much of its main script's text
PAGE_PREFIX = 2 * MAX_CHARS  # … found in this many first characters (spans cover all the text)
MIN_SPAN_LETTERS = 15  # a run of another script stands alone (as a span) from this size
MIN_SPAN_WORDS = 3
SHORT_LETTERS = 20  # below this, a text is a word or two: confidences are lower
# A span in another language is listed (PageLanguages.others) from this confidence: in
# another script than the page's, and in the page's own script.
OTHER_SCRIPT_MIN_CONFIDENCE = 0.85
SAME_SCRIPT_MIN_CONFIDENCE = 0.98
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
    """``text[start:end]`` (whole sentences, without the spaces around them) is in one
    language. A span in the page's language found at a glance carries the page's confidence."""

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
    script: str = ""  # ISO 15924 code of the page's main script

    def others(self) -> tuple[LanguageSpan, ...]:
        """The spans in another language than the page's that are sure enough to be cut out
        (none when the page's language is unknown).

        A span in another script than the page's main one is another language by its letters
        (an English caption in an Arabic article); only which one is in doubt, so from
        ``OTHER_SCRIPT_MIN_CONFIDENCE``. A span in the page's own script (a Persian quote in
        an Arabic article, English in a German one) is told apart by the identifier alone,
        which is unsure of names, titles and code; it counts from
        ``SAME_SCRIPT_MIN_CONFIDENCE``, an answer eldc calls reliable or a language's own
        letters, three or more.
        """
        page = self.language
        if page.code is None:
            return ()
        return tuple(
            span
            for span in self.spans
            if span.code not in (None, page.code)
            and span.confidence
            >= (SAME_SCRIPT_MIN_CONFIDENCE if span.script == self.script else OTHER_SCRIPT_MIN_CONFIDENCE)
        )


UNKNOWN = LanguageGuess(None, 0.0)


def _blank_urls(text: str) -> str:
    """URLs and e-mail addresses replaced by as many ``_`` (offsets unchanged): no letters,
    no script, but not a space either, so a span keeps a link that ends its sentence."""
    if "@" not in text and "://" not in text and "www." not in text.lower():
        return text
    return _URL_RE.sub(lambda match: "_" * len(match.group()), text)


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


def _line_runs(text: str, offset: int = 0) -> list[Run]:
    """Runs of every line of ``text``, with offsets into it plus ``offset``."""
    runs: list[Run] = []
    for line in text.splitlines(keepends=True):
        for run in script_runs(line, MIN_SPAN_LETTERS, MIN_SPAN_WORDS):
            runs.append(Run(run.script, run.start + offset, run.end + offset, run.letters, run.words))
        offset += len(line)
    return runs


def _prefix_end(text: str) -> int:
    """Where the text the page's language is read from ends: at the end of the line running
    at ``PAGE_PREFIX`` characters (at ``PAGE_PREFIX`` when that line goes on for as long)."""
    if len(text) <= PAGE_PREFIX:
        return len(text)
    newline = text.find("\n", PAGE_PREFIX, 2 * PAGE_PREFIX)
    return newline if newline >= 0 else PAGE_PREFIX


def _main_script_guess(text: str, runs: Sequence[Run]) -> tuple[LanguageGuess, str]:
    """The language of the page's main script's text (its first ``MAX_CHARS`` characters),
    and that script.

    The main script has the most letters, Latin letters counting ``LATIN_WEIGHT`` beside
    another script's.
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
    return identify_run(joined, script, letters), script


def _run_language(text: str, run: Run, page: LanguageGuess, page_script: str) -> LanguageGuess:
    """A run's language. A run in the page's main script that eldc, at a glance, reads in
    the page's language is taken to be in it (with the page's confidence); any other run is
    read on its own (:func:`identify_run`)."""
    if run.script == page_script and page.code is not None and quick_code(text) == page.code:
        return page
    return identify_run(text, run.script, run.letters)


@dataclass(slots=True)
class _Growing:
    """A span being built: its guess, its extent, its letters and their confidence sum."""

    guess: LanguageGuess
    start: int
    end: int
    letters: int
    weighted: float  # confidence × letters, summed over the runs it was read from
    script: str

    def span(self) -> LanguageSpan:
        confidence = round(self.weighted / self.letters, 4) if self.letters else self.guess.confidence
        return LanguageSpan(
            self.start, self.end, self.guess.code, confidence, self.guess.variant, self.letters, self.script
        )


def _spans(text: str, runs: Sequence[Run], page: LanguageGuess, page_script: str) -> list[LanguageSpan]:
    strong = [run.letters >= MIN_SPAN_LETTERS for run in runs]
    if not any(strong):  # only short pieces: one span, in the page's language
        letters = sum(run.letters for run in runs)
        return [
            LanguageSpan(
                runs[0].start, runs[-1].end, page.code, page.confidence, page.variant, letters, page_script
            )
        ]
    spans: list[_Growing] = []
    pending: list[Run] = []  # short runs waiting for the span after them
    for run, is_strong in zip(runs, strong, strict=True):
        if not is_strong:
            if spans and not pending and spans[-1].script == run.script:
                spans[-1].end = run.end
                spans[-1].letters += run.letters  # read with the span: its confidence is not diluted
                spans[-1].weighted += spans[-1].guess.confidence * run.letters
            else:
                pending.append(run)
            continue
        guess = _run_language(text[run.start : run.end], run, page, page_script)
        start = pending[0].start if pending else run.start
        letters = run.letters + sum(piece.letters for piece in pending)
        pending = []
        last = spans[-1] if spans else None
        if last is not None and (last.guess.code, last.guess.variant) == (guess.code, guess.variant):
            last.end = run.end
            last.letters += letters
            last.weighted += guess.confidence * letters
        else:
            spans.append(_Growing(guess, start, run.end, letters, guess.confidence * letters, run.script))
    if pending:  # short runs at the end, in another script than the last span: they join it
        spans[-1].end = pending[-1].end
        extra = sum(piece.letters for piece in pending)
        spans[-1].letters += extra
        spans[-1].weighted += spans[-1].guess.confidence * extra
    return [growing.span() for growing in spans]


def load_models() -> None:
    """Load the identifiers now (a worker calls this at start-up, not on its first page)."""
    identify("warm-up")
    lingua_confidences("سلام")


def analyze(text: str) -> PageLanguages:
    """The page's language and its spans (spans cover the whole text).

    Spans: each line is cut into runs of sentences of one script; each run with at least
    ``MIN_SPAN_LETTERS`` letters is identified (:func:`_run_language`), a shorter one joins
    the span before it when written in the same script, else the span after it; neighbouring
    spans in one language are merged. The page's language is :func:`detect_language`'s: one
    reading of up to ``MAX_CHARS`` characters of its main script, not an average over lines.
    """
    blanked = _blank_urls(text)
    cut = _prefix_end(blanked)
    head = _line_runs(blanked[:cut])
    runs = head + _line_runs(blanked[cut:], cut)
    if not runs:
        return PageLanguages(UNKNOWN, ())
    page, script = _main_script_guess(blanked, head) if head else (UNKNOWN, runs[0].script)
    return PageLanguages(page, tuple(_spans(blanked, runs, page, script)), script)


def language_spans(text: str) -> list[LanguageSpan]:
    """Spans of one language in text order (see :func:`analyze`): an Arabic page with an
    English caption gives ``[ar, en]`` (or ``[en, ar]``, ``[ar, en, ar]``) with the caption's
    offsets."""
    return list(analyze(text).spans)


def detect_language(text: str) -> LanguageGuess:
    """The language of ``text`` with a confidence in 0..1, read from up to ``MAX_CHARS``
    characters of its main script in its first ``PAGE_PREFIX`` or so (to a line's end);
    ``(None, 0.0)`` with fewer than ``MIN_LETTERS`` letters."""
    blanked = _blank_urls(text[: _prefix_end(text)])
    runs = _line_runs(blanked)
    return _main_script_guess(blanked, runs)[0] if runs else UNKNOWN


def paragraph_languages(paragraphs: Iterable[str]) -> list[LanguageGuess]:
    """One guess per paragraph."""
    return [detect_language(paragraph) for paragraph in paragraphs]
