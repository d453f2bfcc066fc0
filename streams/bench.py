"""``khabar bench``: how fast the pipeline is, measured side by side with baselines in one run.

Five parts, each optional (``--part``; soak only when named):

* ``core`` — the offline core (:func:`agents.pipeline.analyze` plus the fingerprint the
  worker computes) on a corpus of pages repeated to ``--pages``: CPU pages/s of each stage
  (decode = ``RawPage.from_json`` as the worker does it, clean, language, dates,
  fingerprint = content hash, shingles, MinHash, band keys) and in total, next to the
  reference pipeline doing the same jobs with the tools users compare Khabar with
  (:class:`ReferencePipeline`: trafilatura, htmldate, lingua, datasketch; each timed on its
  own) and two HTML parsers on the same pages (:class:`ParserClock`: lxml, the core's, and
  lexbor), taking turns page by page in this one process (fair on a shared machine).
* ``offline`` — ``khabar process`` (:mod:`streams.process`) as its own process on
  ``--offline-pages`` unique pages of the core's corpus (RawPage JSONL), with one analyzing
  process and with one per usable core, and with one on a quarter of the pages: pages/s on the
  wall clock, CPU per page, peak RSS (VmHWM) of the main process and of its analyzing ones.
* ``stream`` — end to end through a real Apache Kafka (a private :class:`LocalBroker` unless
  ``KHABAR_BROKER`` is set) with 1 and 2 ``khabar worker`` processes: a saturated run
  (every page published at once) gives pages/s; a paced run at half that rate gives the
  latency from publish (the raw-pages record's timestamp) to output (the article's or
  duplicate's record timestamp). CPU seconds and peak RSS (VmHWM) of each worker from /proc,
  and the records each topic gained during the saturated run (end offsets before and after):
  the events the workers consumed and the records they produced per page.
  Each copy of a page has its paragraph words shuffled (seeded), so every document is
  unique and takes the common dedupe path (no candidates to verify).
* ``state`` — the dedupe tables' state as the worker keeps it (rocksdict stores opened with
  Faust's own options, keys and values encoded with Faust's json codec, one store per table
  and partition), for ``--state-documents`` synthetic documents with the size of the
  corpus's articles: bytes per table, the table operations of one document (what
  ``streams/app.py`` reads and writes for it) timed as the state grows, and the memory the
  stores hold. Scaled linearly to 1 M documents when fewer were measured.
* ``soak`` (only when asked: it runs ``--soak-minutes``, 30 by default) — one worker fed
  unique pages at a steady ``--soak-rate`` for that long; its RSS (VmRSS) sampled every
  ``SOAK_SAMPLE_SECONDS``: start, end, peak, and the growth rate over the second half; the
  same for each part of its memory it reports (``khabar_memory_bytes`` on its /metrics).
  With ``--soak-state-documents N`` the worker starts on N documents of dedupe state written
  into its own table stores beforehand (the RSS of a worker holding 1 M documents).

It prints one table and, with ``--json PATH``, writes every number as JSON.
"""

from __future__ import annotations

import asyncio
import contextlib
import cProfile
import gzip
import hashlib
import io
import math
import os
import platform
import pstats
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import lxml.html  # type: ignore[import-untyped]  # lxml ships no type information
import orjson
from prometheus_client.parser import text_string_to_metric_families
from tqdm import tqdm

from agents.dedupe.near import PERMUTATIONS, SHINGLE_WORDS
from schemas import RawPage
from streams.allocator import release_free_memory
from streams.config import Settings

SAMPLE_CRAWL = Path(__file__).resolve().parent / "sample_crawl"
SHARED_EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval"
CORE_CORPUS = (SHARED_EVAL / "article-extraction-benchmark" / "html", SHARED_EVAL / "arabic-pages" / "pages")
STREAM_CORPUS = (SHARED_EVAL / "arabic-pages" / "pages",)
PAGE_SUFFIXES = {".html": "text/html", ".htm": "text/html", ".txt": "text/plain"}
CORE_STAGES = ("decode", "clean", "language", "dates", "fingerprint")
ONE_MILLION = 1_000_000
MB = 1024 * 1024
OFFLINE_SAMPLE_SECONDS = 0.2  # how often the offline part reads its processes' peak RSS


# --------------------------------------------------------------------------- corpus


@dataclass(frozen=True, slots=True)
class CorpusPage:
    name: str
    body: bytes
    content_type: str
    source: str = ""  # the directory it came from, as its last two path parts


def load_corpus(directories: Sequence[Path]) -> list[CorpusPage]:
    """The pages (.html/.htm/.txt, optionally .gz) of the directories, sorted by name."""
    pages = []
    for directory in directories:
        for path in sorted(directory.iterdir()):
            name = path.name[:-3] if path.name.endswith(".gz") else path.name
            content_type = PAGE_SUFFIXES.get(Path(name).suffix.lower())
            if content_type is None or not path.is_file():
                continue
            data = path.read_bytes()
            body = gzip.decompress(data) if path.name.endswith(".gz") else data
            pages.append(CorpusPage(name, body, content_type, "/".join(directory.parts[-2:])))
    return pages


def corpus_directories(chosen: Sequence[Path], defaults: Sequence[Path]) -> list[Path]:
    """The chosen directories; else the defaults that exist; else the sample crawl."""
    if chosen:
        return list(chosen)
    found = [directory for directory in defaults if directory.is_dir()]
    return found or [SAMPLE_CRAWL]


def raw_page(page: CorpusPage, url: str, fetched_at: datetime) -> RawPage:
    return RawPage(
        url=url, fetched_at=fetched_at, body=page.body, content_type=page.content_type, crawler="bench"
    )


def unique_copy(page: CorpusPage, seed: int) -> CorpusPage:
    """The page with the words of each longer text run shuffled: same size, language and
    markup (short runs such as dates stay), but a text no other copy shares, so the copy is
    not a duplicate."""
    rng = random.Random(seed)

    def shuffled(text: str | None) -> str | None:
        words = (text or "").split()
        if len(words) < 6:
            return text
        rng.shuffle(words)
        return " ".join(words)

    if page.content_type == "text/plain":
        text = page.body.decode("utf-8", "replace")
        lines = [shuffled(line) or "" for line in text.splitlines()]
        return replace(page, body="\n".join(lines).encode())
    root = lxml.html.document_fromstring(page.body)
    body = root.find("body")
    for element in (body if body is not None else root).iter():
        if element.tag not in ("script", "style"):
            element.text = shuffled(element.text)
        element.tail = shuffled(element.tail)
    data = lxml.html.tostring(root, encoding="utf-8", doctype="<!DOCTYPE html>")
    return replace(page, body=data, content_type="text/html; charset=utf-8")


def _describe_corpus(directories: Sequence[Path], pages: Sequence[CorpusPage]) -> str:
    names = ", ".join(str(d) for d in directories)
    return f"{len(pages)} distinct pages ({sum(len(p.body) for p in pages) // 1024} KB) from {names}"


# --------------------------------------------------------------------------- core


# Each stage of the core, and the tool its users compare it with doing the same job: the
# reference pipeline a user would otherwise assemble (trafilatura for the text, htmldate for
# the date, lingua for the language, datasketch for the MinHash), run on the same pages.
REFERENCE_TOOLS = {
    "clean": "trafilatura",
    "dates": "htmldate",
    "language": "lingua",
    "fingerprint": "datasketch",
}


@dataclass
class CoreResult:
    corpus: str
    pages: int
    rejected: int
    stage_seconds: dict[str, float]
    reference_seconds: dict[str, float]  # tool -> CPU seconds, keyed as REFERENCE_TOOLS' values
    parser_seconds: dict[str, float]  # PARSER_RUNS key -> CPU seconds
    # corpus directory -> its pages' share: pages, and CPU seconds of khabar, trafilatura and
    # the reference pipeline (each page's own time, from the same run)
    by_source: dict[str, dict[str, float]] = field(default_factory=dict)

    @property
    def khabar_seconds(self) -> float:
        return sum(self.stage_seconds.values())

    @property
    def reference_total_seconds(self) -> float:
        return sum(self.reference_seconds.values())

    def rate(self, seconds: float) -> float:
        return self.pages / seconds if seconds > 0 else float("inf")

    @property
    def ratio(self) -> float:
        """The issue's measure: the whole core against trafilatura.extract alone."""
        return self.reference_seconds["trafilatura"] / self.khabar_seconds

    @property
    def reference_ratio(self) -> float:
        """The whole core against the reference pipeline doing the same jobs."""
        return self.reference_total_seconds / self.khabar_seconds

    def stage_ratio(self, stage: str) -> float:
        """One stage against the tool doing its job (clean: main text, title, authors, against
        trafilatura.extract; dates against htmldate ...)."""
        return self.reference_seconds[REFERENCE_TOOLS[stage]] / self.stage_seconds[stage]

    def to_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "pages_per_second": {
                **{stage: self.rate(s) for stage, s in self.stage_seconds.items()},
                "khabar": self.rate(self.khabar_seconds),
                **{tool: self.rate(s) for tool, s in self.reference_seconds.items()},
                "reference_pipeline": self.rate(self.reference_total_seconds),
                **{run: self.rate(s) for run, s in self.parser_seconds.items()},
            },
            "khabar_over_trafilatura": self.ratio,
            "khabar_over_reference_pipeline": self.reference_ratio,
            "stage_over_reference": {stage: self.stage_ratio(stage) for stage in REFERENCE_TOOLS},
            "by_source_over": {source: self.source_ratios(source) for source in self.by_source},
        }

    def source_ratios(self, source: str) -> dict[str, float]:
        """The whole core against trafilatura and against the reference pipeline, on one
        corpus directory's pages."""
        share = self.by_source[source]
        return {
            "trafilatura": share["trafilatura"] / share["khabar"],
            "reference_pipeline": share["reference"] / share["khabar"],
        }


class ReferencePipeline:
    """The core's jobs done by the tools users compare Khabar with, each timed on its own.

    trafilatura.extract for the text; htmldate.find_date for the publication date (its
    default extensive search, ``original_date=True``: the first publication, as Khabar
    reports it); lingua (all languages, models preloaded, its default high accuracy) for
    the language of trafilatura's text; a datasketch MinHash of 100 permutations over that
    text's 5-word shingles (permutations built once, as a careful user would). Each tool
    parses the page itself, as it does when called on the page.
    """

    def __init__(self) -> None:
        import htmldate
        import lingua
        import trafilatura
        from datasketch import MinHash  # type: ignore[import-untyped]

        self._extract = trafilatura.extract
        self._find_date = htmldate.find_date
        builder = lingua.LanguageDetectorBuilder.from_all_languages().with_preloaded_language_models()
        self._detector: Any = builder.build()  # (its stubs leave unload_language_models untyped)
        self._minhash = MinHash
        self._template = MinHash(num_perm=PERMUTATIONS)

    def run(self, page: CorpusPage, url: str) -> dict[str, float]:
        """The page done by each tool: CPU seconds by tool (REFERENCE_TOOLS' values)."""
        started = time.process_time()
        text = self._extract(page.body, url=url, include_comments=False) or ""
        extracted = time.process_time()
        with warnings.catch_warnings():  # dateutil warns on unknown time zone names
            warnings.simplefilter("ignore")
            with contextlib.suppress(Exception):
                self._find_date(page.body, url=url, original_date=True)
        dated = time.process_time()
        self._detector.detect_language_of(text)
        detected = time.process_time()
        words = text.lower().split()
        template = self._template
        minhash = self._minhash(PERMUTATIONS, permutations=template.permutations, scheme=template.scheme)
        count = max(1, len(words) - SHINGLE_WORDS + 1)
        minhash.update_batch([" ".join(words[i : i + SHINGLE_WORDS]).encode() for i in range(count)])
        finished = time.process_time()
        return {
            "trafilatura": extracted - started,
            "htmldate": dated - extracted,
            "lingua": detected - dated,
            "datasketch": finished - detected,
        }

    def close(self) -> None:
        """Give lingua's models back: they live in a cache of the library's own, which dropping
        the detector leaves full (1.3 GB), and malloc keeps what they held until trimmed."""
        self._detector.unload_language_models()
        release_free_memory()


# What the parser rows time, each on its own clock: the parse (freeing the tree included), and
# one visit of every node of that tree reading what the core's walks read of each (tag, class,
# text): the floor under any walk written in Python.
PARSER_RUNS = {
    "lxml_parse": "lxml parse alone (the core's parser)",
    "lxml_visit": "lxml: a visit of every element",
    "lexbor_parse": "lexbor parse alone (selectolax)",
    "lexbor_visit": "lexbor: a visit of every node",
}


class ParserClock:
    """lxml (as the clean stage parses) and lexbor (selectolax: an HTML5 parser written in C)
    on the same page, each timed on its own: the choice of parser, measured."""

    def __init__(self) -> None:
        from selectolax.lexbor import LexborHTMLParser

        from agents.clean.dom import parse

        self._lexbor = LexborHTMLParser
        self._lxml = parse

    def run(self, body: bytes) -> dict[str, float]:
        """CPU seconds by PARSER_RUNS key for this page."""
        seconds: dict[str, float] = {}
        for name, parse, visit in (
            ("lxml", lambda: self._lxml("", body), _visit_lxml),
            ("lexbor", lambda: self._lexbor(body), _visit_lexbor),
        ):
            started = time.process_time()
            try:
                tree = parse()
            except Exception:
                tree = None
            parsed = time.process_time()
            if tree is not None:
                visit(tree)
            visited = time.process_time()
            del tree
            seconds[f"{name}_parse"] = parsed - started + time.process_time() - visited
            seconds[f"{name}_visit"] = visited - parsed
        return seconds


def _visit_lxml(root: Any) -> None:
    for element in root.iter():
        _ = (element.tag, element.get("class"), element.text, element.tail)


def _visit_lexbor(tree: Any) -> None:
    for node in tree.root.traverse(include_text=True) if tree.root is not None else ():
        tag = node.tag or "-"
        if tag == "-text":
            _ = node.text_content
        elif not tag.startswith("-"):  # not a comment or the doctype
            _ = node.attrs.get("class")


class StageClock:
    """CPU seconds per stage, from the ``observe`` callback of :func:`agents.pipeline.analyze`.

    A stage's time is the CPU time since the previous mark, so nothing between stages is lost.
    """

    def __init__(self) -> None:
        self.seconds = dict.fromkeys(CORE_STAGES, 0.0)
        self._mark = self._page_start = time.process_time()

    def start(self) -> None:
        self._mark = self._page_start = time.process_time()

    def lap(self, stage: str, _wall_seconds: float = 0.0) -> None:
        now = time.process_time()
        self.seconds[stage] += now - self._mark
        self._mark = now

    @property
    def page_seconds(self) -> float:
        """The current page's CPU seconds, from :meth:`start` to its last lap."""
        return self._mark - self._page_start


@dataclass
class CoreTally:
    """What one run of the core bench adds up: CPU seconds by Khabar stage, by reference tool,
    of the bare parse, and each corpus directory's share (its pages' own seconds)."""

    clock: StageClock = field(default_factory=StageClock)
    tools: dict[str, float] = field(default_factory=lambda: dict.fromkeys(REFERENCE_TOOLS.values(), 0.0))
    parsers: dict[str, float] = field(default_factory=lambda: dict.fromkeys(PARSER_RUNS, 0.0))
    rejected: int = 0
    by_source: dict[str, dict[str, float]] = field(default_factory=dict)

    def add_page(self, source: str, khabar: float, tools: dict[str, float]) -> None:
        for tool, seconds in tools.items():
            self.tools[tool] += seconds
        share = self.by_source.setdefault(source, dict.fromkeys(_SOURCE_SHARES, 0.0))
        share["pages"] += 1
        share["khabar"] += khabar
        share["trafilatura"] += tools["trafilatura"]
        share["reference"] += sum(tools.values())


def core_bench(pages: Sequence[CorpusPage], count: int, corpus: str) -> CoreResult:
    """The offline core and the baselines on ``count`` pages (the corpus repeated)."""
    from agents import StageError
    from agents.language import load_models
    from agents.pipeline import analyze, fingerprint

    load_models()
    fetched_at = datetime.now(UTC)
    serialized = [raw_page(page, f"https://bench.khabar.invalid/{page.name}", fetched_at) for page in pages]
    messages = [page.to_json() for page in serialized]
    reference = ReferencePipeline()
    parsers = ParserClock()

    def one_page(which: int, tally: CoreTally) -> None:
        clock = tally.clock
        clock.start()
        page = RawPage.from_json(messages[which])
        clock.lap("decode")
        try:  # as the worker does it
            fingerprint(analyze(page, observe=clock.lap), observe=clock.lap)
        except StageError:
            tally.rejected += 1
        tools = reference.run(pages[which], serialized[which].url)
        tally.add_page(pages[which].source, clock.page_seconds, tools)
        for run, seconds in parsers.run(pages[which].body).items():
            tally.parsers[run] += seconds

    try:
        warm_up = CoreTally()  # imports, caches, compiled patterns
        for which in range(min(len(pages), 20)):
            one_page(which, warm_up)
        tally = CoreTally()
        # Progress on stderr between pages, outside every clock (a few minutes at the default count).
        with tqdm(total=count, unit=" pages", desc="core", file=sys.stderr, delay=2) as bar:
            for index in range(count):
                one_page(index % len(pages), tally)
                bar.update()
    finally:
        reference.close()
    return CoreResult(
        corpus, count, tally.rejected, tally.clock.seconds, tally.tools, tally.parsers, tally.by_source
    )


_SOURCE_SHARES = ("pages", "khabar", "trafilatura", "reference")


# --------------------------------------------------------------------------- offline


@dataclass
class OfflineRun:
    """One ``khabar process`` run: its wall and CPU time (its analyzing processes included), the
    peak RSS (VmHWM) of its main process and the largest of its analyzing processes'."""

    jobs: int
    pages: int
    wall_seconds: float
    cpu_seconds: float
    peak_rss_mb: float
    analyzing_peak_rss_mb: float = 0.0  # none with one process: it analyzes in the main one

    @property
    def pages_per_second(self) -> float:
        return self.pages / self.wall_seconds


@dataclass
class OfflineResult:
    runs: list[OfflineRun]  # one process on a quarter of the pages, then on all, then every core

    def to_dict(self) -> dict[str, Any]:
        return {"runs": [asdict(run) | {"pages_per_second": run.pages_per_second} for run in self.runs]}


def offline_bench(corpus: Sequence[CorpusPage], pages: int, jobs: int) -> OfflineResult:
    """``khabar process`` on ``pages`` unique pages (RawPage JSONL) with one process, then with
    ``jobs``; and with one process on a quarter of them, for how its memory grows with the input."""
    with tempfile.TemporaryDirectory(prefix="khabar-bench-offline-") as directory:
        workdir = Path(directory)
        source = workdir / "pages.jsonl"
        quarter = workdir / "quarter.jsonl"
        with source.open("wb") as out, quarter.open("wb") as out_quarter:
            for start in range(0, pages, 200):
                for number, page in enumerate(pages_for(corpus, min(200, pages - start), "offline", start)):
                    line = page.to_json() + b"\n"
                    out.write(line)
                    if start + number < pages // 4:
                        out_quarter.write(line)
        runs = []
        for path, count, run_jobs in ((quarter, pages // 4, 1), (source, pages, 1), (source, pages, jobs)):
            print(f"offline: khabar process --jobs {run_jobs}, {count} pages", file=sys.stderr)
            runs.append(_offline_run(path, count, run_jobs, workdir))
        return OfflineResult(runs)


def _offline_run(source: Path, pages: int, jobs: int, workdir: Path) -> OfflineRun:
    command = [sys.executable, "-m", "streams.cli", "process", str(source), "-o", str(workdir / "out.jsonl"),
               "--jobs", str(jobs), "--work-dir", str(workdir), "--no-progress"]  # fmt: skip
    log = workdir / "process.log"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    with log.open("wb") as errors:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=errors)
    # VmHWM, read while the processes live: the rusage maximum of a child counts the memory
    # of the process it was forked from (this one, which may hold lingua's models) until exec
    peaks: dict[int, float] = {}
    while process.poll() is None:
        for pid in (process.pid, *_children(process.pid)):
            with contextlib.suppress(OSError, ValueError):
                peaks[pid] = max(peaks.get(pid, 0.0), memory_mb(pid, "VmHWM"))
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=OFFLINE_SAMPLE_SECONDS)  # returns as soon as it exits
    wall = time.perf_counter() - started
    if process.returncode != 0:
        raise RuntimeError(f"khabar process failed ({process.returncode}): {log.read_text()[-2000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # its analyzing processes' time included
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    main_peak = peaks.pop(process.pid, 0.0)
    return OfflineRun(jobs, pages, wall, cpu, main_peak, max(peaks.values(), default=0.0))


def _children(pid: int) -> list[int]:
    """The processes ``pid`` started (its analyzing processes, their resource tracker)."""
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            found += [int(child) for child in (task / "children").read_text().split()]
    return found


# --------------------------------------------------------------------------- /proc


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def memory_mb(pid: int, field_name: str) -> float:
    """A memory figure of /proc/PID/status (VmRSS: now, VmHWM: peak) in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1]) / 1024
    raise ValueError(f"{field_name} not in /proc/{pid}/status")


# --------------------------------------------------------------------------- stream


@dataclass
class StreamResult:
    workers: int
    partitions: int
    pages: int
    seconds: float
    saturated_latency_ms: dict[str, float]
    paced_rate: float
    paced_pages: int
    paced_latency_ms: dict[str, float]
    worker_cpu_seconds: list[float]
    worker_peak_rss_mb: list[float]
    broker_cpu_seconds: float | None
    dead_letters: int
    consumed_records: dict[str, int]  # topic -> records added during the saturated run, sources
    produced_records: dict[str, int]  # the same for what the workers write (outputs, changelogs)

    @property
    def pages_per_second(self) -> float:
        return self.pages / self.seconds

    @property
    def consumed_per_page(self) -> float:
        return sum(self.consumed_records.values()) / self.pages

    @property
    def produced_per_page(self) -> float:
        return sum(self.produced_records.values()) / self.pages

    def to_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "pages_per_second": self.pages_per_second,
            "pages_per_second_per_worker": self.pages_per_second / self.workers,
            "worker_cpu_ms_per_page": 1000 * sum(self.worker_cpu_seconds) / self.pages,
            "consumed_per_page": self.consumed_per_page,
            "produced_per_page": self.produced_per_page,
        }


def percentiles(values: Sequence[float]) -> dict[str, float]:
    ordered = sorted(values)
    if not ordered:
        return {}

    def at(share: float) -> float:  # nearest rank
        return ordered[max(0, math.ceil(share * len(ordered)) - 1)]

    return {"p50": at(0.50), "p95": at(0.95), "p99": at(0.99), "max": ordered[-1]}


class OutputWatch:
    """Reads articles, duplicates and dead letters; remembers when each page first came out."""

    def __init__(self, settings: Settings) -> None:
        from streams.topics import ARTICLES, DEAD_LETTERS, DUPLICATES

        self.settings = settings
        self.dead_letter_topic = settings.topic(DEAD_LETTERS)
        self.topics = [settings.topic(name) for name in (ARTICLES, DUPLICATES, DEAD_LETTERS)]
        self.out_ms: dict[str, int] = {}
        self.dead_letters = 0
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> OutputWatch:
        from aiokafka import AIOKafkaConsumer

        from streams.connection import client_options

        consumer = AIOKafkaConsumer(
            *self.topics, **client_options(self.settings), auto_offset_reset="earliest",
            enable_auto_commit=False,
        )  # fmt: skip
        await consumer.start()
        self._task = asyncio.create_task(self._read(consumer))
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _read(self, consumer: Any) -> None:
        from schemas import HEADER_TRACE_ID

        try:
            while True:
                batches = await consumer.getmany(timeout_ms=200)
                for records in batches.values():
                    for record in records:
                        trace = dict(record.headers or ()).get(HEADER_TRACE_ID)
                        if trace is None:
                            continue
                        page_id = trace.decode()
                        if page_id not in self.out_ms:
                            self.out_ms[page_id] = record.timestamp
                            self.dead_letters += record.topic == self.dead_letter_topic
        finally:
            await consumer.stop()

    async def wait_for(self, page_ids: Sequence[str], timeout: float, alive: Callable[[], bool]) -> None:
        deadline = time.monotonic() + timeout
        while any(page_id not in self.out_ms for page_id in page_ids):
            if not alive():
                raise RuntimeError("a worker exited during the benchmark; see its log")
            if time.monotonic() > deadline:
                missing = [page_id for page_id in page_ids if page_id not in self.out_ms]
                raise RuntimeError(
                    f"{len(missing)} of {len(page_ids)} pages did not come out in {timeout:.0f}s; "
                    f"page ids: {', '.join(missing[:10])}{' ...' if len(missing) > 10 else ''}"
                )
            await asyncio.sleep(0.1)


async def publish(settings: Settings, pages: Sequence[RawPage], rate: float | None = None) -> dict[str, int]:
    """Publish the pages (as the feeder does: same producer settings); with ``rate``, paced
    at that many pages per second. Returns each page's raw-pages record timestamp (ms)."""
    from schemas import message_headers
    from streams.feed import producer_for
    from streams.topics import RAW_PAGES

    producer = producer_for(settings)
    await producer.start()
    futures: list[tuple[str, asyncio.Future[Any]]] = []
    try:
        started = time.monotonic()
        for index, page in enumerate(pages):
            if rate is not None:
                await asyncio.sleep(max(0.0, started + index / rate - time.monotonic()))
            future = await producer.send(
                settings.topic(RAW_PAGES),
                key=page.url.encode(),
                value=page.to_json(),
                headers=message_headers("raw_page", page.page_id),
            )
            futures.append((page.page_id, future))
        return {page_id: (await future).timestamp for page_id, future in futures}
    finally:
        await producer.stop()


async def topic_records(settings: Settings) -> dict[str, int]:
    """The end offset of every topic of the pipeline, summed over its partitions."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    from streams.connection import client_options
    from streams.topics import all_topics

    consumer = AIOKafkaConsumer(**client_options(settings), enable_auto_commit=False)
    await consumer.start()
    try:
        names = [spec.name for spec in all_topics(settings)]  # each with settings.partitions
        partitions = [TopicPartition(name, p) for name in names for p in range(settings.partitions)]
        ends = await consumer.end_offsets(partitions)
        return {name: sum(end for tp, end in ends.items() if tp.topic == name) for name in names}
    finally:
        await consumer.stop()


def records_between(
    settings: Settings, before: dict[str, int], after: dict[str, int]
) -> tuple[dict[str, int], dict[str, int]]:
    """(records consumed, records produced) by topic: the workers consume raw-pages and the
    internal topics, and produce the internal topics, the changelogs and the outputs."""
    from streams.topics import INTERNAL_TOPICS, RAW_PAGES, internal_topic

    added = {name: after[name] - before.get(name, 0) for name in after}
    raw = settings.topic(RAW_PAGES)
    internal = {internal_topic(settings, name) for name in INTERNAL_TOPICS}
    consumed = {name: count for name, count in added.items() if name == raw or name in internal}
    produced = {name: count for name, count in added.items() if name != raw}
    return consumed, produced


async def wait_ready(ports: Sequence[int], timeout: float, alive: Callable[[], bool]) -> None:
    """Until every worker's /health/ready says 200 (partitions assigned, tables recovered)."""

    def ready(port: int) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=2) as answer:
                return bool(answer.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    deadline = time.monotonic() + timeout
    while True:
        if not alive():
            raise RuntimeError("a worker exited while starting; see its log")
        states = await asyncio.gather(*(asyncio.to_thread(ready, port) for port in ports))
        if all(states):
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"workers not ready within {timeout:.0f}s")
        await asyncio.sleep(0.5)


@contextlib.contextmanager
def kafka(settings: Settings, workdir: Path) -> Iterator[tuple[Settings, int | None]]:
    """KHABAR_BROKER if set, else a private local Kafka; yields (settings, broker pid or None)."""
    from streams.broker import LocalBroker, free_port

    if settings.broker:
        yield settings, None
        return
    broker = LocalBroker(
        home=workdir / "broker", port=free_port(), controller_port=free_port(), cache_dir=settings.cache_dir
    )
    print("starting a private Apache Kafka for the benchmark ...", file=sys.stderr)
    broker.start()
    try:
        yield replace(settings, broker=broker.bootstrap), broker.pid()
    finally:
        broker.stop()


def pages_for(corpus: Sequence[CorpusPage], count: int, tag: str, first_seed: int) -> list[RawPage]:
    """``count`` unique pages made from the corpus; the URL carries the copy's seed, so calls
    with disjoint seeds never repeat a URL (a repeated URL would be a re-crawl of one article)."""
    now = datetime.now(UTC)
    return [
        raw_page(
            unique_copy(corpus[i % len(corpus)], first_seed + i),
            f"https://bench.khabar.invalid/{tag}/{first_seed + i}/{corpus[i % len(corpus)].name}",
            now,
        )
        for i in range(count)
    ]


async def _stream_run(
    settings: Settings,
    corpus: Sequence[CorpusPage],
    workers: Workers,
    *,
    pages: int,
    paced_seconds: float,
    broker_pid: int | None,
) -> StreamResult:
    from streams.topics import ensure_topics

    await ensure_topics(settings)
    await wait_ready(workers.ports, 180, workers.alive)
    async with OutputWatch(settings) as watch:
        warm = pages_for(corpus, max(2 * len(corpus), 20 * len(workers.processes)), "warm-up", 10_000_000)
        await publish(settings, warm)
        await watch.wait_for([p.page_id for p in warm], 300, workers.alive)
        await wait_ready(workers.ports, 60, workers.alive)

        print(f"  saturated run: {pages} pages ...", file=sys.stderr)
        batch = pages_for(corpus, pages, "saturated", 0)
        cpu_before = [cpu_seconds(pid) for pid in workers.pids()]
        broker_before = cpu_seconds(broker_pid) if broker_pid else None
        records_before = await topic_records(settings)
        published = await publish(settings, batch)
        await watch.wait_for(list(published), 60 + pages, workers.alive)
        cpu = [cpu_seconds(pid) - before for pid, before in zip(workers.pids(), cpu_before, strict=True)]
        broker_cpu = cpu_seconds(broker_pid) - broker_before if broker_pid and broker_before else None
        consumed, produced = records_between(settings, records_before, await topic_records(settings))
        seconds = (max(watch.out_ms[p] for p in published) - min(published.values())) / 1000
        saturated = [watch.out_ms[p] - at for p, at in published.items()]

        rate = max(1.0, pages / seconds / 2)
        paced_count = max(20, round(rate * paced_seconds))
        print(f"  paced run: {paced_count} pages at {rate:.1f} pages/s ...", file=sys.stderr)
        paced_pages = pages_for(corpus, paced_count, "paced", 1_000_000)
        paced = await publish(settings, paced_pages, rate=rate)
        await watch.wait_for(list(paced), 60 + paced_count, workers.alive)
        latencies = [watch.out_ms[p] - at for p, at in paced.items()]
        peak = [memory_mb(pid, "VmHWM") for pid in workers.pids()]
        return StreamResult(
            workers=len(workers.processes),
            partitions=settings.partitions,
            pages=pages,
            seconds=seconds,
            saturated_latency_ms=percentiles(saturated),
            paced_rate=rate,
            paced_pages=paced_count,
            paced_latency_ms=percentiles(latencies),
            worker_cpu_seconds=cpu,
            worker_peak_rss_mb=peak,
            broker_cpu_seconds=broker_cpu,
            dead_letters=watch.dead_letters,
            consumed_records=consumed,
            produced_records=produced,
        )


@dataclass
class Workers:
    """The `khabar worker` processes of one run and their web ports."""

    processes: list[subprocess.Popen[bytes]]
    ports: list[int]

    def pids(self) -> list[int]:
        return [process.pid for process in self.processes]

    def alive(self) -> bool:
        return all(process.poll() is None for process in self.processes)


@contextlib.contextmanager
def start_workers(
    settings: Settings, count: int, workdir: Path, profile_dir: Path | None
) -> Iterator[Workers]:
    """``count`` worker processes, each with its own state directory, log and web port."""
    from streams.broker import free_port
    from streams.run import worker_process

    with contextlib.ExitStack() as stack:
        workers = Workers([], [])
        for number in range(count):
            options: tuple[str, ...] = ()
            if profile_dir is not None:
                profile_dir.mkdir(parents=True, exist_ok=True)
                options = ("-m", "cProfile", "-o", str(profile_dir / f"worker-{count}x-{number}.prof"))
            port = free_port()
            process = worker_process(
                replace(settings, data_dir=worker_data_dir(workdir, number)),
                workdir / f"worker-{number}.log", web_port=port, python_options=options,
            )  # fmt: skip
            workers.processes.append(stack.enter_context(process))
            workers.ports.append(port)
        try:
            yield workers
        except RuntimeError:
            for log in sorted(workdir.glob("worker-*.log")):
                print(f"--- {log} (tail)\n{log.read_text(errors='replace')[-3000:]}", file=sys.stderr)
            raise


def stream_bench(
    corpus: Sequence[CorpusPage],
    worker_counts: Sequence[int],
    *,
    pages: int,
    paced_seconds: float,
    partitions: int,
    profile_dir: Path | None = None,
) -> list[StreamResult]:
    """End to end through Kafka, for each number of worker processes (fresh topics each time)."""
    results = []
    with tempfile.TemporaryDirectory(prefix="khabar-bench-") as tmp:
        workdir = Path(tmp)
        with kafka(Settings.from_env(), workdir) as (base, broker_pid):
            for count in worker_counts:
                name = f"bench{uuid.uuid4().hex[:8]}"
                settings = replace(
                    base, topic_prefix=f"{name}.", app_id=name, partitions=max(partitions, count)
                )
                print(f"stream: {count} worker(s), {settings.partitions} partitions", file=sys.stderr)
                (workdir / name).mkdir()
                with start_workers(settings, count, workdir / name, profile_dir) as workers:
                    run = _stream_run(
                        settings, corpus, workers, pages=pages, paced_seconds=paced_seconds,
                        broker_pid=broker_pid,
                    )  # fmt: skip
                    results.append(asyncio.run(run))
    return results


# --------------------------------------------------------------------------- soak

SOAK_SAMPLE_SECONDS = 10.0


@dataclass
class SoakResult:
    minutes: float
    rate: float
    pages: int
    rss_mb: list[tuple[float, float]]  # (seconds since the start, worker VmRSS)
    latency_ms: dict[str, float]
    dead_letters: int
    peak_rss_mb: float  # the worker's VmHWM at the end
    state_documents: int = 0  # documents of dedupe state written into its tables before it started
    state_documents_after: int = 0  # documents in its documents table after the run
    # (seconds since the start, {part: MB}) from the worker's khabar_memory_bytes, with the RSS
    memory_parts_mb: list[tuple[float, dict[str, float]]] = field(default_factory=list)

    @property
    def growth_mb_per_10_minutes(self) -> float:
        """Least-squares slope of RSS over the second half (after the state warmed up)."""
        return second_half_growth(self.rss_mb)

    def parts_growth(self) -> dict[str, tuple[float, float, float]]:
        """Each memory part's first and last reading and its second-half growth per 10 minutes."""
        if not self.memory_parts_mb:
            return {}
        first, last = self.memory_parts_mb[0][1], self.memory_parts_mb[-1][1]
        growth = {
            part: second_half_growth([(t, parts.get(part, 0.0)) for t, parts in self.memory_parts_mb])
            for part in last
        }
        return {part: (first.get(part, 0.0), last[part], growth[part]) for part in last}

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "growth_mb_per_10_minutes": self.growth_mb_per_10_minutes}


def second_half_growth(samples: Sequence[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MB) samples over their second half, in MB per 10 minutes."""
    half = samples[len(samples) // 2 :]
    if len(half) < 2:
        return 0.0
    mean_t = sum(t for t, _ in half) / len(half)
    mean_m = sum(m for _, m in half) / len(half)
    spread = sum((t - mean_t) ** 2 for t, _ in half)
    slope = sum((t - mean_t) * (m - mean_m) for t, m in half) / spread if spread else 0.0
    return 600 * slope


def memory_parts_mb(port: int) -> dict[str, float]:
    """A worker's own account of its memory (``khabar_memory_bytes`` by part), in MB; {} if it
    does not answer."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
            text = answer.read().decode()
    except (urllib.error.URLError, OSError):
        return {}
    return memory_parts_from(text)


def memory_parts_from(exposition: str) -> dict[str, float]:
    """``khabar_memory_bytes`` by part, in MB, from a /metrics text, and the resident set outside
    malloc's heap (pymalloc's arenas of Python's small objects, the libraries' code and data,
    thread stacks), from the RSS read in the same scrape (the soak reports the RSS itself)."""
    parts = {}
    rss = None
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            if sample.name == "khabar_memory_bytes":
                parts[sample.labels["part"]] = sample.value / MB
            elif sample.name == "process_resident_memory_bytes":
                rss = sample.value / MB
    if rss is not None and {"malloc_in_use", "malloc_free"} <= parts.keys():
        parts["rss_outside_malloc"] = rss - parts["malloc_in_use"] - parts["malloc_free"]
    return parts


async def _soak_run(
    settings: Settings, corpus: Sequence[CorpusPage], workers: Workers, *, minutes: float, rate: float
) -> SoakResult:
    from streams.topics import ensure_topics

    await ensure_topics(settings)
    await wait_ready(workers.ports, 180, workers.alive)
    (pid,) = workers.pids()
    async with OutputWatch(settings) as watch:
        warm = pages_for(corpus, max(2 * len(corpus), 20), "warm-up", 10_000_000)
        await publish(settings, warm)
        await watch.wait_for([p.page_id for p in warm], 300, workers.alive)
        started = time.monotonic()
        samples = [(0.0, memory_mb(pid, "VmRSS"))]
        parts = [(0.0, memory_parts_mb(workers.ports[0]))]
        published: dict[str, int] = {}
        chunk = max(1, round(rate * SOAK_SAMPLE_SECONDS))
        while time.monotonic() - started < 60 * minutes:
            if not workers.alive():
                raise RuntimeError("the worker exited during the soak; see its log")
            # generated chunk by chunk: a 30-minute run's pages do not fit in memory at once
            pages = pages_for(corpus, chunk, "soak", len(published))
            published.update(await publish(settings, pages, rate=rate))
            samples.append((time.monotonic() - started, memory_mb(pid, "VmRSS")))
            parts.append((samples[-1][0], memory_parts_mb(workers.ports[0])))
            shown = ", ".join(f"{part} {mb:.0f}" for part, mb in parts[-1][1].items())
            print(f"  soak: {len(published)} pages, RSS {samples[-1][1]:.0f} MB ({shown})", file=sys.stderr)
        await watch.wait_for(list(published), 60 + len(published) / rate, workers.alive)
        return SoakResult(
            minutes=minutes,
            rate=rate,
            pages=len(published),
            rss_mb=samples,
            latency_ms=percentiles([watch.out_ms[p] - at for p, at in published.items()]),
            dead_letters=watch.dead_letters,
            peak_rss_mb=memory_mb(pid, "VmHWM"),
            memory_parts_mb=[(t, reading) for t, reading in parts if reading],
        )


def soak_bench(
    corpus: Sequence[CorpusPage], *, minutes: float, rate: float, partitions: int, state_documents: int = 0
) -> SoakResult:
    """One worker fed ``rate`` unique pages per second for ``minutes``; its RSS over time.

    ``state_documents``: the worker starts on that many decided documents of dedupe state,
    written into its table stores beforehand (:func:`fill_worker_state`); they are counted
    again after the run, to show the worker kept and used them.
    """
    with tempfile.TemporaryDirectory(prefix="khabar-soak-") as tmp:
        workdir = Path(tmp)
        with kafka(Settings.from_env(), workdir) as (base, _):
            name = f"soak{uuid.uuid4().hex[:8]}"
            settings = replace(base, topic_prefix=f"{name}.", app_id=name, partitions=partitions)
            (workdir / name).mkdir()
            tabledir = worker_tabledir(settings, worker_data_dir(workdir / name, 0))
            if state_documents:
                fill_worker_state(tabledir, corpus, state_documents, partitions)
            with start_workers(settings, 1, workdir / name, None) as workers:
                result = asyncio.run(_soak_run(settings, corpus, workers, minutes=minutes, rate=rate))
            if state_documents:
                stores = Stores(tabledir, partitions)
                try:
                    result.state_documents_after = stores.count("documents")
                finally:
                    stores.close()
            result.state_documents = state_documents
            return result


def worker_data_dir(workdir: Path, number: int) -> Path:
    """Where :func:`start_workers` keeps worker ``number``'s state."""
    return workdir / f"state-{number}"


def worker_tabledir(settings: Settings, data_dir: Path) -> Path:
    """The directory of a worker's table stores, as Faust derives it from the data dir."""
    from streams.app import create_app

    return Path(create_app(replace(settings, data_dir=data_dir)).conf.tabledir)


def fill_worker_state(tabledir: Path, corpus: Sequence[CorpusPage], documents: int, partitions: int) -> None:
    """``documents`` decided documents in a worker's four tables, fetched one second apart and
    ending now (inside the dedupe horizon: no sweep frees them during the run)."""
    templates = templates_from(corpus)
    rng = random.Random(20261123)
    epoch = datetime.now(UTC) - timedelta(seconds=documents)
    stores = Stores(tabledir, partitions)
    started = time.monotonic()
    try:
        for number in range(documents):
            stores.add_document(synthetic_document(number, templates[number % len(templates)], rng, epoch))
            if (number + 1) % 50_000 == 0 or number + 1 == documents:
                print(
                    f"  state: {number + 1:,} of {documents:,} documents written "
                    f"({time.monotonic() - started:.0f} s)",
                    file=sys.stderr,
                )
        stores.flush()
    finally:
        stores.close()


# --------------------------------------------------------------------------- state


@dataclass
class StateSample:
    documents: int  # state size when the sample was taken
    microseconds: dict[str, float]  # table operations of one new document, per table


@dataclass
class StateResult:
    documents: int
    partitions: int
    value_bytes: dict[str, int]  # keys + values as encoded, per table
    disk_bytes: dict[str, int]  # SST files after a flush, per table
    keys: dict[str, int]
    changelog_bytes_per_document: dict[str, int]  # bytes of every table write of a document, averaged
    samples: list[StateSample]
    memory_mb: dict[str, float]
    build_seconds: float

    def per_million(self, value: float) -> float:
        return value * ONE_MILLION / self.documents

    def to_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "per_million_documents": {
                "value_bytes": {t: self.per_million(v) for t, v in self.value_bytes.items()},
                "disk_bytes": {t: self.per_million(v) for t, v in self.disk_bytes.items()},
                "extrapolated": self.documents < ONE_MILLION,
            },
        }


@dataclass
class Template:
    """An analyzed article of the corpus: the shape of the synthetic documents."""

    document: dict[str, Any]
    shingle_count: int


@dataclass
class DocumentState:
    """One document's entries in the four tables, as streams/app.py stores them once decided."""

    article_id: str
    document: dict[str, Any]  # documents: article_id -> {"document": ..., "shingles": ...}
    pending: dict[str, Any]  # pending: article_id -> Pending (the join state)
    bands: list[str]  # lsh-buckets: band key -> [[time, id], ...]
    content_hash: str  # content-owners: hash -> {"owner": ..., "latest": ..., "displaced": ...}
    owner: dict[str, Any]
    me: list[str]


class Stores:
    """One rocksdict store per table and partition, as a worker keeps its tables:
    ``<tabledir>/<table>-<partition>.db`` opened with the worker's options (streams/stores.py,
    memory budget ``memory_mb``), keys and values encoded with Faust's json codec, and each
    key in the partition Kafka's default partitioner gives its record's key (Faust keeps a
    table entry in the partition of the event that wrote it). A worker started on a directory
    filled this way finds the state as if it had built it."""

    TABLES = ("documents", "pending", "lsh-buckets", "content-owners")

    def __init__(self, root: Path, partitions: int, memory_mb: int = Settings.store_memory_mb) -> None:
        from faust.serializers import codecs

        from streams.stores import BoundedRocksDBOptions, table_store_options

        self.root = root
        self.partitions = partitions
        self._codecs = codecs
        options = BoundedRocksDBOptions(**table_store_options(memory_mb))
        root.mkdir(parents=True, exist_ok=True)
        self.dbs = {
            table: [options.open(root / f"{table}-{p}.db") for p in range(partitions)]
            for table in self.TABLES
        }
        self.value_bytes = dict.fromkeys(self.TABLES, 0)
        self.keys = dict.fromkeys(self.TABLES, 0)

    def encode(self, value: Any) -> bytes:
        encoded: bytes = self._codecs.dumps("json", value)
        return encoded

    def decode(self, data: bytes) -> Any:
        return self._codecs.loads("json", data)

    def partition(self, key: str) -> int:
        """The partition of a record with this key (Kafka's default partitioner)."""
        from streams.topics import key_partition

        return key_partition(key.encode(), self.partitions)

    def db(self, table: str, key: str) -> Any:
        return self.dbs[table][self.partition(key)]

    def get(self, table: str, key: str) -> Any:
        data = self.db(table, key).get(self.encode(key))
        return self.decode(data) if data is not None else None

    def put(self, table: str, key: str, value: Any) -> int:
        raw_key, data = self.encode(key), self.encode(value)
        self.db(table, key).put(raw_key, data)
        return len(raw_key) + len(data)

    def add(self, table: str, key: str, value: Any) -> None:
        """A new key (bulk build): counted in the table's bytes."""
        self.value_bytes[table] += self.put(table, key, value)
        self.keys[table] += 1

    def add_document(self, state: DocumentState) -> None:
        """A decided document's entries in the four tables (bulk build)."""
        self.add("documents", state.article_id, state.document)
        self.add("pending", state.article_id, state.pending)
        for band in state.bands:
            self.add("lsh-buckets", band, [state.me])
        self.add("content-owners", state.content_hash, state.owner)

    def flush(self) -> dict[str, int]:
        sizes = {}
        for table, dbs in self.dbs.items():
            for db in dbs:
                db.flush()
            sizes[table] = sum(f.stat().st_size for f in self.root.glob(f"{table}-*.db/*.sst"))
        return sizes

    def count(self, table: str) -> int:
        """Keys of the table, Faust's offset bookkeeping left out."""
        keys = (key for db in self.dbs[table] for key in db.keys())  # noqa: SIM118  # an Rdict iterates by index
        return sum(1 for key in keys if not key.startswith(b"__faust"))

    def memory_mb(self) -> dict[str, float]:
        """The stores' memory as a worker reports it (:func:`streams.stores.store_memory`), in MB."""
        from streams.stores import store_memory

        dbs = [db for dbs in self.dbs.values() for db in dbs]
        return {part: value / MB for part, value in store_memory(dbs).items()}

    def close(self) -> None:
        for dbs in self.dbs.values():
            for db in dbs:
                db.close()


def templates_from(corpus: Sequence[CorpusPage]) -> list[Template]:
    from agents import StageError
    from agents.dedupe.near import shingles
    from agents.pipeline import analyze

    templates = []
    for page in corpus:
        try:
            article = analyze(raw_page(page, f"https://bench.khabar.invalid/{page.name}", datetime.now(UTC)))
        except StageError:
            continue
        templates.append(Template(article.to_dict(), len(shingles(article.text))))
    if not templates:
        raise RuntimeError("no page of the corpus gives an article to model the state on")
    return templates


STATE_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def synthetic_document(
    number: int, template: Template, rng: random.Random, epoch: datetime = STATE_EPOCH
) -> DocumentState:
    """A unique decided document with the template's text and number of shingles, fetched
    ``number`` seconds after ``epoch``."""
    from agents.dedupe.near import BANDS

    article_id = hashlib.blake2b(f"doc{number}".encode(), digest_size=16).hexdigest()
    content = hashlib.blake2b(f"hash{number}".encode(), digest_size=16).hexdigest()
    fetched = epoch + timedelta(seconds=number)
    document = dict(template.document, article_id=article_id, content_hash=content)
    document.update(url=f"https://bench.khabar.invalid/{number}", fetched_at=fetched.isoformat())
    document_shingles = sorted(rng.getrandbits(32) for _ in range(template.shingle_count))
    bands = [f"{band:02d}{rng.getrandbits(64):016x}" for band in range(BANDS)]
    return decided_document(document, document_shingles, bands)


def decided_document(document: dict[str, Any], shingles: list[int], bands: list[str]) -> DocumentState:
    """A canonical document (an Article's dict) as the worker's tables hold it once decided."""
    from agents.dedupe.clusters import Decision, Horizon, Pending, owner_answer
    from agents.dedupe.near import BANDS

    me = (document["fetched_at"], document["article_id"])
    pending = Pending(
        me=me,
        content_hash=document["content_hash"],
        bands_answered=list(range(BANDS)),
        hash_answered=True,
        decided=Decision(None, None, None, me),
    )
    return DocumentState(
        document["article_id"],
        {"document": document, "shingles": shingles},
        pending.to_dict(),
        bands,
        document["content_hash"],
        owner_answer(None, me, Horizon()).stored(),
        list(me),
    )


def document_operations(stores: Stores, state: DocumentState) -> tuple[dict[str, float], dict[str, int]]:
    """What the worker's tables do for one new document (streams/app.py), timed per table:

    documents: on_document writes the article and its shingles once; pending: on_document
    reads and writes the join state, then every answer (one per partition holding some of
    its band keys, and one from the content-hash owner) reads and rewrites it (on_answer);
    lsh-buckets: each band's bucket read and written; content-owners: the hash's owner read
    and written. Returns (seconds, bytes written) per table; the bytes are what its
    changelog receives.
    """
    seconds, written = {}, {}
    started = time.perf_counter()
    total = 0
    total += stores.put("documents", state.article_id, state.document)
    seconds["documents"], written["documents"] = time.perf_counter() - started, total
    started, total = time.perf_counter(), 0
    stores.get("pending", state.article_id)
    total += stores.put("pending", state.article_id, state.pending)
    band_partitions = {stores.partition(band) for band in state.bands}
    for _ in range(len(band_partitions) + 1):
        stored = stores.get("pending", state.article_id)
        total += stores.put("pending", state.article_id, stored)
    seconds["pending"], written["pending"] = time.perf_counter() - started, total
    started, total = time.perf_counter(), 0
    for band in state.bands:
        bucket = stores.get("lsh-buckets", band) or []
        total += stores.put("lsh-buckets", band, [*bucket, state.me])
    seconds["lsh-buckets"], written["lsh-buckets"] = time.perf_counter() - started, total
    started = time.perf_counter()
    stores.get("content-owners", state.content_hash)
    total = stores.put("content-owners", state.content_hash, state.owner)
    seconds["content-owners"], written["content-owners"] = time.perf_counter() - started, total
    return seconds, written


def state_bench(
    corpus: Sequence[CorpusPage], documents: int, partitions: int, workdir: Path | None = None
) -> StateResult:
    """Build the state of ``documents`` documents and time one document's operations on it."""
    templates = templates_from(corpus)
    rng = random.Random(20261123)
    root = Path(tempfile.mkdtemp(prefix="khabar-bench-state-", dir=workdir))
    rss_before = memory_mb(os.getpid(), "VmRSS")
    stores = Stores(root, partitions)
    samples: list[StateSample] = []
    written: dict[str, int] = {}  # changelog bytes of the timed documents, per table
    timed = 0
    checkpoints = sorted({max(1, documents * share // 10) for share in range(1, 11)})
    sample_size = 200
    number = 0
    started = time.monotonic()
    try:
        for checkpoint in checkpoints:
            while number < checkpoint - sample_size:
                stores.add_document(synthetic_document(number, templates[number % len(templates)], rng))
                number += 1
            size = number
            totals: dict[str, float] = {}
            while number < checkpoint:
                state = synthetic_document(number, templates[number % len(templates)], rng)
                seconds, changelog = document_operations(stores, state)
                for table, value in seconds.items():
                    totals[table] = totals.get(table, 0.0) + value
                    written[table] = written.get(table, 0) + changelog[table]
                timed += 1
                for table, entry in (("documents", state.document), ("pending", state.pending)):
                    stores.value_bytes[table] += len(stores.encode(state.article_id)) + len(
                        stores.encode(entry)
                    )
                    stores.keys[table] += 1
                for band in state.bands:
                    stores.value_bytes["lsh-buckets"] += len(stores.encode(band)) + len(
                        stores.encode([state.me])
                    )
                stores.keys["lsh-buckets"] += len(state.bands)
                stores.value_bytes["content-owners"] += len(stores.encode(state.content_hash)) + len(
                    stores.encode(state.owner)
                )
                stores.keys["content-owners"] += 1
                number += 1
            measured = number - size
            samples.append(StateSample(size, {t: 1e6 * s / measured for t, s in totals.items()}))
            print(f"  state: {number} documents", file=sys.stderr)
        build_seconds = time.monotonic() - started
        memory = stores.memory_mb()
        memory["process_rss_growth"] = memory_mb(os.getpid(), "VmRSS") - rss_before
        disk = stores.flush()
        return StateResult(
            documents=number,
            partitions=partitions,
            value_bytes=dict(stores.value_bytes),
            disk_bytes=disk,
            keys=dict(stores.keys),
            changelog_bytes_per_document={table: total // timed for table, total in written.items()},
            samples=samples,
            memory_mb=memory,
            build_seconds=build_seconds,
        )
    finally:
        stores.close()
        shutil.rmtree(root, ignore_errors=True)


# --------------------------------------------------------------------------- report


@dataclass
class Report:
    machine: dict[str, Any] = field(default_factory=dict)
    core: CoreResult | None = None
    offline: OfflineResult | None = None
    stream: list[StreamResult] = field(default_factory=list)
    state: StateResult | None = None
    soak: SoakResult | None = None
    profiles: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "machine": self.machine,
            "core": self.core.to_dict() if self.core else None,
            "offline": self.offline.to_dict() if self.offline else None,
            "stream": [result.to_dict() for result in self.stream],
            "state": self.state.to_dict() if self.state else None,
            "soak": self.soak.to_dict() if self.soak else None,
            "profiles": self.profiles,
        }

    def rows(self) -> list[tuple[str, str, str]]:
        rows: list[tuple[str, str, str]] = []
        if self.core is not None:
            core = self.core
            for stage, seconds in core.stage_seconds.items():
                rows.append(("core", stage, _rate(core.pages, seconds)))
            rows.append(("core", "khabar total", _rate(core.pages, core.khabar_seconds)))
            for stage, tool in REFERENCE_TOOLS.items():
                seconds = core.reference_seconds[tool]
                rows.append(("core", f"{tool} (the {stage} stage's job)", _rate(core.pages, seconds)))
            rows.append(("core", "reference pipeline total", _rate(core.pages, core.reference_total_seconds)))
            for run, label in PARSER_RUNS.items():
                rows.append(("core", label, _rate(core.pages, core.parser_seconds[run])))
            rows.append(("core", "khabar / trafilatura", f"{core.ratio:.1f}x"))
            for stage, tool in REFERENCE_TOOLS.items():
                rows.append(("core", f"khabar {stage} / {tool}", f"{core.stage_ratio(stage):.1f}x"))
            rows.append(("core", "khabar / reference pipeline", f"{core.reference_ratio:.1f}x"))
            for source in core.by_source if len(core.by_source) > 1 else ():
                ratios = core.source_ratios(source)
                pages = int(core.by_source[source]["pages"])
                rows.append((
                    "core", f"{source} ({pages:,} pages): khabar / trafilatura, / reference pipeline",
                    f"{ratios['trafilatura']:.1f}x, {ratios['reference_pipeline']:.1f}x",
                ))  # fmt: skip
        if self.offline is not None:
            single = self.offline.runs[1].pages_per_second
            for offline in self.offline.runs:
                per_second = offline.pages_per_second
                speedup = f", {per_second / single:.1f}x one process" if offline.jobs > 1 else ""
                cpu_per_page = 1000 * offline.cpu_seconds / offline.pages
                rows.append((
                    "offline", f"khabar process --jobs {offline.jobs}, {offline.pages:,} pages",
                    f"{per_second:,.1f} pages/s wall clock{speedup}; {cpu_per_page:.1f} ms CPU/page; "
                    f"peak RSS {offline.peak_rss_mb:.0f} MB"
                    + (f", each analyzing process {offline.analyzing_peak_rss_mb:.0f} MB at most"
                       if offline.jobs > 1 else ""),
                ))  # fmt: skip
        for result in self.stream:
            part = f"stream, {result.workers} worker{'s' if result.workers > 1 else ''}"
            rate = result.pages_per_second
            rows.append((
                part, "pages/s, saturated",
                f"{rate:,.1f} ({rate / result.workers:,.1f} per worker; {result.pages} pages)",
            ))  # fmt: skip
            rows.append((part, "latency, saturated", _latencies(result.saturated_latency_ms)))
            rows.append(
                (part, f"latency at {result.paced_rate:,.1f} pages/s", _latencies(result.paced_latency_ms))
            )
            cpu = ", ".join(f"{s:.1f}" for s in result.worker_cpu_seconds)
            per_page = 1000 * sum(result.worker_cpu_seconds) / result.pages
            rows.append((part, "worker CPU s, saturated run", f"{cpu} ({per_page:.1f} ms/page)"))
            if result.broker_cpu_seconds is not None:
                rows.append((part, "broker CPU s, saturated run", f"{result.broker_cpu_seconds:.1f}"))
            rows.append((
                part, "records per page, saturated run",
                f"{result.consumed_per_page:.1f} consumed, {result.produced_per_page:.1f} produced",
            ))  # fmt: skip
            rows.append(
                (part, "worker peak RSS", ", ".join(f"{m:.0f} MB" for m in result.worker_peak_rss_mb))
            )
            if result.dead_letters:
                rows.append((part, "dead letters", str(result.dead_letters)))
        if self.state is not None:
            state = self.state
            scaled = "" if state.documents >= ONE_MILLION else f" (scaled from {state.documents:,})"
            for table in state.value_bytes:
                rows.append((
                    "state", f"{table} per 1M docs{scaled}",
                    f"{_gb(state.per_million(state.value_bytes[table]))} encoded, "
                    f"{_gb(state.per_million(state.disk_bytes[table]))} on disk, "
                    f"{state.per_million(state.keys[table]) / 1e6:,.0f}M keys",
                ))  # fmt: skip
            for table, written in state.changelog_bytes_per_document.items():
                first, last = state.samples[0], state.samples[-1]
                rows.append((
                    "state", f"{table}: one document's operations",
                    f"{first.microseconds[table]:,.0f} µs at {first.documents:,} docs, "
                    f"{last.microseconds[table]:,.0f} µs at {last.documents:,}; "
                    f"{written / 1024:,.1f} KB to the changelog",
                ))  # fmt: skip
            memory = state.memory_mb
            rows.append((
                "state", f"store memory at {state.documents:,} docs ({state.partitions} partitions)",
                f"shared cache {memory['store_cache']:.0f} MB (memtables {memory['store_memtables']:.0f} MB "
                f"of it), index and filters outside it {memory['store_table_readers']:.0f} MB; "
                f"process RSS +{memory['process_rss_growth']:.0f} MB",
            ))  # fmt: skip
        if self.soak is not None:
            soak = self.soak
            rss = [m for _, m in soak.rss_mb]
            part = f"soak, {soak.minutes:g} min"
            if soak.state_documents:
                part += f", {soak.state_documents:,} documents of state"
            rate = soak.pages / soak.rss_mb[-1][0] if soak.rss_mb[-1][0] else soak.rate
            rows.append((
                part, f"worker RSS at {rate:.1f} pages/s ({soak.pages:,} pages)",
                f"start {rss[0]:.0f} MB, end {rss[-1]:.0f} MB, peak (VmHWM) {soak.peak_rss_mb:.0f} MB; "
                f"second half {soak.growth_mb_per_10_minutes:+.1f} MB per 10 min",
            ))  # fmt: skip
            for name, (start, end, growth) in soak.parts_growth().items():
                rows.append((
                    part, f"worker memory: {name}",
                    f"start {start:.0f} MB, end {end:.0f} MB; second half {growth:+.1f} MB per 10 min",
                ))  # fmt: skip
            if soak.state_documents:
                rows.append((
                    part, "documents table after the run",
                    f"{soak.state_documents_after:,} (the state written before, plus the run's pages)",
                ))  # fmt: skip
            rows.append((part, "latency", _latencies(soak.latency_ms)))
            if soak.dead_letters:
                rows.append((part, "dead letters", str(soak.dead_letters)))
        return rows

    def table(self) -> str:
        rows = [("part", "measure", "value"), *self.rows()]
        widths = [max(len(row[i]) for row in rows) for i in range(2)]
        lines = [f"| {a:<{widths[0]}} | {b:<{widths[1]}} | {c} |" for a, b, c in rows]
        lines.insert(1, f"|{'-' * (widths[0] + 2)}|{'-' * (widths[1] + 2)}|---|")
        return "\n".join(lines)


def _rate(pages: int, seconds: float) -> str:
    return f"{pages / seconds:,.0f} pages/s ({1000 * seconds / pages:.2f} ms/page)"


def _latencies(values: dict[str, float]) -> str:
    return " / ".join(f"{name} {values[name]:,.0f}" for name in ("p50", "p95", "p99")) + " ms"


def _gb(count: float) -> str:
    return f"{count / 1024**3:,.2f} GB"


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average": os.getloadavg(),
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def profile_summary(stats: pstats.Stats, lines: int = 25) -> str:
    out = io.StringIO()
    stats.stream = out  # type: ignore[attr-defined]  # pstats keeps its output stream here
    stats.sort_stats("tottime").print_stats(lines)
    return out.getvalue()


def profiled(target: Path, run: Callable[[], Any]) -> tuple[Any, str]:
    """Run under cProfile; write the profile to ``target`` and return a summary."""
    profiler = cProfile.Profile()
    result = profiler.runcall(run)
    target.parent.mkdir(parents=True, exist_ok=True)
    profiler.dump_stats(target)
    return result, profile_summary(pstats.Stats(profiler))


def run_bench(
    parts: Sequence[str],
    *,
    corpus: Sequence[Path],
    pages: int,
    stream_corpus: Sequence[Path],
    stream_pages: int,
    workers: Sequence[int],
    paced_seconds: float,
    partitions: int,
    state_documents: int,
    profile_dir: Path | None,
    offline_pages: int = 2000,
    soak_minutes: float = 30.0,
    soak_rate: float = 5.0,
    soak_state_documents: int = 0,
) -> Report:
    report = Report(machine=machine())
    directories = corpus_directories(corpus, CORE_CORPUS)
    loaded = load_corpus(directories) if {"core", "offline"} & set(parts) else []
    if "core" in parts:
        description = _describe_corpus(directories, loaded)
        print(f"core: {pages} pages, {description}", file=sys.stderr)

        def core() -> CoreResult:
            return core_bench(loaded, pages, description)

        if profile_dir is not None:
            report.core, report.profiles["core"] = profiled(profile_dir / "core.prof", core)
        else:
            report.core = core()
    if "offline" in parts:
        from streams.process import usable_cpus

        report.offline = offline_bench(loaded, offline_pages, usable_cpus())
    stream_directories = corpus_directories(stream_corpus, STREAM_CORPUS)
    stream_pages_loaded = load_corpus(stream_directories) if {"stream", "state", "soak"} & set(parts) else []
    if "stream" in parts:
        report.stream = stream_bench(
            stream_pages_loaded, workers, pages=stream_pages, paced_seconds=paced_seconds,
            partitions=partitions, profile_dir=profile_dir,
        )  # fmt: skip
        for prof in sorted(profile_dir.glob("worker-*.prof")) if profile_dir else []:
            report.profiles[prof.stem] = profile_summary(pstats.Stats(str(prof)))
    if "state" in parts:
        print(f"state: {state_documents} documents", file=sys.stderr)
        report.state = state_bench(stream_pages_loaded, state_documents, partitions)
    if "soak" in parts:
        print(f"soak: {soak_minutes:g} minutes at {soak_rate:g} pages/s", file=sys.stderr)
        report.soak = soak_bench(
            stream_pages_loaded, minutes=soak_minutes, rate=soak_rate, partitions=partitions,
            state_documents=soak_state_documents,
        )  # fmt: skip
    return report


def write_json(report: Report, path: Path) -> None:
    path.write_bytes(orjson.dumps(report.to_dict(), option=orjson.OPT_INDENT_2))
