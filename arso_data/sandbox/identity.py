"""The identity server: Keycloak's realm ``arso``, client-credentials only.

Answers as ARSO's Keycloak does (per the source document and Keycloak's own
behaviour): the grant type is checked first (400 ``invalid_request`` when
missing, 400 ``unsupported_grant_type`` when not ``client_credentials``), then
the client (form fields or HTTP Basic, never both; 401 ``invalid_client``),
then the scope (400 ``invalid_scope``).
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import unquote_plus

from flask import Request

from arso_data import constants
from arso_data.sandbox.answers import Answer, error_answer, json_answer
from arso_data.sandbox.faults import Faults, Stats
from arso_data.sandbox.keys import SigningKey

logger = logging.getLogger(__name__)

REALM_PATH = f"/realms/{constants.REALM}"
KNOWN_SCOPES = ("openid", "profile", "email")
#: Scopes Keycloak grants a client by default, whatever it asks for.
DEFAULT_SCOPES = ("email", "profile")
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_BAD_CLIENT = "Invalid client or Invalid client credentials"


class TokenRequestError(Exception):
    """A token request Keycloak would refuse; carries the answer."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.answer = error_answer(status, error, description, dict(_NO_STORE))


@dataclass
class Realm:
    """The realm's clients and key, and what a token request needs."""

    key: SigningKey
    faults: Faults
    stats: Stats
    clients: dict[str, str]

    def token(self, request: Request, issuer: str) -> Answer:
        """``POST .../protocol/openid-connect/token``."""
        try:
            client_id, scope = self._check(request)
        except TokenRequestError as exc:
            return exc.answer
        lifetime = self.faults.token_lifetime
        tokens = self.key.issue(
            client_id=client_id,
            issuer=issuer,
            scope=scope,
            lifetime=lifetime,
            client_host=request.remote_addr or "",
        )
        self.stats.count_token()
        logger.info("token issued to client %s (expires_in %d s)", client_id, lifetime)
        body: dict[str, object] = {
            "access_token": tokens.access_token,
            "expires_in": lifetime,
            "refresh_expires_in": 0,
            "token_type": "Bearer",
        }
        if tokens.id_token is not None:
            body["id_token"] = tokens.id_token
        body |= {"not-before-policy": 0, "scope": scope}
        return json_answer(200, body, dict(_NO_STORE))

    def _check(self, request: Request) -> tuple[str, str]:
        form = request.form
        duplicated = [name for name in form if len(form.getlist(name)) > 1]
        if duplicated:
            raise TokenRequestError(400, "invalid_request", "duplicated parameter")
        grant = form.get("grant_type")
        if not grant:
            message = "Missing form parameter: grant_type"
            raise TokenRequestError(400, "invalid_request", message)
        if grant != "client_credentials":
            raise TokenRequestError(
                400, "unsupported_grant_type", "Unsupported grant_type"
            )
        client_id = self._authenticate(request)
        return client_id, granted_scope(form.get("scope", ""))

    def _authenticate(self, request: Request) -> str:
        client_id, secret = client_credentials(
            request.form, request.headers.get("Authorization", "")
        )
        if not client_id:
            raise TokenRequestError(
                400, "invalid_client", "Missing client_id parameter"
            )
        if secret is None or self.clients.get(client_id) != secret:
            logger.info("token refused: bad credentials for client %s", client_id)
            raise TokenRequestError(401, "invalid_client", _BAD_CLIENT)
        return client_id


def client_credentials(
    form: Mapping[str, str], authorization: str
) -> tuple[str | None, str | None]:
    """The client ID and secret, from the form or from HTTP Basic (not both).

    Basic credentials are form-urlencoded before base64 (RFC 6749, 2.3.1).
    """
    if not authorization.lower().startswith("basic "):
        return form.get("client_id"), form.get("client_secret")
    try:
        decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
        raw_id, raw_secret = decoded.split(":", 1)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        message = "Invalid HTTP Basic authorization header"
        raise TokenRequestError(400, "invalid_request", message) from None
    client_id, secret = unquote_plus(raw_id), unquote_plus(raw_secret)
    form_id = form.get("client_id")
    if "client_secret" in form or (form_id is not None and form_id != client_id):
        message = (
            "Multiple client authentication methods used: send the client "
            "credentials either in the form or with HTTP Basic"
        )
        raise TokenRequestError(400, "invalid_request", message)
    return client_id, secret


def granted_scope(requested: str) -> str:
    """The scope Keycloak grants: ``openid`` if asked, plus the defaults."""
    asked = requested.split()
    unknown = [scope for scope in asked if scope not in KNOWN_SCOPES]
    if unknown:
        raise TokenRequestError(400, "invalid_scope", f"Invalid scopes: {requested}")
    extra = [scope for scope in asked if scope not in ("openid", *DEFAULT_SCOPES)]
    openid = ["openid"] if "openid" in asked else []
    return " ".join([*openid, *DEFAULT_SCOPES, *extra])


def discovery(issuer: str) -> dict[str, object]:
    """``.well-known/openid-configuration`` of the realm."""
    oidc = f"{issuer}/protocol/openid-connect"
    return {
        "issuer": issuer,
        "token_endpoint": f"{oidc}/token",
        "jwks_uri": f"{oidc}/certs",
        "grant_types_supported": ["client_credentials"],
        "response_types_supported": ["token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": [
            "client_secret_post",
            "client_secret_basic",
        ],
        "scopes_supported": list(KNOWN_SCOPES),
        "claims_supported": [
            "aud", "sub", "iss", "exp", "iat", "azp", "typ", "scope",
            "preferred_username", "clientId", "clientHost",
        ],
    }  # fmt: skip


def realm_info(issuer: str, key: SigningKey) -> dict[str, object]:
    """``GET /auth/realms/arso``: the realm's public description."""
    return {
        "realm": constants.REALM,
        "public_key": key.public_key_b64,
        "token-service": f"{issuer}/protocol/openid-connect",
        "account-service": f"{issuer}/account",
        "tokens-not-before": 0,
    }
