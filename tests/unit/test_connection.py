"""Security settings from the environment, and the client options every Kafka client gets from them."""

from __future__ import annotations

import ssl
from dataclasses import replace
from pathlib import Path

import pytest
from faust.auth import SASLCredentials, SSLCredentials
from faust.types.auth import AuthProtocol

from streams.app import create_app
from streams.config import Settings
from streams.connection import client_options, faust_credentials, ssl_context
from tests.certs import Certificates

PASSWORD = "pw-9f3e1c-only-in-tests"


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return Certificates.create(tmp_path_factory.mktemp("certs"))


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in (
        "KHABAR_SECURITY_PROTOCOL", "KHABAR_SASL_MECHANISM", "KHABAR_SASL_USERNAME", "KHABAR_SASL_PASSWORD",
        "KHABAR_SASL_PASSWORD_FILE", "KHABAR_SSL_CAFILE", "KHABAR_SSL_CERTFILE", "KHABAR_SSL_KEYFILE",
    ):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def sasl_ssl_env(env: pytest.MonkeyPatch, certificates: Certificates, password_file: Path) -> None:
    password_file.write_text(PASSWORD + "\n")
    env.setenv("KHABAR_BROKER", "broker-1:9093,broker-2:9093")
    env.setenv("KHABAR_SECURITY_PROTOCOL", "sasl_ssl")
    env.setenv("KHABAR_SASL_USERNAME", "khabar")
    env.setenv("KHABAR_SASL_PASSWORD_FILE", str(password_file))
    env.setenv("KHABAR_SSL_CAFILE", str(certificates.ca))


def test_plaintext_is_the_default_and_adds_nothing(clean_env: pytest.MonkeyPatch) -> None:
    settings = Settings.from_env()
    assert settings.security_protocol == "PLAINTEXT"
    assert client_options(settings) == {
        "bootstrap_servers": settings.bootstrap_servers,
        "security_protocol": "PLAINTEXT",
    }
    assert faust_credentials(settings) is None


def test_sasl_ssl_settings_from_the_environment(
    clean_env: pytest.MonkeyPatch, certificates: Certificates, tmp_path: Path
) -> None:
    sasl_ssl_env(clean_env, certificates, tmp_path / "password")
    settings = Settings.from_env()
    assert settings.security_protocol == "SASL_SSL"
    assert settings.sasl_mechanism == "SCRAM-SHA-512"  # the default mechanism
    assert settings.sasl_password == PASSWORD  # the file's text without its newline
    options = client_options(settings)
    assert options["bootstrap_servers"] == "broker-1:9093,broker-2:9093"
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert (options["sasl_plain_username"], options["sasl_plain_password"]) == ("khabar", PASSWORD)
    context = options["ssl_context"]
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is True
    # The given CA is loaded (and only it: no system CAs beside it).
    assert [c["subject"] for c in context.get_ca_certs()] == [((("commonName", "Khabar test CA"),),)]


def test_the_password_is_in_no_repr(
    clean_env: pytest.MonkeyPatch, certificates: Certificates, tmp_path: Path
) -> None:
    sasl_ssl_env(clean_env, certificates, tmp_path / "password")
    settings = Settings.from_env()
    credentials = faust_credentials(settings)
    assert PASSWORD not in repr(settings)
    assert PASSWORD not in str(settings)
    assert PASSWORD not in repr(credentials)


def test_a_child_worker_gets_the_password_file_not_the_password(
    clean_env: pytest.MonkeyPatch, certificates: Certificates, tmp_path: Path
) -> None:
    sasl_ssl_env(clean_env, certificates, tmp_path / "password")
    settings = Settings.from_env()
    environment = settings.environment()
    assert PASSWORD not in environment.values()
    assert environment["KHABAR_SASL_PASSWORD_FILE"] == str(tmp_path / "password")
    for name, value in environment.items():
        clean_env.setenv(name, value)
    assert Settings.from_env() == settings


def test_a_password_given_directly_is_passed_on_directly(clean_env: pytest.MonkeyPatch) -> None:
    settings = Settings(
        broker="kafka:9092",
        security_protocol="SASL_PLAINTEXT",
        sasl_username="khabar",
        sasl_password=PASSWORD,
    )
    environment = settings.environment()
    assert environment["KHABAR_SASL_PASSWORD"] == PASSWORD
    assert environment["KHABAR_SASL_PASSWORD_FILE"] == ""
    for name, value in environment.items():
        clean_env.setenv(name, value)
    assert Settings.from_env() == settings


def test_faust_gets_sasl_over_tls_credentials(
    clean_env: pytest.MonkeyPatch, certificates: Certificates, tmp_path: Path
) -> None:
    sasl_ssl_env(clean_env, certificates, tmp_path / "password")
    settings = replace(Settings.from_env(), data_dir=tmp_path / "worker", web_host="127.0.0.2")
    app = create_app(settings)
    credentials = app.conf.broker_credentials
    assert isinstance(credentials, SASLCredentials)
    assert credentials.protocol == AuthProtocol.SASL_SSL
    assert credentials.mechanism.value == "SCRAM-SHA-512"
    assert (credentials.username, credentials.password) == ("khabar", PASSWORD)
    assert credentials.ssl_context is not None
    assert credentials.ssl_context.check_hostname is True
    assert app.conf.web_bind == "127.0.0.2"  # the web server binds where KHABAR_WEB_HOST says


def test_tls_without_sasl_and_a_client_certificate(certificates: Certificates) -> None:
    settings = replace(
        Settings(), security_protocol="SSL", ssl_cafile=certificates.ca,
        ssl_certfile=certificates.client_certificate, ssl_keyfile=certificates.client_key,
    )  # fmt: skip
    options = client_options(settings)
    assert options["security_protocol"] == "SSL"
    assert "sasl_plain_password" not in options
    assert isinstance(faust_credentials(settings), SSLCredentials)
    context = ssl_context(settings)
    assert context is not None and context.verify_mode == ssl.CERT_REQUIRED


def test_a_client_key_that_does_not_match_is_refused(certificates: Certificates) -> None:
    settings = replace(
        Settings(), security_protocol="SSL", ssl_cafile=certificates.ca,
        ssl_certfile=certificates.client_certificate, ssl_keyfile=certificates.keystore,
    )  # fmt: skip
    with pytest.raises(ssl.SSLError):
        ssl_context(settings)


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"KHABAR_SECURITY_PROTOCOL": "TLS"}, "KHABAR_SECURITY_PROTOCOL must be one of"),
        ({"KHABAR_SASL_MECHANISM": "GSSAPI"}, "KHABAR_SASL_MECHANISM must be one of"),
        ({"KHABAR_SECURITY_PROTOCOL": "SASL_SSL", "KHABAR_SASL_USERNAME": "khabar"}, "needs KHABAR_SASL"),
        (
            {"KHABAR_SASL_PASSWORD": PASSWORD, "KHABAR_SASL_PASSWORD_FILE": "{password_file}"},
            "not both",
        ),
        ({"KHABAR_SSL_CAFILE": "/nonexistent/ca.pem"}, "KHABAR_SSL_CAFILE names"),
        ({"KHABAR_SASL_PASSWORD_FILE": "/nonexistent/password"}, "KHABAR_SASL_PASSWORD_FILE names"),
    ],
)
def test_bad_security_settings_stop_with_a_clear_message(
    clean_env: pytest.MonkeyPatch, tmp_path: Path, variables: dict[str, str], message: str
) -> None:
    password_file = tmp_path / "password"
    password_file.write_text(PASSWORD)
    for name, value in variables.items():
        clean_env.setenv(name, value.format(password_file=password_file))
    with pytest.raises(SystemExit) as stopped:
        Settings.from_env()
    assert message in str(stopped.value.code)
    assert PASSWORD not in str(stopped.value.code)
