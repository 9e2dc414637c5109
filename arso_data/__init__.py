"""arso-data: ARSO's protected telemetry API in pandas.

>>> import arso_data                                            # doctest: +SKIP
>>> client = arso_data.ArsoClient(env="sandbox")                # doctest: +SKIP
>>> df = client.frame("meritve", {"merilno_mesto": "0012"})     # doctest: +SKIP
>>> arso_data.to_csv_report(df, "meritve.csv")                  # doctest: +SKIP

Importing this package loads neither IPython nor ipywidgets; the notebook parts
load on first use.
"""

from __future__ import annotations

import logging
from typing import Any

from ._version import __version__
from .auth import Token, TokenProvider
from .claims import Claims, TokenClaims, token_claims, verify_claims
from .client import ArsoClient, Page
from .discovery import list_endpoints
from .errors import (
    ApiDescriptionError,
    ApiError,
    ArsoError,
    AuthError,
    ConfigError,
    CredentialsError,
    IssuerMismatchError,
    NotFoundError,
    NotLoggedInError,
    PagingError,
    PermissionDeniedError,
    RateLimitError,
    RequestTimeoutError,
    ResponseError,
    ServerError,
    TokenVerificationError,
    TransportError,
)
from .export import read_csv_report, to_csv_report
from .frames import decode_json, find_records, to_frame
from .retry import RetryPolicy
from .settings import Secret, Settings, resolve_settings

logging.getLogger(__name__).addHandler(logging.NullHandler())


def login(env: str | None = None, **kwargs: Any) -> Any:
    """Show the notebook login panel (needs ``arso-data[notebook]``).

    Loads ipywidgets on call; see :func:`arso_data.widgets.login`.
    """
    from .widgets import login as show_panel

    return show_panel(env, **kwargs)


__all__ = [
    "ApiDescriptionError",
    "ApiError",
    "ArsoClient",
    "ArsoError",
    "AuthError",
    "Claims",
    "ConfigError",
    "CredentialsError",
    "IssuerMismatchError",
    "NotFoundError",
    "NotLoggedInError",
    "Page",
    "PagingError",
    "PermissionDeniedError",
    "RateLimitError",
    "RequestTimeoutError",
    "ResponseError",
    "RetryPolicy",
    "Secret",
    "ServerError",
    "Settings",
    "Token",
    "TokenClaims",
    "TokenProvider",
    "TokenVerificationError",
    "TransportError",
    "__version__",
    "decode_json",
    "find_records",
    "list_endpoints",
    "login",
    "read_csv_report",
    "resolve_settings",
    "to_csv_report",
    "to_frame",
    "token_claims",
    "verify_claims",
]
