"""Message contracts: JSON Schema files in ``schemas/json`` and the Python types matching them.

Every message on a Khabar topic is one of :class:`RawPage`, :class:`Article` or
:class:`DeadLetter`, serialized with orjson. Each carries the headers from
:func:`message_headers` (schema name and version, pipeline version, trace id).
"""

from __future__ import annotations

import binascii
import hashlib
import json
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Any, Literal

import jsonschema
import orjson
import pybase64

SCHEMA_VERSION = "1"
PIPELINE_VERSION = "0.1.0"

SchemaName = Literal["raw_page", "article", "dead_letter"]

HEADER_SCHEMA = "khabar.schema"
HEADER_SCHEMA_VERSION = "khabar.schema.version"
HEADER_PIPELINE_VERSION = "khabar.pipeline.version"
HEADER_TRACE_ID = "khabar.trace.id"


class SchemaError(ValueError):
    """A message does not match its contract. ``reason`` is a short, fixed label."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@cache
def json_schema(name: SchemaName) -> dict[str, Any]:
    """The JSON Schema document for one message type."""
    text = resources.files(__package__).joinpath("json", f"{name}.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def validator(name: SchemaName) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(
        json_schema(name), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def validate(name: SchemaName, document: Any) -> None:
    """Raise :class:`SchemaError` naming the first violation, if any."""
    error = jsonschema.exceptions.best_match(validator(name).iter_errors(document))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(root)"
        raise SchemaError("schema", f"{name} invalid at {where}: {error.message}")


def message_headers(name: SchemaName, trace_id: str | None) -> list[tuple[str, bytes]]:
    headers = [
        (HEADER_SCHEMA, name.encode()),
        (HEADER_SCHEMA_VERSION, SCHEMA_VERSION.encode()),
        (HEADER_PIPELINE_VERSION, PIPELINE_VERSION.encode()),
    ]
    if trace_id:
        headers.append((HEADER_TRACE_ID, trace_id.encode()))
    return headers


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _parse_time(value: str, what: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise SchemaError("schema", f"{what} is not an ISO 8601 time: {value!r}") from exc
    if moment.tzinfo is None:
        raise SchemaError("schema", f"{what} has no time zone: {value!r}")
    try:
        moment.astimezone(UTC)  # documents are ordered by their UTC time
    except OverflowError as exc:
        raise SchemaError("schema", f"{what} is outside the years UTC can represent: {value!r}") from exc
    return moment


@dataclass(frozen=True, slots=True)
class RawPage:
    """A crawled page: original bytes (``body``) or decoded text (``text``), never both."""

    url: str
    fetched_at: datetime
    body: bytes | None = None
    text: str | None = None
    content_type: str | None = None
    http_headers: dict[str, str] = field(default_factory=dict)
    crawler: str | None = None
    page_id: str = ""

    def __post_init__(self) -> None:
        if (self.body is None) == (self.text is None):
            raise SchemaError("schema", "a RawPage carries exactly one of body bytes or text")
        if not self.page_id:
            object.__setattr__(self, "page_id", self.derive_page_id())

    def derive_page_id(self) -> str:
        digest = hashlib.blake2b(digest_size=16)
        digest.update(self.url.encode("utf-8", "surrogatepass"))
        digest.update(b"\0" + _iso(self.fetched_at).encode() + b"\0")
        if self.body is not None:
            digest.update(self.body)
        else:
            digest.update((self.text or "").encode("utf-8", "surrogatepass"))
        return digest.hexdigest()

    def to_dict(self) -> dict[str, Any]:
        document: dict[str, Any] = {"url": self.url, "fetched_at": _iso(self.fetched_at)}
        if self.body is not None:
            document["body_b64"] = pybase64.b64encode(self.body).decode("ascii")
        else:
            document["body_text"] = self.text
        document["content_type"] = self.content_type
        document["http_headers"] = dict(self.http_headers)
        document["crawler"] = self.crawler
        document["page_id"] = self.page_id
        return document

    def to_json(self) -> bytes:
        return orjson.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, document: Any) -> RawPage:
        validate("raw_page", document)
        body: bytes | None = None
        if "body_b64" in document:
            try:
                body = pybase64.b64decode(document["body_b64"], validate=True)
            except (binascii.Error, ValueError) as exc:
                raise SchemaError("bad_base64", f"body_b64 is not valid base64: {exc}") from exc
        return cls(
            url=document["url"],
            fetched_at=_parse_time(document["fetched_at"], "fetched_at"),
            body=body,
            text=document.get("body_text"),
            content_type=document.get("content_type"),
            http_headers=dict(document.get("http_headers") or {}),
            crawler=document.get("crawler"),
            page_id=document.get("page_id") or "",
        )

    @classmethod
    def from_json(cls, data: bytes) -> RawPage:
        try:
            document = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise SchemaError("not_json", f"raw page is not JSON: {exc}") from exc
        if not isinstance(document, dict):
            kind = type(document).__name__
            raise SchemaError("schema", f"raw page must be a JSON object, got {kind}")
        return cls.from_dict(document)


DuplicateKind = Literal["exact", "near"]


@dataclass(frozen=True, slots=True)
class OtherLanguageSpan:
    """``text[start:end]`` of an Article is in ``language``, not the article's language.

    Offsets count Unicode code points (Python ``str`` indices; in JavaScript, where strings
    count UTF-16 units, characters outside the BMP such as emoji count twice). A span is whole
    sentences (or paragraphs), punctuation included, without surrounding spaces.
    """

    language: str  # ISO 639-1
    start: int
    end: int
    confidence: float  # that the span is in ``language``


@dataclass(slots=True)
class Article:
    """A normalized article; field names are the contract other tools read."""

    article_id: str
    url: str
    title: str | None
    text: str
    language: str | None
    published_at: datetime | None
    fetched_at: datetime
    content_hash: str
    page_id: str
    duplicate_of: str | None = None
    duplicate_kind: DuplicateKind | None = None
    similarity: float | None = None  # verified Jaccard to duplicate_of (1.0 for exact copies)
    canonical_url: str | None = None
    site: str | None = None
    subtitle: str | None = None
    authors: list[str] = field(default_factory=list)
    language_confidence: float = 0.0
    # Parts of ``text`` in another language (an English caption in an Arabic article), in
    # text order; empty when the text is in one language.
    other_language_spans: list[OtherLanguageSpan] = field(default_factory=list)
    published_source: str | None = None
    published_confidence: float = 0.0
    updated_at: datetime | None = None
    updated_source: str | None = None
    pipeline_version: str = PIPELINE_VERSION

    def to_dict(self) -> dict[str, Any]:
        document = {name: getattr(self, name) for name in _ARTICLE_FIELDS}  # asdict, without deep copies
        document["authors"] = list(self.authors)
        document["other_language_spans"] = [
            {"language": s.language, "start": s.start, "end": s.end, "confidence": s.confidence}
            for s in self.other_language_spans
        ]
        for key in ("published_at", "updated_at", "fetched_at"):
            value = document[key]
            document[key] = _iso(value) if value is not None else None
        return document

    def to_json(self) -> bytes:
        return orjson.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, document: dict[str, Any]) -> Article:
        values = dict(document)
        values["fetched_at"] = _parse_time(values["fetched_at"], "fetched_at")
        values["other_language_spans"] = [
            OtherLanguageSpan(**span) for span in values.get("other_language_spans", [])
        ]
        for key in ("published_at", "updated_at"):
            if values.get(key) is not None:
                values[key] = _parse_time(values[key], key)
        return cls(**values)

    @classmethod
    def from_json(cls, data: bytes) -> Article:
        document = orjson.loads(data)
        return cls.from_dict(document)


_ARTICLE_FIELDS = tuple(item.name for item in fields(Article))

Stage = Literal["decode", "clean", "language", "dates", "fingerprint", "dedupe", "publish"]


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """An input the pipeline rejected, with everything needed to replay it."""

    stage: Stage
    reason: str
    error_type: str
    error_message: str
    original_topic: str
    original_partition: int
    original_offset: int
    original_key: bytes | None
    original_value: bytes
    failed_at: datetime
    page_id: str | None = None
    url: str | None = None
    pipeline_version: str = PIPELINE_VERSION

    def to_dict(self) -> dict[str, Any]:
        return {
            "page_id": self.page_id,
            "url": self.url,
            "stage": self.stage,
            "reason": self.reason,
            "error_type": self.error_type,
            "error_message": self.error_message,
            "original_topic": self.original_topic,
            "original_partition": self.original_partition,
            "original_offset": self.original_offset,
            "original_key_b64": (
                pybase64.b64encode(self.original_key).decode("ascii")
                if self.original_key is not None
                else None
            ),
            "original_value_b64": pybase64.b64encode(self.original_value).decode("ascii"),
            "failed_at": _iso(self.failed_at),
            "pipeline_version": self.pipeline_version,
        }

    def to_json(self) -> bytes:
        return orjson.dumps(self.to_dict())

    def kafka_headers(self) -> list[tuple[str, bytes]]:
        """KIP-1034 style error headers, next to the usual schema headers."""
        return [
            *message_headers("dead_letter", self.page_id),
            ("__streams.errors.topic", self.original_topic.encode()),
            ("__streams.errors.partition", str(self.original_partition).encode()),
            ("__streams.errors.offset", str(self.original_offset).encode()),
            ("__streams.errors.exception", self.error_type.encode()),
            ("__streams.errors.message", self.error_message.encode("utf-8", "replace")),
            ("khabar.errors.stage", self.stage.encode()),
            ("khabar.errors.reason", self.reason.encode()),
        ]
