"""A person's path through JupyterLab, in headless Chromium.

JupyterLab runs on 127.0.0.1 (a free port, a token, widget state saving on)
over a copy of ``notebooks/quickstart.ipynb``. The browser runs the cells up
to the login panel, types the sandbox's credentials, clicks Connect, waits for
the success message, saves, and the saved ``.ipynb`` is searched for the
secret. The screenshot of the connected panel is kept in ``test-artifacts/``.

The browser is Debian's ``chromium`` (``scripts/test`` installs it), driven by
Playwright with that executable; Playwright's own browser downloads are never
used. Outside CI the test is skipped when Chromium is missing; in CI
(``CI=true``) that is a failure, since CI must run it.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from arso_data import constants

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: Milliseconds for one browser wait: a cold JupyterLab on two cores is slow.
WAIT_MS = 120_000
#: JupyterLab user settings: save widget state, ask for no news or updates.
LAB_SETTINGS = {
    "@jupyter-widgets/jupyterlab-manager/plugin.jupyterlab-settings": {
        "saveState": True
    },
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}


def _require(condition: bool, reason: str) -> None:
    """Skip with ``reason`` on a developer's machine; fail in CI."""
    if condition:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI must run the browser test; see scripts/test)")
    pytest.skip(reason)


@dataclass
class Lab:
    url: str
    token: str
    root: Path
    process: subprocess.Popen[bytes]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_server(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"JupyterLab exited early:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"JupyterLab did not answer in 120 s:\n{log.read_text()[-3000:]}")


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    """JupyterLab on loopback over a copy of the quickstart notebook."""
    _require(
        shutil.which("jupyter-lab", path=str(Path(sys.executable).parent)) is not None,
        "JupyterLab is not installed (pip install -e '.[dev]')",
    )
    root, settings = tmp_path / "root", tmp_path / "lab-settings"
    root.mkdir()
    shutil.copy(ROOT / "notebooks" / "quickstart.ipynb", root)
    for name, values in LAB_SETTINGS.items():
        (settings / name).parent.mkdir(parents=True, exist_ok=True)
        (settings / name).write_text(json.dumps(values))
    token, port = secrets.token_hex(16), _free_port()
    env = {
        **os.environ,
        "JUPYTERLAB_SETTINGS_DIR": str(settings),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "workspaces"),
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
    }
    env = {k: v for k, v in env.items() if not k.startswith("ARSO_")}
    log = tmp_path / "lab.log"
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--LabApp.news_url=",
        "--LabApp.extension_manager=readonly",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # CI runs as root
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for_server(f"{url}/api/status?token={token}", process, log)
        yield Lab(url=url, token=token, root=root, process=process)
    finally:
        _stop(process, url, token)


def _stop(process: subprocess.Popen[bytes], url: str, token: str) -> None:
    request = urllib.request.Request(
        f"{url}/api/shutdown",
        method="POST",
        headers={"Authorization": f"token {token}"},
    )
    try:
        urllib.request.urlopen(request, timeout=10).close()
        process.wait(timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


@pytest.fixture
def browser_page() -> Iterator[Any]:
    """A Chromium page driven by Playwright, with Debian's chromium."""
    _require(CHROMIUM.exists(), f"{CHROMIUM} is missing (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _require(False, "Playwright is not installed (pip install -e '.[dev]')")
        raise
    with sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            page = context.new_page()
            page.set_default_timeout(WAIT_MS)
            yield page
            context.close()
        finally:
            browser.close()


def _saved_widget_state(path: Path) -> dict[str, Any] | None:
    metadata = json.loads(path.read_text("utf-8")).get("metadata", {})
    state = metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json")
    return state if isinstance(state, dict) else None


def test_login_panel_in_jupyterlab_keeps_no_secret(lab: Lab, browser_page: Any) -> None:
    page = browser_page
    notebook = lab.root / "quickstart.ipynb"
    started = time.perf_counter()

    page.goto(f"{lab.url}/lab/tree/quickstart.ipynb?token={lab.token}")
    page.wait_for_selector(".jp-Notebook .jp-Cell")
    page.wait_for_selector("#jp-main-statusbar >> text=Idle")
    page.locator(".jp-Notebook .jp-Cell").first.click()
    page.keyboard.press("Escape")
    for _ in range(4):  # title, sandbox cell, text, login-panel cell
        page.keyboard.press("Shift+Enter")

    panel = page.locator(".jp-OutputArea-output .widget-vbox").filter(
        has_text="ARSO telemetry API"
    )
    panel.wait_for()
    panel.get_by_role("textbox", name="Client ID").fill(constants.SANDBOX_CLIENT_ID)
    panel.locator("input[type=password]").fill(constants.SANDBOX_CLIENT_SECRET)
    panel.get_by_role("button", name="Connect").click()
    panel.get_by_text("Connected to SANDBOX").wait_for()
    password = panel.locator("input[type=password]").input_value()

    ARTIFACTS.mkdir(exist_ok=True)
    panel.screenshot(path=str(ARTIFACTS / "browser-login-panel.png"))
    page.keyboard.press("Control+s")
    deadline = time.monotonic() + WAIT_MS / 1000
    while _saved_widget_state(notebook) is None and time.monotonic() < deadline:
        time.sleep(0.5)
    seconds = time.perf_counter() - started

    saved = notebook.read_text("utf-8")
    state = _saved_widget_state(notebook)
    assert password == ""
    assert state is not None, "the saved notebook holds no widget state"
    assert "Connected to SANDBOX" in json.dumps(state)
    assert constants.SANDBOX_CLIENT_SECRET not in saved
    assert "eyJ" not in saved, "a token reached the saved notebook"
    print(f"browser test: {seconds:.1f} s from page load to saved notebook")
