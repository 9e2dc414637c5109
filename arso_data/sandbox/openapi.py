"""The OpenAPI 3.1 description of the example telemetry API."""

from __future__ import annotations

from typing import Any

from arso_data.sandbox import telemetry

_NOTE = (
    "A local emulation made by arso-data for tests and demos. ARSO's source "
    "document describes only the token endpoint; these paths and payloads are "
    "an example, not ARSO's real telemetry API."
)


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _query(
    name: str, description: str, schema: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    parameter = {"name": name, "in": "query", "description": description}
    return parameter | {"schema": schema} | extra


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": schema}},
    }


def _errors(*statuses: int) -> dict[str, Any]:
    texts = {
        400: "Invalid query or body",
        401: "Missing, invalid or expired Bearer token (see WWW-Authenticate)",
        403: "The client lacks the role the API needs",
        429: "Too many requests (see Retry-After)",
    }
    return {str(s): _json(_ref("Napaka"), texts[s]) for s in statuses}


_PAGE_PARAMS = [
    _query(
        "page", "Page number, from 0", {"type": "integer", "minimum": 0, "default": 0}
    ),
]

_PATHS: dict[str, Any] = {
    "/openapi.json": {
        "get": {
            "summary": "This OpenAPI description",
            "operationId": "openapi",
            "security": [],
            "responses": {"200": {"description": "The OpenAPI document"}},
        }
    },
    "/merilna-mesta": {
        "get": {
            "summary": "Measuring points (merilna mesta), a page at a time",
            "operationId": "listMerilnaMesta",
            "parameters": [
                *_PAGE_PARAMS,
                _query(
                    "size",
                    f"Page size (at most {telemetry.POINTS_MAX_SIZE})",
                    {
                        "type": "integer",
                        "minimum": 1,
                        "default": telemetry.POINTS_PAGE_SIZE,
                    },
                ),
            ],
            "responses": {
                "200": _json(_ref("StranMerilnihMest"), "One page of points"),
                **_errors(400, 401, 403, 429),
            },
        }
    },
    "/parametri": {
        "get": {
            "summary": "Measured parameters with units and limit values",
            "operationId": "listParametri",
            "responses": {
                "200": _json(
                    {"type": "array", "items": _ref("Parameter")}, "All parameters"
                ),
                **_errors(401, 403, 429),
            },
        }
    },
    "/meritve": {
        "get": {
            "summary": "Half-hourly measurements of one point, by time then parameter",
            "description": (
                "The range is half-open, [od, do). Dates mean local midnight "
                "(Europe/Ljubljana); times without an offset are local. Without "
                "od and do: the last 7 days of the data (2024-01-01 to 2025-12-31). "
                "size is clamped to 10000. paging=page answers a Spring page "
                "object, paging=link a plain array with an RFC 8288 Link header "
                "(rel next, prev, first, last), paging=cursor "
                "{data, links: {next}}."
            ),
            "operationId": "listMeritve",
            "parameters": [
                _query(
                    "merilno_mesto",
                    "Measuring point ID",
                    {"type": "string"},
                    required=True,
                ),
                _query(
                    "parameter",
                    "Comma-separated parameter codes (default: all of the point's)",
                    {"type": "string"},
                ),
                _query(
                    "od",
                    "From (inclusive), ISO 8601 date or date-time",
                    {"type": "string"},
                ),
                _query(
                    "do",
                    "To (exclusive), ISO 8601 date or date-time",
                    {"type": "string"},
                ),
                *_PAGE_PARAMS,
                _query(
                    "size",
                    f"Records per page (at most {telemetry.MEASUREMENTS_MAX_SIZE})",
                    {
                        "type": "integer",
                        "minimum": 1,
                        "default": telemetry.MEASUREMENTS_PAGE_SIZE,
                    },
                ),
                _query(
                    "paging",
                    "Paging style",
                    {
                        "type": "string",
                        "enum": list(telemetry.PAGING_STYLES),
                        "default": "page",
                    },
                ),
                _query(
                    "cursor",
                    "Opaque cursor from links.next (paging=cursor)",
                    {"type": "string"},
                ),
            ],
            "responses": {
                "200": {
                    "description": "Measurements in the chosen paging style",
                    "headers": {
                        "Link": {
                            "description": "RFC 8288 links (paging=link)",
                            "schema": {"type": "string"},
                        }
                    },
                    "content": {
                        "application/json": {
                            "schema": {
                                "oneOf": [
                                    _ref("StranMeritev"),
                                    {"type": "array", "items": _ref("Meritev")},
                                    _ref("MeritveKazalec"),
                                ]
                            }
                        }
                    },
                },
                **_errors(400, 401, 403, 429),
            },
        },
        "post": {
            "summary": "Store measurements; duplicates are skipped",
            "operationId": "createMeritve",
            "parameters": [
                {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "description": "Same key, same body: the first answer again",
                    "schema": {"type": "string"},
                }
            ],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "oneOf": [
                                {"type": "array", "items": _ref("Meritev")},
                                {
                                    "type": "object",
                                    "properties": {
                                        "meritve": {
                                            "type": "array",
                                            "items": _ref("Meritev"),
                                        }
                                    },
                                    "required": ["meritve"],
                                },
                            ]
                        }
                    }
                },
            },
            "responses": {
                "201": _json(_ref("RezultatShranjevanja"), "Stored"),
                **_errors(400, 401, 403, 429),
                "422": _json(
                    _ref("Napaka"), "Idempotency-Key reused with another body"
                ),
            },
        },
    },
}

_DECIMAL = {
    "type": ["string", "null"],
    "pattern": "^-?[0-9]+(,[0-9]+)?$",
    "description": "A decimal number with a decimal comma",
}


def _page_of(item: str) -> dict[str, Any]:
    integer = {"type": "integer"}
    return {
        "type": "object",
        "properties": {
            "content": {"type": "array", "items": _ref(item)},
            "number": integer,
            "size": integer,
            "totalElements": integer,
            "totalPages": integer,
            "first": {"type": "boolean"},
            "last": {"type": "boolean"},
            "numberOfElements": integer,
        },
        "required": ["content", "number", "size", "totalElements", "totalPages"],
    }


def _object(required: list[str], **properties: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required}


_STRING = {"type": "string"}
_NUMBER = {"type": "number"}
_SCHEMAS: dict[str, Any] = {
    "Organizacija": _object(
        ["id", "naziv"], id=_STRING, naziv=_STRING,
        maticna_stevilka={"type": "string", "pattern": "^[0-9]{10}$"},
    ),
    "MerilnoMesto": _object(
        ["id", "naziv", "organizacija", "vrsta"],
        id={"type": "string", "description": "With leading zeros"},
        naziv=_STRING,
        organizacija=_ref("Organizacija"),
        vrsta={"type": "string", "enum": ["emisije v zrak", "odpadne vode"]},
        lokacija=_object(["lat", "lon"], lat=_NUMBER, lon=_NUMBER),
        parametri={"type": "array", "items": _STRING},
        aktivno={"type": "boolean"},
    ),
    "Parameter": _object(
        ["sifra", "naziv", "enota"], sifra=_STRING, naziv=_STRING, enota=_STRING,
        mejna_vrednost=_DECIMAL,
    ),
    "Meritev": _object(
        ["merilno_mesto", "parameter", "cas", "vrednost"],
        merilno_mesto=_STRING,
        parameter=_STRING,
        cas={"type": "string", "format": "date-time", "description": "With offset"},
        vrednost=_DECIMAL,
        enota=_STRING,
        veljavna={"type": "boolean"},
        status={"type": "string", "examples": ["OK", "NEVELJAVNA", "NI_PODATKA"]},
    ),
    "StranMerilnihMest": _page_of("MerilnoMesto"),
    "StranMeritev": _page_of("Meritev"),
    "MeritveKazalec": _object(
        ["data", "links"],
        data={"type": "array", "items": _ref("Meritev")},
        links=_object(["next"], next={"type": ["string", "null"], "format": "uri"}),
    ),
    "RezultatShranjevanja": _object(
        ["sprejeto", "podvojeno", "meritve"],
        sprejeto={"type": "integer"},
        podvojeno={"type": "integer"},
        meritve={"type": "array", "items": _ref("Meritev")},
    ),
    "Napaka": _object(
        ["error"], error=_STRING, message=_STRING, error_description=_STRING
    ),
}  # fmt: skip


def openapi_document(api_url: str, token_url: str) -> dict[str, Any]:
    """The OpenAPI document, with this sandbox's URLs filled in."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Telemetrija API (arso-data sandbox emulation)",
            "version": "1.0.0",
            "description": _NOTE,
        },
        "servers": [{"url": api_url}],
        "security": [{"bearerAuth": []}],
        "paths": _PATHS,
        "components": {
            "schemas": _SCHEMAS,
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                },
                "arsoClientCredentials": {
                    "type": "oauth2",
                    "flows": {
                        "clientCredentials": {"tokenUrl": token_url, "scopes": {}}
                    },
                },
            },
        },
    }
