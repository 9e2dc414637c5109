"""Answers: the one shape every sandbox handler returns, and its Flask form.

An answer is a tuple ``(status, headers, body)``. The body is ``bytes`` (sent
as is), ``str`` (UTF-8, ``text/plain`` unless a Content-Type is given) or any
other JSON-serialisable object (``application/json``).
"""

from __future__ import annotations

import json
from typing import Any, TypeAlias

from flask import Response

try:  # the fast serialiser when installed (arso-data[fast]); stdlib otherwise
    import orjson
except ImportError:  # pragma: no cover - depends on the environment
    orjson = None  # type: ignore[assignment]

Body: TypeAlias = Any
Headers: TypeAlias = dict[str, str]
Answer: TypeAlias = tuple[int, Headers, Body]

JSON_TYPE = "application/json"
TEXT_TYPE = "text/plain; charset=utf-8"


def dumps(obj: Any) -> bytes:
    """Serialise *obj* to compact UTF-8 JSON (orjson when available)."""
    if orjson is not None:
        return orjson.dumps(obj)
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


def json_answer(status: int, obj: Any, headers: Headers | None = None) -> Answer:
    """Return an answer whose body is *obj* as JSON."""
    return status, {"Content-Type": JSON_TYPE, **(headers or {})}, dumps(obj)


def error_answer(
    status: int, error: str, description: str, headers: Headers | None = None
) -> Answer:
    """Return an OAuth-style ``{"error", "error_description"}`` JSON answer."""
    body = {"error": error, "error_description": description}
    return json_answer(status, body, headers)


def encode_body(headers: Headers, body: Body) -> tuple[Headers, bytes]:
    """Turn *body* into bytes and fill in a Content-Type when none is given."""
    has_type = any(name.lower() == "content-type" for name in headers)
    if isinstance(body, bytes):
        data, default_type = body, "application/octet-stream"
    elif isinstance(body, str):
        data, default_type = body.encode(), TEXT_TYPE
    else:
        data, default_type = dumps(body), JSON_TYPE
    if not has_type:
        headers = {**headers, "Content-Type": default_type}
    return headers, data


def to_response(answer: Answer) -> Response:
    """Build the Flask response for *answer*."""
    status, headers, body = answer
    headers, data = encode_body(dict(headers), body)
    response = Response(data, status=status)
    for name, value in headers.items():
        response.headers[name] = value
    return response
