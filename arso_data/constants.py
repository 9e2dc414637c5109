"""Facts shared by the library and the sandbox.

This module imports nothing of the package, so that the sandbox can use it
without importing the connector.
"""

from __future__ import annotations

from typing import Final

REALM: Final = "arso"
TOKEN_PATH: Final = "/realms/{realm}/protocol/openid-connect/token"
WELL_KNOWN_PATH: Final = "/realms/{realm}/.well-known/openid-configuration"
CERTS_PATH: Final = "/realms/{realm}/protocol/openid-connect/certs"

#: Identity servers named by ARSO's source document (Keycloak, realm ``arso``).
AUTH_URLS: Final = {
    "test": "https://prijava-test.arso.gov.si/auth",
    "prod": "https://prijava.arso.gov.si/auth",
}

#: Where ``arso-data sandbox`` listens unless told otherwise.
SANDBOX_HOST: Final = "127.0.0.1"
SANDBOX_PORT: Final = 8765
#: Prefixes inside the sandbox: the identity server and the example API.
SANDBOX_AUTH_PREFIX: Final = "/auth"
SANDBOX_API_PREFIX: Final = "/api/telemetrija/v1"

#: The sandbox's demo client. The ID and secret are the example of ARSO's
#: source document; they open nothing but the local sandbox.
SANDBOX_CLIENT_ID: Final = "API_TEL_2632632000"
SANDBOX_CLIENT_SECRET: Final = "1yAyzmlq1wTdIlHqFRDEBNsPTX3F0ZmS"  # noqa: S105

#: The token lifetime ARSO's identity server grants (10 hours).
TOKEN_LIFETIME_S: Final = 36000
#: The scope the source document asks for.
SCOPE: Final = "openid"
#: The role needed in IS Monitoring to manage API credentials.
CREDENTIALS_ROLE: Final = "MON_TELEMETRIJA"
LOCAL_TZ: Final = "Europe/Ljubljana"


def sandbox_base_url(host: str = SANDBOX_HOST, port: int = SANDBOX_PORT) -> str:
    """Return ``http://host:port`` of a sandbox."""
    return f"http://{host}:{port}"
