"""cache: re-runs read API answers from disk; tokens, errors and secrets never."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from arso_data import ArsoClient
from arso_data.cache import CacheConfig, cache_config, cache_file, default_folder
from arso_data.errors import ServerError
from arso_data.sandbox import Sandbox

PARAMS = {"merilno_mesto": "0012", "od": "2024-10-01", "do": "2024-10-03"}


@pytest.fixture
def cached(make_client: Any, tmp_path: Path) -> ArsoClient:
    client: ArsoClient = make_client(
        cache=CacheConfig(folder=tmp_path, expire_after=60)
    )
    return client


def test_cache_is_off_by_default(sandbox: Sandbox, client: ArsoClient) -> None:
    client.get_json("parametri")
    client.get_json("parametri")

    assert sandbox.stats.api_requests == 2
    assert cache_config(None) is None
    assert cache_config(False) is None


def test_a_rerun_is_answered_from_the_cache(
    sandbox: Sandbox, cached: ArsoClient
) -> None:
    first = cached.frame("meritve", PARAMS)
    asked = sandbox.stats.api_requests

    again = cached.frame("meritve", PARAMS)

    assert sandbox.stats.api_requests == asked
    assert again.equals(first)


def test_clear_cache_asks_again(sandbox: Sandbox, cached: ArsoClient) -> None:
    cached.get_json("parametri")

    cached.clear_cache()
    cached.get_json("parametri")

    assert sandbox.stats.api_requests == 2


def test_a_renewed_token_still_hits_the_cache(
    sandbox: Sandbox, cached: ArsoClient
) -> None:
    cached.get_json("parametri")
    cached.logout()
    cached.login()

    cached.get_json("parametri")

    assert sandbox.stats.api_requests == 1
    assert sandbox.stats.token_requests == 2  # the token endpoint is never cached


def test_error_answers_are_not_cached(sandbox: Sandbox, cached: ArsoClient) -> None:
    sandbox.faults.server_errors = 100
    with pytest.raises(ServerError):
        cached.get_json("parametri")
    sandbox.faults.server_errors = 0

    assert cached.get_json("parametri")
    cached.get_json("parametri")
    assert cached._http.cache.responses.keys()  # type: ignore[attr-defined]


def test_the_cache_file_holds_no_token_or_secret(
    sandbox: Sandbox, cached: ArsoClient, tmp_path: Path
) -> None:
    cached.frame("meritve", PARAMS)
    token = cached.login().access_token

    stored = b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())

    assert stored
    assert token.encode() not in stored
    assert sandbox.client_secret.encode() not in stored
    assert b"Bearer" not in stored


def test_each_client_id_and_api_has_its_own_file(
    cached: ArsoClient, tmp_path: Path
) -> None:
    config = CacheConfig(folder=tmp_path)
    other = dataclasses.replace(cached.settings, api_url="https://example.invalid/api")

    assert cache_file(config, cached.settings) != cache_file(config, other)
    assert cache_file(config, cached.settings).parent == tmp_path


def test_the_default_folder_follows_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ARSO_CACHE_DIR", str(tmp_path / "a"))
    assert default_folder() == tmp_path / "a"
    monkeypatch.delenv("ARSO_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert default_folder() == tmp_path / "x" / "arso-data"
    assert cache_config(True) == CacheConfig()
    assert cache_config(tmp_path) == CacheConfig(folder=tmp_path)
