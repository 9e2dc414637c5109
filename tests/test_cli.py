"""The arso-data command line, run in-process against the sandbox."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from arso_data import read_csv_report
from arso_data.cli import main
from arso_data.sandbox import Sandbox


def sandbox_args(sb: Sandbox) -> list[str]:
    return ["--env", "sandbox", "--auth-url", sb.auth_url, "--api-url", sb.api_url]


@pytest.fixture(autouse=True)
def _no_ambient_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("ARSO_ENV", "ARSO_CLIENT_ID", "ARSO_CLIENT_SECRET", "ARSO_API_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def test_token_shows_environment_and_expiry_but_not_the_token(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["token", *sandbox_args(sandbox)]) == 0
    out = capsys.readouterr().out
    assert "SANDBOX" in out
    assert sandbox.client_id in out
    assert "valid until" in out
    assert sandbox.client_secret not in out
    assert "eyJ" not in out


def test_token_is_printed_only_when_asked(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["token", "--show-token", *sandbox_args(sandbox)]) == 0
    assert "eyJ" in capsys.readouterr().out


def test_wrong_secret_exits_3_with_the_hint_and_no_secret(
    sandbox: Sandbox,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ARSO_CLIENT_SECRET", "not-the-secret-42")
    code = main(["token", "--client-id", sandbox.client_id, *sandbox_args(sandbox)])
    captured = capsys.readouterr()
    assert code == 3
    assert "IS Monitoring" in captured.err
    assert "not-the-secret-42" not in captured.err + captured.out


def test_missing_api_url_exits_2_naming_the_variable(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["get", "meritve", "--env", "test", "--client-id", "API_TEL_1"])
    assert code == 2
    assert "ARSO_API_URL" in capsys.readouterr().err


def test_get_writes_a_csv_report(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "mesta.csv"
    code = main(["get", "merilna-mesta", "--csv", str(out), *sandbox_args(sandbox)])
    assert code == 0
    df = read_csv_report(out)
    assert len(df) > 0
    assert f"{len(df)} rows written" in capsys.readouterr().out


def test_get_prints_a_table(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["get", "parametri", *sandbox_args(sandbox)])
    assert code == 0
    assert "NOX" in capsys.readouterr().out


def test_bad_param_syntax_is_a_usage_error(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["get", "meritve", "-p", "no-equals", *sandbox_args(sandbox)])
    assert code == 2
    assert "KEY=VALUE" in capsys.readouterr().err


def test_demo_writes_a_report_that_matches_its_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out

    found = re.search(r"CSV report: (.+)", out)
    assert found
    path = Path(found.group(1).strip())
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    df = read_csv_report(path)
    rows = int(re.search(r"rows: (\d+)", out).group(1))  # type: ignore[union-attr]
    assert len(df) == rows > 31 * 48  # a month of half-hours, several parameters
    params = re.search(r"parameters \((\d+)\)", out)
    assert params
    assert int(params.group(1)) == df["parameter"].nunique() > 1
    assert df["cas"].min() >= pd.Timestamp("2024-10-01", tz="Europe/Ljubljana")
    assert "invalid values:" in out


def test_console_script_is_installed() -> None:
    exe = shutil.which("arso-data") or str(Path(sys.executable).parent / "arso-data")
    result = subprocess.run(
        [exe, "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0
    assert "ARSO_CLIENT_ID" in result.stdout


@pytest.mark.parametrize("target", ["missing-folder/out.csv", "."])
def test_unwritable_csv_target_is_refused_before_the_pull(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str], target: str
) -> None:
    code = main(["get", "meritve", "--csv", target, *sandbox_args(sandbox)])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.err.startswith("arso-data: error: --csv")
    assert "Traceback" not in captured.err
    assert sandbox.stats.api_requests == 0
    assert sandbox.stats.token_requests == 0


def test_broken_pipe_ends_quietly(sandbox: Sandbox) -> None:
    exe = shutil.which("arso-data") or str(Path(sys.executable).parent / "arso-data")
    command = [exe, "get", "parametri", *sandbox_args(sandbox)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as p:
        assert p.stdout is not None
        p.stdout.readline()
        p.stdout.close()
        _, err = p.communicate(timeout=60)
    assert b"Traceback" not in err
    assert p.returncode == 0


def test_max_pages_says_the_result_is_partial(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["-p", "merilno_mesto=0012", "-p", "size=10", "--max-pages", "2"]
    assert main(["get", "meritve", *args, *sandbox_args(sandbox)]) == 0
    assert "stopped after 2 page(s)" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["get", "meritve", "--max-pages", "0", *sandbox_args(sandbox)])


def test_sandbox_refuses_a_non_loopback_host(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["sandbox", "--host", "0.0.0.0", "--port", "0"]) == 2
    assert "loopback" in capsys.readouterr().err


def test_unreachable_server_prints_one_line_without_retry_warnings(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with Sandbox(port=0) as sb:
        args = sandbox_args(sb)
    code = main(["token", *args])
    err = capsys.readouterr().err
    assert code == 5
    assert "Retrying" not in err
    assert err.startswith("arso-data: error: Could not reach")
    assert "arso-data sandbox" in err  # the hint to start one


def test_errors_follow_arso_lang(
    sandbox: Sandbox,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ARSO_LANG", "sl")
    monkeypatch.setenv("ARSO_CLIENT_SECRET", "not-the-secret-42")
    code = main(["token", "--client-id", sandbox.client_id, *sandbox_args(sandbox)])
    err = capsys.readouterr().err
    assert code == 3
    assert "Prijava zavrnjena" in err
    assert "not-the-secret-42" not in err
