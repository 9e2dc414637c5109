"""Fault switches, counters and the request log of one sandbox.

Every fault is decided in one place, :meth:`Faults.intercept` (answers that
replace the normal handling) and :meth:`Faults.take_broken_body` (damage to a
normal 200 answer). The order for an API request is:

1. ``latency`` (sleep), also for token requests;
2. ``api_responses`` / ``token_responses``: canned answers, one per request,
   *before* the Bearer check, so a test can fake anything;
3. ``server_errors`` then ``rate_limit``: gateway-level countdowns, also
   before the Bearer check (an overloaded proxy does not read tokens);
4. the Bearer check (``expire_tokens_after``, :meth:`Faults.revoke_all`);
5. ``forbidden`` (403);
6. the handler, then ``broken_body`` on a 200 answer.

Switches are plain attributes: ``sb.faults.rate_limit = 2``. Countdowns are
decremented under a lock, so concurrent requests never consume one twice.
"""

from __future__ import annotations

import email.utils
import gzip
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, Literal, overload

from arso_data import constants
from arso_data.sandbox.answers import (
    JSON_TYPE,
    Answer,
    Headers,
    encode_body,
    error_answer,
    json_answer,
)

Kind = Literal["token", "api", "other"]

BROKEN_BODY_KINDS = (
    "html",
    "truncated",
    "empty",
    "invalid_utf8",
    "bom",
    "gzip",
    "wrong_content_type",
)
SERVER_ERROR_STATUSES = (500, 502, 503, 504)
#: How many requests :class:`RequestLog` keeps (the oldest are dropped).
REQUEST_LOG_CAP = 10_000

_GATEWAY_PAGE = """<html>
<head><title>{status} {reason}</title></head>
<body>
<center><h1>{status} {reason}</h1></center>
<hr><center>nginx</center>
</body>
</html>
"""
_REASONS = {502: "Bad Gateway", 503: "Service Temporarily Unavailable"}
_REASONS[504] = "Gateway Time-out"
_MAINTENANCE_PAGE = (
    '<!DOCTYPE html><html lang="sl"><head><meta charset="utf-8">'
    "<title>IS Monitoring – vzdrževanje</title></head><body>"
    "<h1>Vzdrževalna dela</h1><p>Storitev trenutno ni na voljo.</p>"
    "</body></html>"
)


@dataclass
class Faults:
    """Fault switches of one sandbox (see the module docstring for the order).

    Attributes
    ----------
    latency
        Seconds added to every API and token response.
    token_lifetime
        ``expires_in`` (and ``exp - iat``) of new tokens.
    token_responses, api_responses
        Queues of canned answers ``(status, headers, body)``; each token or
        API request takes the first one, if any, instead of normal handling.
    rate_limit
        The next N API requests answer 429 with ``Retry-After``.
    retry_after, retry_after_http_date
        The ``Retry-After`` value in seconds, sent as a number or, when
        ``retry_after_http_date`` is true, as an HTTP date.
    server_errors, server_error_status
        The next N API requests answer this status (500, 502, 503 or 504).
    broken_body, broken_body_kind
        The next N API 200 answers are damaged; kinds: ``html``,
        ``truncated``, ``empty``, ``invalid_utf8``, ``bom``, ``gzip``,
        ``wrong_content_type``.
    expire_tokens_after
        Tokens are rejected this many seconds after issue (also tokens issued
        before the switch was set), while announcing the normal
        ``expires_in``. ``None``: off.
    forbidden
        API requests with a valid token answer 403 (role missing).
    mutate_between_pages
        Offset paging (``paging=page`` and ``link``) behaves as if one record
        was inserted after the first page: ``totalElements`` grows by one and
        later pages start one record earlier. Cursor paging is not affected.
    fail_post_after
        The next ``POST /meritve`` stores only its first N records, then
        answers 500. ``None``: off.
    """

    latency: float = 0.0
    token_lifetime: int = constants.TOKEN_LIFETIME_S
    token_responses: list[Answer] = field(default_factory=list)
    api_responses: list[Answer] = field(default_factory=list)
    rate_limit: int = 0
    retry_after: int = 1
    retry_after_http_date: bool = False
    server_errors: int = 0
    server_error_status: int = 503
    broken_body: int = 0
    broken_body_kind: str = "html"
    expire_tokens_after: float | None = None
    forbidden: bool = False
    mutate_between_pages: bool = False
    fail_post_after: int | None = None
    revoked_before: float = field(default=0.0, repr=False)
    _lock: threading.Lock = field(
        default_factory=threading.Lock, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        self._default_latency = self.latency
        self._default_lifetime = self.token_lifetime

    def reset(self) -> None:
        """Switch every fault off (revocations stay: they are events)."""
        fresh = Faults(self._default_latency, self._default_lifetime)
        with self._lock:
            for name in _switch_names():
                setattr(self, name, getattr(fresh, name))

    def revoke_all(self) -> None:
        """Reject every token issued so far with 401."""
        with self._lock:
            self.revoked_before = time.time()

    def intercept(self, kind: Kind, api_path: str = "") -> Answer | None:
        """Take the answer that replaces normal handling, if any is due."""
        with self._lock:
            queue = self.token_responses if kind == "token" else self.api_responses
            if kind != "other" and queue:
                return _canned(queue.pop(0))
            if kind != "api":
                return None
            for name, answer in _GATEWAY_SWITCHES:
                if self._take(name):
                    return answer(self, api_path)
        return None

    def take_broken_body(self) -> str | None:
        """Take one ``broken_body`` countdown; return the kind of damage."""
        with self._lock:
            return self.broken_body_kind if self._take("broken_body") else None

    def take_fail_post_after(self) -> int | None:
        """Take the ``fail_post_after`` switch (it applies to one POST)."""
        with self._lock:
            limit, self.fail_post_after = self.fail_post_after, None
        return limit

    def as_dict(self) -> dict[str, Any]:
        """Return the switches as JSON-friendly values."""
        with self._lock:
            return {name: _jsonable(getattr(self, name)) for name in _switch_names()}

    def update(self, values: Mapping[str, Any]) -> None:
        """Set switches from JSON values; raise ``ValueError`` on a bad one.

        ``{"revoke_all": true}`` calls :meth:`revoke_all`.
        """
        checked = {name: _check_switch(name, value) for name, value in values.items()}
        if checked.pop("revoke_all", False):
            self.revoke_all()
        with self._lock:
            for name, value in checked.items():
                setattr(self, name, value)

    def _take(self, name: str) -> bool:
        left = getattr(self, name)
        if left <= 0:
            return False
        setattr(self, name, left - 1)
        return True


def _switch_names() -> list[str]:
    hidden = {"revoked_before", "_lock"}
    return [f.name for f in fields(Faults) if f.name not in hidden]


def _jsonable(value: Any) -> Any:
    """Show a queue of canned answers as [status, headers, body start]."""
    if not isinstance(value, list):
        return value
    shown = []
    for status, headers, body in map(_canned, value):
        if isinstance(body, bytes):
            body = body[:200].decode("utf-8", "replace")
        shown.append([status, headers, body[:200] if isinstance(body, str) else body])
    return shown


def _canned(item: Any) -> Answer:
    """Accept ``(status, headers, body)`` or ``{"status", "headers", "body"}``."""
    if isinstance(item, Mapping):
        item = (item.get("status", 200), item.get("headers") or {}, item.get("body"))
    status, headers, body = item
    return int(status), dict(headers or {}), "" if body is None else body


def _as_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"expected an integer, got {value!r}")
    return value


def _as_float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a number, got {value!r}")
    return float(value)


def _as_bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {value!r}")
    return value


def _as_optional(check: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: None if value is None else check(value)


def _as_queue(value: Any) -> list[Answer]:
    if not isinstance(value, list):
        raise ValueError("expected a list of [status, headers, body]")
    return [_canned(item) for item in value]


def _one_of(allowed: Sequence[Any], check: Callable[[Any], Any]) -> Callable[..., Any]:
    def checked(value: Any) -> Any:
        value = check(value)
        if value not in allowed:
            raise ValueError(f"expected one of {list(allowed)}, got {value!r}")
        return value

    return checked


_SWITCH_TYPES: dict[str, Callable[[Any], Any]] = {
    "latency": _as_float,
    "token_lifetime": _as_int,
    "token_responses": _as_queue,
    "api_responses": _as_queue,
    "rate_limit": _as_int,
    "retry_after": _as_int,
    "retry_after_http_date": _as_bool,
    "server_errors": _as_int,
    "server_error_status": _one_of(SERVER_ERROR_STATUSES, _as_int),
    "broken_body": _as_int,
    "broken_body_kind": _one_of(BROKEN_BODY_KINDS, str),
    "expire_tokens_after": _as_optional(_as_float),
    "forbidden": _as_bool,
    "mutate_between_pages": _as_bool,
    "fail_post_after": _as_optional(_as_int),
    "revoke_all": _as_bool,
}


def _check_switch(name: str, value: Any) -> Any:
    if name not in _SWITCH_TYPES:
        raise ValueError(f"unknown fault switch {name!r}")
    try:
        return _SWITCH_TYPES[name](value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: {exc}") from exc


def retry_after_value(faults: Faults) -> str:
    """Return the ``Retry-After`` header value the switches ask for."""
    if faults.retry_after_http_date:
        return email.utils.formatdate(time.time() + faults.retry_after, usegmt=True)
    return str(faults.retry_after)


def _rate_limited(faults: Faults, api_path: str) -> Answer:
    headers = {"Retry-After": retry_after_value(faults)}
    return json_answer(429, {"error": "too_many_requests"}, headers)


def _server_error(faults: Faults, api_path: str) -> Answer:
    status = faults.server_error_status
    if status == 500:
        body = {"status": 500, "error": "Internal Server Error", "path": api_path}
        return json_answer(500, body)
    headers: Headers = {"Content-Type": "text/html"}
    if status == 503:
        headers["Retry-After"] = retry_after_value(faults)
    page = _GATEWAY_PAGE.format(status=status, reason=_REASONS[status])
    return status, headers, page


#: The gateway-level countdowns, checked in this order by :meth:`intercept`.
_GATEWAY_SWITCHES: tuple[tuple[str, Callable[[Faults, str], Answer]], ...] = (
    ("server_errors", _server_error),
    ("rate_limit", _rate_limited),
)


def forbidden_answer(role: str) -> Answer:
    """The 403 answer of the ``forbidden`` switch."""
    return error_answer(
        403, "access_denied", f"The client's service account lacks the role {role}"
    )


def break_body(kind: str, answer: Answer) -> Answer:
    """Damage a 200 *answer* in the way *kind* names."""
    status, headers, data = answer
    headers, body = encode_body(dict(headers), data)
    content_type = next(
        (v for k, v in headers.items() if k.lower() == "content-type"), JSON_TYPE
    )
    headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
    if kind == "html":
        return status, {"Content-Type": "text/html; charset=utf-8"}, _MAINTENANCE_PAGE
    if kind == "gzip":
        headers["Content-Encoding"] = "gzip"
        body = gzip.compress(body, mtime=0)
    elif kind == "wrong_content_type":
        content_type = "text/plain; charset=utf-8"
    else:
        body = _BODY_DAMAGE[kind](body)
    return status, {**headers, "Content-Type": content_type}, body


def _invalid_utf8(body: bytes) -> bytes:
    damaged = body.decode("utf-8", "replace").encode("cp1250", "replace")
    if damaged == body:  # pure ASCII: put a stray byte inside the first string
        quote = max(damaged.find(b'"'), 0)
        damaged = damaged[: quote + 1] + b"\xff" + damaged[quote + 1 :]
    return damaged


_BODY_DAMAGE: dict[str, Callable[[bytes], bytes]] = {
    "truncated": lambda body: body[: len(body) // 2],
    "empty": lambda body: b"",
    "invalid_utf8": _invalid_utf8,
    "bom": lambda body: b"\xef\xbb\xbf" + body,
}


class Stats:
    """Thread-safe request counters.

    ``api_requests`` counts requests under the API prefix except
    ``/openapi.json``; admin requests count as ``other_requests``.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Set every counter to zero."""
        with self._lock:
            self.token_requests = 0
            self.api_requests = 0
            self.other_requests = 0
            self.tokens_issued = 0
            self.statuses: dict[int, int] = {}

    def count_request(self, kind: Kind) -> None:
        """Count one request of *kind*."""
        with self._lock:
            name = f"{kind}_requests"
            setattr(self, name, getattr(self, name) + 1)

    def count_token(self) -> None:
        """Count one issued token."""
        with self._lock:
            self.tokens_issued += 1

    def count_status(self, status: int) -> None:
        """Count one answer with *status*."""
        with self._lock:
            self.statuses[status] = self.statuses.get(status, 0) + 1

    def as_dict(self) -> dict[str, Any]:
        """Return the counters as JSON-friendly values."""
        with self._lock:
            return {
                "token_requests": self.token_requests,
                "api_requests": self.api_requests,
                "other_requests": self.other_requests,
                "tokens_issued": self.tokens_issued,
                "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            }


@dataclass
class RecordedRequest:
    """One request as the sandbox received it (headers unredacted).

    ``status`` is the status of the sandbox's answer (``None`` until sent).
    """

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    kind: Kind
    time: float = 0.0
    status: int | None = None

    def json(self) -> Any:
        """The body parsed as JSON (raises ``ValueError`` when it is not)."""
        return json.loads(self.body)


class RequestLog(Sequence[RecordedRequest]):
    """The last :data:`REQUEST_LOG_CAP` requests, oldest first; thread-safe."""

    def __init__(self, cap: int = REQUEST_LOG_CAP) -> None:
        self._lock = threading.Lock()
        self._items: deque[RecordedRequest] = deque(maxlen=cap)

    def append(self, item: RecordedRequest) -> None:
        """Record one request."""
        with self._lock:
            self._items.append(item)

    def clear(self) -> None:
        """Forget every recorded request."""
        with self._lock:
            self._items.clear()

    def of_kind(self, kind: Kind) -> list[RecordedRequest]:
        """Return the recorded requests of one kind."""
        return [item for item in self if item.kind == kind]

    @overload
    def __getitem__(self, index: int) -> RecordedRequest: ...
    @overload
    def __getitem__(self, index: slice) -> list[RecordedRequest]: ...
    def __getitem__(
        self, index: int | slice
    ) -> RecordedRequest | list[RecordedRequest]:
        with self._lock:
            items = list(self._items)
        return items[index]

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[RecordedRequest]:
        with self._lock:
            return iter(list(self._items))

    def __repr__(self) -> str:
        return f"<RequestLog of {len(self)} requests>"


__all__ = [
    "BROKEN_BODY_KINDS",
    "Faults",
    "RecordedRequest",
    "RequestLog",
    "Stats",
    "break_body",
    "forbidden_answer",
]
