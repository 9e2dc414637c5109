"""The one place that keeps secrets out of logs, errors and reprs.

requests-oauthlib logs the token request body (with ``client_secret``) and the
token response at DEBUG, and the user may switch DEBUG on for every logger in a
notebook whose output is saved. We cannot stop them from logging, so a filter
on their loggers rewrites each record before any handler sees it: known
secrets (registered when they are read) are replaced, and so is anything that
has the shape of a credential.
"""

from __future__ import annotations

import base64
import logging
import re
import threading
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "[secure]"

#: Libraries whose loggers may carry credentials. A filter on a logger only
#: sees records created on that logger, so each module's logger is named.
_LIBRARY_LOGGERS = (
    "requests_oauthlib",
    "requests_oauthlib.oauth2_session",
    "requests_oauthlib.oauth2_auth",
    "oauthlib",
    "oauthlib.oauth2",
    "oauthlib.common",
    "oauthlib.oauth2.rfc6749",
    "urllib3",
    "urllib3.connectionpool",
    "urllib3.util.retry",
    "requests",
    "arso_data",
)

_SENSITIVE_KEYS = (
    "client_secret",
    "access_token",
    "id_token",
    "refresh_token",
    "password",
    "secret",
    "token",
    "api_key",
    "apikey",
    "code",
    "signature",
    "sig",
)
_KEY_ALT = "|".join(sorted(_SENSITIVE_KEYS, key=len, reverse=True))
_PATTERNS = (
    # form bodies and query strings: client_secret=...&
    re.compile(rf"(?i)\b({_KEY_ALT})=([^&\s'\",;)]+)"),
    # JSON and Python dict reprs: "access_token": "..."
    re.compile(rf"(?i)([\"']({_KEY_ALT})[\"']\s*:\s*)[\"'][^\"']*[\"']"),
    # Authorization header values
    re.compile(r"(?i)\b(Bearer|Basic)\s+[A-Za-z0-9\-._~+/]+=*"),
    # anything shaped like a JWT
    re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*"),
)


class _Registry:
    """Secrets seen so far in this process, to be replaced wherever they appear."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: frozenset[str] = frozenset()

    def add(self, *values: str | None) -> None:
        fresh = {v for v in values if v and len(v) >= 4}
        if not fresh - self._values:
            return
        with self._lock:
            self._values = self._values | fresh

    def values(self) -> frozenset[str]:
        return self._values


_registry = _Registry()


def register_secret(*values: str | None) -> None:
    """Remember values that must never be shown (a secret, a token)."""
    _registry.add(*values)


def register_client(client_id: str | None, secret: str | None) -> None:
    """Remember a secret and its HTTP Basic form (``base64(id:secret)``)."""
    register_secret(secret)
    if client_id and secret:
        pair = f"{client_id}:{secret}".encode()
        register_secret(base64.b64encode(pair).decode())


def redact(text: str) -> str:
    """Return ``text`` with every known secret and credential-shaped value masked."""
    for value in sorted(_registry.values(), key=len, reverse=True):
        if value in text:
            text = text.replace(value, MASK)
    text = _PATTERNS[0].sub(lambda m: f"{m.group(1)}={MASK}", text)
    text = _PATTERNS[1].sub(lambda m: f'{m.group(1)}"{MASK}"', text)
    text = _PATTERNS[2].sub(lambda m: f"{m.group(1)} {MASK}", text)
    return _PATTERNS[3].sub(MASK, text)


def mask_url(url: str) -> str:
    """Mask the values of sensitive query parameters and any user:password."""
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    query = parse_qsl(parts.query, keep_blank_values=True)
    masked = [(k, MASK if _is_sensitive_key(k) else v) for k, v in query]
    new_query = urlencode(masked, safe="[]") if query else parts.query
    return redact(urlunsplit(parts._replace(netloc=netloc, query=new_query)))


def _is_sensitive_key(key: str) -> bool:
    low = key.lower()
    return any(s in low for s in ("secret", "token", "password", "key", "signature"))


class RedactingFilter(logging.Filter):
    """A logging filter that masks secrets in a record's final message."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken record is the logging module's to report
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        return True


_FILTER = RedactingFilter()
_installed = False
_install_lock = threading.Lock()


def install_log_filter() -> None:
    """Attach the redacting filter to every logger that may carry credentials."""
    global _installed
    with _install_lock:
        if _installed:
            return
        names = set(_LIBRARY_LOGGERS)
        names.update(
            name
            for name in logging.root.manager.loggerDict
            if name.split(".")[0] in {"requests_oauthlib", "oauthlib", "urllib3"}
        )
        for name in sorted(names):
            logging.getLogger(name).addFilter(_FILTER)
        _installed = True
