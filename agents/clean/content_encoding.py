"""Compressed bodies: a page stored as the server sent it (``Content-Encoding`` gzip, deflate,
br) is decompressed before its charset is read, and never beyond a limit.

A few hundred bytes of gzip can expand to gigabytes (a "zip bomb"): decompression asks
zlib and brotli for at most ``limit + 1`` bytes and stops there with ``too_large``.

Crawlers often store the decoded body and keep the header, so a coding is undone only when
the body is in that format (gzip's magic bytes; a deflate or brotli stream that decodes
to its end); otherwise the body is taken as it is. A gzip body that came without the header
(a crawler that dropped it) is recognized by its magic bytes. Codings Khabar does not know
(``compress``, ``zstd``) are left alone: a body still compressed is then rejected as binary
by the charset step.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping

import brotli

from agents import StageError
from agents.limits import TOO_LARGE

_GZIP_MAGIC = b"\x1f\x8b"
_MAX_CODINGS = 3  # "gzip, br" is unusual already; a longer list is not a real response


def content_codings(headers: Mapping[str, str]) -> list[str]:
    """The codings of the ``Content-Encoding`` header (any case), in the order applied."""
    for name, value in headers.items():
        if name.lower() == "content-encoding":
            codings = [part.strip().lower() for part in value.split(",")]
            return [coding for coding in codings if coding and coding != "identity"]
    return []


def decompressed(body: bytes, headers: Mapping[str, str], limit: int) -> bytes:
    """The body with its content codings undone, at most ``limit`` bytes.

    Raises StageError ``too_large`` past the limit, ``undecodable`` for a corrupt stream.
    A stream cut short (a truncated download) gives what it holds, like truncated HTML.
    """
    codings = content_codings(headers)
    if len(codings) > _MAX_CODINGS:
        raise StageError("clean", "undecodable", f"{len(codings)} content codings: {', '.join(codings)}")
    if not codings and body.startswith(_GZIP_MAGIC):
        codings = ["gzip"]
    for coding in reversed(codings):
        if coding in ("gzip", "x-gzip"):
            body = _gunzip(body, limit) if body.startswith(_GZIP_MAGIC) else body
        elif coding == "deflate":
            body = _inflate(body, limit)
        elif coding == "br":
            body = _unbrotli(body, limit)
    return body


def _over(limit: int, coding: str) -> StageError:
    return StageError("clean", TOO_LARGE, f"the {coding} body decompresses to more than {limit} bytes")


def _corrupt(coding: str, error: Exception) -> StageError:
    return StageError("clean", "undecodable", f"the {coding} body is corrupt: {error}")


def _gunzip(body: bytes, limit: int) -> bytes:
    """All gzip members of the body (a stream may be several concatenated)."""
    out = bytearray()
    rest = body
    while rest.startswith(_GZIP_MAGIC):
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            out += inflater.decompress(rest, limit + 1 - len(out))
        except zlib.error as exc:
            raise _corrupt("gzip", exc) from exc
        if len(out) > limit or inflater.unconsumed_tail:
            raise _over(limit, "gzip")
        if not inflater.eof:
            break  # cut short: keep what there is
        rest = inflater.unused_data
    return bytes(out)


def _inflate(body: bytes, limit: int) -> bytes:
    """HTTP's "deflate": a zlib stream, or (as some servers send it) raw deflate."""
    zlib_header = len(body) >= 2 and body[0] & 0x0F == 8 and (body[0] << 8 | body[1]) % 31 == 0
    inflater = zlib.decompressobj(zlib.MAX_WBITS if zlib_header else -zlib.MAX_WBITS)
    try:
        out = inflater.decompress(body, limit + 1)
    except zlib.error:
        return body  # not deflate after all: already decoded by the crawler
    if len(out) > limit or inflater.unconsumed_tail:
        raise _over(limit, "deflate")
    return out if inflater.eof else body  # only a whole stream is sure to be deflate


def _unbrotli(body: bytes, limit: int) -> bytes:
    decompressor = brotli.Decompressor()
    try:
        out = decompressor.process(body, output_buffer_limit=limit + 1)
    except brotli.error:
        return body  # brotli has no magic bytes: a body that does not decode was not brotli
    if len(out) > limit or not decompressor.can_accept_more_data():
        raise _over(limit, "br")
    return out if decompressor.is_finished() else body  # only a whole stream is sure to be brotli
