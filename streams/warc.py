"""WARC and ARC archives (warcio) as RawPages.

Every HTTP ``response`` record with a 2xx status and a page media type (HTML, XHTML, plain
text) becomes a RawPage: the HTTP payload (de-chunked and decompressed, as the server meant
it), the HTTP headers, ``WARC-Date`` as fetch time and ``WARC-Target-URI`` as URL. ARC
records are read as the equivalent WARC responses.

Other records are :class:`~streams.sources.Skipped` with their kind as the reason
(``warcinfo``, ``request``, ``metadata``, ``revisit``, ``resource``…, ``not_http``,
``http_3xx``/``http_4xx``/``http_5xx``, ``not_html``, ``empty``). Records cut short
(``WARC-Truncated``, or the file ends inside them) are ``truncated`` problems; unreadable
records are ``corrupt`` problems, after which reading resumes at the next record the file
format lets us find (the next gzip member of a ``.warc.gz``, the next ``WARC/1.x`` line of a
plain WARC). Nothing in an archive stops a feed.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from warcio.archiveiterator import ArchiveIterator  # type: ignore[import-untyped]
from warcio.bufferedreaders import BufferedReader  # type: ignore[import-untyped]
from warcio.exceptions import ArchiveLoadFailed  # type: ignore[import-untyped]

from schemas import RawPage, SchemaError
from streams.sources import Skipped, SourceProblem, http_headers_of, is_page

_GZIP_MAGIC = b"\x1f\x8b\x08"
_WARC_LINE = b"\nWARC/1."
_SCAN_CHUNK = 1 << 20
_READ_ERRORS = (ArchiveLoadFailed, zlib.error, EOFError, ValueError, TypeError, AttributeError, OSError)

# Record types of the WARC standard, as skip reasons; anything else is "unknown_record".
_RECORD_TYPES = frozenset(
    {"warcinfo", "request", "metadata", "revisit", "resource", "conversion", "continuation"}
)


class _Records(ArchiveIterator):  # type: ignore[misc]
    """ArchiveIterator that remembers whether the file ended inside a gzip member."""

    ended_inside_member = False
    INC_RECORD = ""  # warcio prints this warning to stderr; we report the record as corrupt instead

    def close(self) -> None:
        reader = self.reader
        if reader is not None and reader.decompressor is not None:
            self.ended_inside_member = not getattr(reader.decompressor, "eof", True)
        super().close()

    def member_open(self) -> bool:
        """After a record is consumed: True if the file ended inside its gzip member."""
        reader = self.reader
        if reader is None or reader.decompressor is None or getattr(reader.decompressor, "eof", True):
            return False
        position = self.fh.tell()
        at_end = not self.fh.read(1)
        self.fh.seek(position)
        return at_end


def _fetched_at(value: str | None) -> datetime:
    if not value:
        raise ValueError("no WARC-Date")
    text = value.strip()
    if text.isdigit() and len(text) >= 14:  # ARC style 20260102030405
        return datetime.strptime(text[:14], "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _classify(record: Any) -> str | None:
    """The skip reason of a record that is not a page, or None for a candidate page."""
    rec_type = record.rec_type
    if rec_type == "arc_header":
        return "warcinfo"
    if rec_type != "response":
        return rec_type if rec_type in _RECORD_TYPES else "unknown_record"
    http = record.http_headers
    if http is None:
        return "not_http"  # dns:, ftp:, whois: responses
    status = str(http.get_statuscode())
    if not (status.isdigit() and len(status) == 3):
        return "http_invalid"
    if status[0] != "2":
        return f"http_{status[0]}xx"
    return None


def _page(record: Any, where: str, crawler: str) -> RawPage | SourceProblem:
    """Read a candidate response record's payload; the record must then be fully consumed."""
    http = record.http_headers
    content_type = http.get_header("Content-Type")
    encoding = (http.get_header("Content-Encoding") or "").strip().lower()
    if encoding and encoding != "identity" and encoding not in BufferedReader.get_supported_decompressors():
        return SourceProblem(where, "unsupported_encoding", f"{where}: Content-Encoding {encoding!r}")
    try:
        body: bytes = record.content_stream().read()
    except (zlib.error, OSError, ValueError) as exc:
        return SourceProblem(where, "corrupt", f"{where}: payload cannot be decoded: {exc}")
    if not body:
        return Skipped(where, "empty", f"{where}: empty payload")
    if not is_page(content_type, body):
        return Skipped(where, "not_html", f"{where}: {content_type or 'no Content-Type'}")
    url = record.rec_headers.get_header("WARC-Target-URI")
    if not url:
        return SourceProblem(where, "corrupt", f"{where}: response record without WARC-Target-URI")
    try:
        fetched_at = _fetched_at(record.rec_headers.get_header("WARC-Date"))
    except ValueError as exc:
        return SourceProblem(where, "bad_date", f"{where}: WARC-Date: {exc}")
    try:
        return RawPage(
            url=url,
            fetched_at=fetched_at,
            body=body,
            content_type=content_type,
            http_headers=http_headers_of(http.headers),
            crawler=crawler,
        )
    except SchemaError as exc:
        return SourceProblem(where, exc.reason, f"{where}: {exc}")


def _item(record: Any, records: _Records, where: str, crawler: str) -> RawPage | SourceProblem:
    reason = None if record.rec_type is None else _classify(record)
    page: RawPage | SourceProblem | None = None
    if record.rec_type is not None and reason is None:
        page = _page(record, where, crawler)
    errors_before = records.err_count
    records.read_to_end()  # consume the rest of the record (and the gzip member's end)
    if getattr(record.raw_stream, "limit", 0) > 0 or (record.rec_type is None and records.member_open()):
        return SourceProblem(where, "truncated", f"{where}: the archive ends inside this record")
    if record.rec_type is None:
        return SourceProblem(where, "corrupt", f"{where}: record header cannot be parsed")
    length = record.rec_headers.get_header("Content-Length")
    if length is None or not str(length).strip().isdigit():
        return SourceProblem(where, "corrupt", f"{where}: record without a valid length ({length!r})")
    if records.err_count > errors_before:
        return SourceProblem(where, "corrupt", f"{where}: the record does not end where its length says")
    if record.digest_checker is not None and record.digest_checker.passed is False:
        problems = "; ".join(record.digest_checker.problems)
        return SourceProblem(where, "corrupt", f"{where}: {problems}")
    if record.rec_headers.get_header("WARC-Truncated"):
        why = record.rec_headers.get_header("WARC-Truncated")
        return SourceProblem(where, "truncated", f"{where}: the crawler truncated this record ({why})")
    if reason is not None:
        return Skipped(where, reason, f"{where}: {record.rec_type} record ({reason})")
    assert page is not None
    return page


def _is_corrupt(item: RawPage | SourceProblem | None) -> bool:
    return isinstance(item, SourceProblem) and item.reason == "corrupt"


def _bytes_left(handle: IO[bytes], offset: int) -> bool:
    """True if something other than blank lines follows the last record read."""
    handle.seek(offset)
    return bool(handle.read(4096).strip())


def _next_start(handle: IO[bytes], after: int, gzipped: bool) -> int | None:
    """Offset of the next place a record may start, scanning from ``after``; None at the end."""
    marker = _GZIP_MAGIC if gzipped else _WARC_LINE
    shift = 0 if gzipped else 1
    handle.seek(after)
    position = after
    tail = b""
    while True:
        chunk = handle.read(_SCAN_CHUNK)
        if not chunk:
            return None
        data = tail + chunk
        found = data.find(marker)
        if found >= 0:
            return position - len(tail) + found + shift
        tail = data[-(len(marker) - 1) :]
        position += len(chunk)


def _whole_file_gzip(error: BaseException) -> bool:
    return isinstance(error, ArchiveLoadFailed) and "non-chunked gzip" in str(error)


def _unreadable(path: Path, position: int, exc: BaseException) -> SourceProblem:
    """A record of a whole-stream gzip WARC that cannot be read (offsets are uncompressed)."""
    where = f"{path}@{position}"
    reason = "truncated" if isinstance(exc, EOFError) else "corrupt"
    return SourceProblem(where, reason, f"{where} (uncompressed offset): {exc}")


def _read_whole_gzip(path: Path, crawler: str, skip: int) -> Iterator[RawPage | SourceProblem]:
    """A WARC gzipped as one stream (``gzip x.warc``), read sequentially; offsets are uncompressed."""
    with gzip.open(path, "rb") as stream:
        records = _Records(stream, arc2warc=True, check_digests=True)
        count = 0
        try:
            while True:
                position = records.offset
                try:
                    record = next(records)
                except StopIteration:
                    break
                except _READ_ERRORS as exc:
                    yield _unreadable(path, position, exc)
                    return
                count += 1
                try:
                    if count <= skip:
                        records.read_to_end()
                        continue
                    item = _item(record, records, f"{path}@{position}", crawler)
                except _READ_ERRORS as exc:
                    yield _unreadable(path, position, exc)
                    return
                yield item
        finally:
            records.close()
        try:
            leftover = stream.read(4096).strip()
        except EOFError:
            leftover = b"?"
        if leftover:
            where = f"{path}@{records.offset}"
            yield SourceProblem(where, "truncated", f"{where} (uncompressed offset): the archive ends early")


def read_archive(path: Path, crawler: str = "warc") -> Iterator[RawPage | SourceProblem]:
    """Yield a RawPage, Skipped or SourceProblem for every record of a WARC or ARC file."""
    yielded = 0
    with path.open("rb") as handle:
        gzipped = handle.read(2) == _GZIP_MAGIC[:2]
        plain_warc = not gzipped and path.name.lower().endswith(".warc")
        start: int | None = 0
        resyncing = False  # after a corrupt stretch: stay quiet until a record reads again
        while start is not None:
            handle.seek(start)
            records = _Records(handle, arc2warc=True, check_digests=True)
            failed_at: int | None = None
            last: RawPage | SourceProblem | None = None
            error: BaseException | None = None
            try:
                while True:
                    position = records.offset
                    try:
                        record = next(records)
                    except StopIteration:
                        break
                    except _READ_ERRORS as exc:
                        failed_at, error = position, exc
                        break
                    try:
                        item = _item(record, records, f"{path}@{position}", crawler)
                    except _READ_ERRORS as exc:
                        failed_at, error = position, exc
                        break
                    corrupt = isinstance(item, SourceProblem) and item.reason == "corrupt"
                    if corrupt and (resyncing or _is_corrupt(last)):
                        continue  # one report per unreadable stretch
                    resyncing = False
                    last = item
                    yielded += 1
                    yield item
            finally:
                records.close()
            if failed_at is None:
                truncated_already = isinstance(last, SourceProblem) and last.reason == "truncated"
                cut = records.ended_inside_member or _bytes_left(handle, records.offset)
                if cut and not truncated_already:
                    where = f"{path}@{records.offset}"
                    yield SourceProblem(where, "truncated", f"{where}: the archive ends inside a record")
                return
            if error is not None and _whole_file_gzip(error) and start == 0:
                yield from _read_whole_gzip(path, crawler, skip=yielded)
                return
            if not resyncing:
                where = f"{path}@{failed_at}"
                yield SourceProblem(where, "corrupt", f"{where}: unreadable record: {error}")
            resyncing = True
            start = _next_start(handle, failed_at + 1, gzipped) if (gzipped or plain_warc) else None
