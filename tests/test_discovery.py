"""API discovery: the OpenAPI description as a DataFrame of operations."""

from __future__ import annotations

import builtins
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from arso_data import ApiDescriptionError, ArsoClient, AuthError
from arso_data.cli import main
from arso_data.discovery import COLUMNS, list_endpoints, operations_frame
from arso_data.sandbox import Sandbox
from arso_data.sandbox.telemetry import builtin_routes


def _client_without_description(make_client: Any) -> ArsoClient:
    """A client whose API base is a path where the sandbox serves nothing."""
    client: ArsoClient = make_client()
    base = client.settings.require_api_url()
    return ArsoClient(replace(client.settings, api_url=base + "/none"))


def _answer(status: int, body: Any, ctype: str = "application/json") -> Any:
    return lambda request: (status, {"Content-Type": ctype}, body)


def test_sandbox_description_lists_every_served_route(
    client: ArsoClient, sandbox: Sandbox
) -> None:
    df = list_endpoints(client)

    # Only the keys are used: which (method, path) the sandbox serves.
    served = set(builtin_routes(sandbox.faults, None))  # type: ignore[arg-type]
    served.add(("GET", "/openapi.json"))
    assert list(df.columns) == list(COLUMNS)
    assert set(zip(df["method"], df["path"], strict=True)) == served
    assert len(df) == len(served)
    assert df.attrs["url"] == sandbox.api_url + "/openapi.json"
    assert df.attrs["openapi"].startswith("3.")


def test_parameters_and_summaries_are_listed(client: ArsoClient) -> None:
    df = list_endpoints(client).set_index(["method", "path"])

    measurements = df.loc[("GET", "/meritve")]
    assert "merilno_mesto" in measurements["parameters"].split(", ")
    assert "od" in measurements["parameters"].split(", ")
    assert measurements["summary"]


def test_explicit_location_is_the_only_one_tried(
    client: ArsoClient, sandbox: Sandbox
) -> None:
    before = len(sandbox.requests.of_kind("api"))

    with pytest.raises(ApiDescriptionError, match=r"docs/api\.json \(HTTP 404\)"):
        list_endpoints(client, "docs/api.json")

    assert len(sandbox.requests.of_kind("api")) == before + 1


def test_api_without_a_description_is_a_clear_error(make_client: Any) -> None:
    client = _client_without_description(make_client)

    with pytest.raises(ApiDescriptionError) as caught:
        list_endpoints(client)

    message = str(caught.value)
    assert "No OpenAPI description found" in message
    for location in ("openapi.json", "v3/api-docs", "swagger.json"):
        assert location in message
    assert "location" in message
    assert len(caught.value.tried) >= 3


def test_location_answering_html_or_another_json_is_passed_over(
    client: ArsoClient, sandbox: Sandbox
) -> None:
    sandbox.route(
        "GET", "/v1/openapi.json", _answer(200, "<html>docs</html>", "text/html")
    )
    sandbox.route("GET", "/v1/swagger.json", _answer(200, {"status": "ok"}))

    with pytest.raises(ApiDescriptionError) as caught:
        list_endpoints(client, "v1/openapi.json")
    assert "not JSON" in str(caught.value)
    with pytest.raises(ApiDescriptionError, match="not an OpenAPI description"):
        list_endpoints(client, "v1/swagger.json")


def test_a_refused_token_is_not_mistaken_for_a_missing_description(
    client: ArsoClient, sandbox: Sandbox
) -> None:
    sandbox.route("GET", "/v3/api-docs", _answer(401, {"error": "invalid_token"}))

    with pytest.raises(AuthError):
        list_endpoints(client, "v3/api-docs")


def test_yaml_description_is_read_when_pyyaml_is_installed(
    client: ArsoClient, sandbox: Sandbox
) -> None:
    pytest.importorskip("yaml", reason="PyYAML is optional")
    text = (
        "openapi: 3.0.3\n"
        "info: {title: YAML API, version: '2'}\n"
        "paths:\n"
        "  /postaje:\n"
        "    get:\n"
        "      summary: Stations\n"
        "      parameters: [{name: regija, in: query}]\n"
    )
    sandbox.route("GET", "/openapi.yaml", _answer(200, text, "application/yaml"))

    df = list_endpoints(client, "openapi.yaml")

    assert df.to_dict("records") == [
        {
            "method": "GET",
            "path": "/postaje",
            "summary": "Stations",
            "parameters": "regija",
        }
    ]
    assert df.attrs["title"] == "YAML API"


def test_yaml_location_is_skipped_without_pyyaml(
    make_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_import = builtins.__import__

    def no_yaml(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "yaml":
            raise ImportError("No module named 'yaml'")
        return real_import(name, *args, **kwargs)

    client = _client_without_description(make_client)
    monkeypatch.setattr(builtins, "__import__", no_yaml)

    with pytest.raises(ApiDescriptionError) as caught:
        list_endpoints(client)

    assert "openapi.yaml" not in str(caught.value)


# -- the pure part -------------------------------------------------------------


def test_path_level_and_referenced_parameters_are_merged() -> None:
    description = {
        "openapi": "3.0.0",
        "components": {"parameters": {"Page": {"name": "page", "in": "query"}}},
        "paths": {
            "/postaje/{id}": {
                "parameters": [{"name": "id", "in": "path", "required": True}],
                "get": {
                    "description": "One station.\nWith details.",
                    "parameters": [{"$ref": "#/components/parameters/Page"}],
                },
                "delete": {"operationId": "deleteStation"},
            }
        },
    }

    df = operations_frame(description)

    assert df.to_dict("records") == [
        {
            "method": "GET",
            "path": "/postaje/{id}",
            "summary": "One station.",
            "parameters": "id, page",
        },
        {
            "method": "DELETE",
            "path": "/postaje/{id}",
            "summary": "deleteStation",
            "parameters": "id",
        },
    ]


def test_swagger_2_is_read_too() -> None:
    description = {
        "swagger": "2.0",
        "info": {"title": "Old", "version": "1"},
        "parameters": {"Size": {"name": "size", "in": "query"}},
        "paths": {"/a": {"get": {"parameters": [{"$ref": "#/parameters/Size"}]}}},
    }

    df = operations_frame(description)

    assert df["parameters"].tolist() == ["size"]
    assert df.attrs["openapi"] == "2.0"


def test_description_without_paths_gives_an_empty_frame_with_columns() -> None:
    df = operations_frame({"openapi": "3.1.0", "paths": {}})

    assert df.empty
    assert list(df.columns) == list(COLUMNS)


def test_cyclic_reference_does_not_hang() -> None:
    description = {
        "openapi": "3.0.0",
        "components": {"parameters": {"A": {"$ref": "#/components/parameters/A"}}},
        "paths": {
            "/x": {"get": {"parameters": [{"$ref": "#/components/parameters/A"}]}}
        },
    }

    assert operations_frame(description)["parameters"].tolist() == [""]


# -- the command line ----------------------------------------------------------


def test_cli_endpoints_lists_the_operations(
    sandbox: Sandbox,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    for name in ("ARSO_ENV", "ARSO_CLIENT_ID", "ARSO_CLIENT_SECRET", "ARSO_API_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    args = ["--env", "sandbox", "--auth-url", sandbox.auth_url]

    assert main(["endpoints", *args, "--api-url", sandbox.api_url]) == 0
    out = capsys.readouterr().out
    assert " operations (" in out
    assert "/merilna-mesta" in out

    code = main(["endpoints", *args, "--api-url", sandbox.api_url + "/none"])
    assert code == 4
    assert "No OpenAPI description found" in capsys.readouterr().err
