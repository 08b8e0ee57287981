"""A TLS-only redis-server on loopback with the tests' own CA (the `cryptography` package).

Debian's redis-server is built with TLS (`tls-port`, `tls-cert-file`, `tls-key-file`,
`tls-ca-cert-file`); the plain port is off (`port 0`), as on a managed Redis with in-transit
encryption. Clients are not asked for certificates (`tls-auth-clients no`): go-redis's URL
has no way to give one.
"""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.support.redis_procs import Server


@dataclass(frozen=True)
class Authority:
    """A CA: its certificate file (what a client trusts) and what it signs with."""

    cert_file: Path
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _validity(builder: x509.CertificateBuilder) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return builder.not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(
        now + datetime.timedelta(days=1)
    )


def make_ca(workdir: Path, common_name: str) -> Authority:
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        _validity(x509.CertificateBuilder())
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    )
    cert = builder.sign(key, hashes.SHA256())
    path = workdir / f"{common_name.replace(' ', '-')}.crt"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return Authority(path, cert, key)


def server_cert(
    workdir: Path, ca: Authority, dns_names: list[str], ips: list[str]
) -> tuple[Path, Path]:
    """A server certificate (and its key file) for those names, signed by `ca`."""
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [x509.DNSName(n) for n in dns_names]
    names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
    cert = (
        _validity(x509.CertificateBuilder())
        .subject_name(_name(dns_names[0] if dns_names else ips[0]))
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(ca.key, hashes.SHA256())
    )
    cert_file, key_file = workdir / "server.crt", workdir / "server.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_file.chmod(0o600)
    return cert_file, key_file


class TlsServer(Server):
    """redis-server answering TLS only, on a random loopback port; `password` is the default
    user's (the admin's), so nothing reaches it unauthenticated."""

    client_host = "localhost"  # a name the server's certificate holds (hostname checked)

    def __init__(self, workdir: Path, ca: Authority, cert_file: Path, key_file: Path) -> None:
        self.ca, self.cert_file, self.key_file = ca, cert_file, key_file
        super().__init__(workdir)

    def _listen(self) -> str:
        return (
            f"port 0\ntls-port {self.port}\ntls-cert-file {self.cert_file}\n"
            f"tls-key-file {self.key_file}\ntls-ca-cert-file {self.ca.cert_file}\n"
            "tls-auth-clients no\n"
        )

    def _client_tls(self) -> dict[str, Any]:
        return {"ssl": True, "ssl_ca_certs": str(self.ca.cert_file)}
