"""arso-data against an independent authorization server: oidc-provider.

``tests/interop/oidc-server.mjs`` runs oidc-provider (a certified OpenID
Connect server for Node.js, pinned in ``tests/interop/package-lock.json``) on
127.0.0.1 with a Keycloak-like issuer path and a protected resource that
validates its JWT access tokens. If arso-data only worked against its own
sandbox, these tests would show it.

Without Node.js (or without ``npm ci`` in tests/interop) they are skipped,
except in CI (``CI`` set), where they must run.
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from arso_data import ArsoClient, CredentialsError, RetryPolicy, resolve_settings
from arso_data.auth import AuthMethod
from arso_data.claims import read_claims, verify_claims

pytestmark = pytest.mark.interop

INTEROP = Path(__file__).parent / "interop"
SECRET = "interop-secret-not-for-use-elsewhere"  # noqa: S105 (a test server's)
CLIENT_ID = "API_TEL_1000000001"
TOKEN_TTL_S = 2
START_TIMEOUT_S = 20.0
FAST_RETRY = RetryPolicy(backoff=0.01, jitter=0.0, backoff_max=0.05)


@dataclass(frozen=True)
class OidcServer:
    """A running oidc-provider: where it is and its test clients."""

    url: str
    issuer: str
    api_url: str
    token_ttl: int
    client_id: str
    started_in: float

    @property
    def auth_url(self) -> str:
        """The identity server base, as ARSO_AUTH_URL would name it."""
        return self.url + "/auth"

    def stats(self) -> dict[str, int]:
        """The server's counters: tokens issued, resource requests, refusals."""
        answer: dict[str, int] = requests.get(
            self.url + "/interop/stats", timeout=5
        ).json()
        return answer


@pytest.fixture(scope="module")
def oidc_server(
    tmp_path_factory: pytest.TempPathFactory,
    require_tool: Callable[[str, str], str],
    unavailable: Callable[[str], None],
) -> Iterator[OidcServer]:
    """oidc-provider on a free loopback port, stopped after the module."""
    node = require_tool("node", "the oidc-provider interop tests run on Node.js")
    if not (INTEROP / "node_modules" / "oidc-provider").is_dir():
        unavailable("oidc-provider is not installed: run `npm ci` in tests/interop")
    log = tmp_path_factory.mktemp("oidc") / "stderr.log"
    env = {
        **os.environ,
        "OIDC_PORT": "0",
        "OIDC_TOKEN_TTL": str(TOKEN_TTL_S),
        "OIDC_CLIENT_SECRET": SECRET,
        "OIDC_CLIENT_ID": CLIENT_ID,
        "OIDC_EXIT_WITH_STDIN": "1",
    }
    started = time.perf_counter()
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [node, "oidc-server.mjs"],
            cwd=INTEROP,
            env=env,
            stdin=subprocess.PIPE,  # closed when pytest ends, however it ends
            stdout=subprocess.PIPE,
            stderr=stderr,
        )
    try:
        info = _first_line(process, log)
        _wait_for_discovery(info["issuer"], process, log)
        yield OidcServer(
            url=info["url"],
            issuer=info["issuer"],
            api_url=info["api_url"],
            token_ttl=int(info["token_ttl"]),
            client_id=info["client_id"],
            started_in=time.perf_counter() - started,
        )
    finally:
        _stop(process)


def _first_line(process: subprocess.Popen[bytes], log: Path) -> dict[str, Any]:
    """The JSON line the server prints once it listens."""
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout=START_TIMEOUT_S):
            pytest.fail(f"oidc-provider did not start: {log.read_text()[-2000:]}")
    line = process.stdout.readline()
    if not line:
        pytest.fail(f"oidc-provider exited: {log.read_text()[-2000:]}")
    info: dict[str, Any] = json.loads(line)
    return info


def _wait_for_discovery(
    issuer: str, process: subprocess.Popen[bytes], log: Path
) -> None:
    url = issuer + "/.well-known/openid-configuration"
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.05)
    pytest.fail(f"oidc-provider's discovery never answered: {log.read_text()[-2000:]}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    assert process.stdin is not None
    process.stdin.close()
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)
    if process.stdout is not None:
        process.stdout.close()


class FakeClock:
    """A clock the test moves forward instead of sleeping."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def connect(oidc_server: OidcServer) -> Iterator[Any]:
    """Build ArsoClients pointed at oidc-provider through the custom URL settings."""
    clients: list[ArsoClient] = []

    def make(
        client_id: str = CLIENT_ID,
        client_secret: str = SECRET,
        **kwargs: Any,
    ) -> ArsoClient:
        settings = resolve_settings(
            env="custom",
            auth_url=oidc_server.auth_url,
            api_url=oidc_server.api_url,
            client_id=client_id,
            client_secret=client_secret,
            dotenv_path=False,
            environ={},
        )
        client = ArsoClient(settings, retry=FAST_RETRY, **kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def test_discovery_names_the_endpoints_arso_data_derives(
    oidc_server: OidcServer,
) -> None:
    settings = resolve_settings(
        env="custom", auth_url=oidc_server.auth_url, dotenv_path=False, environ={}
    )
    document = requests.get(settings.well_known_url, timeout=5).json()

    assert document["issuer"] == settings.issuer == oidc_server.issuer
    assert document["token_endpoint"] == settings.token_url
    assert "client_credentials" in document["grant_types_supported"]


@pytest.mark.parametrize(
    ("auth_method", "counter"),
    [
        ("client_secret_post", "token_requests_form"),
        ("client_secret_basic", "token_requests_basic"),
    ],
)
def test_token_is_issued_for_each_client_auth_method(
    connect: Any, oidc_server: OidcServer, auth_method: AuthMethod, counter: str
) -> None:
    client = connect(auth_method=auth_method)
    before = oidc_server.stats()

    token = client.login()

    after = oidc_server.stats()
    assert after[counter] == before[counter] + 1
    assert after["tokens_issued"] == before["tokens_issued"] + 1
    assert token.token_type == "Bearer"
    assert token.lifetime == pytest.approx(oidc_server.token_ttl)
    assert read_claims(token.access_token).client_id == CLIENT_ID


def test_form_body_is_the_default_client_auth(
    connect: Any, oidc_server: OidcServer
) -> None:
    client = connect()
    before = oidc_server.stats()

    client.login()

    after = oidc_server.stats()
    assert after["token_requests_form"] == before["token_requests_form"] + 1
    assert after["token_requests_basic"] == before["token_requests_basic"]


def test_bearer_token_is_accepted_by_the_protected_resource(
    connect: Any, oidc_server: OidcServer
) -> None:
    client = connect()
    before = oidc_server.stats()

    answer = client.get_json("whoami")

    assert answer[0]["client_id"] == CLIENT_ID
    after = oidc_server.stats()
    assert after["resource_requests"] == before["resource_requests"] + 1
    assert after["resource_refusals"] == before["resource_refusals"]


def test_protected_resource_refuses_a_tampered_token(
    connect: Any, oidc_server: OidcServer
) -> None:
    # Without this the acceptance above would prove nothing.
    token = connect().login().access_token
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")

    answer = requests.get(
        oidc_server.api_url + "/whoami",
        headers={"Authorization": f"Bearer {tampered}"},
        timeout=5,
    )

    assert answer.status_code == 401
    assert "invalid_token" in answer.headers["WWW-Authenticate"]


def test_token_is_renewed_by_the_server_after_its_short_lifetime(
    connect: Any, oidc_server: OidcServer
) -> None:
    clock = FakeClock()
    client = connect(clock=clock)
    first = client.get_json("whoami")[0]
    issued = oidc_server.stats()["tokens_issued"]

    clock.advance(oidc_server.token_ttl + 1)
    second = client.get_json("whoami")[0]

    assert client.token_requests == 2
    assert oidc_server.stats()["tokens_issued"] == issued + 1
    assert second["jti"] != first["jti"]
    assert second["exp"] >= first["exp"]


def test_token_still_valid_is_reused(connect: Any, oidc_server: OidcServer) -> None:
    clock = FakeClock()
    client = connect(clock=clock)
    client.get_json("whoami")
    issued = oidc_server.stats()["tokens_issued"]

    client.get_json("whoami")

    assert client.token_requests == 1
    assert oidc_server.stats()["tokens_issued"] == issued


def test_wrong_secret_is_a_credentials_error_worded_by_the_server(
    connect: Any,
) -> None:
    wrong = "not-the-secret-at-all"
    client = connect(client_secret=wrong)

    with pytest.raises(CredentialsError) as caught:
        client.login()

    error = caught.value
    assert error.status == 401
    assert error.error == "invalid_client"
    # oidc-provider's own wording, carried into our message.
    assert error.error_description == "client authentication failed"
    assert "client authentication failed" in str(error)
    assert wrong not in str(error) + repr(error.__dict__)


def test_claims_of_its_token_verify_against_its_published_keys(
    connect: Any, oidc_server: OidcServer
) -> None:
    client = connect()
    token = client.login()

    claims = verify_claims(token.access_token, client.settings)

    assert claims.verified
    assert claims.issuer == oidc_server.issuer
    assert claims.client_id == CLIENT_ID
    assert claims.scope == "openid"
    assert claims.expires is not None
    assert claims.expires.timestamp() == pytest.approx(token.expires_at, abs=2)
