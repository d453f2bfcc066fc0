"""The pipeline over SASL_SSL (SCRAM-SHA-512, verified TLS), against a broker secured like production.

The module starts its own local Kafka with a SASL_SSL listener that requires TLS with a
certificate from a CA made here, a client certificate from the same CA, and a SCRAM login
created when the storage is formatted. Every client — the worker's Faust consumers and
producers, its lag probe, `khabar feed`, `khabar replay` and the tail reader — connects
only to that listener. A wrong password or an untrusted CA must fail with a message that
says so, and the password must appear in no log and no command output.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from streams.broker import LocalBroker, SaslSslListener, free_port
from streams.config import Settings
from streams.tail import Output, follow
from streams.topics import ensure_topics
from tests.certs import Certificates
from tests.integration.conftest import Pipeline, unique_page

pytestmark = pytest.mark.integration

USER = "khabar-worker"
PASSWORD = secrets.token_urlsafe(24)  # random per run, so finding it anywhere means a leak
WRONG_PASSWORD = secrets.token_urlsafe(24)
WEB_HOST = "127.0.0.2"  # a loopback address other than 127.0.0.1: binding elsewhere would show
PAGES = 3


@dataclass
class SecureCluster:
    broker: LocalBroker
    certificates: Certificates
    password_file: Path
    env: dict[str, str]  # the KHABAR_* variables of a client of the SASL_SSL listener

    def run_khabar(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "streams.cli", *args],
            env={**os.environ, **(env or self.env)}, stdin=subprocess.DEVNULL, capture_output=True,
            text=True, timeout=120, check=False,
        )  # fmt: skip


@pytest.fixture(scope="module")
def secure_kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureCluster]:
    home = tmp_path_factory.mktemp("secure-kafka")
    certificates = Certificates.create(home / "certs")
    password_file = home / "sasl-password"
    password_file.write_text(PASSWORD + "\n")
    password_file.chmod(0o600)
    listener = SaslSslListener(
        port=free_port(), keystore=certificates.keystore, users={USER: PASSWORD}, truststore=certificates.ca
    )
    broker = LocalBroker(
        home=home / "kafka", port=free_port(), controller_port=free_port(),
        cache_dir=Settings.from_env().cache_dir, sasl_ssl=listener,
    )  # fmt: skip
    broker.start()
    name = f"s{secrets.token_hex(4)}"
    env = {
        "KHABAR_BROKER": broker.secure_bootstrap,
        "KHABAR_SECURITY_PROTOCOL": "SASL_SSL",
        "KHABAR_SASL_MECHANISM": "SCRAM-SHA-512",
        "KHABAR_SASL_USERNAME": USER,
        "KHABAR_SASL_PASSWORD": "",
        "KHABAR_SASL_PASSWORD_FILE": str(password_file),
        "KHABAR_SSL_CAFILE": str(certificates.ca),
        "KHABAR_SSL_CERTFILE": str(certificates.client_certificate),
        "KHABAR_SSL_KEYFILE": str(certificates.client_key),
        "KHABAR_TOPIC_PREFIX": f"{name}.",
        "KHABAR_APP_ID": name,
        "KHABAR_PARTITIONS": "2",
        "KHABAR_DATA_DIR": str(home / "worker"),
        "KHABAR_WEB_HOST": WEB_HOST,
    }
    try:
        yield SecureCluster(broker, certificates, password_file, env)
    finally:
        broker.stop()
    assert PASSWORD not in broker.log_file.read_text(errors="replace"), "the password is in the broker's log"


@pytest.fixture(scope="module")
async def secure_pipeline(secure_kafka: SecureCluster) -> AsyncIterator[Pipeline]:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in secure_kafka.env.items():
            patch.setenv(name, value)
        settings = Settings.from_env()
    await ensure_topics(settings)
    pipeline = Pipeline(
        settings=settings, worker=None, log=settings.data_dir.parent / "worker.log", web_port=free_port()
    )
    pipeline.start_worker("--loglevel", "debug")  # the chattiest logs are the likeliest to leak
    try:
        yield pipeline
    finally:
        pipeline.stop_worker()


def http_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


async def wait_until_ready(pipeline: Pipeline, timeout: float = 90.0) -> None:
    url = f"http://{WEB_HOST}:{pipeline.web_port}/health/ready"
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        if pipeline.worker is not None and pipeline.worker.poll() is not None:
            raise AssertionError(f"the worker exited:\n{pipeline.worker_log()}")
        try:
            if await asyncio.to_thread(http_status, url) == 200:
                return
        except (urllib.error.URLError, OSError):
            pass  # not listening yet
        if loop.time() > deadline:
            raise AssertionError(f"{url} never said ready:\n{pipeline.worker_log()}")
        await asyncio.sleep(0.5)  # polling interval; the deadline decides


async def test_the_pipeline_runs_over_sasl_ssl(
    secure_kafka: SecureCluster, secure_pipeline: Pipeline, tmp_path: Path
) -> None:
    settings = secure_pipeline.settings
    assert (settings.security_protocol, settings.broker) == ("SASL_SSL", secure_kafka.broker.secure_bootstrap)
    await wait_until_ready(secure_pipeline)
    # The metrics and health server listens on KHABAR_WEB_HOST only.
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", secure_pipeline.web_port)) != 0, "bound beyond KHABAR_WEB_HOST"

    markers = [f"secure-{secrets.token_hex(4)}-{n}" for n in range(PAGES)]
    pages = [unique_page(tmp_path, f"{marker}.txt", marker) for marker in markers]
    fed = secure_kafka.run_khabar("feed", "--no-progress", *map(str, pages))
    assert fed.returncode == 0, fed.stdout + fed.stderr
    assert f"published {PAGES} pages" in fed.stderr

    # Read the articles back over SASL_SSL with the reader `khabar tail` and `khabar run` use.
    articles: dict[str, Output] = {}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 120

    def collect(output: Output) -> bool:
        title = str(output.document.get("title") or "")
        articles.update({marker: output for marker in markers if marker in title})
        return len(articles) < PAGES

    await follow(settings, collect, from_beginning=True, keep_going=lambda: loop.time() < deadline)
    assert sorted(articles) == sorted(markers), secure_pipeline.worker_log()
    assert {output.kind for output in articles.values()} == {"article"}
    assert {output.document["language"] for output in articles.values()} == {"ar"}

    # Replay's planning (admin client and consumer) over the same listener.
    replay = secure_kafka.run_khabar("replay", "--to-beginning")
    assert replay.returncode == 0, replay.stdout + replay.stderr
    assert f"{settings.topic('raw-pages')}" in replay.stdout and "dry run" in replay.stdout

    # The worker's lag probe measured over SASL_SSL too (every 2 s in tests).
    async def lag_measured() -> bool:
        url = f"http://{WEB_HOST}:{secure_pipeline.web_port}/metrics"
        body = await asyncio.to_thread(lambda: urllib.request.urlopen(url, timeout=2).read().decode())
        return "khabar_consumer_lag{" in body

    lag_deadline = loop.time() + 30
    while not await lag_measured():
        assert loop.time() < lag_deadline, f"no consumer lag measured:\n{secure_pipeline.worker_log()}"
        await asyncio.sleep(0.5)  # polling interval; the deadline decides
    log = secure_pipeline.log.read_text(errors="replace")
    assert "could not measure consumer lag" not in log
    assert "Authenticated as" in log  # aiokafka's debug line: the worker did log in with SCRAM
    for text in (log, fed.stdout, fed.stderr, replay.stdout, replay.stderr):
        assert PASSWORD not in text


def test_a_wrong_password_fails_with_a_clear_error(secure_kafka: SecureCluster) -> None:
    env = {**secure_kafka.env, "KHABAR_SASL_PASSWORD_FILE": "", "KHABAR_SASL_PASSWORD": WRONG_PASSWORD}
    fed = secure_kafka.run_khabar("feed", "--no-progress", "-", env=env)
    assert fed.returncode == 2, fed.stdout + fed.stderr
    assert f"SASL authentication failed for user '{USER}' with SCRAM-SHA-512" in fed.stderr
    worker = secure_kafka.run_khabar("worker", env=env)
    assert worker.returncode == 1, worker.stdout + worker.stderr
    assert "SASL authentication failed" in worker.stderr
    run = secure_kafka.run_khabar("run", "--once", env=env)  # KHABAR_BROKER is set: no local Kafka
    assert run.returncode == 1, run.stdout + run.stderr
    assert "SASL authentication failed" in run.stderr and "worker started" not in run.stderr
    for text in (fed.stdout, fed.stderr, worker.stdout, worker.stderr, run.stdout, run.stderr):
        assert WRONG_PASSWORD not in text
        assert PASSWORD not in text


def test_an_untrusted_ca_fails_with_a_clear_error(secure_kafka: SecureCluster) -> None:
    env = {**secure_kafka.env, "KHABAR_SSL_CAFILE": str(secure_kafka.certificates.other_ca)}
    fed = secure_kafka.run_khabar("feed", "--no-progress", "-", env=env)
    assert fed.returncode == 2, fed.stdout + fed.stderr
    assert "the broker's TLS certificate was not accepted" in fed.stderr
    assert "certificate in certificate chain" in fed.stderr or "unable to get" in fed.stderr
    assert PASSWORD not in fed.stdout + fed.stderr


def test_plaintext_to_the_secure_listener_is_refused(secure_kafka: SecureCluster) -> None:
    plaintext = {**secure_kafka.env, "KHABAR_SECURITY_PROTOCOL": "PLAINTEXT"}
    tailed = secure_kafka.run_khabar("tail", env=plaintext)
    assert tailed.returncode == 1, tailed.stdout + tailed.stderr
    assert f"no Kafka broker answers at {secure_kafka.broker.secure_bootstrap}" in tailed.stderr
    assert "check that KHABAR_SECURITY_PROTOCOL (PLAINTEXT)" in tailed.stderr
