"""Near- and exact-duplicate clusters: a corpus of syndicated stories, and the clusters of the
offline run (`khabar process`) that the stream must reproduce."""

from __future__ import annotations

import io
import random
from datetime import UTC, datetime, timedelta

import orjson

from schemas import RawPage
from streams.process import process
from tests.integration.conftest import WORDS

T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
Clusters = dict[str, str]  # article_id -> the canonical article_id of its cluster


def story(rng: random.Random) -> list[str]:
    return [" ".join(rng.choice(WORDS) for _ in range(45)) + "." for _ in range(4)]


def corpus(seed: str, stories: int = 10) -> list[RawPage]:
    """``stories`` stories, each with syndicated copies; one copy per story is earlier than the original.

    The texts come from a fixed seed (every copy verifies above the threshold and shares a
    band with its original for these texts: checked by the offline run); ``seed`` only
    makes the URLs unique. The first ten stories are the same whatever ``stories`` is.
    """
    rng = random.Random("khabar-dedupe-corpus")
    pages = []
    for number in range(stories):
        paragraphs = story(rng)
        variants = {
            "original": paragraphs,
            "dateline": ["القاهرة - (وكالات) - " + paragraphs[0], *paragraphs[1:]],
            "cut": [*paragraphs[:3], " ".join(paragraphs[3].split()[:20]) + "."],
            "marked": [p.replace("ا", "ا\u064e", 3).replace("ي", "ى", 2) for p in paragraphs],
            "early": [*paragraphs, "المصدر: وكالة الأنباء"],
        }
        for offset, (name, body) in enumerate(variants.items()):
            fetched = T0 + timedelta(hours=number, minutes=offset * 7 if name != "early" else -30)
            pages.append(
                RawPage(
                    url=f"https://site{offset}.example/{seed}/{number}/{name}",
                    fetched_at=fetched,
                    text=f"عنوان الخبر رقم {number}\n\n" + "\n\n".join(body),
                    content_type="text/plain",
                )
            )
    rng.shuffle(pages)  # arrival order is not time order
    return pages


def offline_clusters(pages: list[RawPage]) -> Clusters:
    out = io.BytesIO()
    process(pages, out, progress=False)
    return roots(
        {d["article_id"]: d.get("duplicate_of") for d in map(orjson.loads, out.getvalue().splitlines())}
    )


def roots(pointers: dict[str, str | None]) -> Clusters:
    def root(article_id: str) -> str:
        seen = set()
        while pointers.get(article_id):
            assert article_id not in seen, f"a cycle through {article_id}"
            seen.add(article_id)
            article_id = str(pointers[article_id])
        return article_id

    return {article_id: root(article_id) for article_id in pointers}
