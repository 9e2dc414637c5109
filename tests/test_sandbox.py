"""The sandbox's identity server and example API, spoken to over plain HTTP."""

from __future__ import annotations

import ast
import base64
import hashlib
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jwt
import pytest
import requests

from arso_data import constants
from arso_data.sandbox import Sandbox

TIMEOUT = 10
AUTUMN_DAY = {"merilno_mesto": "0012", "od": "2024-10-27", "do": "2024-10-28"}
TOKEN_FIELDS = {
    "access_token": str,
    "expires_in": int,
    "refresh_expires_in": int,
    "token_type": str,
    "id_token": str,
    "not-before-policy": int,
    "scope": str,
}


def fetch_token(sb: Sandbox, **form: str | None) -> requests.Response:
    """POST the source document's four form fields (None drops one)."""
    fields: dict[str, str | None] = {
        "grant_type": "client_credentials",
        "client_id": sb.client_id,
        "client_secret": sb.client_secret,
        "scope": "openid",
    }
    fields.update(form)
    data = {name: value for name, value in fields.items() if value is not None}
    return requests.post(sb.token_url, data=data, timeout=TIMEOUT)


def bearer(sb: Sandbox) -> dict[str, str]:
    return {"Authorization": f"Bearer {fetch_token(sb).json()['access_token']}"}


def api_get(
    sb: Sandbox, path: str, headers: dict[str, str] | None = None, **params: Any
) -> requests.Response:
    url = path if path.startswith("http") else sb.api_url + path
    return requests.get(url, params=params, headers=headers, timeout=TIMEOUT)


def served_jwks(sb: Sandbox) -> jwt.PyJWKSet:
    certs = sb.auth_url + "/realms/arso/protocol/openid-connect/certs"
    return jwt.PyJWKSet.from_dict(requests.get(certs, timeout=TIMEOUT).json())


# -- the identity server --------------------------------------------------------


def test_token_answer_has_the_source_documents_fields(sandbox: Sandbox) -> None:
    answer = fetch_token(sandbox)

    assert answer.status_code == 200
    body = answer.json()
    assert {name: type(value) for name, value in body.items()} == TOKEN_FIELDS
    assert list(body) == list(TOKEN_FIELDS)
    assert body["expires_in"] == constants.TOKEN_LIFETIME_S
    assert body["refresh_expires_in"] == 0
    assert body["token_type"] == "Bearer"
    assert body["not-before-policy"] == 0
    assert body["scope"] == "openid email profile"
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.headers["Pragma"] == "no-cache"
    assert "Date" in answer.headers


def test_access_token_verifies_against_the_served_jwks(sandbox: Sandbox) -> None:
    body = fetch_token(sandbox).json()
    header = jwt.get_unverified_header(body["access_token"])
    key = served_jwks(sandbox)[header["kid"]]

    claims = jwt.decode(
        body["access_token"],
        key.key,
        algorithms=["RS256"],
        audience="account",
        issuer=f"{sandbox.url}/auth/realms/arso",
    )

    assert header["alg"] == "RS256"
    assert claims["exp"] - claims["iat"] == body["expires_in"]
    assert claims["typ"] == "Bearer"
    assert claims["azp"] == claims["clientId"] == sandbox.client_id
    assert claims["preferred_username"] == "service-account-api_tel_2632632000"
    assert claims["clientHost"] == "127.0.0.1"
    assert any("MON_TELEMETRIJA" in role for role in claims["realm_access"]["roles"])
    assert claims["scope"] == "openid email profile"
    assert re.fullmatch(r"[0-9a-f-]{36}", claims["jti"])


def test_id_token_is_for_the_client(sandbox: Sandbox) -> None:
    body = fetch_token(sandbox).json()
    key = served_jwks(sandbox)[jwt.get_unverified_header(body["id_token"])["kid"]]

    claims = jwt.decode(
        body["id_token"], key.key, algorithms=["RS256"], audience=sandbox.client_id
    )

    digest = hashlib.sha256(body["access_token"].encode()).digest()[:16]
    assert claims["typ"] == "ID"
    assert claims["at_hash"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def test_token_lifetime_is_a_constructor_argument() -> None:
    with Sandbox(port=0, token_lifetime=300) as sb:
        assert fetch_token(sb).json()["expires_in"] == 300


def test_wrong_secret_is_401_invalid_client(sandbox: Sandbox) -> None:
    answer = fetch_token(sandbox, client_secret="napačna")

    assert answer.status_code == 401
    assert answer.json() == {
        "error": "invalid_client",
        "error_description": "Invalid client or Invalid client credentials",
    }


def test_unknown_client_is_401_invalid_client(sandbox: Sandbox) -> None:
    answer = fetch_token(sandbox, client_id="API_TEL_1")
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_client"


def test_missing_client_id_is_400(sandbox: Sandbox) -> None:
    answer = fetch_token(sandbox, client_id=None, client_secret=None)
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_client"


@pytest.mark.parametrize(
    ("grant", "error", "description"),
    [
        (None, "invalid_request", "Missing form parameter: grant_type"),
        ("password", "unsupported_grant_type", "Unsupported grant_type"),
        ("", "invalid_request", "Missing form parameter: grant_type"),
    ],
)
def test_wrong_grant_type_is_400(
    sandbox: Sandbox, grant: str | None, error: str, description: str
) -> None:
    answer = fetch_token(sandbox, grant_type=grant)
    assert answer.status_code == 400
    assert answer.json() == {"error": error, "error_description": description}


def test_http_basic_client_authentication_works(sandbox: Sandbox) -> None:
    secret = "a+b c&d=%é"
    sandbox.add_client("API_TEL_42", secret)
    basic = f"{quote('API_TEL_42', safe='')}:{quote(secret, safe='')}"
    header = "Basic " + base64.b64encode(basic.encode()).decode()

    answer = requests.post(
        sandbox.token_url,
        data={"grant_type": "client_credentials", "scope": "openid"},
        headers={"Authorization": header},
        timeout=TIMEOUT,
    )

    assert answer.status_code == 200
    claims = jwt.decode(
        answer.json()["access_token"], options={"verify_signature": False}
    )
    assert claims["azp"] == "API_TEL_42"


def test_form_and_basic_together_are_400(sandbox: Sandbox) -> None:
    answer = requests.post(
        sandbox.token_url,
        data={
            "grant_type": "client_credentials",
            "client_id": sandbox.client_id,
            "client_secret": sandbox.client_secret,
        },
        auth=(sandbox.client_id, sandbox.client_secret),
        timeout=TIMEOUT,
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_request"
    assert "multiple client authentication methods" in answer.text.lower()


def test_unknown_scope_is_400_invalid_scope(sandbox: Sandbox) -> None:
    answer = fetch_token(sandbox, scope="openid telemetrija")
    assert answer.status_code == 400
    assert answer.json() == {
        "error": "invalid_scope",
        "error_description": "Invalid scopes: openid telemetrija",
    }


def test_without_openid_scope_there_is_no_id_token(sandbox: Sandbox) -> None:
    body = fetch_token(sandbox, scope=None).json()
    assert "id_token" not in body
    assert body["scope"] == "email profile"


def test_discovery_document_names_the_endpoints(sandbox: Sandbox) -> None:
    issuer = f"{sandbox.auth_url}/realms/arso"
    url = issuer + "/.well-known/openid-configuration"

    document = requests.get(url, timeout=TIMEOUT).json()

    assert document["issuer"] == issuer
    assert document["token_endpoint"] == sandbox.token_url
    assert document["jwks_uri"] == issuer + "/protocol/openid-connect/certs"
    assert "client_credentials" in document["grant_types_supported"]
    assert document["token_endpoint_auth_methods_supported"] == [
        "client_secret_post",
        "client_secret_basic",
    ]
    assert document["id_token_signing_alg_values_supported"] == ["RS256"]


def test_realm_page_shows_the_public_key(sandbox: Sandbox) -> None:
    info = requests.get(f"{sandbox.auth_url}/realms/arso", timeout=TIMEOUT).json()
    assert info["realm"] == "arso"
    assert info["token-service"].endswith("/realms/arso/protocol/openid-connect")
    assert len(base64.b64decode(info["public_key"])) > 256


# -- the Bearer check -----------------------------------------------------------


def test_api_without_a_token_is_401_with_www_authenticate(sandbox: Sandbox) -> None:
    answer = api_get(sandbox, "/parametri")
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"] == 'Bearer realm="arso"'
    assert answer.json()["error"] == "unauthorized"


def test_expired_token_is_401_invalid_token(sandbox: Sandbox) -> None:
    sandbox.faults.token_lifetime = -1
    answer = api_get(sandbox, "/parametri", bearer(sandbox))

    assert answer.status_code == 401
    challenge = answer.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer realm="arso", error="invalid_token"')
    assert 'error_description="Token expired"' in challenge
    assert answer.json()["error"] == "invalid_token"


def test_token_of_another_sandbox_is_401(sandbox: Sandbox) -> None:
    with Sandbox(port=0) as other:
        foreign = bearer(other)
    answer = api_get(sandbox, "/parametri", foreign)
    assert answer.status_code == 401
    assert 'error="invalid_token"' in answer.headers["WWW-Authenticate"]


def test_id_token_is_not_a_bearer_token(sandbox: Sandbox) -> None:
    id_token = fetch_token(sandbox).json()["id_token"]
    answer = api_get(sandbox, "/parametri", {"Authorization": f"Bearer {id_token}"})
    assert answer.status_code == 401


def test_garbage_token_is_401(sandbox: Sandbox) -> None:
    answer = api_get(sandbox, "/parametri", {"Authorization": "Bearer abc.def.ghi"})
    assert answer.status_code == 401


# -- the example API ------------------------------------------------------------


def test_points_are_a_spring_page_with_slovenian_names(sandbox: Sandbox) -> None:
    page = api_get(sandbox, "/merilna-mesta", bearer(sandbox)).json()

    assert {k: page[k] for k in ("number", "size", "first", "last")} == {
        "number": 0,
        "size": 20,
        "first": True,
        "last": True,
    }
    points = page["content"]
    assert page["totalElements"] == page["numberOfElements"] == len(points) >= 6
    names = " ".join(p["naziv"] for p in points)
    for letter in "ČčŠšŽž":
        assert letter in names + " ".join(p["organizacija"]["naziv"] for p in points)
    assert len({p["organizacija"]["id"] for p in points}) >= 3
    for point in points:
        assert re.fullmatch(r"0\d{3}", point["id"])
        assert re.fullmatch(r"\d{10}", point["organizacija"]["maticna_stevilka"])
        assert point["vrsta"] in {"emisije v zrak", "odpadne vode"}
        assert set(point["lokacija"]) == {"lat", "lon"}


def test_points_page_size_pages(sandbox: Sandbox) -> None:
    page = api_get(sandbox, "/merilna-mesta", bearer(sandbox), page=1, size=3).json()
    assert page["number"] == 1
    assert page["numberOfElements"] == 3
    assert page["totalPages"] == 3
    assert not page["first"]


def test_parameters_have_decimal_comma_limits(sandbox: Sandbox) -> None:
    parameters = api_get(sandbox, "/parametri", bearer(sandbox)).json()
    codes = {p["sifra"] for p in parameters}
    assert {"NOX", "SO2", "CO", "PRAH", "PRETOK", "TEMP", "PH", "KPK"} <= codes
    for parameter in parameters:
        limit = parameter["mejna_vrednost"]
        assert limit is None or re.fullmatch(r"\d+,\d+", limit)


def test_autumn_day_has_50_slots_with_the_repeated_hour(sandbox: Sandbox) -> None:
    query = AUTUMN_DAY | {"parameter": "NOX"}
    rows = api_get(sandbox, "/meritve", bearer(sandbox), **query).json()["content"]
    times = [row["cas"] for row in rows]

    assert len(times) == 50
    assert times[0] == "2024-10-27T00:00:00+02:00"
    assert times[-1] == "2024-10-27T23:30:00+01:00"
    repeated = [t for t in times if t[11:13] == "02"]
    assert repeated == [
        "2024-10-27T02:00:00+02:00",
        "2024-10-27T02:30:00+02:00",
        "2024-10-27T02:00:00+01:00",
        "2024-10-27T02:30:00+01:00",
    ]


def test_spring_day_has_46_slots_and_no_2_oclock(sandbox: Sandbox) -> None:
    query = {"merilno_mesto": "0012", "parameter": "SO2", "od": "2024-03-31"}
    query["do"] = "2024-04-01"
    rows = api_get(sandbox, "/meritve", bearer(sandbox), **query).json()["content"]
    times = [row["cas"] for row in rows]

    assert len(times) == 46
    assert not [t for t in times if t[11:13] == "02"]
    assert "2024-03-31T01:30:00+01:00" in times
    assert "2024-03-31T03:00:00+02:00" in times


def test_records_are_sorted_by_time_then_parameter(sandbox: Sandbox) -> None:
    page = api_get(sandbox, "/meritve", bearer(sandbox), **AUTUMN_DAY).json()
    rows = page["content"]
    point = api_get(sandbox, "/merilna-mesta", bearer(sandbox)).json()["content"][0]

    assert page["totalElements"] == 50 * len(point["parametri"])
    assert [r["parameter"] for r in rows[: len(point["parametri"])]] == sorted(
        point["parametri"]
    )
    assert rows[0]["merilno_mesto"] == "0012"


def test_a_month_has_gaps_invalid_flags_and_exceedances(sandbox: Sandbox) -> None:
    query = {"merilno_mesto": "0012", "od": "2024-01-01", "do": "2024-02-01"}
    answer = api_get(sandbox, "/meritve", bearer(sandbox), size=10000, **query)
    rows = answer.json()["content"]

    gaps = [r for r in rows if r["vrednost"] is None]
    invalid = [r for r in rows if r["vrednost"] is not None and not r["veljavna"]]
    assert len(rows) == 31 * 48 * 6
    assert 0 < len(gaps) < len(rows) * 0.05
    assert 0.005 < len(invalid) / len(rows) < 0.04
    assert {r["status"] for r in invalid} <= {"NEVELJAVNA", "KALIBRACIJA"}
    values = [r for r in rows if r["vrednost"] is not None]
    assert all(re.fullmatch(r"-?\d+(,\d+)?", r["vrednost"]) for r in values)
    nox = [
        float(r["vrednost"].replace(",", "."))
        for r in values
        if r["parameter"] == "NOX"
    ]
    assert max(nox) > 200 > sum(nox) / len(nox)


def test_default_range_is_the_last_week_of_data(sandbox: Sandbox) -> None:
    page = api_get(sandbox, "/meritve", bearer(sandbox), merilno_mesto="0041").json()
    assert page["totalElements"] == 7 * 48 * 4
    assert page["content"][0]["cas"] == "2025-12-25T00:00:00+01:00"


def test_same_request_gives_the_same_bytes_in_two_sandboxes(sandbox: Sandbox) -> None:
    query = {**AUTUMN_DAY, "page": 1, "size": 100}
    first = api_get(sandbox, "/meritve", bearer(sandbox), **query).content
    with Sandbox(port=0) as other:
        second = api_get(other, "/meritve", bearer(other), **query).content
    assert first == second
    assert api_get(sandbox, "/meritve", bearer(sandbox), **query).content == first


def walk(sb: Sandbox, paging: str, size: int) -> list[dict[str, Any]]:
    """Every record of the autumn day, following the paging style's signal."""
    headers = bearer(sb)
    answer = api_get(sb, "/meritve", headers, paging=paging, size=size, **AUTUMN_DAY)
    rows: list[dict[str, Any]] = []
    while True:
        assert answer.status_code == 200
        body = answer.json()
        if paging == "page":
            rows += body["content"]
            if body["last"]:
                return rows
            query = {**AUTUMN_DAY, "size": size, "page": body["number"] + 1}
            answer = api_get(sb, "/meritve", headers, **query)
            continue
        rows += body if paging == "link" else body["data"]
        next_url = (
            answer.links.get("next", {}).get("url")
            if paging == "link"
            else body["links"]["next"]
        )
        if next_url is None:
            return rows
        answer = api_get(sb, next_url, headers)


def test_three_paging_styles_return_the_same_records(sandbox: Sandbox) -> None:
    reference = api_get(
        sandbox, "/meritve", bearer(sandbox), size=10000, **AUTUMN_DAY
    ).json()["content"]

    for paging in ("page", "link", "cursor"):
        assert walk(sandbox, paging, 7) == reference, paging
    assert len(reference) == 300


def test_link_paging_names_first_next_and_last(sandbox: Sandbox) -> None:
    answer = api_get(
        sandbox,
        "/meritve",
        bearer(sandbox),
        paging="link",
        size=100,
        page=1,
        **AUTUMN_DAY,
    )

    links = {rel: link["url"] for rel, link in answer.links.items()}
    assert set(links) == {"first", "prev", "next", "last"}
    assert links["next"].startswith(sandbox.api_url + "/meritve?")
    assert "page=2" in links["next"]
    assert "page=2" in links["last"]
    assert answer.headers["X-Total-Count"] == "300"
    assert isinstance(answer.json(), list)


def test_page_size_is_clamped_to_10000(sandbox: Sandbox) -> None:
    query = {"merilno_mesto": "0012", "od": "2024-01-01", "do": "2024-03-01"}
    page = api_get(sandbox, "/meritve", bearer(sandbox), size=50000, **query).json()
    assert page["size"] == 10000
    assert page["numberOfElements"] == 10000


def test_page_past_the_end_is_empty(sandbox: Sandbox) -> None:
    page = api_get(sandbox, "/meritve", bearer(sandbox), page=99, **AUTUMN_DAY).json()
    assert page["content"] == []
    assert page["last"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({}, "merilno_mesto"),
        ({"merilno_mesto": "9999"}, "merilno_mesto"),
        ({"merilno_mesto": "0012", "parameter": "KPK"}, "KPK"),
        ({"merilno_mesto": "0012", "od": "včeraj"}, "od"),
        ({"merilno_mesto": "0012", "paging": "offset"}, "paging"),
        ({"merilno_mesto": "0012", "page": "-1"}, "page"),
        ({"merilno_mesto": "0012", "paging": "cursor", "cursor": "!"}, "cursor"),
    ],
)
def test_bad_measurement_queries_are_400(
    sandbox: Sandbox, query: dict[str, str], message: str
) -> None:
    answer = api_get(sandbox, "/meritve", bearer(sandbox), **query)
    assert answer.status_code == 400
    assert message in answer.json()["message"]


def test_unknown_api_path_is_404_json(sandbox: Sandbox) -> None:
    answer = api_get(sandbox, "/ni-tega", bearer(sandbox))
    assert answer.status_code == 404
    assert answer.json() == {
        "error": "not_found",
        "path": "/api/telemetrija/v1/ni-tega",
    }


def test_openapi_describes_every_served_route(sandbox: Sandbox) -> None:
    answer = api_get(sandbox, "/openapi.json")
    document = answer.json()

    assert answer.status_code == 200
    assert document["openapi"].startswith("3.")
    assert "emulation" in document["info"]["description"]
    served = {(m, p) for m, p in sandbox._state.builtin_routes}  # noqa: SLF001
    described = {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
    }
    assert served <= described
    assert ("GET", "/openapi.json") in described
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    for path, item in document["paths"].items():
        for operation in item.values():
            assert operation["summary"], path
            assert operation["responses"], path
    assert_refs_resolve(document, document)
    assert sandbox.stats.api_requests == 0


def assert_refs_resolve(node: Any, document: dict[str, Any]) -> None:
    if isinstance(node, dict):
        if "$ref" in node:
            name = node["$ref"].removeprefix("#/components/schemas/")
            assert name in document["components"]["schemas"], node["$ref"]
        for value in node.values():
            assert_refs_resolve(value, document)
    elif isinstance(node, list):
        for value in node:
            assert_refs_resolve(value, document)


# -- POST /meritve --------------------------------------------------------------


def rows_to_send(count: int = 2) -> list[dict[str, Any]]:
    return [
        {
            "merilno_mesto": "0034",
            "parameter": "KPK",
            "cas": f"2025-01-15T{10 + i:02d}:00:00+01:00",
            "vrednost": "41,3",
            "enota": "mg/l",
            "veljavna": True,
            "status": "OK",
        }
        for i in range(count)
    ]


def post(
    sb: Sandbox,
    body: Any,
    key: str | None = None,
    headers: dict[str, str] | None = None,
) -> requests.Response:
    headers = dict(headers or bearer(sb))
    if key is not None:
        headers["Idempotency-Key"] = key
    return requests.post(
        sb.api_url + "/meritve", json=body, headers=headers, timeout=TIMEOUT
    )


def test_post_stores_and_skips_duplicates(sandbox: Sandbox) -> None:
    first = post(sandbox, rows_to_send(2))
    again = post(sandbox, {"meritve": rows_to_send(3)})

    assert first.status_code == 201
    assert first.json()["sprejeto"] == 2
    assert first.json()["podvojeno"] == 0
    assert again.json()["sprejeto"] == 1
    assert again.json()["podvojeno"] == 2
    assert [r["cas"] for r in sandbox.stored] == [r["cas"] for r in rows_to_send(3)]


def test_same_instant_with_another_offset_is_a_duplicate(sandbox: Sandbox) -> None:
    post(sandbox, rows_to_send(1))
    row = rows_to_send(1)[0] | {"cas": "2025-01-15T09:00:00Z"}
    assert post(sandbox, [row]).json()["podvojeno"] == 1


def test_idempotency_key_repeats_the_first_answer(sandbox: Sandbox) -> None:
    headers = bearer(sandbox)
    first = post(sandbox, rows_to_send(2), "k-1", headers)
    repeat = post(sandbox, rows_to_send(2), "k-1", headers)

    assert repeat.status_code == 201
    assert repeat.json() == first.json()
    assert repeat.headers["Idempotent-Replayed"] == "true"
    assert len(sandbox.stored) == 2
    reused = post(sandbox, rows_to_send(3), "k-1", headers)
    assert reused.status_code == 422


def test_invalid_rows_are_400_listing_each_problem(sandbox: Sandbox) -> None:
    rows = rows_to_send(1) + [{"merilno_mesto": "0034", "parameter": "NOX"}, 5]

    answer = post(sandbox, rows)

    assert answer.status_code == 400
    problems = answer.json()["problems"]
    assert {(p["row"], p["field"]) for p in problems} == {
        (1, "parameter"),
        (1, "cas"),
        (1, "vrednost"),
        (2, ""),
    }
    assert sandbox.stored == []


def test_post_that_is_not_json_is_400(sandbox: Sandbox) -> None:
    answer = requests.post(
        sandbox.api_url + "/meritve",
        data=b"{nope",
        headers=bearer(sandbox),
        timeout=TIMEOUT,
    )
    assert answer.status_code == 400


# -- the package's own rules ----------------------------------------------------


def test_sandbox_imports_only_the_constants_of_arso_data() -> None:
    package = Path(__file__).parents[1] / "arso_data" / "sandbox"
    for source in package.glob("*.py"):
        tree = ast.parse(source.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
                if node.module == "arso_data":
                    names = [f"arso_data.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                if name.startswith("arso_data"):
                    assert name == "arso_data.constants" or name.startswith(
                        "arso_data.sandbox"
                    ), f"{source.name} imports {name}"


def test_thousand_row_page_is_fast(sandbox: Sandbox) -> None:
    import time

    headers = bearer(sandbox)
    query = {"merilno_mesto": "0012", "od": "2024-01-01", "do": "2025-01-01"}
    started = time.perf_counter()
    for page in range(20):
        answer = api_get(sandbox, "/meritve", headers, page=page, **query)
        assert answer.json()["numberOfElements"] == 1000
    assert time.perf_counter() - started < 5.0


def test_repr_and_urls(sandbox: Sandbox) -> None:
    assert sandbox.url == f"http://127.0.0.1:{sandbox.port}"
    assert sandbox.port > 0
    assert sandbox.auth_url == sandbox.url + "/auth"
    assert sandbox.api_url == sandbox.url + "/api/telemetrija/v1"
    assert sandbox.token_url == (
        sandbox.url + "/auth/realms/arso/protocol/openid-connect/token"
    )
    assert "emulation" in repr(sandbox)
    assert sandbox.client_secret not in repr(sandbox)
    assert json.loads(json.dumps(sandbox.faults.as_dict()))["latency"] == 0.0


def test_create_app_works_with_flask_test_client() -> None:
    from arso_data.sandbox import create_app

    with create_app().test_client() as http:
        form = {
            "grant_type": "client_credentials",
            "client_id": constants.SANDBOX_CLIENT_ID,
            "client_secret": constants.SANDBOX_CLIENT_SECRET,
        }
        issued = http.post("/auth/realms/arso/protocol/openid-connect/token", data=form)
        assert issued.json is not None
        headers = {"Authorization": f"Bearer {issued.json['access_token']}"}
        answer = http.get("/api/telemetrija/v1/parametri", headers=headers)
    assert answer.status_code == 200
    assert answer.json is not None
    assert answer.json[0]["sifra"] == "NOX"
