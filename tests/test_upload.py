"""Sending a DataFrame in batches: each batch once, nothing lost, nothing twice."""

from __future__ import annotations

import decimal
import json
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from arso_data import ArsoClient, ServerError
from arso_data.errors import RequestTimeoutError, UploadError
from arso_data.sandbox import Sandbox
from arso_data.upload import UploadResult, batch_key, send_frame, to_records

MakeClient = Callable[..., ArsoClient]
KEY = ["merilno_mesto", "parameter", "cas"]


def measurements(rows: int) -> pd.DataFrame:
    """Half-hour NOX values at point 0012, indexed by labels that are not 0..n."""
    times = pd.date_range(
        "2025-01-15 00:00", periods=rows, freq="30min", tz="Europe/Ljubljana"
    )
    return pd.DataFrame(
        {
            "merilno_mesto": "0012",
            "parameter": "NOX",
            "cas": times,
            "vrednost": np.round(np.linspace(10.0, 60.0, rows), 3),
            "veljavna": True,
        },
        index=pd.Index([f"r{i:04d}" for i in range(rows)], name="vrstica"),
    )


def stored_keys(sb: Sandbox) -> list[tuple[str, str, pd.Timestamp]]:
    return [
        (r["merilno_mesto"], r["parameter"], pd.Timestamp(r["cas"])) for r in sb.stored
    ]


def input_keys(df: pd.DataFrame) -> list[tuple[str, str, pd.Timestamp]]:
    return list(zip(df["merilno_mesto"], df["parameter"], df["cas"], strict=True))


def posts(sb: Sandbox) -> list[list[dict[str, object]]]:
    return [r.json() for r in sb.requests if r.kind == "api" and r.method == "POST"]


def test_a_frame_is_sent_in_batches_once_each(
    sandbox: Sandbox, client: ArsoClient
) -> None:
    df = measurements(23)

    result = client.send_frame(df, "meritve", batch_size=10, key=KEY)

    assert result.complete
    assert result.batches == 3
    assert list(result.accepted) == list(df.index)
    assert result.duplicates.empty
    assert [len(batch) for batch in posts(sandbox)] == [10, 10, 3]
    assert stored_keys(sandbox) == input_keys(df)


def test_a_failure_mid_run_stops_and_the_remainder_completes_the_job(
    sandbox: Sandbox, client: ArsoClient
) -> None:
    df = measurements(50)
    client.login()
    # batches 1 and 2 go through; batch 3 stores 4 of its 10 rows, then 500
    sandbox.faults.api_responses.clear()

    calls = {"n": 0}
    real_post = client.post

    def post(path: str, payload: object, **kw: str | None) -> object:
        calls["n"] += 1
        if calls["n"] == 3:
            sandbox.faults.fail_post_after = 4
        return real_post(path, payload, **kw)

    client.post = post  # type: ignore[method-assign,assignment]
    with pytest.raises(UploadError) as info:
        client.send_frame(df, "meritve", batch_size=10, key=KEY)

    error = info.value
    result = error.result
    assert isinstance(result, UploadResult)
    assert isinstance(error.__cause__, ServerError)
    assert error.status == 500
    assert "rows 21-30 of 50" in str(error)
    assert "20 row(s) were accepted" in str(error)
    assert list(result.accepted) == list(df.index[:20])
    assert list(result.remaining.index) == list(df.index[20:])
    assert sandbox.stats.api_requests == 3  # the failed batch was not repeated
    assert len(sandbox.stored) == 24

    client.post = real_post  # type: ignore[method-assign]
    again = client.send_frame(result.remaining, "meritve", batch_size=10, key=KEY)

    assert again.complete
    assert list(again.duplicates) == list(df.index[20:24])
    assert list(again.accepted) == list(df.index[24:])
    assert stored_keys(sandbox) == input_keys(df)  # every row exactly once


def test_resending_a_confirmed_batch_is_recognised_as_a_repeat(
    sandbox: Sandbox, client: ArsoClient
) -> None:
    df = measurements(5)
    first = send_frame(client, df, "meritve", key=KEY)
    second = send_frame(client, df, "meritve", key=KEY)

    keys = [r.headers["Idempotency-Key"] for r in sandbox.requests if r.kind == "api"]
    assert keys[0] == keys[1] == batch_key("meritve", to_records(df))
    replayed = [r for r in sandbox.requests if r.kind == "api"][1]
    assert replayed.status == 201
    assert list(first.accepted) == list(df.index)
    assert second.complete
    # The API replayed its first answer: the rows were there already.
    assert list(second.accepted) == []
    assert list(second.duplicates) == list(df.index)
    assert stored_keys(sandbox) == input_keys(df)


def test_resending_without_a_key_counts_a_replay_as_duplicates(
    sandbox: Sandbox, client: ArsoClient
) -> None:
    df = measurements(5)
    send_frame(client, df, "meritve")
    second = send_frame(client, df, "meritve")
    assert list(second.duplicates) == list(df.index)


def test_a_timeout_leaves_the_batch_remaining(
    sandbox: Sandbox, make_client: MakeClient
) -> None:
    client = make_client(timeout=(2.0, 0.3))
    client.login()
    df = measurements(12)
    sandbox.faults.latency = 0.6  # the answer comes too late: stored or not?

    with pytest.raises(UploadError) as info:
        client.send_frame(df, "meritve", batch_size=6, key=KEY)
    sandbox.faults.latency = 0.0

    assert isinstance(info.value.__cause__, RequestTimeoutError)
    assert info.value.result.batches == 0
    assert len(info.value.result.remaining) == 12
    again = client.send_frame(info.value.result.remaining, "meritve", batch_size=6)
    assert again.complete
    assert stored_keys(sandbox) == input_keys(df)


def test_values_are_sent_as_json_the_api_reads() -> None:
    df = pd.DataFrame(
        {
            "cas": pd.to_datetime(["2025-01-15 13:00", None]).tz_localize(
                "Europe/Ljubljana"
            ),
            "datum": pd.to_datetime(["2025-01-15", None]),
            "vrednost": [41.3, np.nan],
            "stevilo": pd.array([3, None], dtype="Int64"),
            "veljavna": pd.array([True, None], dtype="boolean"),
            "opomba": ["Črnomelj", None],
            "tocno": [decimal.Decimal("12.50"), decimal.Decimal("NaN")],
        }
    )

    records = to_records(df)

    assert records == [
        {
            "cas": "2025-01-15T13:00:00+01:00",
            "datum": "2025-01-15",
            "vrednost": 41.3,
            "stevilo": 3,
            "veljavna": True,
            "opomba": "Črnomelj",
            "tocno": "12.50",
        },
        dict.fromkeys(df.columns),
    ]
    json.dumps(records, allow_nan=False)


@pytest.mark.parametrize(
    ("frame", "words"),
    [
        (pd.DataFrame({"a": [1, 2]}, index=[0, 0]), "repeated labels"),
        (pd.DataFrame({"cas": pd.to_datetime(["2025-01-15 13:00"])}), "offset"),
        (pd.DataFrame({"v": [float("inf")]}), "infinite"),
    ],
)
def test_frames_that_cannot_be_sent_are_refused_before_sending(
    sandbox: Sandbox, client: ArsoClient, frame: pd.DataFrame, words: str
) -> None:
    with pytest.raises(ValueError, match=words):
        client.send_frame(frame, "meritve")
    assert sandbox.stats.api_requests == 0


def test_an_empty_frame_sends_nothing(sandbox: Sandbox, client: ArsoClient) -> None:
    result = client.send_frame(measurements(0), "meritve")
    assert result.complete
    assert result.batches == 0
    assert sandbox.stats.api_requests == 0
    assert repr(result) == (
        "UploadResult(accepted=0, duplicates=0, remaining=0, batches=0)"
    )
