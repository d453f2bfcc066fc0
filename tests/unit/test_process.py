"""``khabar process``: the same output with any number of analyzing processes, decided in
(fetch time, article_id) order on state kept on disk, the same as the in-memory decisions."""

from __future__ import annotations

import io
import multiprocessing
import os
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from agents.dedupe import document_ref
from agents.dedupe.clusters import LocalDeduplicator
from agents.limits import Limits
from agents.pipeline import analyze, fingerprint
from schemas import RawPage
from streams.process import Analyzed, ProcessSummary, Rejected, analyze_page, process
from streams.sources import SourceProblem

SAMPLE_CRAWL = Path(__file__).resolve().parents[2] / "streams" / "sample_crawl"
START = datetime(2026, 3, 1, tzinfo=UTC)


def crawl() -> list[RawPage | SourceProblem]:
    """The sample crawl (one syndicated copy in it) in reverse time order, with an exact copy
    elsewhere, a copy with one sentence changed, a re-crawl of a URL, the same page given
    twice, a page no stage can read and an input that could not be read at all."""
    pages: list[RawPage | SourceProblem] = []
    files = sorted(p for p in SAMPLE_CRAWL.iterdir() if p.suffix in (".txt", ".html"))
    for number, path in enumerate(files):
        kind = "text/html" if path.suffix == ".html" else "text/plain"
        at = START + timedelta(hours=len(files) - number)
        pages.append(RawPage(url=f"https://site.example/{path.name}", fetched_at=at, body=path.read_bytes(),
                             content_type=kind))  # fmt: skip
    story = (SAMPLE_CRAWL / "cairo-electric-buses.txt").read_text()
    first_line_end = story.index("\n", len(story) // 2)
    changed = (
        story[:first_line_end] + " وأضاف المتحدث أن الخط سيعمل طوال أيام الأسبوع." + story[first_line_end:]
    )
    pages += [
        RawPage(url="https://mirror.example/buses", fetched_at=START, text=story),
        RawPage(url="https://other.example/buses", fetched_at=START + timedelta(days=1), text=changed),
        RawPage(url="https://site.example/cairo-electric-buses.txt", fetched_at=START + timedelta(days=2),
                text=story),
        RawPage(url="https://twice.example/a", fetched_at=START, text=story + "\nتحديث"),
        RawPage(url="https://twice.example/a", fetched_at=START, text=story + "\nتحديث"),
        RawPage(url="https://junk.example/x", fetched_at=START, body=b"\x00\x01\x02" * 500,
                content_type="application/octet-stream"),
        SourceProblem("broken.warc.gz", "truncated", "broken.warc.gz: truncated record"),
    ]  # fmt: skip
    return pages


def run(items: Iterable[RawPage | SourceProblem], work_dir: Path, jobs: int) -> tuple[bytes, ProcessSummary]:
    out = io.BytesIO()
    summary = process(items, out, progress=False, jobs=jobs, work_dir=work_dir)
    return out.getvalue(), summary


def test_more_processes_give_the_same_output_and_reports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    one, one_summary = run(crawl(), tmp_path, jobs=1)
    one_reports = capsys.readouterr().err
    two, two_summary = run(crawl(), tmp_path, jobs=2)
    assert two == one
    assert two_summary == one_summary
    assert capsys.readouterr().err == one_reports
    assert one_reports.index("rejected https://junk.example/x") < one_reports.index("skipped broken.warc.gz")
    assert list(tmp_path.iterdir()) == []  # the scratch store is gone


def test_decisions_on_disk_are_the_in_memory_decisions_in_time_order(tmp_path: Path) -> None:
    lines = [orjson.loads(line) for line in run(crawl(), tmp_path, jobs=1)[0].splitlines()]
    expected = []
    analyzed = []
    for item in crawl():
        if isinstance(item, RawPage) and item.url != "https://junk.example/x":
            article = analyze(item)
            analyzed.append((document_ref(article.article_id, article.fetched_at), article))
    deduplicator = LocalDeduplicator()
    for me, article in sorted(analyzed, key=lambda pair: pair[0]):
        prints = fingerprint(article)
        decision = deduplicator.decide(me, article.content_hash, prints.shingles, prints.bands)
        expected.append((article.url, decision.duplicate_of, decision.kind, decision.similarity))
    assert [(d["url"], d["duplicate_of"], d["duplicate_kind"], d["similarity"]) for d in lines] == expected
    kinds = [kind for _, _, kind, _ in expected]
    assert kinds.count("exact") >= 3 and kinds.count("near") >= 1  # the crawl has both kinds
    assert [d["url"] for d in lines].count("https://twice.example/a") == 2


def test_an_interrupted_run_stops_its_processes_and_leaves_no_scratch_store(tmp_path: Path) -> None:
    def items() -> Iterator[RawPage | SourceProblem]:
        yield from crawl()[:5]
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(items(), tmp_path, jobs=2)
    assert multiprocessing.active_children() == []
    assert list(tmp_path.iterdir()) == []


def dying_analyzer(raw: RawPage, limits: Limits) -> Analyzed | Rejected:
    """The core, except that a page with "crash" in its URL kills the process analyzing it."""
    if "crash" in raw.url:
        os._exit(3)
    return analyze_page(raw, limits)


def test_a_page_that_kills_its_process_is_rejected_and_the_run_goes_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pages = [page for page in crawl() if isinstance(page, RawPage)]
    expected, _ = run(pages, tmp_path, jobs=1)
    capsys.readouterr()
    crashing = [RawPage(url=f"https://crash.example/{n}", fetched_at=START, text="نص") for n in range(2)]
    items = [*pages[:3], crashing[0], *pages[3:9], crashing[1], *pages[9:]]
    out = io.BytesIO()
    summary = process(items, out, progress=False, jobs=2, work_dir=tmp_path, analyzer=dying_analyzer)
    assert out.getvalue() == expected  # every other page, also those in flight with a crash
    reports = capsys.readouterr().err
    assert reports.count("analysis/crashed") == 2
    assert reports.index("https://crash.example/0") < reports.index("https://crash.example/1")
    assert summary.rejected == 3  # the two, and the page no stage can read


def test_the_command_keeps_its_scratch_store_next_to_the_output_and_removes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    import streams.process
    from streams.cli import main

    places: list[Path | None] = []
    real_process = streams.process.process

    def watched(*args: Any, **kwargs: Any) -> ProcessSummary:
        places.append(kwargs["work_dir"])
        return real_process(*args, **kwargs)

    monkeypatch.setattr(streams.process, "process", watched)
    out = tmp_path / "articles.jsonl"
    result = CliRunner().invoke(main, ["process", str(SAMPLE_CRAWL), "-o", str(out), "--jobs", "2"])
    assert result.exit_code == 0, result.output
    lines = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    assert len(lines) == 8 and sum(1 for d in lines if d["duplicate_of"]) == 1
    assert "7 articles, 1 duplicates, 0 rejected" in result.output
    assert places == [tmp_path.resolve()]  # not the system's temporary directory (often memory)
    assert list(tmp_path.iterdir()) == [out]  # and it is gone
