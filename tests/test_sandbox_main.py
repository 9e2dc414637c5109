"""``python -m arso_data.sandbox`` starts a sandbox and stops on SIGTERM."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import pytest
import requests

from arso_data import constants


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def wait_for(url: str, process: subprocess.Popen[str], seconds: float = 20) -> int:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, "the sandbox exited early"
        try:
            return requests.get(url, timeout=1).status_code
        except requests.ConnectionError:
            time.sleep(0.05)
    raise AssertionError(f"{url} did not answer within {seconds} s")


@pytest.mark.parametrize(
    "command",
    [["-m", "arso_data.sandbox"], ["-m", "arso_data.cli", "sandbox"]],
    ids=["python-m", "arso-data-sandbox"],
)
def test_module_runs_a_sandbox_until_terminated(command: list[str]) -> None:
    port = free_port()
    command = [sys.executable, *command, "--port", str(port)]
    well_known = (
        f"http://127.0.0.1:{port}/auth/realms/arso/.well-known/openid-configuration"
    )
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        try:
            status = wait_for(well_known, process)
        finally:
            process.terminate()
            out, err = process.communicate(timeout=10)

    assert status == 200
    assert process.returncode == 0, err
    assert "EMULATION" in out
    assert f"http://127.0.0.1:{port}/api/telemetrija/v1" in out
    assert constants.SANDBOX_CLIENT_ID in out
    assert "/.well-known/openid-configuration" in err  # the access log is on


@pytest.mark.parametrize(
    ("option", "value"), [("--host", "0.0.0.0"), ("--port", "99999")]
)
def test_module_refuses_a_network_host_or_a_bad_port(option: str, value: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "arso_data.sandbox", option, value],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert value in result.stderr
    assert constants.SANDBOX_CLIENT_SECRET not in result.stdout + result.stderr
