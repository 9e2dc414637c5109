"""JSON bytes read column by column give the frames of the decoded records.

``to_frame(body)`` reads a compact array of flat records with pyarrow (the
columnar path) and everything else by decoding it first; either way the frame
and the WARNINGs must be those of ``to_frame(decode_json(body))``.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import orjson
import pandas as pd
import pytest
import test_cases_data as cases
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arso_data import frames
from arso_data.frames import decode_json, to_frame


def _columnar(body: bytes, **kwargs: Any) -> bool:
    raw = frames._columnar_raw(
        body, kwargs.get("record_path"), kwargs.get("meta"), kwargs.get("schema", {})
    )
    return raw is not None


def _same(body: bytes, caplog: pytest.LogCaptureFixture, **kwargs: Any) -> pd.DataFrame:
    """Assert equal frames (or equal errors) and WARNINGs; return the frame."""
    caplog.set_level(logging.WARNING)
    caplog.clear()
    try:
        expected: Any = to_frame(decode_json(body), **kwargs)
    except Exception as exc:  # the same error either way, whatever it is
        expected = exc
    expected_warnings = [r.getMessage() for r in caplog.records]
    caplog.clear()
    try:
        got: Any = to_frame(body, **kwargs)
    except Exception as exc:  # the same error either way, whatever it is
        got = exc
    got_warnings = [r.getMessage() for r in caplog.records]

    if isinstance(expected, Exception):
        assert type(got) is type(expected)
        assert str(got) == str(expected)
    else:
        pd.testing.assert_frame_equal(got, expected)
    assert got_warnings == expected_warnings
    frame: pd.DataFrame = got
    return frame


def test_sandbox_series_are_read_column_by_column(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from arso_data.sandbox import data

    records = []
    for point in data.POINTS.values():
        series = data.Series(point, tuple(point.parametri), 14_000, 14_400)
        records.extend(series.records(0, series.total))
    body = orjson.dumps(records)

    assert _columnar(body)
    frame = _same(body, caplog)
    assert frame["merilno_mesto"].iloc[0].startswith("00")
    assert str(frame["cas"].dtype) == "datetime64[us, Europe/Ljubljana]"
    assert frame["vrednost"].dtype == "float64"
    assert frame["veljavna"].dtype == "boolean"


@pytest.mark.parametrize("name", ["C11_BODY", "C12_BODY", "C13_BODY", "C16_BODY"])
def test_case_bodies_give_equal_frames(
    name: str, caplog: pytest.LogCaptureFixture
) -> None:
    body = getattr(cases, name)
    _same(body if isinstance(body, bytes) else body.encode(), caplog)


@pytest.mark.parametrize(
    "times",
    [
        [
            "2024-10-27 01:30",
            "2024-10-27 02:30",
            "2024-10-27 02:30",
            "2024-10-27 03:30",
        ],
        [
            "2024-10-27 03:30",
            "2024-10-27 02:30",
            "2024-10-27 02:30",
            "2024-10-27 01:30",
        ],
        ["2024-10-27 02:30", "2024-03-31 02:30", "2024-03-31 02:30"],
    ],
)
def test_local_wall_times_give_equal_frames(
    times: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    rows = [
        {"merilno_mesto": point, "cas": t, "vrednost": "1,5"}
        for point in ("0012", "0034")
        for t in times
    ]
    body = orjson.dumps(rows)

    assert _columnar(body)
    _same(body, caplog)


@pytest.mark.parametrize(
    "body",
    [
        b"[]",
        b"[{}]",
        b"{}",
        b"",
        b"null",
        b'[{"a":1}',
        b'[{"a":1},]',
        b'[{"a":1},{"a":NaN}]',
        b'[{"a":1.5},{"a":1e400}]',
        b'[{"a":"x"},{"a":"\\ud800"}]',
        b'[{"a":"x"},{"a":"\xff"}]',
        b'[{"a":"x"},{"a":"a\tb"}]',
        b'[{"a":1,"a":2}]',
        b'[{"a":1},{"a":"1"}]',
        b'[{"a":"x"},{"a":true}]',
        b'[{"a":1},{"a":2.5}]',
        b'[{"a":2.5},{"a":1}]',
        b'[{"a":"},{"},{"a":"y"}]',
        b'[{"a":"{"},{"a":"y"}]',
        b'[{"a":"}"},{"a":"y"}]',
        b'[{"a":{"b":1}},{"a":{"b":2}}]',
        b'[{"a":[1,2]},{"a":[]}]',
        b'[{"a":1},{"b":2}]',
        b'[{"a":1,"b":null},{"a":2,"b":"x"}]',
        b'[{"a":9223372036854775807}]',
        b'[{"a":9223372036854775808}]',
        b'[{"a":123456789012345678901234}]',
        b'[{"a":-0},{"a":0.5}]',
        b'[ {"a":1} , {"a":2} ]',
        b'[{"a":1}\n,{"a":2}]',
        b'\xef\xbb\xbf[{"\xef\xbb\xbfa":"1,5"}]',
        b'[{"\xef\xbb\xbfa":"1"},{"a":"2"}]',
        b'[{"a":"x"}] x',
        b'\x0c[{"a":"x"}]',
        b'[{"a":"\\u00e9\\"\\n"},{"a":"\\/"}]',
        b'[{"id":"1"},{"id":null}]',
        b'[{"id":1.5},{"id":2.5}]',
        b'[{"a":"2024-01-01"},{"a":null}]',
        b'[{"a":null},{"a":"2024-01-01T00:00:00Z"}]',
        b'[{"a":null},{"a":9223372036854775808}]',
        b"<html>oops</html>",
    ],
)
def test_odd_bodies_give_the_frame_or_the_error_of_the_decoded_path(
    body: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    _same(body, caplog)


def test_schema_and_fallbacks_give_equal_frames(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = orjson.dumps(
        [{"a": "1", "b": "0,5", "c": 1, "d": None, "e": "da"} for _ in range(5)]
    )
    schema = {"a": "int", "b": "str", "c": "json", "e": "bool", "f": "date"}

    assert _columnar(body, schema=schema)
    _same(body, caplog, schema=schema)
    _same(body, caplog, attrs={"url": "x"})
    assert to_frame(body, attrs={"url": "x"}).attrs == {"url": "x"}
    monkeypatch.setattr(frames, "_columnar_modules", lambda: None)
    assert not _columnar(body)
    _same(body, caplog, schema=schema)


def test_a_key_first_seen_after_the_sample_takes_the_decoded_path(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(frames, "COLUMNAR_SAMPLE", 2)
    body = orjson.dumps([{"a": "1"}, {"a": "2"}, {"b": "3", "a": "4"}])

    assert not _columnar(body)
    _same(body, caplog)


def test_a_big_body_takes_its_sample_from_whole_lines(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(frames, "_SAMPLE_BYTES", 50)
    body = orjson.dumps([{"a": f"{i},5", "b": None} for i in range(40)])

    assert _columnar(body)
    _same(body, caplog)


_names = st.sampled_from(
    ["id_postaje", "merilno_mesto", "cas", "datum", "vrednost", "status", "n", "x"]
)
_cells = st.one_of(
    st.none(),
    st.sampled_from(["", " ", "n/a", "0123", "12", "1.234,5", "-0,5", "},{", "{"]),
    st.from_regex(r"-?\d{1,4}(,\d{1,3})?", fullmatch=True),
    st.from_regex(r"2024-(03-31|10-27)( 0[1-3]:(00|30))?", fullmatch=True),
    st.from_regex(r"2024-10-27T0[0-3]:30:00(\+0[12]:00|Z)", fullmatch=True),
    st.text(max_size=4),
    st.integers(-(2**64), 2**64),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
)
_records = st.lists(
    st.dictionaries(_names, _cells, min_size=1), min_size=1, max_size=12
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(records=_records, ascii_only=st.booleans())
def test_flat_records_as_bytes_give_equal_frames(
    records: list[dict[str, Any]],
    ascii_only: bool,
    caplog: pytest.LogCaptureFixture,
) -> None:
    body = json.dumps(records, ensure_ascii=ascii_only, separators=(",", ":"))
    _same(body.encode(), caplog)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    records=st.lists(
        st.fixed_dictionaries(
            {
                "id_postaje": st.sampled_from(["0012", "0034"]),
                "cas": _cells,
                "vrednost": _cells,
            }
        ),
        min_size=1,
        max_size=12,
    )
)
def test_same_keys_in_every_record_are_read_column_by_column(
    records: list[dict[str, Any]], caplog: pytest.LogCaptureFixture
) -> None:
    body = json.dumps(records, separators=(",", ":")).encode()
    _same(body, caplog)


_texts = st.one_of(
    st.none(),
    st.sampled_from(["", " ", "n/a", "0123", "12", "1.234,5", "-0,5", "},{"]),
    st.from_regex(r"-?\d{1,4}(,\d{1,3})?", fullmatch=True),
    st.from_regex(r"2024-(03-31|10-27)( 0[1-3]:(00|30))?", fullmatch=True),
    st.from_regex(r"2024-10-27T0[0-3]:30:00(\+0[12]:00|Z)", fullmatch=True),
    st.text(max_size=4),
)
_typed_records = st.lists(
    st.fixed_dictionaries(
        {"merilno_mesto": st.sampled_from(["0012", "0034"]), "cas": _texts},
        optional={
            "vrednost": _texts,
            "status": _texts,
            "n": st.none() | st.integers(-(2**63), 2**63 - 1),
            "f": st.none() | st.floats(allow_nan=False, allow_infinity=False),
            "veljavna": st.none() | st.booleans(),
        },
    ),
    min_size=1,
    max_size=12,
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(records=_typed_records)
def test_columns_of_one_type_each_are_read_column_by_column(
    records: list[dict[str, Any]], caplog: pytest.LogCaptureFixture
) -> None:
    body = json.dumps(records, ensure_ascii=False, separators=(",", ":")).encode()

    braces = any("{" in str(v) or "}" in str(v) for r in records for v in r.values())
    assert _columnar(body) or braces
    _same(body, caplog)
