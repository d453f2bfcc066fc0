"""``khabar crawl``: a polite asynchronous crawler for news sites, publishing pages to raw-pages.

Seeds are URLs of pages, RSS/Atom feeds or (news) sitemaps, given directly or in seed files
(one URL per line, ``#`` comments). The crawler

* obeys robots.txt (``urllib.robotparser``; a robots.txt that cannot be fetched because of a
  server error or timeout disallows the host, a 4xx allows everything, as RFC 9309 says) and
  its ``Crawl-delay``;
* keeps at most ``per_host`` requests in flight per host and starts them at least ``delay``
  seconds apart;
* retries 5xx, 429, timeouts and connection errors with exponential backoff (``Retry-After``
  honoured up to the cap), a bounded number of times;
* follows redirects itself (each hop checked against robots.txt and the host's delay), at most
  ``max_redirects`` hops, and reports loops;
* remembers ETag/Last-Modified (and, for pages whose links it follows, the links) in a small
  JSON state file, so a re-crawl sends If-None-Match/If-Modified-Since; 304s are counted and
  not published, and the links remembered from them are still followed;
* follows only links to the same site (host without ``www.``) up to ``depth`` hops from the
  seeds (entries of feeds and sitemaps count as seeds), skipping obvious non-pages (images,
  scripts, archives, ``rel=nofollow``);
* publishes every fetched HTML, XHTML or plain-text page as a RawPage through the feeds'
  bounded :class:`~streams.feed.Publisher` (anything with a ``publish`` coroutine will do).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import tempfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Literal, Protocol
from urllib.parse import urljoin, urlsplit, urlunsplit
from urllib.robotparser import RobotFileParser

import aiohttp
import lxml.etree  # type: ignore[import-untyped]  # lxml ships no type information
import lxml.html  # type: ignore[import-untyped]
from multidict import CIMultiDictProxy

from schemas import PIPELINE_VERSION, RawPage, SchemaError
from streams.config import Settings
from streams.feed import BrokerUnavailable, FeedSummary, Publisher
from streams.sources import SourceProblem, http_headers_of, looks_like_html, media_type

USER_AGENT = f"Khabar/{PIPELINE_VERSION} (+https://github.com/khabar; news pipeline)"
DEFAULT_CRAWLER = "khabar-crawl"
STATE_FILE_NAME = "crawl-state.json"
STATE_VERSION = 1
STATE_KEEP_DAYS = 90  # entries not seen for this long are dropped when the state is saved
MAX_LINKS_REMEMBERED = 1000
MAX_SITEMAP_NESTING = 3
MAX_CRAWL_DELAY = 60.0

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
ACCEPT = "text/html,application/xhtml+xml,application/rss+xml,application/atom+xml,application/xml;q=0.9,text/plain;q=0.8,*/*;q=0.5"  # noqa: E501
# Links to these are not pages: never fetched.
ASSET_SUFFIXES = (
    ".jpg", ".jpeg", ".png", ".gif", ".webp", ".svg", ".ico", ".bmp", ".tif", ".tiff", ".avif",
    ".css", ".js", ".mjs", ".json", ".map", ".woff", ".woff2", ".ttf", ".eot", ".otf",
    ".pdf", ".zip", ".gz", ".tgz", ".rar", ".7z", ".exe", ".dmg", ".apk", ".doc", ".docx",
    ".xls", ".xlsx", ".ppt", ".pptx", ".mp3", ".mp4", ".m4a", ".wav", ".ogg", ".webm",
    ".avi", ".mov", ".mkv", ".flv",
)  # fmt: skip

_ATOM = "{http://www.w3.org/2005/Atom}"
_RSS1 = "{http://purl.org/rss/1.0/}"
_SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


# --------------------------------------------------------------------------- options, results


@dataclass(frozen=True)
class CrawlOptions:
    depth: int = 1
    per_host: int = 1
    delay: float = 1.0
    concurrency: int = 16
    timeout: float = 30.0
    retries: int = 3
    backoff: float = 1.0
    max_backoff: float = 30.0
    max_redirects: int = 5
    max_pages: int | None = None
    max_bytes: int = 10_000_000
    user_agent: str = USER_AGENT
    crawler: str = DEFAULT_CRAWLER
    state_path: Path | None = None


class PageSink(Protocol):
    async def publish(self, page: RawPage, on_delivered: Callable[[], None] | None = None) -> None: ...


class Notes(Protocol):
    def note(self, **counts: int) -> None: ...

    def write(self, message: str) -> None: ...


@dataclass
class CrawlSummary:
    """What a crawl did. ``failed`` (and skipped seeds) make ``khabar crawl`` exit 1."""

    requests: int = 0  # HTTP requests sent: retries, redirect hops and robots.txt included
    fetched: int = 0  # URLs answered with a final response (2xx, 304, 4xx)
    pages: int = 0  # pages handed to the publisher
    not_modified: int = 0
    discovered: int = 0  # URLs found in feeds and sitemaps
    bytes: int = 0  # bytes downloaded (decompressed)
    skipped: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    failures: list[SourceProblem] = field(default_factory=list)
    seeds_skipped: int = 0

    @property
    def ok(self) -> bool:
        return not self.failed and not self.seeds_skipped

    def describe(self) -> str:
        def counts(counter: Counter[str]) -> str:
            return ", ".join(f"{reason} {count}" for reason, count in sorted(counter.items()))

        text = (
            f"crawled {self.fetched} URLs with {self.requests} requests: {self.pages} pages fetched, "
            f"{self.not_modified} not modified (304), {self.discovered} links from feeds/sitemaps"
        )
        if self.skipped:
            text += f"; skipped {sum(self.skipped.values())}: {counts(self.skipped)}"
        if self.failed:
            text += f"; failed {sum(self.failed.values())}: {counts(self.failed)}"
        return text


@dataclass(frozen=True)
class _Response:
    url: str
    status: int
    headers: CIMultiDictProxy[str]
    body: bytes


@dataclass(frozen=True)
class _Outcome:
    """A URL that produced no response to use: a skip by policy, or a failure."""

    kind: Literal["skip", "fail"]
    reason: str
    message: str


@dataclass(frozen=True)
class _Task:
    url: str
    depth: int
    seed: bool = False
    nesting: int = 0  # sitemap index depth


class _TooLarge(Exception):
    pass


# --------------------------------------------------------------------------- URLs and documents


def normalize_url(url: str) -> str | None:
    """``http(s)`` URL without fragment, credentials or default port, host lower-cased; else None."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if scheme not in ("http", "https") or not host:
        return None
    if ":" in host:
        host = f"[{host}]"
    if port is not None and port != {"http": 80, "https": 443}[scheme]:
        host = f"{host}:{port}"
    return urlunsplit((scheme, host, parts.path or "/", parts.query, ""))


def site_of(url: str) -> str:
    """The site a URL belongs to, for the same-site rule: its host without ``www.``."""
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.")


def same_site(url: str, other: str) -> bool:
    return site_of(url) == site_of(other)


def _is_asset(url: str) -> bool:
    return urlsplit(url).path.lower().endswith(ASSET_SUFFIXES)


def page_links(body: bytes, base_url: str) -> list[str]:
    """Absolute, normalized ``<a href>`` links of an HTML page, in order, without duplicates."""
    try:
        document = lxml.html.document_fromstring(body)
    except (lxml.etree.ParserError, ValueError):
        return []
    base = base_url
    for element in document.iter("base"):
        href = element.get("href")
        if href:
            base = urljoin(base_url, href.strip())
            break
    links: list[str] = []
    seen: set[str] = set()
    for anchor in document.iter("a"):
        href = anchor.get("href")
        if not href or "nofollow" in (anchor.get("rel") or "").lower().split():
            continue
        url = normalize_url(urljoin(base, href.strip()))
        if url and url not in seen:
            seen.add(url)
            links.append(url)
    return links


Discovery = Literal["feed", "sitemap", "sitemap_index"]


def _ungzip(body: bytes, limit: int) -> bytes:
    if not body.startswith(b"\x1f\x8b"):
        return body
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        return inflater.decompress(body, limit)
    except zlib.error:
        return body


def discover(body: bytes, base_url: str, limit: int = 50_000_000) -> tuple[Discovery, list[str]] | None:
    """The entry URLs of an RSS 2.0/1.0 or Atom feed, a sitemap or a sitemap index; None otherwise."""
    data = _ungzip(body, limit)
    if not data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        return None
    parser = lxml.etree.XMLParser(resolve_entities=False, no_network=True, recover=True, huge_tree=False)
    try:
        root = lxml.etree.fromstring(data, parser=parser)
    except (lxml.etree.XMLSyntaxError, ValueError):
        return None
    if root is None or not isinstance(root.tag, str):
        return None
    name = lxml.etree.QName(root).localname.lower()
    found: list[str | None] = []
    kind: Discovery
    if name == "rss":
        kind = "feed"
        found = [item.findtext("link") for item in root.iter("item")]
    elif name == "rdf":
        kind = "feed"
        found = [item.findtext(f"{_RSS1}link") for item in root.iter(f"{_RSS1}item")]
    elif name == "feed":
        kind = "feed"
        for entry in root.iter(f"{_ATOM}entry"):
            links = entry.findall(f"{_ATOM}link")
            chosen = [link for link in links if link.get("rel", "alternate") == "alternate"] or links
            if chosen:
                found.append(chosen[0].get("href"))
    elif name == "urlset":
        kind = "sitemap"
        found = [url.findtext(f"{_SITEMAP}loc") or url.findtext("loc") for url in root]
    elif name == "sitemapindex":
        kind = "sitemap_index"
        found = [entry.findtext(f"{_SITEMAP}loc") or entry.findtext("loc") for entry in root]
    else:
        return None
    urls: list[str] = []
    seen: set[str] = set()
    for raw in found:
        url = normalize_url(urljoin(base_url, raw.strip())) if raw else None
        if url and url not in seen:
            seen.add(url)
            urls.append(url)
    return kind, urls


def _content_kind(content_type: str | None, body: bytes) -> Literal["html", "text", "xml"] | None:
    kind = media_type(content_type)
    if kind in ("text/html", "application/xhtml+xml"):
        return "html"
    if kind == "text/plain":
        return "text"
    if kind is not None and ("xml" in kind or kind.endswith(("+xml", "/rss", "/atom"))):
        return "xml"
    if kind is None or kind in ("application/octet-stream", "application/x-gzip", "application/gzip"):
        start = body[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
        if body.startswith(b"\x1f\x8b") or start.startswith((b"<?xml", b"<rss", b"<feed", b"<urlset")):
            return "xml"
        if looks_like_html(body):
            return "html"
    return None


# --------------------------------------------------------------------------- state


@dataclass
class Remembered:
    """What a crawl remembers about a URL for the next one."""

    etag: str | None = None
    last_modified: str | None = None
    kind: str = "page"  # page, feed, sitemap, sitemap_index
    links: list[str] = field(default_factory=list)
    seen: str = ""

    def to_dict(self) -> dict[str, Any]:
        document: dict[str, Any] = {"kind": self.kind, "seen": self.seen}
        if self.etag:
            document["etag"] = self.etag
        if self.last_modified:
            document["last_modified"] = self.last_modified
        if self.links:
            document["links"] = self.links
        return document

    @classmethod
    def from_dict(cls, document: dict[str, Any]) -> Remembered:
        links = document.get("links") or []
        return cls(
            etag=_text_or_none(document.get("etag")),
            last_modified=_text_or_none(document.get("last_modified")),
            kind=str(document.get("kind") or "page"),
            links=[str(link) for link in links] if isinstance(links, list) else [],
            seen=str(document.get("seen") or ""),
        )


def _text_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


class CrawlState:
    """ETag/Last-Modified (and followed links) per URL, in a JSON file written atomically."""

    def __init__(self, path: Path | None, entries: dict[str, Remembered] | None = None) -> None:
        self.path = path
        self.entries = entries or {}
        self.warning: str | None = None

    @classmethod
    def load(cls, path: Path | None) -> CrawlState:
        state = cls(path)
        if path is None or not path.exists():
            return state
        try:
            document = json.loads(path.read_text("utf-8"))
            pages = document["pages"] if isinstance(document, dict) else None
            if not isinstance(pages, dict):
                raise ValueError("no 'pages' object")
            state.entries = {
                url: Remembered.from_dict(entry) for url, entry in pages.items() if isinstance(entry, dict)
            }
        except (OSError, ValueError, KeyError) as exc:
            state.warning = f"crawl state {path} unreadable ({exc}); starting without it"
        return state

    def get(self, url: str) -> Remembered | None:
        return self.entries.get(url)

    def remember(self, url: str, entry: Remembered) -> None:
        self.entries[url] = entry

    def save(self) -> None:
        if self.path is None:
            return
        cutoff = (datetime.now(UTC) - timedelta(days=STATE_KEEP_DAYS)).isoformat()
        pages = {url: entry.to_dict() for url, entry in self.entries.items() if entry.seen >= cutoff}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".crawl-state-", dir=self.path.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump({"version": STATE_VERSION, "pages": pages}, out, ensure_ascii=False)
            os.replace(temporary, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise


# --------------------------------------------------------------------------- politeness


class HostGate:
    """At most ``concurrency`` requests in flight to one host, started ``delay`` seconds apart."""

    def __init__(self, concurrency: int, delay: float) -> None:
        self.delay = delay
        self._slots = asyncio.Semaphore(max(1, concurrency))
        self._turn = asyncio.Lock()
        self._next_start = 0.0

    @contextlib.asynccontextmanager
    async def slot(self) -> Any:
        async with self._slots:
            async with self._turn:
                loop = asyncio.get_running_loop()
                wait = self._next_start - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)  # politeness pause, not synchronization
                self._next_start = loop.time() + self.delay
            yield


@dataclass(frozen=True)
class _Rules:
    parser: RobotFileParser | None  # None: everything allowed, unless ``unavailable``
    unavailable: str | None = None  # why robots.txt could not be read: the host is off limits

    def allows(self, url: str, user_agent: str) -> bool:
        if self.unavailable is not None:
            return False
        return self.parser is None or self.parser.can_fetch(user_agent, url)


def retry_after_seconds(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


def backoff_seconds(attempt: int, options: CrawlOptions, retry_after: float | None = None) -> float:
    """Wait before retry ``attempt`` (0-based): backoff × 2^attempt, at least Retry-After, capped."""
    wait = options.backoff * float(1 << min(attempt, 30))
    if retry_after is not None:
        wait = max(wait, retry_after)
    return min(wait, options.max_backoff)


# --------------------------------------------------------------------------- the crawler


class Crawler:
    def __init__(
        self,
        options: CrawlOptions,
        sink: PageSink,
        session: aiohttp.ClientSession,
        state: CrawlState | None = None,
        notes: Notes | None = None,
    ) -> None:
        self.options = options
        self.sink = sink
        self.session = session
        self.state = state or CrawlState(None)
        self.notes = notes
        self.summary = CrawlSummary()
        self._queue: asyncio.Queue[_Task] = asyncio.Queue()
        self._seen: set[str] = set()
        self._gates: dict[str, HostGate] = {}
        self._robots: dict[str, _Rules] = {}
        self._robots_locks: dict[str, asyncio.Lock] = {}
        self._headers = {"User-Agent": options.user_agent, "Accept": ACCEPT}
        self._timeout = aiohttp.ClientTimeout(total=options.timeout)
        self._stop = asyncio.Event()
        self._fatal: BrokerUnavailable | None = None

    async def run(self, seeds: Iterable[str]) -> CrawlSummary:
        """Crawl until the frontier is empty; raises if the sink says the broker is gone."""
        for seed in seeds:
            self._enqueue(_Task(seed, 0, seed=True))
        workers = [asyncio.create_task(self._work()) for _ in range(max(1, self.options.concurrency))]
        drained = asyncio.create_task(self._queue.join())
        stopped = asyncio.create_task(self._stop.wait())
        try:
            await asyncio.wait({drained, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (*workers, drained, stopped):
                task.cancel()
            await asyncio.gather(*workers, drained, stopped, return_exceptions=True)
        if self._fatal is not None:
            raise self._fatal
        return self.summary

    # ---------------------------------------------------------------- frontier

    def _enqueue(self, task: _Task) -> None:
        url = normalize_url(task.url)
        if url is None:
            kind: Literal["skip", "fail"] = "fail" if task.seed else "skip"
            self._record(task, _Outcome(kind, "bad_url", f"not an http(s) URL: {task.url}"))
            return
        if url in self._seen:
            return
        self._seen.add(url)
        self._queue.put_nowait(_Task(url, task.depth, task.seed, task.nesting))

    def _follow(self, links: Iterable[str], page_url: str, depth: int) -> None:
        """Queue the same-site page links of a page at ``depth`` (if the depth allows)."""
        if depth >= self.options.depth:
            return
        for link in links:
            if same_site(link, page_url) and not _is_asset(link):
                self._enqueue(_Task(link, depth + 1))

    def _full(self) -> bool:
        return self.options.max_pages is not None and self.summary.pages >= self.options.max_pages

    async def _work(self) -> None:
        while True:
            task = await self._queue.get()
            try:
                if self._full():
                    self._record(task, _Outcome("skip", "max_pages", "page limit reached"))
                else:
                    await self._visit(task)
            except asyncio.CancelledError:
                raise
            except BrokerUnavailable as exc:  # nowhere to publish: stop the crawl
                self._fatal = exc
                self._stop.set()
            except Exception as exc:  # a bug or an unexpected library error: report, keep crawling
                self._record(task, _Outcome("fail", "error", f"{type(exc).__name__}: {exc}"))
            finally:
                self._queue.task_done()

    def _record(self, task: _Task, outcome: _Outcome) -> None:
        if outcome.kind == "skip":
            self.summary.skipped[outcome.reason] += 1
            if task.seed:
                self.summary.seeds_skipped += 1
                self._say(f"skipped seed {task.url}: {outcome.reason}: {outcome.message}")
        else:
            self.summary.failed[outcome.reason] += 1
            self.summary.failures.append(SourceProblem(task.url, outcome.reason, outcome.message))
            self._say(f"failed {task.url}: {outcome.reason}: {outcome.message}")
        self._note()

    def _say(self, message: str) -> None:
        if self.notes is not None:
            self.notes.write(message)

    def _note(self) -> None:
        if self.notes is not None:
            self.notes.note(
                **{"304": self.summary.not_modified},
                skipped=sum(self.summary.skipped.values()),
                failed=sum(self.summary.failed.values()),
            )

    # ---------------------------------------------------------------- one URL

    async def _visit(self, task: _Task) -> None:
        result = await self._fetch(task.url)
        if isinstance(result, _Outcome):
            self._record(task, result)
            return
        self.summary.fetched += 1
        if result.status == 304:
            self.summary.not_modified += 1
            self._note()
            remembered = self.state.get(result.url)
            if remembered is not None:
                remembered.seen = _now_iso()
                self._follow_remembered(task, result.url, remembered)
            return
        if not 200 <= result.status < 300:
            kind: Literal["skip", "fail"] = "fail" if task.seed else "skip"
            message = f"HTTP {result.status} from {result.url}"
            self._record(task, _Outcome(kind, f"http_{result.status}", message))
            return
        content_type = result.headers.get("Content-Type")
        content = _content_kind(content_type, result.body)
        if content == "xml":
            found = discover(result.body, result.url, self.options.max_bytes)
            if found is not None:
                self._discovered(task, result, *found)
                return
            content = "html" if looks_like_html(result.body) else None
        if content is None:
            self._record(task, _Outcome("skip", "not_html", f"{content_type or 'no Content-Type'}"))
            return
        await self._page(task, result, content_type, follow=content == "html")

    def _discovered(self, task: _Task, result: _Response, kind: Discovery, urls: list[str]) -> None:
        self.summary.discovered += len(urls)
        self._remember(result, kind, urls)
        self._enqueue_entries(task, kind, urls)

    def _enqueue_entries(self, task: _Task, kind: str, urls: list[str]) -> None:
        if kind == "sitemap_index":
            if task.nesting < MAX_SITEMAP_NESTING:
                for url in urls:
                    self._enqueue(_Task(url, task.depth, nesting=task.nesting + 1))
            return
        for url in urls:  # feed and sitemap entries are seeds of their own: same depth
            if not _is_asset(url):
                self._enqueue(_Task(url, task.depth, nesting=task.nesting))

    def _follow_remembered(self, task: _Task, url: str, remembered: Remembered) -> None:
        if remembered.kind == "page":
            self._follow(remembered.links, url, task.depth)
        else:
            self._enqueue_entries(task, remembered.kind, remembered.links)

    async def _page(self, task: _Task, result: _Response, content_type: str | None, *, follow: bool) -> None:
        links = page_links(result.body, result.url) if follow and task.depth < self.options.depth else []
        links = [link for link in links if same_site(link, result.url) and not _is_asset(link)]
        try:
            page = RawPage(
                url=result.url,
                fetched_at=datetime.now(UTC),
                body=result.body,
                content_type=content_type,
                http_headers=http_headers_of(result.headers.items()),
                crawler=self.options.crawler,
            )
        except SchemaError as exc:
            self._record(task, _Outcome("fail", exc.reason, str(exc)))
            return
        entry = self._validators(result, "page", links[:MAX_LINKS_REMEMBERED])
        # Remembered only once the broker has the page: a page lost on the way is fetched again.
        on_delivered = None if entry is None else functools.partial(self.state.remember, result.url, entry)
        if self._full():
            self._record(task, _Outcome("skip", "max_pages", "page limit reached"))
            return
        self.summary.pages += 1
        await self.sink.publish(page, on_delivered)
        self._follow(links, result.url, task.depth)

    def _validators(self, result: _Response, kind: str, links: list[str]) -> Remembered | None:
        etag = result.headers.get("ETag")
        last_modified = result.headers.get("Last-Modified")
        if not etag and not last_modified:
            return None
        return Remembered(etag, last_modified, kind, links, _now_iso())

    def _remember(self, result: _Response, kind: str, links: list[str]) -> None:
        entry = self._validators(result, kind, links)
        if entry is not None:
            self.state.remember(result.url, entry)

    # ---------------------------------------------------------------- HTTP

    async def _fetch(self, url: str) -> _Response | _Outcome:
        """GET ``url`` following redirects (robots.txt checked at every hop)."""
        chain = [url]
        current = url
        for _ in range(self.options.max_redirects + 1):
            rules = await self._rules(current)
            if not rules.allows(current, self.options.user_agent):
                reason = "robots_unavailable" if rules.unavailable else "robots"
                return _Outcome("skip", reason, rules.unavailable or f"robots.txt disallows {current}")
            result = await self._request(current, conditional=True)
            if isinstance(result, _Outcome) or result.status not in REDIRECT_STATUSES:
                return result
            target = _redirect_target(result)
            if target is None:
                return _Outcome("fail", "bad_redirect", f"{current}: redirect without a usable Location")
            if target in chain:
                return _Outcome("fail", "redirect_loop", " -> ".join([*chain, target]))
            chain.append(target)
            self._seen.add(target)
            current = target
        return _Outcome("fail", "too_many_redirects", " -> ".join(chain))

    def _gate(self, url: str) -> HostGate:
        host = urlsplit(url).netloc.lower()
        gate = self._gates.get(host)
        if gate is None:
            gate = self._gates[host] = HostGate(self.options.per_host, self.options.delay)
        return gate

    async def _request(self, url: str, *, conditional: bool) -> _Response | _Outcome:
        """One GET, retried on 5xx, 429, timeouts and connection errors with backoff."""
        headers = dict(self._headers)
        remembered = self.state.get(url) if conditional else None
        if remembered is not None:
            if remembered.etag:
                headers["If-None-Match"] = remembered.etag
            if remembered.last_modified:
                headers["If-Modified-Since"] = remembered.last_modified
        gate = self._gate(url)
        attempt = 0
        while True:
            retry_after: float | None = None
            async with gate.slot():
                if conditional and self._full():  # pages (not robots.txt) stop at the page limit
                    return _Outcome("skip", "max_pages", "page limit reached")
                self.summary.requests += 1
                try:
                    result: _Response | _Outcome = await self._get(url, headers)
                except _TooLarge:
                    return _Outcome("skip", "too_large", f"larger than {self.options.max_bytes} bytes")
                except aiohttp.InvalidURL as exc:
                    return _Outcome("fail", "bad_url", str(exc))
                except TimeoutError:
                    message = f"no complete answer within {self.options.timeout:g}s"
                    result = _Outcome("fail", "timeout", message)
                except aiohttp.ClientError as exc:
                    result = _Outcome("fail", "connection", f"{type(exc).__name__}: {exc}")
            if isinstance(result, _Response):
                if result.status != 429 and result.status < 500:
                    return result
                retry_after = retry_after_seconds(result.headers.get("Retry-After"))
                result = _Outcome("fail", f"http_{result.status}", f"HTTP {result.status}")
            if attempt >= self.options.retries:
                if attempt:
                    message = f"{result.message} ({attempt + 1} attempts)"
                    result = _Outcome(result.kind, result.reason, message)
                return result
            await asyncio.sleep(backoff_seconds(attempt, self.options, retry_after))  # backoff, by design
            attempt += 1

    async def _get(self, url: str, headers: dict[str, str]) -> _Response:
        async with self.session.get(
            url, headers=headers, allow_redirects=False, timeout=self._timeout
        ) as response:
            body = b""
            if 200 <= response.status < 300:
                if (response.content_length or 0) > self.options.max_bytes:
                    raise _TooLarge
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.content.iter_chunked(1 << 16):
                    size += len(chunk)
                    if size > self.options.max_bytes:
                        raise _TooLarge
                    chunks.append(chunk)
                body = b"".join(chunks)
                self.summary.bytes += size
            return _Response(url, response.status, response.headers, body)

    async def _rules(self, url: str) -> _Rules:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        rules = self._robots.get(origin)
        if rules is not None:
            return rules
        lock = self._robots_locks.setdefault(origin, asyncio.Lock())
        async with lock:
            rules = self._robots.get(origin)
            if rules is None:
                rules = self._robots[origin] = await self._load_robots(origin)
        return rules

    async def _load_robots(self, origin: str) -> _Rules:
        url = f"{origin}/robots.txt"
        result: _Response | _Outcome = _Outcome("fail", "robots_unavailable", "")
        for _ in range(5):  # RFC 9309: follow at least five redirects
            result = await self._request(url, conditional=False)
            if isinstance(result, _Outcome) or result.status not in REDIRECT_STATUSES:
                break
            target = _redirect_target(result)
            if target is None:
                break
            url = target
        if isinstance(result, _Outcome):
            return _Rules(None, f"robots.txt of {origin} unavailable: {result.reason} {result.message}")
        if result.status >= 500 or result.status in REDIRECT_STATUSES:
            return _Rules(None, f"robots.txt of {origin} unavailable: HTTP {result.status}")
        if result.status >= 400:
            return _Rules(None)  # no robots.txt: everything allowed
        parser = RobotFileParser(url)
        parser.parse(_ungzip(result.body, 1 << 20).decode("utf-8", "replace").splitlines())
        delay = parser.crawl_delay(self.options.user_agent)
        if delay is not None:
            gate = self._gate(origin + "/")
            gate.delay = max(gate.delay, min(float(delay), MAX_CRAWL_DELAY))
        return _Rules(parser)


def _redirect_target(result: _Response) -> str | None:
    location = result.headers.get("Location")
    return normalize_url(urljoin(result.url, location.strip())) if location else None


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# --------------------------------------------------------------------------- seeds and the command


class SeedError(ValueError):
    """A seed argument that is neither an http(s) URL nor a readable seed file."""


def load_seeds(arguments: Sequence[str]) -> tuple[list[str], list[SourceProblem]]:
    """Seed URLs from URL arguments and seed files (one URL per line, ``#`` comments)."""
    seeds: list[str] = []
    problems: list[SourceProblem] = []
    for argument in arguments:
        if argument.lower().startswith(("http://", "https://")):
            lines = [(argument, argument)]
        else:
            path = Path(argument)
            try:
                text = path.read_text("utf-8-sig")
            except (OSError, UnicodeDecodeError) as exc:
                message = f"{argument}: not an http(s) URL and not a readable seed file ({exc})"
                raise SeedError(message) from exc
            lines = [
                (f"{argument}:{number}", line.strip())
                for number, line in enumerate(text.splitlines(), start=1)
                if line.strip() and not line.lstrip().startswith("#")
            ]
        for where, line in lines:
            url = normalize_url(line)
            if url is None:
                problems.append(SourceProblem(where, "bad_seed", f"not an http(s) URL: {line!r}"))
            else:
                seeds.append(url)
    return seeds, problems


def default_state_path(cache_dir: Path) -> Path:
    return cache_dir / STATE_FILE_NAME


def client_session(options: CrawlOptions) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(
        limit=max(1, options.concurrency), limit_per_host=max(1, options.per_host)
    )
    return aiohttp.ClientSession(
        connector=connector,
        headers={"User-Agent": options.user_agent},
        timeout=aiohttp.ClientTimeout(total=options.timeout),
        trust_env=False,
    )


async def crawl_into(
    seeds: Sequence[str],
    sink: PageSink,
    options: CrawlOptions,
    state: CrawlState | None = None,
    notes: Notes | None = None,
) -> CrawlSummary:
    """Crawl ``seeds`` into any ``sink`` (the caller loads and saves ``state``)."""
    async with client_session(options) as session:
        return await Crawler(options, sink, session, state, notes).run(seeds)


async def crawl(
    seeds: Sequence[str], settings: Settings, options: CrawlOptions, *, progress: bool = True
) -> tuple[CrawlSummary, FeedSummary]:
    """``khabar crawl``: crawl into ``raw-pages``; returns the crawl's and the publisher's summaries.

    The state file is saved once the publisher is flushed, so only pages the broker has
    acknowledged are remembered as fetched (a page lost on the way is fetched again in full).
    """
    publisher = Publisher(settings, progress=progress, desc="crawling")
    await publisher.start()
    state = CrawlState.load(options.state_path)
    if state.warning:
        publisher.progress.write(state.warning)
    flush = True
    try:
        summary = await crawl_into(seeds, publisher, options, state, publisher.progress)
    except BrokerUnavailable:
        flush = False
        raise
    finally:
        try:
            await publisher.close(flush=flush)
        finally:
            state.save()
    return summary, publisher.summary
