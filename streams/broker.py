"""A real single-node Apache Kafka (KRaft) run as a local Java process.

The broker's jars come from Maven Central through ``deploy/kafka/pom.xml`` and are cached
under ``~/.cache/khabar/kafka-<version>/libs``; the machine's Java 17+ runs ``kafka.Kafka``.
``khabar broker start|stop|status``, ``khabar run`` and the integration tests' fixture all
use :class:`LocalBroker`. It always listens in PLAINTEXT on 127.0.0.1; with a
:class:`SaslSslListener` it also listens in SASL_SSL (TLS + SCRAM-SHA-512), as a secured
production cluster does (``tests/integration/test_security.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from streams.config import Settings
from streams.connection import connection_problem

REPO_ROOT = Path(__file__).resolve().parent.parent
POM = REPO_ROOT / "deploy" / "kafka" / "pom.xml"
_POM_VERSION = re.compile(r"<kafka\.version>([^<]+)</kafka\.version>")

_LOG4J2 = """\
status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.stdout.ref = STDOUT
logger.kafka.name = kafka
logger.kafka.level = info
logger.state.name = state.change.logger
logger.state.level = warn
"""


class BrokerError(RuntimeError):
    """The local broker could not be set up, started or stopped."""


def kafka_version() -> str:
    match = _POM_VERSION.search(POM.read_text("utf-8"))
    if not match:
        raise BrokerError(f"no <kafka.version> in {POM}")
    return match.group(1)


def check_java() -> str:
    java = shutil.which("java")
    if java is None:
        raise BrokerError("java is not on PATH: the local Kafka needs Java 17 or newer")
    probe = subprocess.run([java, "-version"], capture_output=True, text=True, check=False)
    match = re.search(r'version "(\d+)', probe.stderr + probe.stdout)
    if not match or int(match.group(1)) < 17:
        raise BrokerError(
            f"the local Kafka needs Java 17 or newer; `java -version` says: {probe.stderr.strip()}"
        )
    return java


def ensure_jars(cache_dir: Path) -> Path:
    """Resolve the broker's jars with Maven once; return the directory that holds them."""
    libs = cache_dir / f"kafka-{kafka_version()}" / "libs"
    if (libs / ".complete").exists():
        return libs
    mvn = shutil.which("mvn")
    if mvn is None:
        raise BrokerError("mvn is not on PATH: it fetches the Kafka jars from Maven Central")
    libs.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="libs-", dir=libs.parent))
    command = [
        mvn, "-B", "-q", "-f", str(POM), "dependency:copy-dependencies",
        f"-DoutputDirectory={staging}", "-DincludeScope=runtime",
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        raise BrokerError(f"mvn could not resolve the Kafka jars:\n{result.stdout}{result.stderr}")
    (staging / ".complete").write_text(kafka_version())
    if libs.exists():
        shutil.rmtree(libs)
    staging.rename(libs)
    return libs


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def broker_answers(bootstrap: str) -> bool:
    """True when a PLAINTEXT Kafka listener at ``bootstrap`` answers a metadata request."""
    return asyncio.run(connection_problem(Settings(broker=bootstrap), timeout=3.0)) is None


@dataclass(frozen=True)
class SaslSslListener:
    """An extra listener named SASL_SSL on 127.0.0.1: TLS, then a SCRAM-SHA-512 login.

    ``keystore`` is a PEM file with the server's unencrypted PKCS#8 private key and its
    certificate chain (it must name 127.0.0.1, the advertised host). The SCRAM ``users``
    (name -> password) are written into the metadata when the storage is formatted, so they
    exist from the first start. With a ``truststore`` (PEM CA certificates) the listener also
    requires a client certificate signed by one of them.
    """

    port: int
    keystore: Path
    users: dict[str, str] = field(repr=False)
    truststore: Path | None = None


@dataclass
class LocalBroker:
    """One KRaft node (broker + controller) with its data in ``home``."""

    home: Path
    port: int
    controller_port: int
    cache_dir: Path
    sasl_ssl: SaslSslListener | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def secure_bootstrap(self) -> str:
        """The SASL_SSL listener's address (there must be one)."""
        if self.sasl_ssl is None:
            raise BrokerError("this broker has no SASL_SSL listener")
        return f"127.0.0.1:{self.sasl_ssl.port}"

    @property
    def state_file(self) -> Path:
        return self.home / "broker.json"

    @property
    def log_file(self) -> Path:
        return self.home / "broker.log"

    def _write_config(self) -> Path:
        data_dir = self.home / "data"
        properties = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@127.0.0.1:{self.controller_port}",
            "listeners": self._plain_listeners(),
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{self.port}",
            "controller.listener.names": "CONTROLLER",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "inter.broker.listener.name": "PLAINTEXT",
            "log.dirs": str(data_dir),
            "num.partitions": "4",
            # A single node can only hold one replica of the internal topics.
            "offsets.topic.replication.factor": "1",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            "auto.create.topics.enable": "true",
        }
        if self.sasl_ssl is not None:
            properties.update(self._sasl_ssl_properties(self.sasl_ssl))
        config = self.home / "server.properties"
        config.write_text("".join(f"{k}={v}\n" for k, v in properties.items()))
        (self.home / "log4j2.properties").write_text(_LOG4J2)
        return config

    def _sasl_ssl_properties(self, listener: SaslSslListener) -> dict[str, str]:
        prefix = "listener.name.sasl_ssl."
        properties = {
            "listeners": f"{self._plain_listeners()},SASL_SSL://127.0.0.1:{listener.port}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{self.port},SASL_SSL://127.0.0.1:{listener.port}",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL",
            f"{prefix}sasl.enabled.mechanisms": "SCRAM-SHA-512",
            f"{prefix}scram-sha-512.sasl.jaas.config": (
                "org.apache.kafka.common.security.scram.ScramLoginModule required;"
            ),
            f"{prefix}ssl.keystore.type": "PEM",
            f"{prefix}ssl.keystore.location": str(listener.keystore),
        }
        if listener.truststore is not None:
            properties |= {
                f"{prefix}ssl.truststore.type": "PEM",
                f"{prefix}ssl.truststore.location": str(listener.truststore),
                f"{prefix}ssl.client.auth": "required",
            }
        return properties

    def _plain_listeners(self) -> str:
        return f"PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}"

    def _format_storage(self, libs: Path, config: Path) -> None:
        """Format the data directory (first start only), with the SCRAM users if any."""
        cluster_id = str(uuid.uuid4().hex[:22])
        users = self.sasl_ssl.users if self.sasl_ssl is not None else {}
        scram: list[str] = []
        for name, password in users.items():
            scram += ["--add-scram", f'SCRAM-SHA-512=[name={name},password="{password}"]']
        format_cmd = self._java_command(
            libs, "kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(config), *scram,
            heap="256m",
        )  # fmt: skip
        result = subprocess.run(format_cmd, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            output = f"{result.stdout}{result.stderr}"
            for password in users.values():
                output = output.replace(password, "***")
            raise BrokerError(f"formatting Kafka storage failed:\n{output}")

    def _java_command(self, libs: Path, main: str, *args: str, heap: str = "512m") -> list[str]:
        return [
            check_java(),
            f"-Xmx{heap}",
            "-XX:+UseG1GC",
            f"-Dlog4j2.configurationFile={self.home / 'log4j2.properties'}",
            "-cp",
            f"{libs}/*",
            main,
            *args,
        ]

    def pid(self) -> int | None:
        """The broker's pid if this home has a live broker process."""
        try:
            state = orjson.loads(self.state_file.read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return None
        pid = int(state.get("pid", 0))
        if pid <= 0:
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        # A zombie child still answers kill(0); it is not a running broker.
        with contextlib.suppress(OSError):
            stat = Path(f"/proc/{pid}/stat").read_text()
            if stat.rsplit(")", 1)[1].split()[0] == "Z":
                return None
        return pid

    def start(self, timeout: float = 120.0) -> None:
        """Format storage on first use, start the broker, and wait until it answers."""
        if self.pid() is not None:
            if broker_answers(self.bootstrap):
                return
            raise BrokerError(f"a broker process from {self.home} is running but not answering")
        extra = [self.sasl_ssl.port] if self.sasl_ssl is not None else []
        for port in (self.port, self.controller_port, *extra):
            if _port_open(port):
                raise BrokerError(f"port {port} is already in use; set KHABAR_LOCAL_BROKER_PORT")
        libs = ensure_jars(self.cache_dir)
        self.home.mkdir(parents=True, exist_ok=True)
        config = self._write_config()
        if not (self.home / "data" / "meta.properties").exists():
            self._format_storage(libs, config)
        with self.log_file.open("ab") as log:
            process = subprocess.Popen(
                self._java_command(libs, "kafka.Kafka", str(config)),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.state_file.write_bytes(
            orjson.dumps({"pid": process.pid, "port": self.port, "bootstrap": self.bootstrap})
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise BrokerError(
                    f"Kafka exited with code {process.returncode}; last log lines:\n{self.log_tail()}"
                )
            if _port_open(self.port) and broker_answers(self.bootstrap):
                return
            time.sleep(0.2)
        self.stop()
        raise BrokerError(f"Kafka did not answer within {timeout:.0f}s:\n{self.log_tail()}")

    def stop(self, timeout: float = 60.0) -> bool:
        """Stop the broker (SIGTERM, then SIGKILL after ``timeout``). False if none ran.

        A Ctrl-C while it waits (a second one, when the first started the stop) kills the
        broker at once and goes on: the broker runs in a session of its own and would
        otherwise outlive the command, holding its port.
        """
        pid = self.pid()
        if pid is None:
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        reaped = False
        try:
            while not reaped and time.monotonic() < deadline:
                reaped = self._reap(pid)
                if not reaped:
                    time.sleep(0.1)
        finally:  # past the timeout, or interrupted while waiting (the interrupt goes on after)
            if not reaped:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                while not self._reap(pid):
                    time.sleep(0.1)
        return True

    def _reap(self, pid: int) -> bool:
        with contextlib.suppress(ChildProcessError):
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done == pid:
                return True
        return self.pid() is None

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def default_local_broker(cache_dir: Path, port: int) -> LocalBroker:
    """The broker `khabar broker start` manages: data under the cache dir, survives restarts."""
    return LocalBroker(home=cache_dir / "broker", port=port, controller_port=port + 1, cache_dir=cache_dir)
