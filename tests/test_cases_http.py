"""Cases from real-world failures of OAuth and HTTP clients (shared/cases).

Each test names its case. The sandbox serves the token endpoint and the API;
canned answers stand in for the exact bodies each case describes.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import os
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import flask
import pytest

from arso_data import (
    ArsoClient,
    AuthError,
    CredentialsError,
    NotLoggedInError,
    RateLimitError,
    resolve_settings,
)
from arso_data.sandbox import Sandbox

MakeClient = Callable[..., ArsoClient]
JSON = {"Content-Type": "application/json"}


def tok(name: str, **extra: Any) -> tuple[int, dict[str, str], bytes]:
    """TOK(X) of the cases: a Keycloak client-credentials answer, no refresh token."""
    body = {
        "access_token": f"tok{name}",
        "expires_in": 36000,
        "refresh_expires_in": 0,
        "token_type": "Bearer",
        "id_token": f"id{name}",
        "not-before-policy": 0,
        "scope": "openid profile email",
        **extra,
    }
    return 200, JSON, json.dumps(body).encode()


@pytest.fixture
def seen_auth(sandbox: Sandbox) -> list[str]:
    """A plain `/postaje` route that records the Authorization header it got."""
    seen: list[str] = []

    def postaje(request: flask.Request) -> tuple[int, dict[str, str], Any]:
        seen.append(request.headers.get("Authorization", ""))
        return 200, JSON, []

    sandbox.route("GET", "/postaje", postaje, auth=False)
    return seen


def token_bodies(sb: Sandbox) -> list[dict[str, list[str]]]:
    return [parse_qs(r.body.decode()) for r in sb.requests if r.kind == "token"]


def test_c01_expired_client_credentials_token_is_fetched_again(
    sandbox: Sandbox, make_client: MakeClient, seen_auth: list[str]
) -> None:
    now = [5_000_000.0]
    sandbox.faults.token_responses.extend([tok("A"), tok("B")])
    client = make_client(clock=lambda: now[0])

    client.login()
    now[0] += 1
    client.get_json("postaje")
    assert sandbox.stats.token_requests == 1
    now[0] += 36000
    df = client.frame("postaje")

    assert seen_auth == ["Bearer tokA", "Bearer tokB"]
    assert df.empty
    bodies = token_bodies(sandbox)
    assert len(bodies) == 2
    for body in bodies:
        assert body["grant_type"] == ["client_credentials"]
        assert body["client_id"] == [sandbox.client_id]
        assert body["client_secret"] == [sandbox.client_secret]


def test_c02_secret_with_reserved_characters_is_form_encoded_once(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "Ab+9/x=Q%z&k"
    sandbox.add_client("arso-analitik", secret)
    env_file = tmp_path / ".env"
    env_file.write_text(f"ARSO_CLIENT_ID=arso-analitik\nARSO_CLIENT_SECRET={secret}\n")
    monkeypatch.chdir(tmp_path)
    settings = resolve_settings(
        env="sandbox", auth_url=sandbox.auth_url, api_url=sandbox.api_url, environ={}
    )

    with ArsoClient(settings) as client:
        client.login()

    (request,) = [r for r in sandbox.requests if r.kind == "token"]
    assert request.headers["Content-Type"].startswith(
        "application/x-www-form-urlencoded"
    )
    assert "Authorization" not in request.headers
    assert parse_qs(request.body.decode()) == {
        "grant_type": ["client_credentials"],
        "client_id": ["arso-analitik"],
        "client_secret": [secret],
        "scope": ["openid"],
    }
    assert b"client_secret=Ab%2B9%2Fx%3DQ%25z%26k" in request.body


def test_c03_wider_granted_scope_does_not_abort_login(
    sandbox: Sandbox,
    make_client: MakeClient,
    seen_auth: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OAUTHLIB_RELAX_TOKEN_SCOPE", raising=False)
    sandbox.faults.token_responses.append(tok("A"))
    client = make_client()

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        client.login()
    client.get_json("postaje")

    assert sandbox.stats.token_requests == 1
    assert seen_auth == ["Bearer tokA"]
    assert "OAUTHLIB_RELAX_TOKEN_SCOPE" not in os.environ


C04_ANSWERS = {
    "a": (
        502,
        {"Content-Type": "text/html"},
        b"<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway"
        b"</h1><hr>nginx</body></html>",
    ),
    "b": (
        200,
        {"Content-Type": "text/html; charset=utf-8"},
        "<!DOCTYPE html><html><body><h1>Vzdrževalna dela</h1><p>Storitev ni na "
        "voljo.</p></body></html>".encode(),
    ),
    "c": (500, {"Content-Type": "text/plain"}, b"Internal Server Error"),
}


@pytest.mark.parametrize("run", ["a", "b", "c"])
def test_c04_non_json_token_answer_reports_status_and_body(
    sandbox: Sandbox, make_client: MakeClient, run: str
) -> None:
    status, headers, body = C04_ANSWERS[run]
    sandbox.faults.token_responses.extend([(status, headers, body)] * 5)
    client = make_client()

    with pytest.raises(AuthError) as info:
        client.login()

    message = str(info.value)
    assert str(status) in message
    assert headers["Content-Type"] in message
    assert info.value.body_start is not None
    assert len(info.value.body_start) <= 300
    if run == "b":
        assert "Vzdrževalna dela" in message
    posts = sandbox.stats.token_requests
    assert posts <= 3 if run == "a" else posts == 1

    with pytest.raises(NotLoggedInError):
        client.get_json("parametri")
    assert sandbox.stats.api_requests == 0


C05_ANSWERS = {
    "a": (401, "unauthorized_client", "Invalid client or Invalid client credentials"),
    "b": (400, "invalid_client", "Invalid client credentials"),
    "c": (400, "invalid_scope", "Invalid scopes: openid arso:pisanje"),
    "d": (400, "unsupported_grant_type", "Unsupported grant_type"),
}


@pytest.mark.parametrize("run", ["a", "b", "c", "d"])
def test_c05_keycloak_credential_errors_by_version(
    sandbox: Sandbox, make_client: MakeClient, run: str
) -> None:
    status, error, description = C05_ANSWERS[run]
    body = json.dumps({"error": error, "error_description": description}).encode()
    sandbox.faults.token_responses.append((status, JSON, body))
    client = make_client()

    with pytest.raises(AuthError) as info:
        client.login()

    exc = info.value
    assert exc.http_status == status
    assert exc.error == error
    assert sandbox.stats.token_requests == 1
    if run in "ab":
        assert isinstance(exc, CredentialsError)
        assert description in str(exc)
        assert "ARSO_CLIENT_ID" in str(exc)
        assert "ARSO_CLIENT_SECRET" in str(exc)
    elif run == "c":
        assert "invalid_scope" in str(exc)
        assert "'openid'" in str(exc)
    else:
        assert "unsupported_grant_type" in str(exc)


def test_c06_http_loopback_works_without_a_global_switch(
    client: ArsoClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OAUTHLIB_INSECURE_TRANSPORT", raising=False)
    client.login()
    assert isinstance(client.get_json("parametri"), list)
    assert "OAUTHLIB_INSECURE_TRANSPORT" not in os.environ


@pytest.fixture
def basic_debug_log() -> Iterator[io.StringIO]:
    """logging.basicConfig(level=DEBUG, force=True) as the case does; restored after."""
    root = logging.getLogger()
    saved = (root.level, root.handlers[:])
    buf = io.StringIO()
    logging.basicConfig(level=logging.DEBUG, stream=buf, force=True)
    try:
        yield buf
    finally:
        for handler in root.handlers:
            handler.close()
        root.handlers[:] = saved[1]
        root.setLevel(saved[0])


def test_c07_debug_logs_leak_no_secret(
    sandbox: Sandbox,
    make_client: MakeClient,
    seen_auth: list[str],
    basic_debug_log: io.StringIO,
) -> None:
    sandbox.add_client("arso-analitik", "TOP-SECRET-123")
    sandbox.faults.token_responses.append(
        tok("A", access_token="ACCESS-TOKEN-XYZ", id_token="ID-TOKEN-XYZ")
    )
    client = make_client(client_id="arso-analitik", client_secret="TOP-SECRET-123")

    client.login()
    client.get_json("postaje")

    text = basic_debug_log.getvalue()
    assert seen_auth == ["Bearer ACCESS-TOKEN-XYZ"]
    assert "token" in text  # DEBUG lines were written
    basic = base64.b64encode(b"arso-analitik:TOP-SECRET-123").decode()
    for secret in ("TOP-SECRET-123", "ACCESS-TOKEN-XYZ", "ID-TOKEN-XYZ", basic):
        assert secret not in text


@pytest.fixture
def slept(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Patched time.sleep: records the waits instead of waiting."""
    waits: list[float] = []
    monkeypatch.setattr(time, "sleep", waits.append)
    return waits


def bled() -> tuple[int, dict[str, str], bytes]:
    return 200, JSON, b'[{"postaja":"Bled","temp":"3,1"}]'


def too_many(retry_after: str | None) -> tuple[int, dict[str, str], bytes]:
    headers = dict(JSON)
    if retry_after is not None:
        headers["Retry-After"] = retry_after
    return 429, headers, b'{"error":"too_many_requests"}'


def test_c20_429_retry_after_seconds(
    sandbox: Sandbox, client: ArsoClient, slept: list[float]
) -> None:
    client.login()
    sandbox.faults.api_responses.extend([too_many("2"), bled()])

    df = client.frame("postaje")

    assert sandbox.stats.api_requests == 2
    assert 2 <= sum(slept) < 10
    assert sandbox.stats.token_requests == 1
    assert len(df) == 1
    assert df["temp"].iloc[0] == pytest.approx(3.1)


def test_c20_429_retry_after_http_date(
    sandbox: Sandbox,
    client: ArsoClient,
    slept: list[float],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client.login()
    sandbox.faults.api_responses.extend(
        [too_many("Thu, 03 Dec 2026 10:00:05 GMT"), bled()]
    )
    frozen = 1796292000.0  # 2026-12-03T10:00:00Z
    monkeypatch.setattr(time, "time", lambda: frozen)

    client.frame("postaje")

    assert sandbox.stats.api_requests == 2
    assert 5 <= sum(slept) <= 6


def test_c20_429_with_a_one_hour_wait_is_reported_not_slept(
    sandbox: Sandbox, client: ArsoClient, slept: list[float]
) -> None:
    client.login()
    sandbox.faults.api_responses.extend([too_many("3600")] * 5)

    with pytest.raises(RateLimitError) as info:
        client.frame("postaje")

    assert sandbox.stats.api_requests == 1
    assert all(s <= 60 for s in slept)
    assert info.value.retry_after == 3600
    assert "3600" in str(info.value)


def test_c20_429_without_retry_after_backs_off_a_bounded_number_of_times(
    sandbox: Sandbox, client: ArsoClient, slept: list[float]
) -> None:
    client.login()
    sandbox.faults.api_responses.extend([too_many(None)] * 10)

    with pytest.raises(RateLimitError):
        client.frame("postaje")

    assert sandbox.stats.api_requests <= 4
    assert len(slept) == sandbox.stats.api_requests - 1


def _envelope_route(sandbox: Sandbox, next_of: Callable[[int], int | None]) -> None:
    def page(request: flask.Request) -> tuple[int, dict[str, str], Any]:
        offset = int(request.args.get("offset", "0"))
        ids = [i for i in range(1, 11) if offset < i <= offset + 5]
        nxt = next_of(offset)
        link = f"{sandbox.api_url}/c21?offset={nxt}" if nxt is not None else None
        return 200, JSON, {"data": [{"id": i} for i in ids], "links": {"next": link}}

    sandbox.route("GET", "/c21", page)


def test_c21_next_link_on_the_last_page_stops_at_the_empty_page(
    sandbox: Sandbox, client: ArsoClient
) -> None:
    _envelope_route(sandbox, lambda offset: offset + 5)

    df = client.frame("c21")

    assert df["id"].tolist() == list(range(1, 11))
    assert sandbox.stats.api_requests == 3


def test_c21_next_link_pointing_at_itself_is_not_followed_twice(
    sandbox: Sandbox, client: ArsoClient, caplog: pytest.LogCaptureFixture
) -> None:
    _envelope_route(sandbox, lambda offset: 5)

    with caplog.at_level(logging.WARNING, logger="arso_data"):
        df = client.frame("c21")

    assert df["id"].tolist() == list(range(1, 11))
    assert sandbox.stats.api_requests <= 3
    warnings_ = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings_) == 1
    assert f"{sandbox.api_url}/c21?offset=5" in warnings_[0].getMessage()
