"""The benchmark's own logic (its numbers are not tested: benchmarks are not tests)."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest

from agents.dedupe.near import BANDS, NEAR_DUPLICATE_JACCARD, jaccard, shingles
from agents.pipeline import analyze
from streams.bench import (
    PARSER_RUNS,
    SAMPLE_CRAWL,
    CoreResult,
    CorpusPage,
    OfflineResult,
    OfflineRun,
    Report,
    SoakResult,
    corpus_directories,
    load_corpus,
    memory_mb,
    memory_parts_from,
    percentiles,
    raw_page,
    records_between,
    state_bench,
    unique_copy,
)
from streams.config import Settings
from streams.metrics import PipelineMetrics


def test_without_the_shared_corpus_the_sample_crawl_is_used() -> None:
    missing = SAMPLE_CRAWL / "no-such-directory"
    assert corpus_directories([], [missing]) == [SAMPLE_CRAWL]
    pages = load_corpus([SAMPLE_CRAWL])
    assert {page.content_type for page in pages} == {"text/html", "text/plain"}
    assert len(pages) == len([p for p in SAMPLE_CRAWL.iterdir() if p.suffix in (".html", ".txt")])
    assert {page.source for page in pages} == {"streams/sample_crawl"}  # for the per-directory ratios


def test_unique_copies_keep_language_and_size_but_are_not_duplicates() -> None:
    page = next(p for p in load_corpus([SAMPLE_CRAWL]) if p.name == "wire-trade-agreement.html")
    now = datetime.now(UTC)
    first, second = (
        analyze(raw_page(unique_copy(page, seed), f"https://bench.invalid/{seed}", now)) for seed in (1, 2)
    )
    original = analyze(raw_page(page, "https://bench.invalid/original", now))
    assert first.language == second.language == original.language
    assert abs(len(first.text) - len(original.text)) < 0.1 * len(original.text)
    assert first.content_hash != second.content_hash
    assert jaccard(shingles(first.text), shingles(second.text)) < NEAR_DUPLICATE_JACCARD / 2


def test_plain_text_copies_are_shuffled_too() -> None:
    page = CorpusPage(
        "a.txt", "عنوان قصير\n\nواحد اثنان ثلاثة أربعة خمسة ستة سبعة ثمانية".encode(), "text/plain"
    )
    copies = {unique_copy(page, seed).body for seed in range(5)}
    assert len(copies) > 1
    assert all(copy.decode().startswith("عنوان قصير\n") for copy in copies)


def test_percentiles_pick_ranks() -> None:
    values = list(range(1, 101))
    assert percentiles(values) == {"p50": 50, "p95": 95, "p99": 99, "max": 100}
    assert percentiles([]) == {}


def test_state_counts_every_table_entry_of_every_document() -> None:
    result = state_bench(load_corpus([SAMPLE_CRAWL]), documents=1000, partitions=2)
    assert result.documents == 1000
    assert result.keys == {
        "documents": 1000, "pending": 1000, "lsh-buckets": 1000 * BANDS, "content-owners": 1000,
    }  # fmt: skip
    assert all(size > 0 for size in result.value_bytes.values())
    # the documents table holds each article's text and shingles: it dominates
    sizes = result.value_bytes
    assert sizes["documents"] > sizes["lsh-buckets"] > sizes["pending"] > sizes["content-owners"]
    # every answer rewrites the small join state (the document, one answer per partition of its
    # bands, 2 here, and the owner's: 3 or 4 writes), the article is written once (averages over
    # the timed documents, which are not all of them: hence the margins)
    changelog = result.changelog_bytes_per_document
    assert (
        2.5 * sizes["pending"] / result.documents
        < changelog["pending"]
        < 4.5 * sizes["pending"] / result.documents
    )
    assert changelog["documents"] < 2 * sizes["documents"] / result.documents
    assert [sample.documents for sample in result.samples] == sorted(s.documents for s in result.samples)
    rows = Report(state=result).rows()
    assert any("scaled from 1,000" in measure for _, measure, _ in rows)


def test_soak_growth_is_the_slope_of_the_second_half() -> None:
    # RSS climbs while the state warms up, then grows 1 MB a minute
    samples = [(60.0 * minute, 200.0 + 10 * min(minute, 5) + max(0, minute - 5)) for minute in range(11)]
    soak = SoakResult(
        minutes=10, rate=5, pages=3000, rss_mb=samples, latency_ms={}, dead_letters=0, peak_rss_mb=260
    )
    assert abs(soak.growth_mb_per_10_minutes - 10.0) < 1e-9
    flat = SoakResult(minutes=10, rate=5, pages=3000, rss_mb=[(60.0 * m, 300.0) for m in range(11)],
                      latency_ms={"p50": 1, "p95": 2, "p99": 3}, dead_letters=0, peak_rss_mb=301)  # fmt: skip
    assert flat.growth_mb_per_10_minutes == 0.0
    (rss_row, latency_row) = Report(soak=flat).rows()
    assert rss_row[2] == "start 300 MB, end 300 MB, peak (VmHWM) 301 MB; second half +0.0 MB per 10 min"
    assert "5.0 pages/s" in rss_row[1]
    assert latency_row[2] == "p50 1 / p95 2 / p99 3 ms"


def test_soak_reads_the_workers_memory_parts_and_their_growth() -> None:
    metrics = PipelineMetrics()
    metrics.set_memory({"store_cache": 4 * 2**20, "malloc_in_use": 12 * 2**20, "malloc_free": 3 * 2**20})
    parts = memory_parts_from(metrics.exposition().decode())
    assert parts.keys() == {"store_cache", "malloc_in_use", "malloc_free", "rss_outside_malloc"}
    assert parts["store_cache"] == 4 and parts["malloc_in_use"] == 12
    # this process's own resident set (ProcessCollector) less malloc's 15 MB
    assert abs(parts["rss_outside_malloc"] - (memory_mb(os.getpid(), "VmRSS") - 15)) < 5
    # the cache fills, then holds; malloc's blocks grow 2 MB a minute throughout
    readings = [
        (60.0 * m, {"store_cache": min(10.0 * m, 40), "malloc_in_use": 100 + 2.0 * m}) for m in range(11)
    ]
    soak = SoakResult(minutes=10, rate=5, pages=3000, rss_mb=[(t, 300.0) for t, _ in readings],
                      latency_ms={"p50": 1, "p95": 2, "p99": 3},
                      dead_letters=0, peak_rss_mb=300, memory_parts_mb=readings)  # fmt: skip
    growth = soak.parts_growth()
    assert growth["store_cache"] == (0.0, 40.0, 0.0)
    assert growth["malloc_in_use"][:2] == (100.0, 120.0)
    assert abs(growth["malloc_in_use"][2] - 20.0) < 1e-9
    rows = {measure: value for _, measure, value in Report(soak=soak).rows()}
    assert rows["worker memory: store_cache"] == "start 0 MB, end 40 MB; second half +0.0 MB per 10 min"


def test_core_ratios_compare_the_core_and_each_stage_with_the_reference_tools() -> None:
    core = CoreResult(
        corpus="c", pages=100, rejected=0, parser_seconds=dict.fromkeys(PARSER_RUNS, 0.1),
        stage_seconds={"decode": 0.1, "clean": 0.5, "language": 0.1, "dates": 0.2, "fingerprint": 0.1},
        reference_seconds={"trafilatura": 2.0, "htmldate": 1.0, "lingua": 0.5, "datasketch": 0.1},
    )  # fmt: skip
    rows = {measure: value for _, measure, value in Report(core=core).rows()}
    assert rows["khabar / trafilatura"] == "2.0x"
    assert rows["khabar clean / trafilatura"] == "4.0x"
    assert rows["khabar dates / htmldate"] == "5.0x"
    assert rows["khabar language / lingua"] == "5.0x"
    assert rows["khabar fingerprint / datasketch"] == "1.0x"
    assert rows["khabar / reference pipeline"] == "3.6x"
    assert rows["reference pipeline total"].startswith("28 pages/s")
    assert rows["lexbor parse alone (selectolax)"].startswith("1,000 pages/s")
    numbers = core.to_dict()
    assert numbers["stage_over_reference"]["clean"] == 4.0
    assert numbers["pages_per_second"]["htmldate"] == 100.0
    assert numbers["pages_per_second"]["lxml_visit"] == 1000.0
    assert not any("pages): khabar" in measure for measure in rows)  # one corpus: no split


def test_core_ratios_are_also_given_per_corpus_directory() -> None:
    core = CoreResult(
        corpus="c", pages=100, rejected=0, parser_seconds=dict.fromkeys(PARSER_RUNS, 0.1),
        stage_seconds={"decode": 0.1, "clean": 0.5, "language": 0.1, "dates": 0.2, "fingerprint": 0.1},
        reference_seconds={"trafilatura": 2.0, "htmldate": 1.0, "lingua": 0.5, "datasketch": 0.1},
        by_source={
            "eval/english": {"pages": 60, "khabar": 0.6, "trafilatura": 1.5, "reference": 2.4},
            "eval/arabic": {"pages": 40, "khabar": 0.4, "trafilatura": 0.5, "reference": 1.2},
        },
    )  # fmt: skip
    rows = {measure: value for _, measure, value in Report(core=core).rows()}
    assert rows["eval/english (60 pages): khabar / trafilatura, / reference pipeline"] == "2.5x, 4.0x"
    assert rows["eval/arabic (40 pages): khabar / trafilatura, / reference pipeline"] == "1.2x, 3.0x"
    assert core.to_dict()["by_source_over"]["eval/arabic"]["reference_pipeline"] == pytest.approx(3.0)


def test_offline_runs_give_rate_cpu_memory_and_the_gain_over_one_process() -> None:
    offline = OfflineResult([
        OfflineRun(jobs=1, pages=50, wall_seconds=2.0, cpu_seconds=1.5, peak_rss_mb=150.2),
        OfflineRun(jobs=1, pages=200, wall_seconds=5.0, cpu_seconds=4.0, peak_rss_mb=160.0),
        OfflineRun(jobs=2, pages=200, wall_seconds=2.5, cpu_seconds=4.4, peak_rss_mb=155.0,
                   analyzing_peak_rss_mb=140.4),
    ])  # fmt: skip
    rows = {measure: value for part, measure, value in Report(offline=offline).rows() if part == "offline"}
    assert rows == {
        "khabar process --jobs 1, 50 pages": "25.0 pages/s wall clock; 30.0 ms CPU/page; peak RSS 150 MB",
        "khabar process --jobs 1, 200 pages": "40.0 pages/s wall clock; 20.0 ms CPU/page; peak RSS 160 MB",
        "khabar process --jobs 2, 200 pages": (
            "80.0 pages/s wall clock, 2.0x one process; 22.0 ms CPU/page; peak RSS 155 MB, "
            "each analyzing process 140 MB at most"
        ),
    }
    assert offline.to_dict()["runs"][2]["pages_per_second"] == 80.0


def test_records_are_split_into_what_workers_consume_and_produce() -> None:
    settings = Settings(topic_prefix="p.", app_id="a")
    before = {"p.raw-pages": 10, "p.a-bands": 100, "a-pending-changelog": 7, "p.articles": 3}
    after = {"p.raw-pages": 12, "p.a-bands": 140, "a-pending-changelog": 50, "p.articles": 5}
    consumed, produced = records_between(settings, before, after)
    assert consumed == {"p.raw-pages": 2, "p.a-bands": 40}
    assert produced == {"p.a-bands": 40, "a-pending-changelog": 43, "p.articles": 2}
