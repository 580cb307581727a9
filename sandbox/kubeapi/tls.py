"""TLS for the fake API server: a certificate authority made per server, and a serving certificate it signs.

EKS hands clients the cluster CA as base64 PEM (`certificateAuthority.data` of eks:DescribeCluster) and serves the
API over HTTPS only; kubectl and the kubernetes client verify the server against that CA. The sandbox does the same
with a CA that lives only as long as the server: nothing is trusted system-wide, nothing is written outside a
temporary directory removed on stop.
"""
from __future__ import annotations

import base64
import datetime
import ipaddress
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# kube-apiserver's own self-signed CA is named "kubernetes" (EKS: CN=kubernetes); validity covers any test run.
CA_COMMON_NAME = "kubernetes"
VALIDITY = datetime.timedelta(days=1)
# The clock of a container may be a little behind the host's: certificates start an hour back.
BACKDATE = datetime.timedelta(hours=1)


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


@dataclass(frozen=True)
class ServingCredentials:
    ca_pem: bytes
    cert_pem: bytes
    key_pem: bytes

    @property
    def ca_data(self) -> str:
        """The CA as eks:DescribeCluster returns it and kubeconfig's certificate-authority-data holds it."""
        return base64.b64encode(self.ca_pem).decode()


def issue(host: str) -> ServingCredentials:
    """A fresh CA (EC P-256: milliseconds to make) and a server certificate for `host` (an IP or DNS name)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(_name(CA_COMMON_NAME)).issuer_name(_name(CA_COMMON_NAME))
        .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE).not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                     content_commitment=False, key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [x509.DNSName("localhost"), x509.DNSName("kubernetes")]
    try:
        names.append(x509.IPAddress(ipaddress.ip_address(host)))
    except ValueError:
        names.append(x509.DNSName(host))
    server_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("kube-apiserver")).issuer_name(ca_cert.subject)
        .public_key(server_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE).not_valid_after(now + VALIDITY)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key_pem = server_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption())
    return ServingCredentials(_pem(ca_cert), _pem(server_cert), key_pem)


class TlsFiles:
    """The credentials on disk (ssl and the kubernetes client take file paths), in a directory removed on close."""

    def __init__(self, credentials: ServingCredentials):
        self.credentials = credentials
        self._directory = tempfile.TemporaryDirectory(prefix="sandbox-kubeapi-tls-")
        root = Path(self._directory.name)
        self.ca_file = root / "ca.crt"
        self.cert_file = root / "apiserver.crt"
        self.key_file = root / "apiserver.key"
        self.ca_file.write_bytes(credentials.ca_pem)
        self.cert_file.write_bytes(credentials.cert_pem)
        self.key_file.write_bytes(credentials.key_pem)
        self.key_file.chmod(0o600)

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2  # kube-apiserver's default --tls-min-version
        context.load_cert_chain(self.cert_file, self.key_file)
        return context

    def close(self) -> None:
        self._directory.cleanup()
