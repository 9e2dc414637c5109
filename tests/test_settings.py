"""Settings: precedence, environments, URLs, and the .env file."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from arso_data import ConfigError, resolve_settings
from arso_data.settings import read_dotenv

# C09: a .env as saved by Windows Notepad: BOM, CRLF, '#' and '=' inside the
# secret, `export`, an empty value followed by a comment, a quoted value.
C09_BYTES = (
    b"\xef\xbb\xbfARSO_CLIENT_ID=arso-analitik\r\n"
    b"ARSO_CLIENT_SECRET=Xy7#kL9=pQ+2/w%3D\r\n"
    b"# ARSO dostop\r\n"
    b'export ARSO_BASE_URL="https://api.arso.example"   # produkcija\r\n'
    b"ARSO_PROXY= # ni v uporabi\r\n"
    b"ARSO_NOTE='Ljubljana \xe2\x80\x94 Be\xc5\xbeigrad'\r\n"
)


def test_defaults_to_the_test_identity_server() -> None:
    s = resolve_settings(dotenv_path=False, environ={})
    assert s.env == "test"
    assert s.token_url == (
        "https://prijava-test.arso.gov.si/auth"
        "/realms/arso/protocol/openid-connect/token"
    )
    assert s.api_url is None


def test_prod_uses_the_prod_identity_server() -> None:
    s = resolve_settings(env="prod", dotenv_path=False, environ={})
    assert s.auth_url == "https://prijava.arso.gov.si/auth"
    assert s.issuer == "https://prijava.arso.gov.si/auth/realms/arso"


def test_sandbox_has_local_urls_and_the_demo_client() -> None:
    s = resolve_settings(env="sandbox", dotenv_path=False, environ={})
    assert s.auth_url == "http://127.0.0.1:8765/auth"
    assert s.api_url == "http://127.0.0.1:8765/api/telemetrija/v1"
    assert s.client_id == "API_TEL_2632632000"
    assert s.sources["client_id"] == "default"


def test_argument_beats_environment_beats_dotenv(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "ARSO_CLIENT_ID=from-dotenv\nARSO_CLIENT_SECRET=dotenv-secret\n"
        "ARSO_API_URL=https://dotenv.example/api\n"
    )
    environ = {"ARSO_CLIENT_ID": "from-env", "ARSO_API_URL": "https://env.example/api"}

    s = resolve_settings(
        api_url="https://arg.example/api", dotenv_path=env_file, environ=environ
    )

    assert s.api_url == "https://arg.example/api"
    assert s.client_id == "from-env"
    assert s.client_secret is not None
    assert s.client_secret.reveal() == "dotenv-secret"
    assert s.sources == {
        "api_url": "argument",
        "client_id": "environment",
        "client_secret": ".env",
        "auth_url": "default",
    }


def test_dotenv_is_found_from_the_working_folder_upwards(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text("ARSO_CLIENT_ID=API_TEL_1\n")
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    monkeypatch.chdir(nested)
    s = resolve_settings(environ={})
    assert s.client_id == "API_TEL_1"
    assert s.dotenv_path == tmp_path / ".env"


def test_missing_credentials_name_the_variable() -> None:
    s = resolve_settings(dotenv_path=False, environ={})
    with pytest.raises(ConfigError, match="ARSO_CLIENT_ID") as info:
        s.require_credentials()
    assert "IS Monitoring" in str(info.value)
    s = resolve_settings(client_id="API_TEL_1", dotenv_path=False, environ={})
    with pytest.raises(ConfigError, match="ARSO_CLIENT_SECRET"):
        s.require_credentials()


def test_missing_api_url_says_how_to_set_it() -> None:
    s = resolve_settings(dotenv_path=False, environ={})
    with pytest.raises(ConfigError, match="ARSO_API_URL") as info:
        s.require_api_url()
    assert info.value.variable == "ARSO_API_URL"


def test_unknown_environment_is_refused() -> None:
    with pytest.raises(ConfigError, match="ARSO_ENV"):
        resolve_settings(env="staging", dotenv_path=False, environ={})


def test_secret_never_shows_in_settings_repr() -> None:
    s = resolve_settings(
        client_id="API_TEL_1",
        client_secret="hush-123456",
        dotenv_path=False,
        environ={},
    )
    assert "hush-123456" not in repr(s)
    assert "hush-123456" not in str(s.client_secret)
    assert "hush-123456" not in f"{s.client_secret}"


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:9/auth", "http://localhost:9/auth", "http://[::1]:9/auth"],
)
def test_plain_http_is_accepted_for_loopback(url: str) -> None:
    s = resolve_settings(env="custom", auth_url=url, dotenv_path=False, environ={})
    assert s.auth_url == url


def test_c06_plain_http_elsewhere_is_refused_before_any_network_io(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("network I/O attempted")

    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.delenv("OAUTHLIB_INSECURE_TRANSPORT", raising=False)

    with pytest.raises(ConfigError, match="https") as info:
        resolve_settings(
            env="custom", auth_url="http://arso.invalid", dotenv_path=False, environ={}
        )
    assert info.value.variable == "ARSO_AUTH_URL"
    with pytest.raises(ConfigError, match="https"):
        resolve_settings(
            api_url="http://arso.invalid/api", dotenv_path=False, environ={}
        )


def test_c09_notepad_dotenv_is_read_exactly(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_bytes(C09_BYTES)

    raw = read_dotenv(path)
    s = resolve_settings(
        env="custom",
        auth_url="https://prijava-test.arso.gov.si/auth",
        api_url=raw["ARSO_BASE_URL"],
        dotenv_path=path,
        environ={},
    )

    assert "\ufeffARSO_CLIENT_ID" not in raw
    assert s.client_id == "arso-analitik"
    assert s.client_secret is not None
    assert s.client_secret.reveal() == "Xy7#kL9=pQ+2/w%3D"
    assert s.api_url == "https://api.arso.example"
    assert s.proxy is None
    assert s.proxies is None
    assert raw["ARSO_NOTE"] == "Ljubljana — Bežigrad"


@pytest.mark.parametrize(
    "content",
    [
        "ARSO_CLIENT_ID=x\nthis line has no equals sign\n",
        'ARSO_CLIENT_SECRET="unterminated\nARSO_CLIENT_ID=x\n',
    ],
)
def test_malformed_dotenv_names_the_line_not_the_value(
    tmp_path: Path, content: str
) -> None:
    path = tmp_path / ".env"
    path.write_text(content)
    with pytest.raises(ConfigError, match=r"line \d") as info:
        resolve_settings(dotenv_path=path, environ={})
    assert "unterminated" not in str(info.value)


def test_dotenv_that_is_not_utf8_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_bytes(b"ARSO_CLIENT_ID=\xff\xfe\n")
    with pytest.raises(ConfigError, match="UTF-8"):
        resolve_settings(dotenv_path=path, environ={})


def test_ca_bundle_falls_back_to_requests_convention() -> None:
    s = resolve_settings(
        dotenv_path=False, environ={"REQUESTS_CA_BUNDLE": "/etc/ssl/corp.pem"}
    )
    assert s.verify == "/etc/ssl/corp.pem"
    s = resolve_settings(
        dotenv_path=False,
        environ={"REQUESTS_CA_BUNDLE": "/a.pem", "ARSO_CA_BUNDLE": "/b.pem"},
    )
    assert s.verify == "/b.pem"


def test_test_or_prod_with_another_identity_server_is_labelled_custom() -> None:
    s = resolve_settings(
        env="prod", auth_url="http://127.0.0.1:9/auth", dotenv_path=False, environ={}
    )
    assert s.env == "custom"
    s = resolve_settings(
        env="prod",
        auth_url="https://prijava.arso.gov.si/auth/",
        dotenv_path=False,
        environ={},
    )
    assert s.env == "prod"


def test_redaction_keeps_the_text_around_an_empty_value() -> None:
    from arso_data._redact import redact

    text = "set ARSO_CLIENT_SECRET (argument client_secret=, the environment)"
    assert redact(text) == text
    assert "abc123" not in redact("body grant_type=x&client_secret=abc123&scope=o")
