"""A small news site on 127.0.0.1 for the crawler and Scrapy tests; it records every request.

Layout (``marker`` makes every page's text unique to one test, so no page is a duplicate of
another test's page):

* ``/robots.txt`` forbids ``/private/``;
* ``/`` (home) links to articles ``/news/a`` and ``/news/b``, to ``/private/secret``, ``/slow``
  (slower than the crawler's timeout the first time), ``/flaky`` (503 the first time),
  ``/loop/1`` (redirects to ``/loop/2``, which redirects back), ``/api/data`` (JSON), an image,
  an off-site link and a ``nofollow`` link;
* ``/news/a`` links to ``/news/deep`` (two hops from the home page);
* ``/feed.xml`` (RSS 2.0) lists ``/news/c`` and ``/news/d``; ``/sitemap.xml`` (a news
  sitemap) lists ``/news/e`` and ``/private/from-sitemap``.

Every 200 carries an ETag and a Last-Modified; a request with a matching If-None-Match or
If-Modified-Since gets a 304.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web

from streams.broker import free_port

LAST_MODIFIED = "Mon, 02 Feb 2026 08:00:00 GMT"
ARTICLES = ["/news/a", "/news/b", "/news/c", "/news/d", "/news/e", "/slow", "/flaky"]
PAGES = ["/", *ARTICLES]  # every HTML page a depth-1 crawl of the seeds should publish
FORBIDDEN = ["/private/secret", "/private/from-sitemap"]


@dataclass(frozen=True)
class Hit:
    path: str
    at: float  # time.monotonic() when the request arrived
    headers: dict[str, str]


_WORD_LINES = [
    "الحكومة الوزير البرلمان المدينة الشركة الجامعة المستشفى الميناء المطار السوق الاقتصاد الطاقة",
    "المياه الزراعة التعليم الصحة النقل السياحة الثقافة الرياضة المنتخب الملعب المهرجان المعرض",
    "أعلن قال أكد أوضح كشف نفى طالب دعا وافق رفض افتتح أطلق وقع ناقش بحث استقبل زار",
    "اليوم أمس صباح مساء الأسبوع الماضي المقبل الجديد الكبير الأول الثاني الأخير الدولي المحلي",
    "مشروع خطة اتفاق قرار تقرير اجتماع مؤتمر زيارة مبادرة برنامج حملة دراسة ميزانية استثمار",
    "الشمال الجنوب الشرق الغرب العاصمة الساحل الصحراء الجبل النهر البحر",
]
_WORDS = " ".join(_WORD_LINES).split()


def news_paragraphs(seed: str, marker: str, count: int = 4) -> list[str]:
    """Distinct, deterministic Arabic news-like paragraphs: pages made from different seeds are
    far from near-duplicates of each other."""
    chooser = random.Random(f"{seed}/{marker}")
    paragraphs = []
    for number in range(count):
        sentences = [
            " ".join(chooser.choice(_WORDS) for _ in range(chooser.randint(9, 14))) + "." for _ in range(3)
        ]
        paragraphs.append(f"{' '.join(sentences)} ({marker}-{number})")
    return paragraphs


def article_html(title: str, marker: str, links: list[tuple[str, str]] | None = None) -> bytes:
    paragraphs = "".join(f"<p>{p}</p>" for p in news_paragraphs(title, marker))
    anchors = "".join(f'<li><a href="{href}"{extra}>{href}</a></li>' for href, extra in (links or []))
    html = (
        f'<!DOCTYPE html><html lang="ar" dir="rtl"><head><meta charset="utf-8">'
        f"<title>{title} {marker}</title></head><body><nav><ul>{anchors}</ul></nav>"
        f"<article><h1>{title} {marker}</h1>{paragraphs}</article></body></html>"
    )
    return html.encode("utf-8")


@dataclass
class NewsSite:
    marker: str
    slow_seconds: float = 1.5
    hits: list[Hit] = field(default_factory=list)
    calls: dict[str, int] = field(default_factory=dict)
    base: str = ""
    _runner: web.AppRunner | None = None

    def url(self, path: str) -> str:
        return self.base + path

    def paths(self) -> list[str]:
        return [hit.path for hit in self.hits]

    def hits_on(self, path: str) -> list[Hit]:
        return [hit for hit in self.hits if hit.path == path]

    async def start(self) -> str:
        app = web.Application(middlewares=[self._record])
        app.router.add_get("/{tail:.*}", self._serve)
        self._runner = web.AppRunner(app, handler_cancellation=True, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        port = free_port()
        await web.TCPSite(self._runner, "127.0.0.1", port).start()
        self.base = f"http://127.0.0.1:{port}"
        return self.base

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @web.middleware
    async def _record(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        self.hits.append(Hit(request.path, time.monotonic(), dict(request.headers)))
        self.calls[request.path] = self.calls.get(request.path, 0) + 1
        return await handler(request)

    def _document(self, request: web.Request, body: bytes, content_type: str) -> web.Response:
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        if request.headers.get("If-None-Match") == etag or (
            "If-None-Match" not in request.headers
            and request.headers.get("If-Modified-Since") == LAST_MODIFIED
        ):
            return web.Response(status=304, headers={"ETag": etag, "Last-Modified": LAST_MODIFIED})
        return web.Response(
            body=body,
            headers={"Content-Type": content_type, "ETag": etag, "Last-Modified": LAST_MODIFIED},
        )

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        marker = self.marker
        calls = self.calls[path]
        if path == "/robots.txt":
            return web.Response(text="User-agent: *\nDisallow: /private/\n", content_type="text/plain")
        if path == "/":
            links = [
                ("/news/a", ""), ("/news/a#comments", ""), ("/news/b", ""), ("/private/secret", ""),
                ("/slow", ""), ("/flaky", ""), ("/loop/1", ""), ("/api/data", ""), ("/logo.png", ""),
                ("http://elsewhere.invalid/story", ""), ("/news/nofollow", ' rel="nofollow"'),
                ("mailto:desk@example.org", ""),
            ]  # fmt: skip
            return self._document(
                request, article_html("الصفحة الرئيسية", marker, links), "text/html; charset=utf-8"
            )
        if path == "/news/a":
            body = article_html("الخبر أ", marker, [("/news/deep", ""), ("/", "")])
            return self._document(request, body, "text/html; charset=utf-8")
        if path in ("/news/b", "/news/c", "/news/d", "/news/e", "/news/deep", "/private/secret"):
            body = article_html(f"الخبر {path.rsplit('/', 1)[-1]}", marker)
            return self._document(request, body, "text/html; charset=utf-8")
        if path == "/slow":
            if calls == 1:
                await asyncio.sleep(self.slow_seconds)  # the server is slow: the client times out
            return self._document(request, article_html("الخبر البطيء", marker), "text/html; charset=utf-8")
        if path == "/flaky":
            if calls == 1:
                return web.Response(status=503, headers={"Retry-After": "0"}, text="try again")
            return self._document(request, article_html("الخبر المتقطع", marker), "text/html; charset=utf-8")
        if path == "/loop/1":
            raise web.HTTPFound("/loop/2")
        if path == "/loop/2":
            raise web.HTTPFound("/loop/1")
        if path == "/api/data":
            return self._document(request, b'{"ok": true}', "application/json")
        if path == "/feed.xml":
            items = "".join(
                f"<item><title>{slug}</title><link>{self.url('/news/' + slug)}</link></item>" for slug in "cd"
            )
            rss = f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'
            return self._document(request, rss.encode(), "application/rss+xml")
        if path == "/sitemap.xml":
            entries = "".join(
                f"<url><loc>{self.url(p)}</loc><news:news><news:title>x</news:title></news:news></url>"
                for p in ("/news/e", "/private/from-sitemap")
            )
            sitemap = (
                '<?xml version="1.0" encoding="UTF-8"?>'
                '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
                'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">' + entries + "</urlset>"
            )
            return self._document(request, sitemap.encode(), "application/xml")
        raise web.HTTPNotFound()
