"""Bad input, fuzzed (hypothesis): a result or one of our errors, nothing else.

- arbitrary JSON values into the DataFrame conversion;
- arbitrary bytes into JSON decoding;
- arbitrary text as a ``.env`` file, and arbitrary setting values;
- a CSV report read back with its dialect gives the values written.
"""

from __future__ import annotations

import logging
import math
import string
import tempfile
import warnings
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arso_data import ArsoError, ConfigError, resolve_settings
from arso_data.export import read_csv_report, to_csv_report
from arso_data.frames import decode_json, find_records, to_frame
from arso_data.settings import Settings, read_dotenv

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# Keys as an API would send them, plus anything at all now and then.
KEYS = st.one_of(
    st.sampled_from(["id", "cas", "temp", "postaja", "datum", "vrednost", "content"]),
    st.text(max_size=8),
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(
        ["41,3", "", "n/a", "0123", "2025-01-15 13:00", "2024-10-27 02:30"]
    ),
    st.sampled_from(["2025-01-15T13:00:00+01:00", "2025-01-15", "1.234,5", "-0,4"]),
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=5), st.dictionaries(KEYS, children, max_size=5)
    ),
    max_leaves=25,
)
RECORDS = st.lists(st.dictionaries(KEYS, JSON_VALUES, max_size=5), max_size=6)


@pytest.fixture(autouse=True)
def _quiet_frames() -> None:
    # to_frame warns (logging) about unreadable values; fuzzing makes many.
    logging.getLogger("arso_data").setLevel(logging.ERROR)


@FUZZ
@given(payload=st.one_of(JSON_VALUES, RECORDS))
def test_any_json_becomes_a_frame_or_our_error(payload: Any) -> None:
    try:
        frame = to_frame(payload)
    except ArsoError:
        return
    assert isinstance(frame, pd.DataFrame)


@FUZZ
@given(payload=JSON_VALUES, path=st.one_of(st.none(), KEYS, st.lists(KEYS, max_size=3)))
def test_any_record_path_finds_records_or_raises_our_error(
    payload: Any, path: Any
) -> None:
    try:
        records = find_records(payload, path)
    except ArsoError:
        return
    assert isinstance(records, list)


@FUZZ
@given(
    payload=RECORDS,
    path=st.sampled_from(["meritve", "content", "data.items"]),
    meta=st.one_of(st.none(), st.lists(KEYS, max_size=2)),
)
def test_nested_expansion_gives_a_frame_or_our_error(
    payload: Any, path: str, meta: list[str] | None
) -> None:
    try:
        frame = to_frame(payload, record_path=path, meta=meta)
    except ArsoError:
        return
    assert isinstance(frame, pd.DataFrame)


@FUZZ
@given(
    body=st.one_of(
        st.binary(max_size=64),
        st.builds(lambda b: b"\xef\xbb\xbf" + b, st.binary(max_size=32)),
        st.text(max_size=40).map(str.encode),
    ),
    content_type=st.one_of(
        st.none(),
        st.sampled_from(
            [
                "application/json",
                "application/json; charset=utf-8",
                "text/html",
                "application/json; charset=windows-1250",
                "text/plain; charset=latin-9x",
                'application/json; charset="utf-16"',
            ]
        ),
        st.text(max_size=20),
    ),
)
def test_any_bytes_decode_or_raise_our_error(
    body: bytes, content_type: str | None
) -> None:
    try:
        decode_json(body, content_type=content_type)
    except ArsoError:
        return


ENV_TEXT = st.one_of(
    st.text(max_size=200),
    st.lists(
        st.builds(
            lambda k, v, q, e: f"{e}{k}={q}{v}{q}",
            st.sampled_from(
                ["ARSO_ENV", "ARSO_CLIENT_ID", "ARSO_AUTH_URL", "ARSO_API_URL", "X"]
            ),
            st.text(max_size=20),
            st.sampled_from(["", "'", '"']),
            st.sampled_from(["", "export "]),
        ),
        max_size=6,
    ).map("\n".join),
)


@FUZZ
@given(text=ENV_TEXT, bom=st.booleans(), crlf=st.booleans())
def test_any_env_file_gives_settings_or_a_config_error(
    text: str, bom: bool, crlf: bool
) -> None:
    data = text.replace("\n", "\r\n") if crlf else text
    raw = (b"\xef\xbb\xbf" if bom else b"") + data.encode("utf-8", "surrogatepass")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / ".env"
        path.write_bytes(raw)
        try:
            values = read_dotenv(path)
            assert all(isinstance(k, str) for k in values)
            result = resolve_settings(dotenv_path=path, environ={})
        except ConfigError:
            return
    assert isinstance(result, Settings)


URLISH = st.one_of(
    st.text(max_size=30),
    st.builds(
        lambda scheme, host, rest: f"{scheme}{host}{rest}",
        st.sampled_from(["http://", "https://", "ftp://", "", "HTTPS://", "http:/"]),
        st.sampled_from(
            ["127.0.0.1", "localhost", "[::1]", "prijava.arso.gov.si", "", "10.0.0.1"]
        ),
        st.text(alphabet=string.printable, max_size=15),
    ),
)


@FUZZ
@given(
    env=st.one_of(
        st.none(),
        st.sampled_from(["test", "PROD", "sandbox", "custom"]),
        st.text(max_size=10),
    ),
    auth_url=st.one_of(st.none(), URLISH),
    api_url=st.one_of(st.none(), URLISH),
    client_id=st.one_of(st.none(), st.text(max_size=10)),
    lang=st.one_of(st.none(), st.text(max_size=5)),
)
def test_any_setting_values_give_settings_or_a_config_error(
    env: str | None,
    auth_url: str | None,
    api_url: str | None,
    client_id: str | None,
    lang: str | None,
) -> None:
    try:
        result = resolve_settings(
            env=env,
            auth_url=auth_url,
            api_url=api_url,
            client_id=client_id,
            lang=lang,
            dotenv_path=False,
            environ={},
        )
    except ConfigError:
        return
    assert isinstance(result, Settings)
    assert result.auth_url.lower().startswith(("https://", "http://"))


# -- CSV reports: written and read back with one dialect ------------------------

CELL_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    min_size=1,
    max_size=12,
)
FINITE = st.floats(
    allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12
).map(lambda x: round(x, 6))


@FUZZ
@given(
    dialect=st.sampled_from(["sl", "plain"]),
    rows=st.lists(
        st.tuples(
            st.one_of(st.none(), CELL_TEXT),
            st.one_of(st.none(), FINITE),
            st.integers(min_value=-(2**53), max_value=2**53),
        ),
        min_size=1,
        max_size=8,
    ),
)
def test_a_csv_report_reads_back_to_the_same_values(
    dialect: str, rows: list[tuple[str | None, float | None, int]]
) -> None:
    frame = pd.DataFrame(
        {
            "postaja": pd.Series([r[0] for r in rows], dtype="object"),
            "temp": pd.Series([r[1] for r in rows], dtype="float64"),
            "stevilo": pd.Series([r[2] for r in rows], dtype="int64"),
        }
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "report.csv"
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            to_csv_report(frame, path, dialect=dialect)  # type: ignore[arg-type]
        back = read_csv_report(
            path,
            dialect=dialect,  # type: ignore[arg-type]
            schema={"postaja": "str", "temp": "float", "stevilo": "int"},
        )

    assert list(back.columns) == list(frame.columns)
    assert len(back) == len(frame)
    for written, read in zip(frame["postaja"], back["postaja"], strict=True):
        if written is None or written == "":
            assert pd.isna(read)
        else:
            assert read == written
    for written, read in zip(frame["temp"], back["temp"], strict=True):
        assert (math.isnan(written) and pd.isna(read)) or read == pytest.approx(
            written, rel=1e-12, abs=1e-9
        )
    assert back["stevilo"].tolist() == frame["stevilo"].tolist()
