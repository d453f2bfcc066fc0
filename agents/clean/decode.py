"""Bytes -> text: BOM, declared charset (HTTP, then ``<meta>``), strict UTF-8, then detection.

Detection uses charset-normalizer (pure Python, maintained, already a dependency through
requests): it handles the legacy Arabic code pages (windows-1256, ISO-8859-6) that crawled
Arabic news sites still serve without declaring them.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator, Mapping

import charset_normalizer

from agents import StageError

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16: FF FE 00 00 starts with the UTF-16LE BOM
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_BINARY_MAGIC: tuple[bytes, ...] = (
    b"\x89PNG",
    b"\xff\xd8\xff",  # JPEG
    b"GIF87a",
    b"GIF89a",
    b"%PDF",
    b"PK\x03\x04",  # zip, docx, epub ...
    b"\x1f\x8b",  # gzip
    b"BZh",
    b"\xfd7zXZ",
    b"RIFF",  # webp, wav, avi
    b"OggS",
    b"ID3",
    b"\x00\x00\x01\x00",  # ico
    b"\x7fELF",
    b"wOFF",
    b"wOF2",
)
_BINARY_TYPES = re.compile(r"^\s*(?:image|audio|video|font)/|application/(?:pdf|zip|gzip|x-)", re.I)
_CHARSET_PARAM = re.compile(r"""charset\s*=\s*["']?\s*([A-Za-z0-9._:\-]+)""", re.I)
_META_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9._:\-]+)""", re.I)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._:\-]+)""", re.I)
# Control characters that never occur in text (tab, LF, VT, FF, CR and ESC are tolerated).
_CONTROL_BYTES = bytes([*range(0x00, 0x09), *range(0x0E, 0x1B), *range(0x1C, 0x20), 0x7F])
# Dropped from accepted text (the few that may pass the count above), ESC included.
_DROPPED_CONTROLS = bytes([*range(0x00, 0x09), *range(0x0E, 0x20), 0x7F])
_LINE_BREAKS = bytes.maketrans(b"\x0b\x0c", b"\n\n")
# Labels a server or page uses for what browsers decode as windows-1252 (WHATWG Encoding).
_WHATWG_ALIASES = {"latin_1": "cp1252", "ascii": "cp1252", "iso8859_1": "cp1252"}
# Anything that is neither whitespace nor an invisible mark (see agents.text.strip_invisible).
_VISIBLE = re.compile("[^\\s\u200b\u200e\u200f\u061c\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
_SERVER_DEFAULTS = frozenset({"cp1252"})  # a header saying this is often just a default
_SNIFF_BYTES = 65_536
_META_BYTES = 8_192
_MAX_CONTROL_RATIO = 0.001
_DETECT_BYTES = 32_768  # charset detection reads at most about this much (see _detection_sample)
_RUN = re.compile(rb"[^>\n]+")
_UTF8_PER_INVALID = 50  # a page this much valid UTF-8 is UTF-8 with a few broken bytes
_STRAY_CONTROLS = 32  # a few NULs or control characters do happen in real pages


def content_type_of(content_type: str | None, headers: Mapping[str, str]) -> str | None:
    """The page's Content-Type: the RawPage field, else the HTTP header (any case)."""
    if content_type:
        return content_type
    for name, value in headers.items():
        if name.lower() == "content-type":
            return value
    return None


def decode(
    body: bytes, content_type: str | None, headers: Mapping[str, str], *, html: bool
) -> tuple[str, str]:
    """Decoded text and the codec used. Raises StageError for binary or undecodable input."""
    if not body.strip():
        raise StageError("clean", "empty_page", "the page body is empty")
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return _checked(body.decode(codec, errors="replace")), codec
    declared = list(_declared_codecs(body, content_type, headers, html=html))
    _reject_binary(body, content_type, declared)
    for codec in declared:
        try:
            text = body.decode(codec)
        except UnicodeDecodeError:
            continue  # a wrong declaration is common: fall through to detection
        name = codecs.lookup(codec).name
        return _checked(text, body if name == "utf-8" else None), name
    try:
        return _checked(body.decode("utf-8"), body), "utf-8"
    except UnicodeDecodeError:
        pass
    nearly = _nearly_utf8(body)
    if nearly is not None:
        return _checked(nearly), "utf-8"
    sample = _detection_sample(body)
    best = charset_normalizer.from_bytes(sample).best()
    if best is None:
        raise StageError("clean", "undecodable", "no character encoding decodes the page")
    if sample is body:
        return _checked(str(best)), best.encoding
    return _checked(body.decode(best.encoding, errors="replace")), best.encoding


def _detection_sample(body: bytes) -> bytes:
    """What charset-normalizer reads of a large body: its runs of text with non-ASCII bytes.

    Its time grows with the whole body (it decodes and hashes all of it for each candidate
    charset: 2 s for some 2 MB pages). Only the non-ASCII bytes tell charsets apart, so the
    sample is the runs between ``>`` and line breaks that hold some, whole (no character is
    cut: those bytes are ASCII in every multi-byte charset too), up to ``_DETECT_BYTES``.
    """
    if len(body) <= _DETECT_BYTES:
        return body
    runs: list[bytes] = []
    size = 0
    for match in _RUN.finditer(body):
        run = match.group()
        if not run.isascii():
            runs.append(run)
            size += len(run) + 1
            if size >= _DETECT_BYTES:
                break
    return b"\n".join(runs) if runs else body[:_DETECT_BYTES]


def _nearly_utf8(body: bytes) -> str | None:
    """UTF-8 with a few invalid bytes (a character cut in two, a stray byte) read as browsers
    read it, with U+FFFD for each; None when invalid sequences are more than one per
    ``_UTF8_PER_INVALID`` multi-byte characters (then it is another charset)."""
    text = body.decode("utf-8", "replace")
    replaced = text.count("\ufffd")
    invalid = replaced - body.count("\ufffd".encode())
    multibyte = len(text) - len(text.encode("ascii", "ignore")) - replaced
    return text if invalid * _UTF8_PER_INVALID <= multibyte else None


def check_text(text: str) -> str:
    """Validate text handed over already decoded (RawPage.text)."""
    return _checked(text)


def _declared_codecs(
    body: bytes, content_type: str | None, headers: Mapping[str, str], *, html: bool
) -> Iterator[str]:
    http = _codec(_charset_from_header(content_type_of(content_type, headers)))
    document = _codec(_charset_from_markup(body)) if html else None
    if document and document.startswith(("utf_16", "utf_32")):
        document = "utf_8"  # a <meta> readable as ASCII cannot be right about UTF-16
    if http and http in _SERVER_DEFAULTS and document and document != http:
        http, document = document, http  # the page's own declaration beats a server default
    for codec in (http, document):
        if codec:
            yield codec


def _charset_from_header(content_type: str | None) -> str | None:
    match = _CHARSET_PARAM.search(content_type or "")
    return match.group(1) if match else None


def _charset_from_markup(body: bytes) -> str | None:
    head = body[:_META_BYTES]
    match = _XML_ENCODING.search(head) or _META_CHARSET.search(head)
    return match.group(1).decode("ascii") if match else None


def _codec(label: str | None) -> str | None:
    """Python codec name for a charset label, None when Python does not know it."""
    if not label:
        return None
    try:
        name = codecs.lookup(label.strip().lower()).name.replace("-", "_")
    except LookupError:
        return None
    return _WHATWG_ALIASES.get(name, name)


def _reject_binary(body: bytes, content_type: str | None, declared: list[str]) -> None:
    if content_type and _BINARY_TYPES.search(content_type):
        raise StageError("clean", "not_text", f"content type {content_type!r} is not text")
    if body.startswith(_BINARY_MAGIC):
        raise StageError("clean", "not_text", "the body starts with a binary file signature")
    wide = any(codec.startswith(("utf_16", "utf_32")) for codec in declared)
    if wide:
        return
    sample = body[:_SNIFF_BYTES]  # control bytes (NUL included) are binary, unless a stray few
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    if controls > max(_STRAY_CONTROLS, _MAX_CONTROL_RATIO * len(sample)):
        raise StageError("clean", "not_text", f"the body contains {controls} control bytes")


def _checked(text: str, utf8: bytes | None = None) -> str:
    """The text, refused when it has too many control characters, without stray ones.

    ``utf8``: the bytes the text was strictly decoded from as UTF-8, when it was: they are
    then its UTF-8 form (no encoding needed) and it holds no lone surrogate.
    """
    if utf8 is None:
        text = _without_lone_surrogates(text)
    # Counted on the UTF-8 form: control characters are single bytes there, and bytes.translate
    # deletes them far faster than a regular expression finds them in a str. A text with no
    # more control bytes in all than a sample may have needs no count of its sample.
    if utf8 is None or _control_bytes(utf8) > _STRAY_CONTROLS:
        sample = text[:_SNIFF_BYTES]
        controls = _control_bytes(sample.encode("utf-8"))
        if controls > max(_STRAY_CONTROLS, _MAX_CONTROL_RATIO * len(sample)):
            raise StageError("clean", "not_text", f"{controls} control characters in the text")
    text = _without_controls(text, utf8)
    if not _VISIBLE.search(text):
        raise StageError("clean", "empty_page", "the page has no text")
    return text


def _control_bytes(data: bytes) -> int:
    return len(data) - len(data.translate(None, _CONTROL_BYTES))


def _without_controls(text: str, utf8: bytes | None = None) -> str:
    """The stray control characters a page may have (NUL, ESC ...) out; VT and FF are line breaks.

    Bytes again (``utf8``, else the text encoded): in UTF-8 no byte of a multi-byte character
    is below 0x80.
    """
    data = utf8 if utf8 is not None else text.encode("utf-8")
    kept = data.translate(_LINE_BREAKS, _DROPPED_CONTROLS)
    return kept.decode("utf-8") if kept != data else text


def _without_lone_surrogates(text: str) -> str:
    """Text as valid Unicode: a surrogate pair written as two code points becomes its
    character, a lone surrogate (from text handed over already decoded) U+FFFD."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text
