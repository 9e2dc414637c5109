"""The login panel: log in from a notebook without a secret in the code.

>>> import arso_data                                       # doctest: +SKIP
>>> arso_data.login()                                      # doctest: +SKIP

The panel is a thin adapter over :class:`~arso_data.client.ArsoClient`: Connect
builds settings from the fields, fetches a token through the client and puts
that client into the notebook session, where ``%arso`` finds it.

The secret never stays in a widget. ipywidgets' ``Password`` only hides the
characters on screen; its value is part of the widget model, which JupyterLab
writes into the ``.ipynb`` when it saves widget state. So the click handler
empties the password field before it does anything else, and the secret lives
on only in the client's :class:`~arso_data.settings.Settings`.
"""

from __future__ import annotations

import html
import logging
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

try:
    import ipywidgets as widgets
except ImportError as exc:  # pragma: no cover - depends on the installation
    raise ImportError(
        "The login panel needs ipywidgets: pip install 'arso-data[notebook]'"
    ) from exc

from ._session import SESSION, Session
from .display import badge_html, env_label, local_time
from .errors import ArsoError
from .i18n import explain, message

if TYPE_CHECKING:
    from .settings import Settings

logger = logging.getLogger(__name__)

_KEY_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=")
_GOOD, _BAD, _INFO = "#2e7d32", "#c62828", "#37474f"


class LoginPanel(widgets.VBox):  # type: ignore[misc]
    """Environment, client ID, secret, "remember", Connect and Log out.

    Parameters
    ----------
    env
        The environment to preselect: ``"test"``, ``"prod"`` or ``"sandbox"``
        (default: the sandbox when one runs in this kernel, else ``ARSO_ENV``).
    dotenv_path
        Where "remember" writes (default ``.env`` in the working folder).
    lang
        ``"en"`` or ``"sl"`` (default ``ARSO_LANG`` or the locale).
    session
        The notebook session whose client Connect replaces.
    """

    def __init__(
        self,
        env: str | None = None,
        *,
        dotenv_path: str | os.PathLike[str] | None = None,
        lang: str | None = None,
        session: Session = SESSION,
    ) -> None:
        self._lang = lang
        self._session = session
        self._dotenv_path = Path(dotenv_path) if dotenv_path else None
        self.env = widgets.ToggleButtons(
            options=self._env_options(env),
            description=message("env_label", lang),
            style={"description_width": "initial"},
        )
        self.badge = widgets.HTML()
        self.client_id = widgets.Text(
            description=message("client_id_label", lang),
            placeholder=message("client_id_hint", lang),
            style={"description_width": "initial"},
        )
        self.secret = widgets.Password(
            description=message("secret_label", lang),
            placeholder=message("secret_hint", lang),
            style={"description_width": "initial"},
        )
        self.remember = widgets.Checkbox(
            value=False, description=message("remember_label", lang), indent=False
        )
        self.connect = widgets.Button(
            description=message("connect", lang), button_style="primary"
        )
        self.logout = widgets.Button(description=message("logout", lang))
        self.status = widgets.HTML()
        super().__init__(
            children=[
                widgets.HTML(f"<b>{html.escape(message('panel_title', lang))}</b>"),
                widgets.HBox([self.env, self.badge]),
                self.client_id,
                self.secret,
                self.remember,
                widgets.HBox([self.connect, self.logout]),
                self.status,
            ]
        )
        self.env.value = self._initial_env(env)
        self.badge.value = badge_html(str(self.env.value))
        self._show_known_credentials()
        self.connect.on_click(self._on_connect)
        self.logout.on_click(self._on_logout)
        self.env.observe(self._on_env, names="value")

    # -- what the panel is connected to ---------------------------------------

    @property
    def client(self) -> Any:
        """The session's client (an :class:`~arso_data.client.ArsoClient`)."""
        return self._session.client()

    # -- handlers -------------------------------------------------------------

    def _on_connect(self, _button: Any = None) -> None:
        # First of all: the secret leaves the widget model, whatever follows.
        secret = self.secret.value
        self.secret.value = ""
        self._connect(secret)

    def _on_logout(self, _button: Any = None) -> None:
        self.secret.value = ""
        if self._session.has_client:
            self._session.client().logout()
        self._say(message("logged_out", self._lang), _INFO)

    def _on_env(self, change: Mapping[str, Any]) -> None:
        self.badge.value = badge_html(str(change["new"]))
        self._show_known_credentials()

    # -- connecting -----------------------------------------------------------

    def _connect(self, secret: str) -> None:
        from .client import ArsoClient

        env = str(self.env.value)
        client_id = self.client_id.value.strip()
        self._say(message("connecting", self._lang, env=env_label(env)), _INFO)
        try:
            settings = self._settings_for(env, client_id, secret)
            if settings is None:
                return
            client = ArsoClient(settings)
            try:
                token = client.login()
            except ArsoError:
                client.close()
                raise
        except ArsoError as exc:
            self._say(explain(exc, self._lang), _BAD, error=True)
            return

        self._session.set_client(client)
        notes = [
            message(
                "connected",
                self._lang,
                env=env_label(settings.env),
                client_id=settings.client_id,
                until=local_time(token.expires),
            )
        ]
        if self.remember.value and secret:
            notes.extend(self._remember(client_id, secret))
        self._say(" ".join(notes), _GOOD)

    def _settings_for(self, env: str, client_id: str, secret: str) -> Settings | None:
        """Settings from the fields, or from what is already set; None if lacking."""
        if secret:
            if not client_id:
                self._say(message("need_client_id", self._lang), _BAD, error=True)
                return None
            return self._session.settings(
                env, client_id=client_id, client_secret=secret
            )
        known = self._session.settings(env)
        if known.client_secret and (not client_id or client_id == known.client_id):
            return known
        if not client_id:
            self._say(message("need_client_id", self._lang), _BAD, error=True)
        else:
            self._say(
                message("need_secret", self._lang, client_id=client_id),
                _BAD,
                error=True,
            )
        return None

    def _remember(self, client_id: str, secret: str) -> list[str]:
        path = self._dotenv_path or self._dotenv_in_use() or Path.cwd() / ".env"
        remember_credentials(
            path, {"ARSO_CLIENT_ID": client_id, "ARSO_CLIENT_SECRET": secret}
        )
        notes = [message("remembered", self._lang, path=path)]
        ignore = ensure_gitignored(path)
        if ignore is not None:
            notes.append(message("gitignored", self._lang, path=ignore))
        return notes

    def _dotenv_in_use(self) -> Path | None:
        # Write to the .env the settings were read from (found upwards from
        # the working folder), so that a new one does not shadow it.
        try:
            return self._session.settings(str(self.env.value)).dotenv_path
        except ArsoError:
            return None

    # -- showing ----------------------------------------------------------------

    def _env_options(self, env: str | None) -> list[tuple[str, str]]:
        options = [
            (message("env_test", self._lang), "test"),
            (message("env_prod", self._lang), "prod"),
        ]
        wanted = (env or self._configured_env()).lower() == "sandbox"
        if wanted or self._session.sandbox is not None:
            options.append((message("env_sandbox", self._lang), "sandbox"))
        return options

    def _configured_env(self) -> str:
        # ARSO_ENV from the environment or a .env, as the settings read it.
        try:
            return self._session.settings().env
        except ArsoError:
            return ""

    def _initial_env(self, env: str | None) -> str:
        values = [value for _label, value in self.env.options]
        if env:
            chosen = env.lower()
        elif self._session.sandbox is not None:
            chosen = "sandbox"
        else:
            try:
                chosen = self._session.settings().env
            except ArsoError:
                chosen = "test"  # the status line will say what is wrong
        return chosen if chosen in values else "test"

    def _show_known_credentials(self) -> None:
        """Say which credentials are already set, without showing the secret."""
        self.secret.placeholder = message("secret_hint", self._lang)
        try:
            known = self._session.settings(str(self.env.value))
        except ArsoError as exc:
            self._say(explain(exc, self._lang), _BAD, error=True)
            return
        if not (known.client_id and known.client_secret):
            self._say("", _INFO)
            return
        source = {".env": "source_dotenv", "default": "source_default"}.get(
            known.sources.get("client_secret", ""), "source_environment"
        )
        self.client_id.value = known.client_id
        self.secret.placeholder = message("secret_hint_known", self._lang)
        self._say(
            message(
                "credentials_found",
                self._lang,
                client_id=known.client_id,
                source=message(source, self._lang),
            ),
            _INFO,
        )

    def _say(self, text: str, colour: str, *, error: bool = False) -> None:
        prefix = (
            f"<b>{html.escape(message('error', self._lang))}:</b> " if error else ""
        )
        body = html.escape(text).replace("\n", "<br>")
        self.status.value = (
            f'<div class="arso-status" style="color:{colour}">{prefix}{body}</div>'
            if text
            else ""
        )


def login(
    env: str | None = None,
    *,
    dotenv_path: str | os.PathLike[str] | None = None,
    lang: str | None = None,
) -> LoginPanel:
    """Show the login panel (the last expression of a cell displays it).

    Parameters
    ----------
    env
        ``"test"``, ``"prod"`` or ``"sandbox"`` to preselect.
    dotenv_path
        Where "remember" writes the credentials (default ``./.env``).
    lang
        ``"en"`` or ``"sl"``; default ``ARSO_LANG`` or the locale.
    """
    return LoginPanel(env, dotenv_path=dotenv_path, lang=lang)


def remember_credentials(
    path: str | os.PathLike[str], values: Mapping[str, str]
) -> Path:
    """Set ``values`` in a ``.env`` file, keeping every other line as it was.

    The file is written whole to a temporary file created with mode 0600 and
    then moved over the old one, so that it is never readable by others, not
    even for a moment, and a crash leaves the old file intact.
    """
    target = Path(path)
    old = target.read_text("utf-8-sig").splitlines() if target.exists() else []
    lines: list[str] = []
    written: set[str] = set()
    for line in old:
        match = _KEY_LINE.match(line)
        key = match.group(1) if match else None
        if key is None or key not in values:
            lines.append(line)
        elif key not in written:
            lines.append(f"{key}={_quoted(values[key])}")
            written.add(key)
    lines.extend(f"{k}={_quoted(v)}" for k, v in values.items() if k not in written)

    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8", newline="\n") as handle:
        handle.write("\n".join(lines) + "\n")
    os.chmod(temporary, 0o600)  # whatever the umask did
    os.replace(temporary, target)
    return target


def _quoted(value: str) -> str:
    # Single quotes: python-dotenv reads them literally except for \\ and \'.
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def ensure_gitignored(dotenv: str | os.PathLike[str]) -> Path | None:
    """Add the file's name to ``.gitignore`` beside it, inside a git work tree.

    Returns the ``.gitignore`` changed, or None when nothing was needed
    (not in a repository, or already listed).
    """
    path = Path(dotenv).resolve()
    folder = path.parent
    if not any((parent / ".git").exists() for parent in (folder, *folder.parents)):
        return None
    ignore = folder / ".gitignore"
    text = ignore.read_text("utf-8") if ignore.exists() else ""
    names = {path.name, "/" + path.name}
    if any(line.strip() in names for line in text.splitlines()):
        return None
    if text and not text.endswith("\n"):
        text += "\n"
    ignore.write_text(text + path.name + "\n", "utf-8")
    return ignore


__all__ = ["LoginPanel", "ensure_gitignored", "login", "remember_credentials"]
