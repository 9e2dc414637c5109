"""The retry policy: backoff, attempts, deadline, Retry-After, logging, POST."""

from __future__ import annotations

import email.utils
import logging
import time
from collections.abc import Callable

import pytest
from urllib3.exceptions import MaxRetryError
from urllib3.response import HTTPResponse

import arso_data.retry
from arso_data import ArsoClient, RateLimitError, RetryPolicy, ServerError
from arso_data.retry import RETRY_STATUSES, CappedRetry, parse_retry_after
from arso_data.sandbox import Sandbox

MakeClient = Callable[..., ArsoClient]
JSON = {"Content-Type": "application/json"}


class FakeTime:
    """Stands in for ``time`` inside arso_data.retry: sleeping moves its clock."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.waits: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeTime:
    fake = FakeTime()
    monkeypatch.setattr(arso_data.retry, "time", fake)
    return fake


def answer(status: int, **headers: str) -> HTTPResponse:
    return HTTPResponse(body=b"", status=status, headers=headers)


def retried(policy: RetryPolicy, times: int, status: int = 503) -> CappedRetry:
    retry = policy.to_urllib3()
    for _ in range(times):
        retry = retry.increment("GET", "/x", response=answer(status))
    return retry


def test_defaults_retry_the_documented_statuses_four_times() -> None:
    policy = RetryPolicy()
    retry = policy.to_urllib3()
    assert policy.attempts == 4
    assert retry.total == 3
    assert set(RETRY_STATUSES) == {429, 500, 502, 503, 504}
    assert retry.status_forcelist == RETRY_STATUSES
    assert "POST" not in (retry.allowed_methods or ())


@pytest.mark.parametrize("seed", range(20))
def test_backoff_is_exponential_with_bounded_jitter(seed: int) -> None:
    policy = RetryPolicy(backoff=0.5, jitter=0.5, backoff_max=3.0, attempts=10)
    for tries in range(1, 7):
        wait = retried(policy, tries).get_backoff_time()
        base = 0.5 * 2 ** (tries - 1)
        assert min(base, 3.0) <= wait <= min(base + 0.5, 3.0)


def test_the_number_of_attempts_is_bounded(
    sandbox: Sandbox, make_client: MakeClient, clock: FakeTime
) -> None:
    client = make_client(retry=RetryPolicy(attempts=3))
    client.login()
    sandbox.faults.api_responses.extend([(502, JSON, b"{}")] * 10)

    with pytest.raises(ServerError, match="after 3 attempts"):
        client.get_json("parametri")

    assert sandbox.stats.api_requests == 3
    assert len(clock.waits) == 2


def test_no_retry_starts_after_the_deadline(
    sandbox: Sandbox, make_client: MakeClient, clock: FakeTime
) -> None:
    policy = RetryPolicy(attempts=10, backoff=0.6, jitter=0.0, deadline=1.0)
    client = make_client(retry=policy)
    client.login()
    sandbox.faults.api_responses.extend([(502, JSON, b"{}")] * 10)

    with pytest.raises(ServerError, match="after 3 attempts"):
        client.get_json("parametri")

    # waits 0.6 and 1.2 s; the third failure comes 1.8 s after the first
    assert clock.waits == pytest.approx([0.6, 1.2])
    assert sandbox.stats.api_requests == 3


def test_retry_after_in_seconds_is_honoured(clock: FakeTime) -> None:
    retry = RetryPolicy().to_urllib3()
    retry = retry.increment("GET", "/x", response=answer(429, **{"Retry-After": "7"}))
    retry.sleep(answer(429, **{"Retry-After": "7"}))
    assert clock.waits == [7.0]


def test_retry_after_as_an_http_date_is_honoured(clock: FakeTime) -> None:
    date = email.utils.formatdate(time.time() + 5, usegmt=True)
    retry = RetryPolicy().to_urllib3()
    retry = retry.increment("GET", "/x", response=answer(503, **{"Retry-After": date}))
    retry.sleep(answer(503, **{"Retry-After": date}))
    (wait,) = clock.waits
    assert 3.5 <= wait <= 5.0
    assert parse_retry_after(date) == pytest.approx(5, abs=1.5)


def test_a_retry_after_beyond_the_cap_is_not_waited_for(clock: FakeTime) -> None:
    retry = RetryPolicy(retry_after_cap=30).to_urllib3()
    with pytest.raises(MaxRetryError):
        retry.increment("GET", "/x", response=answer(429, **{"Retry-After": "31"}))
    # and a sleep never exceeds the cap, whatever the header says
    retry.sleep(answer(429, **{"Retry-After": "3600"}))
    assert clock.waits == [30]


def test_a_long_retry_after_reaches_the_user_as_the_wait_asked_for(
    sandbox: Sandbox, make_client: MakeClient, clock: FakeTime
) -> None:
    client = make_client(retry=RetryPolicy(retry_after_cap=10))
    client.login()
    sandbox.faults.rate_limit = 5
    sandbox.faults.retry_after = 11

    with pytest.raises(RateLimitError) as info:
        client.get_json("parametri")

    assert info.value.retry_after == 11
    assert sandbox.stats.api_requests == 1
    assert clock.waits == []


def test_each_retry_is_logged_at_info_with_reason_and_wait(
    sandbox: Sandbox,
    make_client: MakeClient,
    clock: FakeTime,
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = make_client(retry=RetryPolicy(backoff=0.25, jitter=0.0))
    client.login()
    sandbox.faults.api_responses.append((502, JSON, b"{}"))
    sandbox.faults.rate_limit = 1
    sandbox.faults.retry_after = 2

    with caplog.at_level(logging.INFO, logger="arso_data.retry"):
        client.get_json("parametri")

    lines = [
        r.getMessage()
        for r in caplog.records
        if r.name == "arso_data.retry" and r.levelno == logging.INFO
    ]
    assert lines == [
        "retrying after HTTP 502: waiting 0.2 s",
        "retrying after HTTP 429 with Retry-After: waiting 2.0 s",
    ]
    assert clock.waits == [0.25, 2.0]


def test_post_is_never_retried(
    sandbox: Sandbox, make_client: MakeClient, clock: FakeTime
) -> None:
    client = make_client()
    client.login()
    for status in (429, 500, 502, 503, 504):
        sandbox.faults.api_responses.append((status, JSON, b"{}"))
        before = sandbox.stats.api_requests
        with pytest.raises(arso_data.ApiError) as info:
            client.post_json("meritve", [])
        assert sandbox.stats.api_requests == before + 1
        if status >= 500:
            assert "after 1 attempt:" in str(info.value)
    assert clock.waits == []


def test_the_policy_is_set_on_the_client(
    sandbox: Sandbox, make_client: MakeClient, clock: FakeTime
) -> None:
    policy = RetryPolicy(attempts=2, statuses=frozenset({418}))
    client = make_client(retry=policy)
    adapter = client._http.get_adapter(sandbox.api_url)
    assert isinstance(adapter.max_retries, CappedRetry)
    assert adapter.max_retries.total == 1
    client.login()
    sandbox.faults.api_responses.extend([(418, JSON, b"{}"), (503, JSON, b"{}")])

    # 418 is retried (it is in the policy's statuses), 503 is not
    with pytest.raises(ServerError, match="HTTP 503 after 2 attempts"):
        client.get_json("parametri")

    assert sandbox.stats.api_requests == 2
