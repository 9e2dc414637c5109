"""The sandbox's Flask app: routes, request recording, the Bearer check.

Every API request goes through :func:`_serve_api`, the one path that applies
the faults (see :mod:`arso_data.sandbox.faults` for their order), checks the
token, finds the route (a test's own first, then the built-in ones) and
damages the answer when ``broken_body`` asks for it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt
from flask import Flask, Request, Response, g, request
from werkzeug.exceptions import HTTPException

from arso_data import constants
from arso_data.sandbox import telemetry
from arso_data.sandbox.answers import Answer, error_answer, json_answer, to_response
from arso_data.sandbox.faults import (
    Faults,
    Kind,
    RecordedRequest,
    RequestLog,
    Stats,
    break_body,
    forbidden_answer,
)
from arso_data.sandbox.identity import REALM_PATH, Realm, discovery, realm_info
from arso_data.sandbox.keys import API_ROLE, SigningKey
from arso_data.sandbox.openapi import openapi_document

logger = logging.getLogger(__name__)

AUTH = constants.SANDBOX_AUTH_PREFIX
API = constants.SANDBOX_API_PREFIX
TOKEN_PATH = AUTH + constants.TOKEN_PATH.format(realm=constants.REALM)
WELL_KNOWN_PATH = AUTH + constants.WELL_KNOWN_PATH.format(realm=constants.REALM)
CERTS_PATH = AUTH + constants.CERTS_PATH.format(realm=constants.REALM)
ADMIN_PATH = "/_sandbox/faults"
OPENAPI_PATH = "/openapi.json"
_LOOPBACK = ("127.", "::1", "::ffff:127.")

Handler = Callable[[Request], Answer]


@dataclass(frozen=True)
class Route:
    """A route below the API prefix."""

    handler: Handler
    auth: bool = True


class SandboxState:
    """Everything one sandbox keeps: key, clients, faults, counters, data."""

    def __init__(
        self, *, token_lifetime: int = constants.TOKEN_LIFETIME_S, latency: float = 0.0
    ) -> None:
        self.key = SigningKey()
        self.faults = Faults(latency=latency, token_lifetime=token_lifetime)
        self.stats = Stats()
        self.requests = RequestLog()
        self.clients = {constants.SANDBOX_CLIENT_ID: constants.SANDBOX_CLIENT_SECRET}
        self.realm = Realm(self.key, self.faults, self.stats, self.clients)
        self.store = telemetry.MeasurementStore()
        self.custom_routes: dict[tuple[str, str], Route] = {}
        self.builtin_routes = {
            name: Route(handler)
            for name, handler in telemetry.builtin_routes(
                self.faults, self.store
            ).items()
        }
        #: The sandbox's own URL once it listens; tokens name it as issuer.
        self.base_url: str | None = None

    def issuer(self) -> str:
        """The realm's issuer URL (the listening URL, else the request's host)."""
        base = self.base_url or request.host_url.rstrip("/")
        return f"{base}{AUTH}{REALM_PATH}"

    def find_route(self, method: str, path: str) -> Route | None:
        """A test's route first, then a built-in one."""
        key = (method, path)
        return self.custom_routes.get(key) or self.builtin_routes.get(key)


def create_app(state: SandboxState | None = None) -> Flask:
    """Build the sandbox's Flask app (a fresh state when none is given)."""
    state = state or SandboxState()
    app = Flask("arso_data.sandbox")
    app.config["sandbox"] = state
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.before_request(lambda: _record(state))
    app.after_request(lambda response: _count_status(state, response))
    app.register_error_handler(HTTPException, _http_error)
    _add_identity_routes(app, state)
    _add_api_routes(app, state)
    _add_admin_routes(app, state)
    return app


def kind_of(path: str) -> Kind:
    """Whether *path* is a token request, an API request or something else."""
    if path == TOKEN_PATH:
        return "token"
    if path.startswith(API + "/") and path != API + OPENAPI_PATH:
        return "api"
    return "other"


def _record(state: SandboxState) -> None:
    kind = kind_of(request.path)
    g.recorded = RecordedRequest(
        method=request.method,
        path=request.path,
        query=request.args.to_dict(flat=True),
        headers=dict(request.headers.items()),
        body=request.get_data(cache=True),
        kind=kind,
        time=time.time(),
    )
    state.requests.append(g.recorded)
    state.stats.count_request(kind)
    latency = state.faults.latency
    if kind != "other" and latency > 0:
        time.sleep(latency)


def _count_status(state: SandboxState, response: Response) -> Response:
    state.stats.count_status(response.status_code)
    recorded: RecordedRequest | None = g.get("recorded")
    if recorded is not None:
        recorded.status = response.status_code
    return response


def _http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    body = {"error": (exc.name or "error").lower().replace(" ", "_")}
    return to_response(json_answer(status, body | {"path": request.path}))


def _add_identity_routes(app: Flask, state: SandboxState) -> None:
    def token() -> Response:
        canned = state.faults.intercept("token")
        answer = canned or state.realm.token(request, state.issuer())
        return to_response(answer)

    def well_known() -> Response:
        return to_response(json_answer(200, discovery(state.issuer())))

    def certs() -> Response:
        return to_response(json_answer(200, {"keys": [state.key.jwk]}))

    def realm() -> Response:
        return to_response(json_answer(200, realm_info(state.issuer(), state.key)))

    app.add_url_rule(TOKEN_PATH, "token", token, methods=["POST"])
    app.add_url_rule(WELL_KNOWN_PATH, "well_known", well_known)
    app.add_url_rule(CERTS_PATH, "certs", certs)
    app.add_url_rule(AUTH + REALM_PATH, "realm", realm)


def _add_api_routes(app: Flask, state: SandboxState) -> None:
    def openapi() -> Response:
        token_url = state.issuer() + "/protocol/openid-connect/token"
        document = openapi_document(request.host_url.rstrip("/") + API, token_url)
        return to_response(json_answer(200, document))

    def api(subpath: str = "") -> Response:
        return to_response(_serve_api(state, "/" + subpath))

    app.add_url_rule(API + OPENAPI_PATH, "openapi", openapi)
    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
    app.add_url_rule(API, "api_root", api, methods=methods)
    app.add_url_rule(API + "/<path:subpath>", "api", api, methods=methods)


def _serve_api(state: SandboxState, path: str) -> Answer:
    faults = state.faults
    canned = faults.intercept("api", API + path)
    if canned is not None:
        return canned
    route = state.find_route(request.method, path)
    if route is None or route.auth:
        refusal = _check_bearer(state)
        if refusal is not None:
            return refusal
    if faults.forbidden:
        return forbidden_answer(API_ROLE)
    answer = _run(route, path)
    broken = faults.take_broken_body() if answer[0] == 200 else None
    return break_body(broken, answer) if broken else answer


def _run(route: Route | None, path: str) -> Answer:
    if route is None:
        return json_answer(404, {"error": "not_found", "path": API + path})
    try:
        return route.handler(request)
    except telemetry.BadRequestError as exc:
        return telemetry.bad_request(request, str(exc))


def _check_bearer(state: SandboxState) -> Answer | None:
    """None for a valid token, else the 401 answer (RFC 6750, section 3)."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        # RFC 6750 3.1: no error code when the request has no credentials.
        header = f'Bearer realm="{constants.REALM}"'
        body = {"error": "unauthorized", "error_description": "Bearer token required"}
        return json_answer(401, body, {"WWW-Authenticate": header})
    problem = _token_problem(state, token.strip())
    if problem is None:
        return None
    header = (
        f'Bearer realm="{constants.REALM}", error="invalid_token", '
        f'error_description="{problem}"'
    )
    return error_answer(401, "invalid_token", problem, {"WWW-Authenticate": header})


def _token_problem(state: SandboxState, token: str) -> str | None:
    try:
        claims: dict[str, Any] = state.key.verify(token, state.issuer())
    except jwt.ExpiredSignatureError:
        return "Token expired"
    except jwt.InvalidTokenError as exc:
        logger.debug("token refused: %s", type(exc).__name__)
        return "Token invalid: " + type(exc).__name__
    issued_at = state.key.issued_at(claims)
    if issued_at <= state.faults.revoked_before:
        return "Token revoked"
    early = state.faults.expire_tokens_after
    if early is not None and time.time() - issued_at > early:
        return "Token is not active"
    return None


def _add_admin_routes(app: Flask, state: SandboxState) -> None:
    def admin() -> Response:
        if not (request.remote_addr or "").startswith(_LOOPBACK):
            return to_response(json_answer(403, {"error": "loopback_only"}))
        if request.method == "DELETE":
            state.faults.reset()
        elif request.method == "POST":
            try:
                state.faults.update(request.get_json(force=True))
            except (ValueError, TypeError, AttributeError) as exc:
                return to_response(
                    json_answer(400, {"error": "bad_request", "message": str(exc)})
                )
        body = {"faults": state.faults.as_dict(), "stats": state.stats.as_dict()}
        return to_response(json_answer(200, body))

    app.add_url_rule(ADMIN_PATH, "admin", admin, methods=["GET", "POST", "DELETE"])
