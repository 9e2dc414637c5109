"""The client-credentials token: fetch it, keep it, renew it.

ARSO's identity server (Keycloak, realm ``arso``) sells a Bearer token for the
organisation's client ID and secret. It lives ``expires_in`` seconds (36000)
and comes with no refresh token (``refresh_expires_in`` is 0), so renewing
means asking again with the same credentials.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

import requests
import urllib3
from oauthlib.oauth2 import BackendApplicationClient
from requests.adapters import HTTPAdapter
from requests_oauthlib import OAuth2Session
from urllib3.util.retry import Retry

from . import constants
from ._redact import install_log_filter, mask_url, register_secret
from .errors import (
    ArsoError,
    AuthError,
    CredentialsError,
    NotLoggedInError,
    RequestTimeoutError,
    TransportError,
)
from .settings import CREDENTIALS_HELP, is_loopback

if TYPE_CHECKING:
    from .settings import Settings

logger = logging.getLogger(__name__)

AuthMethod = Literal["client_secret_post", "client_secret_basic"]
Timeout = float | tuple[float, float]
#: Error codes with which Keycloak versions refuse a client ID or secret.
_CREDENTIAL_ERRORS = frozenset({"invalid_client", "unauthorized_client"})


@dataclass(frozen=True)
class Token:
    """An access token and what is known of its lifetime. Its repr hides it."""

    access_token: str = field(repr=False)
    expires_at: float
    obtained_at: float
    scope: str = ""
    token_type: str = "Bearer"
    id_token: str | None = field(default=None, repr=False)

    @property
    def expires(self) -> datetime:
        """The expiry as an aware UTC datetime."""
        return datetime.fromtimestamp(self.expires_at, tz=UTC)

    @property
    def lifetime(self) -> float:
        """Seconds between issue and expiry."""
        return self.expires_at - self.obtained_at


def _now() -> float:
    return time.time()


class TokenProvider:
    """Keeps one valid token for one set of credentials, safely across threads.

    Parameters
    ----------
    settings
        Where the identity server is and the credentials.
    timeout
        Connect and read limits for the token request, in seconds.
    auth_method
        ``"client_secret_post"`` (the form body, as ARSO's document shows) or
        ``"client_secret_basic"`` (an HTTP Basic header).
    clock
        Returns the time in seconds since the epoch (tests inject one).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        timeout: Timeout = (10.0, 30.0),
        auth_method: AuthMethod = "client_secret_post",
        clock: Callable[[], float] | None = None,
    ) -> None:
        install_log_filter()
        self._settings = settings
        self._timeout = timeout
        self._auth_method = auth_method
        self._clock = clock or _now
        self._lock = threading.Lock()
        self._token: Token | None = None
        self._failure: ArsoError | None = None
        self._logged_out = False
        self._fetches = 0

    # -- state ---------------------------------------------------------------

    @property
    def token(self) -> Token | None:
        """The current token, if any (its repr hides the secret parts)."""
        return self._token

    @property
    def fetch_count(self) -> int:
        """How many token requests this provider has made."""
        return self._fetches

    def is_valid(self, token: Token | None = None) -> bool:
        """True while the token has more than the renewal margin left."""
        token = token or self._token
        if token is None:
            return False
        margin = min(60.0, 0.1 * max(token.lifetime, 0.0))
        return self._clock() < token.expires_at - margin

    # -- use -----------------------------------------------------------------

    def access_token(self) -> str:
        """Return a valid access token, fetching one if needed.

        Many threads calling at once cause one token request: the first one
        fetches while the others wait for it.
        """
        token = self._token
        if token is not None and self.is_valid(token):
            return token.access_token
        with self._lock:
            if self._logged_out or (self._failure and self._token is None):
                raise self._not_logged_in()
            if not self.is_valid():
                self._token = self._fetch()
            assert self._token is not None
            return self._token.access_token

    def login(self) -> Token:
        """Fetch a fresh token now, replacing any previous one or failure."""
        with self._lock:
            self._logged_out = False
            self._failure = None
            self._token = self._fetch()
            return self._token

    def invalidate(self, access_token: str) -> None:
        """Forget ``access_token`` after the API refused it (if still current)."""
        with self._lock:
            if self._token is not None and self._token.access_token == access_token:
                self._token = None

    def logout(self) -> None:
        """Forget the token; data calls fail until the next :meth:`login`."""
        with self._lock:
            self._token = None
            self._logged_out = True

    def _not_logged_in(self) -> NotLoggedInError:
        if self._logged_out:
            reason = "You logged out."
        else:
            reason = f"The last login failed: {self._failure}"
        return NotLoggedInError(
            f"Not logged in. {reason} Call login() (or `arso-data token`) again."
        )

    # -- the token request ---------------------------------------------------

    def _fetch(self) -> Token:
        client_id, secret = self._settings.require_credentials()
        self._fetches += 1
        started = self._clock()
        try:
            raw = self._request_token(client_id, secret)
        except ArsoError as exc:
            self._failure = exc
            raise
        token = self._to_token(raw, started)
        self._failure = None
        logger.info(
            "token for %s from %s: valid until %s",
            client_id,
            self._settings.token_url,
            token.expires.astimezone().isoformat(timespec="seconds"),
        )
        return token

    def _request_token(self, client_id: str, secret: str) -> dict[str, Any]:
        url = self._settings.token_url
        session = _TokenSession(client=BackendApplicationClient(client_id=client_id))
        session.register_compliance_hook("access_token_response", _check_response)
        session.mount("https://", _token_adapter())
        session.mount("http://", _token_adapter())
        basic = self._auth_method == "client_secret_basic"
        try:
            with session:
                # The scope travels as a plain form field rather than as the
                # session's scope: oauthlib compares a requested scope with the
                # granted one and raises a bare Warning when Keycloak grants
                # more ("openid email profile"). Its only switch is a
                # process-wide environment variable, which we do not set.
                raw = session.fetch(
                    url,
                    client_secret=None if basic else secret,
                    auth=requests.auth.HTTPBasicAuth(client_id, secret)
                    if basic
                    else None,
                    include_client_id=not basic,
                    scope=constants.SCOPE,
                    timeout=self._timeout,
                    verify=self._settings.verify,
                    proxies=self._settings.proxies,
                )
        except ArsoError:
            raise
        except requests.exceptions.RequestException as exc:
            error = transport_error(exc, "POST", url, self._timeout)
            if self._settings.env == "sandbox":
                error.hint = (
                    "Is the sandbox running? Start it with `arso-data sandbox` "
                    "(or `%arso sandbox start` in a notebook)."
                )
            raise error from None
        except Exception as exc:  # oauthlib's own parse errors, already checked
            raise AuthError(
                f"The identity server's answer could not be read as a token: "
                f"{type(exc).__name__}.",
                method="POST",
                url=mask_url(url),
            ) from None
        return raw

    def _to_token(self, raw: dict[str, Any], started: float) -> Token:
        access = str(raw.get("access_token") or "")
        id_token = raw.get("id_token")
        register_secret(access, id_token if isinstance(id_token, str) else None)
        try:
            lifetime = float(raw.get("expires_in") or constants.TOKEN_LIFETIME_S)
        except (TypeError, ValueError):
            lifetime = float(constants.TOKEN_LIFETIME_S)
        return Token(
            access_token=access,
            expires_at=started + lifetime,
            obtained_at=started,
            scope=_scope_text(raw.get("scope")),
            token_type=str(raw.get("token_type") or "Bearer"),
            id_token=id_token if isinstance(id_token, str) else None,
        )


def _scope_text(scope: Any) -> str:
    # oauthlib hands the granted scope back as a list; the server sent a string.
    if isinstance(scope, list | tuple | set):
        return " ".join(str(s) for s in scope)
    return str(scope or "")


class _TokenSession(OAuth2Session):  # type: ignore[misc]
    """OAuth2Session that lets plain http through for loopback hosts only.

    requests-oauthlib refuses every ``http://`` token URL unless
    OAUTHLIB_INSECURE_TRANSPORT is set, which would switch the check off for
    every host in the process. The settings have already refused plain http
    for anything but loopback; for a loopback URL this session hands
    ``fetch_token`` the https spelling of it, which passes the check, and
    sends the request to the real http URL.
    """

    _real_url: str | None = None
    _shown_url: str | None = None

    def fetch(self, url: str, **kwargs: Any) -> dict[str, Any]:
        parts = urlsplit(url)
        if parts.scheme == "http" and is_loopback(parts.hostname or ""):
            self._real_url = url
            self._shown_url = parts._replace(scheme="https").geturl()
            url = self._shown_url
        token: dict[str, Any] = self.fetch_token(url, **kwargs)
        return token

    def request(
        self, method: str, url: str, *args: Any, **kwargs: Any
    ) -> requests.Response:
        if self._real_url is not None and url == self._shown_url:
            kwargs.pop("withhold_token", None)
            return requests.Session.request(
                self, method, self._real_url, *args, **kwargs
            )
        response: requests.Response = super().request(method, url, *args, **kwargs)
        return response


def _token_adapter() -> HTTPAdapter:
    # Asking again for a token is harmless, so the POST is retried on the
    # answers of a proxy or an overloaded server, a few times.
    retry = Retry(
        total=2,
        connect=2,
        read=False,
        status=2,
        backoff_factor=0.5,
        backoff_jitter=0.25,
        status_forcelist=(502, 503, 504),
        allowed_methods=frozenset({"POST"}),
        raise_on_status=False,
        respect_retry_after_header=True,
    )
    return HTTPAdapter(max_retries=retry)


def _check_response(response: requests.Response) -> requests.Response:
    """Turn any answer but a JSON token into an :class:`AuthError`.

    Runs as requests-oauthlib's ``access_token_response`` hook, before oauthlib
    parses the body: oauthlib would report an HTML error page or a 500 as
    "missing access token" and lose the status.
    """
    status = response.status_code
    ctype = response.headers.get("Content-Type", "")
    payload = _json_or_none(response)
    url = mask_url(response.url)
    excerpt = _excerpt(response)
    if isinstance(payload, dict) and status == 200 and payload.get("access_token"):
        return response
    if isinstance(payload, dict) and payload.get("error"):
        raise _oauth_error(status, payload, url, excerpt)
    what = f"HTTP {status}, {ctype or 'no content type'}"
    if status == 200:
        problem = "answered without a token"
    elif status >= 500:
        problem = "failed"
    else:
        problem = "refused the request"
    raise AuthError(
        f"The identity server {problem} ({what}): {excerpt!r}. "
        + _hint_for_status(status),
        status=status,
        method="POST",
        url=url,
        body_start=excerpt,
    )


def _oauth_error(
    status: int, payload: dict[str, Any], url: str, excerpt: str
) -> AuthError:
    error = str(payload.get("error"))
    description = str(payload.get("error_description") or "")
    if error in _CREDENTIAL_ERRORS or status == 401:
        return CredentialsError(
            f"Login refused (HTTP {status}, {error}: {description}). Check "
            "ARSO_CLIENT_ID and ARSO_CLIENT_SECRET, and that they belong to this "
            "environment (test and prod have separate credentials).",
            hint=CREDENTIALS_HELP,
            status=status,
            method="POST",
            url=url,
            body_start=excerpt,
            error=error,
            error_description=description,
        )
    detail = f"HTTP {status}, {error}: {description}"
    if error == "invalid_scope":
        detail += f" (requested scope: {constants.SCOPE!r})"
    return AuthError(
        f"The identity server refused the token request ({detail}). "
        + _hint_for_status(status),
        status=status,
        method="POST",
        url=url,
        body_start=excerpt,
        error=error,
        error_description=description,
    )


def _hint_for_status(status: int) -> str:
    if status >= 500 or status == 200:
        return (
            "This is on the server's side or a proxy's; try again later, and "
            "check ARSO_AUTH_URL if it persists."
        )
    return "Check ARSO_AUTH_URL and the realm; the request is the documented one."


def _json_or_none(response: requests.Response) -> Any:
    try:
        return json.loads(response.content.decode("utf-8-sig"))
    except (ValueError, UnicodeDecodeError):
        return None


def _excerpt(response: requests.Response, limit: int = 300) -> str:
    text = response.content[: limit * 4].decode(
        response.encoding or "utf-8", errors="replace"
    )
    if not response.encoding or response.encoding.lower() == "iso-8859-1":
        text = response.content[: limit * 4].decode("utf-8", errors="replace")
    return " ".join(text.split())[:limit]


def _limit(timeout: Timeout) -> str:
    if isinstance(timeout, tuple):
        return f"{timeout[0]:g}/{timeout[1]:g}"
    return f"{timeout:g}"


def transport_error(
    exc: requests.exceptions.RequestException,
    method: str,
    url: str,
    timeout: Timeout,
) -> TransportError:
    """Translate a requests failure (no HTTP answer) into our error."""
    masked = mask_url(url)
    if _is_timeout(exc):
        return RequestTimeoutError(
            f"{method} {masked} got no answer within {_limit(timeout)} s "
            "(connect/read limit). The server may be slow or unreachable; raise "
            "the timeout or try later.",
            method=method,
            url=masked,
        )
    if isinstance(exc, requests.exceptions.SSLError):
        return TransportError(
            f"TLS to {masked} failed: the certificate was not trusted. Behind a "
            "corporate proxy, point ARSO_CA_BUNDLE at its CA bundle.",
            method=method,
            url=masked,
        )
    return TransportError(
        f"Could not reach {masked} ({type(exc).__name__}). Check the URL, the "
        "network and any proxy (ARSO_PROXY).",
        method=method,
        url=masked,
    )


def _is_timeout(exc: BaseException) -> bool:
    # After retries run out, requests reports a read timeout as a
    # ConnectionError wrapping urllib3's MaxRetryError; look inside.
    # urllib3's NewConnectionError (refused, DNS) subclasses its timeout error
    # for old reasons; it is not a timeout.
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return not isinstance(_reason(exc), urllib3.exceptions.NewConnectionError)
    if isinstance(exc, requests.exceptions.Timeout):
        return True
    reason = _reason(exc)
    return isinstance(reason, urllib3.exceptions.TimeoutError) and not isinstance(
        reason, urllib3.exceptions.NewConnectionError
    )


def _reason(exc: BaseException) -> object:
    for arg in getattr(exc, "args", ()):
        reason = getattr(arg, "reason", None)
        if reason is not None:
            return reason
    return None


__all__ = ["AuthMethod", "Token", "TokenProvider"]
