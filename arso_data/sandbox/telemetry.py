"""The example telemetry API: measuring points, parameters, measurements.

Handlers take the Flask request and answer ``(status, headers, body)``. The
Bearer check, the faults and the 404 live in :mod:`arso_data.sandbox.app`;
this module only knows the resources.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from flask import Request

from arso_data.sandbox import data
from arso_data.sandbox.answers import Answer, json_answer
from arso_data.sandbox.faults import Faults

Handler = Callable[[Request], Answer]

POINTS_PAGE_SIZE = 20
POINTS_MAX_SIZE = 100
MEASUREMENTS_PAGE_SIZE = 1000
MEASUREMENTS_MAX_SIZE = 10_000
DEFAULT_DAYS = 7
PAGING_STYLES = ("page", "link", "cursor")


class BadRequestError(ValueError):
    """A query or body the API refuses with 400."""


def bad_request(request: Request, message: str, **extra: Any) -> Answer:
    """The API's 400 answer."""
    body = {"error": "bad_request", "message": message, "path": request.path}
    return json_answer(400, body | extra)


# -- query parameters -----------------------------------------------------------


def int_arg(args: Mapping[str, str], name: str, default: int, low: int = 0) -> int:
    """An integer query parameter, at least *low*."""
    raw = args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequestError(f"{name} must be an integer, got {raw!r}") from None
    if value < low:
        raise BadRequestError(f"{name} must be at least {low}, got {value}")
    return value


def parse_moment(raw: str, name: str) -> datetime:
    """An ISO date (local midnight) or date-time (local unless it has an offset)."""
    try:
        if len(raw) == 10:
            moment = datetime.combine(date.fromisoformat(raw), datetime.min.time())
        else:
            moment = datetime.fromisoformat(raw)
    except ValueError:
        raise BadRequestError(
            f"{name} is not an ISO 8601 date or time: {raw!r}"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=data.LOCAL_TZ)
    return moment


def series_from(args: Mapping[str, str]) -> data.Series:
    """The measurement series a ``GET /meritve`` query asks for."""
    point = data.POINTS.get(args.get("merilno_mesto", ""))
    if point is None:
        known = ", ".join(data.POINTS)
        raise BadRequestError(f"merilno_mesto is missing or unknown (known: {known})")
    codes = _codes(point, args.get("parameter", ""))
    first, end = _slot_range(args.get("od"), args.get("do"))
    return data.Series(point, codes, first, end)


def _codes(point: data.Point, raw: str) -> tuple[str, ...]:
    wanted = {code.strip().upper() for code in raw.split(",") if code.strip()}
    unknown = sorted(wanted - set(point.parametri))
    if unknown:
        raise BadRequestError(
            f"parameter {', '.join(unknown)} is not measured at {point.id} "
            f"(measured: {', '.join(point.parametri)})"
        )
    return tuple(sorted(wanted) or point.parametri)


def _slot_range(od: str | None, do: str | None) -> tuple[int, int]:
    """Slots of the half-open range [od, do), clamped to the data range."""
    week = DEFAULT_DAYS * 48
    end = math.ceil(data.slot_of(parse_moment(do, "do"))) if do else data.SLOT_COUNT
    first = math.ceil(data.slot_of(parse_moment(od, "od"))) if od else end - week
    if od and do and first > end:
        raise BadRequestError("od must not be after do")
    return _clamp(first), _clamp(end)


def _clamp(slot: int) -> int:
    return min(max(slot, 0), data.SLOT_COUNT)


# -- paging ---------------------------------------------------------------------


def spring_page(
    content: list[Any], number: int, size: int, total: int
) -> dict[str, Any]:
    """A Spring Data page object."""
    pages = math.ceil(total / size) if size else 0
    return {
        "content": content,
        "number": number,
        "size": size,
        "totalElements": total,
        "totalPages": pages,
        "first": number == 0,
        "last": number + 1 >= pages,
        "numberOfElements": len(content),
    }


def url_with(request: Request, **changes: str | int | None) -> str:
    """The request's absolute URL with some query parameters changed."""
    args = request.args.to_dict(flat=True)
    for name, value in changes.items():
        if value is None:
            args.pop(name, None)
        else:
            args[name] = str(value)
    return f"{request.base_url}?{urlencode(args)}"


def encode_cursor(offset: int) -> str:
    """An opaque cursor for a record offset."""
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).rstrip(b"=").decode()


def decode_cursor(cursor: str) -> int:
    """The record offset inside a cursor made by :func:`encode_cursor`."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, offset = text.split(":", 1)
        if prefix != "o" or not offset.isdigit():
            raise ValueError(text)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadRequestError(f"invalid cursor {cursor!r}") from None
    return int(offset)


def link_header(request: Request, page: int, size: int, total: int) -> str:
    """RFC 8288 links to the first, previous, next and last page."""
    last = max(math.ceil(total / size) - 1, 0)
    rels = {"first": 0, "prev": page - 1 if page > 0 else None}
    rels |= {"next": page + 1 if page < last else None, "last": last}
    return ", ".join(
        f'<{url_with(request, page=number)}>; rel="{rel}"'
        for rel, number in rels.items()
        if number is not None
    )


# -- handlers -------------------------------------------------------------------


def list_points(request: Request) -> Answer:
    """``GET /merilna-mesta``: the measuring points, as a Spring page."""
    page = int_arg(request.args, "page", 0)
    size = min(int_arg(request.args, "size", POINTS_PAGE_SIZE, 1), POINTS_MAX_SIZE)
    points, _ = data.catalogue()
    content = points[page * size : (page + 1) * size]
    return json_answer(200, spring_page(content, page, size, len(points)))


def list_parameters(request: Request) -> Answer:
    """``GET /parametri``: the parameters, as a plain array."""
    return json_answer(200, data.catalogue()[1])


def list_measurements(request: Request, faults: Faults) -> Answer:
    """``GET /meritve``: measurements in one of three paging styles."""
    args = request.args
    style = args.get("paging", "page")
    if style not in PAGING_STYLES:
        raise BadRequestError(f"paging must be one of {', '.join(PAGING_STYLES)}")
    series = series_from(args)
    size = min(int_arg(args, "size", MEASUREMENTS_PAGE_SIZE, 1), MEASUREMENTS_MAX_SIZE)
    if style == "cursor":
        return _cursor_page(request, series, size)
    return _offset_page(request, series, size, style, faults.mutate_between_pages)


def _cursor_page(request: Request, series: data.Series, size: int) -> Answer:
    cursor = request.args.get("cursor")
    offset = decode_cursor(cursor) if cursor else 0
    records = series.records(offset, size)
    next_offset = offset + len(records)
    next_url = None
    if next_offset < series.total:
        next_url = url_with(request, cursor=encode_cursor(next_offset), page=None)
    return json_answer(200, {"data": records, "links": {"next": next_url}})


def _offset_page(
    request: Request, series: data.Series, size: int, style: str, mutate: bool
) -> Answer:
    page = int_arg(request.args, "page", 0)
    # mutate_between_pages: as if one record was inserted once page 0 was read
    shifted = int(mutate and page > 0)
    total = series.total + shifted
    records = series.records(page * size - shifted, size)
    if style == "link":
        headers = {"Link": link_header(request, page, size, total)}
        return json_answer(200, records, headers | {"X-Total-Count": str(total)})
    return json_answer(200, spring_page(records, page, size, total))


# -- storing measurements -------------------------------------------------------


@dataclass
class _Remembered:
    fingerprint: str
    answer: Answer


class MeasurementStore:
    """Measurements sent with ``POST /meritve``, kept in memory."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.records: list[dict[str, Any]] = []
        self._keys: set[tuple[str, str, str]] = set()
        self._replies: dict[str, _Remembered] = {}

    def snapshot(self) -> list[dict[str, Any]]:
        """A copy of the stored records, in arrival order."""
        with self._lock:
            return [dict(record) for record in self.records]

    def post(self, request: Request, faults: Faults) -> Answer:
        """``POST /meritve``: validate, drop duplicates, store, answer 201."""
        body = request.get_data()
        key = request.headers.get("Idempotency-Key")
        fingerprint = hashlib.sha256(body).hexdigest()
        with self._lock:
            if key is not None and key in self._replies:
                return self._replay(request, self._replies[key], fingerprint)
            answer = self._store(request, body, faults)
            if key is not None and answer[0] == 201:
                self._replies[key] = _Remembered(fingerprint, answer)
        return answer

    def _replay(self, request: Request, seen: _Remembered, fingerprint: str) -> Answer:
        if seen.fingerprint != fingerprint:
            message = "Idempotency-Key was already used with a different body"
            body = {"error": "idempotency_key_reused", "message": message}
            return json_answer(422, body | {"path": request.path})
        status, headers, payload = seen.answer
        return status, headers | {"Idempotent-Replayed": "true"}, payload

    def _store(self, request: Request, body: bytes, faults: Faults) -> Answer:
        try:
            rows = _rows_of(json.loads(body))
        except ValueError as exc:
            return bad_request(
                request, f"the body is not a list of measurements: {exc}"
            )
        problems = [p for i, row in enumerate(rows) for p in _row_problems(i, row)]
        if problems:
            return bad_request(
                request, f"{len(problems)} problems in the body", problems=problems
            )
        limit = faults.take_fail_post_after()
        new, duplicates = self._add(rows[:limit] if limit is not None else rows)
        if limit is not None and limit < len(rows):
            message = f"stored {len(new)} of {len(rows)} records, then failed"
            return json_answer(500, {"error": "internal_error", "message": message})
        result = {"sprejeto": len(new), "podvojeno": duplicates, "meritve": new}
        return json_answer(201, result)

    def _add(self, rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
        new, duplicates = [], 0
        for row in rows:
            record = _normalised(row)
            key = (
                record["merilno_mesto"],
                record["parameter"],
                _instant(record["cas"]),
            )
            if key in self._keys:
                duplicates += 1
                continue
            self._keys.add(key)
            self.records.append(record)
            new.append(record)
        return new, duplicates


def _rows_of(payload: Any) -> list[dict[str, Any]]:
    if isinstance(payload, dict) and isinstance(payload.get("meritve"), list):
        payload = payload["meritve"]
    if not isinstance(payload, list):
        raise ValueError('expected a JSON array or {"meritve": [...]}')
    return payload


def _row_problems(index: int, row: Any) -> list[dict[str, Any]]:
    def problem(field: str, message: str) -> dict[str, Any]:
        return {"row": index, "field": field, "message": message}

    if not isinstance(row, dict):
        return [problem("", "a record must be a JSON object")]
    problems = []
    point = data.POINTS.get(row.get("merilno_mesto"))  # type: ignore[arg-type]
    if point is None:
        problems.append(problem("merilno_mesto", "missing or unknown measuring point"))
    elif row.get("parameter") not in point.parametri:
        problems.append(problem("parameter", f"not measured at {point.id}"))
    if not _is_aware_time(row.get("cas")):
        problems.append(problem("cas", "an ISO 8601 time with an offset is required"))
    if "vrednost" not in row:
        problems.append(problem("vrednost", "required (null for a missing value)"))
    elif not _is_value(row["vrednost"]):
        problems.append(problem("vrednost", "a number, a decimal string or null"))
    if not isinstance(row.get("veljavna", True), bool):
        problems.append(problem("veljavna", "true or false"))
    return problems


def _is_aware_time(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        return False


def _is_value(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return math.isfinite(value)
    if isinstance(value, str):
        try:
            return math.isfinite(float(value.replace(",", ".")))
        except ValueError:
            return False
    return False


def _instant(cas: str) -> str:
    moment = datetime.fromisoformat(cas)
    return (
        (moment - (moment.utcoffset() or timedelta())).replace(tzinfo=None).isoformat()
    )


def _normalised(row: dict[str, Any]) -> dict[str, Any]:
    parameter = data.PARAMETERS[row["parameter"]]
    return {
        "merilno_mesto": row["merilno_mesto"],
        "parameter": row["parameter"],
        "cas": datetime.fromisoformat(row["cas"]).isoformat(),
        "vrednost": row["vrednost"],
        "enota": row.get("enota", parameter.enota),
        "veljavna": row.get("veljavna", True),
        "status": row.get("status", "OK"),
    }


def builtin_routes(
    faults: Faults, store: MeasurementStore
) -> dict[tuple[str, str], Handler]:
    """The API's own routes, keyed by (method, path below the API prefix)."""
    return {
        ("GET", "/merilna-mesta"): list_points,
        ("GET", "/parametri"): list_parameters,
        ("GET", "/meritve"): lambda request: list_measurements(request, faults),
        ("POST", "/meritve"): lambda request: store.post(request, faults),
    }
