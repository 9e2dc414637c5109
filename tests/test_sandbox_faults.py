"""Each fault switch of the sandbox has its effect, and only for as long as asked."""

from __future__ import annotations

import email.utils
import gzip
import json
import time
from typing import Any

import flask
import pytest
import requests

from arso_data.sandbox import Sandbox

TIMEOUT = 10
DAY = {"merilno_mesto": "0012", "od": "2024-10-27", "do": "2024-10-28"}


def token(sb: Sandbox) -> requests.Response:
    form = {
        "grant_type": "client_credentials",
        "client_id": sb.client_id,
        "client_secret": sb.client_secret,
        "scope": "openid",
    }
    return requests.post(sb.token_url, data=form, timeout=TIMEOUT)


def bearer(sb: Sandbox) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(sb).json()['access_token']}"}


def get(
    sb: Sandbox,
    path: str = "/parametri",
    headers: dict[str, str] | None = None,
    **q: Any,
) -> requests.Response:
    return requests.get(sb.api_url + path, params=q, headers=headers, timeout=TIMEOUT)


def statuses(sb: Sandbox, count: int, headers: dict[str, str]) -> list[int]:
    return [get(sb, headers=headers).status_code for _ in range(count)]


def test_latency_delays_token_and_api_answers(sandbox: Sandbox) -> None:
    headers = bearer(sandbox)
    sandbox.faults.latency = 0.2

    started = time.perf_counter()
    token(sandbox)
    get(sandbox, headers=headers)
    assert time.perf_counter() - started >= 0.4


def test_token_lifetime_switch_sets_expires_in(sandbox: Sandbox) -> None:
    sandbox.faults.token_lifetime = 60
    assert token(sandbox).json()["expires_in"] == 60


def test_token_responses_are_used_once_each(sandbox: Sandbox) -> None:
    page = "<html><body><h1>502 Bad Gateway</h1></body></html>"
    sandbox.faults.token_responses.extend(
        [(502, {"Content-Type": "text/html"}, page), (500, {}, "Internal error")]
    )

    first, second, third = token(sandbox), token(sandbox), token(sandbox)

    assert (first.status_code, first.text) == (502, page)
    assert first.headers["Content-Type"] == "text/html"
    assert (second.status_code, second.text) == (500, "Internal error")
    assert second.headers["Content-Type"].startswith("text/plain")
    assert third.status_code == 200
    assert sandbox.stats.token_requests == 3
    assert sandbox.stats.tokens_issued == 1


def test_api_responses_come_before_the_bearer_check(sandbox: Sandbox) -> None:
    sandbox.faults.api_responses.append((200, {}, {"fake": True}))

    faked = get(sandbox)  # no token at all

    assert faked.json() == {"fake": True}
    assert faked.headers["Content-Type"] == "application/json"
    assert get(sandbox).status_code == 401


def test_rate_limit_answers_429_then_recovers(sandbox: Sandbox) -> None:
    headers = bearer(sandbox)
    sandbox.faults.rate_limit = 2
    sandbox.faults.retry_after = 7

    answer = get(sandbox, headers=headers)

    assert answer.status_code == 429
    assert answer.headers["Retry-After"] == "7"
    assert answer.json() == {"error": "too_many_requests"}
    assert statuses(sandbox, 2, headers) == [429, 200]


def test_rate_limit_retry_after_as_http_date(sandbox: Sandbox) -> None:
    sandbox.faults.rate_limit = 1
    sandbox.faults.retry_after = 30
    sandbox.faults.retry_after_http_date = True

    answer = get(sandbox, headers=bearer(sandbox))

    when = email.utils.parsedate_to_datetime(answer.headers["Retry-After"])
    assert 25 <= when.timestamp() - time.time() <= 31


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_answer_the_chosen_status(sandbox: Sandbox, status: int) -> None:
    headers = bearer(sandbox)
    sandbox.faults.server_errors = 1
    sandbox.faults.server_error_status = status

    answer = get(sandbox, headers=headers)

    assert answer.status_code == status
    if status == 500:
        assert answer.json()["status"] == 500
    else:
        assert "<center>nginx</center>" in answer.text
        assert answer.headers["Content-Type"] == "text/html"
    assert ("Retry-After" in answer.headers) == (status == 503)
    assert get(sandbox, headers=headers).status_code == 200


def broken(sb: Sandbox, kind: str) -> tuple[requests.Response, bytes]:
    headers = bearer(sb)
    reference = get(sb, headers=headers).content
    sb.faults.broken_body = 1
    sb.faults.broken_body_kind = kind
    return get(sb, headers=headers), reference


@pytest.mark.parametrize(
    ("kind", "check"),
    [
        ("html", lambda a, ref: a.headers["Content-Type"].startswith("text/html")),
        ("truncated", lambda a, ref: a.content == ref[: len(ref) // 2]),
        ("empty", lambda a, ref: a.content == b""),
        ("bom", lambda a, ref: a.content == b"\xef\xbb\xbf" + ref),
        ("wrong_content_type", lambda a, ref: a.content == ref),
    ],
)
def test_broken_body_damages_one_answer(
    sandbox: Sandbox, kind: str, check: Any
) -> None:
    answer, reference = broken(sandbox, kind)

    assert answer.status_code == 200
    assert check(answer, reference)
    if kind == "wrong_content_type":
        assert answer.headers["Content-Type"].startswith("text/plain")
    assert get(sandbox, headers=bearer(sandbox)).content == reference


def test_broken_body_invalid_utf8(sandbox: Sandbox) -> None:
    answer, _ = broken(sandbox, "invalid_utf8")
    with pytest.raises(UnicodeDecodeError):
        answer.content.decode("utf-8")


def test_broken_body_gzip_is_correctly_compressed(sandbox: Sandbox) -> None:
    headers = bearer(sandbox)
    reference = get(sandbox, headers=headers).content
    sandbox.faults.broken_body = 1
    sandbox.faults.broken_body_kind = "gzip"

    answer = requests.get(
        sandbox.api_url + "/parametri", headers=headers, stream=True, timeout=TIMEOUT
    )
    with answer:
        raw = answer.raw.read(decode_content=False)

    assert answer.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(raw) == reference


def test_broken_body_spares_error_answers(sandbox: Sandbox) -> None:
    sandbox.faults.broken_body = 1
    assert get(sandbox).status_code == 401
    assert sandbox.faults.broken_body == 1


def test_expire_tokens_after_rejects_tokens_early(sandbox: Sandbox) -> None:
    sandbox.faults.expire_tokens_after = 0.0
    body = token(sandbox).json()

    answer = get(sandbox, headers={"Authorization": f"Bearer {body['access_token']}"})

    assert body["expires_in"] == 36000
    assert answer.status_code == 401
    assert (
        'error_description="Token is not active"' in answer.headers["WWW-Authenticate"]
    )


def test_revoke_all_rejects_earlier_tokens_only(sandbox: Sandbox) -> None:
    old = bearer(sandbox)
    sandbox.faults.revoke_all()
    new = bearer(sandbox)

    assert get(sandbox, headers=old).status_code == 401
    assert get(sandbox, headers=new).status_code == 200


def test_forbidden_says_which_role_is_missing(sandbox: Sandbox) -> None:
    sandbox.faults.forbidden = True
    answer = get(sandbox, headers=bearer(sandbox))
    assert answer.status_code == 403
    assert "MON_TELEMETRIJA" in answer.json()["error_description"]


def test_mutate_between_pages_grows_the_total_by_one(sandbox: Sandbox) -> None:
    headers = bearer(sandbox)
    sandbox.faults.mutate_between_pages = True

    first = get(sandbox, "/meritve", headers, size=10, page=0, **DAY).json()
    second = get(sandbox, "/meritve", headers, size=10, page=1, **DAY).json()

    assert second["totalElements"] == first["totalElements"] + 1
    assert second["content"][0] == first["content"][-1]


def test_fail_post_after_stores_part_then_500(sandbox: Sandbox) -> None:
    rows = [
        {
            "merilno_mesto": "0012",
            "parameter": "NOX",
            "cas": f"2025-01-15T1{i}:00:00+01:00",
            "vrednost": 12.5,
        }
        for i in range(5)
    ]
    sandbox.faults.fail_post_after = 2

    answer = requests.post(
        sandbox.api_url + "/meritve",
        json=rows,
        headers=bearer(sandbox),
        timeout=TIMEOUT,
    )

    assert answer.status_code == 500
    assert len(sandbox.stored) == 2
    assert sandbox.faults.fail_post_after is None


def test_reset_switches_everything_off(sandbox: Sandbox) -> None:
    faults = sandbox.faults
    faults.rate_limit, faults.forbidden, faults.latency = 3, True, 0.5
    faults.api_responses.append((500, {}, ""))

    faults.reset()

    assert (faults.rate_limit, faults.forbidden, faults.latency) == (0, False, 0.0)
    assert faults.api_responses == []
    assert get(sandbox, headers=bearer(sandbox)).status_code == 200


def test_reset_returns_to_the_constructor_settings() -> None:
    with Sandbox(port=0, token_lifetime=120, latency=0.01) as sb:
        sb.faults.token_lifetime = 5
        sb.faults.reset()
        assert (sb.faults.token_lifetime, sb.faults.latency) == (120, 0.01)


def test_faults_are_switchable_over_http(sandbox: Sandbox) -> None:
    admin = sandbox.url + "/_sandbox/faults"
    canned = [[418, {"Content-Type": "text/plain; charset=utf-8"}, "čaj"]]

    shown = requests.post(
        admin, json={"rate_limit": 1, "api_responses": canned}, timeout=TIMEOUT
    ).json()
    first, second = get(sandbox), get(sandbox, headers=bearer(sandbox))

    assert shown["faults"]["rate_limit"] == 1
    assert (first.status_code, first.text) == (418, "čaj")
    assert second.status_code == 429
    stats = requests.get(admin, timeout=TIMEOUT).json()["stats"]
    assert stats["api_requests"] == 2
    requests.post(admin, json={"forbidden": True}, timeout=TIMEOUT)
    requests.delete(admin, timeout=TIMEOUT)
    assert sandbox.faults.forbidden is False


@pytest.mark.parametrize(
    "switches",
    [{"nope": 1}, {"rate_limit": "many"}, {"server_error_status": 418}, [1, 2]],
)
def test_bad_switches_over_http_are_400(sandbox: Sandbox, switches: Any) -> None:
    answer = requests.post(
        sandbox.url + "/_sandbox/faults", json=switches, timeout=TIMEOUT
    )
    assert answer.status_code == 400
    assert sandbox.faults.rate_limit == 0


def test_revoke_all_over_http(sandbox: Sandbox) -> None:
    headers = bearer(sandbox)
    requests.post(
        sandbox.url + "/_sandbox/faults", json={"revoke_all": True}, timeout=TIMEOUT
    )
    assert get(sandbox, headers=headers).status_code == 401


# -- routes, records, counters --------------------------------------------------


def test_custom_route_needs_a_token_unless_told(sandbox: Sandbox) -> None:
    def hello(request: flask.Request) -> tuple[int, dict[str, str], Any]:
        return 200, {"X-Seen": request.args.get("q", "")}, {"ok": True}

    sandbox.route("GET", "/zasebno", hello)
    sandbox.route("GET", "/javno", hello, auth=False)

    assert get(sandbox, "/zasebno").status_code == 401
    private = get(sandbox, "/zasebno", bearer(sandbox), q="x")
    assert (private.json(), private.headers["X-Seen"]) == ({"ok": True}, "x")
    assert get(sandbox, "/javno").json() == {"ok": True}


def test_custom_route_replaces_a_built_in_one(sandbox: Sandbox) -> None:
    sandbox.route("GET", "/parametri", lambda request: (200, {}, []), auth=False)
    assert get(sandbox).json() == []


def test_requests_are_recorded_with_kind_and_status(sandbox: Sandbox) -> None:
    headers = bearer(sandbox)
    get(sandbox, "/meritve", headers, merilno_mesto="0012", size="5")
    get(sandbox, "/openapi.json")

    token_request, api_request, spec = sandbox.requests[-3:]

    assert (token_request.kind, token_request.method) == ("token", "POST")
    assert b"grant_type=client_credentials" in token_request.body
    assert token_request.status == 200
    assert api_request.kind == "api"
    assert api_request.query == {"merilno_mesto": "0012", "size": "5"}
    assert api_request.headers["Authorization"] == headers["Authorization"]
    assert api_request.status == 200
    assert spec.kind == "other"
    assert (sandbox.stats.token_requests, sandbox.stats.api_requests) == (1, 1)


def test_stats_reset_and_request_log_clear(sandbox: Sandbox) -> None:
    get(sandbox)
    sandbox.stats.reset()
    sandbox.requests.clear()
    assert sandbox.stats.api_requests == 0
    assert len(sandbox.requests) == 0


def test_concurrent_requests_consume_a_countdown_once_each(sandbox: Sandbox) -> None:
    from concurrent.futures import ThreadPoolExecutor

    headers = bearer(sandbox)
    sandbox.faults.rate_limit = 10
    with ThreadPoolExecutor(8) as pool:
        codes = list(
            pool.map(lambda _: get(sandbox, headers=headers).status_code, range(30))
        )

    assert codes.count(429) == 10
    assert codes.count(200) == 20
    assert sandbox.stats.api_requests == 30


def test_admin_shows_stats_as_json(sandbox: Sandbox) -> None:
    token(sandbox)
    shown = requests.get(sandbox.url + "/_sandbox/faults", timeout=TIMEOUT).json()
    assert shown["stats"]["token_requests"] == 1
    assert shown["stats"]["statuses"] == {"200": 1}
    assert json.dumps(shown)
