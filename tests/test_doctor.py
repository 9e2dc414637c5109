"""``arso-data doctor``: one line per check, against the sandbox."""

from __future__ import annotations

import pytest

from arso_data import resolve_settings
from arso_data.cli import main
from arso_data.doctor import failed, format_report, run_checks
from arso_data.sandbox import Sandbox

NAMES = ["settings", "dns", "tls", "discovery", "token", "issuer", "clock", "api"]


def test_every_check_passes_against_the_sandbox(sandbox: Sandbox) -> None:
    settings = resolve_settings(
        env="sandbox", dotenv_path=False, environ={}
    ).with_sandbox(sandbox.url)

    checks = run_checks(settings)

    assert [c.name for c in checks] == NAMES
    assert not failed(checks), format_report(checks)
    assert sandbox.client_secret not in format_report(checks)


def test_wrong_auth_prefix_is_named(sandbox: Sandbox) -> None:
    settings = resolve_settings(
        env="custom",
        auth_url=sandbox.url,  # without the /auth prefix
        api_url=sandbox.api_url,
        client_id=sandbox.client_id,
        client_secret=sandbox.client_secret,
        dotenv_path=False,
        environ={},
    )

    checks = {c.name: c for c in run_checks(settings)}

    assert checks["discovery"].verdict == "fail"
    assert f"set ARSO_AUTH_URL={sandbox.auth_url}" in checks["discovery"].detail


def test_wrong_secret_fails_the_token_check(sandbox: Sandbox) -> None:
    settings = resolve_settings(
        env="sandbox",
        client_id=sandbox.client_id,
        client_secret="not-the-secret",
        dotenv_path=False,
        environ={},
    ).with_sandbox(sandbox.url)

    checks = {c.name: c for c in run_checks(settings)}

    assert checks["token"].verdict == "fail"
    assert "ARSO_CLIENT_SECRET" in checks["token"].detail
    assert "not-the-secret" not in format_report(list(checks.values()))


def test_cli_doctor_exit_codes(
    sandbox: Sandbox,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("ARSO_CLIENT_ID", "ARSO_CLIENT_SECRET", "ARSO_ENV"):
        monkeypatch.delenv(name, raising=False)
    args = ["doctor", "--env", "sandbox", "--auth-url", sandbox.auth_url]
    assert main([*args, "--api-url", sandbox.api_url]) == 0
    out = capsys.readouterr().out
    assert all(f"] {name}" in out for name in NAMES)

    assert main(["doctor", "--env", "sandbox", "--auth-url", sandbox.url + "/x"]) == 1
    assert "[FAIL] discovery" in capsys.readouterr().out
