"""Reading inputs: WARC/ARC archives (built here with warcio), JSONL, files; skip and problem reasons."""

from __future__ import annotations

import gzip
import io
import zlib
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders  # type: ignore[import-untyped]
from warcio.warcwriter import WARCWriter  # type: ignore[import-untyped]

from schemas import RawPage
from streams.sources import (
    Skipped,
    SourceProblem,
    http_headers_of,
    is_page,
    read_pages,
)
from streams.warc import read_archive

WARC_DATE = "2026-02-06T09:30:00Z"


def html(n: int) -> bytes:
    text = "نص الخبر " * 200
    return f"<html><head><title>خبر {n}</title></head><body><p>{text}{n}</p></body></html>".encode()


def response(
    writer: WARCWriter, url: str, body: bytes, content_type: str = "text/html; charset=utf-8",
    status: str = "200 OK", extra: dict[str, str] | None = None, encoding: str | None = None,
) -> None:  # fmt: skip
    headers = [("Content-Type", content_type), ("ETag", '"v1"'), ("Set-Cookie", "session=secret")]
    if encoding:
        headers.append(("Content-Encoding", encoding))
    http = StatusAndHeaders(status, headers, protocol="HTTP/1.1")
    record = writer.create_warc_record(
        url, "response", payload=io.BytesIO(body), http_headers=http,
        warc_headers_dict={"WARC-Date": WARC_DATE, **(extra or {})},
    )  # fmt: skip
    writer.write_record(record)


def request(writer: WARCWriter, url: str) -> None:
    http = StatusAndHeaders("GET / HTTP/1.1", [("Host", "news.example")], is_http_request=True)
    writer.write_record(writer.create_warc_record(url, "request", http_headers=http))


def revisit(writer: WARCWriter, url: str) -> None:
    http = StatusAndHeaders("304 Not Modified", [("ETag", '"v1"')], protocol="HTTP/1.1")
    record = writer.create_revisit_record(
        url, digest="sha1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", refers_to_uri=url,
        refers_to_date="20260101000000", http_headers=http,
    )  # fmt: skip
    writer.write_record(record)


def build_warc(gzipped: bool = True) -> bytes:
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=gzipped)
    writer.write_record(writer.create_warcinfo_record("test.warc.gz", {"software": "khabar-test"}))
    request(writer, "https://news.example/1")
    response(writer, "https://news.example/1", html(1))
    revisit(writer, "https://news.example/1")
    response(writer, "https://news.example/logo.png", b"\x89PNG\r\n\x1a\n....", content_type="image/png")
    response(writer, "https://news.example/missing", b"<html>gone</html>", status="404 Not Found")
    response(writer, "https://news.example/2.txt", "خبر نصي\n\nفقرة".encode(), content_type="text/plain")
    response(writer, "https://news.example/gz", gzip.compress(html(3)), encoding="gzip")
    response(writer, "https://news.example/cut", html(4)[:300], extra={"WARC-Truncated": "length"})
    metadata = writer.create_warc_record("https://news.example/1", "metadata", payload=io.BytesIO(b"via: x"))
    writer.write_record(metadata)
    response(writer, "https://news.example/5", html(5))
    return out.getvalue()


def kinds(items: list[RawPage | SourceProblem]) -> tuple[list[str], Counter[str], Counter[str]]:
    pages = [item.url for item in items if isinstance(item, RawPage)]
    skipped = Counter(item.reason for item in items if isinstance(item, Skipped))
    problems = Counter(
        item.reason for item in items if isinstance(item, SourceProblem) and not isinstance(item, Skipped)
    )
    return pages, skipped, problems


EXPECTED_PAGES = [
    "https://news.example/1", "https://news.example/2.txt", "https://news.example/gz", "https://news.example/5",
]  # fmt: skip
EXPECTED_SKIPS = Counter(
    {"warcinfo": 1, "request": 1, "revisit": 1, "not_html": 1, "http_4xx": 1, "metadata": 1}
)


@pytest.mark.parametrize("name, gzipped", [("crawl.warc.gz", True), ("crawl.warc", False)])
def test_warc_responses_become_pages_and_the_rest_is_counted(
    tmp_path: Path, name: str, gzipped: bool
) -> None:
    path = tmp_path / name
    path.write_bytes(build_warc(gzipped))
    items = list(read_pages([str(path)]))
    pages, skipped, problems = kinds(items)
    assert pages == EXPECTED_PAGES
    assert skipped == EXPECTED_SKIPS
    assert problems == {"truncated": 1}  # WARC-Truncated: the crawler cut the page short
    first = next(item for item in items if isinstance(item, RawPage))
    assert first.body == html(1)
    assert first.fetched_at == datetime(2026, 2, 6, 9, 30, tzinfo=UTC)
    assert first.crawler == "warc"
    assert first.content_type == "text/html; charset=utf-8"
    assert first.http_headers == {"Content-Type": "text/html; charset=utf-8", "ETag": '"v1"'}
    decoded = next(item for item in items if isinstance(item, RawPage) and item.url.endswith("/gz"))
    assert decoded.body == html(3), "a gzip Content-Encoding is decoded"
    assert "Content-Encoding" not in decoded.http_headers


@pytest.mark.parametrize("gzipped", [True, False])
def test_a_cut_archive_reports_the_last_record_truncated(tmp_path: Path, gzipped: bool) -> None:
    data = build_warc(gzipped)
    path = tmp_path / ("cut.warc.gz" if gzipped else "cut.warc")
    path.write_bytes(data[:-200])
    pages, _, problems = kinds(list(read_archive(path)))
    assert pages == EXPECTED_PAGES[:-1]
    assert problems == {"truncated": 2}  # WARC-Truncated, and the record the file ends in


def member_starts(data: bytes) -> list[int]:
    """Where each gzip member of ``data`` begins."""
    starts, position = [], 0
    while position < len(data):
        starts.append(position)
        member = zlib.decompressobj(wbits=31)
        member.decompress(data[position:])
        position = len(data) - len(member.unused_data)
    return starts


def test_a_corrupt_gzip_member_is_reported_and_reading_resumes(tmp_path: Path) -> None:
    data = bytearray(build_warc(True))
    position = member_starts(bytes(data))[6]  # a member in the middle (searching for the gzip magic
    # could land inside compressed bytes that happen to look like it: a flaky test)
    data[position + 20 : position + 60] = b"\x00" * 40
    path = tmp_path / "corrupt.warc.gz"
    path.write_bytes(bytes(data))
    items = list(read_archive(path))
    pages, _, problems = kinds(items)
    assert problems["corrupt"] == 1
    assert pages[-1] == "https://news.example/5", "records after the corrupt one are still read"
    assert any(isinstance(i, SourceProblem) and i.where == f"{path}@{position}" for i in items)


def test_a_whole_file_gzip_warc_is_read(tmp_path: Path) -> None:
    path = tmp_path / "whole.warc.gz"
    path.write_bytes(gzip.compress(build_warc(False)))
    pages, skipped, problems = kinds(list(read_archive(path)))
    assert pages == EXPECTED_PAGES and skipped == EXPECTED_SKIPS and problems == {"truncated": 1}


def test_garbage_named_warc_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "junk.warc.gz"
    path.write_bytes(b"this is not an archive\n" * 10)
    items = list(read_archive(path))
    assert [(type(i), getattr(i, "reason", None)) for i in items] == [(SourceProblem, "corrupt")]


def arc_record(url: str, content_type: str, http: bytes) -> bytes:
    return f"{url} 93.184.216.34 20260206093000 {content_type} {len(http)}\n".encode() + http + b"\n"


def test_arc_files_are_read_like_warc(tmp_path: Path) -> None:
    header = b"1 0 khabar-test\nURL IP-address Archive-date Content-type Archive-length\n"
    filedesc = arc_record("filedesc://crawl.arc", "text/plain", header)
    page = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n" + html(7)
    image = b"HTTP/1.1 200 OK\r\nContent-Type: image/gif\r\n\r\nGIF89a"
    records = [
        filedesc,
        arc_record("http://news.example/7", "text/html", page),
        arc_record("http://news.example/i.gif", "image/gif", image),
    ]
    (tmp_path / "crawl.arc").write_bytes(b"".join(records))
    (tmp_path / "crawl.arc.gz").write_bytes(b"".join(gzip.compress(r) for r in records))
    for name in ("crawl.arc", "crawl.arc.gz"):
        items = list(read_pages([str(tmp_path / name)], crawler="heritrix"))
        pages, skipped, problems = kinds(items)
        assert pages == ["http://news.example/7"] and not problems, name
        assert skipped == {"warcinfo": 1, "not_html": 1}, name
        (arc_page,) = [i for i in items if isinstance(i, RawPage)]
        assert arc_page.body == html(7) and arc_page.crawler == "heritrix"
        assert arc_page.fetched_at == datetime(2026, 2, 6, 9, 30, tzinfo=UTC)


def test_directories_mix_pages_jsonl_and_archives(tmp_path: Path) -> None:
    (tmp_path / "a.html").write_bytes(html(8))
    (tmp_path / "c.warc.gz").write_bytes(build_warc(True))
    good = RawPage(url="https://news.example/j", fetched_at=datetime.now(UTC), text="نص")
    (tmp_path / "b.jsonl").write_bytes(good.to_json() + b"\n\nnot json\n")
    (tmp_path / "notes.pdf").write_bytes(b"%PDF")
    items = list(read_pages([str(tmp_path), str(tmp_path / "missing")]))
    pages, skipped, problems = kinds(items)
    assert pages[:2] == [(tmp_path / "a.html").resolve().as_uri(), "https://news.example/j"]
    assert pages[2:] == EXPECTED_PAGES
    assert problems == {"not_json": 1, "unsupported_file": 1, "truncated": 1, "not_found": 1}
    assert skipped == EXPECTED_SKIPS
    file_page = next(i for i in items if isinstance(i, RawPage))
    assert file_page.crawler == "khabar-feed"


def test_page_types_and_headers() -> None:
    assert is_page("text/HTML; charset=windows-1256", b"")
    assert is_page("application/xhtml+xml", b"") and is_page("text/plain", b"")
    assert not is_page("image/jpeg", b"<html>")
    assert is_page(None, b"\xef\xbb\xbf  <!DOCTYPE html><html>") and not is_page(None, b"GIF89a")
    pairs = [("Content-Type", "text/html"), ("Vary", "a"), ("vary", "b"), ("Set-Cookie", "x"),
             ("Transfer-Encoding", "chunked"), ("Content-Length", "10")]  # fmt: skip
    assert http_headers_of(pairs) == {"Content-Type": "text/html", "Vary": "a, b"}
