"""TLS and the Bearer token's reach: a real TLS sandbox, redirects elsewhere.

The TLS tests serve the sandbox over HTTPS on 127.0.0.1 with a certificate
from a throwaway CA made here: untrusted, it fails with our TransportError
naming ARSO_CA_BUNDLE; with that CA as the bundle (ARSO_CA_BUNDLE or the
REQUESTS_CA_BUNDLE convention) the same client logs in and pulls data.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import flask
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from werkzeug.serving import make_server

from arso_data import ArsoClient, TransportError, resolve_settings
from arso_data.sandbox import Sandbox
from arso_data.sandbox.app import SandboxState, create_app

MakeClient = Callable[..., ArsoClient]
JSON = {"Content-Type": "application/json"}


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: str,
    issuer_key: ec.EllipticCurvePrivateKey,
    *,
    ca: bool,
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
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
        builder = builder.add_extension(
            x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
            critical=False,
        )
    else:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("localhost"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                ]
            ),
            critical=False,
        )
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
            critical=False,
        )
    return builder.sign(issuer_key, hashes.SHA256())


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A throwaway CA and a server certificate for 127.0.0.1, as PEM files."""
    folder = tmp_path_factory.mktemp("pki")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _certificate("arso-data test CA", ca_key, "arso-data test CA", ca_key, ca=True)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _certificate("127.0.0.1", key, "arso-data test CA", ca_key, ca=False)
    paths = {
        "ca": folder / "ca.pem",
        "cert": folder / "server.pem",
        "key": folder / "server-key.pem",
    }
    paths["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths["cert"].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths["key"].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


@pytest.fixture
def tls_sandbox(pki: dict[str, Path]) -> Iterator[str]:
    """The sandbox's app served over HTTPS on 127.0.0.1; yields its base URL."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki["cert"], pki["key"])
    state = SandboxState()
    server = make_server(
        "127.0.0.1", 0, create_app(state), threaded=True, ssl_context=context
    )
    base = f"https://127.0.0.1:{server.server_port}"
    state.base_url = base
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    )
    thread.start()
    yield base
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def tls_client(base: str, environ: dict[str, str]) -> ArsoClient:
    settings = resolve_settings(
        env="sandbox",
        auth_url=base + "/auth",
        api_url=base + "/api/telemetrija/v1",
        dotenv_path=False,
        environ=environ,
    )
    return ArsoClient(settings)


def test_an_untrusted_certificate_fails_naming_the_ca_bundle_setting(
    tls_sandbox: str,
) -> None:
    with tls_client(tls_sandbox, {}) as client:
        with pytest.raises(TransportError) as info:
            client.login()
    message = str(info.value)
    assert "TLS" in message
    assert "ARSO_CA_BUNDLE" in message
    assert tls_sandbox in message


@pytest.mark.parametrize("variable", ["ARSO_CA_BUNDLE", "REQUESTS_CA_BUNDLE"])
def test_the_ca_bundle_makes_the_same_server_trusted(
    tls_sandbox: str, pki: dict[str, Path], variable: str
) -> None:
    with tls_client(tls_sandbox, {variable: str(pki["ca"])}) as client:
        assert client._http.verify == str(pki["ca"])
        client.login()
        rows = client.get_json("parametri")
    assert isinstance(rows, list)
    assert rows


# -- redirects: the token stays with the API host ------------------------------


@pytest.fixture
def other_server() -> Iterator[tuple[Sandbox, list[str]]]:
    """A second server (another port) that records the Authorization it gets."""
    seen: list[str] = []

    def record(request: flask.Request) -> tuple[int, dict[str, str], Any]:
        seen.append(request.headers.get("Authorization", "<none>"))
        return 200, JSON, [{"id": 1}]

    with Sandbox(port=0) as other:
        other.route("GET", "/seen", record, auth=False)
        yield other, seen


def redirect_to(sb: Sandbox, target: str) -> None:
    sb.route("GET", "/hop", lambda request: (302, {"Location": target}, ""))


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_a_redirect_to_another_origin_does_not_carry_the_token(
    sandbox: Sandbox,
    client: ArsoClient,
    other_server: tuple[Sandbox, list[str]],
    host: str,
) -> None:
    other, seen = other_server
    # same host name, another port; or another host name
    redirect_to(sandbox, f"http://{host}:{other.port}/api/telemetrija/v1/seen")

    rows = client.get_json("hop")

    assert rows == [{"id": 1}]
    assert seen == ["<none>"]


def test_a_redirect_within_the_api_host_keeps_the_token(
    sandbox: Sandbox, client: ArsoClient
) -> None:
    redirect_to(sandbox, f"{sandbox.api_url}/parametri")
    rows = client.get_json("hop")
    assert isinstance(rows, list)
    assert rows
    last = [r for r in sandbox.requests if r.kind == "api"][-1]
    assert last.path.endswith("/parametri")
    assert last.headers["Authorization"].startswith("Bearer ")
