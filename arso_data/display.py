"""How a client looks in a notebook: environment badge, client ID, token, API URL.

Everything here is plain HTML with inline styles: no scripts, fonts or images
from the internet, so that a saved notebook renders the same offline. No
secret reaches this module's output: it reads only the client's public state
(:meth:`~arso_data.client.ArsoClient.status`).
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import TYPE_CHECKING, Final

from .i18n import message

if TYPE_CHECKING:
    from .client import ArsoClient

#: Environment -> (badge text, background colour). PROD is red on purpose.
BADGES: Final = {
    "test": ("TEST", "#1565c0"),
    "prod": ("PROD", "#c62828"),
    "sandbox": ("SANDBOX", "#6a1b9a"),
    "custom": ("CUSTOM", "#455a64"),
}


def env_label(env: str) -> str:
    """The environment's mark in capitals: TEST, PROD, SANDBOX or CUSTOM."""
    return BADGES.get(env, (env.upper(), ""))[0]


def badge_html(env: str) -> str:
    """A coloured badge that names the environment at a glance."""
    text, colour = BADGES.get(env, (env.upper(), "#455a64"))
    return (
        f'<span class="arso-env arso-env-{html.escape(env)}" '
        f'style="background:{colour};color:#fff;font-weight:bold;'
        f"padding:1px 6px;border-radius:3px;font-family:sans-serif;"
        f'font-size:85%;letter-spacing:0.05em">{html.escape(text)}</span>'
    )


def local_time(moment: datetime) -> str:
    """A moment as the kernel's local time, to the second, with the zone name."""
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z").strip()


def token_state(client: ArsoClient, lang: str | None = None) -> str:
    """'valid until …', 'expired at …' or 'none', in words."""
    token = client.token
    if token is None:
        return message("token_none", lang)
    until = local_time(token.expires)
    key = "token_valid" if client.status()["token"] == "valid" else "token_expired"
    return message(key, lang, until=until)


def status_rows(client: ArsoClient, lang: str | None = None) -> list[tuple[str, str]]:
    """(label, value) pairs describing the client, without secrets."""
    settings = client.settings
    not_set = message("not_set", lang)
    return [
        (message("status_env", lang), env_label(client.env)),
        (message("status_client_id", lang), settings.client_id or not_set),
        (message("status_token", lang), token_state(client, lang)),
        (message("status_api_url", lang), settings.api_url or not_set),
        (message("status_auth_url", lang), settings.auth_url),
    ]


def status_text(client: ArsoClient, lang: str | None = None) -> str:
    """The client's state as aligned plain-text lines."""
    rows = status_rows(client, lang)
    width = max(len(label) for label, _ in rows)
    return "\n".join(f"{label:<{width}}  {value}" for label, value in rows)


def client_html(client: ArsoClient, lang: str | None = None) -> str:
    """The client's rich representation: a badge and a small table."""
    cells = "".join(
        f'<tr><th style="text-align:left;padding-right:1em">{html.escape(label)}'
        f'</th><td style="text-align:left">{html.escape(value)}</td></tr>'
        for label, value in status_rows(client, lang)[1:]
    )
    return (
        '<div class="arso-client" style="font-family:sans-serif">'
        f"{badge_html(client.env)} <b>ArsoClient</b>"
        f'<table style="margin-top:4px">{cells}</table></div>'
    )


def result_html(env: str, text: str) -> str:
    """A one-line caption with the environment badge, shown above a result."""
    return (
        f'<div class="arso-result" style="font-family:sans-serif">'
        f"{badge_html(env)} {html.escape(text)}</div>"
    )


class ClientStatus:
    """What ``%arso status`` shows: the client's state, rich in a notebook.

    It holds the client only to read its public state when displayed.
    """

    def __init__(self, client: ArsoClient, lang: str | None = None) -> None:
        self._client = client
        self._lang = lang

    def __repr__(self) -> str:
        return status_text(self._client, self._lang)

    def _repr_html_(self) -> str:
        return client_html(self._client, self._lang)


__all__ = [
    "BADGES",
    "ClientStatus",
    "badge_html",
    "client_html",
    "env_label",
    "local_time",
    "result_html",
    "status_rows",
    "status_text",
    "token_state",
]
