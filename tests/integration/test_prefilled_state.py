"""`khabar bench --soak-state-documents` writes dedupe state straight into a worker's table
stores; this proves a worker started on them finds that state where and as it keeps its own
(store paths, key encoding, the partition of each key), and opens them with its own options.
Were any of them wrong, the bench would measure a worker holding state it never reads, or
reads without its memory budget."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from aiokafka import ConsumerRecord

from agents.pipeline import analyze, fingerprint
from schemas import RawPage
from streams.bench import Stores, decided_document, worker_tabledir
from streams.feed import feed
from tests.integration.conftest import new_pipeline, unique_page

pytestmark = pytest.mark.integration


def page(text: str, marker: str, name: str, fetched_at: datetime) -> RawPage:
    return RawPage(
        url=f"https://{name}.example/{marker}", fetched_at=fetched_at, text=text, content_type="text/plain"
    )


PAIRS = 4  # of each kind: a wrong store layout passing by chance would take 8 lucky keys


async def test_a_worker_reads_state_written_into_its_stores(kafka: str, tmp_path: Path) -> None:
    pipeline = await new_pipeline(kafka, tmp_path, partitions=3)
    marker = uuid.uuid4().hex
    now = datetime.now(UTC)
    texts = {
        (kind, n): unique_page(tmp_path, f"{kind}-{n}.txt", f"{marker}-{kind}-{n}").read_text("utf-8")
        for kind in ("near", "exact")
        for n in range(PAIRS)
    }

    # Earlier copies of every text, as state only: they were never on any topic.
    stores = Stores(worker_tabledir(pipeline.settings, pipeline.settings.data_dir), 3)
    earlier_ids = {}
    try:
        for (kind, n), text in texts.items():
            article = analyze(page(text, marker, f"earlier-{kind}-{n}", now - timedelta(hours=1)))
            prints = fingerprint(article)
            document = article.to_dict()
            if kind == "near":  # another content hash: found only through the LSH bands
                document["content_hash"] = f"{n:032d}"
                bands = prints.bands
            else:  # no band in common: found only through the content-hash owner
                bands = [f"{band[:2]}{marker[:15]}{n}" for band in prints.bands]
            stores.add_document(decided_document(document, sorted(prints.shingles), bands))
            earlier_ids[kind, n] = article.article_id
    finally:
        stores.close()

    later = {key: page(text, marker, f"later-{key[0]}-{key[1]}", now) for key, text in texts.items()}
    pipeline.start_worker()
    try:
        await feed(list(later.values()), pipeline.settings, progress=False)
        wanted = {p.page_id for p in later.values()}

        def done(records: list[ConsumerRecord[bytes, bytes]]) -> bool:
            return wanted <= {orjson.loads(r.value or b"{}").get("page_id") for r in records}

        records = await pipeline.outputs(done)
    finally:
        pipeline.stop_all()
    out = {
        document["page_id"]: document
        for document in (orjson.loads(r.value) for r in records if r.value)
        if document.get("page_id") in wanted
    }
    found = {
        key: (out[p.page_id]["duplicate_of"], out[p.page_id]["duplicate_kind"], out[p.page_id]["similarity"])
        for key, p in later.items()
    }
    assert found == {key: (earlier_ids[key], key[0], 1.0) for key in later}
    # The worker opened stores that existed already with its own options: the shared cache of
    # the memory budget and bloom filters (RocksDB's log of each store's last opening), not
    # the defaults an existing store's OPTIONS file gives back.
    budget = pipeline.settings.store_memory_mb * 2**20
    logs = sorted(worker_tabledir(pipeline.settings, pipeline.settings.data_dir).glob("*.db/LOG"))
    assert len(logs) == 4 * 3
    for log in logs:
        opened = log.read_text(errors="replace")
        assert f"capacity : {budget}" in opened and "filter_policy: bloomfilter" in opened, log
