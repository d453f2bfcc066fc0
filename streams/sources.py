"""Reading crawled pages from files: .html/.htm and .txt pages, and JSONL of RawPage records.

A page file becomes a RawPage with its original bytes, a ``file://`` URL and the file's
modification time as fetch time. ``-`` reads RawPage JSONL from standard input.
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


@dataclass(frozen=True)
class SourceProblem:
    """An input that could not become a RawPage; reported, never silently dropped."""

    where: str
    reason: str
    message: str


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


def read_pages(paths: Iterable[str], crawler: str = "khabar-feed") -> Iterator[RawPage | SourceProblem]:
    """Yield a RawPage (or a SourceProblem) for every page under ``paths``."""
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
                    yield _page_from_file(path, crawler)
                elif suffix in JSONL_SUFFIXES:
                    with path.open("rb") as handle:
                        yield from _pages_from_jsonl(handle, str(path))
                elif path.name.lower() != "readme.md":
                    yield SourceProblem(str(path), "unsupported_file", f"{path}: not .html/.htm/.txt/.jsonl")
            except OSError as exc:
                yield SourceProblem(str(path), "unreadable", f"{path}: {exc}")
