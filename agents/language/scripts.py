"""Words by writing system, and runs of sentences of one writing system within a line.

A word is a maximal run of letters (with their combining marks) of one script, found by one
regular expression. Digits, punctuation and spaces belong to no script.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

ARABIC = "Arab"
LATIN = "Latn"
CYRILLIC = "Cyrl"
HEBREW = "Hebr"
GREEK = "Grek"
DEVANAGARI = "Deva"
CJK = "Hani"  # Han, kana and Hangul together: the classifier tells them apart
OTHER = "Zyyy"

# Latin letters beside another script's count this much: menus, credits, names and captions
# in Latin letters are common on Arabic-script pages, the reverse is rare.
LATIN_WEIGHT = 1 / 3

# Arabic-script letters and marks (no digits, no Arabic punctuation ، ؛ ؟ ٪ ۔).
_ARABIC_CLASS = (
    "\u0610-\u061a\u0620-\u065f\u066e-\u06d3\u06d5-\u06dc\u06df-\u06e8\u06ea-\u06ef\u06fa-\u06ff"
    "\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufefc"
)
# Latin letters: ASCII, Latin-1 and Extended-A/B without × and ÷, IPA, Vietnamese, combining marks.
_LATIN_CLASS = "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u0300-\u036f\u1e00-\u1eff"

_WORD_RE = re.compile(
    f"(?P<{ARABIC}>[{_ARABIC_CLASS}]+)"
    f"|(?P<{LATIN}>[{_LATIN_CLASS}]+)"
    f"|(?P<{CYRILLIC}>[\u0400-\u052f]+)"
    f"|(?P<{HEBREW}>[\u0591-\u05f4]+)"
    f"|(?P<{GREEK}>[\u0370-\u03ff\u1f00-\u1fff]+)"
    f"|(?P<{DEVANAGARI}>[\u0900-\u097f]+)"
    f"|(?P<{CJK}>[\u1100-\u11ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]+)"
    f"|(?P<{OTHER}>[^\\W\\d_]+)"
)


# Any letter not of one script (the quick test that a line is written in that script only),
# and that script's letters, for the scripts most lines are written in.
_OTHER_LETTER_RE = {
    ARABIC: re.compile(rf"[^\W\d_{_ARABIC_CLASS}]"),
    LATIN: re.compile(rf"[^\W\d_{_LATIN_CLASS}]"),
}
_LETTERS_RE = {ARABIC: re.compile(f"[{_ARABIC_CLASS}]+"), LATIN: re.compile(f"[{_LATIN_CLASS}]+")}


@dataclass(frozen=True, slots=True)
class Run:
    """Whole sentences of one script: ``line[start:end]``, without the spaces around them.

    ``words`` is counted for lines of more than one script only (0 otherwise): it decides
    whether a run stands alone beside another script's.
    """

    script: str
    start: int
    end: int
    letters: int
    words: int


def script_letters(text: str) -> Counter[str]:
    """Letters per script."""
    counts: Counter[str] = Counter()
    for match in _WORD_RE.finditer(text):
        script = match.lastgroup
        assert script is not None
        counts[script] += match.end() - match.start()
    return counts


def words_of(text: str, script: str) -> str:
    """The words of ``text`` written in ``script``, joined by spaces."""
    return " ".join(match.group() for match in _WORD_RE.finditer(text) if match.lastgroup == script)


# Where a sentence (or a clause a caption could end with) ends: the mark, closing quotes
# or brackets, then a space or the end. "1921.jpg" and "U.S" do not end one.
_SENTENCE_END_RE = re.compile(r"""[.!?;:؟؛۔…]+["'”’»)\]]*(?=\s|$)""")


def _sentence_bounds(line: str) -> list[tuple[int, int]]:
    bounds: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_END_RE.finditer(line):
        bounds.append((start, match.end()))
        start = match.end()
    if start < len(line):
        bounds.append((start, len(line)))
    return bounds


def _stripped(line: str, start: int, end: int) -> tuple[int, int]:
    """``line[start:end]`` without the spaces at its ends."""
    while start < end and line[start].isspace():
        start += 1
    while end > start and line[end - 1].isspace():
        end -= 1
    return start, end


def _sentence_run(line: str, start: int, end: int) -> Run | None:
    """The sentence ``line[start:end]`` as a run of its main script (None without letters)."""
    letters: dict[str, int] = {}
    words = 0
    for match in _WORD_RE.finditer(line, start, end):
        script = match.lastgroup or OTHER
        letters[script] = letters.get(script, 0) + match.end() - match.start()
        words += 1
    if not words:
        return None
    first, last = _stripped(line, start, end)
    if len(letters) > 1 and LATIN in letters:
        weighted = {
            script: count * (LATIN_WEIGHT if script == LATIN else 1.0) for script, count in letters.items()
        }
        main = max(weighted, key=weighted.__getitem__)
    else:
        main = max(letters, key=letters.__getitem__)
    return Run(main, first, last, sum(letters.values()), words)


def _single_script_run(line: str) -> list[Run] | None:
    """The line as one run when all its letters are Arabic-script or all Latin ([] without
    letters); None when the line must be read sentence by sentence. A few regular-expression
    scans instead of a loop over the words: most lines of a page are of this kind."""
    first = _WORD_RE.search(line)
    if first is None:
        return []
    script = first.lastgroup
    assert script is not None
    other = _OTHER_LETTER_RE.get(script)
    if other is None or other.search(line, first.end()) is not None:
        return None
    letters = len(line) - len(_LETTERS_RE[script].sub("", line))
    start, end = _stripped(line, 0, len(line))
    return [Run(script, start, end, letters, 0)]


def script_runs(line: str, min_letters: int, min_words: int) -> list[Run]:
    """A line cut into runs of whole sentences, each sentence in its main script.

    A sentence belongs to the script most of its letters are written in (Latin letters count
    ``LATIN_WEIGHT`` beside another script's: names, brands and titles in Latin letters are
    common inside Arabic-script sentences), so an English caption before an Arabic paragraph
    on the same line is a run of its own while "Golden State Warriors" inside a Persian
    sentence is not. Neighbouring sentences of one script make one run, and a run with fewer
    than ``min_letters`` letters or ``min_words`` words joins the run before it (the one
    after it at the start of the line).
    """
    single = _single_script_run(line)
    if single is not None:
        return single
    runs: list[Run] = []
    for start, end in _sentence_bounds(line):
        run = _sentence_run(line, start, end)
        if run is None:
            continue
        if runs and runs[-1].script == run.script:
            runs[-1] = _merged(run.script, [runs[-1], run])
        else:
            runs.append(run)
    if len(runs) <= 1:
        return runs
    kept: list[Run] = []
    pending: list[Run] = []  # small runs at the start of the line
    for run in runs:
        if run.letters >= min_letters and run.words >= min_words:
            if kept and kept[-1].script == run.script:
                kept[-1] = _merged(run.script, [kept[-1], run])
            else:
                kept.append(_merged(run.script, [*pending, run]))
            pending = []
        elif kept:
            kept[-1] = _merged(kept[-1].script, [kept[-1], run])
        else:
            pending.append(run)
    if not kept:  # nothing stands alone: the line is one run of its main script
        return [_merged(max(runs, key=lambda run: run.letters).script, runs)]
    return kept


def _merged(script: str, runs: list[Run]) -> Run:
    return Run(
        script,
        min(run.start for run in runs),
        max(run.end for run in runs),
        sum(run.letters for run in runs),
        sum(run.words for run in runs),
    )
