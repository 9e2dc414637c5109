"""arso-data: ARSO's protected telemetry API in pandas.

>>> import arso_data                                            # doctest: +SKIP
>>> client = arso_data.ArsoClient(env="sandbox")                # doctest: +SKIP
>>> df = client.frame("meritve", {"merilno_mesto": "0012"})     # doctest: +SKIP
>>> arso_data.to_csv_report(df, "meritve.csv")                  # doctest: +SKIP

Importing this package loads neither IPython nor ipywidgets, nor pandas, JWT
or the optional fast and cache parts: each loads on first use of a name that
needs it (see ``_LAZY``).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from ._version import __version__
from .auth import Token, TokenProvider
from .cache import CacheConfig
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
    UploadError,
)
from .retry import RetryPolicy
from .settings import Secret, Settings, resolve_settings

if TYPE_CHECKING:
    from .claims import Claims, TokenClaims, token_claims, verify_claims
    from .export import read_csv_report, to_csv_report
    from .frames import decode_json, find_records, to_frame
    from .stream import stream_csv, stream_parquet
    from .upload import UploadResult, send_frame

# No NullHandler on the package logger, on purpose: our WARNINGs are data a
# user must see (values that could not be read, local times that could not be
# placed), and with no logging configured Python's last-resort handler prints
# them to stderr. An application that configures logging decides as usual.

#: Public names whose modules import pandas or PyJWT: loaded on first use, so
#: that ``import arso_data`` (and ``%load_ext arso``) stays light.
_LAZY = {
    "Claims": "claims",
    "TokenClaims": "claims",
    "UploadResult": "upload",
    "decode_json": "frames",
    "find_records": "frames",
    "read_csv_report": "export",
    "send_frame": "upload",
    "stream_csv": "stream",
    "stream_parquet": "stream",
    "to_csv_report": "export",
    "to_frame": "frames",
    "token_claims": "claims",
    "verify_claims": "claims",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


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
    "CacheConfig",
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
    "UploadError",
    "UploadResult",
    "__version__",
    "decode_json",
    "find_records",
    "list_endpoints",
    "login",
    "read_csv_report",
    "resolve_settings",
    "send_frame",
    "stream_csv",
    "stream_parquet",
    "to_csv_report",
    "to_frame",
    "token_claims",
    "verify_claims",
]
