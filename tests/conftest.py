"""Shared fixtures: a sandbox on 127.0.0.1 and clients connected to it."""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable, Iterator

import pytest

from arso_data import ArsoClient, RetryPolicy, resolve_settings
from arso_data.sandbox import Sandbox

#: Fast retries for tests: the same policy, shorter waits.
FAST_RETRY = RetryPolicy(backoff=0.01, jitter=0.0, backoff_max=0.05)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """A fresh sandbox on a free loopback port, stopped after the test."""
    with Sandbox(port=0) as sb:
        yield sb


@pytest.fixture
def make_client(sandbox: Sandbox) -> Iterator[object]:
    """Build clients connected to the test's sandbox; closes them afterwards."""
    clients: list[ArsoClient] = []

    def make(
        client_id: str | None = None, client_secret: str | None = None, **kwargs: object
    ) -> ArsoClient:
        settings = resolve_settings(
            env="sandbox",
            auth_url=sandbox.auth_url,
            api_url=sandbox.api_url,
            client_id=client_id,
            client_secret=client_secret,
            dotenv_path=False,
            environ={},
        )
        kwargs.setdefault("retry", FAST_RETRY)
        client = ArsoClient(settings, **kwargs)  # type: ignore[arg-type]
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client: object) -> ArsoClient:
    """A client connected to the test's sandbox with the demo credentials."""
    return make_client()  # type: ignore[operator, no-any-return]


@pytest.fixture
def debug_log() -> Iterator[list[logging.LogRecord]]:
    """Every logger that could leak at DEBUG, captured with its final text."""
    names = ["", "urllib3", "requests", "requests_oauthlib", "oauthlib", "arso_data"]
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            self.format(record)
            records.append(record)

    handler = Keep(level=logging.DEBUG)
    old = {n: logging.getLogger(n).level for n in names}
    root = logging.getLogger()
    root.addHandler(handler)
    for name in names:
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        yield records
    finally:
        root.removeHandler(handler)
        for name, level in old.items():
            logging.getLogger(name).setLevel(level)


@pytest.fixture
def notebook_session() -> Iterator[object]:
    """The kernel's notebook session, emptied again after the test."""
    from arso_data._session import SESSION

    yield SESSION
    sandbox, SESSION.sandbox = SESSION.sandbox, None
    SESSION.set_client(None)
    if sandbox is not None:
        sandbox.stop()


@pytest.fixture
def ipython(notebook_session: object) -> Iterator[object]:
    """A real IPython shell with ``%load_ext arso`` undone afterwards."""
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    yield shell
    if "arso" in shell.extension_manager.loaded:
        shell.run_line_magic("unload_ext", "arso")
    for name in ("mm", "m", "m2", "point"):
        shell.user_ns.pop(name, None)


def _unavailable(reason: str) -> None:
    """Skip a test whose outside tool is missing here; fail under CI, which must
    run it (scripts/test installs node, npm packages and chromium)."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI must run this test; see scripts/test)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def unavailable() -> Callable[[str], None]:
    """Skip (locally) or fail (in CI) with a reason."""
    return _unavailable


@pytest.fixture(scope="session")
def require_tool() -> Callable[[str, str], str]:
    """Find a program on PATH, or skip (locally) / fail (in CI) saying why."""

    def find(name: str, why: str) -> str:
        path = shutil.which(name)
        if path is None:
            _unavailable(f"{name} is not installed: {why}")
            raise AssertionError("unreachable")  # skip and fail both raise
        return path

    return find
