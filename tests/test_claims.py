"""Token claims: read them, verify them against the realm, never show the token."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from arso_data import (
    ArsoClient,
    IssuerMismatchError,
    NotLoggedInError,
    TokenVerificationError,
    resolve_settings,
)
from arso_data import claims as claims_module
from arso_data.claims import fetch_jwks, read_claims, token_claims, verify_claims
from arso_data.cli import main
from arso_data.sandbox import Sandbox
from arso_data.settings import Settings

ISSUER_AUTH_URL = "http://127.0.0.1:9/auth"


def _segment(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _tamper_signature(token: str) -> str:
    head, payload, signature = token.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    return f"{head}.{payload}.{flipped}"


class LocalRealm:
    """A signing key and its JWKS, to make tokens with chosen claims."""

    def __init__(self, kid: str = "test-key") -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = kid
        self.settings: Settings = resolve_settings(
            env="custom",
            auth_url=ISSUER_AUTH_URL,
            client_id="API_TEL_1",
            client_secret="s",
            dotenv_path=False,
            environ={},
        )

    def jwks(self) -> jwt.PyJWKSet:
        public = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        return jwt.PyJWKSet.from_dict(
            {"keys": [{**public, "kid": self.kid, "alg": "RS256", "use": "sig"}]}
        )

    def token(self, **claims: Any) -> str:
        now = int(time.time())
        payload = {
            "iss": self.settings.issuer,
            "azp": "API_TEL_1",
            "iat": now,
            "exp": now + 300,
            "scope": "openid email profile",
        } | claims
        headers = {"kid": self.kid}
        return jwt.encode(payload, self.key, algorithm="RS256", headers=headers)


@pytest.fixture(scope="module")
def realm() -> LocalRealm:
    return LocalRealm()


# -- reading -------------------------------------------------------------------


def test_claims_of_a_sandbox_token_name_issuer_client_expiry_and_scope(
    client: ArsoClient, sandbox: Sandbox
) -> None:
    token = client.login()

    claims = token_claims(client)

    assert claims.access.issuer == client.settings.issuer
    assert claims.access.client_id == sandbox.client_id
    assert claims.access.scope == "openid email profile"
    assert claims.access.expires is not None
    assert claims.access.expires.timestamp() == pytest.approx(token.expires_at, abs=2)
    assert claims.access.algorithm == "RS256"
    assert not claims.access.verified
    assert claims.id is not None
    assert claims.id.audience == (sandbox.client_id,)


def test_claims_need_a_login_first(client: ArsoClient) -> None:
    with pytest.raises(NotLoggedInError, match="login"):
        token_claims(client)


def test_opaque_token_is_a_clear_error() -> None:
    with pytest.raises(TokenVerificationError, match="not a readable JWT"):
        read_claims("8a1f0c2e-opaque-token")


def test_scope_as_a_list_and_client_id_claim_are_understood(
    realm: LocalRealm,
) -> None:
    token = realm.token(azp=None, client_id="API_TEL_7", scope=None, scp=["a", "b"])

    claims = read_claims(token)

    assert claims.client_id == "API_TEL_7"
    assert claims.scope == "a b"


def test_claims_never_show_the_token(client: ArsoClient) -> None:
    token = client.login()

    claims = token_claims(client)

    shown = repr(claims) + str(claims.access.summary())
    assert token.access_token not in shown
    assert token.id_token is not None
    assert token.id_token not in shown
    signature = token.access_token.rsplit(".", 1)[1]
    assert signature not in shown


# -- verifying -----------------------------------------------------------------


def test_verification_against_the_sandbox_jwks_passes(client: ArsoClient) -> None:
    client.login()

    claims = token_claims(client, verify=True)

    assert claims.access.verified
    assert claims.id is not None
    assert claims.id.verified
    assert claims.access.summary()["verified"] == "yes"


def test_token_verified_against_another_environment_fails_clearly(
    client: ArsoClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = client.login()
    prod = resolve_settings(env="prod", dotenv_path=False, environ={})

    def no_fetch(*args: object, **kwargs: object) -> None:
        raise AssertionError("the keys of another environment must not be fetched")

    monkeypatch.setattr(claims_module, "fetch_jwks", no_fetch)
    with pytest.raises(IssuerMismatchError) as caught:
        verify_claims(token.access_token, prod)

    error = caught.value
    assert error.issuer == client.settings.issuer
    assert error.expected_issuer == "https://prijava.arso.gov.si/auth/realms/arso"
    assert "'prod'" in str(error)
    assert client.settings.issuer in str(error)
    assert token.access_token not in str(error)


def test_tampered_signature_fails_verification(client: ArsoClient) -> None:
    token = client.login()

    with pytest.raises(TokenVerificationError, match="Signature verification") as e:
        verify_claims(_tamper_signature(token.access_token), client.settings)

    assert not isinstance(e.value, IssuerMismatchError)


def test_tampered_claims_fail_verification(realm: LocalRealm) -> None:
    head, _, signature = realm.token().split(".")
    forged = _segment({"iss": realm.settings.issuer, "azp": "API_TEL_2", "exp": 2**40})

    with pytest.raises(TokenVerificationError, match="Signature verification"):
        verify_claims(f"{head}.{forged}.{signature}", realm.settings, jwks=realm.jwks())


def test_expired_token_fails_verification(realm: LocalRealm) -> None:
    token = realm.token(exp=int(time.time()) - 120)

    with pytest.raises(TokenVerificationError, match="expired"):
        verify_claims(token, realm.settings, jwks=realm.jwks())


def test_encryption_keys_published_beside_the_signing_key_are_ignored(
    realm: LocalRealm,
) -> None:
    # Keycloak's certs endpoint lists an RSA-OAEP "enc" key too.
    public = json.loads(RSAAlgorithm.to_jwk(realm.key.public_key()))
    keys = jwt.PyJWKSet.from_dict(
        {
            "keys": [
                {**public, "kid": "enc", "alg": "RSA-OAEP", "use": "enc"},
                {**public, "kid": realm.kid, "alg": "RS256", "use": "sig"},
            ]
        }
    )

    assert verify_claims(realm.token(), realm.settings, jwks=keys).verified


def test_key_the_realm_does_not_publish_fails(realm: LocalRealm) -> None:
    token = LocalRealm(kid="rotated-away").token()

    with pytest.raises(TokenVerificationError, match="rotated-away"):
        verify_claims(token, realm.settings, jwks=realm.jwks())


def test_shared_secret_algorithm_is_refused(realm: LocalRealm) -> None:
    payload = {"iss": realm.settings.issuer, "exp": int(time.time()) + 60}
    token = jwt.encode(payload, "k" * 32, algorithm="HS256")

    with pytest.raises(TokenVerificationError, match="HS256"):
        verify_claims(token, realm.settings, jwks=realm.jwks())


def test_id_token_for_another_client_fails(realm: LocalRealm) -> None:
    token = realm.token(aud="API_TEL_OTHER")

    with pytest.raises(TokenVerificationError, match="(?i)audience"):
        verify_claims(token, realm.settings, kind="id", jwks=realm.jwks())


def test_id_token_for_this_client_verifies(realm: LocalRealm) -> None:
    token = realm.token(aud="API_TEL_1")

    claims = verify_claims(token, realm.settings, kind="id", jwks=realm.jwks())

    assert claims.verified
    assert claims.kind == "id"


def test_unreachable_key_set_is_a_clear_error(sandbox: Sandbox) -> None:
    settings = resolve_settings(
        env="custom",
        auth_url=sandbox.auth_url,
        realm="no-such-realm",
        dotenv_path=False,
        environ={},
    )

    with pytest.raises(TokenVerificationError, match="HTTP 404") as caught:
        fetch_jwks(settings)

    assert caught.value.status == 404


# -- the command line ----------------------------------------------------------


@pytest.fixture
def _no_ambient_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("ARSO_ENV", "ARSO_CLIENT_ID", "ARSO_CLIENT_SECRET", "ARSO_API_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def _cli_args(sb: Sandbox) -> list[str]:
    return ["--env", "sandbox", "--auth-url", sb.auth_url, "--api-url", sb.api_url]


@pytest.mark.usefixtures("_no_ambient_settings")
def test_cli_token_shows_issuer_and_expiry_from_the_claims(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["token", *_cli_args(sandbox)]) == 0

    out = capsys.readouterr().out
    assert f"issuer       {sandbox.auth_url}/realms/arso" in out
    assert "the token's exp claim" in out
    assert "verified" not in out
    assert "eyJ" not in out


@pytest.mark.usefixtures("_no_ambient_settings")
def test_cli_token_verify_checks_signature_and_issuer(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["token", "--verify", *_cli_args(sandbox)]) == 0

    out = capsys.readouterr().out
    assert "verified     signature and issuer match SANDBOX" in out
    assert "eyJ" not in out
