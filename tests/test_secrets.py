"""Secrets, proven: no secret or token in logs, reprs, errors, tracebacks, CLI.

One run does what a user does (log in, paged pulls, a refused login, failing
API calls, the command line) with every logger at DEBUG, keeping everything
that could show a secret; then every kept text is searched for the secret, its
HTTP Basic form and every access and ID token issued.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import flask
import pandas as pd
import pytest

import arso_data
import arso_data.auth
from arso_data import ArsoClient, ArsoError, resolve_settings
from arso_data._redact import mask_url
from arso_data.cli import main
from arso_data.sandbox import Sandbox
from arso_data.settings import ConfigError, check_url

MakeClient = Callable[..., ArsoClient]
JSON = {"Content-Type": "application/json"}
CLIENT_ID = "arso-analitik"
SECRET = "TOP-SECRET-123+/="
WRONG = "WRONG-SECRET-456"
LOGGERS = ["", "urllib3", "requests", "requests_oauthlib", "oauthlib", "arso_data"]
DAY = {"merilno_mesto": "0012", "od": "2024-10-27", "do": "2024-10-28", "size": 20}


@pytest.fixture
def debug_text() -> Iterator[io.StringIO]:
    """Every logger at DEBUG, formatted (with exception text) into one buffer."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    old = {name: logging.getLogger(name).level for name in LOGGERS}
    logging.getLogger().addHandler(handler)
    for name in LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG)
    yield buffer
    logging.getLogger().removeHandler(handler)
    for name, level in old.items():
        logging.getLogger(name).setLevel(level)


def chain_text(exc: BaseException) -> str:
    """str, repr and the formatted traceback of an error and all its causes."""
    parts = ["".join(traceback.format_exception(exc))]
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        parts += [str(current), repr(current), json.dumps(vars(current), default=str)]
        current = current.__cause__ or current.__context__
    return "\n".join(parts)


def echo_route(sb: Sandbox) -> None:
    """`/echo`: a broken API that answers 500 with the request's headers."""

    def echo(request: flask.Request) -> tuple[int, dict[str, str], Any]:
        return 500, JSON, {"error": "boom", "headers": dict(request.headers)}

    sb.route("GET", "/echo", echo)


@pytest.fixture
def issued(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every access and ID token the library receives in this test."""
    tokens: list[str] = []
    real = arso_data.auth.TokenProvider._to_token

    def keep(self: Any, raw: dict[str, Any], started: float) -> Any:
        tokens.extend(str(raw.get(name) or "") for name in ("access_token", "id_token"))
        return real(self, raw, started)

    monkeypatch.setattr(arso_data.auth.TokenProvider, "_to_token", keep)
    return tokens


def secrets_of(sb: Sandbox, tokens: list[str]) -> list[str]:
    """The secrets, their HTTP Basic forms and every token issued."""
    values = [SECRET, WRONG, *tokens]
    pairs = [(CLIENT_ID, SECRET), (CLIENT_ID, WRONG), (sb.client_id, sb.client_secret)]
    for client_id, secret in pairs:
        values.append(base64.b64encode(f"{client_id}:{secret}".encode()).decode())
    return [v for v in values if v]


def assert_clean(text: str, secrets: list[str], where: str) -> None:
    for secret in secrets:
        assert secret not in text, f"a secret leaked into {where}"
    # every access and ID token is a JWT; none may show, whichever was issued
    assert "eyJ" not in text, f"a token-shaped value leaked into {where}"


def test_no_secret_anywhere_after_a_full_run(
    sandbox: Sandbox,
    make_client: MakeClient,
    debug_text: io.StringIO,
    issued: list[str],
) -> None:
    sandbox.add_client(CLIENT_ID, SECRET)
    echo_route(sandbox)
    client = make_client(client_id=CLIENT_ID, client_secret=SECRET, workers=2)
    errors: list[BaseException] = []

    token = client.login()
    spring = client.frame("meritve", DAY)
    linked = client.frame("meritve", {**DAY, "paging": "link"})
    cursor = client.frame("meritve", {**DAY, "paging": "cursor"})
    assert len(spring) == len(linked) == len(cursor) > 20

    # a refused login, and an identity server that echoes the form back
    wrong = make_client(client_id=CLIENT_ID, client_secret=WRONG)
    with pytest.raises(arso_data.CredentialsError) as refused:
        wrong.login()
    errors.append(refused.value)
    echoing = make_client(client_id=CLIENT_ID, client_secret=SECRET)
    sandbox.faults.token_responses.append(
        (400, {"Content-Type": "text/plain"}, f"bad form: client_secret={SECRET}")
    )
    with pytest.raises(arso_data.AuthError) as echoed:
        echoing.login()
    errors.append(echoed.value)

    # failing API calls: a server echoing the Authorization header, a 401
    # twice, a URL with credentials in its query, a page failing mid-pull
    with pytest.raises(arso_data.ServerError) as boom:
        client.get_json("echo")
    errors.append(boom.value)
    sandbox.faults.api_responses.extend([(401, JSON, b'{"error":"invalid_token"}')] * 2)
    with pytest.raises(arso_data.AuthError) as twice:
        client.get_json("parametri")
    errors.append(twice.value)
    with pytest.raises(arso_data.NotFoundError) as missing:
        client.get_json("ni-tega", {"token": SECRET, "api_key": "KEY-789"})
    errors.append(missing.value)
    sandbox.faults.server_error_status = 502
    sandbox.faults.server_errors = 50
    with pytest.raises(arso_data.ArsoError) as paged:
        client.frame("meritve", DAY)
    errors.append(paged.value)
    sandbox.faults.server_errors = 0

    secrets = secrets_of(sandbox, issued)
    assert token.access_token in secrets
    assert len(issued) == 2 * 2  # the login and the new token after a 401
    assert "KEY-789" not in str(missing.value)
    assert "api_key=[secure]" in (missing.value.url or "")
    assert_clean(debug_text.getvalue(), secrets, "the DEBUG log")
    assert "DEBUG" in debug_text.getvalue()
    for error in errors:
        assert isinstance(error, ArsoError)
        assert_clean(chain_text(error), secrets, f"{type(error).__name__}")
    public = [client, wrong, client.settings, token, client._tokens, client.status()]
    for thing in public:
        assert_clean(repr(thing) + str(thing), secrets, f"repr of {type(thing)}")
    assert_clean(client._repr_html_(), secrets, "the client's HTML view")
    for frame in (spring, linked, cursor):
        assert_clean(json.dumps(frame.attrs, default=str), secrets, "DataFrame.attrs")


def test_the_command_line_shows_no_secret(
    sandbox: Sandbox,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    issued: list[str],
) -> None:
    sandbox.add_client(CLIENT_ID, SECRET)
    monkeypatch.chdir(tmp_path)
    for name, value in {
        "ARSO_ENV": "sandbox",
        "ARSO_AUTH_URL": sandbox.auth_url,
        "ARSO_API_URL": sandbox.api_url,
        "ARSO_CLIENT_ID": CLIENT_ID,
        "ARSO_CLIENT_SECRET": SECRET,
    }.items():
        monkeypatch.setenv(name, value)

    codes = [
        main(["-vv", "token"]),
        main(["-vv", "get", "meritve", "-p", "merilno_mesto=0012", "-p", "size=50"]),
        main(["-vv", "get", "ni-tega"]),
    ]
    monkeypatch.setenv("ARSO_CLIENT_SECRET", WRONG)
    codes.append(main(["-vv", "token"]))

    out = capsys.readouterr()
    assert codes == [0, 0, 4, 3]
    text = out.out + out.err
    assert CLIENT_ID in text
    assert len(issued) == 2 * 3
    assert_clean(text, secrets_of(sandbox, issued), "the command line's output")


def test_secrets_in_query_strings_are_masked_in_errors() -> None:
    url = "https://api.example/x?token=abc123&api_key=k-1&page=2&client_secret=s3"
    masked = mask_url(url)
    for value in ("abc123", "k-1", "s3"):
        assert value not in masked
    assert "page=2" in masked


@pytest.mark.parametrize(
    "url",
    [
        "http://prijava.arso.gov.si/auth",
        "http://10.0.0.5/auth",
        "http://127.0.0.1.nip.io/auth",
        "ftp://prijava.arso.gov.si/auth",
    ],
)
def test_plain_http_is_refused_except_for_loopback(url: str) -> None:
    with pytest.raises(ConfigError, match="ARSO_AUTH_URL"):
        check_url(url, "ARSO_AUTH_URL")
    with pytest.raises(ConfigError):
        resolve_settings(env="custom", auth_url=url, dotenv_path=False, environ={})


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8765/auth", "http://localhost/auth", "http://[::1]:1/a"]
)
def test_plain_http_to_loopback_is_accepted(url: str) -> None:
    assert check_url(url, "ARSO_AUTH_URL") == url


def test_tls_verification_is_on_by_default(make_client: MakeClient) -> None:
    client = make_client()
    assert client.settings.verify is True
    assert client._http.verify is True


@pytest.mark.parametrize("variable", ["ARSO_CA_BUNDLE", "REQUESTS_CA_BUNDLE"])
def test_a_ca_bundle_is_used_for_verification(variable: str, tmp_path: Path) -> None:
    bundle = tmp_path / "corporate-ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    settings = resolve_settings(
        env="custom",
        auth_url="https://prijava.example/auth",
        api_url="https://api.example/v1",
        dotenv_path=False,
        environ={variable: str(bundle)},
    )
    with ArsoClient(settings) as client:
        assert settings.verify == str(bundle)
        assert client._http.verify == str(bundle)


def test_a_dataframe_from_a_pull_carries_no_secret_in_attrs(
    sandbox: Sandbox, client: ArsoClient
) -> None:
    df = client.frame("parametri", {"token": "QUERY-TOKEN-1"})
    assert isinstance(df, pd.DataFrame)
    text = json.dumps(df.attrs, default=str)
    assert client.settings.client_id is not None
    assert sandbox.client_secret not in text
