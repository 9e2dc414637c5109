"""ArsoClient against the sandbox: verbs, paging, errors, headers."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import flask
import pandas as pd
import pytest

import arso_data
from arso_data import (
    ApiError,
    ArsoClient,
    ConfigError,
    NotFoundError,
    PagingError,
    PermissionDeniedError,
    ResponseError,
    ServerError,
)
from arso_data.sandbox import Sandbox

MakeClient = Callable[..., ArsoClient]
JSON = {"Content-Type": "application/json"}
DAY = {"merilno_mesto": "0012", "od": "2024-10-27", "do": "2024-10-28"}


def spring_route(
    sb: Sandbox, rows: int, size: int, fail_page: int | None = None
) -> None:
    """A Spring-paged route `/spring` over ids 1..rows."""

    def page(request: flask.Request) -> tuple[int, dict[str, str], Any]:
        number = int(request.args.get("page", "0"))
        if number == fail_page:
            return 500, JSON, {"error": "boom"}
        ids = list(range(number * size + 1, min((number + 1) * size, rows) + 1))
        total_pages = -(-rows // size)
        return (
            200,
            JSON,
            {
                "content": [{"id": str(i).zfill(4), "n": i} for i in ids],
                "number": number,
                "size": size,
                "totalElements": rows,
                "totalPages": total_pages,
                "last": number + 1 >= total_pages,
            },
        )

    sb.route("GET", "/spring", page)


def test_relative_paths_join_the_api_base_url(
    sandbox: Sandbox, client: ArsoClient
) -> None:
    client.get_json("/parametri")
    client.get_json("parametri")
    paths = [r.path for r in sandbox.requests if r.kind == "api"]
    assert paths == ["/api/telemetrija/v1/parametri"] * 2


def test_user_agent_names_arso_data_and_its_version(
    sandbox: Sandbox, client: ArsoClient
) -> None:
    client.get_json("parametri")
    (request,) = [r for r in sandbox.requests if r.kind == "api"]
    assert f"arso-data/{arso_data.__version__}" in request.headers["User-Agent"]


def test_frame_has_provenance_in_attrs(client: ArsoClient) -> None:
    df = client.frame("meritve", DAY)
    assert df.attrs["env"] == "sandbox"
    assert df.attrs["url"].endswith("/api/telemetrija/v1/meritve")
    assert df.attrs["params"] == DAY
    assert pd.Timestamp(df.attrs["fetched_at"]).tzinfo is not None


def test_sandbox_measurements_are_typed(client: ArsoClient) -> None:
    df = client.frame("meritve", DAY)
    assert len(df) > 0
    assert isinstance(df["cas"].dtype, pd.DatetimeTZDtype)
    assert df["vrednost"].dtype == "float64"
    assert df["merilno_mesto"].iloc[0] == "0012"


@pytest.mark.parametrize("paging", ["page", "link", "cursor"])
def test_three_paging_styles_give_the_same_rows(
    client: ArsoClient, paging: str
) -> None:
    reference = client.frame("meritve", {**DAY, "size": 1000})
    paged = client.frame("meritve", {**DAY, "size": 7, "paging": paging})
    assert len(paged) == len(reference) > 7
    pd.testing.assert_frame_equal(
        paged.reset_index(drop=True), reference.reset_index(drop=True)
    )


def test_autumn_day_has_the_repeated_hour_twice(client: ArsoClient) -> None:
    df = client.frame("meritve", {**DAY, "parameter": "NOX"})
    times = df["cas"]
    assert times.is_monotonic_increasing
    assert times.is_unique
    assert len(times) == 50


@pytest.mark.parametrize("workers", [1, 4])
def test_spring_pages_arrive_in_order_once_each(
    sandbox: Sandbox, make_client: MakeClient, workers: int
) -> None:
    spring_route(sandbox, rows=103, size=10)
    client = make_client(workers=workers)

    df = client.frame("spring")

    assert df["n"].tolist() == list(range(1, 104))
    assert df["id"].iloc[0] == "0001"
    assert sandbox.stats.api_requests == 11


def test_a_page_that_keeps_failing_raises_with_progress(
    sandbox: Sandbox, client: ArsoClient
) -> None:
    spring_route(sandbox, rows=50, size=10, fail_page=3)

    with pytest.raises(PagingError) as info:
        client.frame("spring")

    assert info.value.pages_fetched == 3
    assert info.value.rows_fetched == 30
    assert "3 page(s)" in str(info.value)
    assert isinstance(info.value.__cause__, ServerError)


def test_max_pages_stops_early(sandbox: Sandbox, client: ArsoClient) -> None:
    spring_route(sandbox, rows=50, size=10)
    df = client.frame("spring", max_pages=2)
    assert len(df) == 20


def test_changed_total_during_a_pull_is_detected(
    sandbox: Sandbox, make_client: MakeClient
) -> None:
    sandbox.faults.mutate_between_pages = True
    client = make_client(workers=1)
    with pytest.raises(PagingError, match="changed"):
        client.frame("meritve", {**DAY, "size": 10})


def test_next_link_to_another_host_does_not_get_the_token(
    sandbox: Sandbox, client: ArsoClient
) -> None:
    def page(request: flask.Request) -> tuple[int, dict[str, str], Any]:
        return (
            200,
            JSON,
            {"data": [{"id": 1}], "links": {"next": "http://127.0.0.2:1/x"}},
        )

    sandbox.route("GET", "/elsewhere", page)
    with pytest.raises(PagingError) as info:
        client.frame("elsewhere")
    assert "127.0.0.2" in str(info.value)
    assert sandbox.stats.api_requests == 1


def test_absolute_url_to_another_host_is_refused(client: ArsoClient) -> None:
    with pytest.raises(ApiError, match="Refusing to send the token"):
        client.get_json("http://127.0.0.2:1/api")


def test_empty_result_is_an_empty_frame(sandbox: Sandbox, client: ArsoClient) -> None:
    sandbox.route("GET", "/prazno", lambda request: (200, JSON, []))
    df = client.frame("prazno")
    assert isinstance(df, pd.DataFrame)
    assert df.empty


def test_403_mentions_the_role(sandbox: Sandbox, client: ArsoClient) -> None:
    sandbox.faults.forbidden = True
    with pytest.raises(PermissionDeniedError, match="MON_TELEMETRIJA") as info:
        client.get_json("parametri")
    assert info.value.status == 403
    assert info.value.method == "GET"


def test_404_is_not_found(client: ArsoClient) -> None:
    with pytest.raises(NotFoundError) as info:
        client.get_json("ni-tega")
    assert info.value.status == 404
    assert info.value.url is not None
    assert info.value.url.endswith("/ni-tega")


def test_html_instead_of_json_is_a_response_error(
    sandbox: Sandbox, client: ArsoClient
) -> None:
    client.login()
    page = b"<html><body><h1>Prijava</h1></body></html>"
    sandbox.faults.api_responses.append((200, {"Content-Type": "text/html"}, page))
    with pytest.raises(ResponseError) as info:
        client.get_json("parametri")
    assert info.value.status == 200
    assert "Prijava" in (info.value.body_start or "")


def test_server_error_then_success_is_retried(
    sandbox: Sandbox, client: ArsoClient
) -> None:
    client.login()
    sandbox.faults.api_responses.append((503, JSON, b'{"error":"busy"}'))
    assert isinstance(client.get_json("parametri"), list)
    assert sandbox.stats.api_requests == 2


def test_persistent_server_error_is_a_server_error(
    sandbox: Sandbox, client: ArsoClient
) -> None:
    client.login()
    sandbox.faults.api_responses.extend([(502, JSON, b"{}")] * 10)
    with pytest.raises(ServerError, match="502"):
        client.get_json("parametri")
    assert sandbox.stats.api_requests == client.retry.attempts


def test_post_json_sends_and_returns_json(sandbox: Sandbox, client: ArsoClient) -> None:
    rows = [
        {
            "merilno_mesto": "0012",
            "parameter": "NOX",
            "cas": "2025-01-15T13:00:00+01:00",
            "vrednost": "41,3",
            "enota": "mg/m3",
            "veljavna": True,
            "status": "OK",
        }
    ]
    answer = client.post_json("meritve", rows, idempotency_key="k-1")
    (request,) = [r for r in sandbox.requests if r.kind == "api"]
    assert request.method == "POST"
    assert request.headers["Idempotency-Key"] == "k-1"
    assert json.loads(request.body) == rows
    assert answer["sprejeto"] == 1


def test_post_is_not_retried_on_a_server_error(
    sandbox: Sandbox, client: ArsoClient
) -> None:
    client.login()
    sandbox.faults.api_responses.extend([(503, JSON, b"{}")] * 3)
    with pytest.raises(ServerError):
        client.post_json("meritve", [])
    assert sandbox.stats.api_requests == 1


def test_no_api_url_is_a_config_error_naming_the_variable() -> None:
    client = ArsoClient(
        arso_data.resolve_settings(
            client_id="API_TEL_1", client_secret="x" * 8, dotenv_path=False, environ={}
        )
    )
    with pytest.raises(ConfigError, match="ARSO_API_URL"):
        client.get_json("meritve")
    client.close()
