"""The fault matrix: one row per fault, with exactly what the user gets.

Each row names a fault of the identity server, the network or the data API
(made with the sandbox's switches), the error class and the words the user
reads, and how many token POSTs and API GETs it took. ``docs/reliability.md``
has the same table; ``tests/test_reliability_doc.py`` keeps the two in step
through the row ids.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pytest

import arso_data.retry
from arso_data import (
    ArsoClient,
    ArsoError,
    AuthError,
    CredentialsError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RequestTimeoutError,
    ResponseError,
    ServerError,
    TransportError,
    resolve_settings,
)
from arso_data.sandbox import Sandbox

JSON = {"Content-Type": "application/json"}
NGINX_502 = (
    "<html><head><title>502 Bad Gateway</title></head><body>"
    "<center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center>"
    "</body></html>"
)
#: A fast retry policy: the default budget (4 attempts), short waits.
FAST = arso_data.RetryPolicy(backoff=0.01, jitter=0.0, backoff_max=0.05)


@dataclass(frozen=True)
class Fault:
    """One row: the fault, then what the user sees."""

    #: "token": the fault is on the token request (no login before);
    #: "api": the client logs in first, then the fault is switched on.
    phase: str
    setup: Callable[[Sandbox], None]
    error: type[ArsoError] | None
    words: tuple[str, ...]
    token_posts: int
    gets: int
    attrs: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    timeout: float | tuple[float, float] = (5.0, 5.0)


def canned_token(
    status: int, body: Any, headers: dict[str, str] | None = None
) -> Callable[[Sandbox], None]:
    def setup(sb: Sandbox) -> None:
        sb.faults.token_responses.extend([(status, headers or JSON, body)] * 5)

    return setup


def switch(**values: Any) -> Callable[[Sandbox], None]:
    def setup(sb: Sandbox) -> None:
        for name, value in values.items():
            if name == "revoke_all":
                sb.faults.revoke_all()
            else:
                setattr(sb.faults, name, value)

    return setup


def canned_api(*answers: tuple[int, dict[str, str], Any]) -> Callable[[Sandbox], None]:
    def setup(sb: Sandbox) -> None:
        sb.faults.api_responses.extend(answers)

    return setup


def nothing(sb: Sandbox) -> None:
    return None


def closed_port() -> int:
    """A loopback port with nothing listening (connection refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def server_errors(status: int, count: int) -> Callable[[Sandbox], None]:
    return switch(server_errors=count, server_error_status=status, retry_after=1)


WORKS = ()

FAULTS = [
    # -- the identity server ------------------------------------------------
    pytest.param(
        Fault(
            "token",
            canned_token(
                400, b'{"error":"invalid_request","error_description":"Missing grant"}'
            ),
            AuthError,
            ("HTTP 400", "invalid_request", "Missing grant"),
            token_posts=1,
            gets=0,
        ),
        id="token-400",
    ),
    pytest.param(
        Fault(
            "token",
            nothing,
            CredentialsError,
            ("HTTP 401", "invalid_client", "ARSO_CLIENT_SECRET", "IS Monitoring"),
            token_posts=1,
            gets=0,
            settings={"client_secret": "not-the-secret"},
        ),
        id="token-401",
    ),
    pytest.param(
        Fault(
            "token",
            canned_token(500, b"Internal Server Error", {"Content-Type": "text/plain"}),
            AuthError,
            ("identity server failed", "HTTP 500", "Internal Server Error"),
            token_posts=1,
            gets=0,
        ),
        id="token-500",
    ),
    pytest.param(
        Fault(
            "token",
            canned_token(502, NGINX_502, {"Content-Type": "text/html"}),
            AuthError,
            ("identity server failed", "HTTP 502", "text/html", "502 Bad Gateway"),
            token_posts=3,
            gets=0,
        ),
        id="token-502-html",
    ),
    pytest.param(
        Fault(
            "token",
            switch(latency=0.6),
            RequestTimeoutError,
            ("POST", "openid-connect/token", "within 0.3/0.3 s"),
            token_posts=1,
            gets=0,
            timeout=(0.3, 0.3),
        ),
        id="token-timeout",
    ),
    pytest.param(
        Fault(
            "token",
            nothing,
            TransportError,
            ("Could not reach", "openid-connect/token", "ARSO_PROXY"),
            token_posts=0,
            gets=0,
            settings={"auth_url": "closed"},
        ),
        id="token-refused",
    ),
    # -- the data API: authentication and permission ------------------------
    pytest.param(
        Fault("api", switch(revoke_all=True), None, WORKS, token_posts=2, gets=2),
        id="api-401-expired-token",
    ),
    pytest.param(
        Fault(
            "api",
            canned_api(*[(401, JSON, b'{"error":"invalid_token"}')] * 2),
            AuthError,
            ("HTTP 401", "refused a freshly fetched token", "roles"),
            token_posts=2,
            gets=2,
        ),
        id="api-401-twice",
    ),
    pytest.param(
        Fault(
            "api",
            switch(forbidden=True),
            PermissionDeniedError,
            ("HTTP 403", "permission denied", "MON_TELEMETRIJA"),
            token_posts=1,
            gets=1,
            attrs={"status": 403},
        ),
        id="api-403",
    ),
    pytest.param(
        Fault(
            "api",
            canned_api((404, JSON, b'{"error":"not_found"}')),
            NotFoundError,
            ("HTTP 404", "no such path"),
            token_posts=1,
            gets=1,
            attrs={"status": 404},
        ),
        id="api-404",
    ),
    # -- the data API: rate limits -----------------------------------------
    pytest.param(
        Fault("api", switch(rate_limit=1), None, WORKS, token_posts=1, gets=2),
        id="api-429-then-ok",
    ),
    pytest.param(
        Fault(
            "api",
            switch(rate_limit=10, retry_after=2),
            RateLimitError,
            ("HTTP 429", "too many requests", "wait 2 s"),
            token_posts=1,
            gets=4,
            attrs={"retry_after": 2.0, "status": 429},
        ),
        id="api-429-beyond-budget",
    ),
    pytest.param(
        Fault(
            "api",
            switch(rate_limit=10, retry_after=3600),
            RateLimitError,
            ("HTTP 429", "wait 3600 s"),
            token_posts=1,
            gets=1,
            attrs={"retry_after": 3600.0},
        ),
        id="api-429-beyond-cap",
    ),
    # -- the data API: server errors ----------------------------------------
    pytest.param(
        Fault("api", server_errors(500, 1), None, WORKS, token_posts=1, gets=2),
        id="api-500-then-ok",
    ),
    pytest.param(
        Fault("api", server_errors(502, 1), None, WORKS, token_posts=1, gets=2),
        id="api-502-then-ok",
    ),
    pytest.param(
        Fault("api", server_errors(503, 2), None, WORKS, token_posts=1, gets=3),
        id="api-503-then-ok",
    ),
    pytest.param(
        Fault("api", server_errors(504, 3), None, WORKS, token_posts=1, gets=4),
        id="api-504-then-ok",
    ),
    pytest.param(
        Fault(
            "api",
            server_errors(500, 10),
            ServerError,
            ("HTTP 500", "after 4 attempts", "Try again later"),
            token_posts=1,
            gets=4,
        ),
        id="api-500-persistent",
    ),
    pytest.param(
        Fault(
            "api",
            server_errors(502, 10),
            ServerError,
            ("HTTP 502", "after 4 attempts"),
            token_posts=1,
            gets=4,
        ),
        id="api-502-persistent",
    ),
    pytest.param(
        Fault(
            "api",
            server_errors(503, 10),
            ServerError,
            ("HTTP 503", "after 4 attempts"),
            token_posts=1,
            gets=4,
        ),
        id="api-503-persistent",
    ),
    pytest.param(
        Fault(
            "api",
            server_errors(504, 10),
            ServerError,
            ("HTTP 504", "after 4 attempts"),
            token_posts=1,
            gets=4,
        ),
        id="api-504-persistent",
    ),
    # -- the data API: the network --------------------------------------------
    pytest.param(
        Fault(
            "api",
            switch(latency=0.6),
            RequestTimeoutError,
            ("GET", "/parametri", "within 0.3/0.3 s"),
            token_posts=1,
            gets=4,
            timeout=(0.3, 0.3),
        ),
        id="api-timeout",
    ),
    pytest.param(
        Fault(
            "api",
            nothing,
            TransportError,
            ("Could not reach", "/parametri"),
            token_posts=1,
            gets=0,
            settings={"api_url": "closed"},
        ),
        id="api-refused",
    ),
    # -- the data API: a 200 with a bad body ----------------------------------
    pytest.param(
        Fault(
            "api",
            switch(broken_body=1, broken_body_kind="html"),
            ResponseError,
            ("Expected JSON", "text/html", "looks like HTML"),
            token_posts=1,
            gets=1,
            attrs={"status": 200},
        ),
        id="body-html",
    ),
    pytest.param(
        Fault(
            "api",
            switch(broken_body=1, broken_body_kind="truncated"),
            ResponseError,
            ("Expected JSON", "truncated"),
            token_posts=1,
            gets=1,
        ),
        id="body-truncated",
    ),
    pytest.param(
        Fault(
            "api",
            switch(broken_body=1, broken_body_kind="empty"),
            ResponseError,
            ("Expected JSON", "the body is empty"),
            token_posts=1,
            gets=1,
        ),
        id="body-empty",
    ),
    pytest.param(
        Fault(
            "api",
            switch(broken_body=1, broken_body_kind="invalid_utf8"),
            ResponseError,
            ("Expected JSON", "not valid UTF-8", "position"),
            token_posts=1,
            gets=1,
        ),
        id="body-invalid-utf8",
    ),
    pytest.param(
        Fault(
            "api",
            switch(broken_body=1, broken_body_kind="gzip"),
            None,
            WORKS,
            token_posts=1,
            gets=1,
        ),
        id="body-gzip",
    ),
    pytest.param(
        Fault(
            "api",
            switch(broken_body=1, broken_body_kind="bom"),
            None,
            WORKS,
            token_posts=1,
            gets=1,
        ),
        id="body-bom",
    ),
    pytest.param(
        Fault(
            "api",
            switch(broken_body=1, broken_body_kind="wrong_content_type"),
            None,
            WORKS,
            token_posts=1,
            gets=1,
        ),
        id="body-wrong-content-type",
    ),
]


class _RecordedSleep:
    """Stands in for the ``time`` module inside arso_data.retry: no real waits."""

    def __init__(self) -> None:
        self.waits: list[float] = []
        self.monotonic = time.monotonic

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def retry_waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The waits the API retry policy asked for (none is really slept)."""
    fake = _RecordedSleep()
    monkeypatch.setattr(arso_data.retry, "time", fake)
    return fake.waits


def build_client(sb: Sandbox, fault: Fault) -> ArsoClient:
    urls = {"auth_url": sb.auth_url, "api_url": sb.api_url}
    for name in ("auth_url", "api_url"):
        if fault.settings.get(name) == "closed":
            urls[name] = f"http://127.0.0.1:{closed_port()}/x"
    settings = resolve_settings(
        env="sandbox",
        client_id=sb.client_id,
        client_secret=fault.settings.get("client_secret", sb.client_secret),
        dotenv_path=False,
        environ={},
        **urls,
    )
    return ArsoClient(settings, retry=FAST, timeout=fault.timeout, workers=1)


@pytest.mark.parametrize("fault", FAULTS)
def test_fault(sandbox: Sandbox, fault: Fault, retry_waits: list[float]) -> None:
    client = build_client(sandbox, fault)
    try:
        if fault.phase == "api":
            client.login()
        fault.setup(sandbox)

        if fault.error is None:
            df = client.frame("parametri")
            assert isinstance(df, pd.DataFrame)
            assert len(df) > 0
            assert "sifra" in df.columns or len(df.columns) > 1
        else:
            with pytest.raises(ArsoError) as info:
                client.frame("parametri")
            error = info.value
            assert type(error) is fault.error, repr(error)
            message = str(error)
            for words in fault.words:
                assert words in message, (words, message)
            for name, value in fault.attrs.items():
                assert getattr(error, name) == value, name
    finally:
        client.close()
        sandbox.faults.latency = 0.0

    assert sandbox.stats.token_requests == fault.token_posts
    assert sandbox.stats.api_requests == fault.gets
    assert all(wait <= FAST.retry_after_cap for wait in retry_waits)
