"""A real Apache Kafka for the integration tests, and a real worker process per test module.

The broker is the same :class:`streams.broker.LocalBroker` that `khabar broker start` runs
(jars from Maven Central, cached). Set KHABAR_TEST_BROKER to use an existing cluster.
Each module gets its own topic prefix and consumer group, so modules never see each other.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord

from streams.broker import LocalBroker, free_port, kafka_version
from streams.config import Settings
from streams.connection import client_options
from streams.topics import ARTICLES, DEAD_LETTERS, DUPLICATES, ensure_topics

pytestmark = pytest.mark.integration

OUTPUT_WAIT_SECONDS = 120.0
BROKERS_USED: list[str] = []


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for line in BROKERS_USED:
        terminalreporter.write_line(f"integration tests ran against {line}")


@pytest.fixture(scope="session")
def kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    existing = os.environ.get("KHABAR_TEST_BROKER", "").strip()
    if existing:
        BROKERS_USED.append(f"the existing cluster at {existing} (KHABAR_TEST_BROKER)")
        yield existing
        return
    broker = LocalBroker(
        home=tmp_path_factory.mktemp("kafka"),
        port=free_port(),
        controller_port=free_port(),
        cache_dir=Settings.from_env().cache_dir,
    )
    broker.start()
    BROKERS_USED.append(f"real Apache Kafka {kafka_version()} at {broker.bootstrap} (pid {broker.pid()})")
    try:
        yield broker.bootstrap
    finally:
        broker.stop()


@dataclass
class Pipeline:
    """Topics with a private prefix, a `khabar worker` process on them, and helpers to drive it."""

    settings: Settings
    worker: subprocess.Popen[bytes] | None
    log: Path
    web_port: int

    def start_worker(self, *options: str) -> None:
        """Start a `khabar worker [options]` process on this pipeline's topics (appending to its log)."""
        worker = replace(self.settings, web_port=self.web_port, lag_interval_seconds=2)
        env = {**os.environ, **worker.environment()}
        with self.log.open("ab") as out:
            self.worker = subprocess.Popen(
                [sys.executable, "-m", "streams.cli", "worker", *options],
                env=env, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip

    def stop_worker(self, timeout: float = 60.0) -> int:
        """SIGTERM the worker and wait for it to exit; returns its exit code."""
        worker, self.worker = self.worker, None
        if worker is None:
            return 0
        worker.send_signal(signal.SIGTERM)
        try:
            return worker.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
            raise AssertionError(f"the worker did not stop within {timeout:.0f}s of SIGTERM") from None

    def topic(self, name: str) -> str:
        return self.settings.topic(name)

    def worker_log(self) -> str:
        return self.log.read_text(errors="replace")[-5000:]

    async def produce(
        self, value: bytes, key: bytes | None = None, partition: int | None = None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> None:  # fmt: skip
        producer = AIOKafkaProducer(**client_options(self.settings), acks="all")
        await producer.start()
        try:
            await producer.send_and_wait(
                self.topic("raw-pages"), value=value, key=key, partition=partition, headers=headers
            )
        finally:
            await producer.stop()

    async def outputs(
        self, done: Callable[[list[ConsumerRecord[bytes, bytes]]], bool], timeout: float = OUTPUT_WAIT_SECONDS
    ) -> list[ConsumerRecord[bytes, bytes]]:
        """Read the output topics from the beginning until ``done(records)`` or the deadline."""
        consumer = AIOKafkaConsumer(
            self.topic(ARTICLES), self.topic(DUPLICATES), self.topic(DEAD_LETTERS),
            **client_options(self.settings),
            auto_offset_reset="earliest", enable_auto_commit=False, isolation_level="read_committed",
        )  # fmt: skip
        await consumer.start()
        records: list[ConsumerRecord[bytes, bytes]] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            while not done(records):
                if self.worker is not None and self.worker.poll() is not None:
                    raise AssertionError(f"worker exited ({self.worker.returncode}):\n{self.worker_log()}")
                if loop.time() > deadline:
                    raise AssertionError(
                        f"timed out after {timeout:.0f}s with {len(records)} output records; "
                        f"worker log tail:\n{self.worker_log()}"
                    )
                batches = await consumer.getmany(timeout_ms=500)
                for batch in batches.values():
                    records.extend(batch)
        finally:
            await consumer.stop()
        return records


WORDS = [
    "قال",
    "أكد",
    "أعلن",
    "أضاف",
    "أوضح",
    "الوزير",
    "الرئيس",
    "المتحدث",
    "الحكومة",
    "البرلمان",
    "اللجنة",
    "الوزارة",
    "المدينة",
    "العاصمة",
    "المشروع",
    "الاتفاق",
    "المحادثات",
    "الاقتصاد",
    "الميناء",
    "المطار",
    "الجامعة",
    "المستشفى",
    "الطريق",
    "السوق",
    "الشركة",
    "المصرف",
    "الانتخابات",
    "الميزانية",
    "الطاقة",
    "المياه",
    "الزراعة",
    "الصناعة",
    "التجارة",
    "السياحة",
    "التعليم",
    "الصحة",
    "النقل",
    "الأمن",
    "الجديد",
    "الكبير",
    "الأول",
    "الثاني",
    "المقبل",
    "الماضي",
    "الوطني",
    "الدولي",
    "المحلي",
    "العام",
    "الخاص",
    "السريع",
    "المشترك",
    "يوم",
    "أسبوع",
    "شهر",
    "عام",
    "صباح",
    "مساء",
    "اليوم",
    "أمس",
    "غدا",
    "بعد",
    "قبل",
    "خلال",
    "حتى",
    "منذ",
    "بين",
    "مع",
    "على",
    "في",
    "إلى",
    "من",
    "تطوير",
    "تنفيذ",
    "توسيع",
    "بناء",
    "افتتاح",
    "إطلاق",
    "دعم",
    "تعزيز",
    "مراجعة",
    "مناقشة",
    "توقيع",
    "إعلان",
    "تمويل",
    "تحسين",
]


def unique_page(tmp: Path, name: str, marker: str) -> Path:
    """A plain-text news page whose body nobody else in the suite publishes (nor resembles).

    The words are drawn at random, seeded by ``marker``, so two pages share few 5-word
    shingles and are never near-duplicates of each other.
    """
    rng = random.Random(marker)
    paragraphs = [
        " ".join(rng.choice(WORDS) for _ in range(40)) + f" ({marker}-{number})." for number in range(4)
    ]
    path = tmp / name
    path.write_text(f"عنوان تجريبي للاختبار {marker}\n\n" + "\n\n".join(paragraphs) + "\n", encoding="utf-8")
    return path


def documents(records: list[ConsumerRecord[bytes, bytes]], topic: str) -> list[dict[str, object]]:
    return [orjson.loads(r.value) for r in records if r.topic == topic and r.value is not None]


@pytest.fixture(scope="module")
async def pipeline(kafka: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Pipeline]:
    name = f"t{uuid.uuid4().hex[:8]}"
    workdir = tmp_path_factory.mktemp(name)
    settings = replace(
        Settings.from_env(),
        broker=kafka,
        topic_prefix=f"{name}.",
        app_id=name,
        partitions=2,
        data_dir=workdir / "worker",
    )
    await ensure_topics(settings)
    pipeline = Pipeline(settings=settings, worker=None, log=workdir / "worker.log", web_port=free_port())
    pipeline.start_worker()
    try:
        yield pipeline
    finally:
        pipeline.stop_worker()
