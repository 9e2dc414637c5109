"""Messages in English and Slovenian for the notebook panel, the magics and the doctor.

The language follows ``ARSO_LANG`` (``en`` or ``sl``), else the locale
(``LC_ALL``, ``LC_MESSAGES``, ``LANG``), else English. Messages are keyed by a
short name and formatted with ``str.format`` fields::

    >>> message("logged_out", lang="sl")
    'Odjavljeni ste. Podatkovni klici ne delujejo do ponovne prijave.'

The core modules raise their errors in English; :func:`explain` gives the
Slovenian reading of an :class:`~arso_data.errors.ArsoError` at the two
notebook boundaries (the panel's status line and a magic's ``UsageError``),
built from the error's class and context, never from a secret.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Final, Literal

from .errors import (
    ArsoError,
    AuthError,
    ConfigError,
    CredentialsError,
    NotFoundError,
    NotLoggedInError,
    PagingError,
    PermissionDeniedError,
    RateLimitError,
    RequestTimeoutError,
    ResponseError,
    ServerError,
    TransportError,
)

Language = Literal["en", "sl"]
LANGUAGES: Final[tuple[Language, ...]] = ("en", "sl")

#: key -> {language -> text}. Keep both languages for every key (a test checks).
MESSAGES: Final[Mapping[str, Mapping[Language, str]]] = {
    # -- the login panel -----------------------------------------------------
    "panel_title": {
        "en": "ARSO telemetry API: log in",
        "sl": "ARSO telemetrija API: prijava",
    },
    "env_label": {"en": "Environment", "sl": "Okolje"},
    "env_test": {"en": "Test", "sl": "Test"},
    "env_prod": {"en": "Prod", "sl": "Produkcija"},
    "env_sandbox": {"en": "Sandbox", "sl": "Peskovnik"},
    "client_id_label": {"en": "Client ID", "sl": "ID odjemalca"},
    "client_id_hint": {"en": "API_TEL_…", "sl": "API_TEL_…"},
    "secret_label": {"en": "Secret", "sl": "Skrivnost"},
    "secret_hint": {"en": "client secret", "sl": "skrivnost odjemalca"},
    "secret_hint_known": {
        "en": "(already set: leave empty)",
        "sl": "(že nastavljena: pustite prazno)",
    },
    "remember_label": {
        "en": "Remember in .env (this folder)",
        "sl": "Zapomni si v .env (ta mapa)",
    },
    "connect": {"en": "Connect", "sl": "Poveži"},
    "logout": {"en": "Log out", "sl": "Odjava"},
    "connecting": {"en": "Connecting to {env}…", "sl": "Povezujem se z {env}…"},
    "credentials_found": {
        "en": "Credentials for {client_id} found in {source}; Connect uses them "
        "(the secret is not shown).",
        "sl": "Poverilnice za {client_id} najdene v {source}; gumb Poveži jih "
        "uporabi (skrivnost ni prikazana).",
    },
    "source_environment": {"en": "the environment", "sl": "okolju"},
    "source_dotenv": {"en": "the .env file", "sl": "datoteki .env"},
    "source_default": {
        "en": "the sandbox's demo client",
        "sl": "demo odjemalcu peskovnika",
    },
    "connected": {
        "en": "Connected to {env} as {client_id}; token valid until {until}.",
        "sl": "Povezano z {env} kot {client_id}; žeton velja do {until}.",
    },
    "remembered": {
        "en": "Credentials saved to {path} (readable by you only).",
        "sl": "Poverilnice shranjene v {path} (berljivo samo vam).",
    },
    "gitignored": {
        "en": ".env added to {path}.",
        "sl": ".env dodan v {path}.",
    },
    "logged_out": {
        "en": "Logged out. Data calls fail until the next login.",
        "sl": "Odjavljeni ste. Podatkovni klici ne delujejo do ponovne prijave.",
    },
    "need_client_id": {
        "en": "Enter the client ID (form API_TEL_…).",
        "sl": "Vpišite ID odjemalca (oblika API_TEL_…).",
    },
    "need_secret": {
        "en": "Enter the secret for {client_id}.",
        "sl": "Vpišite skrivnost za {client_id}.",
    },
    "error": {"en": "Error", "sl": "Napaka"},
    # -- status --------------------------------------------------------------
    "token_valid": {"en": "valid until {until}", "sl": "velja do {until}"},
    "token_none": {"en": "none (not logged in)", "sl": "ni (niste prijavljeni)"},
    "token_expired": {"en": "expired at {until}", "sl": "potekel ob {until}"},
    "status_env": {"en": "environment", "sl": "okolje"},
    "status_client_id": {"en": "client ID", "sl": "ID odjemalca"},
    "status_token": {"en": "token", "sl": "žeton"},
    "status_api_url": {"en": "API URL", "sl": "URL API-ja"},
    "status_auth_url": {"en": "identity server", "sl": "strežnik identitet"},
    "not_set": {"en": "not set", "sl": "ni nastavljen"},
    # -- the magics ----------------------------------------------------------
    "magic_help": {
        "en": "ARSO telemetry API in the notebook. Subcommands: login, logout, "
        "status, get, export, sandbox, doctor. `%arso SUBCOMMAND --help` for "
        "each; `%%arso` takes the path on its first line and one key=value "
        "per line.",
        "sl": "ARSO telemetrija API v zvezku. Podukazi: login, logout, status, "
        "get, export, sandbox, doctor. `%arso PODUKAZ --help` za vsakega; "
        "`%%arso` vzame pot v prvi vrstici in po en ključ=vrednost v vrstici.",
    },
    "help_login": {
        "en": "show the login panel",
        "sl": "prikaži okno za prijavo",
    },
    "help_logout": {"en": "forget the token", "sl": "pozabi žeton"},
    "help_status": {
        "en": "environment, client ID and token expiry (no secrets)",
        "sl": "okolje, ID odjemalca in veljavnost žetona (brez skrivnosti)",
    },
    "help_get": {
        "en": "GET an API path into a DataFrame",
        "sl": "prenesi pot API-ja v DataFrame",
    },
    "help_path": {
        "en": "API path relative to the API base URL",
        "sl": "pot API-ja glede na osnovni URL API-ja",
    },
    "help_params": {"en": "query parameters", "sl": "parametri poizvedbe"},
    "help_output": {
        "en": "store the result in this variable",
        "sl": "shrani rezultat v to spremenljivko",
    },
    "help_all_pages": {
        "en": "follow every page (the default)",
        "sl": "sledi vsem stranem (privzeto)",
    },
    "help_max_pages": {
        "en": "fetch at most N pages",
        "sl": "prenesi največ N strani",
    },
    "help_record_path": {
        "en": "where the records are (dotted path)",
        "sl": "kje so zapisi (pot s pikami)",
    },
    "help_export": {
        "en": "write a DataFrame variable as a CSV report",
        "sl": "zapiši spremenljivko DataFrame kot poročilo CSV",
    },
    "help_export_name": {"en": "variable name", "sl": "ime spremenljivke"},
    "help_export_file": {"en": "CSV file to write", "sl": "datoteka CSV"},
    "help_dialect": {
        "en": "sl: Slovenian Excel (';' and ','); plain: ',' and '.'",
        "sl": "sl: slovenski Excel (';' in ','); plain: ',' in '.'",
    },
    "help_sandbox": {
        "en": "run the local ARSO sandbox in this kernel",
        "sl": "zaženi lokalni peskovnik ARSO v tem jedru",
    },
    "help_endpoints": {
        "en": "list the API's operations from its OpenAPI description",
        "sl": "seznam operacij API-ja iz njegovega opisa OpenAPI",
    },
    "help_location": {
        "en": "where the description is (default: try the usual places)",
        "sl": "kje je opis (privzeto: preizkusi običajna mesta)",
    },
    "help_doctor": {
        "en": "check settings, network, identity server, token and clock",
        "sl": "preveri nastavitve, omrežje, strežnik identitet, žeton in uro",
    },
    "help_env": {"en": "environment", "sl": "okolje"},
    "rows_from": {
        "en": "{rows} rows from {path}",
        "sl": "{rows} vrstic iz {path}",
    },
    "exported": {
        "en": "{rows} rows written to {path}",
        "sl": "{rows} vrstic zapisanih v {path}",
    },
    "no_variable": {
        "en": "No variable {name!r} in the notebook.",
        "sl": "V zvezku ni spremenljivke {name!r}.",
    },
    "not_a_frame": {
        "en": "{name!r} is a {kind}, not a DataFrame.",
        "sl": "{name!r} je {kind}, ne DataFrame.",
    },
    "bad_param": {
        "en": "Parameter {pair!r} is not key=value.",
        "sl": "Parameter {pair!r} ni oblike ključ=vrednost.",
    },
    "cell_needs_path": {
        "en": "%%arso needs the API path on the cell's first line.",
        "sl": "%%arso potrebuje pot API-ja v prvi vrstici celice.",
    },
    "unknown_subcommand": {
        "en": "Unknown subcommand {name!r}; use one of: {names}.",
        "sl": "Neznan podukaz {name!r}; uporabite enega od: {names}.",
    },
    "sandbox_started": {
        "en": "Sandbox (a local emulation, not ARSO) running at {url}; the "
        "session's client now uses it (demo client {client_id}).",
        "sl": "Peskovnik (lokalna emulacija, ne ARSO) teče na {url}; odjemalec "
        "seje ga zdaj uporablja (demo odjemalec {client_id}).",
    },
    "sandbox_running": {
        "en": "Sandbox running at {url}.",
        "sl": "Peskovnik teče na {url}.",
    },
    "sandbox_stopped": {"en": "Sandbox stopped.", "sl": "Peskovnik ustavljen."},
    "sandbox_none": {"en": "No sandbox running.", "sl": "Peskovnik ne teče."},
    "secret_in_cell": {
        "en": "arso: this cell contains your client secret; it will be saved "
        "with the notebook. Use %arso login or a .env file instead, and "
        "consider creating new credentials in IS Monitoring.",
        "sl": "arso: ta celica vsebuje skrivnost odjemalca, ki bo shranjena v "
        "zvezek. Uporabite %arso login ali datoteko .env in razmislite o novih "
        "poverilnicah v IS Monitoring.",
    },
    "doctor_failed": {
        "en": "doctor: {count} check(s) failed: {names}.",
        "sl": "doctor: neuspešnih preverjanj: {count} ({names}).",
    },
    # -- errors at the boundaries (Slovenian readings of ArsoError classes) ---
    "err_credentials": {
        "en": "Login refused: wrong client ID or secret.",
        "sl": "Prijava zavrnjena (HTTP {status}, {error}): napačen ID odjemalca "
        "ali skrivnost. Preverite ARSO_CLIENT_ID in ARSO_CLIENT_SECRET ter da "
        "pripadata temu okolju (test in prod imata ločene poverilnice).",
    },
    "err_not_logged_in": {
        "en": "Not logged in.",
        "sl": "Niste prijavljeni: zadnja prijava ni uspela ali ste se odjavili. "
        "Prijavite se znova (%arso login).",
    },
    "err_auth": {
        "en": "The identity server gave no token.",
        "sl": "Strežnik identitet ni izdal žetona (HTTP {status}, {error}). "
        "Preverite ARSO_AUTH_URL in realm.",
    },
    "err_config": {
        "en": "A setting is missing or wrong.",
        "sl": "Nastavitev manjka ali je napačna: {variable}.",
    },
    "err_permission": {
        "en": "Permission denied.",
        "sl": "Dostop zavrnjen (HTTP 403) za {url}: poverilnice so veljavne, "
        "a odjemalec potrebuje vlogo MON_TELEMETRIJA in dostop do teh podatkov.",
    },
    "err_not_found": {
        "en": "No such path.",
        "sl": "Pot ne obstaja (HTTP 404): {url}.",
    },
    "err_rate_limit": {
        "en": "Too many requests.",
        "sl": "Preveč zahtev (HTTP 429) za {url}. Počakajte in poskusite znova.",
    },
    "err_server": {
        "en": "The server failed.",
        "sl": "Strežnik ni uspel odgovoriti (HTTP {status}) za {url} po vseh "
        "ponovitvah. Poskusite kasneje.",
    },
    "err_response": {
        "en": "The answer could not be read.",
        "sl": "Odgovora {url} ni mogoče prebrati (ni veljaven JSON ali je prekinjen).",
    },
    "err_paging": {
        "en": "The paged pull could not be completed.",
        "sl": "Prenos po straneh ni bil dokončan: prenesenih {pages} strani in "
        "{rows} vrstic. Poženite ga znova.",
    },
    "err_timeout": {
        "en": "No answer in time.",
        "sl": "Ni odgovora v dovoljenem času: {url}. Strežnik je morda "
        "počasen; poskusite kasneje ali povečajte časovno omejitev.",
    },
    "err_transport": {
        "en": "The server could not be reached.",
        "sl": "Strežnika ni mogoče doseči: {url}. Preverite URL, omrežje in "
        "posredniški strežnik (ARSO_PROXY); pri napaki TLS nastavite "
        "ARSO_CA_BUNDLE.",
    },
    "err_other": {"en": "Error.", "sl": "Napaka ({kind})."},
    "credentials_help": {
        "en": "API credentials are created in IS Monitoring: Administracija > "
        "Telemetrija – API poverilnice (role MON_TELEMETRIJA).",
        "sl": "API poverilnice ustvarite v IS Monitoring: Administracija > "
        "Telemetrija – API poverilnice (vloga MON_TELEMETRIJA). Skrivnost je "
        "prikazana le enkrat; če jo izgubite, poverilnice izbrišite in "
        "ustvarite nove.",
    },
}

#: Error classes, most specific first, and the catalogue key of their reading.
_ERROR_KEYS: Final[tuple[tuple[type[ArsoError], str], ...]] = (
    (CredentialsError, "err_credentials"),
    (NotLoggedInError, "err_not_logged_in"),
    (AuthError, "err_auth"),
    (ConfigError, "err_config"),
    (PermissionDeniedError, "err_permission"),
    (NotFoundError, "err_not_found"),
    (RateLimitError, "err_rate_limit"),
    (PagingError, "err_paging"),
    (ServerError, "err_server"),
    (ResponseError, "err_response"),
    (RequestTimeoutError, "err_timeout"),
    (TransportError, "err_transport"),
)


def current_language(value: str | None = None) -> Language:
    """The message language: ``value``, else ``ARSO_LANG``, else the locale."""
    chosen = value or os.environ.get("ARSO_LANG")
    if chosen:
        return "sl" if chosen.strip().lower().startswith(("sl", "si")) else "en"
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        locale_name = os.environ.get(variable, "")
        if locale_name:
            return "sl" if locale_name.lower().startswith("sl") else "en"
    return "en"


def message(key: str, lang: str | None = None, **fields: object) -> str:
    """The message ``key`` in ``lang`` (default :func:`current_language`)."""
    texts = MESSAGES[key]
    text = texts[current_language(lang)]
    return text.format(**fields) if fields else text


def explain(exc: ArsoError, lang: str | None = None) -> str:
    """One user-facing paragraph for ``exc``, in the chosen language.

    English keeps the error's own message (it already says what to check);
    Slovenian builds the reading from the error's class and context, and adds
    the original message's first line for the detail. Neither holds a secret:
    errors never carry one.
    """
    if current_language(lang) == "en":
        return str(exc)
    key = next((k for cls, k in _ERROR_KEYS if isinstance(exc, cls)), "err_other")
    text = message(key, "sl", **_context(exc))
    if isinstance(exc, CredentialsError | ConfigError):
        text += " " + message("credentials_help", "sl")
    detail = exc.message.splitlines()[0] if exc.message else ""
    return f"{text} [{detail}]" if detail else text


def _context(exc: ArsoError) -> dict[str, object]:
    return {
        "status": exc.status if exc.status is not None else "–",
        "url": exc.url or "–",
        "error": getattr(exc, "error", None) or "–",
        "variable": getattr(exc, "variable", None) or "–",
        "pages": getattr(exc, "pages_fetched", 0),
        "rows": getattr(exc, "rows_fetched", 0),
        "kind": type(exc).__name__,
    }


__all__ = [
    "LANGUAGES",
    "MESSAGES",
    "Language",
    "current_language",
    "explain",
    "message",
]
