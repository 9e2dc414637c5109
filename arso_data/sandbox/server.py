"""`Sandbox`: the Flask app on Werkzeug's threaded server, in a thread."""

from __future__ import annotations

import logging
import threading
from types import TracebackType
from typing import Any

from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from arso_data import constants
from arso_data.sandbox.app import (
    API,
    AUTH,
    TOKEN_PATH,
    Handler,
    Route,
    SandboxState,
    create_app,
)
from arso_data.sandbox.faults import Faults, RequestLog, Stats

logger = logging.getLogger(__name__)
#: How often the server loop looks for stop(): the longest stop() waits.
_POLL_S = 0.02


class _QuietHandler(WSGIRequestHandler):
    """Werkzeug's handler without the per-request access log line."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Log nothing."""


class Sandbox:
    """A local emulation of ARSO's identity server and an example API.

    It is an emulation for tests and demos, not ARSO's real API: the token
    endpoint follows ARSO's source document; the telemetry paths are invented.

    Parameters
    ----------
    host, port
        Where to listen; ``port=0`` takes a free port (see :attr:`port`).
    token_lifetime
        ``expires_in`` of issued tokens, in seconds.
    latency
        Seconds added to every token and API answer.
    quiet
        Silence Werkzeug's per-request access log.

    Examples
    --------
    >>> with Sandbox(port=0) as sb:  # doctest: +SKIP
    ...     requests.post(sb.token_url, data={...})
    """

    def __init__(
        self,
        host: str = constants.SANDBOX_HOST,
        port: int = 0,
        token_lifetime: int = constants.TOKEN_LIFETIME_S,
        latency: float = 0.0,
        *,
        quiet: bool = True,
    ) -> None:
        self.host = host
        self._port = port
        self._quiet = quiet
        self._state = SandboxState(token_lifetime=token_lifetime, latency=latency)
        self.app: Flask = create_app(self._state)
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        running = "running" if self._server else "stopped"
        return f"<Sandbox {self.url} ({running}, emulation)>"

    # -- lifecycle --------------------------------------------------------------

    def start(self) -> Sandbox:
        """Bind, then serve in a background thread; return ``self``."""
        if self._server is not None:
            return self
        handler = _QuietHandler if self._quiet else WSGIRequestHandler
        server = make_server(
            self.host, self._port, self.app, threaded=True, request_handler=handler
        )
        self._server, self._port = server, server.server_port
        self._state.base_url = self.url
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": _POLL_S},
            name=f"arso-sandbox-{self._port}",
            daemon=True,
        )
        self._thread.start()
        logger.info("sandbox (an emulation of ARSO) listening on %s", self.url)
        return self

    def stop(self) -> None:
        """Stop serving and close the socket (safe to call twice)."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        logger.info("sandbox on %s stopped", self.url)

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- where it is ------------------------------------------------------------

    @property
    def port(self) -> int:
        """The port (the bound one once started)."""
        return self._port

    @property
    def url(self) -> str:
        """``http://host:port``."""
        return constants.sandbox_base_url(self.host, self._port)

    @property
    def auth_url(self) -> str:
        """The identity server's base URL (``url + "/auth"``)."""
        return self.url + AUTH

    @property
    def api_url(self) -> str:
        """The example API's base URL (``url + "/api/telemetrija/v1"``)."""
        return self.url + API

    @property
    def token_url(self) -> str:
        """The token endpoint."""
        return self.url + TOKEN_PATH

    # -- clients, faults, records -------------------------------------------------

    @property
    def client_id(self) -> str:
        """The demo client's ID."""
        return constants.SANDBOX_CLIENT_ID

    @property
    def client_secret(self) -> str:
        """The demo client's secret (public: the source document's example)."""
        return constants.SANDBOX_CLIENT_SECRET

    def add_client(self, client_id: str, secret: str) -> None:
        """Accept another client."""
        self._state.clients[client_id] = secret

    @property
    def faults(self) -> Faults:
        """The fault switches."""
        return self._state.faults

    @property
    def stats(self) -> Stats:
        """Request counters."""
        return self._state.stats

    @property
    def requests(self) -> RequestLog:
        """The recorded requests, oldest first (the last 10000)."""
        return self._state.requests

    @property
    def stored(self) -> list[dict[str, Any]]:
        """Measurements stored by ``POST /meritve``, in arrival order."""
        return self._state.store.snapshot()

    def route(
        self, method: str, path: str, handler: Handler, *, auth: bool = True
    ) -> None:
        """Add or replace an API route for a test.

        *path* is relative to :attr:`api_url` and matched exactly. *handler*
        gets the ``flask.Request`` and returns ``(status, headers, body)``;
        body is bytes, str or a JSON-serialisable object. Faults apply as to
        any API route; ``auth=False`` skips the Bearer check.
        """
        if not path.startswith("/"):
            path = "/" + path
        self._state.custom_routes[(method.upper(), path)] = Route(handler, auth)
