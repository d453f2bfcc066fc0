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
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

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


def spawn_worker(settings: Settings, log: Path, *options: str) -> subprocess.Popen[bytes]:
    """A `khabar worker [options]` process with these settings, its output appended to ``log``."""
    env = {**os.environ, **settings.environment()}
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "streams.cli", "worker", *options],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip


def stop_process(worker: subprocess.Popen[bytes], timeout: float = 60.0) -> int:
    """SIGTERM a worker and wait for it to exit; returns its exit code."""
    worker.send_signal(signal.SIGTERM)
    try:
        return worker.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()
        raise AssertionError(f"the worker did not stop within {timeout:.0f}s of SIGTERM") from None


@dataclass
class Pipeline:
    """Topics with a private prefix, `khabar worker` processes on them, and helpers to drive them.

    ``worker`` is the first worker; ``extra_workers`` join the same group, each with its own
    state directory, web port and log (``add_worker``/``remove_worker``).
    """

    settings: Settings
    worker: subprocess.Popen[bytes] | None
    log: Path
    web_port: int
    extra_workers: list[tuple[subprocess.Popen[bytes], int]] = field(default_factory=list)

    def start_worker(self, *options: str) -> None:
        """Start a `khabar worker [options]` process on this pipeline's topics (appending to its log)."""
        self.worker = spawn_worker(
            replace(self.settings, web_port=self.web_port, lag_interval_seconds=2), self.log, *options
        )

    def stop_worker(self, timeout: float = 60.0) -> int:
        """SIGTERM the worker and wait for it to exit; returns its exit code."""
        worker, self.worker = self.worker, None
        return 0 if worker is None else stop_process(worker, timeout)

    def kill_worker(self) -> None:
        """kill -9 the worker: no shutdown, nothing flushed or committed."""
        worker, self.worker = self.worker, None
        if worker is not None:
            worker.kill()
            worker.wait()

    def add_worker(self) -> int:
        """Start one more worker in the group; returns its web port."""
        number = len(self.extra_workers) + 1
        port = free_port()
        static_id = self.settings.group_instance_id
        settings = replace(
            self.settings, data_dir=self.settings.data_dir.parent / f"worker-{number}", web_port=port,
            lag_interval_seconds=2, group_instance_id=f"{static_id}-{number}" if static_id else "",
        )  # fmt: skip
        self.extra_workers.append(
            (spawn_worker(settings, self.log.with_name(f"{self.log.stem}-{number}.log")), port)
        )
        return port

    def remove_worker(self, timeout: float = 60.0) -> int:
        """SIGTERM the newest extra worker and wait for it to exit; returns its exit code."""
        worker, _ = self.extra_workers.pop()
        return stop_process(worker, timeout)

    def stop_all(self) -> None:
        """Stop every worker, even when one does not stop in time (it is killed; then this raises)."""
        failures = []
        while self.extra_workers or self.worker is not None:
            try:
                self.remove_worker() if self.extra_workers else self.stop_worker()
            except AssertionError as exc:
                failures.append(exc)
        if failures:
            raise failures[0]

    def check_workers(self) -> None:
        """Raise if a worker process has exited on its own."""
        for worker in [self.worker, *(w for w, _ in self.extra_workers)]:
            if worker is not None and worker.poll() is not None:
                raise AssertionError(f"worker exited ({worker.returncode}):\n{self.worker_log()}")

    def dump_tasks(self, timeout: float = 15.0) -> None:
        """Have the first worker write every thread's stack and asyncio task to its log (mode's
        SIGUSR1 handler), to see where a stalled worker waits."""
        if self.worker is None or self.worker.poll() is not None:
            return
        before = self.log.read_text(errors="replace").count("\nTASKS")
        self.worker.send_signal(signal.SIGUSR1)
        deadline = time.monotonic() + timeout
        while self.log.read_text(errors="replace").count("\nTASKS") == before and time.monotonic() < deadline:
            time.sleep(0.2)  # the next look at the log; bounded by the deadline

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
                self.check_workers()
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


async def new_pipeline(kafka: str, workdir: Path, **changes: Any) -> Pipeline:
    """A pipeline with its own topic prefix and group (``changes`` override settings), no worker yet."""
    name = f"t{uuid.uuid4().hex[:8]}"
    defaults: dict[str, Any] = {"partitions": 2, "data_dir": workdir / name / "worker"}
    settings = replace(
        Settings.from_env(), broker=kafka, topic_prefix=f"{name}.", app_id=name, **(defaults | changes)
    )
    await ensure_topics(settings)
    return Pipeline(settings=settings, worker=None, log=workdir / f"{name}.log", web_port=free_port())


@pytest.fixture(scope="module")
async def pipeline(kafka: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Pipeline]:
    pipeline = await new_pipeline(kafka, tmp_path_factory.mktemp("pipeline"))
    pipeline.start_worker()
    try:
        yield pipeline
    finally:
        pipeline.stop_all()
