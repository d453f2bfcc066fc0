"""Test certificates made on the fly: a CA, a broker certificate for 127.0.0.1/localhost, a client one.

Everything is written as PEM, which Kafka 4.1 reads directly (``ssl.keystore.type=PEM``)
and Python's ``ssl`` module loads as it is.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALIDITY = timedelta(days=2)


@dataclass(frozen=True)
class Authority:
    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _cert_pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def certificate_authority(common_name: str) -> Authority:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    signing_only = x509.KeyUsage(
        digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
        key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False,
    )  # fmt: skip
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(signing_only, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Authority(key, certificate)


def issue(
    authority: Authority, common_name: str, *, server: bool
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A leaf certificate: for a server on 127.0.0.1/localhost, or for a client."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(authority.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(authority.key.public_key()), critical=False
        )
    )
    if server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
    return key, builder.sign(authority.key, hashes.SHA256())


@dataclass(frozen=True)
class Certificates:
    """PEM files for a TLS test: the CA, the broker's keystore, a client's certificate and key."""

    ca: Path  # the CA certificate clients trust (and the broker's truststore for client certs)
    keystore: Path  # the broker's private key followed by its certificate and the CA's
    client_certificate: Path
    client_key: Path
    other_ca: Path  # a CA that signed nothing here: trusting only it must fail

    @classmethod
    def create(cls, directory: Path) -> Certificates:
        directory.mkdir(parents=True, exist_ok=True)
        authority = certificate_authority("Khabar test CA")
        server_key, server_certificate = issue(authority, "localhost", server=True)
        client_key, client_certificate = issue(authority, "khabar-test-client", server=False)
        files = cls(
            ca=directory / "ca.pem",
            keystore=directory / "broker-keystore.pem",
            client_certificate=directory / "client.pem",
            client_key=directory / "client-key.pem",
            other_ca=directory / "other-ca.pem",
        )
        files.ca.write_bytes(_cert_pem(authority.certificate))
        files.keystore.write_bytes(
            _key_pem(server_key) + _cert_pem(server_certificate) + _cert_pem(authority.certificate)
        )
        files.client_certificate.write_bytes(_cert_pem(client_certificate))
        files.client_key.write_bytes(_key_pem(client_key))
        files.other_ca.write_bytes(_cert_pem(certificate_authority("Some other CA").certificate))
        for private in (files.keystore, files.client_key):
            private.chmod(0o600)
        return files
