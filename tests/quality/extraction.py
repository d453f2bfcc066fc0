"""Extraction quality harness: Khabar's clean stage and trafilatura side by side, one run.

    uv run python -m tests.quality.extraction [--limit N] [--only khabar|trafilatura] [--details F]

Datasets (from ``../shared/eval`` and ``../shared/samples``; each README.txt there says more):

* ``scrapinghub`` - the article-extraction benchmark, 181 pages with gold bodies, scored with
  its own metric (4-gram shingle P/R/F1, macro over pages; see :mod:`.extraction_metrics`).
* ``trafilatura-eval`` - 990 pages with "with"/"without" snippets and gold titles, scored with
  trafilatura's own metric (snippet TP/FP/FN summed over the corpus).
* ``arabic-pages`` - the Arabic-script pages that have a body label (two full bodies, one
  page of snippets; the others have only a date and are left out): shingle P/R for full
  bodies, snippet P/R for the snippet page, macro over pages.
* ``seeds`` - the five plain-text crawls, gold in ``gold/seeds_extraction.json``: shingle
  P/R/F1 against the body paragraphs; leaks = must-not-appear lines found in the body.
* ``arabic (all)`` - arabic-pages and seeds together, macro over their pages.

Systems: ``khabar`` (``agents.clean.clean`` on the page bytes, decoding included),
``trafilatura`` (``extract`` with ``include_comments=False``, as the benchmark's own runner
calls it) and ``trafilatura-precision`` (the same with ``favor_precision=True``). pages/s
counts the CPU time (``time.process_time``) of the extraction calls only, in this one
process, the systems taking turns page by page (fair on a shared, busy machine);
trafilatura's title comes from an untimed ``extract_metadata`` call, so its speed is that
of body extraction alone.

Columns: F1 / precision / recall as above; leaks = "without" snippets or must-not-appear
lines found in the body (summed); title acc. = share of pages with a gold title whose
title is the same after NFKC, case folding, collapsing spaces and trimming outer quotes
(a seed without a headline expects none); author acc. = share of pages with a gold author
(trafilatura's corpus: 538 pages) where a name given contains the gold name or is contained in
it, after the same folding (several gold names are joined with "; "; trafilatura's author is
``extract_metadata``'s); empty = pages with no body text at all.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import tarfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agents import StageError
from agents.clean import clean
from schemas import RawPage
from tests.quality.extraction_metrics import (
    SnippetCounts,
    macro_scores,
    micro_scores,
    same_author,
    same_title,
    shingle_counts,
    snippet_counts,
)

HERE = Path(__file__).resolve().parent
SHARED = HERE.parents[2] / "shared"
EVAL = SHARED / "eval"
SEEDS = SHARED / "samples" / "seeds"
SEED_GOLD = HERE / "gold" / "seeds_extraction.json"
FETCHED_AT = datetime(2026, 2, 6, tzinfo=UTC)
HTML = "text/html"


@dataclass(frozen=True, slots=True)
class Page:
    dataset: str
    id: str
    url: str
    body: bytes
    content_type: str
    gold_body: str | None = None  # full body: shingle metric
    with_: tuple[str, ...] = ()  # snippets that must appear
    without: tuple[str, ...] = ()  # snippets or lines that must not appear
    has_title: bool = False
    gold_title: str | None = None
    gold_author: str | None = None


@dataclass(frozen=True, slots=True)
class Extraction:
    text: str
    title: str | None
    seconds: float
    error: str | None = None
    authors: tuple[str, ...] = ()


@dataclass(slots=True)
class PageResult:
    page: Page
    system: str
    extraction: Extraction
    precision: float | None = None
    recall: float | None = None
    snippets: SnippetCounts | None = None
    leaks: int = 0
    title_ok: bool | None = None
    author_ok: bool | None = None


# --- datasets ------------------------------------------------------------------------------


def scrapinghub(limit: int | None) -> list[Page]:
    root = EVAL / "article-extraction-benchmark"
    truth: dict[str, dict[str, str]] = json.loads((root / "ground-truth.json").read_text("utf-8"))
    pages = []
    for key in sorted(truth)[:limit]:
        body = gzip.decompress((root / "html" / f"{key}.html.gz").read_bytes())
        item = truth[key]
        pages.append(Page("scrapinghub", key, item["url"], body, HTML, gold_body=item["articleBody"]))
    return pages


def trafilatura_eval(limit: int | None) -> list[Page]:
    root = EVAL / "trafilatura-eval"
    data: dict[str, dict[str, Any]] = json.loads((root / "evaldata.json").read_text("utf-8"))
    manifest: dict[str, str] = json.loads((root / "manifest.json").read_text("utf-8"))
    chosen = sorted(data.items(), key=lambda item: str(item[1]["file"]))[:limit]
    wanted = {str(item["file"]) for _, item in chosen}
    archived = _from_tar(
        root / "pages.tar.xz",
        {manifest[name].split(":", 1)[1] for name in wanted if manifest[name].startswith("pages.tar.xz:")},
    )
    pages = []
    for url, item in chosen:
        name = str(item["file"])
        location = manifest[name]
        if location.startswith("pages.tar.xz:"):
            body = archived[location.split(":", 1)[1]]
        else:
            body = gzip.decompress((root / location).read_bytes())
        title = item.get("title") or None
        author = item.get("author") or None
        pages.append(
            Page(
                "trafilatura-eval",
                name,
                url,
                body,
                HTML,
                with_=tuple(item["with"]),
                without=tuple(item["without"]),
                has_title=title is not None,
                gold_title=title,
                gold_author="; ".join(author) if isinstance(author, list) else author,
            )
        )
    return pages


def _from_tar(path: Path, members: set[str]) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    if not members:
        return found
    with tarfile.open(path) as archive:
        for member in archive:
            if member.name in members:
                handle = archive.extractfile(member)
                if handle is not None:
                    found[member.name] = handle.read()
    return found


def arabic_pages(limit: int | None) -> list[Page]:
    root = EVAL / "arabic-pages"
    pages = []
    for line in (root / "gold.jsonl").read_text("utf-8").splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        gold = item["gold"]
        if not (gold.get("body") or gold.get("with")):
            continue  # a date label only: nothing to score extraction against
        title = gold.get("title") or None
        pages.append(
            Page(
                "arabic-pages",
                item["id"],
                item["url"],
                gzip.decompress((root / item["file"]).read_bytes()),
                HTML,
                gold_body=gold.get("body") or None,
                with_=tuple(gold.get("with") or ()),
                without=tuple(gold.get("without") or ()),
                has_title=title is not None,
                gold_title=title,
            )
        )
    return pages[:limit]


def seeds(limit: int | None) -> list[Page]:
    gold = json.loads(SEED_GOLD.read_text("utf-8"))
    pages = []
    for item in gold["seeds"][:limit]:
        path = SEEDS / item["file"]
        pages.append(
            Page(
                "seeds",
                path.stem,
                f"https://seeds.khabar.invalid/{path.stem}",
                path.read_bytes(),
                "text/plain",
                gold_body="\n\n".join(item["paragraphs"]),
                without=tuple(item["must_not_appear"]),
                has_title=True,
                gold_title=item["title"],
            )
        )
    return pages


DATASETS: dict[str, Callable[[int | None], list[Page]]] = {
    "scrapinghub": scrapinghub,
    "trafilatura-eval": trafilatura_eval,
    "arabic-pages": arabic_pages,
    "seeds": seeds,
}
COMBINED = {"arabic (all)": ("arabic-pages", "seeds")}


# --- systems -------------------------------------------------------------------------------


def run_khabar(page: Page) -> Extraction:
    raw = RawPage(url=page.url, fetched_at=FETCHED_AT, body=page.body, content_type=page.content_type)
    start = time.process_time()
    try:
        cleaned = clean(raw)
    except StageError as error:
        return Extraction("", None, time.process_time() - start, error.reason)
    seconds = time.process_time() - start
    return Extraction("\n\n".join(cleaned.paragraphs), cleaned.title, seconds, authors=tuple(cleaned.authors))


_METADATA: dict[tuple[str, str], tuple[str | None, tuple[str, ...]]] = {}


def _trafilatura_metadata(page: Page) -> tuple[str | None, tuple[str, ...]]:
    """The title and author trafilatura's metadata extraction finds (untimed, once per page)."""
    key = (page.dataset, page.id)
    if key not in _METADATA:
        from trafilatura import load_html
        from trafilatura.metadata import extract_metadata

        title: str | None = None
        authors: tuple[str, ...] = ()
        try:
            tree = load_html(page.body)
            if tree is not None:
                found = extract_metadata(tree, default_url=page.url, extensive=False)
                title, authors = found.title, (found.author,) if found.author else ()
        except Exception:  # the harness scores failures, it does not stop on them
            title, authors = None, ()
        _METADATA[key] = (title, authors)
    return _METADATA[key]


def trafilatura_runner(*, favor_precision: bool) -> Callable[[Page], Extraction]:
    import trafilatura

    def run(page: Page) -> Extraction:
        start = time.process_time()
        try:
            text = trafilatura.extract(
                page.body, url=page.url, include_comments=False, favor_precision=favor_precision
            )
        except Exception as error:  # a crash counts as an empty extraction
            return Extraction("", None, time.process_time() - start, type(error).__name__)
        seconds = time.process_time() - start
        title, authors = _trafilatura_metadata(page)
        return Extraction(text or "", title, seconds, None if text else "empty", authors)

    return run


def systems(only: str | None) -> dict[str, Callable[[Page], Extraction]]:
    chosen: dict[str, Callable[[Page], Extraction]] = {}
    if only in (None, "khabar"):
        chosen["khabar"] = run_khabar
    if only in (None, "trafilatura"):
        chosen["trafilatura"] = trafilatura_runner(favor_precision=False)
        chosen["trafilatura-precision"] = trafilatura_runner(favor_precision=True)
    return chosen


# --- scoring -------------------------------------------------------------------------------


def score(page: Page, system: str, extraction: Extraction) -> PageResult:
    result = PageResult(page, system, extraction)
    text = extraction.text
    if page.gold_body is not None:
        shares = shingle_counts(page.gold_body, text)
        result.precision, result.recall = shares.precision, shares.recall
    if page.with_ or page.without:
        counts = snippet_counts(text, page.with_, page.without)
        result.snippets = counts
        result.leaks = counts.fp
        if page.gold_body is None:
            result.precision, result.recall = counts.precision, counts.recall
    if page.has_title:
        result.title_ok = same_title(page.gold_title, extraction.title)
    if page.gold_author is not None:
        result.author_ok = same_author(page.gold_author, extraction.authors)
    return result


@dataclass(slots=True)
class Row:
    dataset: str
    system: str
    pages: int
    f1: float
    precision: float
    recall: float
    leaks: int | None
    titles: tuple[int, int] | None  # right, with gold
    authors: tuple[int, int] | None  # right, with gold
    empty: int
    seconds: float = field(default=0.0)

    def cells(self) -> list[str]:
        speed = f"{self.pages / self.seconds:.0f}" if self.seconds else "-"
        titles, authors = _share(self.titles), _share(self.authors)
        return [
            self.dataset,
            self.system,
            str(self.pages),
            f"{self.f1:.3f}",
            f"{self.precision:.3f}",
            f"{self.recall:.3f}",
            "-" if self.leaks is None else str(self.leaks),
            titles,
            authors,
            str(self.empty),
            speed,
        ]


HEADER = [
    "dataset",
    "system",
    "pages",
    "F1",
    "precision",
    "recall",
    "leaks",
    "title acc.",
    "author acc.",
    "empty",
    "pages/s",
]


def summarize(dataset: str, system: str, results: Sequence[PageResult]) -> Row:
    if dataset == "trafilatura-eval":
        scores = micro_scores(r.snippets for r in results if r.snippets is not None)
    else:
        scores = macro_scores((r.precision for r in results), (r.recall for r in results))
    has_negatives = any(r.page.without for r in results)
    titled = [r for r in results if r.title_ok is not None]
    authored = [r for r in results if r.author_ok is not None]
    return Row(
        dataset,
        system,
        len(results),
        scores.f1,
        scores.precision,
        scores.recall,
        sum(r.leaks for r in results) if has_negatives else None,
        (sum(1 for r in titled if r.title_ok), len(titled)) if titled else None,
        (sum(1 for r in authored if r.author_ok), len(authored)) if authored else None,
        sum(1 for r in results if not r.extraction.text.strip()),
        sum(r.extraction.seconds for r in results),
    )


def _share(counts: tuple[int, int] | None) -> str:
    return f"{counts[0] / counts[1]:.3f} ({counts[0]}/{counts[1]})" if counts else "-"


def markdown(rows: Sequence[Row]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "|".join("---" for _ in HEADER) + "|"]
    lines += ["| " + " | ".join(row.cells()) + " |" for row in rows]
    return "\n".join(lines)


# --- main ----------------------------------------------------------------------------------


def evaluate(limit: int | None, only: str | None, details: Path | None, progress: bool = True) -> list[Row]:
    runners = systems(only)
    warm_up(runners)
    by_dataset: dict[str, dict[str, list[PageResult]]] = {}
    for name, load in DATASETS.items():
        pages = load(limit)
        per_system: dict[str, list[PageResult]] = {system: [] for system in runners}
        for index, page in enumerate(pages, 1):
            for system, run in runners.items():
                per_system[system].append(score(page, system, run(page)))
            if progress:
                print(f"\r{name}: {index}/{len(pages)}", end="", file=sys.stderr, flush=True)
        if progress:
            print(file=sys.stderr)
        by_dataset[name] = per_system
    rows = [
        summarize(dataset, system, results)
        for dataset, per_system in by_dataset.items()
        for system, results in per_system.items()
    ]
    for combined, parts in COMBINED.items():
        for system in runners:
            merged = [r for part in parts for r in by_dataset[part][system]]
            rows.append(summarize(combined, system, merged))
    if details is not None:
        with details.open("w", encoding="utf-8") as handle:
            for result in _all(by_dataset):
                handle.write(json.dumps(_detail(result), ensure_ascii=False) + "\n")
    return rows


def warm_up(runners: dict[str, Callable[[Page], Extraction]]) -> None:
    """One untimed call per system first, so imports and caches do not count as speed."""
    page = Page("warm-up", "warm-up", "https://example.com/a", _WARM_UP.encode(), HTML)
    for run in runners.values():
        run(page)


_WARM_UP = (
    "<html><head><title>Warm-up page | Site</title></head><body><article><h1>Warm-up page</h1>"
    + "<p>This paragraph only exists to load the extractors before the clock starts.</p>" * 5
    + "</article></body></html>"
)


def _all(by_dataset: dict[str, dict[str, list[PageResult]]]) -> Iterator[PageResult]:
    for per_system in by_dataset.values():
        for results in per_system.values():
            yield from results


def _detail(result: PageResult) -> dict[str, Any]:
    return {
        "dataset": result.page.dataset,
        "id": result.page.id,
        "system": result.system,
        "precision": result.precision,
        "recall": result.recall,
        "leaks": result.leaks,
        "title_ok": result.title_ok,
        "title": result.extraction.title,
        "gold_title": result.page.gold_title,
        "author_ok": result.author_ok,
        "authors": list(result.extraction.authors),
        "gold_author": result.page.gold_author,
        "error": result.extraction.error,
        "ms": round(result.extraction.seconds * 1000, 2),
        "text": result.extraction.text,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.quality.extraction", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--limit", type=int, default=None, help="at most N pages per dataset")
    parser.add_argument("--only", choices=("khabar", "trafilatura"), default=None, help="run one system")
    parser.add_argument("--details", type=Path, default=None, help="write per-page results as JSONL here")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    rows = evaluate(args.limit, args.only, args.details)
    print(markdown(rows))
    print(
        f"\n({time.perf_counter() - started:.0f} s; metrics: see tests/quality/extraction.py)",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
