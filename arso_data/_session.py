"""The notebook session: the client that the panel and the magics share.

A kernel has one session. The login panel replaces its client on Connect,
``%arso sandbox start`` points it at a sandbox running inside the kernel, and
``%arso get`` and ``%arso status`` use whatever it holds. The secret lives only
in that client's :class:`~arso_data.settings.Settings`.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .client import ArsoClient
    from .settings import Settings


class Session:
    """The current client and the sandbox started from the notebook, if any."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._client: ArsoClient | None = None
        #: An ``arso_data.sandbox.Sandbox`` started by ``%arso sandbox start``.
        self.sandbox: Any = None

    @property
    def has_client(self) -> bool:
        """True once a client was made or set."""
        return self._client is not None

    def client(self) -> ArsoClient:
        """The session's client; made from the settings on first use."""
        with self._lock:
            if self._client is None:
                from .client import ArsoClient

                self._client = ArsoClient(self.settings())
            return self._client

    def set_client(self, client: ArsoClient | None) -> None:
        """Replace the session's client, closing the previous one."""
        with self._lock:
            old, self._client = self._client, client
        if old is not None and old is not client:
            old.close()

    def settings(self, env: str | None = None, **given: Any) -> Settings:
        """Resolve settings, pointed at the running sandbox for ``sandbox``."""
        from .settings import resolve_settings

        url = self.sandbox_url()
        if env is None and url is not None:
            env = "sandbox"
        if (env or "").lower() == "sandbox":
            # The sandbox never gets to see real credentials from the
            # environment or a .env: it runs with what it is given, else its
            # demo client.
            given = {"dotenv_path": False, "environ": {}, **given}
        settings = resolve_settings(env=env, **given)
        if settings.env == "sandbox" and url is not None:
            settings = settings.with_sandbox(url)
        return settings

    def sandbox_url(self) -> str | None:
        """The base URL of the sandbox started from the notebook, if running."""
        return str(self.sandbox.url) if self.sandbox is not None else None


#: The kernel's one session.
SESSION = Session()

__all__ = ["SESSION", "Session"]
