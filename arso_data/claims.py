"""What the current tokens say about themselves: issuer, client, expiry, scope.

ARSO's access and ID tokens are JWTs signed with the realm's RS256 key. Their
claims tell which identity server issued them (``iss``: the test or the prod
realm), for which client (``azp``), until when (``exp``) and for what
(``scope``). Reading them needs no key; *trusting* them needs the signature
checked against the keys the realm publishes
(``{auth_url}/realms/{realm}/protocol/openid-connect/certs``) and the issuer
compared with the chosen environment, which is what ``verify=True`` does. That
is how a user confirms that a session talks to prod and not to test.

The tokens themselves are never part of what this module returns or raises.

>>> from arso_data import ArsoClient                             # doctest: +SKIP
>>> from arso_data.claims import token_claims                   # doctest: +SKIP
>>> client = ArsoClient(env="sandbox"); client.login()          # doctest: +SKIP
>>> token_claims(client, verify=True).access.issuer             # doctest: +SKIP
'http://127.0.0.1:8765/auth/realms/arso'
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final, Literal

import jwt
import requests

from . import constants
from ._redact import mask_url
from .auth import transport_error
from .errors import IssuerMismatchError, NotLoggedInError, TokenVerificationError

if TYPE_CHECKING:
    from .client import ArsoClient
    from .settings import Settings

logger = logging.getLogger(__name__)

TokenKind = Literal["access", "id"]

#: Signature algorithms accepted when verifying: asymmetric ones only, so that
#: a token can never choose a shared-secret algorithm keyed with a public key.
ALGORITHMS: Final = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
)
#: Claims that name the client, in the order servers use them (Keycloak puts
#: it in ``azp`` and, for service accounts, ``clientId`` or ``client_id``).
CLIENT_CLAIMS: Final = ("azp", "client_id", "clientId", "cid")
JWKS_TIMEOUT: Final = (10.0, 30.0)


@dataclass(frozen=True)
class Claims:
    """The claims of one token, and whether they were verified.

    Attributes
    ----------
    kind
        ``"access"`` or ``"id"``.
    issuer
        ``iss``: the realm that issued the token.
    client_id
        The client the token was issued to (``azp``, else ``client_id``).
    subject, audience, scope
        ``sub``; ``aud`` as a tuple; ``scope`` (or ``scp``) as one string.
    issued_at, expires
        ``iat`` and ``exp`` as aware UTC datetimes (None when absent).
    algorithm, key_id
        ``alg`` and ``kid`` from the token's header.
    verified
        True when the signature was checked against the realm's published
        keys and the issuer against the chosen environment.
    raw
        Every claim, as decoded (the signature and the token are not kept).
    """

    kind: TokenKind
    issuer: str | None
    client_id: str | None
    subject: str | None
    audience: tuple[str, ...]
    scope: str | None
    issued_at: datetime | None
    expires: datetime | None
    algorithm: str | None
    key_id: str | None
    verified: bool = False
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def expires_in(self, now: float | None = None) -> float | None:
        """Seconds until ``exp`` (negative once expired), or None without one."""
        if self.expires is None:
            return None
        return self.expires.timestamp() - (time.time() if now is None else now)

    def summary(self) -> dict[str, str]:
        """Label and text pairs for a status display (never the token)."""
        expires = (
            self.expires.astimezone().isoformat(timespec="seconds")
            if self.expires
            else "-"
        )
        return {
            "issuer": self.issuer or "-",
            "client": self.client_id or "-",
            "expires": expires,
            "scope": self.scope or "-",
            "verified": "yes" if self.verified else "no (claims read, not checked)",
        }


@dataclass(frozen=True)
class TokenClaims:
    """The claims of a client's current access token and ID token."""

    access: Claims
    id: Claims | None = None


def read_claims(token: str, *, kind: TokenKind = "access") -> Claims:
    """Read a JWT's claims without checking its signature.

    Raises
    ------
    TokenVerificationError
        The token is not a JWT (for example an opaque token).
    """
    try:
        header = jwt.get_unverified_header(token)
        payload = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise TokenVerificationError(
            f"The {kind} token is not a readable JWT ({type(exc).__name__}); "
            "its claims cannot be shown. Some servers issue opaque tokens."
        ) from None
    return _to_claims(kind, header, payload, verified=False)


def verify_claims(
    token: str,
    settings: Settings,
    *,
    kind: TokenKind = "access",
    jwks: jwt.PyJWKSet | None = None,
    leeway: float = 30.0,
) -> Claims:
    """Check a token's issuer, signature and expiry, and return its claims.

    The issuer is compared first, before anything is fetched: a token of
    another environment fails without contacting that environment. Then the
    signature is checked against ``jwks`` or, when omitted, the keys the realm
    publishes at ``{auth_url}/realms/{realm}/protocol/openid-connect/certs``.
    An ID token's audience must be the configured client ID; an access token's
    audience is not checked (ARSO does not document it).

    Parameters
    ----------
    settings
        The chosen environment: its ``issuer`` is what the token must name.
    leeway
        Seconds of clock difference tolerated on ``exp``, ``iat`` and ``nbf``.

    Raises
    ------
    IssuerMismatchError
        The token names another issuer than the chosen environment's.
    TokenVerificationError
        Bad signature, unknown key, expired, wrong audience, unreadable.
    TransportError
        The realm's keys could not be fetched.
    """
    unverified = read_claims(token, kind=kind)
    _check_issuer(unverified, settings)
    keys = jwks if jwks is not None else fetch_jwks(settings)
    key = _signing_key(keys, unverified)
    audience = settings.client_id if kind == "id" else None
    try:
        payload = jwt.decode(
            token,
            key.key,
            algorithms=[unverified.algorithm or ""],
            issuer=settings.issuer,
            audience=audience,
            leeway=leeway,
            options={"require": ["exp", "iss"], "verify_aud": audience is not None},
        )
    except jwt.PyJWTError as exc:
        raise TokenVerificationError(
            f"The {kind} token failed verification against the keys of "
            f"{settings.issuer}: {_reason(exc)}.",
            url=mask_url(_certs_url(settings)),
        ) from None
    header = {"alg": unverified.algorithm, "kid": unverified.key_id}
    return _to_claims(kind, header, payload, verified=True)


def token_claims(client: ArsoClient, *, verify: bool = False) -> TokenClaims:
    """Claims of ``client``'s current access token and ID token.

    Parameters
    ----------
    verify
        Check each token's signature against the realm's published keys and
        its issuer against the client's environment (one request for the
        keys). Without it the claims are read as they are.

    Raises
    ------
    NotLoggedInError
        The client holds no token yet: call ``client.login()`` first.
    IssuerMismatchError, TokenVerificationError
        With ``verify=True``: the token does not check out.
    """
    token = client.token
    if token is None:
        raise NotLoggedInError(
            "No token yet, so no claims to show: call client.login() first."
        )
    settings = client.settings
    if not verify:
        access = read_claims(token.access_token, kind="access")
        id_claims = read_claims(token.id_token, kind="id") if token.id_token else None
        return TokenClaims(access, id_claims)
    # The issuer first, so that another environment's token fails before
    # anything is fetched.
    _check_issuer(read_claims(token.access_token, kind="access"), settings)
    keys = fetch_jwks(settings)
    access = verify_claims(token.access_token, settings, kind="access", jwks=keys)
    id_claims = (
        verify_claims(token.id_token, settings, kind="id", jwks=keys)
        if token.id_token
        else None
    )
    return TokenClaims(access, id_claims)


def fetch_jwks(
    settings: Settings, *, timeout: float | tuple[float, float] = JWKS_TIMEOUT
) -> jwt.PyJWKSet:
    """Fetch the realm's published signing keys (its JWKS).

    The request honours the settings' CA bundle and proxy, like the token
    request; it carries no credentials.
    """
    url = _certs_url(settings)
    started = time.perf_counter()
    try:
        response = requests.get(
            url,
            timeout=timeout,
            verify=settings.verify,
            proxies=settings.proxies,
            headers={"Accept": "application/json"},
        )
    except requests.exceptions.RequestException as exc:
        raise transport_error(exc, "GET", url, timeout) from None
    logger.info(
        "GET %s -> %s (%.2f s)",
        mask_url(url),
        response.status_code,
        time.perf_counter() - started,
    )
    return _to_jwks(response, url)


def _to_jwks(response: requests.Response, url: str) -> jwt.PyJWKSet:
    if response.status_code != 200:
        raise TokenVerificationError(
            f"The realm's keys could not be fetched (HTTP {response.status_code}). "
            "Check ARSO_AUTH_URL and ARSO_REALM.",
            status=response.status_code,
            method="GET",
            url=mask_url(url),
            body_start=response.text[:300],
        )
    try:
        return jwt.PyJWKSet.from_dict(response.json())
    except (ValueError, jwt.PyJWTError) as exc:
        raise TokenVerificationError(
            f"The realm's key set at {mask_url(url)} could not be read "
            f"({_reason(exc)}).",
            status=response.status_code,
            method="GET",
            url=mask_url(url),
        ) from None


def _certs_url(settings: Settings) -> str:
    return settings.auth_url + constants.CERTS_PATH.format(realm=settings.realm)


def _check_issuer(claims: Claims, settings: Settings) -> None:
    if claims.issuer == settings.issuer:
        return
    raise IssuerMismatchError(
        f"The {claims.kind} token was issued by {claims.issuer!r}, but the "
        f"{settings.env!r} environment's issuer is {settings.issuer!r}: this "
        "token belongs to another environment or realm. Check ARSO_ENV, "
        "ARSO_AUTH_URL and ARSO_REALM (test and prod have separate credentials).",
        issuer=claims.issuer,
        expected_issuer=settings.issuer,
    )


def _signing_key(keys: jwt.PyJWKSet, claims: Claims) -> jwt.PyJWK:
    if claims.algorithm not in ALGORITHMS:
        raise TokenVerificationError(
            f"The {claims.kind} token is signed with {claims.algorithm!r}; only "
            f"public-key algorithms are accepted ({', '.join(ALGORITHMS)})."
        )
    candidates = [k for k in keys.keys if claims.key_id in (None, k.key_id)]
    if not candidates:
        known = ", ".join(str(k.key_id) for k in keys.keys) or "none"
        raise TokenVerificationError(
            f"The {claims.kind} token names key {claims.key_id!r}, which the realm "
            f"does not publish (published: {known}). The key may have been "
            "rotated: log in again."
        )
    return candidates[0]


def _to_claims(
    kind: TokenKind,
    header: Mapping[str, Any],
    payload: Mapping[str, Any],
    *,
    verified: bool,
) -> Claims:
    audience = payload.get("aud")
    if isinstance(audience, str):
        audiences: tuple[str, ...] = (audience,)
    elif isinstance(audience, list):
        audiences = tuple(str(a) for a in audience)
    else:
        audiences = ()
    scope = payload.get("scope") or payload.get("scp")
    if isinstance(scope, list):
        scope = " ".join(str(s) for s in scope)
    client = next((payload[c] for c in CLIENT_CLAIMS if payload.get(c)), None)
    return Claims(
        kind=kind,
        issuer=_text(payload.get("iss")),
        client_id=_text(client),
        subject=_text(payload.get("sub")),
        audience=audiences,
        scope=_text(scope),
        issued_at=_time(payload.get("iat")),
        expires=_time(payload.get("exp")),
        algorithm=_text(header.get("alg")),
        key_id=_text(header.get("kid")),
        verified=verified,
        raw=dict(payload),
    )


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _time(value: Any) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return datetime.fromtimestamp(value, tz=UTC)
    except (OverflowError, OSError, ValueError):  # a forged or absurd time
        return None


def _reason(exc: Exception) -> str:
    # PyJWT's messages name the failed check ("Signature verification failed",
    # "Signature has expired", "Invalid audience"); they never include the token.
    return str(exc) or type(exc).__name__


__all__ = [
    "ALGORITHMS",
    "Claims",
    "TokenClaims",
    "TokenKind",
    "fetch_jwks",
    "read_claims",
    "token_claims",
    "verify_claims",
]
