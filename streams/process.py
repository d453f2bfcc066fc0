"""``khabar process``: the same core as the workers, offline: files in, JSONL out, no Kafka.

Built for archives (a day of CC-NEWS is hundreds of thousands of pages):

* **every core**: pages are analyzed by ``jobs`` processes (one per core by default), at most
  :data:`IN_FLIGHT_PER_JOB` pages each in flight, and collected in input order, so the output
  does not depend on ``jobs``;
* **memory that does not grow with the input**: each analyzed page goes to a scratch RocksDB
  store on disk (under ``work_dir``), keyed so that the store's order is the decision order;
  the dedupe decision then reads them back in that order, its own state (LSH buckets, content
  hash owners, decisions, shingles) in the same store, all under one memory budget
  (:func:`streams.stores.table_store_options`). The store is deleted when the run ends.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
import sys
import tempfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator, MutableMapping
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, cast

import rocksdict
from tqdm import tqdm

from agents import StageError
from agents.dedupe import Ref, document_ref
from agents.dedupe.clusters import LocalDeduplicator, LocalState
from agents.limits import DEFAULT_LIMITS, Limits
from agents.pipeline import Fingerprint, analyze, fingerprint
from schemas import Article, RawPage
from streams.sources import SourceProblem
from streams.stores import BoundedRocksDBOptions, table_store_options

IN_FLIGHT_PER_JOB = 4  # pages handed to each analyzing process before the oldest is collected
STORE_MEMORY_MB = 64  # the scratch store's memory budget (cache and memtables)
_STATE_FAMILIES = ("buckets", "owners", "decisions", "shingles")

Analyzed = tuple[Article, Fingerprint]


@dataclass(frozen=True)
class Rejected:
    """A page the core rejected: its StageError, as plain values an analyzing process returns."""

    stage: str
    reason: str
    message: str


Analyzer = Callable[[RawPage, Limits], Analyzed | Rejected]


@dataclass(frozen=True)
class Packed:
    """An analyzed page as the scratch store keeps it, packed where it was analyzed (the main
    process only stores it): its place in the decision order, and its pickle."""

    ref: Ref
    data: bytes


def _pack(analyzer: Analyzer, raw: RawPage, limits: Limits) -> Packed | Rejected:
    result = analyzer(raw, limits)
    if isinstance(result, Rejected):
        return result
    article = result[0]
    data = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
    return Packed(document_ref(article.article_id, article.fetched_at), data)


@dataclass
class ProcessSummary:
    articles: int = 0
    duplicates: int = 0
    rejected: int = 0

    def describe(self) -> str:
        return f"{self.articles} articles, {self.duplicates} duplicates, {self.rejected} rejected"


def usable_cpus() -> int:
    """The cores this process may run on (its CPU affinity, as a container limits it)."""
    return len(os.sched_getaffinity(0))


def analyze_page(raw: RawPage, limits: Limits) -> Analyzed | Rejected:
    """One page through the core: the article and its fingerprint, or why it was rejected."""
    try:
        article = analyze(raw, limits=limits)
        return article, fingerprint(article, limits=limits)
    except StageError as exc:
        return Rejected(exc.stage, exc.reason, str(exc))


def process(
    items: Iterable[RawPage | SourceProblem],
    out: BinaryIO,
    *,
    progress: bool = True,
    limits: Limits = DEFAULT_LIMITS,
    jobs: int = 1,
    work_dir: Path | None = None,
    analyzer: Analyzer = analyze_page,
) -> ProcessSummary:
    """Write one JSON line per article, duplicates included (``duplicate_of`` set).

    Duplicates are decided once every page is analyzed, in (fetch time, article_id) order,
    so the earliest copy is canonical whatever the input order; lines come in that order.
    Inputs that cannot be read or processed are reported on stderr, in input order, and skipped.
    ``jobs`` processes analyze the pages (with :func:`analyze_page`; ``analyzer`` is for tests of
    a process that dies); the scratch store lives under ``work_dir`` (default: the system's
    temporary directory; the CLI gives the output's directory).
    """
    summary = ProcessSummary()
    with tempfile.TemporaryDirectory(prefix="khabar-process-", dir=work_dir) as scratch:
        store = ScratchStore(Path(scratch) / "store")
        try:
            bar = tqdm(unit=" pages", desc="analyzing", disable=not progress, file=sys.stderr)
            try:
                for number, (item, result) in enumerate(_analyzed(items, limits, jobs, analyzer)):
                    bar.update(1)
                    if isinstance(item, SourceProblem):
                        summary.rejected += 1
                        bar.write(f"skipped {item.where}: {item.reason}: {item.message}", file=sys.stderr)
                    elif isinstance(result, Rejected):
                        summary.rejected += 1
                        bar.write(
                            f"rejected {item.url}: {result.stage}/{result.reason}: {result.message}",
                            file=sys.stderr,
                        )
                    elif result is not None:
                        store.keep(number, result)
            finally:
                bar.close()
            _decide(store, out, summary, progress)
        finally:
            store.close()
    return summary


def _decide(store: ScratchStore, out: BinaryIO, summary: ProcessSummary, progress: bool) -> None:
    deduplicator = LocalDeduplicator(state=store.dedupe_state())
    with tqdm(total=store.kept, unit=" pages", desc="deciding", disable=not progress, file=sys.stderr) as bar:
        for article, prints in store.in_decision_order():
            me = document_ref(article.article_id, article.fetched_at)
            decision = deduplicator.decide(me, article.content_hash, prints.shingles, prints.bands)
            article.duplicate_of = decision.duplicate_of
            article.duplicate_kind = decision.kind  # type: ignore[assignment]
            article.similarity = decision.similarity
            if decision.duplicate_of is None:
                summary.articles += 1
            else:
                summary.duplicates += 1
            out.write(article.to_json() + b"\n")
            bar.update(1)


# --------------------------------------------------------------------------- analysis


def _analyzed(
    items: Iterable[RawPage | SourceProblem], limits: Limits, jobs: int, analyzer: Analyzer
) -> Iterator[tuple[RawPage | SourceProblem, Packed | Rejected | None]]:
    """Each input with its result, in input order (a SourceProblem has none)."""
    if jobs <= 1:
        for item in items:
            yield item, (None if isinstance(item, SourceProblem) else _pack(analyzer, item, limits))
        return
    pool = AnalyzingPool(jobs, limits, analyzer)
    try:
        waiting: deque[tuple[RawPage | SourceProblem, Future[Packed | Rejected] | None]] = deque()
        for item in items:
            waiting.append((item, None if isinstance(item, SourceProblem) else pool.submit(item)))
            while len(waiting) > jobs * IN_FLIGHT_PER_JOB:
                yield pool.collect(waiting)
        while waiting:
            yield pool.collect(waiting)
    finally:
        pool.close()


class AnalyzingPool:
    """``jobs`` processes analyzing pages, and what to do when one dies.

    A process that dies (a crash in a C library, the OOM killer) takes the whole pool with it
    and every page in flight. A new pool is started and each of those pages is analyzed again
    on its own, so a page that kills its process again is rejected (``analysis/crashed``) and
    the others come out as they would have; the run goes on.
    """

    def __init__(self, jobs: int, limits: Limits, analyzer: Analyzer) -> None:
        self._jobs, self._limits, self._analyzer = jobs, limits, analyzer
        self._pool = self._start()

    def _start(self) -> ProcessPoolExecutor:
        # spawn, not fork: the parent holds threads (tqdm's monitor, RocksDB's) a fork would
        # copy mid-lock; each process loads the core once and ignores Ctrl-C (the parent stops)
        context = multiprocessing.get_context("spawn")
        return ProcessPoolExecutor(self._jobs, mp_context=context, initializer=_ignore_interrupts)

    def _replace(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool = self._start()

    def submit(self, raw: RawPage) -> Future[Packed | Rejected] | None:
        """The page's analysis under way; None when the pool has died (run again on collection)."""
        try:
            return self._pool.submit(_pack, self._analyzer, raw, self._limits)
        except BrokenProcessPool:
            return None

    def collect(
        self, waiting: deque[tuple[RawPage | SourceProblem, Future[Packed | Rejected] | None]]
    ) -> tuple[RawPage | SourceProblem, Packed | Rejected | None]:
        """The oldest waiting input with its result (a SourceProblem has none)."""
        item, task = waiting.popleft()
        if isinstance(item, SourceProblem):
            return item, None
        try:
            if task is None:
                raise BrokenProcessPool("the pool had died when the page was handed to it")
            return item, task.result()
        except BrokenProcessPool:
            self._replace()
            result = self._alone(item)
            for index, (other, other_task) in enumerate(waiting):
                if isinstance(other, RawPage) and not _succeeded(other_task):
                    again: Future[Packed | Rejected] = Future()
                    again.set_result(self._alone(other))
                    waiting[index] = (other, again)
            return item, result

    def _alone(self, raw: RawPage) -> Packed | Rejected:
        try:
            return self._pool.submit(_pack, self._analyzer, raw, self._limits).result()
        except BrokenProcessPool as exc:
            self._replace()
            return Rejected("analysis", "crashed", f"the process analyzing the page died: {exc}")

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def _succeeded(task: Future[Packed | Rejected] | None) -> bool:
    return task is not None and task.done() and not task.cancelled() and task.exception() is None


def _ignore_interrupts() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


# --------------------------------------------------------------------------- scratch store


class ScratchStore:
    """The analyzed pages and the dedupe state of one run, in one RocksDB store on disk.

    A page's key is its decision order: its :func:`document_ref` (event time, then article_id,
    as UTF-8 with a NUL between them, which sorts as the pair does) and then its input
    number, so equal refs keep their input order, as a stable sort would.
    """

    def __init__(self, path: Path) -> None:
        options = BoundedRocksDBOptions(**table_store_options(STORE_MEMORY_MB)).as_options()
        options.create_if_missing(True)
        self._db = rocksdict.Rdict(str(path), options=options)
        self._families = {name: self._db.create_column_family(name, options) for name in _STATE_FAMILIES}
        self.kept = 0

    def keep(self, number: int, page: Packed) -> None:
        when, article_id = page.ref
        self._db[f"{when}\0{article_id}\0".encode() + number.to_bytes(8, "big")] = page.data
        self.kept += 1

    def in_decision_order(self) -> Iterator[Analyzed]:
        for _key, value in self._db.items():
            yield pickle.loads(value)

    def dedupe_state(self) -> LocalState:
        """The deduplicator's state, each part a column family of the store."""
        return LocalState(**{name: PickledFamily(family) for name, family in self._families.items()})

    def close(self) -> None:
        for family in self._families.values():
            family.close()
        self._db.close()


class PickledFamily(MutableMapping[str, Any]):
    """A column family of the scratch store as a mapping of str keys to pickled values
    (the store is opened in raw mode, bytes to bytes, as the worker's table stores are)."""

    def __init__(self, family: rocksdict.Rdict) -> None:
        self._family = family

    def __getitem__(self, key: str) -> Any:
        found = self._family.get(key.encode())
        if found is None:
            raise KeyError(key)
        return pickle.loads(found)

    def get(self, key: str, default: Any = None) -> Any:
        found = self._family.get(key.encode())
        return default if found is None else pickle.loads(found)

    def __setitem__(self, key: str, value: Any) -> None:
        self._family[key.encode()] = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)

    def __delitem__(self, key: str) -> None:
        del self._family[key.encode()]

    def __iter__(self) -> Iterator[str]:
        return (cast(bytes, key).decode() for key in self._family.keys())  # noqa: SIM118  # an Rdict iterates by index

    def __len__(self) -> int:
        return sum(1 for _ in self._family.keys())  # noqa: SIM118
