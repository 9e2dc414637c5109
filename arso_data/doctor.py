"""``arso-data doctor`` and ``%arso doctor``: check what usually goes wrong.

One line per check, each with a verdict (``ok``, ``warn``, ``FAIL``, ``skip``):

1. ``settings``   which environment, client ID and credential source are used
2. ``dns``        the identity server's host name resolves
3. ``tls``        a TLS handshake with it succeeds (and with which CA)
4. ``discovery``  its OpenID discovery document answers, with the expected
                  issuer; on a 404 the other ``/auth`` prefix is tried
5. ``token``      a token request succeeds
6. ``issuer``     the token's ``iss`` claim names the chosen environment
7. ``clock``      the local clock against the server's ``Date`` header
8. ``api``        the API base URL is set and answers

The token request goes through :class:`~arso_data.client.ArsoClient`; the
other checks are probes that need no token and send no credential, made by
:func:`_probe` (plain requests, with the settings' TLS and proxy options).
"""

from __future__ import annotations

import base64
import json
import re
import socket
import ssl
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, Literal
from urllib.parse import urlsplit

import requests

from .errors import ArsoError
from .i18n import explain
from .settings import Settings, is_loopback

Verdict = Literal["ok", "warn", "fail", "skip"]
_MARKS = {"ok": "ok  ", "warn": "warn", "fail": "FAIL", "skip": "skip"}
_CLIENT_ID_FORM = re.compile(r"^API_TEL_\d+$")
#: Clock skew, in seconds, above which a warning and a failure are given.
SKEW_WARN_S, SKEW_FAIL_S = 30.0, 300.0


@dataclass(frozen=True)
class Check:
    """One check's name, verdict and a line of detail (never a secret)."""

    name: str
    verdict: Verdict
    detail: str


@dataclass
class _Findings:
    """What earlier checks learned that later ones need."""

    server_date: float | None = None
    local_date: float | None = None
    access_token: str | None = field(default=None, repr=False)
    reachable: bool = True


def run_checks(settings: Settings, *, timeout: float = 10.0) -> list[Check]:
    """Run every check against ``settings``, in order, and return the verdicts."""
    found = _Findings()
    checks = [_check_settings(settings), _check_dns(settings, found)]
    checks.append(_check_tls(settings, found, timeout))
    checks.append(_check_discovery(settings, found, timeout))
    checks.append(_check_token(settings, found))
    checks.append(_check_issuer(settings, found))
    checks.append(_check_clock(found))
    checks.append(_check_api(settings, timeout))
    return checks


def failed(checks: list[Check]) -> list[Check]:
    """The checks whose verdict is ``fail``."""
    return [check for check in checks if check.verdict == "fail"]


def format_report(checks: list[Check]) -> str:
    """One line per check: ``[mark] name  detail``."""
    return "\n".join(f"[{_MARKS[c.verdict]}] {c.name:<10} {c.detail}" for c in checks)


# -- the checks -----------------------------------------------------------------


def _check_settings(settings: Settings) -> Check:
    sources = settings.sources
    env = f"env {settings.env.upper()} ({sources.get('env', 'default')})"
    where = f" from {settings.dotenv_path}" if settings.dotenv_path else ""
    try:
        client_id, _secret = settings.require_credentials()
    except ArsoError as exc:
        first = explain(exc).splitlines()[0].split(". ")[0].rstrip(".")
        return Check("settings", "fail", f"{env}; {first}.")
    id_source = sources.get("client_id", "?")
    secret_source = sources.get("client_secret", "?")
    detail = (
        f"{env}; client ID {client_id} ({id_source}"
        f"{where if id_source == '.env' else ''}); secret set ({secret_source})"
    )
    if settings.env in ("test", "prod") and not _CLIENT_ID_FORM.match(client_id):
        return Check("settings", "warn", detail + "; client ID is not API_TEL_<digits>")
    return Check("settings", "ok", detail)


def _check_dns(settings: Settings, found: _Findings) -> Check:
    host = urlsplit(settings.auth_url).hostname or ""
    if settings.proxy:
        return Check("dns", "skip", f"{host}: resolved by the proxy {settings.proxy}")
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError as exc:
        found.reachable = False
        return Check(
            "dns",
            "fail",
            f"{host} does not resolve ({exc}); check the network or ARSO_AUTH_URL",
        )
    addresses = sorted({str(info[4][0]) for info in infos})
    return Check("dns", "ok", f"{host} -> {', '.join(addresses[:3])}")


def _check_tls(settings: Settings, found: _Findings, timeout: float) -> Check:
    parts = urlsplit(settings.auth_url)
    host = parts.hostname or ""
    if parts.scheme == "http":
        verdict: Verdict = "skip" if is_loopback(host) else "fail"
        return Check("tls", verdict, f"plain http to {host} (loopback only)")
    if not found.reachable or settings.proxy:
        return Check("tls", "skip", "needs DNS" if not found.reachable else "via proxy")
    context = ssl.create_default_context(cafile=settings.ca_bundle)
    try:
        with socket.create_connection(
            (host, parts.port or 443), timeout=timeout
        ) as raw:
            with context.wrap_socket(raw, server_hostname=host) as tls:
                cert = tls.getpeercert() or {}
                version = tls.version()
    except (OSError, ssl.SSLError) as exc:
        found.reachable = False
        hint = (
            " (set ARSO_CA_BUNDLE behind a proxy)"
            if isinstance(exc, ssl.SSLError)
            else ""
        )
        return Check("tls", "fail", f"{host}: {exc}{hint}")
    until = cert.get("notAfter", "?")
    ca = "ARSO_CA_BUNDLE" if settings.ca_bundle else "system CAs"
    return Check("tls", "ok", f"{version}, certificate valid until {until} ({ca})")


def _check_discovery(settings: Settings, found: _Findings, timeout: float) -> Check:
    if not found.reachable:
        return Check("discovery", "skip", "the identity server is not reachable")
    response, error = _probe(settings.well_known_url, settings, timeout)
    if response is None:
        found.reachable = False
        return Check("discovery", "fail", error)
    _note_date(response, found)
    if response.status_code == 404:
        return Check("discovery", "fail", _prefix_advice(settings, timeout))
    try:
        issuer = response.json().get("issuer")
    except ValueError:
        return Check("discovery", "fail", f"HTTP {response.status_code}, not JSON")
    if issuer != settings.issuer:
        return Check(
            "discovery", "warn", f"issuer {issuer!r}, expected {settings.issuer!r}"
        )
    return Check("discovery", "ok", f"{settings.well_known_url} (issuer matches)")


def _check_token(settings: Settings, found: _Findings) -> Check:
    if not found.reachable:
        return Check("token", "skip", "the identity server is not reachable")
    from .client import ArsoClient

    try:
        with ArsoClient(settings) as client:
            token = client.login()
    except ArsoError as exc:
        return Check("token", "fail", explain(exc).splitlines()[0])
    found.access_token = token.access_token
    until = token.expires.astimezone().isoformat(timespec="seconds")
    return Check("token", "ok", f"granted, valid until {until}, scope {token.scope!r}")


def _check_issuer(settings: Settings, found: _Findings) -> Check:
    if found.access_token is None:
        return Check("issuer", "skip", "no token")
    claims = _jwt_claims(found.access_token)
    if claims is None:
        return Check("issuer", "skip", "the token is not a JWT")
    issuer = claims.get("iss")
    if issuer != settings.issuer:
        return Check(
            "issuer",
            "fail",
            f"token from {issuer!r}, but {settings.env.upper()} is "
            f"{settings.issuer!r}: check ARSO_ENV and ARSO_AUTH_URL",
        )
    return Check("issuer", "ok", f"{issuer}")


def _check_clock(found: _Findings) -> Check:
    if found.server_date is None or found.local_date is None:
        return Check("clock", "skip", "no Date header from the server")
    skew = found.local_date - found.server_date
    detail = f"local clock {skew:+.0f} s against the server"
    if abs(skew) > SKEW_FAIL_S:
        return Check("clock", "fail", detail + "; tokens may look expired: fix NTP")
    if abs(skew) > SKEW_WARN_S:
        return Check("clock", "warn", detail)
    return Check("clock", "ok", detail)


def _check_api(settings: Settings, timeout: float) -> Check:
    if not settings.api_url:
        verdict: Verdict = "warn" if settings.env in ("test", "prod") else "fail"
        return Check("api", verdict, "ARSO_API_URL is not set; data calls need it")
    response, error = _probe(settings.api_url, settings, timeout)
    if response is None:
        return Check("api", "fail", error)
    return Check(
        "api", "ok", f"{settings.api_url} answers (HTTP {response.status_code})"
    )


# -- helpers --------------------------------------------------------------------


def _probe(
    url: str, settings: Settings, timeout: float
) -> tuple[requests.Response | None, str]:
    """GET ``url`` without credentials; (response, "") or (None, why not)."""
    try:
        response = requests.get(
            url,
            timeout=timeout,
            verify=settings.verify,
            proxies=settings.proxies,
            headers={"Accept": "application/json"},
        )
    except requests.exceptions.SSLError:
        return None, f"TLS to {url} failed (set ARSO_CA_BUNDLE behind a proxy)"
    except requests.exceptions.RequestException as exc:
        return None, f"{url}: {type(exc).__name__}"
    return response, ""


def _prefix_advice(settings: Settings, timeout: float) -> str:
    """After a 404: does the other ``/auth`` prefix answer?"""
    base = settings.auth_url
    other = base[: -len("/auth")] if base.endswith("/auth") else base + "/auth"
    url = settings.well_known_url.replace(base, other, 1)
    response, _ = _probe(url, settings, timeout)
    if response is not None and response.status_code == 200:
        return f"404 at {base}; it answers at {other}: set ARSO_AUTH_URL={other}"
    return f"404 at {settings.well_known_url}: check ARSO_AUTH_URL and ARSO_REALM"


def _note_date(response: requests.Response, found: _Findings) -> None:
    header = response.headers.get("Date")
    if not header:
        return
    try:
        found.server_date = parsedate_to_datetime(header).timestamp()
    except (TypeError, ValueError):
        return
    found.local_date = time.time()


def _jwt_claims(token: str) -> dict[str, Any] | None:
    # Read, not verified: the issuer is compared, nothing is trusted from it.
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        padded = parts[1] + "=" * (-len(parts[1]) % 4)
        claims = json.loads(base64.urlsafe_b64decode(padded))
    except (ValueError, UnicodeDecodeError):
        return None
    return claims if isinstance(claims, dict) else None


__all__ = ["Check", "failed", "format_report", "run_checks"]
