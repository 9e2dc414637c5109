"""``%load_ext arso``, ``%arso`` and ``%%arso`` through a real IPython shell."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

pytest.importorskip("IPython")

from IPython.core.error import UsageError  # noqa: E402

from arso_data import magics  # noqa: E402
from arso_data._session import Session  # noqa: E402
from arso_data.client import ArsoClient  # noqa: E402
from arso_data.sandbox import Sandbox  # noqa: E402

Shell = Any


def owned_callbacks(shell: Shell) -> dict[str, int]:
    """Per event, how many callbacks belong to arso-data."""
    return {
        event: sum(
            1
            for cb in callbacks
            if (getattr(cb, "__module__", "") or "").startswith(("arso", "arso_data"))
            or type(cb).__module__.startswith("arso")
        )
        for event, callbacks in shell.events.callbacks.items()
    }


def run(shell: Shell, cell: str) -> Any:
    """Run a cell; return its result, raising the error it failed with."""
    result = shell.run_cell(cell)
    result.raise_error()
    return result.result


@pytest.fixture
def loaded(ipython: Shell) -> Shell:
    run(ipython, "%load_ext arso")
    return ipython


@pytest.fixture
def with_sandbox(loaded: Shell) -> Shell:
    run(loaded, "%arso sandbox start")
    return loaded


def test_c23_reload_ext_registers_once(
    ipython: Shell, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    run(ipython, "%load_ext arso")
    first = capsys.readouterr()
    after_first = owned_callbacks(ipython)
    run(ipython, "%load_ext arso")
    second = capsys.readouterr()
    for _ in range(3):
        run(ipython, "%reload_ext arso")
    calls: list[object] = []
    original = magics.COMMANDS["status"]
    monkeypatch.setitem(
        magics.COMMANDS,
        "status",
        lambda m, argv: calls.append(argv) or original(m, argv),
    )
    run(ipython, "%arso status")
    after_reloads = owned_callbacks(ipython)
    run(ipython, "%unload_ext arso")

    assert "not an IPython extension" not in first.out + first.err
    assert "already loaded" in second.out + second.err
    assert max(after_first.values()) == 1
    assert after_reloads == after_first
    assert len(calls) == 1
    assert "arso" not in ipython.magics_manager.magics["line"]
    assert "arso" not in ipython.magics_manager.magics["cell"]
    assert sum(owned_callbacks(ipython).values()) == 0


def test_import_loads_no_notebook_stack() -> None:
    code = textwrap.dedent(
        """
        import sys
        import arso, arso_data
        heavy = {"IPython", "ipywidgets", "ipykernel"} & set(sys.modules)
        assert not heavy, heavy
        assert callable(arso_data.login)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr


def test_sandbox_start_get_export(with_sandbox: Shell, tmp_path: Path) -> None:
    shell = with_sandbox
    shell.user_ns["point"] = "0012"
    csv = tmp_path / "report.csv"

    frame = run(
        shell, "%arso get meritve merilno_mesto=$point od=2024-10-01 do=2024-10-03 -o m"
    )
    run(shell, f"%arso export m {csv} --dialect plain")

    assert isinstance(frame, pd.DataFrame)
    assert len(frame) > 0
    assert shell.user_ns["m"] is frame
    assert frame.attrs["env"] == "sandbox"
    assert set(frame["merilno_mesto"].astype(str)) == {"0012"}
    assert csv.read_text(encoding="utf-8-sig").count("\n") == len(frame) + 1


def test_cell_magic_takes_one_parameter_per_line(with_sandbox: Shell) -> None:
    shell = with_sandbox
    shell.user_ns["point"] = "0012"

    frame = run(
        shell,
        "%%arso -o m2 --max-pages 1\nmeritve\n# a comment\nmerilno_mesto = {point}\n"
        "od: 2024-10-01\ndo = 2024-10-02\n",
    )

    assert shell.user_ns["m2"] is frame
    assert frame.attrs["params"] == {
        "merilno_mesto": "0012",
        "od": "2024-10-01",
        "do": "2024-10-02",
    }


def test_status_shows_environment_and_no_secret(with_sandbox: Shell) -> None:
    run(with_sandbox, "%arso get merilna-mesta")
    status = run(with_sandbox, "%arso status")

    text, html = repr(status), status._repr_html_()
    assert "SANDBOX" in text
    assert "SANDBOX" in html
    assert "valid until" in text
    client = magics.SESSION.client()
    secret = client.settings.client_secret.reveal()
    token = client.token.access_token
    for shown in (text, html, repr(client), client._repr_html_()):
        assert secret not in shown
        assert token not in shown
        assert "http://" not in html.split("<table")[0]  # nothing fetched


def test_error_fails_the_cell_with_one_line(
    with_sandbox: Shell, capsys: pytest.CaptureFixture[str]
) -> None:
    result = with_sandbox.run_cell("%arso get no-such-path")

    assert not result.success
    assert isinstance(result.error_in_exec, UsageError)
    err = capsys.readouterr().err
    assert "HTTP 404" in err
    assert "Traceback" not in err


def test_wrong_secret_names_the_variables_not_the_secret(
    loaded: Shell, notebook_session: Session, make_client: Any
) -> None:
    notebook_session.set_client(make_client("API_TEL_2632632000", "definitely-wrong"))

    with pytest.raises(UsageError) as caught:
        loaded.run_line_magic("arso", "get merilna-mesta")

    message = str(caught.value)
    assert "ARSO_CLIENT_SECRET" in message
    assert "IS Monitoring" in message
    assert "definitely-wrong" not in message


def test_errors_in_slovenian(
    loaded: Shell,
    notebook_session: Session,
    make_client: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ARSO_LANG", "sl")
    notebook_session.set_client(make_client("API_TEL_2632632000", "definitely-wrong"))

    with pytest.raises(UsageError) as caught:
        loaded.run_line_magic("arso", "get merilna-mesta")

    message = str(caught.value)
    assert "Prijava zavrnjena" in message
    assert "Telemetrija – API poverilnice" in message
    assert "MON_TELEMETRIJA" in message


@pytest.mark.parametrize("command", [*magics.COMMANDS, ""])
def test_every_subcommand_has_help(
    loaded: Shell, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert loaded.run_line_magic("arso", f"{command} --help".strip()) is None
    out = capsys.readouterr().out
    assert ("usage: %arso " + command) in out if command else "Subcommands" in out


def test_usage_mistakes_are_usage_errors(loaded: Shell) -> None:
    for line in ("bogus", "get", "get meritve noequals", "export missing x.csv"):
        with pytest.raises(UsageError):
            loaded.run_line_magic("arso", line)


def test_login_magic_returns_the_panel(with_sandbox: Shell) -> None:
    panel = run(with_sandbox, "%arso login")

    assert panel.env.value == "sandbox"
    assert panel.client_id.value


def test_logout_then_get_fails_until_login(with_sandbox: Shell) -> None:
    run(with_sandbox, "%arso get merilna-mesta")
    run(with_sandbox, "%arso logout")

    with pytest.raises(UsageError, match="(?i)not logged in|logged out"):
        with_sandbox.run_line_magic("arso", "get merilna-mesta")


def test_sandbox_stop_and_status(
    with_sandbox: Shell, capsys: pytest.CaptureFixture[str]
) -> None:
    run(with_sandbox, "%arso sandbox status")
    run(with_sandbox, "%arso sandbox stop")
    run(with_sandbox, "%arso sandbox status")

    out = capsys.readouterr().out
    assert "running at http://127.0.0.1:" in out
    assert "Sandbox stopped." in out
    assert "No sandbox running." in out
    assert magics.SESSION.sandbox is None


def test_doctor_passes_against_the_sandbox(
    with_sandbox: Shell, capsys: pytest.CaptureFixture[str]
) -> None:
    run(with_sandbox, "%arso doctor")

    out = capsys.readouterr().out
    for name in ("settings", "dns", "discovery", "token", "issuer", "clock", "api"):
        assert f" {name} " in out
    assert "FAIL" not in out


def test_doctor_failure_fails_the_cell(
    loaded: Shell, notebook_session: Session, sandbox: Sandbox
) -> None:
    notebook_session.set_client(
        ArsoClient(
            env="sandbox",
            auth_url=sandbox.url + "/wrong",
            api_url=sandbox.api_url,
            dotenv_path=False,
        )
    )

    with pytest.raises(UsageError, match="doctor: .*discovery"):
        loaded.run_line_magic("arso", "doctor")


def test_secret_typed_into_a_cell_is_pointed_out(
    loaded: Shell,
    notebook_session: Session,
    sandbox: Sandbox,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sandbox.add_client("API_TEL_77", "pasted-secret-123")
    notebook_session.set_client(
        ArsoClient(
            env="custom",
            auth_url=sandbox.auth_url,
            api_url=sandbox.api_url,
            client_id="API_TEL_77",
            client_secret="pasted-secret-123",
            dotenv_path=False,
        )
    )

    run(loaded, "x = 'pasted-secret-123'")

    assert "contains your client secret" in capsys.readouterr().err
    loaded.user_ns.pop("x", None)


def test_export_to_a_missing_folder_is_one_usage_error(
    with_sandbox: Shell, tmp_path: Path
) -> None:
    run(with_sandbox, "%arso get parametri -o p")
    with pytest.raises(UsageError, match="does not exist"):
        run(with_sandbox, f"%arso export p {tmp_path / 'missing' / 'p.csv'}")


def test_cell_form_expands_variables_on_every_line(with_sandbox: Shell) -> None:
    with_sandbox.user_ns["point"] = "0012"
    cell = "meritve\nmerilno_mesto = $point\nod = 2024-10-01\ndo = {'2024-10-02'}\n"

    frame = with_sandbox.run_cell_magic("arso", "-o mm", cell)

    assert set(frame["merilno_mesto"].astype(str)) == {"0012"}
    assert frame["cas"].min().strftime("%Y-%m-%d") == "2024-10-01"
    assert frame["cas"].max() < pd.Timestamp("2024-10-02", tz="Europe/Ljubljana")


def test_line_magic_ignores_a_trailing_comment(with_sandbox: Shell) -> None:
    frame = run(with_sandbox, "%arso get parametri -o p   # the parameters")
    assert len(frame) > 0


def test_max_pages_must_be_positive(with_sandbox: Shell) -> None:
    with pytest.raises(UsageError, match="1 or more"):
        run(with_sandbox, "%arso get parametri --max-pages 0")


def test_endpoints_lists_the_operations(with_sandbox: Shell) -> None:
    frame = run(with_sandbox, "%arso endpoints -o ops")
    assert {"method", "path", "summary"} <= set(frame.columns)
    assert "/meritve" in set(frame["path"])
    assert with_sandbox.user_ns["ops"] is frame
