"""The exceptions of arso-data, by cause.

Every error the library raises on purpose is an :class:`ArsoError`::

    ArsoError
    ├── ConfigError             a setting is missing or unusable
    ├── AuthError               no token: the identity server said no, or
    │   │                       answered something that is not a token
    │   ├── CredentialsError    wrong client ID or secret (invalid_client)
    │   ├── NotLoggedInError    a data call after a failed login or a logout
    │   └── TokenVerificationError  a token's signature, expiry or audience
    │       │                       does not check out, or it is no JWT
    │       └── IssuerMismatchError the token names another environment's issuer
    ├── ApiError                the data API answered, but not with data
    │   ├── PermissionDeniedError   403: the client lacks a role
    │   ├── NotFoundError           404
    │   ├── RateLimitError          429 beyond the retry budget
    │   ├── ServerError             5xx after retries
    │   ├── ResponseError           a body that is not what the status promised
    │   ├── PagingError             a paged pull that cannot be completed whole
    │   └── ApiDescriptionError     no readable OpenAPI description was found
    ├── TransportError          no answer: connection, TLS
    │   └── RequestTimeoutError     no answer within the configured limit
    └── UploadError             a batch upload stopped at a failed batch (the
                                cause is chained); ``.result`` says which rows
                                were accepted and which remain

Each carries what is known of the failed exchange, never a secret: ``status``,
``method``, ``url`` (sensitive query values masked) and ``body_start`` (at most
300 characters of the answer).
"""

from __future__ import annotations

from typing import Any

from ._redact import redact

BODY_EXCERPT_CHARS = 300


class ArsoError(Exception):
    """Root of every error that arso-data raises on purpose."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        method: str | None = None,
        url: str | None = None,
        body_start: str | None = None,
        hint: str | None = None,
    ) -> None:
        # A server may echo what it was sent (a form with the secret, a
        # header with the token) into the body quoted here: mask it once,
        # where every error is made.
        message = redact(message)
        super().__init__(message)
        self.message = message
        self.status = status
        self.method = method
        self.url = redact(url) if url else url
        self.body_start = (
            redact(body_start[:BODY_EXCERPT_CHARS]) if body_start else body_start
        )
        self.hint = hint

    def __str__(self) -> str:
        text = self.message
        if self.hint:
            text = f"{text}\n{self.hint}"
        return text

    @property
    def http_status(self) -> int | None:
        """The HTTP status the server answered with (an alias of ``status``)."""
        return self.status


class ConfigError(ArsoError, ValueError):
    """A setting is missing, malformed or unsafe (for example a plain-http host)."""

    def __init__(self, message: str, *, variable: str | None = None, **kw: Any):
        super().__init__(message, **kw)
        self.variable = variable


class AuthError(ArsoError):
    """The identity server gave no token."""

    def __init__(
        self,
        message: str,
        *,
        error: str | None = None,
        error_description: str | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(message, **kw)
        self.error = error
        self.error_description = error_description


class CredentialsError(AuthError):
    """The client ID or secret was refused."""


class NotLoggedInError(AuthError):
    """A data call was made with no usable login."""


class TokenVerificationError(AuthError):
    """A token failed verification: signature, key, expiry, audience or format."""


class IssuerMismatchError(TokenVerificationError):
    """The token's ``iss`` is not the chosen environment's issuer."""

    def __init__(
        self,
        message: str,
        *,
        issuer: str | None = None,
        expected_issuer: str | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(message, **kw)
        self.issuer = issuer
        self.expected_issuer = expected_issuer


class ApiError(ArsoError):
    """The data API answered with an error or an unusable body."""


class PermissionDeniedError(ApiError):
    """403: the credentials are valid but may not do this."""


class NotFoundError(ApiError):
    """404: no such path or object."""


class RateLimitError(ApiError):
    """429 beyond the retry budget; ``retry_after`` is what the server asked for."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any):
        super().__init__(message, **kw)
        self.retry_after = retry_after


class ServerError(ApiError):
    """5xx from the API after the retries ran out."""


class ResponseError(ApiError):
    """The body is not what the status promised: HTML, truncated, empty, undecodable."""


class PagingError(ApiError):
    """A paged pull could not be completed whole; nothing partial is returned."""

    def __init__(
        self,
        message: str,
        *,
        pages_fetched: int = 0,
        rows_fetched: int = 0,
        **kw: Any,
    ) -> None:
        super().__init__(message, **kw)
        self.pages_fetched = pages_fetched
        self.rows_fetched = rows_fetched


class UploadError(ArsoError):
    """A batch upload stopped at a failed batch; nothing after it was sent.

    ``result`` (an :class:`arso_data.upload.UploadResult`) tells which rows
    the API accepted and which remain; sending ``result.remaining`` again
    completes the job without sending any row twice.
    """

    def __init__(self, message: str, *, result: Any = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.result = result


class ApiDescriptionError(ApiError):
    """No OpenAPI description was found, or the one found cannot be read.

    ``tried`` lists each location asked and what it answered.
    """

    def __init__(self, message: str, *, tried: tuple[str, ...] = (), **kw: Any) -> None:
        super().__init__(message, **kw)
        self.tried = tried


class TransportError(ArsoError):
    """No HTTP answer: connection refused, DNS, TLS."""


class RequestTimeoutError(TransportError):
    """No answer within the configured time limit."""


__all__ = [
    "ApiDescriptionError",
    "ApiError",
    "ArsoError",
    "AuthError",
    "ConfigError",
    "CredentialsError",
    "IssuerMismatchError",
    "NotFoundError",
    "NotLoggedInError",
    "PagingError",
    "PermissionDeniedError",
    "RateLimitError",
    "RequestTimeoutError",
    "ResponseError",
    "ServerError",
    "TokenVerificationError",
    "TransportError",
    "UploadError",
]
