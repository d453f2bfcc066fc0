"""Reading crawled pages from files: pages, RawPage JSONL, and WARC/ARC archives.

A page file (.html/.htm/.txt) becomes a RawPage with its original bytes, a ``file://`` URL
and the file's modification time as fetch time. ``.jsonl``/``.ndjson`` files and ``-``
(standard input) hold one RawPage JSON object per line. ``.warc``/``.warc.gz``/``.arc``/
``.arc.gz`` archives give one RawPage per HTTP response record (see :mod:`streams.warc`).

Inputs come out as a RawPage, a :class:`SourceProblem` (an input that should have been a page
but could not be read: reported, and the feed exits 1) or a :class:`Skipped` (a record that is
not a page by design, such as a WARC request record: only counted).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from schemas import RawPage, SchemaError

PAGE_TYPES = {".html": "text/html", ".htm": "text/html", ".txt": "text/plain"}
JSONL_SUFFIXES = {".jsonl", ".ndjson"}
ARCHIVE_SUFFIXES = (".warc", ".warc.gz", ".arc", ".arc.gz")

# Media types Khabar publishes; everything else a crawler meets (images, scripts, PDFs) is skipped.
PAGE_MEDIA_TYPES = frozenset({"text/html", "application/xhtml+xml", "text/plain"})

# Headers that no longer describe a body stored decoded (de-chunked, decompressed), or that
# carry credentials: never copied into a RawPage.
_DROPPED_HEADERS = frozenset(
    {"content-encoding", "transfer-encoding", "content-length", "set-cookie", "connection", "keep-alive"}
)

DEFAULT_FILE_CRAWLER = "khabar-feed"
DEFAULT_ARCHIVE_CRAWLER = "warc"


@dataclass(frozen=True)
class SourceProblem:
    """An input that could not become a RawPage; reported, never silently dropped."""

    where: str
    reason: str
    message: str


@dataclass(frozen=True)
class Skipped(SourceProblem):
    """A record that is not a page by design (request, revisit, image…): counted, not an error."""


def media_type(content_type: str | None) -> str | None:
    """``text/html`` from ``text/HTML; charset=utf-8``; None when absent or empty."""
    if not content_type:
        return None
    kind = content_type.split(";", 1)[0].strip().lower()
    return kind or None


def looks_like_html(body: bytes) -> bool:
    """Sniff a body that came without a Content-Type (the WHATWG sniffing rule, simplified)."""
    start = body[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return start.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<!--"))


def is_page(content_type: str | None, body: bytes) -> bool:
    """True for the media types Khabar publishes (HTML, XHTML, plain text), sniffing when untyped."""
    kind = media_type(content_type)
    if kind is None:
        return looks_like_html(body)
    return kind in PAGE_MEDIA_TYPES


def http_headers_of(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """HTTP headers as a RawPage carries them: repeated names joined with ", ", hop-by-hop,
    encoding and cookie headers dropped (the body is stored decoded)."""
    headers: dict[str, str] = {}
    names: dict[str, str] = {}  # lower-case name -> the spelling first seen
    for raw_name, raw_value in pairs:
        name, value = str(raw_name), str(raw_value)  # plain str: header types subclass it
        lower = name.lower()
        if lower in _DROPPED_HEADERS:
            continue
        if lower in names:
            headers[names[lower]] += ", " + value
        else:
            names[lower] = name
            headers[name] = value
    return headers


def is_archive(path: Path) -> bool:
    return path.name.lower().endswith(ARCHIVE_SUFFIXES)


def _page_from_file(path: Path, crawler: str) -> RawPage:
    stat = path.stat()
    return RawPage(
        url=path.resolve().as_uri(),
        fetched_at=datetime.fromtimestamp(stat.st_mtime, UTC),
        body=path.read_bytes(),
        content_type=PAGE_TYPES[path.suffix.lower()],
        crawler=crawler,
    )


def _pages_from_jsonl(lines: Iterable[bytes], where: str) -> Iterator[RawPage | SourceProblem]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield RawPage.from_json(line)
        except SchemaError as exc:
            yield SourceProblem(f"{where}:{number}", exc.reason, str(exc))


def _expand(path: Path) -> Iterator[Path]:
    if path.is_dir():
        yield from sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
    else:
        yield path


def read_pages(paths: Iterable[str], crawler: str | None = None) -> Iterator[RawPage | SourceProblem]:
    """Yield a RawPage, a SourceProblem or a Skipped record for every input under ``paths``.

    ``crawler`` names the producer on pages made here (default ``khabar-feed`` for files and
    ``warc`` for archive records); JSONL records keep their own.
    """
    for argument in paths:
        if argument == "-":
            yield from _pages_from_jsonl(sys.stdin.buffer, "<stdin>")
            continue
        root = Path(argument)
        if not root.exists():
            yield SourceProblem(argument, "not_found", f"{argument}: no such file or directory")
            continue
        for path in _expand(root):
            suffix = path.suffix.lower()
            try:
                if suffix in PAGE_TYPES:
                    yield _page_from_file(path, crawler or DEFAULT_FILE_CRAWLER)
                elif suffix in JSONL_SUFFIXES:
                    with path.open("rb") as handle:
                        yield from _pages_from_jsonl(handle, str(path))
                elif is_archive(path):
                    from streams.warc import read_archive

                    yield from read_archive(path, crawler or DEFAULT_ARCHIVE_CRAWLER)
                elif path.name.lower() != "readme.md":
                    yield SourceProblem(
                        str(path), "unsupported_file", f"{path}: not .html/.htm/.txt/.jsonl/.warc/.arc"
                    )
            except OSError as exc:
                yield SourceProblem(str(path), "unreadable", f"{path}: {exc}")
