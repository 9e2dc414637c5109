"""The client-credentials token against the sandbox's Keycloak-like endpoint."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from urllib.parse import parse_qs

import pytest

from arso_data import (
    ArsoClient,
    AuthError,
    CredentialsError,
    NotLoggedInError,
    RequestTimeoutError,
    TransportError,
)
from arso_data.sandbox import Sandbox

MakeClient = Callable[..., ArsoClient]


def token_requests(sb: Sandbox) -> list[object]:
    return [r for r in sb.requests if r.kind == "token"]


def test_token_request_is_exactly_the_source_documents(
    sandbox: Sandbox, client: ArsoClient
) -> None:
    client.login()

    (request,) = token_requests(sandbox)
    assert request.method == "POST"
    assert request.path == "/auth/realms/arso/protocol/openid-connect/token"
    assert request.headers["Content-Type"].startswith(
        "application/x-www-form-urlencoded"
    )
    assert "Authorization" not in request.headers
    assert parse_qs(request.body.decode()) == {
        "grant_type": ["client_credentials"],
        "client_id": [sandbox.client_id],
        "client_secret": [sandbox.client_secret],
        "scope": ["openid"],
    }


def test_token_lifetime_comes_from_expires_in(client: ArsoClient) -> None:
    before = time.time()
    token = client.login()
    assert token.token_type == "Bearer"
    assert 36000 - 5 <= token.expires_at - before <= 36000 + 5
    assert "openid" in token.scope.split()


def test_token_is_reused_while_valid(sandbox: Sandbox, client: ArsoClient) -> None:
    for _ in range(5):
        client.get_json("parametri")
    assert sandbox.stats.token_requests == 1
    assert sandbox.stats.api_requests == 5


def test_token_is_renewed_shortly_before_it_expires(
    sandbox: Sandbox, make_client: MakeClient
) -> None:
    now = [1_000_000.0]
    sandbox.faults.token_lifetime = 600
    client = make_client(clock=lambda: now[0])
    client.get_json("parametri")

    now[0] += 600 - 61  # more than the margin (60 s) left: reused
    client.get_json("parametri")
    assert sandbox.stats.token_requests == 1

    now[0] += 2  # within the margin: a new token first
    client.get_json("parametri")
    assert sandbox.stats.token_requests == 2


def test_expired_token_is_replaced_once(sandbox: Sandbox, client: ArsoClient) -> None:
    client.get_json("parametri")
    sandbox.faults.revoke_all()  # the server no longer accepts the token

    assert isinstance(client.get_json("parametri"), list)
    assert sandbox.stats.token_requests == 2
    statuses = [r.status for r in sandbox.requests if r.kind == "api"]
    assert statuses == [200, 401, 200]


def test_api_refusing_a_fresh_token_too_is_an_auth_error(
    sandbox: Sandbox, client: ArsoClient
) -> None:
    client.login()
    refusal = (401, {"WWW-Authenticate": 'Bearer error="invalid_token"'}, b"{}")
    sandbox.faults.api_responses.extend([refusal, refusal])

    with pytest.raises(AuthError, match="401"):
        client.get_json("parametri")
    assert sandbox.stats.token_requests == 2


def test_wrong_secret_says_where_credentials_are_managed(
    sandbox: Sandbox, make_client: MakeClient
) -> None:
    sandbox.add_client("API_TEL_1", "right-secret")
    client = make_client(client_id="API_TEL_1", client_secret="wrong-secret")

    with pytest.raises(CredentialsError) as info:
        client.login()

    message = str(info.value)
    assert info.value.status == 401
    assert "invalid_client" in message
    assert "ARSO_CLIENT_SECRET" in message
    assert "IS Monitoring" in message
    assert "Telemetrija – API poverilnice" in message
    assert "MON_TELEMETRIJA" in message
    assert "wrong-secret" not in message
    assert "wrong-secret" not in repr(info.value)


def test_a_failed_login_leaves_the_client_logged_out(
    sandbox: Sandbox, client: ArsoClient
) -> None:
    sandbox.faults.token_responses.append(
        (500, {"Content-Type": "text/plain"}, b"boom")
    )
    with pytest.raises(AuthError):
        client.login()

    with pytest.raises(NotLoggedInError, match="login"):
        client.get_json("parametri")
    assert sandbox.stats.api_requests == 0

    client.login()
    assert isinstance(client.get_json("parametri"), list)


def test_logout_stops_data_calls_until_login(
    sandbox: Sandbox, client: ArsoClient
) -> None:
    client.get_json("parametri")
    client.logout()
    with pytest.raises(NotLoggedInError):
        client.get_json("parametri")
    client.login()
    client.get_json("parametri")


def test_many_threads_share_one_token_request(
    sandbox: Sandbox, client: ArsoClient
) -> None:
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def work() -> None:
        try:
            barrier.wait()
            for _ in range(50):
                client.get_json("parametri")
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert sandbox.stats.token_requests == 1
    assert sandbox.stats.api_requests == 400


def test_plain_http_to_loopback_leaves_no_global_switch(
    client: ArsoClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OAUTHLIB_INSECURE_TRANSPORT", raising=False)
    client.login()
    client.get_json("parametri")
    assert "OAUTHLIB_INSECURE_TRANSPORT" not in os.environ


def test_unreachable_identity_server_is_a_transport_error() -> None:
    from arso_data import resolve_settings

    with Sandbox(port=0) as sb:
        url = sb.url
    settings = resolve_settings(env="sandbox", dotenv_path=False, environ={})
    with ArsoClient(settings.with_sandbox(url)) as client:
        with pytest.raises(TransportError, match="Could not reach"):
            client.login()


def test_slow_identity_server_is_a_timeout_naming_the_limit(
    sandbox: Sandbox, make_client: MakeClient
) -> None:
    sandbox.faults.latency = 1.0
    client = make_client(timeout=(1.0, 0.2))
    with pytest.raises(RequestTimeoutError) as info:
        client.login()
    assert "0.2" in str(info.value)
    assert "/token" in str(info.value)


def test_debug_logging_leaks_neither_secret_nor_token(
    sandbox: Sandbox, client: ArsoClient, debug_log: list[logging.LogRecord]
) -> None:
    token = client.login()
    client.get_json("parametri")
    client.frame("merilna-mesta")

    text = "\n".join(r.getMessage() for r in debug_log)
    assert "openid-connect/token" in text  # the library lines are there
    assert sandbox.client_secret not in text
    assert token.access_token not in text
    assert token.id_token
    assert token.id_token not in text


def test_reprs_show_no_secret(client: ArsoClient) -> None:
    token = client.login()
    for shown in (repr(client), str(client), repr(token), repr(client.settings)):
        assert client.settings.client_secret
        assert client.settings.client_secret.reveal() not in shown
        assert token.access_token not in shown
    assert client.settings.client_id in repr(client)
