"""The sandbox's signing key and the Keycloak-like tokens it signs.

A fresh RSA key is made for every sandbox, so a token of one sandbox never
opens another. Access tokens carry the claims a Keycloak service account gets
(``typ`` ``Bearer``, ``aud`` ``account``, ``azp``, ``realm_access`` ...); ID
tokens carry ``typ`` ``ID`` and ``aud`` = the client ID.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

#: The realm role the example API asks for (the ``forbidden`` fault says it
#: is missing). ``MON_TELEMETRIJA`` itself is the role that manages credentials.
API_ROLE = "MON_TELEMETRIJA_API"
_REALM_ROLES = ["default-roles-arso", "offline_access", "uma_authorization", API_ROLE]
_ACCOUNT_ROLES = ["manage-account", "manage-account-links", "view-profile"]
#: How many issue times :class:`SigningKey` remembers (for revocation checks).
_ISSUED_CAP = 100_000


@dataclass(frozen=True)
class IssuedTokens:
    """What one token request produced."""

    access_token: str
    id_token: str | None
    jti: str
    issued_at: float


class SigningKey:
    """An RS256 key pair with its JWK, and the tokens it has issued."""

    def __init__(self) -> None:
        self._private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.public_key = self._private.public_key()
        jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(self.public_key))
        self.kid = _thumbprint(jwk)
        self.jwk = {"kid": self.kid, "kty": "RSA", "alg": "RS256", "use": "sig"}
        self.jwk |= {"n": jwk["n"], "e": jwk["e"]}
        self._issued: dict[str, float] = {}
        self._lock = threading.Lock()

    @property
    def public_key_b64(self) -> str:
        """The public key as base64 DER, the form Keycloak's realm page shows."""
        der = self.public_key.public_bytes(
            serialization.Encoding.DER,
            serialization.PublicFormat.SubjectPublicKeyInfo,
        )
        return base64.b64encode(der).decode()

    def issue(
        self,
        *,
        client_id: str,
        issuer: str,
        scope: str,
        lifetime: int,
        client_host: str,
    ) -> IssuedTokens:
        """Sign an access token (and an ID token when ``openid`` is in scope)."""
        now = time.time()
        jti = str(uuid.uuid4())
        common = _common_claims(client_id, issuer, int(now), lifetime, client_host)
        access = self._sign(
            {**common, "jti": jti, "aud": "account", "typ": "Bearer"}
            | _access_claims(scope)
        )
        id_token = None
        if "openid" in scope.split():
            at_hash = _at_hash(access)
            id_claims = {"jti": str(uuid.uuid4()), "aud": client_id, "typ": "ID"}
            id_token = self._sign({**common, **id_claims, "at_hash": at_hash})
        self._remember(jti, now)
        return IssuedTokens(access, id_token, jti, now)

    def verify(self, token: str, issuer: str) -> dict[str, Any]:
        """Return the claims of a valid access token, else raise a PyJWT error."""
        claims: dict[str, Any] = jwt.decode(
            token,
            self.public_key,
            algorithms=["RS256"],
            issuer=issuer,
            audience="account",
            options={"require": ["exp", "iat", "iss", "jti", "typ"]},
        )
        if claims["typ"] != "Bearer":
            raise jwt.InvalidTokenError(f"Token type {claims['typ']} not allowed")
        return claims

    def issued_at(self, claims: dict[str, Any]) -> float:
        """The exact issue time of a token (its ``iat`` if forgotten)."""
        with self._lock:
            return self._issued.get(claims["jti"], float(claims["iat"]))

    def _sign(self, claims: dict[str, Any]) -> str:
        headers = {"kid": self.kid, "typ": "JWT"}
        return jwt.encode(claims, self._private, algorithm="RS256", headers=headers)

    def _remember(self, jti: str, issued_at: float) -> None:
        with self._lock:
            if len(self._issued) >= _ISSUED_CAP:
                self._issued.pop(next(iter(self._issued)))
            self._issued[jti] = issued_at


def _common_claims(
    client_id: str, issuer: str, iat: int, lifetime: int, client_host: str
) -> dict[str, Any]:
    return {
        "exp": iat + lifetime,
        "iat": iat,
        "iss": issuer,
        "sub": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{issuer}/clients/{client_id}")),
        "azp": client_id,
        "acr": "1",
        "email_verified": False,
        "clientId": client_id,
        "clientHost": client_host,
        "clientAddress": client_host,
        "preferred_username": f"service-account-{client_id.lower()}",
    }


def _access_claims(scope: str) -> dict[str, Any]:
    return {
        "allowed-origins": ["/*"],
        "realm_access": {"roles": list(_REALM_ROLES)},
        "resource_access": {"account": {"roles": list(_ACCOUNT_ROLES)}},
        "scope": scope,
    }


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638 thumbprint: a stable ``kid`` derived from the key itself."""
    canonical = json.dumps(
        {"e": jwk["e"], "kty": "RSA", "n": jwk["n"]}, separators=(",", ":")
    )
    return _b64url(hashlib.sha256(canonical.encode()).digest())


def _at_hash(access_token: str) -> str:
    """OIDC ``at_hash``: the left half of the token's SHA-256, base64url."""
    digest = hashlib.sha256(access_token.encode("ascii")).digest()
    return _b64url(digest[: len(digest) // 2])
