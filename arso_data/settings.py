"""Where arso-data connects, and with which credentials.

One rule decides every value: an explicit argument wins over the process
environment, which wins over a ``.env`` file (found from the working folder
upwards), which wins over the environment's defaults.

=====================  =====================================================
variable               meaning
=====================  =====================================================
``ARSO_ENV``           ``test`` (default), ``prod``, ``sandbox`` or ``custom``
``ARSO_CLIENT_ID``     the organisation's client ID (``API_TEL_<digits>``)
``ARSO_CLIENT_SECRET`` its secret
``ARSO_AUTH_URL``      identity server base URL (``.../auth``)
``ARSO_API_URL``       telemetry API base URL
``ARSO_REALM``         Keycloak realm (``arso``)
``ARSO_CA_BUNDLE``     CA bundle for TLS (else ``REQUESTS_CA_BUNDLE``)
``ARSO_PROXY``         HTTP(S) proxy URL; empty means none
``ARSO_LANG``          ``en`` or ``sl`` for messages
=====================  =====================================================
"""

from __future__ import annotations

import io
import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from . import constants
from ._redact import MASK, register_client
from .errors import ConfigError

Environment = Literal["test", "prod", "sandbox", "custom"]
ENVIRONMENTS: tuple[Environment, ...] = ("test", "prod", "sandbox", "custom")

#: Every setting's variable name, defined once.
VARIABLES: Mapping[str, str] = {
    "env": "ARSO_ENV",
    "client_id": "ARSO_CLIENT_ID",
    "client_secret": "ARSO_CLIENT_SECRET",
    "auth_url": "ARSO_AUTH_URL",
    "api_url": "ARSO_API_URL",
    "realm": "ARSO_REALM",
    "ca_bundle": "ARSO_CA_BUNDLE",
    "proxy": "ARSO_PROXY",
    "lang": "ARSO_LANG",
}

CREDENTIALS_HELP = (
    "API credentials are created in IS Monitoring: Administracija > "
    "Telemetrija – API poverilnice (role MON_TELEMETRIJA). The secret is shown "
    "once; if it is lost, delete the credentials there and create new ones."
)


class Secret:
    """A string that does not show itself in a repr, str or f-string."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """Return the secret itself, for the one place that must send it."""
        return self._value

    def __repr__(self) -> str:
        return MASK

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class Settings:
    """Resolved connection settings. Build them with :func:`resolve_settings`."""

    env: Environment
    auth_url: str
    api_url: str | None = None
    client_id: str | None = None
    client_secret: Secret | None = field(default=None, repr=False)
    realm: str = constants.REALM
    ca_bundle: str | None = None
    proxy: str | None = None
    lang: str = "en"
    dotenv_path: Path | None = None
    #: Where each value came from: "argument", "environment", ".env", "default".
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)

    @property
    def token_url(self) -> str:
        """The token endpoint of the source document, under ``auth_url``."""
        return self.auth_url + constants.TOKEN_PATH.format(realm=self.realm)

    @property
    def issuer(self) -> str:
        """The issuer a token of this environment names (``iss`` claim)."""
        return f"{self.auth_url}/realms/{self.realm}"

    @property
    def well_known_url(self) -> str:
        """The realm's OpenID discovery document."""
        return self.auth_url + constants.WELL_KNOWN_PATH.format(realm=self.realm)

    @property
    def verify(self) -> str | bool:
        """What requests needs for TLS verification: a CA bundle path or True."""
        return self.ca_bundle or True

    @property
    def proxies(self) -> dict[str, str] | None:
        """Proxies for requests, or None to use none of ours."""
        return {"http": self.proxy, "https": self.proxy} if self.proxy else None

    def require_credentials(self) -> tuple[str, str]:
        """Return (client ID, secret) or say which variable to set."""
        if not self.client_id:
            raise ConfigError(
                "No client ID: set ARSO_CLIENT_ID (argument client_id=, the "
                "environment or a .env file). " + CREDENTIALS_HELP,
                variable="ARSO_CLIENT_ID",
            )
        if not self.client_secret:
            raise ConfigError(
                "No client secret: set ARSO_CLIENT_SECRET (argument "
                "client_secret=, the environment or a .env file). " + CREDENTIALS_HELP,
                variable="ARSO_CLIENT_SECRET",
            )
        return self.client_id, self.client_secret.reveal()

    def require_api_url(self) -> str:
        """Return the API base URL or say how to set it."""
        if not self.api_url:
            raise ConfigError(
                f"No API base URL for environment {self.env!r}: set ARSO_API_URL "
                "to the telemetry API's base URL (ARSO's token document does not "
                "name it), or use ARSO_ENV=sandbox to try the local sandbox.",
                variable="ARSO_API_URL",
            )
        return self.api_url

    def with_sandbox(self, base_url: str) -> Settings:
        """The same settings pointed at a sandbox running at ``base_url``."""
        return replace(
            self,
            env="sandbox",
            auth_url=base_url + constants.SANDBOX_AUTH_PREFIX,
            api_url=base_url + constants.SANDBOX_API_PREFIX,
        )


def resolve_settings(
    *,
    env: str | None = None,
    client_id: str | None = None,
    client_secret: str | None = None,
    auth_url: str | None = None,
    api_url: str | None = None,
    realm: str | None = None,
    ca_bundle: str | None = None,
    proxy: str | None = None,
    lang: str | None = None,
    dotenv_path: str | os.PathLike[str] | Literal[False] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Resolve settings from arguments, then the environment, then ``.env``.

    Parameters
    ----------
    env
        ``"test"``, ``"prod"``, ``"sandbox"`` or ``"custom"``.
    dotenv_path
        A ``.env`` file to read; None searches from the working folder
        upwards; False reads none.
    environ
        The process environment to use (default ``os.environ``).

    Raises
    ------
    ConfigError
        A value is unusable: unknown environment, a URL that is not https
        (plain http is allowed for loopback hosts only), a malformed ``.env``.

    Examples
    --------
    >>> s = resolve_settings(env="sandbox", dotenv_path=False, environ={})
    >>> s.token_url
    'http://127.0.0.1:8765/auth/realms/arso/protocol/openid-connect/token'
    """
    environ = os.environ if environ is None else environ
    path = _find_dotenv(dotenv_path)
    dotenv = read_dotenv(path) if path else {}
    given = {
        "env": env,
        "client_id": client_id,
        "client_secret": client_secret,
        "auth_url": auth_url,
        "api_url": api_url,
        "realm": realm,
        "ca_bundle": ca_bundle,
        "proxy": proxy,
        "lang": lang,
    }
    values, sources = _layer(given, environ, dotenv)
    return _build(values, sources, path)


def _layer(
    given: Mapping[str, str | None],
    environ: Mapping[str, str],
    dotenv: Mapping[str, str | None],
) -> tuple[dict[str, str | None], dict[str, str]]:
    values: dict[str, str | None] = {}
    sources: dict[str, str] = {}
    for name, variable in VARIABLES.items():
        for source, layer in (
            ("argument", given.get(name)),
            ("environment", environ.get(variable)),
            (".env", dotenv.get(variable)),
        ):
            if layer is not None and layer.strip() != "":
                values[name] = layer.strip() if name != "client_secret" else layer
                sources[name] = source
                break
        else:
            values[name] = None
    if values["ca_bundle"] is None and environ.get("REQUESTS_CA_BUNDLE"):
        values["ca_bundle"] = environ["REQUESTS_CA_BUNDLE"]
        sources["ca_bundle"] = "environment"
    return values, sources


def _build(
    values: Mapping[str, str | None], sources: dict[str, str], path: Path | None
) -> Settings:
    env = _environment(values["env"])
    auth_url, api_url = _urls(env, values["auth_url"], values["api_url"], sources)
    if env in constants.AUTH_URLS and auth_url != constants.AUTH_URLS[env]:
        # Not ARSO's test or prod identity server: never label it TEST or PROD.
        env = "custom"
    client_id, secret = values["client_id"], values["client_secret"]
    if env == "sandbox" and not client_id and not secret:
        client_id, secret = constants.SANDBOX_CLIENT_ID, constants.SANDBOX_CLIENT_SECRET
        sources["client_id"] = sources["client_secret"] = "default"
    register_client(client_id, secret)
    return Settings(
        env=env,
        auth_url=auth_url,
        api_url=api_url,
        client_id=client_id,
        client_secret=Secret(secret) if secret else None,
        realm=values["realm"] or constants.REALM,
        ca_bundle=values["ca_bundle"],
        proxy=values["proxy"],
        lang=_language(values["lang"]),
        dotenv_path=path,
        sources=sources,
    )


def _environment(value: str | None) -> Environment:
    name = (value or "test").strip().lower()
    for env in ENVIRONMENTS:
        if env == name:
            return env
    raise ConfigError(
        f"Unknown environment {value!r} in ARSO_ENV: use one of "
        + ", ".join(ENVIRONMENTS)
        + ".",
        variable="ARSO_ENV",
    )


def _urls(
    env: Environment,
    auth_url: str | None,
    api_url: str | None,
    sources: dict[str, str],
) -> tuple[str, str | None]:
    sandbox = constants.sandbox_base_url()
    if env == "sandbox":
        auth_url = auth_url or sandbox + constants.SANDBOX_AUTH_PREFIX
        api_url = api_url or sandbox + constants.SANDBOX_API_PREFIX
    elif env == "custom" and not auth_url:
        raise ConfigError(
            "ARSO_ENV=custom needs ARSO_AUTH_URL, the identity server's base URL "
            "(for example https://host/auth).",
            variable="ARSO_AUTH_URL",
        )
    elif env in constants.AUTH_URLS:
        auth_url = auth_url or constants.AUTH_URLS[env]
    sources.setdefault("auth_url", "default")
    checked_auth = check_url(auth_url or "", "ARSO_AUTH_URL")
    checked_api = check_url(api_url, "ARSO_API_URL") if api_url else None
    return checked_auth, checked_api


def check_url(url: str, variable: str) -> str:
    """Return ``url`` without a trailing slash, or refuse it.

    https is required; plain http is accepted only for loopback hosts (a local
    sandbox or test server), so that a credential never crosses a network in
    clear text. Nothing is contacted here.
    """
    try:
        parts = urlsplit(url.strip())
    except ValueError:  # "Invalid IPv6 URL": an unbalanced "[" or "]"
        parts = urlsplit("")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"{variable} must be a full https:// URL, got {url!r}.", variable=variable
        )
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ConfigError(
            f"{variable} uses plain http for {parts.hostname}: credentials would "
            "cross the network unencrypted. Use an https:// URL (plain http is "
            "accepted only for loopback addresses such as 127.0.0.1).",
            variable=variable,
        )
    return url.strip().rstrip("/")


def is_loopback(host: str) -> bool:
    """True for localhost and the loopback ranges 127.0.0.0/8 and ::1."""
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _language(value: str | None) -> str:
    if value:
        return "sl" if value.lower().startswith(("sl", "si")) else "en"
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        locale_name = os.environ.get(variable, "")
        if locale_name:
            return "sl" if locale_name.lower().startswith("sl") else "en"
    return "en"


def _find_dotenv(
    dotenv_path: str | os.PathLike[str] | Literal[False] | None,
) -> Path | None:
    if dotenv_path is False:
        return None
    if dotenv_path is not None:
        path = Path(dotenv_path)
        if not path.is_file():
            raise ConfigError(f"The .env file {path} does not exist.")
        return path
    from dotenv import find_dotenv

    found = find_dotenv(usecwd=True)
    return Path(found) if found else None


def read_dotenv(path: str | os.PathLike[str]) -> dict[str, str | None]:
    """Read a ``.env`` file with python-dotenv, strictly.

    A UTF-8 byte-order mark (Windows Notepad writes one) is removed first, since
    some python-dotenv versions would make it part of the first key. A line
    that cannot be parsed is an error naming the file and line, not a
    silently missing value. Values are never echoed in errors.
    """
    from dotenv import dotenv_values
    from dotenv.parser import parse_stream

    try:
        text = Path(path).read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path} is not UTF-8 text (byte {exc.start}); save it as UTF-8."
        ) from exc
    except OSError as exc:
        raise ConfigError(f"Cannot read {path}: {exc.strerror}.") from exc
    for binding in parse_stream(io.StringIO(text)):
        if binding.error:
            raise ConfigError(
                f"{path}, line {binding.original.line}: not a KEY=value line. "
                "Fix or remove that line (quote values that contain spaces)."
            )
    return dict(dotenv_values(stream=io.StringIO(text), interpolate=False))


__all__ = [
    "ENVIRONMENTS",
    "VARIABLES",
    "Secret",
    "Settings",
    "check_url",
    "is_loopback",
    "read_dotenv",
    "resolve_settings",
]
