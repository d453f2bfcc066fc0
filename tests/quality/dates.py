"""Dates evaluation: Khabar's dates stage beside htmldate, in one run, on the same pages.

Run from the repository root::

    uv run python -m tests.quality.dates            # the table
    uv run python -m tests.quality.dates --errors   # plus every wrong/missed page of Khabar

Sets (``../shared``):

* ``bbaw`` and ``mediacloud``: ``eval/htmldate`` (htmldate's own evaluation pages, gold in
  ``eval_default.json`` / ``eval_mediacloud_2020.json``), 800 + 200 pages; five MediaCloud
  pages have no date (gold ``NaN``): for them the right answer is no date.
* ``arabic-script``: the 11 MediaCloud pages listed in ``arabic_script_subset.json``
  (the same results, counted again).
* ``seeds``: the five plain-text pages of ``samples/seeds``, gold in
  ``tests/quality/gold/seeds_dates.json``.

Systems:

* ``khabar``: ``agents.clean.clean(RawPage(...))`` then ``agents.dates.detect_dates``; a page
  the clean stage rejects (it would go to dead letters) counts as no date.
* ``htmldate-ext`` / ``htmldate-fast``: ``find_date(html, original_date=True,
  extensive_search=True|False)``, htmldate's own benchmark call (no URL), on the page decoded
  the way its benchmark decodes it (``htmldate.utils.decode_file``).

Metrics, per set and system: ``acc`` = share of pages answered exactly right (a date equal
to the gold day, or no date when the gold has none); ``prec`` = of the dates returned, the
share that are right; ``wrong`` = dates returned that are not the gold day; ``null`` = pages
with no date returned; ``pages/s`` = pages divided by the time spent in the system's date
call only (Khabar: ``detect_dates``; the clean stage is another stage and is reported on its
own line). Systems run interleaved page by page so machine load affects them alike.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from htmldate import __version__ as htmldate_version
from htmldate import find_date
from htmldate.utils import decode_file

from agents import StageError
from agents.clean import Cleaned, clean
from agents.dates import detect_dates
from schemas import RawPage

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
EVAL_DIR = SHARED / "eval" / "htmldate"
SEEDS_DIR = SHARED / "samples" / "seeds"
SEEDS_GOLD = Path(__file__).resolve().parent / "gold" / "seeds_dates.json"

# The eval pages carry no fetch time; the data snapshot's date stands in for it (htmldate
# likewise bounds dates by today). The seeds were crawled the day after seed 000 appeared.
EVAL_FETCHED_AT = datetime(2026, 6, 1, tzinfo=UTC)
SEEDS_FETCHED_AT = datetime(2026, 2, 7, 12, 0, tzinfo=UTC)

SYSTEMS = ("khabar", "htmldate-ext", "htmldate-fast")

# Gold days that the page itself contradicts. The table uses the published gold; rows marked
# "(erratum)" recount the affected set with these corrections.
ERRATA: dict[str, tuple[str, str]] = {
    "1641304459.html": (
        "2020-06-22",
        "gold 2020-07-02, but the article says «دوشنبه ۲ تير ۱۳۹۹ - 12:09:08» = Monday 2 Tir 1399 (Jalali)"
        " = Monday 22 June 2020 (2 July 2020 was a Thursday); its URL id 120200622… agrees",
    ),
}
SETS = ("bbaw", "mediacloud", "arabic-script", "seeds")


@dataclass(frozen=True, slots=True)
class Page:
    key: str  # file name
    url: str
    gold: str | None  # YYYY-MM-DD, or None when the page has no publication date
    body: bytes
    fetched_at: datetime
    content_type: str | None
    sets: tuple[str, ...]


@dataclass(slots=True)
class Tally:
    pages: int = 0
    right: int = 0
    returned: int = 0
    returned_right: int = 0
    wrong: int = 0
    nulls: int = 0
    seconds: float = 0.0

    def add(self, gold: str | None, answer: str | None, seconds: float) -> None:
        self.pages += 1
        self.seconds += seconds
        if answer is None:
            self.nulls += 1
            self.right += gold is None
            return
        self.returned += 1
        if answer == gold:
            self.right += 1
            self.returned_right += 1
        else:
            self.wrong += 1


@dataclass(slots=True)
class Run:
    tallies: dict[tuple[str, str], Tally] = field(default_factory=dict)
    answers: dict[tuple[str, str], str | None] = field(default_factory=dict)  # (system, key)
    sources: dict[str, str | None] = field(default_factory=dict)  # key -> khabar's source
    clean_seconds: float = 0.0
    clean_pages: int = 0
    clean_rejected: list[str] = field(default_factory=list)

    def tally(self, set_name: str, system: str) -> Tally:
        return self.tallies.setdefault((set_name, system), Tally())


# --------------------------------------------------------------------------- loading


def _gold(value: object) -> str | None:
    if isinstance(value, str):
        return value
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    raise ValueError(f"unexpected gold value {value!r}")


def load_eval_pages() -> list[Page]:
    arabic = set(json.loads((EVAL_DIR / "arabic_script_subset.json").read_text("utf-8")))
    pages: list[Page] = []
    for set_name, gold_file in (("bbaw", "eval_default.json"), ("mediacloud", "eval_mediacloud_2020.json")):
        entries = json.loads((EVAL_DIR / gold_file).read_text("utf-8"))
        for url, entry in entries.items():
            name = entry["file"]
            body = gzip.decompress((EVAL_DIR / "pages" / f"{name}.gz").read_bytes())
            sets = (set_name, "arabic-script") if set_name == "mediacloud" and name in arabic else (set_name,)
            pages.append(Page(name, url, _gold(entry["date"]), body, EVAL_FETCHED_AT, None, sets))
    return pages


def load_seed_pages() -> list[Page]:
    gold = json.loads(SEEDS_GOLD.read_text("utf-8"))
    return [
        Page(
            name,
            f"https://seeds.example/{name}",
            _gold(day),
            (SEEDS_DIR / name).read_bytes(),
            SEEDS_FETCHED_AT,
            "text/plain; charset=utf-8",
            ("seeds",),
        )
        for name, day in sorted(gold.items())
    ]


# --------------------------------------------------------------------------- systems


def _clean(page: Page, run: Run) -> Cleaned | None:
    raw = RawPage(url=page.url, fetched_at=page.fetched_at, body=page.body, content_type=page.content_type)
    start = time.perf_counter()
    try:
        cleaned = clean(raw)
    except StageError:
        run.clean_rejected.append(page.key)
        cleaned = None
    run.clean_seconds += time.perf_counter() - start
    run.clean_pages += 1
    return cleaned


def run_khabar(page: Page, run: Run) -> tuple[str | None, float]:
    cleaned = _clean(page, run)
    if cleaned is None:
        return None, 0.0
    start = time.perf_counter()
    dates = detect_dates(cleaned, page.url, page.fetched_at)
    seconds = time.perf_counter() - start
    run.sources[page.key] = dates.published_source
    answer = dates.published_at.date().isoformat() if dates.published_at is not None else None
    return answer, seconds


def _htmldate(extensive: bool) -> Callable[[Page, Run], tuple[str | None, float]]:
    def run_one(page: Page, run: Run) -> tuple[str | None, float]:
        html = decode_file(page.body)
        start = time.perf_counter()
        try:
            found = find_date(html, original_date=True, extensive_search=extensive)
        except Exception:  # htmldate's own benchmark would crash; count as no date
            found = None
        return found or None, time.perf_counter() - start

    return run_one


RUNNERS: dict[str, Callable[[Page, Run], tuple[str | None, float]]] = {
    "khabar": run_khabar,
    "htmldate-ext": _htmldate(True),
    "htmldate-fast": _htmldate(False),
}


def evaluate(pages: Iterable[Page], systems: tuple[str, ...]) -> Run:
    run = Run()
    for page in pages:
        for system in systems:
            answer, seconds = RUNNERS[system](page, run)
            run.answers[(system, page.key)] = answer
            overall = () if "seeds" in page.sets else ("overall",)
            for set_name in (*page.sets, *overall):
                run.tally(set_name, system).add(page.gold, answer, seconds)
    return run


# --------------------------------------------------------------------------- report


def _rate(numerator: int, denominator: int) -> str:
    return f"{numerator / denominator:.3f}" if denominator else "  -  "


def table(run: Run, systems: tuple[str, ...]) -> str:
    header = f"{'set':<15} {'system':<14} {'pages':>5} {'acc':>6} {'prec':>6} " + (
        f"{'wrong':>6} {'null':>5} {'pages/s':>8}"
    )
    lines = [header, "-" * len(header)]
    for set_name in ("overall", "bbaw", "mediacloud", "arabic-script", "seeds"):
        for system in systems:
            tally = run.tallies.get((set_name, system))
            if tally is None:
                continue
            speed = f"{tally.pages / tally.seconds:8.0f}" if tally.seconds else "       -"
            lines.append(
                f"{set_name:<15} {system:<14} {tally.pages:>5} {_rate(tally.right, tally.pages):>6} "
                f"{_rate(tally.returned_right, tally.returned):>6} {tally.wrong:>6} {tally.nulls:>5} {speed}"
            )
    return "\n".join(lines)


def errors(run: Run, pages: list[Page]) -> str:
    lines = []
    for page in pages:
        answer = run.answers.get(("khabar", page.key))
        if answer == page.gold:
            continue
        kind = "MISS " if answer is None else "WRONG"
        ext = run.answers.get(("htmldate-ext", page.key))
        source = run.sources.get(page.key)
        lines.append(
            f"{kind} {page.key:<26} gold={page.gold} khabar={answer} ({source}) htmldate-ext={ext} {page.url}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.quality.dates", description=__doc__.split("\n")[0])
    parser.add_argument("--errors", action="store_true", help="list Khabar's wrong and missed pages")
    parser.add_argument("--systems", default=",".join(SYSTEMS), help="comma-separated subset of systems")
    args = parser.parse_args(argv)
    systems = tuple(name for name in args.systems.split(",") if name)
    unknown = set(systems) - set(SYSTEMS)
    if unknown:
        parser.error(f"unknown systems: {sorted(unknown)}")
    pages = load_eval_pages() + load_seed_pages()
    # Warm up imports and caches (lxml, htmldate, the clean stage) outside the timings.
    evaluate(pages[:3], systems)
    run = evaluate(pages, systems)
    print(f"Dates: Khabar vs htmldate {htmldate_version} (same run, one process, interleaved page by page)")
    print(
        f"eval pages fetched_at={EVAL_FETCHED_AT.isoformat()}, "
        f"seeds fetched_at={SEEDS_FETCHED_AT.isoformat()}"
    )
    print(table(run, systems))
    if "khabar" in systems and run.clean_pages:
        print(
            f"khabar clean stage (not in pages/s above): {run.clean_pages / run.clean_seconds:.0f} pages/s; "
            f"rejected {len(run.clean_rejected)} page(s) (counted as no date): "
            f"{', '.join(run.clean_rejected)}"
        )
    for key, (day, why) in ERRATA.items():
        print(f"erratum {key}: {why} -> {day}")
        for page in pages:
            if page.key != key:
                continue
            for set_name in page.sets:
                for system in systems:
                    corrected = Tally()
                    for other in pages:
                        if set_name in other.sets:
                            gold = ERRATA[other.key][0] if other.key in ERRATA else other.gold
                            corrected.add(gold, run.answers[(system, other.key)], 0.0)
                    accuracy = _rate(corrected.right, corrected.pages)
                    precision = _rate(corrected.returned_right, corrected.returned)
                    label = f"{set_name} (erratum)"
                    print(
                        f"  {label:<24} {system:<14} acc {accuracy} prec {precision} wrong {corrected.wrong}"
                    )
    if args.errors and "khabar" in systems:
        print(errors(run, pages))
    return 0


if __name__ == "__main__":
    sys.exit(main())
