"""The login panel, driven through its widgets: set values, click, read."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("ipywidgets")

from arso_data._session import Session  # noqa: E402
from arso_data.sandbox import Sandbox  # noqa: E402
from arso_data.settings import read_dotenv  # noqa: E402
from arso_data.widgets import (  # noqa: E402
    LoginPanel,
    ensure_gitignored,
    remember_credentials,
)

C08_ID = "arso-analitik"
C08_SECRET = "S3cr3t+Č-demo"
JSON = {"Content-Type": "application/json"}


def tok(name: str) -> tuple[int, dict[str, str], bytes]:
    body = {
        "access_token": f"tok{name}-abcdefgh",
        "expires_in": 36000,
        "refresh_expires_in": 0,
        "token_type": "Bearer",
        "not-before-policy": 0,
        "scope": "openid profile email",
    }
    return 200, JSON, json.dumps(body).encode()


C05_A = (
    401,
    JSON,
    b'{"error":"unauthorized_client",'
    b'"error_description":"Invalid client or Invalid client credentials"}',
)


@pytest.fixture(autouse=True)
def _no_arso_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Tests start from no ARSO_* settings and a folder without a .env."""
    for name in list(os.environ):
        if name.startswith("ARSO_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def session(sandbox: Sandbox) -> Iterator[Session]:
    """A notebook session with the test's sandbox running in it."""
    sandbox.add_client(C08_ID, C08_SECRET)
    session = Session()
    session.sandbox = sandbox
    yield session
    session.set_client(None)


def widget_tree(widget: Any) -> Iterator[Any]:
    yield widget
    for child in getattr(widget, "children", ()):
        yield from widget_tree(child)


def saved_state(panel: LoginPanel) -> str:
    """Everything the widget manager would save for the panel, as text."""
    states = [w.get_state() for w in widget_tree(panel)]
    return json.dumps(states, default=str, ensure_ascii=False)


def fill(panel: LoginPanel, client_id: str, secret: str) -> None:
    panel.client_id.value = client_id
    panel.secret.value = secret


@pytest.mark.parametrize("run", ["token", "refused"])
def test_c08_password_not_in_widget_state(
    session: Session, sandbox: Sandbox, run: str
) -> None:
    sandbox.faults.token_responses.append(tok("A") if run == "token" else C05_A)
    panel = LoginPanel("sandbox", session=session)
    fill(panel, C08_ID, C08_SECRET)

    panel.connect.click()

    assert panel.secret.value == ""
    for text in (saved_state(panel), repr(panel), str(panel._repr_mimebundle_())):
        assert C08_SECRET not in text
        assert "tokA-abcdefgh" not in text
    if run == "refused":
        assert "ARSO_CLIENT_ID" in panel.status.value
        assert "Invalid client or Invalid client credentials" in panel.status.value
        assert panel.client_id.value == C08_ID
        assert "Traceback" not in panel.status.value
    else:
        assert "SANDBOX" in panel.status.value
        assert C08_ID in panel.status.value


def test_connect_shows_environment_client_and_expiry(session: Session) -> None:
    panel = LoginPanel("sandbox", session=session)
    fill(panel, C08_ID, C08_SECRET)

    panel.connect.click()

    assert "Connected to SANDBOX as arso-analitik" in panel.status.value
    assert "valid until" in panel.status.value
    assert session.client().token is not None
    assert session.client().settings.client_secret.reveal() == C08_SECRET
    assert "SANDBOX" in panel.badge.value


def test_wrong_secret_shows_the_connectors_message(session: Session) -> None:
    panel = LoginPanel("sandbox", session=session)
    fill(panel, C08_ID, "wrong-secret")

    panel.connect.click()

    status = panel.status.value
    assert "Error" in status
    assert "ARSO_CLIENT_SECRET" in status
    assert "IS Monitoring" in status
    assert "wrong-secret" not in status
    assert not session.has_client


def test_wrong_secret_in_slovenian(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARSO_LANG", "sl")
    panel = LoginPanel("sandbox", session=session)
    fill(panel, C08_ID, "wrong-secret")

    panel.connect.click()

    assert panel.connect.description == "Poveži"
    assert "Prijava zavrnjena" in panel.status.value
    assert "Telemetrija – API poverilnice" in panel.status.value
    assert "MON_TELEMETRIJA" in panel.status.value


def test_unreachable_server_is_one_message(
    monkeypatch: pytest.MonkeyPatch, notebook_session: Session
) -> None:
    monkeypatch.setenv("ARSO_AUTH_URL", "http://127.0.0.1:9/auth")
    panel = LoginPanel("test", session=Session())
    fill(panel, "API_TEL_1", "some-secret-value")

    panel.connect.click()

    assert "Could not reach" in panel.status.value
    assert "some-secret-value" not in saved_state(panel)


def test_known_credentials_connect_with_one_click(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARSO_CLIENT_ID", sandbox.client_id)
    monkeypatch.setenv("ARSO_CLIENT_SECRET", sandbox.client_secret)
    monkeypatch.setenv("ARSO_AUTH_URL", sandbox.auth_url)
    monkeypatch.setenv("ARSO_API_URL", sandbox.api_url)
    session = Session()
    panel = LoginPanel("test", session=session)

    assert "found in the environment" in panel.status.value
    assert panel.client_id.value == sandbox.client_id
    assert panel.secret.value == ""
    assert sandbox.client_secret not in saved_state(panel)

    panel.connect.click()

    # The identity server is not ARSO's test server, so it is not called TEST.
    assert "Connected to CUSTOM" in panel.status.value
    session.set_client(None)


def test_known_credentials_from_dotenv_are_named(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text(
        f"ARSO_CLIENT_ID={sandbox.client_id}\n"
        f"ARSO_CLIENT_SECRET={sandbox.client_secret}\n"
        f"ARSO_AUTH_URL={sandbox.auth_url}\n"
    )
    panel = LoginPanel("test", session=Session())

    assert "found in the .env file" in panel.status.value
    assert sandbox.client_secret not in saved_state(panel)


def test_remember_writes_private_dotenv_and_gitignore(
    session: Session, tmp_path: Path
) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".env").write_text("OTHER=keep me\nARSO_CLIENT_ID=old\n")
    panel = LoginPanel("sandbox", session=session)
    fill(panel, C08_ID, C08_SECRET)
    panel.remember.value = True

    panel.connect.click()

    dotenv = tmp_path / ".env"
    assert stat.S_IMODE(dotenv.stat().st_mode) == 0o600
    values = read_dotenv(dotenv)
    assert values == {
        "OTHER": "keep me",
        "ARSO_CLIENT_ID": C08_ID,
        "ARSO_CLIENT_SECRET": C08_SECRET,
    }
    assert ".env" in (tmp_path / ".gitignore").read_text().splitlines()
    assert C08_SECRET not in saved_state(panel)
    assert "saved to" in panel.status.value


@pytest.mark.parametrize("secret", ["a'b\\c#d e=f\"g", "plain", "  spaced  "])
def test_remembered_secret_reads_back_exactly(tmp_path: Path, secret: str) -> None:
    path = remember_credentials(tmp_path / ".env", {"ARSO_CLIENT_SECRET": secret})

    assert read_dotenv(path)["ARSO_CLIENT_SECRET"] == secret


def test_gitignore_only_inside_a_repository(tmp_path: Path) -> None:
    outside = tmp_path / "plain"
    outside.mkdir()
    assert ensure_gitignored(outside / ".env") is None
    assert not (outside / ".gitignore").exists()

    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / ".gitignore").write_text("*.pyc")
    assert ensure_gitignored(repo / ".env") == repo / ".gitignore"
    assert ensure_gitignored(repo / ".env") is None
    assert (repo / ".gitignore").read_text() == "*.pyc\n.env\n"


def test_logout_forgets_the_token(session: Session) -> None:
    panel = LoginPanel("sandbox", session=session)
    fill(panel, C08_ID, C08_SECRET)
    panel.connect.click()

    panel.logout.click()

    assert session.client().token is None
    assert "Logged out" in panel.status.value


def test_sandbox_is_offered_only_when_running_or_requested() -> None:
    values = [value for _label, value in LoginPanel(session=Session()).env.options]
    assert values == ["test", "prod"]

    requested = LoginPanel("sandbox", session=Session())
    assert requested.env.value == "sandbox"


def test_missing_secret_is_asked_for(session: Session) -> None:
    panel = LoginPanel("test", session=session)
    fill(panel, "API_TEL_123", "")

    panel.connect.click()

    assert "Enter the secret for API_TEL_123" in panel.status.value


def test_remember_writes_to_the_dotenv_in_use(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Settings found proj/.env from proj/nb; "remember" must update that file
    # rather than create nb/.env, which would shadow it.
    (tmp_path / ".env").write_text("OTHER=keep me\n")
    notebook_folder = tmp_path / "nb"
    notebook_folder.mkdir()
    monkeypatch.chdir(notebook_folder)

    panel = LoginPanel("test", session=session)

    assert panel._dotenv_in_use() == tmp_path / ".env"


def test_sandbox_chosen_in_a_dotenv_is_offered_and_preselected(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text(
        f"ARSO_ENV=sandbox\nARSO_AUTH_URL={sandbox.auth_url}\n"
        f"ARSO_API_URL={sandbox.api_url}\n"
    )
    monkeypatch.chdir(tmp_path)

    panel = LoginPanel(session=Session())

    assert "sandbox" in [value for _label, value in panel.env.options]
    assert panel.env.value == "sandbox"
