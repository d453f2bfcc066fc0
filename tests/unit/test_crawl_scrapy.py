"""The Scrapy middleware's response → RawPage mapping (publishing itself is in test_feeds.py)."""

from __future__ import annotations

import pytest

pytest.importorskip("scrapy")

from scrapy.http import HtmlResponse, Request, Response, TextResponse

from schemas import RawPage
from streams.scrapy_khabar import raw_page

URL = "https://news.example/2026/02/story"
BODY = "<html><head><title>خبر</title></head><body><p>نص</p></body></html>".encode()


def response(url: str = URL, status: int = 200, content_type: str = "text/html; charset=utf-8",
             body: bytes = BODY, flags: list[str] | None = None) -> Response:  # fmt: skip
    headers = {"Content-Type": content_type, "Set-Cookie": "s=1", "X-Cache": ["a", "b"]}
    cls = HtmlResponse if "html" in content_type else TextResponse if content_type else Response
    return cls(url, status=status, headers=headers, body=body, request=Request(url), flags=flags or [])


def test_a_page_response_becomes_a_raw_page() -> None:
    page = raw_page(response(), "scrapy")
    assert isinstance(page, RawPage)
    assert page.url == URL and page.body == BODY and page.crawler == "scrapy"
    assert page.content_type == "text/html; charset=utf-8"
    assert page.http_headers == {"Content-Type": "text/html; charset=utf-8", "X-Cache": "a, b"}
    assert RawPage.from_json(page.to_json()) == page


@pytest.mark.parametrize(
    "made, reason",
    [
        (response(status=404), "http_4xx"),
        (response(status=301), "http_3xx"),
        (response(content_type="image/png", body=b"\x89PNG"), "not_html"),
        (response(url="https://news.example/robots.txt", content_type="text/plain"), "robots_txt"),
        (response(body=b""), "empty"),
        (response(flags=["cached"]), "cached"),
    ],
)
def test_other_responses_are_counted_not_published(made: Response, reason: str) -> None:
    assert raw_page(made, "scrapy") == reason
