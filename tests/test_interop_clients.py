"""Independent clients against the sandbox.

The sandbox stands in for ARSO's Keycloak in every other test; these show that
it speaks the standard, not a dialect only arso-data understands. Each client,
written by someone else, gets a token and the sandbox's API accepts it:
python-keycloak's ``KeycloakOpenID``, authlib's ``OAuth2Session`` and the
``curl`` command of ARSO's source document.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from keycloak import KeycloakOpenID

from arso_data import constants
from arso_data.sandbox import Sandbox

pytestmark = pytest.mark.interop


def api_accepts(sandbox: Sandbox, access_token: str) -> bool:
    """True when the sandbox API answers 200 to a plain GET with this token."""
    answer = requests.get(
        sandbox.api_url + "/parametri",
        headers={"Authorization": f"Bearer {access_token}"},
        timeout=10,
    )
    return answer.status_code == 200 and isinstance(answer.json(), list)


def keycloak_client(sandbox: Sandbox) -> KeycloakOpenID:
    return KeycloakOpenID(
        server_url=sandbox.auth_url + "/",
        realm_name=constants.REALM,
        client_id=sandbox.client_id,
        client_secret_key=sandbox.client_secret,
        timeout=10,
    )


def test_python_keycloak_reads_the_well_known_document(sandbox: Sandbox) -> None:
    document = keycloak_client(sandbox).well_known()

    issuer = f"{sandbox.auth_url}/realms/{constants.REALM}"
    assert document["issuer"] == issuer
    assert document["token_endpoint"] == issuer + "/protocol/openid-connect/token"
    assert document["jwks_uri"] == issuer + "/protocol/openid-connect/certs"
    assert "client_credentials" in document["grant_types_supported"]


def test_python_keycloak_client_credentials_token_is_accepted(
    sandbox: Sandbox,
) -> None:
    keycloak = keycloak_client(sandbox)

    token = keycloak.token(grant_type="client_credentials")

    assert token["token_type"] == "Bearer"
    assert api_accepts(sandbox, token["access_token"])
    # python-keycloak checks the signature itself, with the realm's JWKS.
    claims = keycloak.decode_token(token["access_token"])
    assert claims["azp"] == sandbox.client_id


@pytest.mark.parametrize("method", ["client_secret_post", "client_secret_basic"])
def test_authlib_client_credentials_token_is_accepted(
    sandbox: Sandbox, method: str
) -> None:
    before = sandbox.stats.token_requests
    with OAuth2Session(
        sandbox.client_id,
        sandbox.client_secret,
        token_endpoint_auth_method=method,
        scope="openid",
    ) as session:
        token = session.fetch_token(
            sandbox.token_url, grant_type="client_credentials", timeout=10
        )
        # The session itself sends the Bearer header.
        answer = session.get(sandbox.api_url + "/parametri", timeout=10)

    assert token["token_type"] == "Bearer"
    assert answer.status_code == 200
    assert sandbox.stats.token_requests == before + 1
    assert api_accepts(sandbox, token["access_token"])
    sent = sandbox.requests.of_kind("token")[-1]
    basic = sent.headers.get("Authorization", "").startswith("Basic ")
    assert basic == (method == "client_secret_basic")
    assert (b"client_secret=" in sent.body) == (method == "client_secret_post")


def test_source_documents_curl_command_gets_an_accepted_token(
    sandbox: Sandbox, require_tool: Callable[[str, str], str]
) -> None:
    curl = require_tool("curl", "the source document's example is a curl command")
    # The document's command word for word, the URL pointed at the sandbox;
    # -sS, --noproxy and --max-time only keep it quiet, local and bounded.
    command = [
        curl,
        "-sS",
        "--noproxy",
        "*",
        "--max-time",
        "10",
        "-X",
        "POST",
        sandbox.token_url,
        "-H",
        "Content-Type: application/x-www-form-urlencoded",
        "-d",
        "grant_type=client_credentials",
        "-d",
        f"client_id={constants.SANDBOX_CLIENT_ID}",
        "-d",
        f"client_secret={constants.SANDBOX_CLIENT_SECRET}",
        "-d",
        "scope=openid",
    ]

    done = subprocess.run(command, capture_output=True, timeout=20, check=True)

    token = json.loads(done.stdout)
    assert token["token_type"] == "Bearer"
    assert token["refresh_expires_in"] == 0
    assert token["scope"] == "openid email profile"
    assert api_accepts(sandbox, token["access_token"])
