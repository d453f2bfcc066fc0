"""How every Kafka client connects: bootstrap servers, TLS and SASL options from :class:`Settings`.

The Faust app (:func:`faust_credentials`) and every aiokafka producer, consumer and admin
client (:func:`client_options`) get their connection options here, so a cluster that needs
SASL_SSL is reached the same way by workers, feeders, ``tail``, ``replay`` and the lag probe.
TLS always verifies the broker's certificate chain and host name. The password goes to the
clients and nowhere else: no repr, log line or error message here contains it.
"""

from __future__ import annotations

import contextlib
import ssl
from typing import TYPE_CHECKING, Any

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.conn import collect_hosts, create_conn
from aiokafka.errors import (
    AuthenticationFailedError,
    KafkaConnectionError,
    KafkaError,
    SaslAuthenticationFailed,
    UnsupportedSaslMechanismError,
)
from aiokafka.protocol.metadata import MetadataRequest

from streams.config import Settings

if TYPE_CHECKING:
    from faust.types.auth import CredentialsT


def uses_tls(settings: Settings) -> bool:
    return settings.security_protocol in ("SSL", "SASL_SSL")


def uses_sasl(settings: Settings) -> bool:
    return settings.security_protocol.startswith("SASL_")


def ssl_context(settings: Settings) -> ssl.SSLContext | None:
    """A client TLS context that verifies the broker (CA and host name); None without TLS."""
    if not uses_tls(settings):
        return None
    # create_default_context: TLS 1.2+, certificate required, host name checked.
    context = ssl.create_default_context(cafile=str(settings.ssl_cafile) if settings.ssl_cafile else None)
    if settings.ssl_certfile is not None:
        context.load_cert_chain(
            str(settings.ssl_certfile), str(settings.ssl_keyfile) if settings.ssl_keyfile else None
        )
    return context


def security_options(settings: Settings) -> dict[str, Any]:
    """aiokafka's keyword arguments for the security protocol, TLS context and SASL login."""
    options: dict[str, Any] = {"security_protocol": settings.security_protocol}
    context = ssl_context(settings)
    if context is not None:
        options["ssl_context"] = context
    if uses_sasl(settings):
        options.update(
            sasl_mechanism=settings.sasl_mechanism,
            sasl_plain_username=settings.sasl_username,
            sasl_plain_password=settings.sasl_password,
        )
    return options


def client_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for any aiokafka client (producer, consumer, admin) of this cluster."""
    return {"bootstrap_servers": settings.bootstrap_servers, **security_options(settings)}


def faust_credentials(settings: Settings) -> CredentialsT | None:
    """The Faust app's ``broker_credentials``; None for PLAINTEXT."""
    from faust.auth import SASLCredentials, SSLCredentials

    context = ssl_context(settings)
    if uses_sasl(settings):
        return SASLCredentials(
            username=settings.sasl_username,
            password=settings.sasl_password,
            ssl_context=context,  # with a context Faust speaks SASL_SSL, without SASL_PLAINTEXT
            mechanism=settings.sasl_mechanism,
        )
    if context is not None:
        return SSLCredentials(context)
    return None


async def connection_problem(settings: Settings, timeout: float = 5.0) -> str | None:
    """None when the cluster answers a metadata request; otherwise why not, in words."""
    admin = AIOKafkaAdminClient(**client_options(settings), request_timeout_ms=int(timeout * 1000))
    try:
        await admin.start()
        await admin.describe_cluster()
        return None
    except Exception:  # anything at all: the diagnosis below says what
        pass
    finally:
        with contextlib.suppress(Exception):
            await admin.close()
    # aiokafka only says "Unable to bootstrap"; connect once more by hand to learn the reason.
    reasons = [await _connect_problem(settings, host, port, timeout) for host, port, _ in _hosts(settings)]
    found = "; ".join(reason for reason in reasons if reason)
    return f"no Kafka broker answers at {settings.bootstrap_servers}" + (f": {found}" if found else "")


def _hosts(settings: Settings) -> list[tuple[str, int, Any]]:
    hosts: list[tuple[str, int, Any]] = collect_hosts(settings.bootstrap_servers, randomize=False)
    return hosts


async def _connect_problem(settings: Settings, host: str, port: int, timeout: float) -> str | None:
    where = f"{host}:{port}"
    try:
        connection = await create_conn(
            host, port, request_timeout_ms=int(timeout * 1000), **security_options(settings)
        )
        try:
            await connection.send(MetadataRequest([]))
        finally:
            connection.close()
    except ssl.SSLCertVerificationError as exc:
        return (
            f"{where}: the broker's TLS certificate was not accepted ({exc.verify_message}); "
            "check KHABAR_SSL_CAFILE and that the certificate names this host"
        )
    except ssl.SSLError as exc:
        return f"{where}: TLS handshake failed ({exc.reason}); check KHABAR_SECURITY_PROTOCOL"
    except (SaslAuthenticationFailed, AuthenticationFailedError) as exc:
        return (
            f"{where}: SASL authentication failed for user {settings.sasl_username!r} with "
            f"{settings.sasl_mechanism} ({exc}); check KHABAR_SASL_USERNAME and the password"
        )
    except UnsupportedSaslMechanismError:
        return f"{where}: the broker does not accept {settings.sasl_mechanism}; check KHABAR_SASL_MECHANISM"
    except KafkaConnectionError:
        return (
            f"{where}: the broker closed the connection; check that KHABAR_SECURITY_PROTOCOL "
            f"({settings.security_protocol}) is this listener's, and the client certificate if it needs one"
        )
    except (KafkaError, OSError, TimeoutError) as exc:
        return f"{where}: {type(exc).__name__}: {exc}"
    return None
