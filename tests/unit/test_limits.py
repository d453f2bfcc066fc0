"""Limits on one page: size, decompressed size, parse depth and time, each a StageError."""

from __future__ import annotations

import gzip
import time
import zlib
from datetime import UTC, datetime

import brotli
import pytest

from agents import StageError
from agents.clean import clean
from agents.clean.content_encoding import decompressed
from agents.limits import Limits
from agents.pipeline import analyze, fingerprint, run_stage
from schemas import RawPage
from streams.config import Settings

FETCHED = datetime(2026, 2, 6, tzinfo=UTC)
ARTICLE = (
    "<html><head><title>الخبر</title></head><body><article>"
    + "<p>أعلنت وزارة النقل اليوم عن خطة جديدة لتوسيع شبكة الحافلات الكهربائية في المدينة.</p>" * 5
    + "</article></body></html>"
).encode()


def page(body: bytes, **headers: str) -> RawPage:
    return RawPage(
        url="https://example.com/a", fetched_at=FETCHED, body=body, content_type="text/html",
        http_headers=dict(headers),
    )  # fmt: skip


def bomb(size: int) -> bytes:
    """A gzip body of a few kilobytes that expands to ``size`` bytes."""
    return gzip.compress(b"<p>" + b"a" * size, compresslevel=9)


# --------------------------------------------------------------------------- compressed bodies


@pytest.mark.parametrize(
    ("compress", "coding"),
    [
        (gzip.compress, "gzip"),
        (gzip.compress, "x-gzip"),
        (zlib.compress, "deflate"),
        (lambda data: zlib.compress(data)[2:-4], "deflate"),  # raw deflate, as some servers send it
        (brotli.compress, "br"),
    ],
)
def test_a_compressed_body_is_decompressed(compress: object, coding: str) -> None:
    body = compress(ARTICLE)  # type: ignore[operator]
    assert clean(page(body, **{"Content-Encoding": coding})).paragraphs == clean(page(ARTICLE)).paragraphs


def test_a_gzip_body_without_its_header_is_recognized() -> None:
    assert clean(page(gzip.compress(ARTICLE))).title == "الخبر"


def test_a_body_already_decoded_under_a_content_encoding_header_is_taken_as_it_is() -> None:
    for coding in ("gzip", "deflate", "br", "zstd"):
        assert clean(page(ARTICLE, **{"content-encoding": coding})).title == "الخبر"


def test_layered_codings_are_undone_in_reverse_order() -> None:
    body = brotli.compress(gzip.compress(ARTICLE))
    assert clean(page(body, **{"Content-Encoding": "gzip, br"})).title == "الخبر"


@pytest.mark.parametrize(
    ("body", "coding"),
    [
        (bomb(10_000_000), "gzip"),
        (zlib.compress(b"a" * 10_000_000, 9), "deflate"),
        (brotli.compress(b"a" * 10_000_000, quality=5), "br"),
        (gzip.compress(bomb(10_000_000)), "gzip, gzip"),
    ],
    ids=["gzip", "deflate", "br", "gzip-of-gzip"],
)
def test_a_zip_bomb_stops_at_the_decompressed_limit(body: bytes, coding: str) -> None:
    assert len(body) < 100_000
    started = time.perf_counter()
    with pytest.raises(StageError) as error:
        clean(page(body, **{"Content-Encoding": coding}), limits=Limits(max_decompressed_bytes=1_000_000))
    assert error.value.reason == "too_large"
    assert "more than 1000000 bytes" in str(error.value)
    assert time.perf_counter() - started < 1.0, "decompression must stop at the limit, not at the end"


def test_the_decompressed_limit_is_its_own_setting() -> None:
    body = gzip.compress(ARTICLE)
    assert len(decompressed(body, {}, len(ARTICLE))) == len(ARTICLE)
    with pytest.raises(StageError, match="decompresses to more than"):
        decompressed(body, {}, len(ARTICLE) - 1)


def test_a_corrupt_gzip_body_is_undecodable() -> None:
    body = bytearray(gzip.compress(ARTICLE))
    body[20:40] = b"\xff" * 20
    with pytest.raises(StageError) as error:
        clean(page(bytes(body), **{"Content-Encoding": "gzip"}))
    assert error.value.reason == "undecodable"


def test_a_truncated_gzip_body_gives_what_it_holds() -> None:
    body = gzip.compress(ARTICLE)[: len(gzip.compress(ARTICLE)) * 2 // 3]
    assert clean(page(body, **{"Content-Encoding": "gzip"})).paragraphs


def test_the_page_size_limit_applies_to_the_body_as_sent() -> None:
    with pytest.raises(StageError) as error:
        clean(page(ARTICLE), limits=Limits(max_page_bytes=len(ARTICLE) - 1))
    assert error.value.reason == "too_large"
    assert clean(page(gzip.compress(ARTICLE)), limits=Limits(max_page_bytes=len(ARTICLE) - 1)).paragraphs


# --------------------------------------------------------------------------- time


def test_a_stage_over_its_budget_is_too_slow() -> None:
    def slow() -> int:
        deadline = time.perf_counter() + 0.05
        while time.perf_counter() < deadline:
            pass
        return 1

    assert run_stage("language", slow, budget_seconds=1.0) == 1
    with pytest.raises(StageError) as error:
        run_stage("language", slow, budget_seconds=0.01)
    assert (error.value.stage, error.value.reason) == ("language", "too_slow")
    assert "over the 0.01 s budget" in str(error.value)


def test_analyze_applies_the_budget_to_each_stage() -> None:
    seen: list[str] = []
    with pytest.raises(StageError) as error:
        analyze(page(ARTICLE), limits=Limits(stage_seconds=1e-9), observe=lambda stage, _: seen.append(stage))
    assert (error.value.stage, error.value.reason) == ("clean", "too_slow")
    assert seen == ["clean"], "a page over the budget goes no further"


def test_the_fingerprint_is_a_stage_with_the_same_budget() -> None:
    article = analyze(page(ARTICLE))
    seen: list[str] = []
    prints = fingerprint(article, observe=lambda stage, _: seen.append(stage))
    assert seen == ["fingerprint"]
    assert prints.shingles and len(prints.bands) == len(set(prints.bands)) > 1
    with pytest.raises(StageError) as error:
        fingerprint(article, limits=Limits(stage_seconds=1e-9))
    assert (error.value.stage, error.value.reason) == ("fingerprint", "too_slow")


# --------------------------------------------------------------------------- configuration


def test_limits_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KHABAR_MAX_PAGE_BYTES", "1000")
    monkeypatch.setenv("KHABAR_MAX_DECOMPRESSED_BYTES", "2000")
    monkeypatch.setenv("KHABAR_MAX_PARSE_DEPTH", "64")
    monkeypatch.setenv("KHABAR_STAGE_BUDGET_SECONDS", "2.5")
    settings = Settings.from_env()
    assert settings.limits == Limits(
        max_page_bytes=1000, max_decompressed_bytes=2000, max_parse_depth=64, stage_seconds=2.5
    )
    child = settings.environment()
    assert child["KHABAR_MAX_DECOMPRESSED_BYTES"] == "2000"
    assert child["KHABAR_STAGE_BUDGET_SECONDS"] == "2.5"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("KHABAR_MAX_PARSE_DEPTH", "1000"),
        ("KHABAR_MAX_DECOMPRESSED_BYTES", "0"),
        ("KHABAR_STAGE_BUDGET_SECONDS", "x"),
    ],
)
def test_a_bad_limit_stops_the_process_with_its_name(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SystemExit, match="KHABAR_"):
        Settings.from_env()
